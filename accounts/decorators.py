"""Log-in checks that suit an exam page's background requests."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url

MSG_SIGNED_OUT = (
    "You were signed out (your session ended or you logged out elsewhere), so your last "
    "click was not saved. Log in to carry on where you were."
)
MSG_LOG_IN = "Log in to continue."


def login_required_page(return_to=None):
    """Like Django's login_required, but: an htmx request gets 401 with HX-Redirect, so the
    whole page goes to the log-in form instead of drawing it inside a fragment; the
    candidate is told the click was not saved; and after logging in they return to a page
    (`return_to(request, **view_kwargs)` gives its URL; by default the requested URL for a
    GET, the dashboard for a POST), never to a POST-only URL."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.user.is_authenticated:
                return view(request, *args, **kwargs)
            if request.method == "GET":
                back = request.get_full_path()
            elif return_to is not None:
                back = return_to(request, **kwargs)
            else:
                back = resolve_url(settings.LOGIN_REDIRECT_URL)
            if request.method != "GET" or request.htmx:
                messages.warning(request, MSG_SIGNED_OUT)
            url = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}"
            if request.htmx:
                response = HttpResponse(MSG_SIGNED_OUT, status=401)
                response["HX-Redirect"] = url
                return response
            return redirect(url)

        return wrapped

    return decorator
