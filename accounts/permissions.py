"""Who may use the instructor pages: staff, and members of the Instructors group."""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse

from accounts.decorators import login_required_page

INSTRUCTORS_GROUP = "Instructors"


def is_instructor(user) -> bool:
    """True for an active staff user or a member of the Instructors group."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name=INSTRUCTORS_GROUP).exists()


def instructor_required(view):
    """Signed-out users go to log-in; signed-in users who are not instructors get 404, so
    the instructor pages do not even show that they exist."""

    @login_required_page()
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_instructor(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
