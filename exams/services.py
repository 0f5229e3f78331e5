"""The exam engine: starting, answering, flagging, timing and submitting attempts.

Every mode (full mock, drill, missed-question practice) runs through these functions.
Times are always the server's (`timezone.now()`), passed in so tests can freeze them.
"""

from __future__ import annotations

import operator
import random
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import reduce

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from exams import selectors, sql
from exams.models import Attempt, AttemptItem, ProblemReport
from exams.scoring import (
    ItemOutcome,
    allocate_quotas,
    allocate_quotas_capped,
    item_is_correct,
    score_items,
)
from questions.models import Choice, Domain, Exam, Question

MSG_SHORTFALL = "The question bank cannot fill this exam yet: {details}. Ask an instructor to load more questions."
MSG_SHORTFALL_DOMAIN = (
    "{name} needs {needed} questions but the bank holds {available} (short by {short})"
)
MSG_FULL_IN_PROGRESS = "You already have a full mock exam in progress; it has been resumed."
MSG_DEADLINE_PASSED = (
    "Time is up: the attempt was submitted when its time ran out, so this change was not saved."
)
MSG_SUBMITTED = "This attempt has been submitted, so its answers can no longer change."
MSG_TOO_MANY = (
    "This question takes {n} answers. Clear one before choosing another: this change was not saved."
)
MSG_ONE_ONLY = "This question takes one answer: this change was not saved."
MSG_UNKNOWN_CHOICE = "That answer is not one of this question's choices: nothing was saved."
MSG_LOCKED = "The answer to this question has been revealed, so it can no longer change."
MSG_NOT_IMMEDIATE = "Answers are revealed at the end of this attempt."
MSG_REVEAL_UNANSWERED = "Choose an answer before checking it."
MSG_NOTHING_TO_DRILL = "The question bank holds no questions for that choice yet."
MSG_COUNT_CAPPED = "You asked for {asked} questions; the bank holds {held} for that choice, so the drill has {held}."
MSG_MISSED_ALL = (
    "You have {held} missed or flagged question{s} to practise, so this practice has all of them."
)
MSG_UNKNOWN_DOMAIN = "Choose at least one domain of this exam."
MSG_TASK_OUTSIDE_CHOSEN = "A chosen task statement belongs to a domain you did not choose."
MSG_CHANGED_ELSEWHERE = (
    "This answer was changed on another page or device since this page was drawn, so your "
    "click was not saved. The stored answer is shown now: choose again if you want to change it."
)
MSG_IN_RUNNING_MOCK = (
    "This question is part of your full mock exam in progress, so its answer stays hidden "
    "until you submit that exam."
)
MSG_ABANDONED = "This attempt was abandoned, so it can no longer change."
MSG_PRACTICE_IN_PROGRESS = (
    "You already have a practice attempt in progress. Resume it, or abandon it and start this one."
)
MSG_NO_MISSED = (
    "You have no missed or flagged questions to practise yet: take a mock exam or a drill first."
)


NEVER = datetime.min.replace(tzinfo=UTC)


class ExamError(Exception):
    """A rule of the exam refused the request; `message` is shown to the candidate."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class BankShortfall(ExamError):
    pass


class AttemptClosed(ExamError):
    """The attempt is over (submitted, or its time ran out): nothing can change."""


class AnswerRefused(ExamError):
    pass


class StaleAnswer(AnswerRefused):
    """The page that sent the answer was drawn before the stored answer last changed."""

    def __init__(self, item: AttemptItem):
        self.item = item
        super().__init__(MSG_CHANGED_ELSEWHERE)


class PracticeInProgress(ExamError):
    """Only one drill or missed practice runs at a time; carries the one that is running."""

    def __init__(self, attempt: Attempt):
        self.attempt = attempt
        super().__init__(MSG_PRACTICE_IN_PROGRESS)


def answer_grace() -> timedelta:
    """How long after the deadline an answer or flag already in flight is still stored
    (settings.ANSWER_GRACE_SECONDS). The attempt still ends at its deadline."""
    return timedelta(seconds=settings.ANSWER_GRACE_SECONDS)


class AttemptInProgress(ExamError):
    """Only one full mock runs at a time; carries the one that is running."""

    def __init__(self, attempt: Attempt):
        self.attempt = attempt
        super().__init__(MSG_FULL_IN_PROGRESS)


# --- starting ---------------------------------------------------------------------------


# How many random candidates per question needed a draw looks at in each domain: the
# draw orders only these by when the candidate last saw them, so its cost is bounded by
# the quota, not by the bank. With a bank no bigger than this many times the quota the
# draw is exact (never-seen first, then least recently seen); with a larger bank it is
# exact as long as an eighth of the domain's questions are still unseen.
CANDIDATES_PER_QUESTION = 8


def _active(candidates: Q, exclude: Collection[int]):
    return Question.objects.filter(
        candidates, status=Question.Status.ACTIVE, current_version__isnull=False
    ).exclude(id__in=list(exclude))


def pool_sizes(
    *, domains: Collection[Domain], candidates: Q, exclude: Collection[int] = ()
) -> dict[int, int]:
    """Active question counts matching `candidates` and not in `exclude`, per domain id
    (one aggregate query, answered from the question_status_task_ver index)."""
    sizes = {d.id: 0 for d in domains}
    rows = (
        _active(candidates, exclude)
        .filter(task__domain__in=list(domains))
        .values("task__domain_id")
        .annotate(n=Count("id"))
        .values_list("task__domain_id", "n")
    )
    sizes.update(dict(rows))
    return sizes


# "Least recently seen" looks at the candidate's latest this many attempts: a question
# last seen before them counts as unseen, and the read stays bounded by the cap.
SEEN_LOOKBACK_ATTEMPTS = 30


def _last_seen(user_id: int) -> dict[int, datetime]:
    """When the user was last shown each question in their latest SEEN_LOOKBACK_ATTEMPTS
    attempts (one query; at most that many attempts' items)."""
    latest = (
        Attempt.objects.filter(user_id=user_id)
        .order_by("-started_at")
        .values("pk")[:SEEN_LOOKBACK_ATTEMPTS]
    )
    seen: dict[int, datetime] = {}
    for question_id, started in AttemptItem.objects.filter(attempt_id__in=latest).values_list(
        "question_id", "attempt__started_at"
    ):
        if question_id not in seen or seen[question_id] < started:
            seen[question_id] = started
    return seen


def draw_questions(
    *,
    user_id: int,
    candidates: Q,
    exclude: Collection[int] = (),
    quotas: dict[Domain, int],
    rng: random.Random,
) -> list[int]:
    """Pick `quotas[domain]` question ids from each domain: a random sample, drawn in the
    database (one query per domain), of CANDIDATES_PER_QUESTION times the quota active
    candidates, then never-seen first, then the least recently seen (_last_seen), random
    among equals. The caller makes sure every pool is big enough."""
    seen = _last_seen(user_id)
    chosen: list[int] = []
    for domain, needed in quotas.items():
        if needed <= 0:
            continue
        sample = list(
            _active(candidates, exclude)
            .filter(task__domain=domain)
            .order_by("?")
            .values_list("id", flat=True)[: needed * CANDIDATES_PER_QUESTION]
        )
        sample.sort()  # the database's order is random already; the seeded shuffle decides
        rng.shuffle(sample)
        # A stable sort keeps the shuffle's randomness among equals.
        sample.sort(key=lambda qid: (qid in seen, seen.get(qid) or NEVER))
        chosen.extend(sample[:needed])
    return chosen


@transaction.atomic  # the attempt and all its items, or nothing
def _create_attempt(
    *,
    user,
    exam: Exam,
    mode: str,
    question_ids: Sequence[int],
    minutes: float | None,
    feedback: str,
    now: datetime,
    rng: random.Random,
) -> Attempt:
    order = list(question_ids)
    rng.shuffle(order)
    # Each item pins the question's current version: later bank edits never reach it.
    versions = dict(Question.objects.filter(id__in=order).values_list("id", "current_version_id"))
    choices: dict[int, list[int]] = defaultdict(list)
    for version_id, choice_id in Choice.objects.filter(
        version_id__in=list(versions.values())
    ).values_list("version_id", "id"):
        choices[version_id].append(choice_id)
    attempt = Attempt.objects.create(
        user=user,
        exam=exam,
        mode=mode,
        feedback=feedback,
        question_count=len(order),
        pass_mark_percent=exam.pass_mark_percent,
        started_at=now,
        deadline=now + timedelta(minutes=minutes) if minutes else None,
    )
    items = []
    for position, question_id in enumerate(order, start=1):
        choice_order = sorted(choices[versions[question_id]])
        rng.shuffle(choice_order)
        items.append(
            AttemptItem(
                attempt=attempt,
                question_id=question_id,
                version_id=versions[question_id],
                position=position,
                choice_order=choice_order,
            )
        )
    AttemptItem.objects.bulk_create(items)
    return attempt


def attempt_start_full_mock(
    *, user, exam: Exam, now: datetime | None = None, rng: random.Random | None = None
) -> Attempt:
    """Start a full mock exam drawn by the blueprint's weights.

    Raises BankShortfall when the bank cannot fill a domain's quota, and
    AttemptInProgress (carrying it) when a full mock is already running.
    """
    now = now or timezone.now()
    rng = rng or random.Random()
    attempts_expire_due(user_id=user.pk, now=now)
    running = selectors.running_full_mock(user)
    if running is not None:
        raise AttemptInProgress(running)
    domains = list(exam.domains.order_by("number"))
    quotas = allocate_quotas(exam.question_count, {d: d.weight_percent for d in domains})
    sizes = pool_sizes(domains=domains, candidates=Q())
    short = [
        MSG_SHORTFALL_DOMAIN.format(
            name=d.name, needed=needed, available=sizes[d.id], short=needed - sizes[d.id]
        )
        for d, needed in quotas.items()
        if sizes[d.id] < needed
    ]
    if short:
        raise BankShortfall(MSG_SHORTFALL.format(details="; ".join(short)))
    question_ids = draw_questions(user_id=user.pk, candidates=Q(), quotas=quotas, rng=rng)
    return _create_unless_running(
        running=selectors.running_full_mock,
        in_progress=AttemptInProgress,
        user=user,
        exam=exam,
        mode=Attempt.Mode.FULL,
        question_ids=question_ids,
        minutes=exam.minutes,
        feedback=Attempt.Feedback.AT_END,
        now=now,
        rng=rng,
    )


def _create_unless_running(*, running, in_progress: type[ExamError], **attempt) -> Attempt:
    """`_create_attempt(**attempt)`; when another request started one between our check and
    our insert (the database allows one open attempt of the kind), raise `in_progress`
    carrying the attempt that `running(user)` finds."""
    try:
        return _create_attempt(**attempt)
    except IntegrityError:
        existing = running(attempt["user"])
        if existing is None:
            raise
        raise in_progress(existing) from None


@dataclass(frozen=True)
class PracticeStart:
    attempt: Attempt
    note: str | None = None  # e.g. that the count was capped


def _start_practice(
    *,
    user,
    exam: Exam,
    mode: str,
    domains: Sequence[Domain],
    candidates: Q,
    count: int,
    timed: bool,
    feedback: str,
    now: datetime | None,
    rng: random.Random | None,
) -> PracticeStart:
    """A drill on the full mock's path: the chosen domains' weights, unseen first."""
    now = now or timezone.now()
    rng = rng or random.Random()
    attempts_expire_due(user_id=user.pk, now=now)
    running = selectors.running_practice(user)
    if running is not None:
        raise PracticeInProgress(running)
    # A running full mock's questions stay secret: practice never shows or reveals them.
    exclude = selectors.running_mock_question_ids(user.pk)
    sizes = pool_sizes(domains=domains, candidates=candidates, exclude=exclude)
    held = sum(sizes.values())
    if held == 0:
        raise BankShortfall(MSG_NOTHING_TO_DRILL)
    note = None
    if count > held:
        note = (
            MSG_MISSED_ALL.format(held=held, s="" if held == 1 else "s")
            if mode == Attempt.Mode.MISSED
            else MSG_COUNT_CAPPED.format(asked=count, held=held)
        )
        count = held
    quotas = allocate_quotas_capped(
        count, {d: d.weight_percent for d in domains}, {d: sizes[d.id] for d in domains}
    )
    question_ids = draw_questions(
        user_id=user.pk, candidates=candidates, exclude=exclude, quotas=quotas, rng=rng
    )
    attempt = _create_unless_running(
        running=selectors.running_practice,
        in_progress=PracticeInProgress,
        user=user,
        exam=exam,
        mode=mode,
        question_ids=question_ids,
        minutes=drill_minutes(exam, count) if timed else None,
        feedback=feedback,
        now=now,
        rng=rng,
    )
    return PracticeStart(attempt, note)


def drill_minutes(exam: Exam, count: int) -> float:
    """A timed drill's time limit in minutes: the full exam's pace (its minutes per
    question) times `count` questions."""
    return exam.minutes * count / exam.question_count


def attempt_start_drill(
    *,
    user,
    exam: Exam,
    domain_numbers: Collection[int],
    task_codes: Collection[str] = (),
    count: int,
    timed: bool,
    feedback: str,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> PracticeStart:
    """Start a drill on some domains, narrowed to some of their task statements if given.

    A domain with chosen task statements draws only from those; a domain without draws
    from all of its task statements. More questions than the bank holds are capped.
    """
    domains = list(exam.domains.filter(number__in=domain_numbers).order_by("number"))
    if not domains or len(domains) != len(set(domain_numbers)):
        raise ExamError(MSG_UNKNOWN_DOMAIN)
    by_domain: dict[int, list[str]] = defaultdict(list)
    for code in task_codes:
        by_domain[int(code.split(".")[0])].append(code)
    if set(by_domain) - set(domain_numbers):
        raise ExamError(MSG_TASK_OUTSIDE_CHOSEN)
    candidates = reduce(
        operator.or_,
        (
            Q(task__domain=d, task__code__in=by_domain[d.number])
            if by_domain[d.number]
            else Q(task__domain=d)
            for d in domains
        ),
    )
    return _start_practice(
        user=user,
        exam=exam,
        mode=Attempt.Mode.DRILL,
        domains=domains,
        candidates=candidates,
        count=count,
        timed=timed,
        feedback=feedback,
        now=now,
        rng=rng,
    )


def attempt_start_missed(
    *,
    user,
    exam: Exam,
    count: int,
    timed: bool = False,
    feedback: str = Attempt.Feedback.IMMEDIATE,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> PracticeStart:
    """Start practice on the questions this user got wrong or flagged (see missed_pool)."""
    pool = selectors.missed_pool(user_id=user.pk, exam_id=exam.pk)
    if not pool:
        raise BankShortfall(MSG_NO_MISSED)
    domains = list(exam.domains.order_by("number"))
    return _start_practice(
        user=user,
        exam=exam,
        mode=Attempt.Mode.MISSED,
        domains=domains,
        candidates=Q(id__in=list(pool)),
        count=count,
        timed=timed,
        feedback=feedback,
        now=now,
        rng=rng,
    )


# --- during the attempt ------------------------------------------------------------------


def _open_items(item: AttemptItem, now: datetime):
    """The item, only while its attempt still accepts changes: in progress, and before its
    deadline plus the grace for answers in flight (used as a guarded UPDATE)."""
    return AttemptItem.objects.filter(
        Q(attempt__deadline__isnull=True) | Q(attempt__deadline__gt=now - answer_grace()),
        pk=item.pk,
        attempt__status=Attempt.Status.IN_PROGRESS,
    )


def _ensure_open(attempt: Attempt, now: datetime) -> None:
    if attempt.status == Attempt.Status.SUBMITTED:
        raise AttemptClosed(MSG_SUBMITTED)
    if attempt.status == Attempt.Status.ABANDONED:
        raise AttemptClosed(MSG_ABANDONED)
    if attempt.is_past_deadline(now - answer_grace()):
        attempt_submit(attempt=attempt, now=now)
        raise AttemptClosed(MSG_DEADLINE_PASSED)


def _closed_after_race(item: AttemptItem, now: datetime) -> AttemptClosed:
    attempt = Attempt.objects.get(pk=item.attempt_id)
    try:
        _ensure_open(attempt, now)
    except AttemptClosed as exc:
        return exc
    return AttemptClosed(MSG_SUBMITTED)


def attempt_answer(
    *,
    item: AttemptItem,
    choice_ids: Collection[int],
    revision: int,
    now: datetime | None = None,
) -> AttemptItem:
    """Store the candidate's selection for one question (an empty selection clears it).

    `item` must come with its attempt and version loaded; `revision` is the item's
    revision the candidate's page was drawn from (AttemptItem.revision). The write is one
    compare-and-set UPDATE guarded by that revision and by the attempt's status and
    deadline, so a stale page can never overwrite a newer answer and an answer that races
    the deadline or a submission can never land after it.

    Raises AttemptClosed (submitted or out of time), StaleAnswer (carrying the item as
    stored) and AnswerRefused (locked, unknown choice, too many choices).
    """
    now = now or timezone.now()
    _ensure_open(item.attempt, now)
    if item.revealed:
        raise AnswerRefused(MSG_LOCKED)
    wanted = set(choice_ids)
    if not wanted <= set(item.choice_order):
        raise AnswerRefused(MSG_UNKNOWN_CHOICE)
    limit = item.version.select_count
    if len(wanted) > limit:
        raise AnswerRefused(MSG_ONE_ONLY if limit == 1 else MSG_TOO_MANY.format(n=limit))
    selected = [c for c in item.choice_order if c in wanted]
    answered_at = now if selected else None
    if not sql.item_answer_if_open(
        item_id=item.pk,
        revision=revision,
        selected=selected,
        answered_at=answered_at,
        open_after=now - answer_grace(),
    ):
        fresh = AttemptItem.objects.get(pk=item.pk)
        if fresh.revision != revision:
            item.selected, item.revision = fresh.selected, fresh.revision
            item.answered_at, item.revealed = fresh.answered_at, fresh.revealed
            if set(fresh.selected) == wanted:
                # Already stored (its own save arrived first, e.g. Next pressed while the
                # htmx save was in flight): nothing would be overwritten, so it stands.
                return item
            raise StaleAnswer(item)
        if fresh.revealed:
            raise AnswerRefused(MSG_LOCKED)
        raise _closed_after_race(item, now)
    item.selected, item.answered_at, item.revision = selected, answered_at, revision + 1
    return item


def attempt_flag(*, item: AttemptItem, flagged: bool, now: datetime | None = None) -> AttemptItem:
    """Set or clear the "flag for review" mark on one question."""
    now = now or timezone.now()
    _ensure_open(item.attempt, now)
    if not _open_items(item, now).update(flagged=flagged):
        raise _closed_after_race(item, now)
    item.flagged = flagged
    return item


def attempt_strike(
    *, item: AttemptItem, choice_id: int, struck: bool, now: datetime | None = None
) -> AttemptItem:
    """Strike a choice out as eliminated, or restore it: a reading aid kept with the attempt
    (so it survives a reload and another device), never counted as an answer.

    Raises AnswerRefused for a choice of another question, AttemptClosed after the end."""
    now = now or timezone.now()
    _ensure_open(item.attempt, now)
    if choice_id not in item.choice_order:
        raise AnswerRefused(MSG_UNKNOWN_CHOICE)
    current = (set(item.struck) | {choice_id}) if struck else (set(item.struck) - {choice_id})
    struck_ids = [c for c in item.choice_order if c in current]
    if not _open_items(item, now).update(struck=struck_ids):
        raise _closed_after_race(item, now)
    item.struck = struck_ids
    return item


def attempt_reveal(*, item: AttemptItem, now: datetime | None = None) -> AttemptItem:
    """Immediate feedback: score this answer now, show the key, and lock the answer."""
    now = now or timezone.now()
    _ensure_open(item.attempt, now)
    if item.attempt.feedback != Attempt.Feedback.IMMEDIATE:
        raise AnswerRefused(MSG_NOT_IMMEDIATE)
    if item.revealed:
        return item
    if not item.selected:
        raise AnswerRefused(MSG_REVEAL_UNANSWERED)
    if item.question_id in selectors.running_mock_question_ids(item.attempt.user_id):
        raise AnswerRefused(MSG_IN_RUNNING_MOCK)
    correct = Choice.objects.filter(version_id=item.version_id, is_correct=True).values_list(
        "id", flat=True
    )
    is_correct = item_is_correct(item.selected, correct)
    if (
        not _open_items(item, now)
        .filter(revealed=False)
        .update(revealed=True, is_correct=is_correct)
    ):
        fresh = AttemptItem.objects.get(pk=item.pk)
        if not fresh.revealed:
            raise _closed_after_race(item, now)
        is_correct = fresh.is_correct  # revealed by a concurrent request
    item.revealed, item.is_correct = True, is_correct
    return item


def visit_seconds(since: datetime | None, now: datetime) -> int:
    """Whole seconds of one visit to a question, from `since` (arrival) to `now`, clipped
    to 0..settings.MAX_VISIT_SECONDS (a tab left open is not time spent on the question;
    a clock step back never subtracts). 0 when there was no arrival (`since` is None)."""
    if since is None:
        return 0
    return max(0, min(int((now - since).total_seconds()), settings.MAX_VISIT_SECONDS))


def _move(attempt: Attempt, *, to: int | None, now: datetime) -> None:
    """Leave the current question (adding the visit's time to it) and arrive at `to`
    (counting a visit), or at no question when `to` is None (the review screen). One
    compare-and-set UPDATE of the attempt, guarded by the position and arrival time this
    request read, so two tabs racing cannot count one visit twice; then one of the items."""
    leaving = attempt.current_position if attempt.position_since is not None else None
    since = attempt.position_since
    position = to if to is not None else attempt.current_position
    arrived = now if to is not None else None
    moved = sql.attempt_move_if_unchanged(
        attempt_id=attempt.pk,
        position=attempt.current_position,
        since=since,
        to_position=position,
        arrived=arrived,
    )
    attempt.current_position, attempt.position_since = position, arrived
    if moved:
        sql.items_add_visit(
            attempt_id=attempt.pk,
            leaving=leaving,
            spent=visit_seconds(since, now),
            arriving=to,
        )


def attempt_goto(*, attempt: Attempt, position: int, now: datetime | None = None) -> None:
    """Remember where the candidate is, so a return (on any device) resumes there, and
    keep the time per question: arriving at another position adds the time since the
    last arrival (visit_seconds) to the item left and one visit to the item reached, in
    two UPDATEs (the attempt, the items). A reload of the same position writes nothing."""
    if not attempt.is_in_progress:
        return
    if attempt.current_position == position and attempt.position_since is not None:
        return
    _move(attempt, to=position, now=now or timezone.now())


def attempt_leave_question(*, attempt: Attempt, now: datetime | None = None) -> None:
    """The candidate left the questions for the review screen: the visit's time is added
    to the item they were on, and no question is being visited until they open one (two
    UPDATEs; nothing when no visit is open)."""
    if attempt.is_in_progress and attempt.position_since is not None:
        _move(attempt, to=None, now=now or timezone.now())


# --- finishing ------------------------------------------------------------------------------


def attempt_submit(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Score the attempt once and store the result with it. Submitting again changes nothing.

    An attempt past its deadline is recorded as ending at its deadline (timed out).
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock makes a second, concurrent submission wait and then see the first.
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status != Attempt.Status.IN_PROGRESS:
            return locked
        items = list(locked.items.values("id", "question_id", "version_id", "selected", "flagged"))
        question_ids = [i["question_id"] for i in items]
        # Scored against the versions the attempt showed, never the bank as it is now.
        correct: dict[int, set[int]] = defaultdict(set)
        for version_id, choice_id in Choice.objects.filter(
            version_id__in=[i["version_id"] for i in items], is_correct=True
        ).values_list("version_id", "id"):
            correct[version_id].add(choice_id)
        meta = {
            row[0]: row[1:]
            for row in Question.objects.filter(id__in=question_ids).values_list(
                "id", "task__domain__number", "task__domain__name", "task__code", "task__name"
            )
        }
        outcomes = [
            ItemOutcome(
                *meta[i["question_id"]],
                selected=frozenset(i["selected"]),
                correct=frozenset(correct[i["version_id"]]),
                flagged=i["flagged"],
            )
            for i in items
        ]
        result = score_items(outcomes, pass_mark_percent=locked.pass_mark_percent)
        right = [i["id"] for i, o in zip(items, outcomes, strict=True) if o.is_correct]
        AttemptItem.objects.filter(attempt=locked).exclude(id__in=right).update(is_correct=False)
        AttemptItem.objects.filter(id__in=right).update(is_correct=True)

        timed_out = locked.is_past_deadline(now)
        ended = locked.deadline if timed_out else now
        # The last visit ends with the attempt (a submission, or the deadline).
        sql.items_add_visit(
            attempt_id=locked.pk,
            leaving=locked.current_position if locked.position_since else None,
            spent=visit_seconds(locked.position_since, ended),
            arriving=None,
        )
        locked.position_since = None
        result["time_used_seconds"] = int((ended - locked.started_at).total_seconds())
        if locked.mode == Attempt.Mode.FULL and result["answered"] == 0:
            # An empty mock says nothing about the candidate: it counts as abandoned.
            result["abandoned"] = "empty"
            locked.status = Attempt.Status.ABANDONED
            locked.submitted_at = ended
            locked.timed_out = timed_out
            locked.result = result
            locked.save()
            return locked
        locked.status = Attempt.Status.SUBMITTED
        locked.submitted_at = ended
        locked.timed_out = timed_out
        locked.correct_count = result["correct"]
        locked.score_percent = Decimal(str(result["percent"]))
        locked.passed = result["passed"]
        locked.result = result
        locked.save()
    return locked


def attempts_submit_overdue(*, attempts: list[Attempt], now: datetime) -> list[Attempt]:
    """Submit those of `attempts` (in progress, already read) that are past their deadline
    and the answer grace, as `attempts_expire_due` would, without a query to find them.
    Returns the ones still open, in the given order."""
    still_open = []
    for attempt in attempts:
        if attempt.is_past_deadline(now - answer_grace()):
            attempt_submit(attempt=attempt, now=now)
        else:
            still_open.append(attempt)
    return still_open


def attempts_expire_due(*, user_id: int | None, now: datetime | None = None) -> int:
    """Submit (timed out) every attempt whose deadline and answer grace have passed, of
    one user or, with `user_id=None`, of everyone; return how many. Every page that
    lists, counts or scores attempts calls this first, so an overdue attempt never looks
    open anywhere; `manage.py expire_attempts` runs it for all users. Idempotent."""
    now = now or timezone.now()
    due = Attempt.objects.filter(
        status=Attempt.Status.IN_PROGRESS, deadline__lte=now - answer_grace()
    )
    if user_id is not None:
        due = due.filter(user_id=user_id)
    closed = 0
    # Unordered: the model's default order would walk a user's whole history by start.
    for attempt in due.order_by().only("pk").iterator():
        attempt_submit(attempt=attempt, now=now)
        closed += 1
    return closed


def attempt_abandon(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Discard an attempt in progress: it stays in history as abandoned and is left out of
    scores, readiness, progress and the missed pool. Abandoning an attempt that has ended
    changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status != Attempt.Status.IN_PROGRESS:
            return locked
        locked.status = Attempt.Status.ABANDONED
        locked.submitted_at = min(now, locked.deadline) if locked.deadline else now
        locked.result = {"abandoned": "by candidate"}
        locked.save()
    return locked


# --- problem reports ------------------------------------------------------------------------

MSG_REPORT_NOT_REVEALED = (
    "You can report a problem with a question once its answer has been shown to you: after "
    "you submit the attempt, or after checking the answer in a drill with immediate feedback."
)
MSG_REPORT_DUPLICATE = "You have already reported this question: an instructor will look at it."
MSG_REPORT_FLOOD = (
    "You have sent {limit} problem reports in the last hour, the most the site takes. "
    "Please try again later: nothing was saved."
)
MSG_REPORT_UNKNOWN_KIND = "Choose what kind of problem this is."
MSG_REPORT_TOO_LONG = "Keep the comment to {limit} characters: nothing was saved."
MSG_REPORT_ALREADY_RESOLVED = "This report was already resolved."
REPORT_COMMENT_MAX = 2000
REPORT_FLOOD_WINDOW = timedelta(hours=1)


class ReportRefused(ExamError):
    """A problem report was not stored; `message` says why, `fixable` whether the same
    form, corrected, can be sent again."""

    def __init__(self, message: str, *, fixable: bool = False):
        self.fixable = fixable
        super().__init__(message)


def problem_report_create(
    *, user, item: AttemptItem, kind: str, comment: str, now: datetime | None = None
) -> ProblemReport:
    """Store `user`'s report that `item`'s question (the version the attempt showed) has a
    problem, as an open entry of the instructors' queue.

    Allowed only when the answer was revealed to this user: the item belongs to the user's
    own attempt, and that attempt is submitted or the item was revealed (immediate
    feedback). At most one report per user and item, and at most
    settings.PROBLEM_REPORTS_PER_HOUR per user in any rolling hour (counted in the
    database, so only stored reports count and every app node sees the same number).
    Raises ReportRefused (MSG_REPORT_*) and stores nothing otherwise.
    """
    now = now or timezone.now()
    attempt = item.attempt
    revealed = attempt.status == Attempt.Status.SUBMITTED or item.revealed
    if attempt.user_id != user.pk or not revealed:
        raise ReportRefused(MSG_REPORT_NOT_REVEALED)
    if kind not in ProblemReport.Kind.values:
        raise ReportRefused(MSG_REPORT_UNKNOWN_KIND, fixable=True)
    comment = (comment or "").strip()
    if len(comment) > REPORT_COMMENT_MAX:
        raise ReportRefused(MSG_REPORT_TOO_LONG.format(limit=REPORT_COMMENT_MAX), fixable=True)
    limit = settings.PROBLEM_REPORTS_PER_HOUR
    with transaction.atomic():
        # Locking the reporter's row makes a burst of concurrent reports from one user
        # count one after another, so the burst cannot all pass the limit at once.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if ProblemReport.objects.filter(user=user, item=item).exists():
            raise ReportRefused(MSG_REPORT_DUPLICATE)
        recent = ProblemReport.objects.filter(
            user=user, created_at__gt=now - REPORT_FLOOD_WINDOW
        ).count()
        if recent >= limit:
            raise ReportRefused(MSG_REPORT_FLOOD.format(limit=limit))
        try:
            with transaction.atomic():
                return ProblemReport.objects.create(
                    user=user,
                    item=item,
                    question_id=item.question_id,
                    version_id=item.version_id,
                    kind=kind,
                    comment=comment,
                    created_at=now,
                )
        except IntegrityError:
            # report_one_per_user_item: a concurrent duplicate got there first.
            raise ReportRefused(MSG_REPORT_DUPLICATE) from None


def problem_report_resolve(
    *, report: ProblemReport, by, note: str, now: datetime | None = None
) -> ProblemReport:
    """Mark an open report resolved by instructor `by`, with a note (at most
    REPORT_COMMENT_MAX characters, stripped). Raises ReportRefused when the note is too
    long or the report was already resolved (by anyone, even concurrently)."""
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > REPORT_COMMENT_MAX:
        raise ReportRefused(MSG_REPORT_TOO_LONG.format(limit=REPORT_COMMENT_MAX))
    changed = ProblemReport.objects.filter(pk=report.pk, status=ProblemReport.Status.OPEN).update(
        status=ProblemReport.Status.RESOLVED, resolved_at=now, resolved_by=by, resolution=note
    )
    if not changed:
        raise ReportRefused(MSG_REPORT_ALREADY_RESOLVED)
    report.status, report.resolved_at = ProblemReport.Status.RESOLVED, now
    report.resolved_by, report.resolution = by, note
    return report
