from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from questions.bankfile import validate_question
from questions.models import Choice, Domain, Exam, Question, Tag, TaskStatement
from questions.services import blueprint_index


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """Applies the question file rules (one validator for every entry path) to the edit."""

    def clean(self) -> None:
        super().clean()
        question: Question = self.instance
        if any(self.errors) or question.task_id is None:
            return
        rows = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE", False)
        ]
        rows.sort(key=lambda row: row.get("position", 0))
        if [row.get("position") for row in rows] != list(range(len(rows))):
            raise ValidationError("Choice positions must run 0, 1, 2, … without gaps.")
        task = question.task
        data = {
            "id": question.external_id,
            "domain": task.domain.number,
            "task": task.code,
            "type": question.type,
            "difficulty": question.difficulty,
            "stem": question.stem,
            "explanation": question.explanation,
            "choices": [
                {"text": row.get("text", ""), "correct": row.get("is_correct", False)}
                | ({"why": row["rationale"]} if row.get("rationale") else {})
                for row in rows
            ],
        }
        if question.type == Question.Type.MULTIPLE:
            data["select"] = question.select_count
        _, errors = validate_question(data, exam=task.domain.exam.code, blueprint=blueprint_index())
        if errors:
            raise ValidationError(errors)


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    extra = 0
    min_num = 2
    max_num = Question.MAX_CHOICES
    fields = ["position", "text", "is_correct", "rationale"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["external_id", "task", "type", "difficulty", "status", "updated_at"]
    list_filter = ["task__domain", "task", "type", "difficulty", "status", "tags"]
    search_fields = ["external_id", "stem"]
    list_select_related = ["task"]
    autocomplete_fields = ["tags"]
    inlines = [ChoiceInline]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class TaskStatementInline(admin.TabularInline):
    model = TaskStatement
    extra = 0


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "question_count", "minutes", "pass_mark_percent"]
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["__str__", "exam", "weight_percent"]
    inlines = [TaskStatementInline]
