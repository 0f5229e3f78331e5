"""Who may use the instructor pages: staff, and members of the Instructors group."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.models import Group, Permission
from django.http import Http404, HttpRequest, HttpResponse

from accounts.decorators import login_required_page

INSTRUCTORS_GROUP = "Instructors"
# What the Instructors group may do in the admin (as accounts/migrations/0001 grants it):
# manage the question bank, look at the blueprint.
BANK_MODELS = ("question", "choice", "tag")
BLUEPRINT_MODELS = ("exam", "domain", "taskstatement")
INSTRUCTOR_CODENAMES = [
    f"{action}_{model}" for model in BANK_MODELS for action in ("add", "change", "delete", "view")
] + [f"view_{model}" for model in BLUEPRINT_MODELS]


def instructors_group() -> Group:
    """The Instructors group, made with its admin permissions if it is missing (a database
    flushed since its migration ran, e.g. by a test server)."""
    group, created = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    if created:
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="questions", codename__in=INSTRUCTOR_CODENAMES
            )
        )
    return group


def is_instructor(user) -> bool:
    """True for an active staff user or a member of the Instructors group."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name=INSTRUCTORS_GROUP).exists()


def sees_every_candidate(user) -> bool:
    """True for the site's operators (superusers), who see every candidate's results.
    Instructors are staff (for the admin's question bank) but see only the candidates of
    the groups they run: being staff grants no view of anyone's attempts."""
    return user.is_active and user.is_superuser


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
