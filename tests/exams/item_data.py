"""Answer sheets for item-analysis tests: submitted attempts built row by row, fast."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from exams.models import Attempt, AttemptItem
from questions.models import Question
from tests.factories import (
    DomainFactory,
    ExamFactory,
    QuestionFactory,
    TaskStatementFactory,
)

LETTERS = "ABCDEF"


@dataclass(frozen=True)
class Answer:
    """One response: the question, the letters picked ("" = unanswered), flag and time."""

    question: Question
    letters: str = ""
    flagged: bool = False
    seconds: int = 0
    version: object = None  # a QuestionVersion other than the current one


_users = iter(range(10**9))


def sit(
    exam,
    sheets: list[list[Answer]],
    *,
    mode: str = Attempt.Mode.FULL,
    status: str = Attempt.Status.SUBMITTED,
) -> list[Attempt]:
    """One attempt per sheet, each by its own candidate, scored from the versions' keys
    (all-or-nothing, as the exam scores). Returns the attempts in sheet order."""
    users = User.objects.bulk_create(User(username=f"cand-{next(_users)}") for _ in sheets)
    now = timezone.now()
    attempts, items = [], []
    for user, sheet in zip(users, sheets, strict=True):
        rows = []
        for position, answer in enumerate(sheet, start=1):
            version = answer.version or answer.question.current_version
            choices = list(version.choices.order_by("position"))
            picked = [choices[LETTERS.index(x)].id for x in answer.letters]
            keys = {c.id for c in choices if c.is_correct}
            rows.append((position, answer, version, choices, picked, set(picked) == keys))
        submitted = status != Attempt.Status.IN_PROGRESS
        scored = status == Attempt.Status.SUBMITTED
        attempt = Attempt(
            user=user,
            exam=exam,
            mode=mode,
            status=status,
            question_count=len(sheet),
            pass_mark_percent=exam.pass_mark_percent,
            started_at=now - timedelta(hours=1),
            deadline=now + timedelta(hours=1),
            submitted_at=now if submitted else None,
            correct_count=sum(r[5] for r in rows) if scored else None,
        )
        attempts.append(attempt)
        for position, answer, version, choices, picked, right in rows:
            items.append(
                AttemptItem(
                    attempt=attempt,
                    question=answer.question,
                    version=version,
                    position=position,
                    choice_order=[c.id for c in choices],
                    selected=picked,
                    flagged=answer.flagged,
                    time_spent_seconds=answer.seconds,
                    is_correct=right if scored else None,
                )
            )
    Attempt.objects.bulk_create(attempts)
    AttemptItem.objects.bulk_create(items)
    return attempts


def build_bank():
    """An exam of two domains: d1 with tasks 1.1 and 1.2, d2 with task 2.1; questions
    e1, h1, w1 and s1, and d2's t1."""
    exam = ExamFactory(code="mls-c01", name="Machine Learning Specialty", question_count=5)
    d1, d2 = DomainFactory(exam=exam, number=1), DomainFactory(exam=exam, number=2)
    t11 = TaskStatementFactory(domain=d1, code="1.1")
    t12 = TaskStatementFactory(domain=d1, code="1.2")
    t21 = TaskStatementFactory(domain=d2, code="2.1")
    questions = {
        "e1": QuestionFactory(external_id="e1", task=t11),
        "h1": QuestionFactory(external_id="h1", task=t11),
        "w1": QuestionFactory(external_id="w1", task=t12),
        "s1": QuestionFactory(external_id="s1", task=t12),
        "t1": QuestionFactory(external_id="t1", task=t21),
    }
    return exam, questions


def history(exam, q, count: int, seed: int = 1) -> None:
    """`count` full mocks: strong candidates (the first 60%) answer s1 and t1 right and w1
    with C; weak ones answer s1 and t1 wrong and w1 with the key. Everyone gets e1 right and
    nearly everyone h1 wrong. With 40 mocks: e1 is too easy, h1 too hard and flagged often,
    w1 has a wrong key, and s1 and t1 discriminate poorly (w1 pulls the other way)."""
    rng = random.Random(seed)
    sheets = []
    for i in range(count):
        strong = i < count * 0.6
        sheets.append(
            [
                Answer(q["e1"], "B", seconds=rng.randint(20, 60)),
                Answer(q["h1"], "B" if i == 0 else rng.choice("ACD"), flagged=i % 2 == 0),
                Answer(q["w1"], "C" if strong else "B"),
                Answer(q["s1"], "B" if strong else rng.choice("ACD")),
                Answer(q["t1"], "B" if strong else "D"),
            ]
        )
    sit(exam, sheets)
