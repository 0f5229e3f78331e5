"""The exam loop's query counts are exact and stay the same whatever the size of the bank
and of the candidate's history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exams import selectors, services
from exams.models import Attempt, AttemptItem
from questions.models import Choice
from questions.services import bank_revision_bump
from tests.exams.test_practice_views import full_mock_done
from tests.factories import QuestionFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def grow_bank(exam, per_task: int = 12) -> None:
    """Add `per_task` questions to every task statement (the shipped blueprint has 20:
    a full mock's 65-question bank grows about fourfold)."""
    for domain in exam.domains.prefetch_related("tasks"):
        for task in domain.tasks.all():
            for n in range(per_task):
                QuestionFactory(external_id=f"grown-{task.code.replace('.', '-')}-{n}", task=task)


def mock_with_misses(user, exam, *, wrong: int, at) -> Attempt:
    """A submitted full mock: the first `wrong` questions answered wrong, the rest right."""
    attempt = services.attempt_start_full_mock(user=user, exam=exam, now=at)
    for it in attempt.items.select_related("attempt", "version").order_by("position"):
        key = set(
            Choice.objects.filter(version=it.version, is_correct=True).values_list("id", flat=True)
        )
        other = [c for c in it.choice_order if c not in key]
        picked = other[:1] if it.position <= wrong else [c for c in it.choice_order if c in key]
        services.attempt_answer(item=it, revision=it.revision, choice_ids=picked, now=at)
    return services.attempt_submit(attempt=attempt, now=at + timedelta(minutes=30))


# session, user, exam, overdue attempts, running mock, domains, pool sizes, questions
# seen in the latest attempts, one draw per domain (4), and in one transaction (savepoint ... release): versions, choices, the
# attempt, its items
EXPECTED_START_QUERIES = 18


def start_and_count(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("exams:start_full_mock"), {"begin": "1"})
    assert response.status_code == 302
    Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).update(
        status=Attempt.Status.ABANDONED, submitted_at=timezone.now()
    )
    return len(captured)


@pytest.mark.django_db
class TestQueriesDoNotGrow:
    def test_a_full_mock_start_takes_the_same_queries_with_a_bigger_bank_and_history(
        self, alice_client, alice, exam, full_bank
    ):
        small = start_and_count(alice_client)
        assert small == EXPECTED_START_QUERIES
        grow_bank(exam)
        for hours in (9, 8, 7):
            full_mock_done(alice, exam, right=30, at=timezone.now() - timedelta(hours=hours))
        assert start_and_count(alice_client) == small

    def test_the_dashboard_takes_eight_queries_then_four_with_a_small_or_a_bigger_bank(
        self, alice_client, alice, exam, full_bank, django_assert_num_queries
    ):
        full_mock_done(alice, exam, right=20, at=timezone.now() - timedelta(hours=9))
        with django_assert_num_queries(8):
            alice_client.get(reverse("exams:dashboard"))
        with django_assert_num_queries(4):  # memoised: see test_dashboard_memo
            alice_client.get(reverse("exams:dashboard"))
        grow_bank(exam)
        bank_revision_bump()  # as every service that writes the bank does
        for hours in (8, 7, 6):
            full_mock_done(alice, exam, right=40, at=timezone.now() - timedelta(hours=hours))
        with django_assert_num_queries(8):
            alice_client.get(reverse("exams:dashboard"))
        with django_assert_num_queries(4):
            alice_client.get(reverse("exams:dashboard"))
        # Another submission: the bank's sizes are still memoised, for every candidate.
        full_mock_done(alice, exam, right=50, at=timezone.now() - timedelta(hours=5))
        with django_assert_num_queries(7):
            alice_client.get(reverse("exams:dashboard"))

    def test_the_missed_pool_is_one_query_whatever_the_history(
        self, alice, exam, full_bank, django_assert_num_queries
    ):
        mock_with_misses(alice, exam, wrong=45, at=timezone.now() - timedelta(hours=9))
        with django_assert_num_queries(1):
            first = selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk)
        assert len(first) == 45
        for hours in (8, 7):
            mock_with_misses(alice, exam, wrong=0, at=timezone.now() - timedelta(hours=hours))
        with django_assert_num_queries(1):
            # Two correct answers in a row since: every question has left the pool.
            assert selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk) == {}


@pytest.mark.django_db
class TestTheExamLoop:
    @pytest.fixture
    def attempt(self, alice_client, exam, full_bank) -> Attempt:
        response = alice_client.post(reverse("exams:start_full_mock"), {"begin": "1"})
        return Attempt.objects.get(pk=response.url.split("/")[2])

    def test_changing_an_answer_takes_four_queries_and_a_first_answer_five(
        self, alice_client, attempt, django_assert_num_queries
    ):
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 1})
        # session, user, item + attempt + version fields, guarded UPDATE, answered count
        with django_assert_num_queries(5):
            alice_client.post(url, {"choice": "1", "revision": 0}, **HTMX)
        # ... and no count when the answered count cannot have changed
        with django_assert_num_queries(4):
            response = alice_client.post(url, {"choice": "2", "revision": 1}, **HTMX)
        assert 'id="progress"' not in response.content.decode()
        item = AttemptItem.objects.get(attempt=attempt, position=1)
        assert item.selected == [item.choice_order[1]] and item.revision == 2

    def test_next_with_htmx_moves_in_one_request_and_writes_only_a_change(
        self, alice_client, attempt, django_assert_num_queries
    ):
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 1})
        alice_client.get(
            reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": 1})
        )
        # session, user, the item and the next one (with versions) in one query, the
        # position's and the time's UPDATEs, choices, navigator: the unchanged answer is
        # not written
        with django_assert_num_queries(7):
            response = alice_client.post(
                url,
                {"revision": 0, "drawn": "", "go": "next"},
                HTTP_HX_TARGET="question-panel",
                **HTMX,
            )
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="question-panel"' in html and "Question 2 of 65" in html
        assert 'id="nav-grid" class="nav-grid"' in html and 'hx-swap-oob="true"' in html
        assert "<html" not in html
        assert AttemptItem.objects.get(attempt=attempt, position=1).revision == 0
        attempt.refresh_from_db()
        assert attempt.current_position == 2

    def test_a_changed_answer_with_next_or_previous_takes_eight_queries(
        self, alice_client, attempt, django_assert_num_queries
    ):
        question = reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": 5})
        alice_client.get(question)
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 5})
        # ... as above, and the answer's guarded UPDATE
        with django_assert_num_queries(8):
            response = alice_client.post(
                url,
                {"choice": "2", "revision": 0, "drawn": "", "go": "previous"},
                HTTP_HX_TARGET="question-panel",
                **HTMX,
            )
        assert "Question 4 of 65" in response.content.decode()
        item = AttemptItem.objects.get(attempt=attempt, position=5)
        assert (item.selected, item.revision) == ([item.choice_order[1]], 1)
        attempt.refresh_from_db()
        assert attempt.current_position == 4

    def test_next_on_the_last_question_stays_on_it(self, alice_client, attempt):
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 65})
        response = alice_client.post(
            url,
            {"choice": "1", "revision": 0, "drawn": "", "go": "next"},
            HTTP_HX_TARGET="question-panel",
            **HTMX,
        )
        assert "Question 65 of 65" in response.content.decode()
        assert AttemptItem.objects.get(attempt=attempt, position=65).selected

    def test_next_within_a_review_walk_goes_to_the_next_flagged_question(
        self, alice_client, attempt
    ):
        AttemptItem.objects.filter(attempt=attempt, position__in=[3, 9]).update(flagged=True)
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 3})
        response = alice_client.post(
            url,
            {"revision": 0, "drawn": "", "go": "next", "walk": "flagged"},
            HTTP_HX_TARGET="question-panel",
            **HTMX,
        )
        assert "Question 9 of 65" in response.content.decode()

    def test_a_move_on_another_users_attempt_is_404_and_writes_nothing(self, client, bob, attempt):
        client.force_login(bob)
        url = reverse("exams:answer", kwargs={"attempt_id": attempt.pk, "position": 1})
        response = client.post(
            url,
            {"choice": "1", "revision": 0, "drawn": "", "go": "next"},
            HTTP_HX_TARGET="question-panel",
            **HTMX,
        )
        assert response.status_code == 404
        assert not AttemptItem.objects.filter(attempt=attempt).exclude(selected=[]).exists()
        attempt.refresh_from_db()
        assert attempt.current_position == 1

    def test_a_navigator_move_swaps_only_the_question_panel(self, alice_client, attempt):
        url = reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": 7})
        fragment = alice_client.get(url, HTTP_HX_TARGET="question-panel", **HTMX)
        page = alice_client.get(url)
        assert "<html" not in fragment.content.decode() and "<html" in page.content.decode()
        assert "X-Ms-Left" in fragment and "HX-Request" in fragment["Vary"]
        restore = alice_client.get(
            url, HTTP_HX_TARGET="question-panel", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
        )
        assert "<html" in restore.content.decode()

    def test_the_navigator_links_every_question_without_a_lookup_per_cell(
        self, alice_client, attempt
    ):
        html = alice_client.get(
            reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": 3})
        ).content.decode()
        assert html.count('href="../') == 65
        assert (
            '<a href="../3/" class="nav-cell" aria-current="page" aria-label="3 unanswered">'
            in html
        )


@pytest.mark.django_db
def test_next_with_htmx_moves_on_from_a_revealed_answer(alice_client, alice, exam, full_bank):
    started = services.attempt_start_drill(
        user=alice, exam=exam, domain_numbers=[3], count=5, timed=False, feedback="immediate"
    ).attempt
    it = AttemptItem.objects.select_related("attempt", "version").get(attempt=started, position=1)
    services.attempt_answer(item=it, choice_ids=it.choice_order[:1], revision=0)
    services.attempt_reveal(item=it)
    url = reverse("exams:answer", kwargs={"attempt_id": started.pk, "position": 1})
    response = alice_client.post(
        url, {"revision": 1, "drawn": "1", "go": "next"}, HTTP_HX_TARGET="question-panel", **HTMX
    )
    assert response.status_code == 200 and "Question 2 of 5" in response.content.decode()


@pytest.mark.django_db
def test_reads_of_open_attempts_are_not_ordered_through_the_history(alice, exam, full_bank):
    """The model's default order (newest first) would lead the planner to the (user,
    started_at) index and through every attempt the user ever took; the reads of the open
    ones carry no ORDER BY, so the (user, status) index answers them."""
    services.attempt_start_full_mock(user=alice, exam=exam)
    with CaptureQueriesContext(connection) as captured:
        assert len(selectors.in_progress_attempts(alice)) == 1
        assert selectors.running_full_mock(alice) is not None
        assert selectors.running_practice(alice) is None
        services.attempts_expire_due(user_id=alice.pk)
    assert len(captured) == 4
    assert not [q["sql"] for q in captured if "ORDER BY" in q["sql"]]
