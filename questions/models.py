"""The exam blueprint (exam → domains → task statements) and the question bank."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Exam(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    question_count = models.PositiveSmallIntegerField()
    minutes = models.PositiveSmallIntegerField()
    pass_mark_percent = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(question_count__gt=0), name="exam_question_count_positive"
            ),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="exam_minutes_positive"),
            models.CheckConstraint(
                condition=Q(pass_mark_percent__gte=1, pass_mark_percent__lte=100),
                name="exam_pass_mark_is_a_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Domain(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="domains")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    weight_percent = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["exam", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "number"], name="domain_number_unique_per_exam"
            ),
            models.CheckConstraint(
                condition=Q(weight_percent__gte=1, weight_percent__lte=100),
                name="domain_weight_is_a_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


class TaskStatement(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="tasks")
    code = models.CharField(max_length=10)  # "3.2": domain number, dot, task number
    name = models.CharField(max_length=300)

    class Meta:
        ordering = ["domain__exam", "domain__number", "code"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "code"], name="task_code_unique_per_domain"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Tag(models.Model):
    name = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    class Type(models.TextChoices):
        SINGLE = "single", "Single answer"
        MULTIPLE = "multiple", "Multiple response"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    MIN_CHOICES = 2
    MAX_CHOICES = 6

    external_id = models.SlugField(
        max_length=80,
        unique=True,
        help_text="Stable id used by question files, e.g. d1-12-kinesis-001.",
    )
    task = models.ForeignKey(TaskStatement, on_delete=models.PROTECT, related_name="questions")
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.SINGLE)
    select_count = models.PositiveSmallIntegerField(
        default=1, help_text="How many choices a candidate must pick (1 for single answer)."
    )
    difficulty = models.PositiveSmallIntegerField(default=2)
    stem = models.TextField()
    explanation = models.TextField()
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=3), name="question_difficulty_1_to_3"
            ),
            models.CheckConstraint(
                condition=(
                    Q(type="single", select_count=1)
                    | Q(type="multiple", select_count__gte=2, select_count__lte=5)
                ),
                name="question_select_count_matches_type",
            ),
            models.CheckConstraint(condition=~Q(stem=""), name="question_stem_not_empty"),
            models.CheckConstraint(
                condition=~Q(explanation=""), name="question_explanation_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(type__in=["single", "multiple"]), name="question_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "retired"]), name="question_status_valid"
            ),
        ]
        indexes = [
            # Serves exam sampling: the active questions of a set of task statements.
            models.Index(fields=["status", "task"], name="question_status_task_idx"),
        ]

    def __str__(self) -> str:
        return self.external_id


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField()  # 0-based order as written in the file
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    rationale = models.TextField(blank=True)

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "position"], name="choice_position_unique_per_question"
            ),
            models.UniqueConstraint(
                fields=["question", "text"], name="choice_text_unique_per_question"
            ),
            models.CheckConstraint(
                condition=Q(position__lt=Question.MAX_CHOICES), name="choice_position_below_max"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="choice_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.text[:60]
