"""Site-wide error views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

MSG_CSRF = (
    "Your session changed in another tab or window (for example you logged out and in "
    "again), so this click was not saved. Reload the page to carry on."
)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page in the site's design, or for htmx a message in the
    question page's status area (the `HX-Retarget` header), never Django's raw page."""
    if request.headers.get("HX-Request") == "true":
        html = render_to_string("_csrf_message.html", {"message": MSG_CSRF}, request=request)
        response = HttpResponse(html, status=403)
        response["HX-Retarget"] = "#save-status"
        response["HX-Reswap"] = "innerHTML"
        return response
    html = render_to_string("403_csrf.html", {"message": MSG_CSRF}, request=request)
    return HttpResponse(html, status=403)
