from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts import services
from accounts.decorators import login_required_page
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


MSG_JOIN_RATE = (
    "Too many join codes were tried from your account in a short time, so this one was not checked."
)


@login_required_page()
@ratelimit(
    key="user", rate=lambda group, request: settings.GROUP_JOIN_RATE, method="POST", block=False
)
@require_POST
def join_group(request: HttpRequest) -> HttpResponse:
    """A candidate joins a study group with the code an instructor handed out. Tries are
    rate-limited per user (django-ratelimit), so codes cannot be guessed; a wrong code
    says so and changes nothing. Returns to the dashboard with a message."""
    if getattr(request, "limited", False):
        return render(request, "429.html", {"message": MSG_JOIN_RATE}, status=429)
    try:
        group, joined = services.study_group_join(
            user=request.user, code=request.POST.get("code", "")
        )
    except services.GroupError as exc:
        messages.error(request, exc.message)
    else:
        template = services.MSG_JOINED if joined else services.MSG_ALREADY_MEMBER
        messages.success(request, template.format(name=group.name))
    return redirect("exams:dashboard")
