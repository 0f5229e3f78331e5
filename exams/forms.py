from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator

from exams.models import Attempt
from questions.models import Exam

DRILL_MIN_QUESTIONS = 5


class DrillForm(forms.Form):
    """Choose domains (and optionally task statements), a count, timing and feedback."""

    domains = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple)
    tasks = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Task statements (optional)",
        help_text="Leave empty to draw from every task statement of the chosen domains.",
    )
    count = forms.IntegerField(label="Number of questions", initial=20)
    timed = forms.BooleanField(
        required=False, initial=True, label="Timed at the real exam's pace", help_text=""
    )
    feedback = forms.ChoiceField(
        choices=Attempt.Feedback.choices,
        initial=Attempt.Feedback.IMMEDIATE,
        widget=forms.RadioSelect,
        label="Show answers",
    )

    def __init__(self, *args, exam: Exam, **kwargs):
        super().__init__(*args, **kwargs)
        self.exam = exam
        domains = list(exam.domains.order_by("number").prefetch_related("tasks"))
        self.fields["domains"].choices = [(d.number, f"{d.number}. {d.name}") for d in domains]
        self.fields["tasks"].choices = [
            (t.code, f"{t.code} {t.name}")
            for d in domains
            for t in sorted(d.tasks.all(), key=lambda t: t.code)
        ]
        self.fields["count"] = forms.IntegerField(
            label="Number of questions",
            initial=self.fields["count"].initial,
            min_value=DRILL_MIN_QUESTIONS,
            max_value=exam.question_count,
        )
        seconds = exam.minutes * 60 / exam.question_count
        self.fields[
            "timed"
        ].help_text = f"About {seconds / 60:.1f} minutes per question; untimed otherwise."

    def clean(self):
        data = super().clean()
        domains, tasks = set(data.get("domains") or []), data.get("tasks") or []
        stray = sorted(t for t in tasks if int(t.split(".")[0]) not in domains)
        if domains and stray:
            raise forms.ValidationError(
                f"Task statement {', '.join(stray)} is not in a chosen domain: choose its domain too, or untick it."
            )
        return data


class DomainDrillForm(forms.Form):
    """The one-click drill from a report: one domain of the exam, by number."""

    domain = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, exam: Exam, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [
            (n, str(n)) for n in exam.domains.order_by("number").values_list("number", flat=True)
        ]


class MissedPracticeForm(forms.Form):
    """Missed-question practice: an optional count from 1 to the exam's question count."""

    count = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, exam: Exam, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["count"].max_value = exam.question_count
        self.fields["count"].validators.append(MaxValueValidator(exam.question_count))

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)
