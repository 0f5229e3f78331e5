"""Study groups in the admin: staff can fix a group's name, exam, instructors and members.
A new group gets its join code from the same generator as the instructors' page."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import GroupMembership, StudyGroup
from accounts.services import new_join_code


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]


@admin.register(StudyGroup)
class StudyGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "exam", "join_code", "created_at"]
    list_filter = ["exam"]
    search_fields = ["name", "members__username", "instructors__username"]
    filter_horizontal = ["instructors"]
    readonly_fields = ["join_code", "created_at"]
    inlines = [GroupMembershipInline]

    def save_model(self, request, obj, form, change) -> None:
        if not obj.join_code:
            obj.join_code = new_join_code()
        super().save_model(request, obj, form, change)
