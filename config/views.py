"""Site-wide views: errors, health, the icon, the benchmark's floor."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, resolve_url
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from accounts.decorators import MSG_SIGNED_OUT

MSG_CSRF = (
    "Your session changed in another tab or window (for example you logged out and in "
    "again), so this click was not saved. Reload the page to carry on."
)


def _current_page(request: HttpRequest) -> str:
    """The page the candidate was on (htmx says it in HX-Current-URL), if it is ours."""
    current = request.headers.get("HX-Current-URL", "")
    if current and url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW, never Django's raw page. Signed out: like a log-in check, to the
    log-in form and back to the page. Signed in (the token changed with a log-in
    elsewhere): a page in the site's design, or for htmx a message in the question page's
    status area (the `HX-Retarget` header)."""
    htmx = request.headers.get("HX-Request") == "true"
    if not request.user.is_authenticated:
        messages.warning(request, MSG_SIGNED_OUT)
        url = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': _current_page(request)})}"
        if htmx:
            response = HttpResponse(MSG_SIGNED_OUT, status=401)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    if htmx:
        html = render_to_string("_csrf_message.html", {"message": MSG_CSRF}, request=request)
        response = HttpResponse(html, status=403)
        response["HX-Retarget"] = "#save-status"
        response["HX-Reswap"] = "innerHTML"
        return response
    html = render_to_string("403_csrf.html", {"message": MSG_CSRF}, request=request)
    return HttpResponse(html, status=403)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: django-ratelimit's refusal, as a page of the site (HTTP 429)."""
    from accounts.views import MSG_RESET_RATE, MSG_SIGNUP_RATE

    message = MSG_SIGNUP_RATE if "signup" in request.path else MSG_RESET_RATE
    html = render_to_string("429.html", {"message": message}, request=request)
    return HttpResponse(html, status=429)


def healthz(request: HttpRequest) -> HttpResponse:
    """For the proxy and operators: 200 "ok" when this node can query its database, 503
    otherwise. Reveals nothing else."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def benchmark_floor(request: HttpRequest) -> HttpResponse:
    """The benchmark's floor (scripts/benchmark.py --floor): the least an authenticated
    request of this stack can do, one indexed SELECT (the user's latest attempt, by the
    attempt_user_started_idx index) and one UPDATE (that user's row, unchanged), with a
    tiny page. Routed only when settings.BENCHMARK_FLOOR is on; 404 otherwise."""
    from django.contrib.auth import get_user_model
    from django.db.models import F
    from django.http import Http404

    from exams.models import Attempt

    if not settings.BENCHMARK_FLOOR:
        raise Http404
    if not request.user.is_authenticated:
        return redirect(f"{resolve_url(settings.LOGIN_URL)}?next={request.path}")
    latest = (
        Attempt.objects.filter(user=request.user)
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first()
    )
    get_user_model().objects.filter(pk=request.user.pk).update(last_login=F("last_login"))
    return HttpResponse(f"<!doctype html><title>floor</title><p>{latest or '-'}</p>")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the site's icon
    (a static SVG, its hashed URL looked up when asked, not at import)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
