"""Attempts, their items and problem reports in the admin: read-only for staff. Operators
(superusers) see every candidate's; an instructor (staff, for the question bank) only those
of the candidates in the groups they run, as on the cohort pages. Attempts change only
through the exam engine; reports are resolved from the instructors' queue."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import GroupMembership
from accounts.permissions import sees_every_candidate
from exams.models import Attempt, AttemptItem, ProblemReport


class ReadOnlyForStaff:
    """Staff may look, at the candidates they may see; nobody adds, changes or deletes here.
    `candidate_field` is the lookup from the model to the candidate (a user)."""

    candidate_field = "user"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_every_candidate(request.user):
            return queryset
        taught = GroupMembership.objects.filter(group__instructors=request.user)
        return queryset.filter(**{f"{self.candidate_field}__in": taught.values("user_id")})

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AttemptItemInline(ReadOnlyForStaff, admin.TabularInline):
    model = AttemptItem
    candidate_field = "attempt__user"
    extra = 0
    can_delete = False
    fields = [
        "position",
        "question",
        "version",
        "selected",
        "is_correct",
        "flagged",
        "revealed",
        "time_spent_seconds",
        "visits",
    ]
    readonly_fields = fields


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyForStaff, admin.ModelAdmin):
    list_display = [
        "started_at",
        "user",
        "exam",
        "mode",
        "status",
        "score_percent",
        "passed",
        "question_count",
    ]
    list_filter = ["mode", "status", "exam", "feedback", "timed_out"]
    search_fields = ["user__username"]
    list_select_related = ["user", "exam"]
    date_hierarchy = "started_at"
    inlines = [AttemptItemInline]
    readonly_fields = [f.name for f in Attempt._meta.fields]


@admin.register(AttemptItem)
class AttemptItemAdmin(ReadOnlyForStaff, admin.ModelAdmin):
    candidate_field = "attempt__user"
    list_display = ["attempt", "position", "question", "version", "is_correct", "flagged"]
    list_filter = ["attempt__mode", "attempt__status", "attempt__exam", "is_correct", "flagged"]
    search_fields = ["attempt__user__username", "question__external_id"]
    list_select_related = ["attempt", "question", "version"]
    readonly_fields = [f.name for f in AttemptItem._meta.fields]


@admin.register(ProblemReport)
class ProblemReportAdmin(ReadOnlyForStaff, admin.ModelAdmin):
    list_display = ["created_at", "question", "version", "kind", "status", "user"]
    list_filter = ["status", "kind", "question__task__domain__exam"]
    search_fields = ["user__username", "question__external_id", "comment"]
    list_select_related = ["question", "version", "user"]
    readonly_fields = [f.name for f in ProblemReport._meta.fields]
