"""The benchmark's simulated exam history: submitted full mocks stored and scored as the exam
engine stores them, drawn by the blueprint, and the same for the same seed."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import timezone

from exams.models import Attempt, AttemptItem
from exams.scoring import allocate_quotas, item_is_correct, meets, percent
from exams.services import attempt_answer, attempt_start_full_mock, attempt_submit
from questions.models import Choice, QuestionVersion
from scripts.benchmark_data import (
    COHORT_MODEL,
    PROBE_MODEL,
    ResponseModel,
    add_submitted_mocks,
)
from tests.conftest import fill_bank
from tests.factories import UserFactory

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def bank(exam):
    """Twice a full mock's quota per domain, one question in five asking for two choices,
    and one question edited since its first version (its current version is 2)."""
    quotas = allocate_quotas(
        exam.question_count, {d.number: d.weight_percent for d in exam.domains.all()}
    )
    questions = fill_bank(exam, per_domain={n: 2 * k for n, k in quotas.items()})
    edited = questions[0]
    old = edited.current_version
    new = QuestionVersion.objects.create(
        question=edited, number=2, stem=old.stem + " (edited)", explanation=old.explanation
    )
    Choice.objects.bulk_create(
        Choice(version=new, position=c.position, text=c.text, is_correct=c.is_correct)
        for c in old.choices.all()
    )
    edited.current_version = new
    edited.save(update_fields=["current_version"])
    return questions


def _keys() -> dict[int, set[int]]:
    keys: dict[int, set[int]] = {}
    for version_id, choice_id in Choice.objects.filter(is_correct=True).values_list(
        "version_id", "id"
    ):
        keys.setdefault(version_id, set()).add(choice_id)
    return keys


def test_generated_mocks_carry_the_same_result_as_a_mock_submitted_through_the_engine(exam, bank):
    engine_user, candidate = UserFactory(), UserFactory()
    started = attempt_start_full_mock(user=engine_user, exam=exam, rng=random.Random(3))
    for item in started.items.select_related("attempt", "version"):
        attempt_answer(
            item=item, choice_ids=item.choice_order[: item.version.select_count], revision=0
        )
    submitted = attempt_submit(attempt=started)

    add_submitted_mocks([candidate], mocks=4, seed=1, model=COHORT_MODEL, now=NOW)

    generated = list(Attempt.objects.filter(user=candidate))
    assert len(generated) == 4
    for attempt in generated:
        assert attempt.status == Attempt.Status.SUBMITTED
        assert attempt.mode == Attempt.Mode.FULL
        assert sorted(attempt.result) == sorted(submitted.result)
        assert [sorted(d) for d in attempt.result["domains"]] == [
            sorted(d) for d in submitted.result["domains"]
        ]
        assert {tuple(sorted(t)) for t in attempt.result["tasks"]} <= {
            tuple(sorted(t)) for t in submitted.result["tasks"]
        }


def test_each_generated_score_is_the_score_of_its_items(exam, bank):
    candidate = UserFactory()
    add_submitted_mocks([candidate], mocks=6, seed=4, model=COHORT_MODEL, now=NOW)

    keys = _keys()
    for attempt in Attempt.objects.filter(user=candidate):
        items = list(attempt.items.all())
        right = [item_is_correct(i.selected, keys[i.version_id]) for i in items]
        assert [i.is_correct for i in items] == right
        assert attempt.correct_count == attempt.result["correct"] == sum(right)
        assert attempt.score_percent == Decimal(str(percent(sum(right), len(items))))
        assert attempt.passed == meets(sum(right), len(items), exam.pass_mark_percent)
        assert attempt.result["flagged"] == sum(i.flagged for i in items)
        assert attempt.result["answered"] == sum(1 for i in items if i.selected)
        used = attempt.result["time_used_seconds"]
        assert used == (attempt.submitted_at - attempt.started_at).total_seconds()
        assert sum(i.time_spent_seconds for i in items) <= used


def test_every_generated_mock_follows_the_blueprint_and_pins_current_versions(exam, bank):
    candidate = UserFactory()
    add_submitted_mocks([candidate], mocks=5, seed=5, now=NOW)

    quotas = allocate_quotas(
        exam.question_count, {d.number: d.weight_percent for d in exam.domains.all()}
    )
    choice_ids: dict[int, set[int]] = {}
    for version_id, choice_id in Choice.objects.values_list("version_id", "id"):
        choice_ids.setdefault(version_id, set()).add(choice_id)
    for attempt in Attempt.objects.filter(user=candidate):
        items = list(attempt.items.select_related("question__task__domain", "version"))
        assert sorted(i.position for i in items) == list(range(1, exam.question_count + 1))
        assert Counter(i.question.task.domain.number for i in items) == quotas
        for item in items:
            assert item.version_id == item.question.current_version_id
            assert set(item.choice_order) == choice_ids[item.version_id]
            # Stored in the order shown, at most as many as the question asks for.
            assert item.selected == [c for c in item.choice_order if c in item.selected]
            assert 1 <= len(item.selected) <= item.version.select_count


def test_generated_mocks_go_back_one_every_one_or_two_days_without_overlapping(exam, bank):
    alice, bob = UserFactory(), UserFactory()
    add_submitted_mocks([alice, bob], mocks=8, seed=6, now=NOW)

    for user in (alice, bob):
        attempts = list(Attempt.objects.filter(user=user).order_by("started_at"))
        assert len(attempts) == 8
        assert attempts[-1].started_at <= NOW - timedelta(days=1)
        for earlier, later in pairwise(attempts):
            assert earlier.submitted_at < later.started_at
            assert timedelta(hours=12) < later.started_at - earlier.started_at < timedelta(days=3)
        for attempt in attempts:
            assert attempt.started_at < attempt.submitted_at <= attempt.deadline
    stamps = list(Attempt.objects.values_list("submitted_at", flat=True))
    assert len(set(stamps)) == len(stamps) == 16


def test_the_same_seed_gives_the_same_history_and_another_seed_another(exam, bank):
    candidate = UserFactory()

    def history(seed: int) -> list[tuple]:
        add_submitted_mocks([candidate], mocks=3, seed=seed, now=NOW)
        rows = list(
            AttemptItem.objects.filter(attempt__user=candidate)
            .order_by("attempt__started_at", "position")
            .values_list(
                "attempt_id",
                "question_id",
                "choice_order",
                "selected",
                "flagged",
                "time_spent_seconds",
                "attempt__submitted_at",
            )
        )
        Attempt.objects.filter(user=candidate).delete()
        return rows

    first = history(7)
    assert history(7) == first
    assert history(8) != first


def test_the_probe_candidate_answers_about_two_thirds_right(exam, bank):
    candidate = UserFactory()
    written = add_submitted_mocks([candidate], mocks=30, seed=2, model=PROBE_MODEL, now=NOW)

    assert written.attempts == 30
    assert written.items == 30 * exam.question_count
    assert AttemptItem.objects.filter(is_correct=True).count() == written.correct
    assert 0.58 <= written.correct / written.items <= 0.75


def test_the_response_model_is_the_one_parameter_logistic():
    model = ResponseModel()
    assert model.p_right(0.3, 0.3) == 0.5
    assert model.p_right(1.0, 0.0) == pytest.approx(0.7310585786)
    assert model.p_right(0.0, 1.0) == pytest.approx(1 - 0.7310585786)


def test_a_bank_too_small_for_a_full_mock_is_refused_and_nothing_is_written(exam):
    fill_bank(exam, per_domain={1: 40, 2: 40, 3: 5, 4: 40})

    with pytest.raises(ValueError, match="domain 3: 5 of 23"):
        add_submitted_mocks([UserFactory()], mocks=1, seed=1)
    assert not Attempt.objects.exists()
