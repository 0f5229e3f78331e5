"""Rules about a person's own settings, and study groups: instructors create them and hand
out a join code; candidates join with it."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from accounts.models import GroupMembership, Profile, StudyGroup
from questions.models import Exam

# No 0/O, 1/I/L: a code read aloud or copied from a slide comes through intact.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 10  # 31**10 ≈ 8e14 codes: rate-limited guessing never finds one
MSG_GROUP_NAME = "Give the group a name (at most 120 characters)."
MSG_UNKNOWN_CODE = "No group has that code. Check it with your instructor and try again."
MSG_ALREADY_MEMBER = "You are already in {name}."
MSG_JOINED = "You joined {name}: your instructor can now see your results."


class GroupError(Exception):
    """A group action was refused; `message` is shown to the person."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def new_join_code() -> str:
    """A random join code of JOIN_CODE_LENGTH characters from JOIN_CODE_ALPHABET
    (`secrets`, so codes cannot be predicted from earlier ones)."""
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What a candidate typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -\t")


def _with_fresh_code(save) -> StudyGroup:
    # A clash with an existing code is astronomically rare; try again rather than fail.
    for _ in range(5):
        try:
            with transaction.atomic():
                return save(new_join_code())
        except IntegrityError:
            continue
    raise GroupError("Could not make a unique join code: try again.")


def study_group_create(*, name: str, exam, instructor) -> StudyGroup:
    """A new group for `exam` run by `instructor`, with a fresh join code. Raises
    GroupError(MSG_GROUP_NAME) for an empty or over-long name."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise GroupError(MSG_GROUP_NAME)

    def save(code: str) -> StudyGroup:
        group = StudyGroup.objects.create(name=name, exam=exam, join_code=code)
        group.instructors.add(instructor)
        return group

    return _with_fresh_code(save)


def study_group_regenerate_code(*, group: StudyGroup) -> StudyGroup:
    """Give the group a new join code: the old one stops working at once; members stay."""

    def save(code: str) -> StudyGroup:
        StudyGroup.objects.filter(pk=group.pk).update(join_code=code)
        group.join_code = code
        return group

    return _with_fresh_code(save)


def study_group_join(*, user, code: str) -> tuple[StudyGroup, bool]:
    """Add `user` to the group whose join code is `code` (case, spaces and dashes
    ignored). Returns (group, joined): joined is False when already a member. Raises
    GroupError(MSG_UNKNOWN_CODE) for a code no group has."""
    group = StudyGroup.objects.filter(join_code=normalise_code(code)).first()
    if group is None:
        raise GroupError(MSG_UNKNOWN_CODE)
    _, created = GroupMembership.objects.get_or_create(group=group, user=user)
    return group, created


@transaction.atomic
def profile_choose_exam(*, user, exam: Exam) -> Profile:
    """Remember `exam` as the exam `user`'s candidate pages are about (see
    exams.selectors.chosen_exam), creating the user's Profile on the first choice."""
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"exam": exam})
    return profile
