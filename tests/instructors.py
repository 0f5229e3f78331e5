"""The cast and the history the instructor-page tests share.

carol runs the group alice and bob are in; dave runs another group (erin is in it);
root is an operator (superuser) who sees everyone; instructors are staff (as
make_instructor makes them) and still see only their groups."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth.models import Group

from accounts.models import GroupMembership, StudyGroup
from accounts.permissions import INSTRUCTORS_GROUP
from exams import services
from exams.models import Attempt
from questions.models import Choice
from tests.factories import UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_instructor(username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
    return user


def make_group(name: str, *, exam, instructor, members=(), code: str | None = None):
    group = StudyGroup.objects.create(name=name, exam=exam, join_code=code or name.upper())
    group.instructors.add(instructor)
    for member in members:
        GroupMembership.objects.create(group=group, user=member)
    return group


def key_of(item) -> list[int]:
    return list(
        Choice.objects.filter(version=item.version, is_correct=True).values_list("id", flat=True)
    )


def wrong_of(item) -> list[int]:
    return [next(c for c in item.choice_order if c not in key_of(item))]


def full_mock_done(user, exam, *, right: int, at: datetime) -> Attempt:
    """A submitted full mock with the first `right` questions answered correctly and the
    rest answered wrong."""
    attempt = services.attempt_start_full_mock(
        user=user, exam=exam, now=at, rng=random.Random(at.minute)
    )
    for it in attempt.items.select_related("attempt", "version").order_by("position"):
        choice = key_of(it) if it.position <= right else wrong_of(it)
        services.attempt_answer(item=it, revision=it.revision, choice_ids=choice, now=at)
    return services.attempt_submit(attempt=attempt, now=at + timedelta(minutes=30))


def drill_done(user, exam, *, at: datetime, count: int = 5) -> Attempt:
    """A submitted drill on domain 1, every question answered wrong (first choice not in
    the key)."""
    attempt = services.attempt_start_drill(
        user=user,
        exam=exam,
        domain_numbers=[1],
        count=count,
        timed=False,
        feedback=Attempt.Feedback.AT_END,
        now=at,
        rng=random.Random(1),
    ).attempt
    for it in attempt.items.select_related("attempt", "version"):
        services.attempt_answer(item=it, revision=it.revision, choice_ids=wrong_of(it), now=at)
    return services.attempt_submit(attempt=attempt, now=at + timedelta(minutes=5))
