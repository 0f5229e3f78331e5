"""The exam blueprint (exam → domains → task statements) and the question bank."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Exam(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    question_count = models.PositiveSmallIntegerField()
    minutes = models.PositiveSmallIntegerField()
    pass_mark_percent = models.PositiveSmallIntegerField()
    # Raised by every change to the bank or the blueprints (questions.services.
    # bank_revision_bump): pages that summarise the bank memoise their figures under it,
    # so a figure computed before a change is never served after it.
    bank_revision = models.PositiveBigIntegerField(default=0, editable=False)

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
    """A question of the bank: its identity and current metadata.

    What a candidate sees or is scored on lives in immutable `QuestionVersion` rows; a
    question points at its current one, and every attempt item pins the one it showed.
    Task, difficulty, tags and status are metadata of the question, not of a version.
    """

    class Type(models.TextChoices):
        SINGLE = "single", "Single answer"
        MULTIPLE = "multiple", "Multiple response"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"
        # Kept and listed for instructors but never drawn into an attempt until completed
        # (e.g. an Aiken import, which has no explanation).
        DRAFT = "draft", "Draft"

    MIN_CHOICES = 2
    MAX_CHOICES = 6

    external_id = models.SlugField(
        max_length=80,
        unique=True,
        help_text="Stable id used by question files, e.g. d1-12-kinesis-001.",
    )
    task = models.ForeignKey(TaskStatement, on_delete=models.PROTECT, related_name="questions")
    difficulty = models.PositiveSmallIntegerField(default=2)
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    current_version = models.OneToOneField(
        "QuestionVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="current_of",
        help_text="The version new attempts show.",
    )
    # Where the file loader last took this question from, and a digest of that file
    # entry: a reload of an unchanged entry leaves the question alone, so an edit made
    # in the admin since is never undone by a restart.
    source_file = models.CharField(max_length=500, blank=True)
    source_digest = models.CharField(max_length=64, blank=True)
    edited_in_admin = models.BooleanField(
        default=False, help_text="Changed in the admin since the file was last loaded."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=3), name="question_difficulty_1_to_3"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "retired", "draft"]),
                name="question_status_valid",
            ),
        ]
        indexes = [
            # Serves exam sampling and the bank's sizes: the active questions (with a
            # current version) of a set of task statements, answered from the index alone.
            models.Index(
                fields=["status", "task", "current_version"],
                name="question_status_task_ver_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class QuestionVersion(models.Model):
    """Everything a candidate sees or is scored on, frozen: stem, choices with their keys
    and rationales, how many to select, explanation and references. Never edited: a
    change to any of these makes a new version."""

    class Source(models.TextChoices):
        FILE = "file", "Question file"
        ADMIN = "admin", "Admin edit"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()  # 1, 2, 3… per question
    type = models.CharField(
        max_length=10, choices=Question.Type.choices, default=Question.Type.SINGLE
    )
    select_count = models.PositiveSmallIntegerField(
        default=1, help_text="How many choices a candidate must pick (1 for single answer)."
    )
    stem = models.TextField()
    explanation = models.TextField()
    references = models.JSONField(default=list, blank=True, help_text="http(s) links.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FILE)
    # A version that is not complete yet (no explanation): only a draft question has one,
    # and completing it makes a new, non-draft version.
    is_draft = models.BooleanField(default=False)
    change_summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "number"], name="version_number_unique_per_question"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_from_1"),
            models.CheckConstraint(
                condition=(
                    Q(type="single", select_count=1)
                    | Q(type="multiple", select_count__gte=2, select_count__lte=5)
                ),
                name="version_select_count_matches_type",
            ),
            models.CheckConstraint(condition=~Q(stem=""), name="version_stem_not_empty"),
            models.CheckConstraint(
                condition=Q(is_draft=True) | ~Q(explanation=""),
                name="version_explanation_not_empty_unless_draft",
            ),
            models.CheckConstraint(
                condition=Q(type__in=["single", "multiple"]), name="version_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["file", "admin"]), name="version_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} v{self.number}"


class Choice(models.Model):
    """One option of one version. Rows are never edited or deleted once a version exists:
    attempts store choice ids."""

    version = models.ForeignKey(QuestionVersion, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField()  # 0-based order as written in the file
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    rationale = models.TextField(blank=True)

    class Meta:
        # By the raw id: ordering by "version" would join every version and question just
        # to sort by their own orderings.
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"], name="choice_position_unique_per_version"
            ),
            models.UniqueConstraint(
                fields=["version", "text"], name="choice_text_unique_per_version"
            ),
            models.CheckConstraint(
                condition=Q(position__lt=Question.MAX_CHOICES), name="choice_position_below_max"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="choice_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class BankUpload(models.Model):
    """One upload of question or blueprint files through the browser: what was sent, the
    plan its preview showed, and what became of it. Applying re-reads the stored files and
    refuses unless the bank is still in the state the preview was computed from."""

    class Status(models.TextChoices):
        INVALID = "invalid", "Refused: problems in the files"
        PREVIEWED = "previewed", "Previewed, not applied"
        APPLIED = "applied", "Applied"
        STALE = "stale", "Refused: the bank changed after the preview"
        DISCARDED = "discarded", "Discarded"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bank_uploads"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    exam = models.ForeignKey(
        Exam, on_delete=models.PROTECT, null=True, blank=True, related_name="uploads"
    )
    # [{"name": ..., "size": bytes, "sha256": ..., "format": "yaml" | "gift" | ...}]
    files = models.JSONField(default=list)
    # name → text of each file as uploaded, so Apply carries out exactly what was previewed.
    contents = models.JSONField(default=dict)
    options = models.JSONField(default=dict, blank=True)  # retire_missing, default task…
    status = models.CharField(max_length=10, choices=Status.choices)
    # Digest of the bank rows the plan was computed from; Apply refuses if it moved.
    bank_state = models.CharField(max_length=64, blank=True)
    plan = models.JSONField(default=dict, blank=True)  # counts and per-question changes
    problems = models.JSONField(default=list, blank=True)  # [{file, line, question, message}]
    counts = models.JSONField(default=dict, blank=True)  # what Apply did

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["invalid", "previewed", "applied", "stale", "discarded"]),
                name="upload_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="applied", applied_at__isnull=False)
                | (~Q(status="applied") & Q(applied_at__isnull=True)),
                name="upload_applied_iff_applied_at",
            ),
        ]
        indexes = [
            # Serves the instructors' list of uploads, newest first.
            models.Index(fields=["-created_at"], name="upload_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Upload {self.pk} by {self.uploaded_by_id} ({self.status})"
