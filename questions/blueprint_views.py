"""The instructors' blueprint page (/instructor/blueprint/): upload another exam's
blueprint (or a new version of one) and see every exam that is loaded."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.permissions import instructor_required
from questions.bankfile import MAX_FILE_BYTES, MSG_FILE_TOO_BIG
from questions.models import Exam, Question
from questions.services import BlueprintError, blueprint_load_text

MSG_BLUEPRINT_LOADED = (
    "Loaded blueprint {code} ({name}): {count} questions in {minutes} minutes, "
    "pass mark {pass_mark}%, {domains} domains."
)
MSG_NOT_UTF8 = "{name}: is not UTF-8 text; save it as UTF-8 and upload it again"


class BlueprintUploadForm(forms.Form):
    file = forms.FileField(
        label="Blueprint file (YAML)",
        help_text="The same form as fixtures/blueprint/mls-c01.yaml.",
        error_messages={"required": "Choose a blueprint file to upload."},
    )


def _read_upload(upload) -> str:
    """The upload's text; BlueprintError when it is too big or not UTF-8."""
    if upload.size > MAX_FILE_BYTES:
        problem = MSG_FILE_TOO_BIG.format(size=upload.size, limit=MAX_FILE_BYTES)
        raise BlueprintError([f"{upload.name}: {problem}"])
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise BlueprintError([MSG_NOT_UTF8.format(name=upload.name)]) from None


@instructor_required
@require_http_methods(["GET", "POST"])
def blueprint_upload(request: HttpRequest) -> HttpResponse:
    """GET: the loaded exams and the upload form; POST: load the uploaded blueprint (all or
    nothing), then show the page again with what was loaded or every problem found."""
    posted = request.method == "POST"
    form = BlueprintUploadForm(request.POST, request.FILES) if posted else BlueprintUploadForm()
    problems: list[str] = []
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            exam = blueprint_load_text(text=_read_upload(upload), name=upload.name)
        except BlueprintError as exc:
            problems = exc.problems
        else:
            messages.success(
                request,
                MSG_BLUEPRINT_LOADED.format(
                    code=exam.code,
                    name=exam.name,
                    count=exam.question_count,
                    minutes=exam.minutes,
                    pass_mark=exam.pass_mark_percent,
                    domains=exam.domains.count(),
                ),
            )
            return redirect("instructor:blueprint_upload")
    exams = Exam.objects.annotate(
        domain_count=Count("domains", distinct=True),
        active_questions=Count(
            "domains__tasks__questions",
            filter=Q(domains__tasks__questions__status=Question.Status.ACTIVE),
            distinct=True,
        ),
    ).order_by("code")
    context = {"form": form, "problems": problems, "exams": exams}
    status = 422 if problems or form.errors else 200
    return render(request, "questions/blueprint_upload.html", context, status=status)
