"""Forms of the instructors' question bank pages: uploading files and applying a preview."""

from __future__ import annotations

from django import forms

from exams.selectors import default_exam
from questions import formats
from questions.models import Exam, TaskStatement

MSG_NO_FILES = "Choose at least one file."
FORMAT_LABELS = {"yaml": "YAML", "gift": "GIFT", "aiken": "Aiken", "xml": "Moodle XML"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern for `multiple`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class BankUploadForm(forms.Form):
    """Files and the choices a file cannot make for itself (see bankfile.ReadOptions)."""

    files = MultipleFileField(
        label="Question or blueprint files",
        required=False,
        help_text="Question files (YAML, GIFT, Aiken or Moodle XML) and exam blueprints (YAML).",
    )
    format = forms.ChoiceField(
        required=False,
        label="Format",
        help_text="By file name: .yaml/.yml, .gift, .aiken, .xml. Choose one for .txt files.",
    )
    exam = forms.ModelChoiceField(
        queryset=Exam.objects.order_by("code"),
        to_field_name="code",
        required=False,
        label="Exam",
        help_text="For formats whose files do not name their exam (YAML files do).",
    )
    default_task = forms.ChoiceField(
        required=False,
        label="Default task statement",
        help_text="Where questions go when their file gives no category (GIFT, Aiken, XML).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [("", "By file name")] + [
            (fmt, FORMAT_LABELS.get(fmt, fmt)) for fmt in formats.SUFFIXES
        ]
        self.fields["exam"].empty_label = None
        self.fields["exam"].initial = default_exam()
        tasks = TaskStatement.objects.select_related("domain__exam").order_by(
            "domain__exam__code", "domain__number", "code"
        )
        self.fields["default_task"].choices = [("", "None")] + [
            (t.code, f"{t.domain.exam.code} {t.code} {t.name}") for t in tasks
        ]

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if not files:
            raise forms.ValidationError(MSG_NO_FILES)
        return files


class ApplyForm(forms.Form):
    """What the instructor asks of Apply beyond the plan: retiring, and its confirmation."""

    retire = forms.BooleanField(required=False)
    confirm_mass_retire = forms.BooleanField(required=False)
