"""Scratch data for scripts/benchmark.py and scripts/profile_pages.py: a large generated
bank (add_generated_questions) and simulated exam history (add_submitted_mocks: submitted
full mocks stored and scored as the exam engine stores them), so the benchmark can show
that no request's cost grows with them and the results pages read realistic data. Never
run against a real database: the generated questions and candidates are placeholders.

Run inside Django (manage.py shell -c, or after django.setup()).
"""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from questions.models import Exam

GENERATED_PREFIX = "gen-"


@transaction.atomic
def add_generated_questions(total: int, *, seed: int = 1) -> int:
    """Add generated active questions until the bank holds `total` active ones, spread
    over the task statements in turn (four choices each, one correct). Returns how many
    were added. ANALYZE runs afterwards, as after a bank load."""
    from questions.models import Choice, Question, QuestionVersion, TaskStatement

    have = Question.objects.filter(status=Question.Status.ACTIVE).count()
    missing = max(0, total - have)
    if not missing:
        return 0
    tasks = list(TaskStatement.objects.order_by("domain__number", "code"))
    rng = random.Random(seed)
    questions = Question.objects.bulk_create(
        Question(external_id=f"{GENERATED_PREFIX}{i:06d}", task=tasks[i % len(tasks)])
        for i in range(missing)
    )
    versions = QuestionVersion.objects.bulk_create(
        QuestionVersion(
            question=q,
            number=1,
            stem=f"Generated benchmark question {q.external_id}: which setting applies?",
            explanation="Generated for load measurement only.",
        )
        for q in questions
    )
    for q, v in zip(questions, versions, strict=True):
        q.current_version = v
    Question.objects.bulk_update(questions, ["current_version"], batch_size=2000)
    choices = []
    for v in versions:
        key = rng.randrange(4)
        choices.extend(
            Choice(version=v, position=n, text=f"Option {n + 1}", is_correct=n == key)
            for n in range(4)
        )
    Choice.objects.bulk_create(choices, batch_size=4000)
    refresh_statistics()
    return missing


@dataclass(frozen=True)
class ResponseModel:
    """How simulated candidates answer and pace a full mock (see add_submitted_mocks).

    Answers follow the one-parameter logistic (1PL, Rasch) model of item response theory:
    a candidate of ability θ answers a question of difficulty b right with probability

        P(right | θ, b) = 1 / (1 + e^-(θ - b))

    (G. Rasch, "Probabilistic Models for Some Intelligence and Attainment Tests", Danish
    Institute for Educational Research, 1960; S. E. Embretson & S. P. Reise, "Item Response
    Theory for Psychologists", 2000, ch. 4). Abilities θ ~ N(ability_mean, ability_sd²),
    one per candidate; difficulties b ~ N(difficulty_mean, difficulty_sd²), one per
    question version, both in logits. With b ~ N(0, 1), a candidate of ability θ gets
    E[P] right: about 0.66 at θ = 0.8 (numerical integration over b).

    A wrong answer to a single-answer question picks a distractor with halving odds (the
    version's distractors in their stored position order weigh 1, 1/2, 1/4, …, so each
    question has a popular wrong answer, as real items do); to a question asking for k
    choices it keeps k - 1 of the keys, drawn at random, and adds one distractor so drawn.
    Rates are probabilities per response: `flagged_rate` marks it for review;
    `untimed_rate` records no time and no visit (as responses stored before time on
    question was kept). Time on a timed question, in seconds, is log-normal with median
    `median_seconds` and log-scale standard deviation `seconds_sigma`, clipped to
    1 … settings.MAX_VISIT_SECONDS, as the engine clips one visit.
    """

    ability_mean: float = 0.8
    ability_sd: float = 1.0
    difficulty_mean: float = 0.0
    difficulty_sd: float = 1.0
    flagged_rate: float = 0.08
    untimed_rate: float = 0.10
    median_seconds: float = 90.0
    seconds_sigma: float = 0.6

    def p_right(self, ability: float, difficulty: float) -> float:
        """The 1PL probability of a right answer (both arguments in logits), in 0 … 1."""
        return 1 / (1 + math.exp(-(ability - difficulty)))


# --scale: one candidate of ability 0.8 (about two thirds right), one response in ten flagged.
PROBE_MODEL = ResponseModel(ability_sd=0.0, flagged_rate=0.10)
# --item-analysis: a spread of abilities, so facility and discrimination look like real data
# (expected share right per candidate: mean 0.64, 5th-95th percentile 0.33-0.89).
ITEM_ANALYSIS_MODEL = ResponseModel()
# --cohort: expected share right per candidate with mean 0.68 and 5th-95th percentile
# 0.44-0.88, 35% of candidates at 75% or more: close to a uniform 0.4-0.95.
COHORT_MODEL = ResponseModel(ability_mean=1.0, ability_sd=0.8)

# Submitted history is written in transactions of about this many items.
ITEMS_PER_TRANSACTION = 20_000


class History(NamedTuple):
    attempts: int
    items: int
    correct: int


def add_submitted_mocks(
    users: Iterable,
    *,
    mocks: int,
    seed: int,
    model: ResponseModel = ITEM_ANALYSIS_MODEL,
    exam: Exam | None = None,
    now: datetime | None = None,
) -> History:
    """Give each of `users` (User objects, in order) `mocks` submitted full mocks, stored
    as the exam engine stores them, and return how many attempts, items (responses) and
    right items were written.

    Each mock is drawn as exams.services.attempt_start_full_mock draws one: the blueprint's
    domain quotas (exams.scoring.allocate_quotas over the domains' weights), each domain's
    questions a random sample of CANDIDATES_PER_QUESTION times its quota from the active
    bank taken never-seen first, then least recently seen within the candidate's latest
    SEEN_LOOKBACK_ATTEMPTS mocks; positions shuffled; each item pinned to its question's
    current version, its choice order the version's choice ids shuffled. Answers, flags
    and time on question come from `model` (ResponseModel: the 1PL model and its rates);
    `selected` is stored in the item's choice order and `is_correct` set, as a submission
    leaves them. Each attempt is scored with exams.scoring.score_items: `result` (plus
    `time_used_seconds`), `correct_count`, `score_percent` and `passed` are what
    exams.services.attempt_submit stores.

    Time: a candidate's mocks go back from `now` (default: the current time), one every
    one or two days at a random time of day, the newest started at least a day before
    `now`, so each one's submitted_at is distinct and no two overlap. A mock takes the sum of its items' time
    plus 2-15 minutes of review, and ends at its deadline (timed out) if that is longer.

    `exam` defaults to the first exam by code. Deterministic for a seed and a database:
    every candidate draws from its own generator seeded by (seed, username), difficulties
    from one seeded by seed, attempt ids included (so calling again for the same
    candidate with the same seed fails on the ids: use another seed to add more). Written
    in transactions of about ITEMS_PER_TRANSACTION items (bulk_create), then planner
    statistics are refreshed once (ANALYZE). Needs Django set up.

    Raises ValueError when a domain of the bank cannot fill its quota.
    """
    from django.conf import settings

    from exams.models import Attempt, AttemptItem
    from exams.scoring import ItemOutcome, allocate_quotas, score_items
    from exams.services import CANDIDATES_PER_QUESTION, SEEN_LOOKBACK_ATTEMPTS
    from questions.models import Choice, Exam, Question

    exam = exam or Exam.objects.order_by("code").first()
    now = now or timezone.now()
    domains = list(exam.domains.order_by("number"))
    quotas = allocate_quotas(exam.question_count, {d.number: d.weight_percent for d in domains})
    rows = (
        Question.objects.filter(
            status=Question.Status.ACTIVE,
            current_version__isnull=False,
            task__domain__exam=exam,
        )
        .order_by("id")
        .values_list(
            "id",
            "current_version_id",
            "current_version__select_count",
            "task__domain__number",
            "task__domain__name",
            "task__code",
            "task__name",
        )
    )
    pools: dict[int, list[int]] = {n: [] for n in quotas}
    bank: dict[int, tuple] = {}
    for question_id, version_id, select_count, *meta in rows:
        pools[meta[0]].append(question_id)
        bank[question_id] = (version_id, select_count, tuple(meta))
    short = [f"domain {n}: {len(pools[n])} of {k}" for n, k in quotas.items() if len(pools[n]) < k]
    if short:
        raise ValueError(f"the bank cannot fill a full mock ({'; '.join(short)})")
    # Per version: its choice ids, keys and distractors (each in position order).
    choices: dict[int, list[int]] = defaultdict(list)
    keys: dict[int, list[int]] = defaultdict(list)
    distractors: dict[int, list[int]] = defaultdict(list)
    for version_id, choice_id, correct in (
        Choice.objects.filter(version_id__in=[v for v, _, _ in bank.values()])
        .order_by("version_id", "position")
        .values_list("version_id", "id", "is_correct")
    ):
        choices[version_id].append(choice_id)
        (keys if correct else distractors)[version_id].append(choice_id)
    halving = [2.0**-i for i in range(max(map(len, distractors.values()), default=0))]
    difficulty_rng = random.Random(f"{seed}:difficulty")
    difficulty = {
        version_id: difficulty_rng.gauss(model.difficulty_mean, model.difficulty_sd)
        for version_id in sorted(choices)
    }
    max_seconds = settings.MAX_VISIT_SECONDS
    limit = timedelta(minutes=exam.minutes)
    limit_seconds = limit.total_seconds()
    attempts: list = []
    items: list = []
    written = History(0, 0, 0)

    def flush() -> None:
        nonlocal written
        with transaction.atomic():
            Attempt.objects.bulk_create(attempts, batch_size=500)
            AttemptItem.objects.bulk_create(items, batch_size=2000)
        written = History(
            written.attempts + len(attempts),
            written.items + len(items),
            written.correct + sum(a.correct_count for a in attempts),
        )
        attempts.clear()
        items.clear()

    for user in users:
        rng = random.Random(f"{seed}:{user.username}")
        ability = rng.gauss(model.ability_mean, model.ability_sd)
        # Days back of each mock, oldest first: one every one or two days.
        days_back, day = [], 0
        for _ in range(mocks):
            day += rng.choice((1, 2))
            days_back.append(day)
        days_back.reverse()
        last_seen: dict[int, int] = {}  # question id -> index of the mock that last showed it
        for m, days in enumerate(days_back):

            def seen(question_id: int, m: int = m, last_seen: dict = last_seen) -> int:
                # -1: never shown, or not within the latest SEEN_LOOKBACK_ATTEMPTS mocks.
                shown = last_seen.get(question_id, -1)
                return shown if shown >= m - SEEN_LOOKBACK_ATTEMPTS else -1

            drawn: list[int] = []
            for number, needed in quotas.items():
                pool = pools[number]
                sample = rng.sample(pool, min(len(pool), needed * CANDIDATES_PER_QUESTION))
                # Never seen first, then least recently seen; the stable sort keeps the
                # sample's randomness among equals (as exams.services.draw_questions).
                sample.sort(key=seen)
                drawn.extend(sample[:needed])
            rng.shuffle(drawn)
            started = now - timedelta(
                days=days, minutes=rng.randint(0, 600), seconds=rng.randint(0, 59)
            )
            attempt = Attempt(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                user=user,
                exam=exam,
                mode=Attempt.Mode.FULL,
                feedback=Attempt.Feedback.AT_END,
                status=Attempt.Status.SUBMITTED,
                question_count=len(drawn),
                current_position=len(drawn),
                pass_mark_percent=exam.pass_mark_percent,
                started_at=started,
                deadline=started + limit,
            )
            outcomes, elapsed = [], 0
            for position, question_id in enumerate(drawn, start=1):
                last_seen[question_id] = m
                version_id, select_count, meta = bank[question_id]
                order = sorted(choices[version_id])
                rng.shuffle(order)
                right_keys, wrong = keys[version_id], distractors[version_id]
                if not wrong or rng.random() < model.p_right(ability, difficulty[version_id]):
                    wanted = set(right_keys)
                else:
                    kept = rng.sample(right_keys, min(len(right_keys), select_count - 1))
                    wanted = {*kept, *rng.choices(wrong, halving[: len(wrong)])}
                flagged = rng.random() < model.flagged_rate
                if rng.random() < model.untimed_rate:
                    seconds, visits = 0, 0
                else:
                    spent = rng.lognormvariate(math.log(model.median_seconds), model.seconds_sigma)
                    seconds, visits = max(1, min(round(spent), max_seconds)), 1 + flagged
                elapsed += seconds
                # Out of time before answering: left unanswered, as the deadline leaves it.
                selected = [c for c in order if c in wanted] if elapsed < limit_seconds else []
                outcome = ItemOutcome(
                    *meta,
                    selected=frozenset(selected),
                    correct=frozenset(right_keys),
                    flagged=flagged,
                )
                outcomes.append(outcome)
                items.append(
                    AttemptItem(
                        attempt=attempt,
                        question_id=question_id,
                        version_id=version_id,
                        position=position,
                        choice_order=order,
                        selected=selected,
                        flagged=flagged,
                        revision=1 if selected else 0,
                        answered_at=started + timedelta(seconds=elapsed) if selected else None,
                        is_correct=outcome.is_correct,
                        time_spent_seconds=seconds,
                        visits=visits,
                    )
                )
            used = timedelta(seconds=elapsed + rng.randint(120, 900))
            attempt.timed_out = used >= limit
            attempt.submitted_at = started + min(used, limit)
            result = score_items(outcomes, pass_mark_percent=exam.pass_mark_percent)
            result["time_used_seconds"] = int((attempt.submitted_at - started).total_seconds())
            attempt.result = result
            attempt.correct_count = result["correct"]
            attempt.score_percent = Decimal(str(result["percent"]))
            attempt.passed = result["passed"]
            attempts.append(attempt)
            if len(items) >= ITEMS_PER_TRANSACTION:
                flush()
    if attempts:
        flush()
    refresh_statistics()
    return written


def refresh_statistics() -> None:
    """Fresh planner statistics after a bulk change, as the bank loader keeps them."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
