"""Reads of attempts that need care (query counts, integrity)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    Max,
    Prefetch,
    Q,
    Value,
    When,
    Window,
)

from accounts.models import Profile, StudyGroup
from exams import scoring
from exams.models import Attempt, AttemptItem, ProblemReport
from questions.models import BankUpload, Choice, Domain, Exam, Question

MISSED_CORRECT_IN_A_ROW = 2  # correct answers in a row that take a question out of the pool
# The missed pool reads this many of the candidate's latest submitted attempts (over a
# hundred mocks and drills: every miss a candidate can still be practising).
MISSED_LOOKBACK_ATTEMPTS = 100


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


def reports_sent(*, user, attempt: Attempt) -> dict[int, ProblemReport]:
    """The problem reports `user` sent on `attempt`'s items, by item id (one query): the
    report pages show each one's state (and an instructor's resolution) instead of the
    form again."""
    return {r.item_id: r for r in ProblemReport.objects.filter(user=user, item__attempt=attempt)}


SLOWEST_SHOWN = 5  # the report lists the candidate's slowest questions, this many


def slowest_items(attempt: Attempt) -> list[dict]:
    """The attempt's SLOWEST_SHOWN items with the most time on them (time > 0), slowest
    first: [{"position", "seconds"}]. One query, bounded by the LIMIT."""
    rows = (
        attempt.items.filter(time_spent_seconds__gt=0)
        .order_by("-time_spent_seconds", "position")
        .values_list("position", "time_spent_seconds")[:SLOWEST_SHOWN]
    )
    return [{"position": p, "seconds": t} for p, t in rows]


def slowest_of(items: list[AttemptItem]) -> list[dict]:
    """slowest_items() from items already loaded (no query)."""
    timed = sorted(
        (i for i in items if i.time_spent_seconds > 0),
        key=lambda i: (-i.time_spent_seconds, i.position),
    )
    return [{"position": i.position, "seconds": i.time_spent_seconds} for i in timed][
        :SLOWEST_SHOWN
    ]


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
    `user` may be None or anonymous (then the site default). Each exam carries
    `submitted_attempts`: how many submitted attempts the user has on it (0 without a
    user), the history stamp of candidate_standing, counted from the
    attempt_user_exam_status_idx index.

    Written in SQL rather than built with the ORM: every candidate page runs it, and
    compiling the equivalent queryset (a CASE over an EXISTS and a COUNT subquery) took
    longer than the dashboard's whole memoised standing."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    q = connection.ops.quote_name
    exam, profile, attempt = (m._meta.db_table for m in (Exam, Profile, Attempt))
    columns = ", ".join(f"e.{q(f.column)}" for f in Exam._meta.concrete_fields)
    sql = (
        f"SELECT {columns}, "
        f"CASE WHEN EXISTS (SELECT 1 FROM {q(profile)} p "
        f"WHERE p.{q('user_id')} = %s AND p.{q('exam_id')} = e.{q('id')}) THEN 0 "
        f"WHEN e.{q('code')} = %s THEN 1 ELSE 2 END AS choice_rank, "
        f"(SELECT COUNT(*) FROM {q(attempt)} a WHERE a.{q('user_id')} = %s "
        f"AND a.{q('exam_id')} = e.{q('id')} AND a.{q('status')} = %s) AS submitted_attempts "
        f"FROM {q(exam)} e ORDER BY e.{q('code')}"
    )
    params = [user_id, settings.DEFAULT_EXAM_CODE, user_id, Attempt.Status.SUBMITTED.value]
    exams = list(Exam.objects.raw(sql, params))
    chosen = min(exams, key=lambda e: e.choice_rank, default=None)  # first by code among equals
    return chosen, exams


def chosen_exam(user) -> Exam | None:
    """The exam every candidate page is about for `user` (see exam_choices): one query."""
    return exam_choices(user)[0]


def in_progress_attempts(user) -> list[Attempt]:
    """The user's attempts in progress (at most a full mock and a practice), oldest first;
    without their exams, which the dashboard has already read (exam_choices). Sorted here,
    not by the model's default order, for the reason given in _open_one."""
    return sorted(
        Attempt.objects.filter(user=user, status=Attempt.Status.IN_PROGRESS).order_by(),
        key=lambda a: a.started_at,
    )


def missed_pool(*, user_id: int, exam_id: int) -> dict[int, int]:
    """The questions to practise: answered wrong or flagged in a submitted attempt, until
    answered correctly (and not flagged) twice in a row afterwards. Returns question id →
    domain number. An unanswered, unflagged question is neither a miss nor a success.

    The history read is the user's latest MISSED_LOOKBACK_ATTEMPTS submitted attempts of
    the exam (a miss older than that has had its chance), so the cost is bounded whatever
    the length of the history. One query, computed in the database: each item carries its
    question's latest miss (a window over the question's items), and a question stays in
    the pool while fewer than MISSED_CORRECT_IN_A_ROW correct answers came after that miss.
    """
    missed = Q(flagged=True) | (~Q(selected=[]) & Q(is_correct=False))
    latest = (
        Attempt.objects.filter(user_id=user_id, exam_id=exam_id, status=Attempt.Status.SUBMITTED)
        .order_by("-submitted_at")
        .values("pk")[:MISSED_LOOKBACK_ATTEMPTS]
    )
    history = (
        AttemptItem.objects.filter(
            attempt_id__in=latest,
            attempt__status=Attempt.Status.SUBMITTED,
            question__status=Question.Status.ACTIVE,
        )
        .annotate(
            domain_number=F("question__task__domain__number"),
            won=Case(When(flagged=False, is_correct=True, then=Value(1)), default=Value(0)),
            ended=F("attempt__submitted_at"),
            last_miss=Window(
                Max(Case(When(missed, then=F("attempt__submitted_at")))),
                partition_by=F("question_id"),
            ),
        )
        .order_by()
        .values("question_id", "domain_number", "won", "ended", "last_miss")
    )
    inner, params = history.query.sql_with_params()
    after_miss = "SUM(CASE WHEN h.won = 1 AND h.ended > h.last_miss THEN 1 ELSE 0 END)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT h.question_id, MAX(h.domain_number) FROM ({inner}) h "
            f"WHERE h.last_miss IS NOT NULL GROUP BY h.question_id "
            f"HAVING {after_miss} < %s",
            (*params, MISSED_CORRECT_IN_A_ROW),
        )
        return dict(cursor.fetchall())


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


def _open_one(**filters) -> Attempt | None:
    """The user's one attempt in progress matching `filters`, or None. Unordered on
    purpose: the model's default order (newest first) would walk the (user, started_at)
    index through the whole history, where the (user, status) index finds the open one at
    once (there is at most one per kind)."""
    return next(
        iter(Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, **filters).order_by()[:1]),
        None,
    )


def running_full_mock(user) -> Attempt | None:
    return _open_one(user=user, mode=Attempt.Mode.FULL)


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
    return _open_one(user=user, mode__in=[Attempt.Mode.DRILL, Attempt.Mode.MISSED])


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


def readiness_estimate(*, user, exam: Exam, domains: list[Domain]) -> scoring.Readiness:
    """scoring.readiness over the user's readiness_counts, each of `domains` (the exam's)
    weighted by its weight_percent: one query."""
    return scoring.readiness(
        readiness_counts(user=user, exam=exam),
        {d.number: d.weight_percent for d in domains},
        pass_mark=exam.pass_mark_percent,
    )


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


READINESS_MOCKS = 3  # the dashboard's per-domain readiness is the mean of this many mocks
STANDING_CACHE = "standing"  # settings.CACHES alias memoising candidate_standing


@dataclass(frozen=True)
class LastMock:
    """The figures of a candidate's latest submitted full mock the dashboard shows."""

    pk: object
    score_percent: object  # Decimal, percent
    correct_count: int
    question_count: int
    passed: bool


@dataclass(frozen=True)
class DomainStanding:
    """One blueprint domain on the dashboard: its weight, the candidate's readiness (mean
    percent over the latest READINESS_MOCKS mocks, None without one) and estimate (Wilson
    interval, None without enough answers), their missed questions, and the active bank."""

    number: int
    name: str
    weight_percent: int
    active_questions: int
    readiness: float | None
    estimate: scoring.Estimate | None
    missed: int


@dataclass(frozen=True)
class Standing:
    """Where a candidate stands on an exam: everything the dashboard shows about their
    history (see candidate_standing)."""

    last_full: LastMock | None
    readiness_mocks: int
    domains: list[DomainStanding]
    missed_total: int
    estimate: scoring.Readiness


def candidate_standing(*, user, exam: Exam) -> Standing:
    """The dashboard's figures for `user` on `exam` (an exam as exam_choices returns it,
    with `submitted_attempts`): the last full mock, readiness per domain over the latest
    READINESS_MOCKS mocks, the readiness estimate (scoring.readiness over
    readiness_counts), the missed pool per domain and the bank's size.

    Memoised in the STANDING_CACHE cache under (user, exam, the exam's bank_revision, the
    user's count of submitted attempts on it). Submitted attempts are never changed or
    deleted (only with their user), so the count changes exactly when the history behind
    a Standing does; a timed-out attempt is submitted at its deadline, so the latest
    submission time would not do. Both stamps are read from the database with the exam,
    so a figure is never served after a change, whichever app node computed it. No query
    when memoised, three or four otherwise (the bank's sizes are memoised apart, for every
    candidate: see bank_sizes)."""
    key = f"standing:{user.pk}:{exam.pk}:{exam.bank_revision}:{exam.submitted_attempts}"
    return caches[STANDING_CACHE].get_or_set(key, lambda: _standing(user=user, exam=exam))


def bank_sizes(exam: Exam) -> list[Domain]:
    """bank_size_by_domain(exam), memoised in the STANDING_CACHE cache under the exam's
    bank_revision: the same for every candidate, and the one figure of the dashboard
    whose cost grows with the bank. One query when not memoised, none otherwise."""
    key = f"bank-sizes:{exam.pk}:{exam.bank_revision}"
    return caches[STANDING_CACHE].get_or_set(key, lambda: bank_size_by_domain(exam))


def _standing(*, user, exam: Exam) -> Standing:
    recent = full_mock_history(user=user, exam=exam, limit=READINESS_MOCKS)
    readiness = domain_readiness(recent)
    domains = bank_sizes(exam)
    estimate = readiness_estimate(user=user, exam=exam, domains=domains)
    missed = Counter(missed_pool(user_id=user.pk, exam_id=exam.pk).values())
    last = recent[-1] if recent else None
    return Standing(
        last_full=LastMock(
            pk=last.pk,
            score_percent=last.score_percent,
            correct_count=last.correct_count,
            question_count=last.question_count,
            passed=last.passed,
        )
        if last
        else None,
        readiness_mocks=len(recent),
        domains=[
            DomainStanding(
                number=d.number,
                name=d.name,
                weight_percent=d.weight_percent,
                active_questions=d.active_questions,
                readiness=readiness.get(d.number),
                estimate=estimate.domains.get(d.number),
                missed=missed.get(d.number, 0),
            )
            for d in domains
        ],
        missed_total=sum(missed.values()),
        estimate=estimate,
    )
