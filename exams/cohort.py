"""Reads for the instructors' pages: who an instructor may see, the cohort table of an
exam, and the problem-report queue. Each is a fixed number of queries, however many
candidates and attempts there are: aggregation happens in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from accounts.models import GroupMembership, StudyGroup
from accounts.permissions import sees_every_candidate
from exams import scoring
from exams.models import Attempt, AttemptItem, ProblemReport
from exams.selectors import READINESS_ATTEMPTS
from questions.models import Domain, Exam

User = get_user_model()


def groups_run_by(user) -> QuerySet[StudyGroup]:
    """The groups whose pages `user` may see: every group for operators (superusers), else
    the groups they run (StudyGroup.instructors)."""
    groups = StudyGroup.objects.select_related("exam")
    return groups if sees_every_candidate(user) else groups.filter(instructors=user)


def visible_candidates(viewer, *, exam: Exam | None, group: StudyGroup | None = None) -> QuerySet:
    """The users `viewer` may see on `exam`'s pages, as a queryset of users (not run).

    With a group (which the caller has checked `viewer` may see): its members. Without:
    operators (superusers) see everyone who has an attempt on the exam or is in one of its
    groups; an instructor sees only the members of the groups they run for this exam (for any
    exam when `exam` is None)."""
    if group is not None:
        members = GroupMembership.objects.filter(group=group).values("user_id")
        return User.objects.filter(pk__in=members)
    if sees_every_candidate(viewer):
        return User.objects.filter(
            Q(pk__in=Attempt.objects.filter(exam=exam).values("user_id"))
            | Q(pk__in=GroupMembership.objects.filter(group__exam=exam).values("user_id"))
        )
    runs = GroupMembership.objects.filter(group__instructors=viewer)
    if exam is not None:
        runs = runs.filter(group__exam=exam)
    return User.objects.filter(pk__in=runs.values("user_id"))


def may_see_candidate(viewer, candidate_id: int) -> bool:
    """True when `viewer` (an instructor) may see this candidate: operators (superusers)
    see everyone, an instructor only the members of a group they run. One query."""
    if sees_every_candidate(viewer):
        return User.objects.filter(pk=candidate_id).exists()
    return GroupMembership.objects.filter(user_id=candidate_id, group__instructors=viewer).exists()


@dataclass
class CohortRow:
    """One candidate's line of the cohort table. Scores in percent; readiness as
    scoring.Readiness (per domain number and overall, Wilson intervals)."""

    user_id: int
    username: str
    attempts: int
    full_mocks: int
    last_full: float | None
    best_full: float | None
    last_activity: datetime | None
    readiness: scoring.Readiness
    domains: list[float | None] = field(default_factory=list)  # percent, in domain order


def readiness_counts_for(users: QuerySet, *, exam: Exam) -> dict[int, dict[int, tuple[int, int]]]:
    """selectors.readiness_counts for many users at once: user id → domain number →
    (correct, total) over each user's latest READINESS_ATTEMPTS submitted full mocks and
    drills. One query: a ROW_NUMBER() window per user picks the latest attempts, and the
    items are counted per user and domain in the database."""
    latest = (
        Attempt.objects.filter(
            user__in=users,
            exam=exam,
            status=Attempt.Status.SUBMITTED,
            mode__in=[Attempt.Mode.FULL, Attempt.Mode.DRILL],
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=F("user_id"), order_by=F("submitted_at").desc())
        )
        .filter(rank__lte=READINESS_ATTEMPTS)
        .values("pk")
    )
    rows = (
        AttemptItem.objects.filter(attempt_id__in=latest)
        .values("attempt__user_id", "question__task__domain__number")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
    )
    counts: dict[int, dict[int, tuple[int, int]]] = {}
    for r in rows:
        counts.setdefault(r["attempt__user_id"], {})[r["question__task__domain__number"]] = (
            r["correct"],
            r["total"],
        )
    return counts


def cohort_rows(users: QuerySet, *, exam: Exam, domains: list[Domain]) -> list[CohortRow]:
    """The cohort table of `exam` for `users`, ordered by username: two queries (one for
    the per-candidate aggregates, one for readiness), whatever the number of attempts."""
    on_exam = Q(attempts__exam=exam)
    full_done = on_exam & Q(
        attempts__mode=Attempt.Mode.FULL, attempts__status=Attempt.Status.SUBMITTED
    )
    last_full = (
        Attempt.objects.filter(
            user=OuterRef("pk"),
            exam=exam,
            mode=Attempt.Mode.FULL,
            status=Attempt.Status.SUBMITTED,
        )
        .order_by("-submitted_at")
        .values("score_percent")[:1]
    )
    aggregated = (
        users.annotate(
            n_attempts=Count("attempts", filter=on_exam),
            n_full=Count("attempts", filter=full_done),
            best_full=Max("attempts__score_percent", filter=full_done),
            last_started=Max("attempts__started_at", filter=on_exam),
            last_submitted=Max("attempts__submitted_at", filter=on_exam),
            last_full=Subquery(last_full),
        )
        .order_by("username")
        .values(
            "pk",
            "username",
            "n_attempts",
            "n_full",
            "best_full",
            "last_started",
            "last_submitted",
            "last_full",
        )
    )
    counts = readiness_counts_for(users, exam=exam)
    weights = {d.number: d.weight_percent for d in domains}
    intervals = scoring.wilson_intervals(
        [(0, 0), *(pair for per_user in counts.values() for pair in per_user.values())]
    )
    rows = []
    for r in aggregated:
        estimate = candidate_readiness(
            counts.get(r["pk"], {}),
            weights,
            pass_mark=exam.pass_mark_percent,
            interval=lambda c, t: intervals[(c, t)],
        )
        times = [t for t in (r["last_started"], r["last_submitted"]) if t is not None]
        rows.append(
            CohortRow(
                user_id=r["pk"],
                username=r["username"],
                attempts=r["n_attempts"],
                full_mocks=r["n_full"],
                last_full=_float(r["last_full"]),
                best_full=_float(r["best_full"]),
                last_activity=max(times) if times else None,
                readiness=estimate,
                domains=[
                    e.percent if (e := estimate.domains.get(d.number)) else None for d in domains
                ],
            )
        )
    return rows


def candidate_readiness(
    counts: dict[int, tuple[int, int]], weights: dict[int, int], **kwargs
) -> scoring.Readiness:
    """scoring.readiness, or "not enough data" for an exam whose blueprint has no domains
    yet (nothing to weight by)."""
    if not weights or not sum(weights.values()):
        return scoring.Readiness({}, None, "not enough data")
    return scoring.readiness(counts, weights, **kwargs)


def _float(value) -> float | None:
    return None if value is None else float(value)


def report_queue(
    *,
    status: str | None = None,
    exam: Exam | None = None,
    domain: int | None = None,
    kind: str | None = None,
    reporters: QuerySet | None = None,
) -> QuerySet[ProblemReport]:
    """Problem reports, newest first, with everything the queue shows joined in (reporter,
    question, version, task, domain, the item) and the version's choices prefetched: two
    queries per page of the result. `reporters` narrows to those users (a group)."""
    qs = ProblemReport.objects.select_related(
        "user", "question__task__domain__exam", "version", "item", "resolved_by"
    ).prefetch_related("version__choices")
    if status:
        qs = qs.filter(status=status)
    if exam is not None:
        qs = qs.filter(question__task__domain__exam=exam)
    if domain is not None:
        qs = qs.filter(question__task__domain__number=domain)
    if kind:
        qs = qs.filter(kind=kind)
    if reporters is not None:
        qs = qs.filter(user__in=reporters)
    return qs.order_by("-created_at", "-pk")
