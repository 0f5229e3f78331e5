from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from exams import services
from exams.models import Attempt, AttemptItem
from questions.models import Choice

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def attempt(alice, exam, full_bank) -> Attempt:
    return services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(7))


def url(name: str, attempt: Attempt, position: int | None = None) -> str:
    kwargs = {"attempt_id": attempt.pk}
    if position is not None:
        kwargs["position"] = position
    return reverse(f"exams:{name}", kwargs=kwargs)


def item(attempt: Attempt, position: int) -> AttemptItem:
    return AttemptItem.objects.select_related("attempt", "version", "question").get(
        attempt=attempt, position=position
    )


def correct_choices(it: AttemptItem) -> list[Choice]:
    return list(Choice.objects.filter(version=it.version, is_correct=True))


ATTEMPT_PAGES = [("attempt", None), ("question", 1), ("review", None), ("report", None)]
ATTEMPT_POSTS = [("answer", 1), ("flag", 1), ("submit", None)]


class TestAccess:
    @pytest.mark.parametrize(("name", "position"), ATTEMPT_PAGES + ATTEMPT_POSTS)
    def test_anonymous_users_are_sent_to_log_in(self, client, attempt, name, position):
        method = client.post if (name, position) in ATTEMPT_POSTS else client.get
        response = method(url(name, attempt, position))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

    @pytest.mark.parametrize(("name", "position"), ATTEMPT_PAGES + ATTEMPT_POSTS)
    def test_another_users_attempt_is_not_found(self, client, bob, attempt, name, position):
        client.force_login(bob)
        method = client.post if (name, position) in ATTEMPT_POSTS else client.get
        assert (
            method(
                url(name, attempt, position),
                {"choice": "1", "revision": item(attempt, 1).revision},
            ).status_code
            == 404
        )
        assert item(attempt, 1).selected == []

    @pytest.mark.parametrize(("name", "position"), ATTEMPT_POSTS)
    def test_posts_refuse_get(self, alice_client, attempt, name, position):
        assert alice_client.get(url(name, attempt, position)).status_code == 405

    @pytest.mark.parametrize(
        ("name", "position"), [("question", 1), ("review", None), ("report", None)]
    )
    def test_pages_refuse_post(self, alice_client, attempt, name, position):
        assert alice_client.post(url(name, attempt, position)).status_code == 405

    def test_an_unknown_position_is_not_found(self, alice_client, attempt):
        assert alice_client.get(url("question", attempt, 66)).status_code == 404


class TestDashboardAndStart:
    def test_the_dashboard_shows_the_bank_and_a_start_button(self, alice_client, full_bank):
        response = alice_client.get(reverse("exams:dashboard"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Start full mock exam" in html
        # domain, weight, readiness (no mock yet), missed, bank size
        assert re.search(
            r'3\. Modeling</th><td data-label="Weight">36%</td>\s*<td data-label="Readiness">—</td>'
            r'\s*<td data-label="Estimate">—</td>\s*<td data-label="Missed">0</td>'
            r'<td data-label="Bank">23</td>',
            html,
        )

    def test_starting_opens_question_1(self, alice_client, full_bank):
        response = alice_client.post(reverse("exams:start_full_mock"))
        attempt = Attempt.objects.get()
        assert response.url == url("attempt", attempt)
        assert alice_client.get(response.url).url == url("question", attempt, 1)

    def test_starting_again_resumes_the_running_mock(self, alice_client, attempt):
        response = alice_client.post(reverse("exams:start_full_mock"), follow=True)
        assert Attempt.objects.count() == 1
        assert "already have a full mock exam in progress" in response.content.decode()

    def test_a_short_bank_shows_the_shortfall(self, alice_client, exam):
        response = alice_client.post(reverse("exams:start_full_mock"), follow=True)
        assert (
            "Data Engineering needs 13 questions but the bank holds 0 (short by 13)"
            in response.content.decode()
        )
        assert not Attempt.objects.exists()

    def test_the_dashboard_shows_the_attempt_in_progress_with_its_time_left(
        self, alice_client, attempt
    ):
        # Seen 10 min 30 s into the 170 minutes, however slowly the test runs.
        with time_machine.travel(
            attempt.started_at + timedelta(minutes=10, seconds=30), tick=False
        ):
            html = alice_client.get(reverse("exams:dashboard")).content.decode()
        assert "Resume" in html and "<strong>2 h 39 min</strong> left" in html

    def test_the_start_shows_instructions_and_starts_no_clock(self, alice_client, full_bank):
        response = alice_client.get(reverse("exams:start_full_mock"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "The clock has not started" in html
        assert "65" in html and "170 minutes" in html and "75%" in html
        assert "Data Engineering: 20% of the questions" in html
        assert not Attempt.objects.exists()
        alice_client.post(reverse("exams:start_full_mock"), {"begin": "1"})
        assert Attempt.objects.get().status == Attempt.Status.IN_PROGRESS

    def test_resuming_skips_the_instructions(self, alice_client, attempt):
        response = alice_client.get(reverse("exams:start_full_mock"))
        assert response.url == url("attempt", attempt)


class TestQuestionPage:
    def test_it_shows_the_question_without_its_domain_or_answers(self, alice_client, attempt):
        it = item(attempt, 1)
        response = alice_client.get(url("question", attempt, 1))
        html = response.content.decode()
        assert "Question 1 of 65" in html
        assert it.version.stem.split(":")[0] in html
        assert it.question.task.domain.name not in html
        assert it.version.explanation not in html
        assert "Rationale" not in html
        assert "is-correct" not in html and "correct" not in html.lower().replace("incorrect", "")

    def test_choices_appear_in_the_stored_order(self, alice_client, attempt):
        it = item(attempt, 1)
        html = alice_client.get(url("question", attempt, 1)).content.decode()
        # The inputs post positions in this order (never choice ids); the texts follow
        # the order stored with the attempt.
        values = [int(v) for v in re.findall(r'name="choice" value="(\d+)"', html)]
        assert values == list(range(1, len(it.choice_order) + 1))
        texts = dict(Choice.objects.filter(version=it.version).values_list("id", "text"))
        shown = re.findall(r'<span class="choice-text">([^<]*)</span>', html)
        assert shown == [texts[cid] for cid in it.choice_order]

    def test_a_multiple_response_question_says_how_many_and_uses_checkboxes(
        self, alice_client, attempt
    ):
        multiple = attempt.items.filter(version__type="multiple").first()
        html = alice_client.get(url("question", attempt, multiple.position)).content.decode()
        assert "Choose 2." in html and 'type="checkbox"' in html

    def test_visiting_a_question_remembers_it_for_resuming(self, alice_client, attempt):
        alice_client.get(url("question", attempt, 12))
        assert alice_client.get(url("attempt", attempt)).url == url("question", attempt, 12)

    def test_the_page_and_navigator_take_a_constant_number_of_queries(
        self, alice_client, attempt, django_assert_num_queries
    ):
        alice_client.get(url("question", attempt, 1))
        # session, user, item + attempt + version, choices, navigator
        with django_assert_num_queries(5):
            alice_client.get(url("question", attempt, 1))
        # ...plus the UPDATE that moves the position and the one that keeps the time
        # per question (the item left, the item reached)
        with django_assert_num_queries(7):
            alice_client.get(url("question", attempt, 2))


class TestAnswering:
    def test_htmx_saves_and_returns_the_status_and_navigator_cell(self, alice_client, attempt):
        it = item(attempt, 1)
        response = alice_client.post(
            url("answer", attempt, 1), {"choice": "2", "revision": it.revision}, **HTMX
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Answer saved" in html
        assert 'id="nav-1" hx-swap-oob="true"' in html and "is-answered" in html
        assert "1 of 65 answered" in html
        assert item(attempt, 1).selected == [it.choice_order[1]]

    def test_without_javascript_the_form_saves_and_moves_on(self, alice_client, attempt):
        it = item(attempt, 3)
        response = alice_client.post(
            url("answer", attempt, 3),
            {"choice": "1", "revision": it.revision, "drawn": "", "go": "next"},
        )
        assert response.url == url("question", attempt, 4)
        saved = item(attempt, 3)
        assert saved.selected == [it.choice_order[0]]
        # The page drawn with that answer moves on to the review without writing again.
        response = alice_client.post(
            url("answer", attempt, 3),
            {"choice": "1", "revision": saved.revision, "drawn": "1", "go": "review"},
        )
        assert response.url == url("review", attempt)
        after = item(attempt, 3)
        assert after.selected == [it.choice_order[0]] and after.revision == saved.revision

    def test_too_many_choices_are_refused_and_the_stored_answer_redrawn(
        self, alice_client, attempt
    ):
        multiple = attempt.items.filter(version__type="multiple").first()
        answer_url = url("answer", attempt, multiple.position)
        saved = alice_client.post(
            answer_url, {"choice": ["1", "2"], "revision": multiple.revision}, **HTMX
        )
        assert saved.status_code == 200
        multiple.refresh_from_db()
        response = alice_client.post(
            answer_url, {"choice": ["1", "2", "3"], "revision": multiple.revision}, **HTMX
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert "This question takes 2 answers" in html
        assert 'id="choices" class="choices" hx-swap-oob="true"' in html
        assert len(re.findall(r"checked", html)) == 2
        multiple.refresh_from_db()
        assert multiple.selected == multiple.choice_order[:2]

    def test_a_forged_choice_value_is_refused(self, alice_client, attempt):
        for forged in ["abc", "999999"]:
            response = alice_client.post(
                url("answer", attempt, 1), {"choice": forged, "revision": 0}, **HTMX
            )
            assert response.status_code == 422
            assert "not one of this question&#x27;s choices" in response.content.decode()
        assert item(attempt, 1).selected == []

    def test_an_answer_after_the_deadline_is_refused_with_a_clear_message(
        self, alice_client, attempt
    ):
        it = item(attempt, 1)
        answered = item(attempt, 2)
        services.attempt_answer(item=answered, revision=0, choice_ids=answered.choice_order[:1])
        with time_machine.travel(attempt.deadline + timedelta(seconds=4), tick=False):
            response = alice_client.post(
                url("answer", attempt, 1), {"choice": "1", "revision": it.revision}, **HTMX
            )
            assert response.status_code == 409
            assert "Time is up" in response.content.decode()
            response = alice_client.post(
                url("answer", attempt, 1),
                {"choice": "1", "revision": it.revision, "drawn": ""},
                follow=True,
            )
            assert "has been submitted" in response.content.decode()
        assert item(attempt, 1).selected == []

    def test_saving_an_answer_takes_five_queries(
        self, alice_client, attempt, django_assert_num_queries
    ):
        it = item(attempt, 1)
        # session, user, item + attempt + version, guarded UPDATE, answered count
        with django_assert_num_queries(5):
            response = alice_client.post(
                url("answer", attempt, 1), {"choice": "1", "revision": it.revision}, **HTMX
            )
        assert response.status_code == 200
        assert item(attempt, 1).selected == [it.choice_order[0]]

    def test_flagging_returns_the_toggle_and_navigator_cell(self, alice_client, attempt):
        response = alice_client.post(url("flag", attempt, 2), {"flagged": "1"}, **HTMX)
        html = response.content.decode()
        assert 'aria-pressed="true"' in html and "Flagged for review" in html
        assert 'id="nav-2" hx-swap-oob="true"' in html and "is-flagged" in html
        assert item(attempt, 2).flagged
        response = alice_client.post(url("flag", attempt, 2), {"flagged": "0"})
        assert response.url == url("question", attempt, 2)
        assert not item(attempt, 2).flagged

    def test_flagging_takes_four_queries(self, alice_client, attempt, django_assert_num_queries):
        # session, user, item + attempt + version, guarded UPDATE
        with django_assert_num_queries(4):
            alice_client.post(url("flag", attempt, 2), {"flagged": "1"}, **HTMX)


class TestReviewAndSubmit:
    def test_the_review_screen_counts_and_filters(self, alice_client, attempt):
        for position in (1, 2, 3):
            it = item(attempt, position)
            services.attempt_answer(item=it, revision=it.revision, choice_ids=it.choice_order[:1])
        services.attempt_flag(
            item=AttemptItem.objects.select_related("attempt").get(attempt=attempt, position=5),
            flagged=True,
        )
        html = alice_client.get(url("review", attempt)).content.decode()
        assert re.search(r"<dt>Answered</dt><dd>3</dd>", html)
        assert re.search(r"<dt>Unanswered</dt><dd>62</dd>", html)
        assert re.search(r"<dt>Flagged</dt><dd>1</dd>", html)
        fragment = alice_client.get(
            url("review", attempt) + "?show=flagged", **HTMX
        ).content.decode()
        assert fragment.startswith('<section id="review-list"')
        assert fragment.count('class="review-cell') == 1 and "Question 5" in fragment

    def test_submit_asks_for_confirmation_naming_the_unanswered(self, alice_client, attempt):
        response = alice_client.post(url("submit", attempt))
        assert response.status_code == 200
        assert "65 unanswered questions" in response.content.decode()
        assert Attempt.objects.get().status == Attempt.Status.IN_PROGRESS

    def test_confirmed_submission_opens_the_report(self, alice_client, attempt):
        answered = item(attempt, 2)
        services.attempt_answer(item=answered, revision=0, choice_ids=answered.choice_order[:1])
        response = alice_client.post(url("submit", attempt), {"confirm": "yes"})
        assert response.url == url("report", attempt)
        assert Attempt.objects.get().status == Attempt.Status.SUBMITTED
        again = alice_client.post(url("submit", attempt), {"confirm": "yes"}, **HTMX)
        assert again["HX-Redirect"] == url("report", attempt)

    def test_a_submitted_attempts_pages_lead_to_the_report(self, alice_client, attempt):
        services.attempt_submit(attempt=attempt)
        assert alice_client.get(url("question", attempt, 1)).url == url("report", attempt)
        assert alice_client.get(url("review", attempt)).url == url("report", attempt)

    def test_an_attempt_past_its_deadline_is_scored_when_next_opened(self, alice_client, attempt):
        answered = item(attempt, 2)
        services.attempt_answer(item=answered, revision=0, choice_ids=answered.choice_order[:1])
        with time_machine.travel(timezone.now() + timedelta(minutes=171), tick=False):
            response = alice_client.get(url("attempt", attempt))
        assert response.url == url("report", attempt)
        attempt.refresh_from_db()
        assert attempt.status == Attempt.Status.SUBMITTED and attempt.timed_out


class TestReport:
    @pytest.fixture
    def submitted(self, attempt) -> Attempt:
        items = list(attempt.items.select_related("attempt", "version").order_by("position"))
        for it in items[:40]:
            services.attempt_answer(
                item=it, revision=it.revision, choice_ids=[c.id for c in correct_choices(it)]
            )
        services.attempt_answer(
            item=items[40],
            revision=items[40].revision,
            choice_ids=[
                c
                for c in items[40].choice_order
                if c not in {x.id for x in correct_choices(items[40])}
            ][:1],
        )
        services.attempt_flag(item=items[0], flagged=True)
        services.attempt_flag(item=items[41], flagged=True)
        return services.attempt_submit(attempt=attempt)

    def test_it_shows_the_score_domains_and_tasks(self, alice_client, submitted):
        html = alice_client.get(url("report", submitted) + "?show=all").content.decode()
        assert "40 of 65 correct" in html and "Below the pass mark" in html
        for name in (
            "Data Engineering",
            "Exploratory Data Analysis",
            "Modeling",
            "Machine Learning Implementation and Operations",
        ):
            assert name in html
        assert "3.2 Select the appropriate model(s)" in html
        assert html.count("review-item") == 65

    def test_it_filters_to_flagged_incorrect_and_unanswered(self, alice_client, submitted):
        flagged = alice_client.get(
            url("report", submitted) + "?show=flagged", **HTMX
        ).content.decode()
        assert (
            flagged.strip().startswith('<div id="report-questions">')
            and flagged.count("review-item") == 2
        )
        incorrect = alice_client.get(url("report", submitted) + "?show=incorrect").content.decode()
        assert incorrect.count("review-item") == 25
        unanswered = alice_client.get(
            url("report", submitted) + "?show=unanswered"
        ).content.decode()
        assert unanswered.count("review-item") == 24

    def test_it_reveals_answers_explanations_and_rationales(self, alice_client, submitted):
        it = item(submitted, 1)
        html = alice_client.get(url("report", submitted) + "?show=all").content.decode()
        assert it.version.explanation in html
        assert "Correct answer" in html and "Rationale 0" in html

    def test_the_report_takes_a_constant_number_of_queries(
        self, alice_client, submitted, django_assert_num_queries
    ):
        # session, user, attempt, the five slowest questions
        with django_assert_num_queries(4):
            alice_client.get(url("report", submitted))
        # session, user, attempt, items + versions + questions + tasks + domains, their
        # choices, the problem reports the candidate sent on them
        with django_assert_num_queries(6):
            alice_client.get(url("report", submitted) + "?show=all")

    def test_the_first_view_is_the_summary_with_the_review_on_demand(self, alice_client, submitted):
        response = alice_client.get(url("report", submitted))
        html = response.content.decode()
        assert len(response.content) <= 60_000
        assert html.count("review-item") == 0
        assert 'href="?show=all#review-heading"' in html and 'hx-get="?show=all"' in html
        fragment = alice_client.get(url("report", submitted) + "?show=all", **HTMX)
        assert fragment.content.decode().count("review-item") == 65
        printed = alice_client.get(url("report", submitted) + "?print=full").content.decode()
        assert printed.count("review-item") == 65 and "print-full" in printed
