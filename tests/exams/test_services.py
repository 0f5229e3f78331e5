from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from exams import services
from exams.models import Attempt, AttemptItem
from questions.models import Choice, Question
from tests.conftest import fill_bank
from tests.factories import AttemptFactory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def start(user, exam, *, seed=1, now=START) -> Attempt:
    return services.attempt_start_full_mock(user=user, exam=exam, now=now, rng=random.Random(seed))


def domain_counts(attempt: Attempt) -> dict[int, int]:
    return dict(Counter(attempt.items.values_list("question__task__domain__number", flat=True)))


def item(attempt: Attempt, position: int) -> AttemptItem:
    return AttemptItem.objects.select_related("attempt", "version", "question").get(
        attempt=attempt, position=position
    )


def first_of_type(attempt: Attempt, kind: str) -> AttemptItem:
    """The attempt's first item whose version is `kind` ("single" or "multiple")."""
    return (
        AttemptItem.objects.select_related("attempt", "version", "question")
        .filter(attempt=attempt, version__type=kind)
        .order_by("position")
        .first()
    )


def correct_ids(it: AttemptItem) -> list[int]:
    return list(
        Choice.objects.filter(version=it.version, is_correct=True).values_list("id", flat=True)
    )


def wrong_id(it: AttemptItem) -> int:
    return (
        Choice.objects.filter(version=it.version, is_correct=False)
        .values_list("id", flat=True)
        .first()
    )


class TestStartingAFullMock:
    def test_it_draws_the_blueprint_quota_per_domain(self, alice, exam, full_bank):
        attempt = start(alice, exam)
        assert domain_counts(attempt) == {1: 13, 2: 16, 3: 23, 4: 13}
        assert attempt.question_count == 65 and attempt.items.count() == 65
        assert list(attempt.items.order_by("position").values_list("position", flat=True)) == list(
            range(1, 66)
        )

    def test_the_clock_is_the_servers(self, alice, exam, full_bank):
        attempt = start(alice, exam)
        assert attempt.started_at == START
        assert attempt.deadline == START + timedelta(minutes=170)

    def test_question_order_mixes_domains_and_choice_order_is_stored_shuffled(
        self, alice, exam, full_bank
    ):
        attempt = start(alice, exam)
        domains = list(
            attempt.items.order_by("position").values_list(
                "question__task__domain__number", flat=True
            )
        )
        assert domains != sorted(domains)
        orders = list(attempt.items.values_list("question_id", "version_id", "choice_order"))
        current = dict(Question.objects.values_list("id", "current_version_id"))
        for question_id, version_id, order in orders:
            assert version_id == current[question_id]  # the question's current version
            assert sorted(order) == sorted(
                Choice.objects.filter(version_id=version_id).values_list("id", flat=True)
            )
        assert any(order != sorted(order) for _, _, order in orders)
        # A reload reads the same stored order.
        assert (
            list(attempt.items.values_list("question_id", "version_id", "choice_order")) == orders
        )

    def test_a_short_domain_is_named_with_its_shortfall_and_nothing_starts(self, alice, exam):
        fill_bank(exam, per_domain={1: 13, 2: 16, 3: 20, 4: 12})
        with pytest.raises(services.BankShortfall) as caught:
            start(alice, exam)
        assert (
            "Modeling needs 23 questions but the bank holds 20 (short by 3)" in caught.value.message
        )
        assert (
            "Machine Learning Implementation and Operations needs 13 questions but the bank holds 12 (short by 1)"
            in caught.value.message
        )
        assert "Data Engineering" not in caught.value.message
        assert not Attempt.objects.exists()

    def test_retired_questions_are_not_drawn(self, alice, exam, full_bank):
        Question.objects.filter(pk=full_bank[0].pk).update(status=Question.Status.RETIRED)
        with pytest.raises(
            services.BankShortfall,
            match=r"Data Engineering needs 13 questions but the bank holds 12",
        ):
            start(alice, exam)

    def test_only_one_full_mock_runs_at_a_time(self, alice, exam, full_bank):
        first = start(alice, exam)
        with pytest.raises(services.AttemptInProgress) as caught:
            start(alice, exam, seed=2)
        assert caught.value.attempt == first
        assert Attempt.objects.count() == 1

    def test_the_database_refuses_a_second_running_full_mock(self, alice, exam):
        AttemptFactory(user=alice, exam=exam)
        with pytest.raises(IntegrityError), transaction.atomic():
            AttemptFactory(user=alice, exam=exam)

    def test_an_expired_mock_does_not_block_a_new_one(self, alice, exam):
        fill_bank(exam, per_domain={1: 26, 2: 32, 3: 46, 4: 26})
        first = start(alice, exam)
        second = start(alice, exam, now=START + timedelta(minutes=171))
        first.refresh_from_db()
        # Nothing was answered, so the timed-out mock counts as abandoned.
        assert first.status == Attempt.Status.ABANDONED and first.timed_out
        assert second.status == Attempt.Status.IN_PROGRESS

    def test_it_prefers_questions_never_seen(self, alice, exam):
        fill_bank(exam, per_domain={1: 26, 2: 32, 3: 46, 4: 26})
        first = start(alice, exam, seed=1)
        services.attempt_submit(attempt=first, now=START + timedelta(minutes=5))
        second = start(alice, exam, seed=1, now=START + timedelta(hours=1))
        seen = set(first.items.values_list("question_id", flat=True))
        assert seen.isdisjoint(second.items.values_list("question_id", flat=True))

    def test_then_those_seen_least_recently(self, alice, exam):
        # 1.5 mocks' worth: the second mock reuses some of the first's; the third must
        # take every question last seen in the first mock before any seen in the second.
        fill_bank(exam, per_domain={1: 20, 2: 24, 3: 35, 4: 20})
        a = start(alice, exam, seed=1)
        services.attempt_submit(attempt=a, now=START + timedelta(minutes=1))
        b = start(alice, exam, seed=2, now=START + timedelta(hours=1))
        services.attempt_submit(attempt=b, now=START + timedelta(hours=1, minutes=1))
        c = start(alice, exam, seed=3, now=START + timedelta(hours=2))
        in_a = set(a.items.values_list("question_id", flat=True))
        in_b = set(b.items.values_list("question_id", flat=True))
        in_c = set(c.items.values_list("question_id", flat=True))
        never_seen_before_c = set(Question.objects.values_list("id", flat=True)) - in_a - in_b
        assert never_seen_before_c <= in_c  # every unseen question comes first
        assert (in_a - in_b) <= in_c  # then those last seen longest ago
        assert domain_counts(c) == {1: 13, 2: 16, 3: 23, 4: 13}

    def test_another_users_history_does_not_count(self, alice, bob, exam):
        fill_bank(exam, per_domain={1: 26, 2: 32, 3: 46, 4: 26})
        start(bob, exam, seed=1)
        attempt = start(alice, exam, seed=1)
        assert attempt.items.count() == 65


class TestAnswering:
    @pytest.fixture
    def attempt(self, alice, exam, full_bank):
        return start(alice, exam)

    def test_it_saves_and_clears_an_answer(self, attempt):
        it = item(attempt, 1)
        choice = it.choice_order[2]
        services.attempt_answer(
            item=it, revision=it.revision, choice_ids=[choice], now=START + timedelta(minutes=1)
        )
        assert item(attempt, 1).selected == [choice]
        assert item(attempt, 1).answered_at == START + timedelta(minutes=1)
        services.attempt_answer(
            item=item(attempt, 1),
            revision=item(attempt, 1).revision,
            choice_ids=[],
            now=START + timedelta(minutes=2),
        )
        assert item(attempt, 1).selected == []

    def test_it_refuses_more_choices_than_the_question_takes(self, attempt):
        multiple = first_of_type(attempt, "multiple")
        services.attempt_answer(
            item=multiple,
            revision=multiple.revision,
            choice_ids=multiple.choice_order[:2],
            now=START,
        )
        with pytest.raises(services.AnswerRefused, match="This question takes 2 answers"):
            services.attempt_answer(
                item=multiple,
                revision=multiple.revision,
                choice_ids=multiple.choice_order[:3],
                now=START,
            )
        multiple.refresh_from_db()
        assert multiple.selected == multiple.choice_order[:2]

    def test_fewer_than_required_is_saved(self, attempt):
        multiple = first_of_type(attempt, "multiple")
        services.attempt_answer(
            item=multiple,
            revision=multiple.revision,
            choice_ids=multiple.choice_order[:1],
            now=START,
        )
        multiple.refresh_from_db()
        assert multiple.selected == multiple.choice_order[:1]

    def test_a_single_answer_question_takes_one(self, attempt):
        single = first_of_type(attempt, "single")
        with pytest.raises(services.AnswerRefused, match="takes one answer"):
            services.attempt_answer(
                item=single, revision=single.revision, choice_ids=single.choice_order[:2], now=START
            )

    def test_a_choice_of_another_question_is_refused(self, attempt):
        other = item(attempt, 2).choice_order[0]
        with pytest.raises(services.AnswerRefused, match="not one of this question's choices"):
            services.attempt_answer(
                item=item(attempt, 1),
                revision=item(attempt, 1).revision,
                choice_ids=[other],
                now=START,
            )
        assert item(attempt, 1).selected == []

    def test_an_answer_after_the_deadline_is_refused_and_the_stored_one_kept(self, attempt):
        it = item(attempt, 1)
        services.attempt_answer(
            item=it,
            revision=it.revision,
            choice_ids=[it.choice_order[0]],
            now=START + timedelta(minutes=100),
        )
        late = START + timedelta(minutes=170, seconds=4)  # past the 3 s grace
        with pytest.raises(services.AttemptClosed, match="Time is up"):
            services.attempt_answer(
                item=item(attempt, 1),
                revision=item(attempt, 1).revision,
                choice_ids=[it.choice_order[1]],
                now=late,
            )
        assert item(attempt, 1).selected == [it.choice_order[0]]
        attempt.refresh_from_db()
        assert attempt.status == Attempt.Status.SUBMITTED and attempt.timed_out
        assert attempt.submitted_at == attempt.deadline

    def test_the_guarded_update_refuses_even_a_stale_in_memory_attempt(self, attempt):
        it = item(attempt, 1)  # loaded while in progress
        other = item(attempt, 2)
        services.attempt_answer(
            item=other, revision=0, choice_ids=other.choice_order[:1], now=START
        )
        services.attempt_submit(attempt=attempt, now=START + timedelta(minutes=3))
        it.attempt.status = Attempt.Status.IN_PROGRESS  # as a request that read it just before
        with pytest.raises(services.AttemptClosed, match="has been submitted"):
            services.attempt_answer(
                item=it,
                revision=it.revision,
                choice_ids=[it.choice_order[0]],
                now=START + timedelta(minutes=4),
            )
        assert item(attempt, 1).selected == []

    def test_flagging_sets_and_clears_and_is_refused_after_the_deadline(self, attempt):
        services.attempt_flag(item=item(attempt, 3), flagged=True, now=START)
        assert item(attempt, 3).flagged
        services.attempt_flag(item=item(attempt, 3), flagged=False, now=START)
        assert not item(attempt, 3).flagged
        with pytest.raises(services.AttemptClosed):
            services.attempt_flag(
                item=item(attempt, 3), flagged=True, now=START + timedelta(hours=3)
            )
        assert not item(attempt, 3).flagged


class TestSubmitting:
    @pytest.fixture
    def attempt(self, alice, exam, full_bank):
        return start(alice, exam)

    def test_it_scores_all_or_nothing_and_stores_the_result(self, attempt):
        items = list(attempt.items.select_related("attempt", "version").order_by("position"))
        for it in items[:50]:
            services.attempt_answer(
                item=it, revision=it.revision, choice_ids=correct_ids(it), now=START
            )
        for it in items[50:55]:
            services.attempt_answer(
                item=it, revision=it.revision, choice_ids=[wrong_id(it)], now=START
            )
        services.attempt_flag(item=items[0], flagged=True, now=START)
        done = services.attempt_submit(attempt=attempt, now=START + timedelta(minutes=90))
        assert (done.correct_count, done.passed, done.timed_out) == (50, True, False)
        assert float(done.score_percent) == 76.9
        assert done.result["answered"] == 55 and done.result["flagged"] == 1
        assert done.result["time_used_seconds"] == 90 * 60
        assert sum(d["total"] for d in done.result["domains"]) == 65
        assert [d["number"] for d in done.result["domains"]] == [1, 2, 3, 4]
        assert AttemptItem.objects.filter(attempt=attempt, is_correct=True).count() == 50
        assert AttemptItem.objects.filter(attempt=attempt, is_correct=False).count() == 15

    def test_submitting_twice_is_harmless(self, attempt):
        first = services.attempt_submit(attempt=attempt, now=START + timedelta(minutes=10))
        again = services.attempt_submit(attempt=attempt, now=START + timedelta(minutes=20))
        assert again.submitted_at == first.submitted_at == START + timedelta(minutes=10)
        assert again.result == first.result

    def test_a_later_bank_edit_does_not_rewrite_the_result(self, attempt):
        it = item(attempt, 1)
        services.attempt_answer(
            item=it, revision=it.revision, choice_ids=correct_ids(it), now=START
        )
        done = services.attempt_submit(attempt=attempt, now=START + timedelta(minutes=10))
        Choice.objects.filter(version__question=it.question).update(is_correct=False)
        attempt.refresh_from_db()
        assert attempt.correct_count == done.correct_count == 1
        assert item(attempt, 1).is_correct is True

    def test_expire_due_submits_attempts_whose_time_ran_out(self, alice, attempt):
        it = item(attempt, 1)
        services.attempt_answer(item=it, revision=0, choice_ids=it.choice_order[:1], now=START)
        assert (
            services.attempts_expire_due(user_id=alice.pk, now=START + timedelta(minutes=169)) == 0
        )
        with time_machine.travel(START + timedelta(minutes=171), tick=False):
            assert services.attempts_expire_due(user_id=alice.pk) == 1
        attempt.refresh_from_db()
        assert attempt.status == Attempt.Status.SUBMITTED and attempt.timed_out
        assert attempt.result["time_used_seconds"] == 170 * 60
