"""The question bank that ships in fixtures/questions."""

from __future__ import annotations

from collections import Counter

import pytest

from exams.scoring import allocate_quotas
from questions.models import Question
from questions.services import bank_load
from tests.conftest import QUESTIONS

MOCKS_WITHOUT_REPEATS = 10  # a candidate can sit this many full mocks and meet no question twice
MIN_PER_TASK = 25


@pytest.fixture
def loaded(exam):
    return bank_load(paths=[QUESTIONS])


def test_every_shipped_question_is_valid_and_loads(loaded):
    assert loaded.created == Question.objects.count() > 0
    assert loaded.new_versions == loaded.metadata_updated == loaded.unchanged == 0


def test_loading_the_bank_again_changes_nothing(exam, loaded):
    again = bank_load(paths=[QUESTIONS])
    assert (again.created, again.new_versions, again.metadata_updated, again.unchanged) == (
        0,
        0,
        0,
        loaded.created,
    )


def test_each_domain_holds_ten_full_mocks_without_a_repeat(exam, loaded):
    quotas = allocate_quotas(
        exam.question_count, {d.number: d.weight_percent for d in exam.domains.all()}
    )
    held = Counter(
        Question.objects.filter(status="active").values_list("task__domain__number", flat=True)
    )
    for number, quota in quotas.items():
        assert held[number] >= MOCKS_WITHOUT_REPEATS * quota, (
            f"domain {number}: {held[number]} < {MOCKS_WITHOUT_REPEATS} x {quota}"
        )


def test_every_task_statement_is_covered(exam, loaded):
    held = Counter(Question.objects.values_list("task__code", flat=True))
    for task in exam.domains.values_list("tasks__code", flat=True):
        assert held[task] >= MIN_PER_TASK, f"task {task}: {held[task]} questions"


def test_multiple_response_questions_say_how_many_to_choose(loaded):
    multiple = Question.objects.filter(current_version__type="multiple").select_related(
        "current_version"
    )
    assert multiple.exists()
    for q in multiple:
        v = q.current_version
        word = {2: "two", 3: "three"}.get(v.select_count, str(v.select_count))
        assert f"Choose {word}" in " ".join(v.stem.split()), q.external_id
