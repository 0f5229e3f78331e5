"""Reads of attempts that need care (query counts, integrity)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q

from exams.models import Attempt, AttemptItem
from questions.models import Choice, Domain, Exam, Question


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
    """The item's choices in this attempt's order (one query)."""
    return ordered_choices(item, list(Choice.objects.filter(question_id=item.question_id)))


def report_items(attempt: Attempt) -> list[AttemptItem]:
    """Every item with its question, task, domain and choices: three queries in all."""
    return list(
        attempt.items.select_related("question__task__domain").prefetch_related(
            Prefetch("question__choices", queryset=Choice.objects.order_by("position"))
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
    return Exam.objects.order_by("code").first()


def in_progress_attempts(user) -> list[Attempt]:
    return list(
        Attempt.objects.filter(user=user, status=Attempt.Status.IN_PROGRESS).select_related("exam")
    )
