"""Drills, immediate feedback and missed-question practice: the full mock's engine."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from exams import selectors, services
from exams.models import Attempt, AttemptItem
from questions.models import Choice
from tests.conftest import fill_bank

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def big_bank(exam):
    return fill_bank(exam, per_domain={1: 30, 2: 30, 3: 40, 4: 30})


def drill(user, exam, *, now=START, seed=1, **kwargs):
    options = {
        "domain_numbers": [3],
        "count": 10,
        "timed": True,
        "feedback": Attempt.Feedback.IMMEDIATE,
    }
    options.update(kwargs)
    return services.attempt_start_drill(
        user=user, exam=exam, now=now, rng=random.Random(seed), **options
    )


def domains_of(attempt):
    return Counter(attempt.items.values_list("question__task__domain__number", flat=True))


def items(attempt):
    return list(attempt.items.select_related("attempt", "version", "question").order_by("position"))


def answer(it, *, right: bool, now=START):
    correct = set(
        Choice.objects.filter(version=it.version, is_correct=True).values_list("id", flat=True)
    )
    choice = sorted(correct) if right else [c for c in it.choice_order if c not in correct][:1]
    services.attempt_answer(item=it, revision=it.revision, choice_ids=choice, now=now)


class TestDrills:
    def test_a_one_domain_drill_draws_only_that_domain_at_the_exam_pace(
        self, alice, exam, big_bank
    ):
        started = drill(alice, exam)
        attempt = started.attempt
        assert started.note is None
        assert attempt.mode == Attempt.Mode.DRILL and attempt.question_count == 10
        assert domains_of(attempt) == {3: 10}
        # 170 minutes for 65 questions: 10 questions get 26 minutes 9 seconds.
        assert attempt.deadline - attempt.started_at == timedelta(minutes=170 * 10 / 65)

    def test_several_domains_follow_their_relative_weights(self, alice, exam, big_bank):
        attempt = drill(alice, exam, domain_numbers=[1, 3], count=28).attempt
        assert domains_of(attempt) == {1: 10, 3: 18}  # 20:36 of 28

    def test_task_statements_narrow_their_domain_only(self, alice, exam, big_bank):
        attempt = drill(alice, exam, domain_numbers=[1, 3], task_codes=["3.2"], count=20).attempt
        tasks = Counter(attempt.items.values_list("question__task__code", flat=True))
        assert {t for t in tasks if t.startswith("3.")} == {"3.2"}
        assert sum(n for t, n in tasks.items() if t.startswith("1.")) > 0

    def test_a_task_outside_the_chosen_domains_is_refused(self, alice, exam, big_bank):
        with pytest.raises(services.ExamError, match="belongs to a domain you did not choose"):
            drill(alice, exam, domain_numbers=[1], task_codes=["3.2"])

    def test_more_than_the_bank_holds_is_capped_with_a_message(self, alice, exam, big_bank):
        started = drill(alice, exam, domain_numbers=[3], task_codes=["3.1"], count=30)
        assert started.attempt.question_count == 8  # 40 questions spread over 5 task statements
        assert started.note == services.MSG_COUNT_CAPPED.format(asked=30, held=8)

    def test_an_untimed_drill_has_no_deadline(self, alice, exam, big_bank):
        assert drill(alice, exam, timed=False).attempt.deadline is None

    def test_drills_also_prefer_unseen_questions(self, alice, exam, big_bank):
        first = drill(alice, exam, count=20).attempt
        second = drill(alice, exam, count=20, now=START + timedelta(hours=1), seed=2).attempt
        assert not set(first.items.values_list("question_id", flat=True)) & set(
            second.items.values_list("question_id", flat=True)
        )

    def test_drills_may_run_beside_a_full_mock(self, alice, exam, big_bank):
        services.attempt_start_full_mock(user=alice, exam=exam, now=START)
        drill(alice, exam)
        assert Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).count() == 2


class TestImmediateFeedback:
    def test_checking_reveals_scores_and_locks_the_answer(self, alice, exam, big_bank):
        attempt = drill(alice, exam).attempt
        it = items(attempt)[0]
        answer(it, right=True)
        services.attempt_reveal(item=it, now=START)
        it.refresh_from_db()
        assert it.revealed and it.is_correct is True
        fresh = items(attempt)[0]
        with pytest.raises(services.AnswerRefused, match="revealed"):
            services.attempt_answer(item=fresh, revision=fresh.revision, choice_ids=[], now=START)
        assert AttemptItem.objects.get(pk=it.pk).selected

    def test_nothing_is_revealed_before_an_answer(self, alice, exam, big_bank):
        it = items(drill(alice, exam).attempt)[0]
        with pytest.raises(services.AnswerRefused, match="Choose an answer"):
            services.attempt_reveal(item=it, now=START)

    def test_an_end_of_attempt_drill_reveals_nothing(self, alice, exam, big_bank):
        it = items(drill(alice, exam, feedback=Attempt.Feedback.AT_END).attempt)[0]
        answer(it, right=False)
        with pytest.raises(services.AnswerRefused, match="at the end"):
            services.attempt_reveal(item=it, now=START)

    def test_submission_scores_revealed_and_unrevealed_alike(self, alice, exam, big_bank):
        attempt = drill(alice, exam).attempt
        its = items(attempt)
        answer(its[0], right=True)
        services.attempt_reveal(item=its[0], now=START)
        answer(its[1], right=True)
        answer(its[2], right=False)
        done = services.attempt_submit(attempt=attempt, now=START + timedelta(minutes=5))
        assert done.correct_count == 2 and done.result["domains"][0]["number"] == 3


class TestMissedPool:
    def submitted_drill(self, user, exam, outcomes, *, at, flag=()):
        """A 5-question untimed drill on domain 1 answered per `outcomes` (True/False/None)."""
        attempt = services.attempt_start_drill(
            user=user,
            exam=exam,
            domain_numbers=[1],
            count=len(outcomes),
            timed=False,
            feedback=Attempt.Feedback.AT_END,
            now=at,
            rng=random.Random(1),
        ).attempt
        for it, outcome in zip(items(attempt), outcomes, strict=True):
            if outcome is not None:
                answer(it, right=outcome, now=at)
            if it.position in flag:
                services.attempt_flag(item=it, flagged=True, now=at)
        services.attempt_submit(attempt=attempt, now=at + timedelta(minutes=1))
        return attempt

    def test_wrong_and_flagged_questions_enter_unanswered_ones_do_not(self, alice, exam):
        fill_bank(exam, per_domain={1: 5})
        attempt = self.submitted_drill(
            alice, exam, [True, False, None, True, False], at=START, flag=(1,)
        )
        pool = selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk)
        expected = {it.question_id for it in items(attempt) if it.position in (1, 2, 5)}
        assert set(pool) == expected and set(pool.values()) == {1}

    def test_a_question_leaves_after_two_correct_answers_in_a_row(self, alice, exam):
        fill_bank(exam, per_domain={1: 1})
        self.submitted_drill(alice, exam, [False], at=START)
        self.submitted_drill(alice, exam, [True], at=START + timedelta(hours=1))
        assert len(selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk)) == 1
        self.submitted_drill(
            alice, exam, [False], at=START + timedelta(hours=2)
        )  # the streak restarts
        self.submitted_drill(alice, exam, [True], at=START + timedelta(hours=3))
        assert len(selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk)) == 1
        self.submitted_drill(alice, exam, [True], at=START + timedelta(hours=4))
        assert selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk) == {}

    def test_missed_practice_draws_from_the_pool_only(self, alice, bob, exam):
        fill_bank(exam, per_domain={1: 5})
        first = self.submitted_drill(alice, exam, [False, True, True, False, True], at=START)
        self.submitted_drill(bob, exam, [False] * 5, at=START)
        started = services.attempt_start_missed(
            user=alice, exam=exam, count=10, now=START + timedelta(hours=1)
        )
        missed = {it.question_id for it in items(first) if it.position in (1, 4)}
        assert set(started.attempt.items.values_list("question_id", flat=True)) == missed
        assert started.attempt.mode == Attempt.Mode.MISSED
        # Nobody chose a count on the dashboard's button: the note says why there are 2.
        assert started.note == services.MSG_MISSED_ALL.format(held=2, s="s")
        assert "You have 2 missed or flagged questions to practise" in started.note

    def test_missed_practice_needs_a_pool(self, alice, exam, big_bank):
        with pytest.raises(services.BankShortfall, match="no missed or flagged questions"):
            services.attempt_start_missed(user=alice, exam=exam, count=10, now=START)
