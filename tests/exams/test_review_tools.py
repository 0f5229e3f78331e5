"""Exam-style review tools: stepping through flagged, unanswered or all questions, and
striking choices out."""

from __future__ import annotations

import random

import pytest
from django.test import Client
from django.urls import reverse

from exams import services
from exams.models import Attempt, AttemptItem

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def attempt(alice, exam, full_bank) -> Attempt:
    attempt = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(3))
    for position in (4, 9, 30):
        services.attempt_flag(item=item(attempt, position), flagged=True)
    for position in range(1, 61):
        it = item(attempt, position)
        services.attempt_answer(item=it, choice_ids=it.choice_order[:1], revision=it.revision)
    return attempt


def item(attempt: Attempt, position: int) -> AttemptItem:
    return AttemptItem.objects.select_related("attempt", "version").get(
        attempt=attempt, position=position
    )


def question_url(attempt: Attempt, position: int, walk: str = "") -> str:
    url = reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": position})
    return f"{url}?walk={walk}" if walk else url


def go(client: Client, attempt: Attempt, position: int, where: str, walk: str):
    page = client.get(question_url(attempt, position, walk)).content.decode()
    revision = item(attempt, position).revision
    drawn = ",".join(
        str(n)
        for n, cid in enumerate(item(attempt, position).choice_order, 1)
        if cid in item(attempt, position).selected
    )
    response = client.post(
        reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": position}),
        {
            "go": where,
            "walk": walk,
            "revision": revision,
            "drawn": drawn,
            "choice": drawn.split(",") if drawn else [],
        },
    )
    return page, response.url


class TestReviewWalks:
    def test_the_review_screen_offers_each_walk(self, alice_client, attempt):
        html = alice_client.get(reverse("exams:review", args=[attempt.pk])).content.decode()
        assert question_url(attempt, 4, "flagged") in html and "Review flagged (3)" in html
        assert question_url(attempt, 61, "unanswered") in html and "Review unanswered (5)" in html
        assert question_url(attempt, 1, "all") in html

    def test_review_flagged_steps_through_the_flagged_only(self, alice_client, attempt):
        page, url = go(alice_client, attempt, 4, "next", "flagged")
        assert "Reviewing flagged questions: 1 of 3" in page
        assert url == question_url(attempt, 9, "flagged")
        _, url = go(alice_client, attempt, 9, "next", "flagged")
        assert url == question_url(attempt, 30, "flagged")
        _, url = go(alice_client, attempt, 30, "previous", "flagged")
        assert url == question_url(attempt, 9, "flagged")
        _, url = go(alice_client, attempt, 30, "next", "flagged")
        assert url == reverse("exams:review", args=[attempt.pk])

    def test_review_unanswered_steps_through_the_unanswered(self, alice_client, attempt):
        _, url = go(alice_client, attempt, 61, "next", "unanswered")
        assert url == question_url(attempt, 62, "unanswered")
        page, _ = go(alice_client, attempt, 62, "stay", "unanswered")
        assert "Reviewing unanswered questions: 2 of 5" in page

    def test_an_unknown_walk_is_ignored(self, alice_client, attempt):
        _, url = go(alice_client, attempt, 4, "next", "<script>")
        assert url == question_url(attempt, 5)


class TestStrikeOut:
    def strike(self, client, attempt, position, choice, on, **extra):
        return client.post(
            reverse("exams:strike", kwargs={"attempt_id": attempt.pk, "position": position}),
            {"strike": str(choice), "on": "1" if on else "0"},
            **extra,
        )

    def test_it_is_kept_with_the_attempt_and_never_counts_as_an_answer(
        self, alice_client, alice, attempt
    ):
        before = item(attempt, 62)
        response = self.strike(alice_client, attempt, 62, 2, True, **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="choice is-struck' in html and 'aria-pressed="true"' in html
        stored = item(attempt, 62)
        assert stored.struck == [before.choice_order[1]]
        assert stored.selected == [] and stored.revision == before.revision
        other_device = Client()
        other_device.force_login(alice)
        page = other_device.get(question_url(attempt, 62)).content.decode()
        assert page.count("is-struck") == 1 and "(struck out)" in page
        self.strike(alice_client, attempt, 62, 2, False, **HTMX)
        assert item(attempt, 62).struck == []
        services.attempt_submit(attempt=attempt)
        assert Attempt.objects.get().result["answered"] == 60

    def test_without_javascript_it_returns_to_the_question(self, alice_client, attempt):
        response = self.strike(alice_client, attempt, 62, 1, True)
        assert response.url == question_url(attempt, 62)
        assert item(attempt, 62).struck == [item(attempt, 62).choice_order[0]]

    @pytest.mark.parametrize("choice", ["0", "9", "x", ""])
    def test_a_forged_choice_is_refused(self, alice_client, attempt, choice):
        response = self.strike(alice_client, attempt, 62, choice, True, **HTMX)
        assert response.status_code == 400
        assert item(attempt, 62).struck == []

    def test_another_user_cannot_strike(self, client, bob, attempt):
        client.force_login(bob)
        assert self.strike(client, attempt, 62, 1, True).status_code == 404
