"""Rules about a person's own settings."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Profile
from questions.models import Exam


@transaction.atomic
def profile_choose_exam(*, user, exam: Exam) -> Profile:
    """Remember `exam` as the exam `user`'s candidate pages are about (see
    exams.selectors.chosen_exam), creating the user's Profile on the first choice."""
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"exam": exam})
    return profile
