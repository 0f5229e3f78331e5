from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.forms import SignUpForm

MSG_SIGNUP_RATE = "Too many accounts were created from your address in a short time."
MSG_RESET_RATE = "Too many password resets were asked for from your address in a short time."


@ratelimit(key="ip", rate=lambda group, request: settings.SIGNUP_RATE, method="POST")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Sign-up. Django's form says when a username is taken (a username must be unique and
    the candidate must be able to pick another); the per-address rate limit keeps that
    from being used to list accounts in bulk."""
    if request.user.is_authenticated:
        return redirect("exams:dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("exams:dashboard")
    return render(request, "accounts/signup.html", {"form": form})


@method_decorator(
    ratelimit(key="ip", rate=lambda group, request: settings.PASSWORD_RESET_RATE, method="POST"),
    name="post",
)
class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset by e-mail, rate-limited per address. It answers the same
    whether or not the address belongs to an account."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout response: a page that says how long to wait (HTTP 429)."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "wait_minutes": minutes}
    return render(request, "accounts/locked_out.html", context, status=429)
