"""Attempts: one candidate's sitting of a full mock exam or a drill, question by question."""

from __future__ import annotations

import math
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from questions.models import Exam, Question, QuestionVersion


class Attempt(models.Model):
    class Mode(models.TextChoices):
        FULL = "full", "Full mock exam"
        DRILL = "drill", "Domain drill"
        MISSED = "missed", "Missed and flagged practice"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        # Discarded by the candidate, or a full mock that ended with no answer at all: kept
        # in history, left out of scores, readiness, progress and the missed pool.
        ABANDONED = "abandoned", "Abandoned"

    class Feedback(models.TextChoices):
        AT_END = "end", "At the end"
        IMMEDIATE = "immediate", "After each answer"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts"
    )
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.FULL)
    feedback = models.CharField(max_length=10, choices=Feedback.choices, default=Feedback.AT_END)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    # The exam's numbers at the start, so a later blueprint edit does not rewrite history.
    question_count = models.PositiveSmallIntegerField()
    pass_mark_percent = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True, help_text="Empty for an untimed drill.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    timed_out = models.BooleanField(default=False)
    current_position = models.PositiveSmallIntegerField(default=1)
    # When the candidate arrived at current_position: leaving it adds the time since to
    # that item's time_spent_seconds (clipped), in the same write that moves the position.
    position_since = models.DateTimeField(null=True, blank=True)
    # Filled once, at submission.
    correct_count = models.PositiveSmallIntegerField(null=True, blank=True)
    score_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # Prevents two full mocks running at once for one candidate, even when two
            # "start" requests race each other.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="in_progress", mode="full"),
                name="attempt_one_full_mock_in_progress_per_user",
            ),
            # Likewise one drill or missed-question practice at a time: a burst of starts
            # cannot pile up open attempts.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="in_progress", mode__in=["drill", "missed"]),
                name="attempt_one_practice_in_progress_per_user",
            ),
            models.CheckConstraint(
                condition=Q(deadline__isnull=True) | Q(deadline__gt=F("started_at")),
                name="attempt_deadline_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="in_progress", submitted_at__isnull=True, correct_count__isnull=True)
                    | Q(status="submitted", submitted_at__isnull=False, correct_count__isnull=False)
                    | Q(status="abandoned", submitted_at__isnull=False)
                ),
                name="attempt_submitted_iff_scored",
            ),
            models.CheckConstraint(
                condition=Q(correct_count__isnull=True) | Q(correct_count__lte=F("question_count")),
                name="attempt_correct_at_most_count",
            ),
            models.CheckConstraint(
                condition=Q(current_position__gte=1) & Q(current_position__lte=F("question_count")),
                name="attempt_current_position_in_range",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["in_progress", "submitted", "abandoned"]),
                name="attempt_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["full", "drill", "missed"]), name="attempt_mode_valid"
            ),
        ]
        indexes = [
            # Serves the dashboard and history: a user's attempts, newest first.
            models.Index(fields=["user", "-started_at"], name="attempt_user_started_idx"),
            # Serves the reads of a user's latest submitted attempts: the missed pool's
            # lookback, readiness counts and the full mock history (newest first).
            models.Index(
                fields=["user", "status", "-submitted_at"], name="attempt_user_status_sub_idx"
            ),
            # Serves the count of a user's submitted attempts on each exam that
            # selectors.exam_choices reads (the dashboard's history stamp), from the index.
            models.Index(fields=["user", "exam", "status"], name="attempt_user_exam_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.id} ({self.user})"

    @property
    def is_in_progress(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    @property
    def is_abandoned(self) -> bool:
        return self.status == self.Status.ABANDONED

    @property
    def noun(self) -> str:
        """What a candidate calls this attempt in a sentence: "exam" for a full mock,
        "drill" for a domain drill, "practice" for missed-question practice."""
        return {self.Mode.FULL: "exam", self.Mode.DRILL: "drill"}.get(self.mode, "practice")

    def seconds_left(self, now: datetime) -> int | None:
        if self.deadline is None:
            return None
        # Rounded up, so a page counting down from it reaches zero at or after the deadline.
        return max(0, math.ceil((self.deadline - now).total_seconds()))

    def is_past_deadline(self, now: datetime) -> bool:
        return self.deadline is not None and now >= self.deadline


class AttemptItem(models.Model):
    """One question of an attempt, with the candidate's answer and flag."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="items")
    # PROTECT: a question that was ever asked stays in the bank (retire it instead).
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="attempt_items")
    # The version this attempt shows and scores, whatever happens to the bank later.
    version = models.ForeignKey(
        QuestionVersion, on_delete=models.PROTECT, related_name="attempt_items"
    )
    position = models.PositiveSmallIntegerField()  # 1-based, as shown to the candidate
    choice_order = models.JSONField(help_text="Choice ids in the order this attempt shows them.")
    selected = models.JSONField(default=list, blank=True, help_text="Selected choice ids.")
    flagged = models.BooleanField(default=False)
    struck = models.JSONField(
        default=list, blank=True, help_text="Choice ids struck out as eliminated (never an answer)."
    )
    # Bumped by every stored change of `selected`: a save must name the revision its page
    # was drawn from, so a stale page can never overwrite a newer answer.
    revision = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    revealed = models.BooleanField(
        default=False, help_text="Immediate feedback shown; answer locked."
    )
    is_correct = models.BooleanField(null=True, blank=True)
    # Seconds the candidate spent on this question, summed over visits, each visit clipped.
    time_spent_seconds = models.PositiveIntegerField(default=0)
    # Times this item's page was arrived at (first visit included).
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="item_position_unique_per_attempt"
            ),
            models.UniqueConstraint(
                fields=["attempt", "question"], name="item_question_unique_per_attempt"
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="item_position_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} #{self.position}"

    @property
    def is_answered(self) -> bool:
        return bool(self.selected)


class ProblemReport(models.Model):
    """A candidate's report that a question (the version they were shown) has a problem.
    Only possible once the answer was revealed to them (report, immediate feedback)."""

    class Kind(models.TextChoices):
        WRONG_KEY = "wrong_key", "The marked answer is wrong"
        AMBIGUOUS = "ambiguous", "Ambiguous: more than one answer fits"
        OUTDATED = "outdated", "Outdated: AWS has changed since"
        TYPO = "typo", "Typo or formatting"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="problem_reports"
    )
    item = models.ForeignKey(AttemptItem, on_delete=models.CASCADE, related_name="problem_reports")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="problem_reports")
    version = models.ForeignKey(
        QuestionVersion, on_delete=models.CASCADE, related_name="problem_reports"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    comment = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resolved_problem_reports",
    )
    resolution = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One report per candidate per item: a second click edits nothing and floods
            # nothing.
            models.UniqueConstraint(fields=["user", "item"], name="report_one_per_user_item"),
            models.CheckConstraint(
                condition=Q(kind__in=["wrong_key", "ambiguous", "outdated", "typo", "other"]),
                name="report_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True)
                | Q(status="resolved", resolved_at__isnull=False),
                name="report_resolved_iff_resolved_at",
            ),
        ]
        indexes = [
            # Serves the instructors' queue: open reports, newest first.
            models.Index(fields=["status", "-created_at"], name="report_status_created_idx"),
            # Serves the per-user flood limit: a user's reports since a time.
            models.Index(fields=["user", "created_at"], name="report_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.version}"
