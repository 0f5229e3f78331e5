"""The answer record under everything a real candidate does: two devices, stale pages,
signed-out sessions, forged posts and a look at the page source."""

from __future__ import annotations

import math
import random
import re

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.decorators import MSG_SIGNED_OUT
from config.views import MSG_CSRF
from exams import services
from exams.models import Attempt, AttemptItem
from questions.models import Choice, Question
from questions.services import bank_load
from tests.conftest import QUESTIONS, fill_bank

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def attempt(alice, exam, full_bank) -> Attempt:
    return services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(7))


def answer_url(attempt: Attempt, position: int) -> str:
    return reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": position})


def question_url(attempt: Attempt, position: int) -> str:
    return reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": position})


def stored(attempt: Attempt, position: int) -> AttemptItem:
    return AttemptItem.objects.select_related("version").get(attempt=attempt, position=position)


def page_state(client: Client, attempt: Attempt, position: int) -> dict[str, str]:
    """What a drawn question page would post back: its revision and drawn selection."""
    html = client.get(question_url(attempt, position)).content.decode()
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
    drawn = re.search(r'name="drawn" value="([\d,]*)"', html).group(1)
    return {"revision": revision, "drawn": drawn}


@pytest.fixture
def laptop(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def phone(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


class TestAStalePageNeverOverwrites:
    """Case 1: question 7 open on a laptop, answered on a phone, then Next on the laptop."""

    @pytest.mark.parametrize("go", ["next", "previous", "review", "stay"])
    def test_navigating_from_a_stale_page_keeps_the_newer_answer(self, laptop, phone, attempt, go):
        laptop_page = page_state(laptop, attempt, 7)
        phone_page = page_state(phone, attempt, 7)
        saved = phone.post(answer_url(attempt, 7), {"choice": "3", **phone_page}, **HTMX)
        assert saved.status_code == 200
        chosen = stored(attempt, 7).selected
        assert chosen == [stored(attempt, 7).choice_order[2]]

        response = laptop.post(answer_url(attempt, 7), {"go": go, **laptop_page})

        assert response.status_code == 302
        assert stored(attempt, 7).selected == chosen

    def test_a_deliberate_change_on_a_stale_page_is_refused_and_says_why(
        self, laptop, phone, attempt
    ):
        laptop_page = page_state(laptop, attempt, 7)
        phone.post(answer_url(attempt, 7), {"choice": "3", **page_state(phone, attempt, 7)}, **HTMX)
        chosen = stored(attempt, 7).selected

        response = laptop.post(
            answer_url(attempt, 7), {"choice": "1", "go": "next", **laptop_page}, follow=True
        )

        assert stored(attempt, 7).selected == chosen
        assert services.MSG_CHANGED_ELSEWHERE in response.content.decode()
        assert response.redirect_chain[-1][0] == question_url(attempt, 7)

    def test_a_stale_htmx_save_is_refused_and_the_stored_answer_redrawn(
        self, laptop, phone, attempt
    ):
        """The same with two tabs, both with JavaScript."""
        tab_one = page_state(laptop, attempt, 7)
        tab_two = page_state(phone, attempt, 7)
        phone.post(answer_url(attempt, 7), {"choice": "3", **tab_two}, **HTMX)
        chosen = stored(attempt, 7).selected

        response = laptop.post(answer_url(attempt, 7), {"choice": "2", **tab_one}, **HTMX)

        assert response.status_code == 422
        html = response.content.decode()
        assert services.MSG_CHANGED_ELSEWHERE in html
        assert re.search(r'value="3"\s+data-key="3" checked', html)
        assert f'name="revision" value="{stored(attempt, 7).revision}"' in html
        assert stored(attempt, 7).selected == chosen

    def test_consecutive_saves_from_one_page_each_carry_the_new_revision(self, laptop, attempt):
        page = page_state(laptop, attempt, 7)
        first = laptop.post(answer_url(attempt, 7), {"choice": "1", **page}, **HTMX)
        revision = re.search(r'name="revision" value="(\d+)"', first.content.decode()).group(1)
        drawn = re.search(r'name="drawn" value="([\d,]*)"', first.content.decode()).group(1)
        assert (revision, drawn) == ("1", "1")
        second = laptop.post(
            answer_url(attempt, 7), {"choice": "2", "revision": revision, "drawn": drawn}, **HTMX
        )
        assert second.status_code == 200
        assert stored(attempt, 7).selected == [stored(attempt, 7).choice_order[1]]
        # With JavaScript the page then navigates with the updated state: no write at all.
        laptop.post(
            answer_url(attempt, 7), {"choice": "2", "go": "next", "revision": "2", "drawn": "2"}
        )
        assert stored(attempt, 7).revision == 2

    def test_a_form_without_its_revision_cannot_overwrite(self, laptop, attempt):
        laptop.post(
            answer_url(attempt, 7), {"choice": "1", **page_state(laptop, attempt, 7)}, **HTMX
        )
        laptop.post(answer_url(attempt, 7), {"choice": "2", "drawn": ""}, **HTMX)
        assert stored(attempt, 7).selected == [stored(attempt, 7).choice_order[0]]

    def test_the_service_refuses_a_stale_revision(self, alice, attempt):
        item = AttemptItem.objects.select_related("attempt", "version").get(
            attempt=attempt, position=7
        )
        services.attempt_answer(item=item, choice_ids=item.choice_order[:1], revision=0)
        with pytest.raises(services.StaleAnswer) as refused:
            services.attempt_answer(item=item, choice_ids=item.choice_order[1:2], revision=0)
        assert refused.value.item.selected == item.choice_order[:1]
        assert stored(attempt, 7).selected == item.choice_order[:1]


class TestSignedOutMidExam:
    """Case 2: a signed-out or expired session, and a CSRF token from before a log-in."""

    @pytest.mark.parametrize("view", ["answer", "flag"])
    def test_an_htmx_click_takes_the_whole_page_to_log_in_and_back(self, client, attempt, view):
        url = reverse(f"exams:{view}", kwargs={"attempt_id": attempt.pk, "position": 4})
        response = client.post(url, {"choice": "1", "flagged": "1"}, **HTMX)
        assert response.status_code == 401
        target = response["HX-Redirect"]
        assert target.startswith(reverse("accounts:login"))
        assert "next=" + question_url(attempt, 4).replace("/", "%2F") in target
        login_page = client.get(target).content.decode()
        assert MSG_SIGNED_OUT.replace("'", "&#x27;") in login_page
        assert stored(attempt, 4).selected == [] and not stored(attempt, 4).flagged

    def test_a_plain_post_after_sign_out_returns_to_the_question_not_a_post_url(
        self, client, alice, attempt
    ):
        response = client.post(answer_url(attempt, 4), {"choice": "1", "go": "next"})
        assert response.status_code == 302
        assert "next=" + question_url(attempt, 4).replace("/", "%2F") in response.url
        client.force_login(alice)
        assert client.get(question_url(attempt, 4)).status_code == 200

    def test_a_stale_csrf_token_gets_a_message_in_the_status_area(self, alice, attempt):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        client.get(question_url(attempt, 4))
        response = client.post(
            answer_url(attempt, 4), {"choice": "1"}, HTTP_X_CSRFTOKEN="stale" * 8, **HTMX
        )
        assert response.status_code == 403
        assert response["HX-Retarget"] == "#save-status"
        assert "Your session changed" in response.content.decode()
        assert stored(attempt, 4).selected == []

    def test_a_stale_csrf_token_on_a_plain_post_shows_a_page_of_the_site(self, alice, attempt):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        response = client.post(answer_url(attempt, 4), {"choice": "1", "go": "next"})
        assert response.status_code == 403
        html = response.content.decode()
        assert "<h1>Your session changed</h1>" in html
        assert MSG_CSRF.split(" (")[0] in html
        assert 'class="site-header"' in html


class TestTheKeyCannotBeReadFromThePage:
    """Case 4: the values a page posts carry no file order."""

    def test_choices_post_their_shown_positions_never_ids(self, laptop, attempt):
        for position in (1, 2, 3):
            html = laptop.get(question_url(attempt, position)).content.decode()
            values = re.findall(r'name="choice" value="([^"]*)"', html)
            assert values == [str(n) for n in range(1, len(values) + 1)]
            ids = Choice.objects.filter(version=stored(attempt, position).version_id)
            for choice in ids:
                assert f'value="{choice.pk}" data-key' not in html or choice.pk <= len(values)

    def test_lowest_value_and_first_in_source_strategies_score_at_chance_over_the_bank(
        self, alice, exam
    ):
        """Every active question of the shipped bank in one attempt; the strategy picks the
        `select` lowest posted values (for one answer: the first choice in the source).
        Bound: chance plus four standard deviations of the binomial count, so luck alone
        passes it with probability below 1 in 30,000, while the old id-based values (file
        order, keys often first for multiple response) scored far above it."""
        bank_load(paths=[QUESTIONS])
        ids = list(
            Question.objects.filter(status=Question.Status.ACTIVE).values_list("id", flat=True)
        )
        attempt = services._create_attempt(
            user=alice,
            exam=exam,
            mode=Attempt.Mode.DRILL,
            question_ids=ids,
            minutes=None,
            feedback=Attempt.Feedback.AT_END,
            now=None or services.timezone.now(),
            rng=random.Random(2026),
        )
        keys: dict[int, set[int]] = {}
        for version_id, choice_id in Choice.objects.filter(
            version__attempt_items__attempt=attempt, is_correct=True
        ).values_list("version_id", "id"):
            keys.setdefault(version_id, set()).add(choice_id)
        for kind in ("single", "multiple"):
            items = list(attempt.items.select_related("version").filter(version__type=kind))
            hits = 0
            expected = variance = 0.0
            for it in items:
                k = it.version.select_count
                lowest_values = set(it.choice_order[:k])  # positions 1..k
                hits += lowest_values == keys[it.version_id]
                p = 1 / math.comb(len(it.choice_order), k)
                expected += p
                variance += p * (1 - p)
            assert len(items) > 50
            assert hits <= expected + 4 * math.sqrt(variance), (kind, hits, expected)


class TestARunningMockStaysSecret:
    """Case 5: drills and missed practice never draw, nor reveal, a running mock's question."""

    def test_a_drill_never_draws_a_question_of_the_running_mock(self, alice, exam):
        fill_bank(exam, per_domain={1: 26, 2: 32, 3: 46, 4: 26})
        mock = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(1))
        in_mock = set(mock.items.values_list("question_id", flat=True))
        for seed in range(5):
            started = services.attempt_start_drill(
                user=alice,
                exam=exam,
                domain_numbers=[1, 2, 3, 4],
                count=65,
                timed=False,
                feedback=Attempt.Feedback.IMMEDIATE,
                rng=random.Random(seed),
            )
            drawn = set(started.attempt.items.values_list("question_id", flat=True))
            assert drawn and not drawn & in_mock
            services.attempt_abandon(attempt=started.attempt)  # one open drill at a time

    def test_a_bank_held_entirely_by_the_mock_leaves_nothing_to_drill(self, alice, exam, full_bank):
        services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(1))
        with pytest.raises(services.BankShortfall):
            services.attempt_start_drill(
                user=alice,
                exam=exam,
                domain_numbers=[1],
                count=5,
                timed=False,
                feedback="immediate",
            )

    def test_feedback_is_refused_on_a_question_that_a_later_mock_drew(self, alice, exam, full_bank):
        drill = services.attempt_start_drill(
            user=alice, exam=exam, domain_numbers=[1], count=5, timed=False, feedback="immediate"
        ).attempt
        services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(1))
        item = drill.items.select_related("attempt", "version").first()
        services.attempt_answer(item=item, choice_ids=item.choice_order[:1], revision=0)
        with pytest.raises(services.AnswerRefused) as refused:
            services.attempt_reveal(item=item)
        assert refused.value.message == services.MSG_IN_RUNNING_MOCK
        assert not stored(drill, item.position).revealed


POST_VIEWS = [
    ("exams:start_full_mock", {}),
    ("exams:drill", {}),
    ("exams:start_domain_drill", {}),
    ("exams:start_missed", {}),
]
BIG = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "1.10", "9.9", "1e309", "NaN", "-0", "\uff11", "1\n", " 2 ", "\x00"]),
    st.text(max_size=12),
)


class TestEveryInputIsBounded:
    """Case 6: numbers out of range and other forged values never give a 5xx."""

    def test_the_reported_overflow_is_a_plain_message(self, alice_client, full_bank):
        response = alice_client.post(
            reverse("exams:start_domain_drill"), {"domain": "9223372036854775808"}, follow=True
        )
        assert response.status_code == 200
        assert services.MSG_UNKNOWN_DOMAIN in response.content.decode()
        assert not Attempt.objects.exists()

    @hsettings(max_examples=60, suppress_health_check=list(HealthCheck))
    @given(
        view=st.sampled_from(["answer", "flag", "submit"]),
        position=st.integers(min_value=-5, max_value=2**66),
        fields=st.dictionaries(
            st.sampled_from(["choice", "revision", "drawn", "go", "flagged", "confirm"]), BIG
        ),
        htmx=st.booleans(),
    )
    def test_attempt_posts_never_fail_on_forged_values(
        self, alice_client, attempt, view, position, fields, htmx
    ):
        kwargs = {"attempt_id": attempt.pk}
        if view != "submit":
            kwargs["position"] = abs(position)
        response = alice_client.post(
            reverse(f"exams:{view}", kwargs=kwargs), fields, **(HTMX if htmx else {})
        )
        assert response.status_code < 500

    @hsettings(max_examples=60, suppress_health_check=list(HealthCheck))
    @given(
        index=st.integers(min_value=0, max_value=len(POST_VIEWS) - 1),
        fields=st.dictionaries(
            st.sampled_from(["domain", "domains", "tasks", "count", "timed", "feedback"]), BIG
        ),
    )
    def test_start_posts_never_fail_on_forged_values(self, alice_client, full_bank, index, fields):
        name, _ = POST_VIEWS[index]
        response = alice_client.post(reverse(name), fields)
        assert response.status_code < 500

    @pytest.mark.parametrize("position", [0, 66, 2**31, 2**63, 2**64 + 1])
    def test_out_of_range_positions_are_not_found(self, alice_client, attempt, position):
        for name in ("question",):
            url = reverse(f"exams:{name}", kwargs={"attempt_id": attempt.pk, "position": position})
            assert alice_client.get(url).status_code == 404
        assert alice_client.post(answer_url(attempt, position), {"choice": "1"}).status_code == 404


def test_moving_on_while_the_same_answer_is_already_stored_is_not_stale(laptop, attempt):
    """Next pressed while the page's own htmx save was in flight: the form still carries the
    old revision, but what it would write is exactly what is stored, so it goes through."""
    page = page_state(laptop, attempt, 7)
    laptop.post(answer_url(attempt, 7), {"choice": "2", **page}, **HTMX)
    response = laptop.post(answer_url(attempt, 7), {"choice": "2", "go": "next", **page})
    assert response.url == question_url(attempt, 8)
    assert stored(attempt, 7).selected == [stored(attempt, 7).choice_order[1]]
    assert stored(attempt, 7).revision == 1
