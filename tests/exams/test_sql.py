"""The exam loop's hand-written UPDATEs store exactly what the ORM would, and their guards
hold on both databases."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from exams import services, sql
from exams.models import Attempt, AttemptItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(alice, exam, full_bank) -> Attempt:
    return services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(5))


def answer(item: AttemptItem, *, revision: int = 0, open_after=None, selected=None) -> int:
    now = timezone.now()
    return sql.item_answer_if_open(
        item_id=item.pk,
        revision=revision,
        selected=selected if selected is not None else item.choice_order[:2],
        answered_at=now,
        open_after=open_after or now,
    )


def test_an_answer_is_stored_as_the_orm_reads_it(attempt):
    item = attempt.items.get(position=1)
    before = timezone.now()
    assert answer(item) == 1
    stored = AttemptItem.objects.get(pk=item.pk)
    assert stored.selected == item.choice_order[:2]
    assert stored.revision == 1 and before <= stored.answered_at <= timezone.now()
    # The ORM's own lookups see the JSON it wrote.
    assert AttemptItem.objects.filter(attempt=attempt).exclude(selected=[]).count() == 1
    assert answer(stored, revision=1, selected=[]) == 1
    assert AttemptItem.objects.filter(attempt=attempt).exclude(selected=[]).count() == 0


def test_an_answer_is_refused_for_a_stale_revision_or_a_revealed_item(attempt):
    item = attempt.items.get(position=1)
    assert answer(item, revision=3) == 0
    AttemptItem.objects.filter(pk=item.pk).update(revealed=True)
    assert answer(item) == 0
    assert AttemptItem.objects.get(pk=item.pk).selected == []


@pytest.mark.parametrize("end", [services.attempt_submit, services.attempt_abandon])
def test_an_answer_is_refused_once_the_attempt_has_ended(attempt, end):
    item = attempt.items.get(position=1)
    answer(item)  # a full mock with no answer would end as abandoned either way
    end(attempt=attempt)
    assert answer(attempt.items.get(position=2)) == 0
    assert AttemptItem.objects.get(attempt=attempt, position=2).selected == []


def test_an_answer_is_refused_after_the_deadline_and_taken_before_it(attempt):
    item = attempt.items.get(position=1)
    assert answer(item, open_after=attempt.deadline + timedelta(seconds=1)) == 0
    assert answer(item, open_after=attempt.deadline - timedelta(seconds=1)) == 1


def test_an_untimed_attempt_takes_answers_whenever(attempt):
    Attempt.objects.filter(pk=attempt.pk).update(deadline=None)
    far = timezone.now() + timedelta(days=365)
    assert answer(attempt.items.get(position=1), open_after=far) == 1


def test_a_visit_adds_time_to_the_question_left_and_a_visit_to_the_one_reached(attempt):
    sql.items_add_visit(attempt_id=attempt.pk, leaving=2, spent=40, arriving=3)
    sql.items_add_visit(attempt_id=attempt.pk, leaving=3, spent=5, arriving=2)
    sql.items_add_visit(attempt_id=attempt.pk, leaving=None, spent=0, arriving=2)
    sql.items_add_visit(attempt_id=attempt.pk, leaving=2, spent=7, arriving=None)
    rows = dict(
        (p, (t, v))
        for p, t, v in attempt.items.filter(position__in=[1, 2, 3]).values_list(
            "position", "time_spent_seconds", "visits"
        )
    )
    assert rows == {1: (0, 0), 2: (47, 2), 3: (5, 1)}


def test_a_reload_of_the_same_question_adds_its_time_and_a_visit_in_one_row(attempt):
    sql.items_add_visit(attempt_id=attempt.pk, leaving=4, spent=12, arriving=4)
    assert attempt.items.values_list("time_spent_seconds", "visits").get(position=4) == (12, 1)


def test_a_move_is_a_compare_and_set_on_the_position_and_its_arrival_time(attempt):
    arrived = timezone.now()
    assert sql.attempt_move_if_unchanged(
        attempt_id=attempt.pk, position=1, since=None, to_position=2, arrived=arrived
    )
    # A second tab that read the same state moves nothing.
    assert not sql.attempt_move_if_unchanged(
        attempt_id=attempt.pk, position=1, since=None, to_position=3, arrived=arrived
    )
    later = arrived + timedelta(seconds=30)
    assert not sql.attempt_move_if_unchanged(
        attempt_id=attempt.pk, position=2, since=later, to_position=3, arrived=later
    )
    assert sql.attempt_move_if_unchanged(
        attempt_id=attempt.pk, position=2, since=arrived, to_position=3, arrived=later
    )
    attempt.refresh_from_db()
    assert (attempt.current_position, attempt.position_since) == (3, later)


def test_an_ended_attempt_does_not_move(attempt):
    answer(attempt.items.get(position=1))
    services.attempt_submit(attempt=attempt)
    attempt.refresh_from_db()
    assert not sql.attempt_move_if_unchanged(
        attempt_id=attempt.pk,
        position=attempt.current_position,
        since=attempt.position_since,
        to_position=5,
        arrived=timezone.now(),
    )
