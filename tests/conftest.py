from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.cache import caches
from hypothesis import settings

from exams.scoring import allocate_quotas
from exams.selectors import STANDING_CACHE
from questions.models import Exam, Question
from questions.services import blueprint_load_file
from tests.factories import QuestionFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM
# calls from it for the live-server browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Property tests check behaviour, not speed: a pause on a busy machine must not fail them.
settings.register_profile("mlsprep", deadline=None)
settings.load_profile("mlsprep")

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINT = ROOT / "fixtures" / "blueprint" / "mls-c01.yaml"
QUESTIONS = ROOT / "fixtures" / "questions"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def _forget_memoised_standings():
    """Each test's database starts again from the same ids and revisions, so a standing
    memoised by an earlier test could match a later test's stamps: forget them."""
    caches[STANDING_CACHE].clear()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def exam(db) -> Exam:
    """The shipped MLS-C01 blueprint: 65 questions, 170 minutes, four weighted domains."""
    return blueprint_load_file(path=BLUEPRINT)


def fill_bank(
    exam: Exam, *, per_domain: dict[int, int] | None = None, multiple_every: int = 5
) -> list[Question]:
    """Create active questions for each domain: by default exactly a full mock's quota."""
    domains = list(exam.domains.prefetch_related("tasks").order_by("number"))
    quotas = allocate_quotas(exam.question_count, {d.number: d.weight_percent for d in domains})
    created = []
    for domain in domains:
        tasks = list(domain.tasks.all())
        for i in range((per_domain or quotas).get(domain.number, 0)):
            kwargs = (
                {"type": "multiple", "select_count": 2}
                if multiple_every and i % multiple_every == 4
                else {}
            )
            created.append(
                QuestionFactory(
                    external_id=f"d{domain.number}-q-{i:03d}", task=tasks[i % len(tasks)], **kwargs
                )
            )
    return created


@pytest.fixture
def full_bank(exam) -> list[Question]:
    return fill_bank(exam)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def carol(db):
    """An instructor (in the Instructors group, not staff)."""
    from tests.instructors import make_instructor

    return make_instructor("carol")


@pytest.fixture
def dave(db):
    """Another instructor, who runs other groups than carol's."""
    from tests.instructors import make_instructor

    return make_instructor("dave")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
