"""Attempts, their items and problem reports in the admin: read-only, and only for the
site's operators (superusers). Instructors are staff for the question bank, but see
candidates only on the cohort pages, limited to the groups they run. Attempts change only
through the exam engine; reports are resolved from the instructors' queue."""

from __future__ import annotations

from django.contrib import admin

from accounts.permissions import sees_every_candidate
from exams.models import Attempt, AttemptItem, ProblemReport


class ReadOnlyForStaff:
    """Operators may look; nobody adds, changes or deletes here."""

    def has_view_permission(self, request, obj=None) -> bool:
        return sees_every_candidate(request.user)

    def has_module_permission(self, request) -> bool:
        return sees_every_candidate(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AttemptItemInline(ReadOnlyForStaff, admin.TabularInline):
    model = AttemptItem
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
