"""Scratch data for scripts/benchmark.py and scripts/profile_pages.py: a large generated
bank and a long history, so the benchmark can show that no request's cost grows with
them. Never run against a real database: the generated questions are placeholders.

Run inside Django (manage.py shell -c, or after django.setup()).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

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


@transaction.atomic
def add_history(username: str, attempts: int, *, seed: int = 2) -> int:
    """Give `username` `attempts` submitted full mocks of 65 questions drawn at random from
    the bank, about two thirds right, one in ten flagged, one a day going back. Returns how
    many were added."""
    from django.contrib.auth.models import User

    from exams.models import Attempt, AttemptItem
    from questions.models import Choice, Exam, Question

    user = User.objects.get(username=username)
    exam = Exam.objects.order_by("code").first()
    rng = random.Random(seed)
    bank = list(
        Question.objects.filter(status=Question.Status.ACTIVE).values_list(
            "id", "current_version_id"
        )
    )
    keys: dict[int, list[tuple[int, bool]]] = {}
    for version_id, choice_id, correct in Choice.objects.values_list(
        "version_id", "id", "is_correct"
    ):
        keys.setdefault(version_id, []).append((choice_id, correct))
    now = timezone.now()
    created = Attempt.objects.bulk_create(
        Attempt(
            user=user,
            exam=exam,
            status=Attempt.Status.SUBMITTED,
            question_count=65,
            pass_mark_percent=exam.pass_mark_percent,
            started_at=now - timedelta(days=n + 1, hours=3),
            deadline=now - timedelta(days=n + 1),
            submitted_at=now - timedelta(days=n + 1, hours=1),
            correct_count=0,
            score_percent=0,
            passed=False,
            result={"domains": [], "answered": 65},
        )
        for n in range(attempts)
    )
    items = []
    for attempt in created:
        for position, (question_id, version_id) in enumerate(rng.sample(bank, 65), start=1):
            choices = keys[version_id]
            right = rng.random() < 0.66
            pick = next(c for c, ok in choices if ok == right) if right else choices[0][0]
            correct = dict(choices).get(pick, False)
            items.append(
                AttemptItem(
                    attempt=attempt,
                    question_id=question_id,
                    version_id=version_id,
                    position=position,
                    choice_order=[c for c, _ in choices],
                    selected=[pick],
                    is_correct=correct,
                    flagged=rng.random() < 0.1,
                    revision=1,
                    answered_at=attempt.started_at,
                )
            )
    AttemptItem.objects.bulk_create(items, batch_size=5000)
    refresh_statistics()
    return len(created)


def refresh_statistics() -> None:
    """Fresh planner statistics after a bulk change, as the bank loader keeps them."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
