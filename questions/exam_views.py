"""The instructors' exams page (/instructor/exams/): every loaded exam with its numbers and
bank size. Blueprints are loaded through the uploads page, which previews them first."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import instructor_required
from questions.models import Exam, Question


@require_GET
@instructor_required
def exam_list(request: HttpRequest) -> HttpResponse:
    """Every exam by code, with its domain count and active questions (one query)."""
    exams = Exam.objects.annotate(
        domain_count=Count("domains", distinct=True),
        active_questions=Count(
            "domains__tasks__questions",
            filter=Q(domains__tasks__questions__status=Question.Status.ACTIVE),
            distinct=True,
        ),
    ).order_by("code")
    return render(request, "instructor/exams.html", {"exams": exams})
