"""The question bank in the admin. An edit of what candidates see (stem, choices, key,
explanation, references) never changes a row in place: it is validated by the question
file rules and saved as a new version, so attempts that showed the old one keep it."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from questions.bankfile import validate_question
from questions.models import Domain, Exam, Question, QuestionVersion, Tag, TaskStatement
from questions.services import (
    bank_revision_bump,
    blueprint_index,
    question_admin_save,
    version_as_data,
)

CHOICE_SLOTS = Question.MAX_CHOICES
MSG_EXPLANATION_BEFORE_ACTIVE = (
    "Write an explanation before making this question {status}: candidates read it after "
    "every answer. Keep the status 'Draft' to save it without one."
)


class QuestionAdminForm(forms.ModelForm):
    """Question metadata plus the content of its current version, as editable fields."""

    type = forms.ChoiceField(choices=Question.Type.choices)
    select_count = forms.IntegerField(
        min_value=1, max_value=5, initial=1, help_text="1 for single answer."
    )
    stem = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    explanation = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Required unless the question is a draft; a draft never reaches an attempt.",
    )
    references = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One http(s) link per line.",
    )

    class Meta:
        model = Question
        fields = ["external_id", "task", "difficulty", "status", "tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = self.instance.current_version if self.instance.pk else None
        if version is not None:
            data = version_as_data(version)
            self.initial.update(
                {
                    "type": data["type"],
                    "select_count": data.get("select", 1),
                    "stem": data["stem"],
                    "explanation": data["explanation"],
                    "references": "\n".join(data.get("references", [])),
                }
            )
            for n, choice in enumerate(data["choices"], start=1):
                self.initial[f"choice_{n}_text"] = choice["text"]
                self.initial[f"choice_{n}_correct"] = choice.get("correct", False)
                self.initial[f"choice_{n}_why"] = choice.get("why", "")

    def clean(self):
        cleaned = super().clean()
        task: TaskStatement | None = cleaned.get("task")
        if task is None or self.errors:
            return cleaned
        status = cleaned.get("status") or Question.Status.ACTIVE
        if status != Question.Status.DRAFT and not (cleaned.get("explanation") or "").strip():
            label = Question.Status(status).label.lower()
            self.add_error("explanation", MSG_EXPLANATION_BEFORE_ACTIVE.format(status=label))
            return cleaned
        choices = []
        for n in range(1, CHOICE_SLOTS + 1):
            text = cleaned.get(f"choice_{n}_text", "").strip()
            if not text:
                continue
            choice = {"text": text}
            if cleaned.get(f"choice_{n}_correct"):
                choice["correct"] = True
            if cleaned.get(f"choice_{n}_why", "").strip():
                choice["why"] = cleaned[f"choice_{n}_why"].strip()
            choices.append(choice)
        raw = {
            "id": cleaned.get("external_id"),
            "domain": task.domain.number,
            "task": task.code,
            "type": cleaned.get("type"),
            "difficulty": cleaned.get("difficulty"),
            "tags": sorted(t.name for t in cleaned.get("tags") or []),
            "stem": cleaned.get("stem"),
            "choices": choices,
            "explanation": cleaned.get("explanation"),
            "status": status,
        }
        if cleaned.get("type") == Question.Type.MULTIPLE:
            raw["select"] = cleaned.get("select_count")
        references = [line.strip() for line in cleaned.get("references", "").splitlines()]
        if any(references):
            raw["references"] = [r for r in references if r]
        data, errors = validate_question(
            raw, exam=task.domain.exam.code, blueprint=blueprint_index()
        )
        if errors:
            raise forms.ValidationError(errors)
        self.question_data = data
        return cleaned


def _choice_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for n in range(1, CHOICE_SLOTS + 1):
        fields[f"choice_{n}_text"] = forms.CharField(
            required=False, label=f"Choice {n}", widget=forms.Textarea(attrs={"rows": 2})
        )
        fields[f"choice_{n}_correct"] = forms.BooleanField(
            required=False, label=f"Choice {n} is correct"
        )
        fields[f"choice_{n}_why"] = forms.CharField(
            required=False,
            label=f"Choice {n} rationale",
            widget=forms.Textarea(attrs={"rows": 2}),
        )
    return fields


# Declared on the class, not added in __init__: ModelAdmin.get_form builds the form from
# the fieldsets, and accepts only model fields and fields the form class declares.
QuestionAdminForm.declared_fields.update(_choice_fields())
QuestionAdminForm.base_fields.update(QuestionAdminForm.declared_fields)


class VersionInline(admin.TabularInline):
    """Every version, read-only: the history attempts point into."""

    model = QuestionVersion
    fk_name = "question"
    extra = 0
    can_delete = False
    fields = ["number", "source", "is_draft", "change_summary", "created_at"]
    readonly_fields = fields
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionAdminForm
    # The status filter lists the drafts waiting for an explanation.
    list_display = ["external_id", "task", "difficulty", "status", "edited_in_admin", "updated_at"]
    list_filter = ["task__domain", "task", "difficulty", "status", "edited_in_admin", "tags"]
    search_fields = ["external_id", "current_version__stem"]
    list_select_related = ["task"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["created_at", "updated_at", "source_file", "edited_in_admin"]
    inlines = [VersionInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A question is never deleted (attempts and versions point at it): retire it.
        return False

    def get_fieldsets(self, request, obj=None):
        choice_fields = [
            (f"choice_{n}_text", f"choice_{n}_correct", f"choice_{n}_why")
            for n in range(1, CHOICE_SLOTS + 1)
        ]
        return [
            (None, {"fields": ["external_id", "task", "difficulty", "status", "tags"]}),
            (
                "Current version (saving a change creates a new version)",
                {
                    "fields": [
                        "type",
                        "select_count",
                        "stem",
                        *choice_fields,
                        "explanation",
                        "references",
                    ]
                },
            ),
            ("Source", {"fields": ["source_file", "edited_in_admin", "created_at", "updated_at"]}),
        ]

    def save_model(self, request, obj, form, change):
        # The version is written in save_related, once the tags (many-to-many) are known.
        obj.save()

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        question_admin_save(
            question=form.instance,
            data=form.question_data,
            tag_ids=[t.pk for t in form.cleaned_data.get("tags") or []],
        )


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class TaskStatementInline(admin.TabularInline):
    model = TaskStatement
    extra = 0


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class BumpsBankRevision:
    """Admin pages that change a blueprint record the change (bank_revision_bump) after
    saving the object and its inlines, and after a deletion."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        bank_revision_bump()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        bank_revision_bump()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        bank_revision_bump()


@admin.register(Exam)
class ExamAdmin(BumpsBankRevision, admin.ModelAdmin):
    list_display = ["code", "name", "question_count", "minutes", "pass_mark_percent"]
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(BumpsBankRevision, admin.ModelAdmin):
    list_display = ["__str__", "exam", "weight_percent"]
    inlines = [TaskStatementInline]
