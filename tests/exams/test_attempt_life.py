"""An attempt's life as candidates expect it: abandon, one open practice attempt, a grace
for answers in flight, and overdue attempts closed on every page."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from exams import selectors, services
from exams.models import Attempt, AttemptItem
from questions.models import Choice
from tests.conftest import fill_bank

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def big_bank(exam):
    return fill_bank(exam, per_domain={1: 30, 2: 30, 3: 40, 4: 30})


def mock(user, exam, *, now=START, seed=1) -> Attempt:
    return services.attempt_start_full_mock(user=user, exam=exam, now=now, rng=random.Random(seed))


def answer_all(attempt: Attempt, *, right: bool, now=START, count: int | None = None) -> None:
    rows = attempt.items.select_related("attempt", "version").order_by("position")
    for it in rows[:count] if count else rows:
        key = set(
            Choice.objects.filter(version=it.version, is_correct=True).values_list("id", flat=True)
        )
        chosen = sorted(key) if right else [c for c in it.choice_order if c not in key][:1]
        services.attempt_answer(item=it, revision=it.revision, choice_ids=chosen, now=now)


def first_item(attempt: Attempt) -> AttemptItem:
    return attempt.items.select_related("attempt", "version").get(position=1)


class TestAbandon:
    def test_an_abandoned_mock_counts_nowhere(self, alice, exam, big_bank):
        good = mock(alice, exam)
        answer_all(good, right=True)
        services.attempt_submit(attempt=good, now=START + timedelta(minutes=60))

        bad = mock(alice, exam, now=START + timedelta(hours=2), seed=2)
        answer_all(bad, right=False, now=START + timedelta(hours=2))
        services.attempt_flag(item=first_item(bad), flagged=True, now=START + timedelta(hours=2))
        abandoned = services.attempt_abandon(attempt=bad, now=START + timedelta(hours=3))

        assert abandoned.status == Attempt.Status.ABANDONED
        history = selectors.full_mock_history(user=alice, exam=exam)
        assert history == [good]
        assert selectors.domain_readiness(history) == {1: 100.0, 2: 100.0, 3: 100.0, 4: 100.0}
        wrong_in_bad = set(bad.items.values_list("question_id", flat=True))
        assert not wrong_in_bad & set(selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk))

    def test_an_abandoned_attempt_accepts_nothing(self, alice, exam, big_bank):
        attempt = mock(alice, exam)
        services.attempt_abandon(attempt=attempt, now=START)
        with pytest.raises(services.AttemptClosed, match="abandoned"):
            services.attempt_answer(item=first_item(attempt), choice_ids=[], revision=0, now=START)
        assert services.attempt_abandon(attempt=attempt).status == Attempt.Status.ABANDONED
        assert services.attempt_submit(attempt=attempt).status == Attempt.Status.ABANDONED

    def test_a_mock_that_times_out_with_no_answer_counts_as_abandoned(self, alice, exam, big_bank):
        attempt = mock(alice, exam)
        ended = services.attempt_submit(attempt=attempt, now=START + timedelta(minutes=200))
        assert ended.status == Attempt.Status.ABANDONED and ended.timed_out
        assert ended.result["abandoned"] == "empty"
        assert selectors.full_mock_history(user=alice, exam=exam) == []

    def test_the_pages_ask_first_and_name_what_is_lost(self, alice_client, alice, exam, big_bank):
        attempt = mock(alice, exam, now=datetime.now(UTC))
        answer_all(attempt, right=True, count=3, now=datetime.now(UTC))
        url = reverse("exams:abandon", kwargs={"attempt_id": attempt.pk})
        html = alice_client.get(url).content.decode()
        assert "You will lose your <strong>3 answers</strong>" in html
        assert Attempt.objects.get().is_in_progress
        response = alice_client.post(url, follow=True)
        assert "abandoned: it stays in your history and counts nowhere" in response.content.decode()
        history = alice_client.get(reverse("exams:history")).content.decode()
        assert "Abandoned · counts nowhere" in history
        report = alice_client.get(reverse("exams:report", kwargs={"attempt_id": attempt.pk}))
        assert "You abandoned this attempt" in report.content.decode()

    def test_another_users_attempt_cannot_be_abandoned(self, client, bob, alice, exam, big_bank):
        attempt = mock(alice, exam, now=datetime.now(UTC))
        client.force_login(bob)
        url = reverse("exams:abandon", kwargs={"attempt_id": attempt.pk})
        assert client.post(url).status_code == 404
        assert Attempt.objects.get().is_in_progress


class TestOnePracticeAttemptAtATime:
    def drill(self, user, exam):
        return services.attempt_start_drill(
            user=user, exam=exam, domain_numbers=[3], count=5, timed=False, feedback="immediate"
        )

    def test_a_second_start_is_refused_naming_the_open_one(self, alice, exam, big_bank):
        first = self.drill(alice, exam).attempt
        with pytest.raises(services.PracticeInProgress) as refused:
            self.drill(alice, exam)
        assert refused.value.attempt == first
        assert Attempt.objects.count() == 1

    def test_the_page_offers_resume_or_abandon_and_start(self, alice_client, alice, exam, big_bank):
        first = self.drill(alice, exam).attempt
        data = {"domains": ["2"], "count": "6", "feedback": "end"}
        response = alice_client.post(reverse("exams:drill"), data)
        assert response.status_code == 409
        html = response.content.decode()
        assert reverse("exams:attempt", kwargs={"attempt_id": first.pk}) in html
        assert 'name="abandon_open" value="1"' in html and 'name="count" value="6"' in html
        alice_client.post(reverse("exams:drill"), data | {"abandon_open": "1"})
        first.refresh_from_db()
        assert first.status == Attempt.Status.ABANDONED
        assert Attempt.objects.get(status="in_progress").question_count == 6

    def test_a_burst_of_starts_leaves_one_open(self, alice_client, big_bank):
        for _ in range(20):
            alice_client.post(reverse("exams:start_domain_drill"), {"domain": "3"})
        assert Attempt.objects.filter(status="in_progress").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_starts_create_one_practice_attempt(exam):
    """Two threads (two connections) start a drill at once: the database lets one win."""
    from tests.factories import UserFactory

    fill_bank(exam, per_domain={1: 30, 2: 30, 3: 40, 4: 30})
    user = UserFactory(username="racer")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start():
        try:
            barrier.wait()
            services.attempt_start_drill(
                user=user, exam=exam, domain_numbers=[3], count=5, timed=False, feedback="end"
            )
            outcomes.append("started")
        except services.PracticeInProgress:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "started"]
    assert Attempt.objects.filter(user=user, status="in_progress").count() == 1


class TestGraceForAnswersInFlight:
    @pytest.mark.parametrize(
        ("offset", "stored"), [(-1, True), (2, True), (4, False)], ids=["-1s", "+2s", "+4s"]
    )
    def test_the_grace_window_edges(self, alice, exam, big_bank, offset, stored):
        attempt = mock(alice, exam)
        answer_all(attempt, right=True, count=1)
        it = attempt.items.select_related("attempt", "version").get(position=2)
        at = attempt.deadline + timedelta(seconds=offset)
        if stored:
            services.attempt_answer(item=it, revision=0, choice_ids=it.choice_order[:1], now=at)
            assert AttemptItem.objects.get(pk=it.pk).selected == it.choice_order[:1]
        else:
            with pytest.raises(services.AttemptClosed):
                services.attempt_answer(item=it, revision=0, choice_ids=it.choice_order[:1], now=at)
            assert AttemptItem.objects.get(pk=it.pk).selected == []
        ended = services.attempt_submit(
            attempt=attempt, now=attempt.deadline + timedelta(seconds=5)
        )
        # The attempt still ends at its deadline, whatever arrived in the grace.
        assert ended.submitted_at == attempt.deadline and ended.timed_out

    def test_overdue_only_after_the_grace(self, alice, exam, big_bank):
        attempt = mock(alice, exam)
        answer_all(attempt, right=True, count=1)
        assert services.attempts_expire_due(user_id=alice.pk, now=attempt.deadline) == 0
        assert (
            services.attempts_expire_due(
                user_id=alice.pk, now=attempt.deadline + timedelta(seconds=3)
            )
            == 1
        )


class TestOverdueAttemptsAreClosedEverywhere:
    @pytest.fixture
    def overdue(self, alice, exam, big_bank) -> Attempt:
        attempt = mock(alice, exam, now=datetime.now(UTC) - timedelta(hours=5))
        answer_all(attempt, right=True, now=datetime.now(UTC) - timedelta(hours=5))
        return attempt

    def test_history_shows_it_submitted_without_the_dashboard(self, alice_client, overdue):
        html = alice_client.get(reverse("exams:history")).content.decode()
        assert "In progress" not in html and "100.0%" in html
        overdue.refresh_from_db()
        assert overdue.status == Attempt.Status.SUBMITTED and overdue.timed_out

    def test_progress_includes_it_without_the_dashboard(self, alice_client, overdue):
        html = alice_client.get(reverse("exams:progress")).content.decode()
        assert reverse("exams:report", kwargs={"attempt_id": overdue.pk}) in html

    def test_the_command_closes_everyones_and_is_idempotent(self, overdue, bob, exam, capsys):
        other = mock(bob, exam, now=datetime.now(UTC) - timedelta(hours=4))
        answer_all(other, right=False, count=2, now=datetime.now(UTC) - timedelta(hours=4))
        call_command("expire_attempts")
        assert "Closed 2 overdue attempt(s)." in capsys.readouterr().out
        snapshot = list(Attempt.objects.order_by("pk").values())
        call_command("expire_attempts")
        assert "Closed 0 overdue attempt(s)." in capsys.readouterr().out
        assert list(Attempt.objects.order_by("pk").values()) == snapshot


class TestTheClock:
    def test_it_tells_the_time_left_and_whether_the_attempt_is_open(
        self, alice_client, alice, exam, big_bank
    ):
        attempt = mock(alice, exam, now=datetime.now(UTC))
        url = reverse("exams:clock", kwargs={"attempt_id": attempt.pk})
        with time_machine.travel(attempt.deadline - timedelta(seconds=90), tick=False):
            state = alice_client.get(url).json()
        assert state == {
            "ms_left": 90_000,
            "open": True,
            "report_url": reverse("exams:report", kwargs={"attempt_id": attempt.pk}),
        }
        services.attempt_abandon(attempt=attempt)
        assert alice_client.get(url).json()["open"] is False

    def test_answer_and_flag_responses_carry_the_time_left(
        self, alice_client, alice, exam, big_bank
    ):
        attempt = mock(alice, exam, now=datetime.now(UTC))
        kwargs = {"attempt_id": attempt.pk, "position": 1}
        with time_machine.travel(attempt.deadline - timedelta(seconds=60), tick=False):
            saved = alice_client.post(
                reverse("exams:answer", kwargs=kwargs),
                {"choice": "1", "revision": "0"},
                HTTP_HX_REQUEST="true",
            )
            flagged = alice_client.post(
                reverse("exams:flag", kwargs=kwargs), {"flagged": "1"}, HTTP_HX_REQUEST="true"
            )
        assert saved["X-Ms-Left"] == flagged["X-Ms-Left"] == "60000"

    def test_it_is_private(self, alice, bob, exam, big_bank):
        attempt = mock(alice, exam, now=datetime.now(UTC))
        client = Client()
        client.force_login(bob)
        assert (
            client.get(reverse("exams:clock", kwargs={"attempt_id": attempt.pk})).status_code == 404
        )
