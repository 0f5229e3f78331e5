"""Reads of attempts that need care (query counts, integrity)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)

from accounts.models import Profile, StudyGroup
from exams.models import Attempt, AttemptItem, ProblemReport
from questions.models import BankUpload, Choice, Domain, Exam, Question

MISSED_CORRECT_IN_A_ROW = 2  # correct answers in a row that take a question out of the pool


def navigator(attempt: Attempt) -> list[dict]:
    """Every question's number, answered and flagged state, in one query."""
    return [
        {"position": p, "answered": bool(selected), "flagged": flagged}
        for p, selected, flagged in attempt.items.order_by("position").values_list(
            "position", "selected", "flagged"
        )
    ]


def ordered_choices(item: AttemptItem, choices: list[Choice]) -> list[Choice]:
    by_id = {c.id: c for c in choices}
    return [by_id[cid] for cid in item.choice_order if cid in by_id]


def item_choices(item: AttemptItem) -> list[Choice]:
    """The choices of the item's pinned version in this attempt's order (one query)."""
    return ordered_choices(item, list(Choice.objects.filter(version_id=item.version_id)))


def report_items(attempt: Attempt) -> list[AttemptItem]:
    """Every item with its pinned version, task, domain and choices: two queries in all."""
    return list(
        attempt.items.select_related("version", "question__task__domain").prefetch_related(
            Prefetch("version__choices", queryset=Choice.objects.order_by("position"))
        )
    )


def bank_size_by_domain(exam: Exam) -> list[Domain]:
    return list(
        exam.domains.order_by("number").annotate(
            active_questions=Count(
                "tasks__questions", filter=Q(tasks__questions__status=Question.Status.ACTIVE)
            )
        )
    )


def default_exam() -> Exam | None:
    """The site's default exam: settings.DEFAULT_EXAM_CODE, else the first exam by code
    (None when no blueprint is loaded). One query."""
    return exam_choices(None)[0]


def exam_choices(user) -> tuple[Exam | None, list[Exam]]:
    """(the exam `user`'s candidate pages are about, every exam by code), in one query.

    The chosen exam is the one in the user's Profile, else the exam whose code is
    settings.DEFAULT_EXAM_CODE, else the first exam by code; None when no exam is loaded.
    `user` may be None or anonymous (then the site default)."""
    ranks = [When(code=settings.DEFAULT_EXAM_CODE, then=Value(1))]
    if user is not None and user.is_authenticated:
        chose = Profile.objects.filter(user_id=user.pk, exam_id=OuterRef("pk"))
        ranks.insert(0, When(Exists(chose), then=Value(0)))
    exams = list(
        Exam.objects.annotate(
            choice_rank=Case(*ranks, default=Value(2), output_field=IntegerField())
        ).order_by("code")
    )
    chosen = min(exams, key=lambda e: e.choice_rank, default=None)  # first by code among equals
    return chosen, exams


def chosen_exam(user) -> Exam | None:
    """The exam every candidate page is about for `user` (see exam_choices): one query."""
    return exam_choices(user)[0]


def in_progress_attempts(user) -> list[Attempt]:
    return list(
        Attempt.objects.filter(user=user, status=Attempt.Status.IN_PROGRESS).select_related("exam")
    )


def missed_pool(*, user_id: int, exam_id: int) -> dict[int, int]:
    """The questions to practise: answered wrong or flagged in a submitted attempt, until
    answered correctly twice in a row afterwards. Returns question id → domain number.

    One query over the user's submitted answers, replayed in order. An unanswered,
    unflagged question is neither a miss nor a success.
    """
    rows = (
        AttemptItem.objects.filter(
            attempt__user_id=user_id,
            attempt__exam_id=exam_id,
            attempt__status=Attempt.Status.SUBMITTED,
            question__status=Question.Status.ACTIVE,
        )
        .order_by("attempt__submitted_at", "attempt_id")
        .values_list(
            "question_id", "question__task__domain__number", "selected", "is_correct", "flagged"
        )
    )
    streak: dict[int, int] = {}  # question id → correct answers since its last miss
    domains: dict[int, int] = {}
    for question_id, domain, selected, is_correct, flagged in rows:
        if flagged or (selected and not is_correct):
            streak[question_id] = 0
            domains[question_id] = domain
        elif is_correct and question_id in streak:
            streak[question_id] += 1
    return {q: domains[q] for q, n in streak.items() if n < MISSED_CORRECT_IN_A_ROW}


def full_mock_history(*, user, exam: Exam, limit: int | None = None) -> list[Attempt]:
    """The user's submitted full mocks, oldest first (the newest `limit` if given)."""
    qs = Attempt.objects.filter(
        user=user, exam=exam, mode=Attempt.Mode.FULL, status=Attempt.Status.SUBMITTED
    ).order_by("-submitted_at")
    if limit:
        qs = qs[:limit]
    return list(reversed(qs))


def domain_readiness(mocks: list[Attempt]) -> dict[int, float]:
    """Mean domain percent over the given full mocks (the dashboard passes the last three)."""
    sums: dict[int, list[float]] = {}
    for attempt in mocks:
        for d in attempt.result.get("domains", []):
            sums.setdefault(d["number"], []).append(d["percent"])
    return {n: round(sum(v) / len(v), 1) for n, v in sums.items()}


def running_full_mock(user) -> Attempt | None:
    return Attempt.objects.filter(
        user=user, mode=Attempt.Mode.FULL, status=Attempt.Status.IN_PROGRESS
    ).first()


def running_mock_question_ids(user_id: int) -> set[int]:
    """Question ids of the user's full mock in progress (empty when none), one query."""
    return set(
        AttemptItem.objects.filter(
            attempt__user_id=user_id,
            attempt__mode=Attempt.Mode.FULL,
            attempt__status=Attempt.Status.IN_PROGRESS,
        ).values_list("question_id", flat=True)
    )


def running_practice(user) -> Attempt | None:
    return Attempt.objects.filter(
        user=user,
        mode__in=[Attempt.Mode.DRILL, Attempt.Mode.MISSED],
        status=Attempt.Status.IN_PROGRESS,
    ).first()


READINESS_ATTEMPTS = 10  # the latest submitted full mocks and drills that readiness rests on


def readiness_counts(*, user, exam: Exam) -> dict[int, tuple[int, int]]:
    """(correct, total) per domain number over the questions of the user's latest
    READINESS_ATTEMPTS submitted full mocks and drills (missed-question practice is left
    out: it is drawn from weak questions on purpose). One query (the latest attempts are a
    LIMIT subquery), bounded by the cap."""
    recent = (
        Attempt.objects.filter(
            user=user,
            exam=exam,
            status=Attempt.Status.SUBMITTED,
            mode__in=[Attempt.Mode.FULL, Attempt.Mode.DRILL],
        )
        .order_by("-submitted_at")
        .values_list("pk", flat=True)[:READINESS_ATTEMPTS]
    )
    rows = (
        AttemptItem.objects.filter(attempt_id__in=recent)
        .values("question__task__domain__number")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
    )
    return {r["question__task__domain__number"]: (r["correct"], r["total"]) for r in rows}


def instructor_waiting(user) -> dict[str, int]:
    """What waits for instructors, for their overview page: open problem reports, this
    instructor's uploads previewed but neither applied nor discarded, draft questions, and
    the study groups this instructor runs. Four COUNT queries on indexed columns."""
    return {
        "open_reports": ProblemReport.objects.filter(status=ProblemReport.Status.OPEN).count(),
        "pending_uploads": BankUpload.objects.filter(
            status=BankUpload.Status.PREVIEWED, uploaded_by=user
        ).count(),
        "drafts": Question.objects.filter(status=Question.Status.DRAFT).count(),
        "groups": StudyGroup.objects.filter(instructors=user).count(),
    }
