"""What the site remembers about a person beyond Django's user: the exam they chose, and
the study groups (classes) they belong to or run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # The exam the candidate chose on the dashboard; empty means the site's default exam.
    exam = models.ForeignKey(
        "questions.Exam", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"


class StudyGroup(models.Model):
    """A class an instructor runs: candidates join it with its code, and every instructor
    view can be narrowed to it. An instructor sees the candidates of the groups they run."""

    name = models.CharField(max_length=120)
    join_code = models.CharField(max_length=20, unique=True)
    exam = models.ForeignKey("questions.Exam", on_delete=models.PROTECT, related_name="groups")
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="groups_taught", blank=True
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="GroupMembership",
        related_name="study_groups",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="group_name_not_empty"),
            models.CheckConstraint(condition=~Q(join_code=""), name="group_code_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="membership_unique"),
        ]
        indexes = [
            # Serves "the groups this candidate is in".
            models.Index(fields=["user"], name="membership_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"
