"""Time spent per question, kept by the server in the writes that move the position."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from exams import services
from exams.models import Attempt, AttemptItem

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def attempt(clock, alice, exam, full_bank) -> Attempt:
    return services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(3))


def question_url(attempt: Attempt, position: int) -> str:
    return reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": position})


def times(attempt: Attempt) -> dict[int, tuple[int, int]]:
    """position → (seconds, visits), for the items visited at least once."""
    return {
        p: (s, v)
        for p, s, v in attempt.items.values_list("position", "time_spent_seconds", "visits")
        if v or s
    }


class TestTimePerQuestion:
    def test_time_adds_up_over_several_visits_and_a_reload_adds_nothing(
        self, clock, alice_client, attempt
    ):
        alice_client.get(question_url(attempt, 1))
        clock.shift(timedelta(seconds=40))
        alice_client.get(question_url(attempt, 1))  # a reload: the visit goes on
        clock.shift(timedelta(seconds=20))
        alice_client.get(question_url(attempt, 2))
        clock.shift(timedelta(seconds=15))
        alice_client.get(question_url(attempt, 1))
        clock.shift(timedelta(seconds=30))
        alice_client.get(question_url(attempt, 3))
        assert times(attempt) == {1: (90, 2), 2: (15, 1), 3: (0, 1)}

    def test_a_reload_writes_nothing(self, clock, alice_client, attempt, django_assert_num_queries):
        alice_client.get(question_url(attempt, 4))
        clock.shift(timedelta(seconds=50))
        # session, user, item + attempt + version, choices, navigator: no UPDATE
        with django_assert_num_queries(5):
            alice_client.get(question_url(attempt, 4))
        assert times(attempt) == {4: (0, 1)}

    def test_a_move_costs_the_two_updates_whatever_the_time_kept(
        self, clock, alice_client, attempt, django_assert_num_queries
    ):
        alice_client.get(question_url(attempt, 1))
        clock.shift(timedelta(seconds=12))
        # ... plus the attempt's position and arrival, and the two items in one UPDATE
        with django_assert_num_queries(7):
            alice_client.get(question_url(attempt, 2))
        clock.shift(timedelta(seconds=12))
        with django_assert_num_queries(7):
            alice_client.get(question_url(attempt, 3))
        assert times(attempt) == {1: (12, 1), 2: (12, 1), 3: (0, 1)}

    def test_one_visit_counts_at_most_the_maximum_and_never_less_than_nothing(
        self, clock, alice_client, attempt, settings
    ):
        settings.MAX_VISIT_SECONDS = 600
        alice_client.get(question_url(attempt, 1))
        clock.shift(timedelta(hours=1))  # a tab left open over lunch
        alice_client.get(question_url(attempt, 2))
        clock.shift(timedelta(seconds=-30))  # the server's clock stepped back
        alice_client.get(question_url(attempt, 3))
        assert times(attempt) == {1: (600, 1), 2: (0, 1), 3: (0, 1)}

    def test_next_and_previous_posts_move_the_visit_like_the_navigator(
        self, clock, alice_client, attempt
    ):
        alice_client.get(question_url(attempt, 5))
        clock.shift(timedelta(seconds=25))
        it = AttemptItem.objects.get(attempt=attempt, position=5)
        data = {"revision": it.revision, "drawn": "", "go": "next"}
        response = alice_client.post(
            reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 5}),
            data,
            **HTMX,
        )
        assert response.status_code == 200
        assert response["HX-Push-Url"] == question_url(attempt, 6)
        assert "Question 6 of 65" in response.content.decode()
        clock.shift(timedelta(seconds=5))
        data["go"] = "previous"
        alice_client.post(
            reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 6}), data
        )
        alice_client.get(question_url(attempt, 5))
        assert times(attempt) == {5: (25, 2), 6: (5, 1)}

    def test_the_review_screen_closes_the_visit_and_a_return_opens_a_new_one(
        self, clock, alice_client, attempt
    ):
        alice_client.get(question_url(attempt, 7))
        clock.shift(timedelta(seconds=33))
        alice_client.get(reverse("exams:review", kwargs={"attempt_id": attempt.pk}))
        clock.shift(timedelta(minutes=5))  # reading the review screen is no question's time
        alice_client.get(question_url(attempt, 7))
        clock.shift(timedelta(seconds=7))
        alice_client.get(question_url(attempt, 8))
        assert times(attempt) == {7: (40, 2), 8: (0, 1)}

    def test_submission_closes_the_last_visit(self, clock, alice_client, attempt):
        alice_client.get(question_url(attempt, 9))
        clock.shift(timedelta(seconds=44))
        alice_client.post(
            reverse("exams:submit", kwargs={"attempt_id": attempt.pk}), {"confirm": "yes"}
        )
        assert times(attempt) == {9: (44, 1)}
        attempt.refresh_from_db()
        assert attempt.position_since is None

    def test_a_timed_out_attempt_counts_the_last_visit_up_to_its_deadline(
        self, clock, alice_client, attempt, settings
    ):
        settings.MAX_VISIT_SECONDS = 3600
        alice_client.get(question_url(attempt, 10))
        clock.move_to(attempt.deadline - timedelta(seconds=20))
        alice_client.get(question_url(attempt, 11))
        clock.move_to(attempt.deadline + timedelta(minutes=30))
        services.attempts_expire_due(user_id=attempt.user_id)
        attempt.refresh_from_db()
        assert attempt.timed_out
        assert times(attempt)[11] == (20, 1)

    def test_the_report_shows_the_time_per_question_and_the_five_slowest(
        self, clock, alice_client, attempt
    ):
        first = AttemptItem.objects.select_related("attempt", "version").get(
            attempt=attempt, position=1
        )
        services.attempt_answer(item=first, choice_ids=first.choice_order[:1], revision=0)
        for position, seconds in ((1, 30), (2, 95), (3, 5), (4, 61), (5, 200), (6, 12), (7, 1)):
            alice_client.get(question_url(attempt, position))
            clock.shift(timedelta(seconds=seconds))
        alice_client.post(
            reverse("exams:submit", kwargs={"attempt_id": attempt.pk}), {"confirm": "yes"}
        )
        html = alice_client.get(
            reverse("exams:report", kwargs={"attempt_id": attempt.pk}) + "?show=all"
        ).content.decode()
        slowest = html.split('id="slowest-heading"', 1)[1].split("</ol>", 1)[0]
        order = [slowest.index(f"Question {p}<") for p in (5, 2, 4, 1, 6)]
        assert order == sorted(order)
        assert "Question 3<" not in slowest and "Question 7<" not in slowest
        assert "3 min 20 s" in slowest
        assert "Time on this question: 1 min 35 s" in html
