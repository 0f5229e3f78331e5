"""Answer sheets for item-analysis tests: submitted attempts built row by row, fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from exams.models import Attempt, AttemptItem
from questions.models import Question

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
