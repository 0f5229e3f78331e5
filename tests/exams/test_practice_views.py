from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exams import selectors, services
from exams.models import Attempt, AttemptItem
from questions.models import Choice
from tests.conftest import fill_bank

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def big_bank(exam):
    return fill_bank(exam, per_domain={1: 30, 2: 30, 3: 40, 4: 30})


def drill_post(**overrides) -> dict:
    data = {"domains": ["3"], "count": "10", "timed": "on", "feedback": "immediate", "begin": "1"}
    data.update(overrides)
    return data


def position_of(it: AttemptItem, choice_id: int) -> int:
    """What the answer form posts for a choice: its 1-based place in the shown order."""
    return it.choice_order.index(choice_id) + 1


def full_mock_done(user, exam, *, right: int, at) -> Attempt:
    """A submitted full mock with the first `right` questions answered correctly."""
    attempt = services.attempt_start_full_mock(
        user=user, exam=exam, now=at, rng=random.Random(at.minute)
    )
    for it in attempt.items.select_related("attempt", "version").order_by("position")[:right]:
        correct = list(
            Choice.objects.filter(version=it.version, is_correct=True).values_list("id", flat=True)
        )
        services.attempt_answer(item=it, revision=it.revision, choice_ids=correct, now=at)
    return services.attempt_submit(attempt=attempt, now=at + timedelta(minutes=30))


class TestDrillSetup:
    def test_the_form_lists_domains_and_task_statements(self, alice_client, big_bank):
        html = alice_client.get(reverse("exams:drill")).content.decode()
        assert "3. Modeling" in html and "3.2 Select the appropriate model(s)" in html
        assert 'min="5" max="65"' in html

    def test_a_valid_drill_starts(self, alice_client, big_bank):
        response = alice_client.post(reverse("exams:drill"), drill_post())
        attempt = Attempt.objects.get()
        assert response.url == reverse("exams:attempt", kwargs={"attempt_id": attempt.pk})
        assert (attempt.mode, attempt.question_count, attempt.feedback) == (
            "drill",
            10,
            "immediate",
        )

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (drill_post(count="4"), "Ensure this value is greater than or equal to 5."),
            (drill_post(count="66"), "Ensure this value is less than or equal to 65."),
            (drill_post(domains=[]), "This field is required."),
            (
                drill_post(domains=["9"]),
                "Select a valid choice. 9 is not one of the available choices.",
            ),
            (
                drill_post(domains=["1"], tasks=["3.2"]),
                "Task statement 3.2 is not in a chosen domain",
            ),
            (drill_post(feedback="sometimes"), "Select a valid choice."),
        ],
    )
    def test_bad_input_is_explained_and_starts_nothing(self, alice_client, big_bank, data, message):
        response = alice_client.post(reverse("exams:drill"), data)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Attempt.objects.exists()

    def test_a_timed_drill_shows_its_instructions_before_the_clock_starts(
        self, alice_client, big_bank
    ):
        data = drill_post(count="13")
        del data["begin"]
        response = alice_client.post(reverse("exams:drill"), data)
        html = response.content.decode()
        assert "The clock has not started" in html and "34 minutes" in html
        assert not Attempt.objects.exists()
        for name, value in (("domains", "3"), ("count", "13"), ("timed", "on")):
            assert f'name="{name}" value="{value}"' in html
        alice_client.post(reverse("exams:drill"), data | {"begin": "1"})
        assert Attempt.objects.get().question_count == 13

    def test_a_capped_count_is_announced(self, alice_client, big_bank):
        response = alice_client.post(
            reverse("exams:drill"), drill_post(tasks=["3.1"], count="30"), follow=True
        )
        assert "the bank holds 8 for that choice, so the drill has 8" in response.content.decode()

    def test_it_needs_a_login_and_refuses_other_methods(self, alice_client):
        assert Client().get(reverse("exams:drill")).status_code == 302
        assert alice_client.put(reverse("exams:drill")).status_code == 405


@pytest.mark.parametrize(
    ("start", "noun"),
    [
        (lambda c: c.post(reverse("exams:drill"), drill_post()), "drill"),
        (lambda c: c.post(reverse("exams:start_full_mock"), {"begin": "1"}), "exam"),
    ],
)
def test_the_review_and_confirmation_name_what_is_submitted(alice_client, big_bank, start, noun):
    start(alice_client)
    attempt = Attempt.objects.get()
    review = alice_client.get(reverse("exams:review", args=[attempt.pk])).content.decode()
    assert f"Submit {noun}…</button>" in review
    confirm = alice_client.post(reverse("exams:submit", args=[attempt.pk])).content.decode()
    assert f"Submit your {noun}?" in confirm


class TestImmediateFeedbackPages:
    @pytest.fixture
    def attempt(self, alice_client, big_bank) -> Attempt:
        alice_client.post(reverse("exams:drill"), drill_post())
        return Attempt.objects.get()

    def test_checking_an_answer_shows_the_key_and_explanation(self, alice_client, attempt):
        it = AttemptItem.objects.select_related("version").get(attempt=attempt, position=1)
        wrong = Choice.objects.filter(version=it.version, is_correct=False).first()
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 1})
        response = alice_client.post(
            url,
            {"choice": position_of(it, wrong.id), "revision": it.revision, "go": "check"},
        )
        assert response.url == reverse(
            "exams:question", kwargs={"attempt_id": attempt.pk, "position": 1}
        )
        html = alice_client.get(response.url).content.decode()
        assert "✗ Not quite" in html and "✓ Correct answer" in html and "✗ Your answer" in html
        assert it.version.explanation in html
        assert "Check answer" not in html and "disabled" in html

    def test_a_right_pick_is_marked_as_the_candidates_answer_as_well_as_the_key(
        self, alice_client, attempt
    ):
        it = AttemptItem.objects.select_related("version").get(attempt=attempt, position=1)
        keys = list(Choice.objects.filter(version=it.version, is_correct=True))
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 1})
        alice_client.post(
            url,
            {
                "choice": [position_of(it, k.id) for k in keys],
                "revision": it.revision,
                "go": "check",
            },
        )
        html = alice_client.get(
            reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": 1})
        ).content.decode()
        marks = '<strong class="mark">✓ Correct answer</strong> <strong class="mark">· your answer'
        assert html.count(marks) == len(keys)
        assert "✗ Your answer" not in html

    def test_an_unchecked_question_shows_no_key(self, alice_client, attempt):
        it = AttemptItem.objects.select_related("version").get(attempt=attempt, position=2)
        html = alice_client.get(
            reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": 2})
        ).content.decode()
        assert "Check answer" in html
        assert (
            it.version.explanation not in html
            and "Correct answer" not in html
            and "Rationale" not in html
        )

    def test_a_locked_answer_cannot_be_changed(self, alice_client, attempt):
        it = AttemptItem.objects.get(attempt=attempt, position=1)
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 1})
        alice_client.post(url, {"choice": "1", "revision": it.revision, "go": "check"})
        locked = AttemptItem.objects.get(pk=it.pk)
        assert locked.revealed and locked.selected == [it.choice_order[0]]
        response = alice_client.post(
            url, {"choice": "2", "revision": locked.revision, "drawn": "1"}, **HTMX
        )
        assert response.status_code == 422
        assert "revealed, so it can no longer change" in response.content.decode()
        assert AttemptItem.objects.get(pk=it.pk).selected == [it.choice_order[0]]
        # Its form's navigation buttons still work, leaving the answer as it is: the
        # locked page's choices are disabled, so its form posts none of them.
        response = alice_client.post(url, {"revision": locked.revision, "drawn": "1", "go": "next"})
        assert response.url.endswith("/questions/2/")
        assert AttemptItem.objects.get(pk=it.pk).selected == [it.choice_order[0]]


class TestOneClickPractice:
    def test_a_report_row_starts_a_drill_on_its_domain(self, alice_client, alice, exam, big_bank):
        response = alice_client.post(reverse("exams:start_domain_drill"), {"domain": "2"})
        attempt = Attempt.objects.get(mode="drill")
        assert response.url == reverse("exams:attempt", kwargs={"attempt_id": attempt.pk})
        assert set(attempt.items.values_list("question__task__domain__number", flat=True)) == {2}

    def test_a_forged_domain_is_refused(self, alice_client, big_bank):
        for forged in ("x", "9"):
            response = alice_client.post(
                reverse("exams:start_domain_drill"), {"domain": forged}, follow=True
            )
            assert "Choose at least one domain" in response.content.decode()
        assert not Attempt.objects.exists()

    def test_the_report_offers_the_weakest_domain(self, alice_client, alice, exam, big_bank):
        done = full_mock_done(alice, exam, right=30, at=timezone.now() - timedelta(hours=2))
        html = alice_client.get(
            reverse("exams:report", kwargs={"attempt_id": done.pk})
        ).content.decode()
        weakest = min(done.result["domains"], key=lambda d: (d["percent"], -d["total"]))
        assert (
            f"Your weakest domain: <strong>{weakest['number']}. {weakest['name']}</strong>" in html
        )
        assert (
            html.count('action="/exams/drill/domain/"') == 5
        )  # the weakest, and one per domain row

    def test_missed_practice_starts_from_the_dashboard(self, alice_client, alice, exam, big_bank):
        full_mock_done(alice, exam, right=30, at=timezone.now() - timedelta(hours=2))
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
        assert "0 questions you got wrong or flagged" in html  # unanswered ones are not misses
        response = alice_client.post(reverse("exams:start_missed"), follow=True)
        assert "no missed or flagged questions" in response.content.decode()


class TestHistoryProgressDashboard:
    def test_history_lists_only_my_attempts_with_their_scores(
        self, alice_client, alice, bob, exam, big_bank
    ):
        now = timezone.now()
        mine = full_mock_done(alice, exam, right=50, at=now - timedelta(hours=3))
        full_mock_done(bob, exam, right=10, at=now - timedelta(hours=3))
        html = alice_client.get(reverse("exams:history")).content.decode()
        assert html.count("<tr>") == 2  # header + one attempt
        assert "76.9% (50/65)" in html and "✓ Pass" in html and "30 min" in html
        assert reverse("exams:attempt", kwargs={"attempt_id": mine.pk}) in html

    def test_progress_draws_the_chart_and_its_table(self, alice_client, alice, exam, big_bank):
        now = timezone.now()
        full_mock_done(alice, exam, right=30, at=now - timedelta(hours=5))
        full_mock_done(alice, exam, right=55, at=now - timedelta(hours=3))
        html = alice_client.get(reverse("exams:progress")).content.decode()
        assert '<svg viewBox="0 0 720 300" role="img"' in html
        assert html.count("<polyline") == 5  # overall + four domains
        assert "Pass mark 75%" in html
        assert re.search(r"#2</a></th><td>[^<]+</td>\s*<td>84\.6%</td>", html)

    def test_the_dashboard_shows_readiness_over_the_last_three_mocks(
        self, alice_client, alice, exam, big_bank
    ):
        now = timezone.now()
        mocks = [
            full_mock_done(alice, exam, right=r, at=now - timedelta(hours=10 - i))
            for i, r in enumerate((0, 40, 50, 60))
        ]
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
        expected = round(sum(m.result["domains"][2]["percent"] for m in mocks[1:]) / 3, 1)
        assert f'<td data-label="Readiness">{expected:.1f}% ' in html
        assert "Readiness (last 3 mocks)" in html

    @pytest.mark.parametrize(
        ("url_name", "queries"),
        [
            # session, user, attempts to expire, the chosen exam (the page is about it),
            # page count, the page of attempts
            ("exams:history", 6),
            # session, user, attempts to expire, chosen exam, full mocks, domains, readiness
            # counts
            ("exams:progress", 7),
            # session, user, in progress (the overdue ones submitted from it), chosen exam and
            # every exam with the counts of submitted attempts (one query), then (a new
            # submission each time: not memoised) last mocks, readiness counts, missed pool;
            # the bank's sizes are memoised
            ("exams:dashboard", 7),
        ],
    )
    def test_pages_take_the_same_queries_whatever_the_number_of_attempts(
        self, alice_client, alice, exam, big_bank, url_name, queries, django_assert_num_queries
    ):
        now = timezone.now()
        selectors.bank_sizes(exam)  # memoised for every candidate, as on a live site
        full_mock_done(alice, exam, right=20, at=now - timedelta(hours=9))
        with django_assert_num_queries(queries):
            alice_client.get(reverse(url_name))
        for hours in (8, 7, 6):
            full_mock_done(alice, exam, right=30, at=now - timedelta(hours=hours))
        with django_assert_num_queries(queries):
            alice_client.get(reverse(url_name))

    @pytest.mark.parametrize("url_name", ["exams:history", "exams:progress"])
    def test_pages_need_a_login_and_refuse_post(self, alice_client, url_name):
        assert Client().get(reverse(url_name)).status_code == 302
        assert alice_client.post(reverse(url_name)).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    ["exams:start_full_mock", "exams:drill", "exams:start_domain_drill", "exams:start_missed"],
)
def test_starting_anything_without_a_blueprint_says_what_to_do(alice_client, url_name):
    response = alice_client.post(reverse(url_name), {"domain": "1"}, follow=True)
    assert "No exam blueprint is loaded yet" in response.content.decode()
    assert not Attempt.objects.exists()
