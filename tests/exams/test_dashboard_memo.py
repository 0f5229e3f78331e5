"""The dashboard's figures are memoised per candidate and exam, under stamps read from the
database on every view: the bank's revision and the count of submitted attempts. A second
view costs four queries; any change to the history, the bank or a blueprint shows at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from exams import selectors, services
from exams.models import Attempt
from questions.models import Domain, Exam, Question
from questions.services import bank_load, blueprint_load_file
from tests.conftest import BLUEPRINT, fill_bank
from tests.exams.test_multi_exam import SAMPLE
from tests.exams.test_practice_views import full_mock_done
from tests.exams.test_query_bounds import mock_with_misses
from tests.questions.test_drafts import admin_form
from tests.questions.test_upload import applied, bank_file, ines, question  # noqa: F401

pytestmark = pytest.mark.django_db


def standing_html(client) -> str:
    """The dashboard's "Where you stand" section (no form, so no per-render token)."""
    html = client.get(reverse("exams:dashboard")).content.decode()
    start = html.index('id="last-heading"')
    return html[start : html.index("</section>", start)]


def column(html: str, label: str) -> list[int]:
    """A number column of the per-domain table, domain 1 first."""
    return [int(n) for n in re.findall(rf'data-label="{label}">(\d+)<', html)]


@pytest.fixture
def banked(exam):
    fill_bank(exam)
    return exam


def test_a_second_view_takes_four_queries_and_shows_the_same_figures(
    alice, alice_client, banked, django_assert_num_queries
):
    full_mock_done(alice, banked, right=40, at=timezone.now() - timedelta(hours=3))
    # session, user, in progress, every exam with the chosen one, its bank revision and
    # the count of submitted attempts; then, computed once: last mocks, bank sizes,
    # readiness counts, missed pool.
    with django_assert_num_queries(8):
        first = standing_html(alice_client)
    with django_assert_num_queries(4):
        again = standing_html(alice_client)
    assert again == first
    assert "Last full mock: <strong>61.5%</strong> (40 / 65)" in first


def test_a_submission_shows_at_the_next_view(alice, alice_client, banked):
    mock_with_misses(alice, banked, wrong=25, at=timezone.now() - timedelta(hours=3))
    before = standing_html(alice_client)
    assert sum(column(before, "Missed")) == 25
    mock_with_misses(alice, banked, wrong=5, at=timezone.now() - timedelta(hours=2))
    after = standing_html(alice_client)
    assert "Last full mock: <strong>92.3%</strong> (60 / 65)" in after
    assert "(last 2 mocks)" in after


def test_a_mock_timed_out_before_the_last_submission_still_shows(alice, alice_client, banked):
    """The stamp is a count, not the latest submission time: a mock that runs out is
    submitted at its deadline, which can be earlier than the last attempt submitted."""
    now = timezone.now()
    full_mock_done(alice, banked, right=10, at=now - timedelta(minutes=50))  # ends now - 20 min
    mock = services.attempt_start_full_mock(
        user=alice, exam=banked, now=now - timedelta(minutes=10)
    )
    first = mock.items.select_related("attempt", "version").get(position=1)
    services.attempt_answer(item=first, revision=0, choice_ids=first.choice_order[:1], now=now)
    before = standing_html(alice_client)
    assert "(last 1 mock)" in before
    # The running mock's deadline is moved before the other mock's submission: the next
    # view submits it, at that deadline.
    deadline = now - timedelta(minutes=30)
    Attempt.objects.filter(pk=mock.pk).update(
        started_at=deadline - timedelta(minutes=170), deadline=deadline
    )
    after = standing_html(alice_client)
    mock.refresh_from_db()
    assert (mock.status, mock.submitted_at) == (Attempt.Status.SUBMITTED, deadline)
    assert "(last 2 mocks)" in after
    assert "(10 / 65)" in after  # still the latest by submission time


def test_two_candidates_with_equal_stamps_each_see_their_own_figures(alice, bob, client, banked):
    full_mock_done(alice, banked, right=40, at=timezone.now() - timedelta(hours=3))
    full_mock_done(bob, banked, right=20, at=timezone.now() - timedelta(hours=3))
    client.force_login(alice)
    assert "(40 / 65)" in standing_html(client)
    client.force_login(bob)
    assert "(20 / 65)" in standing_html(client)


def test_loading_questions_shows_in_the_bank_sizes_and_a_dry_run_changes_nothing(
    alice_client, banked
):
    assert column(standing_html(alice_client), "Bank") == [13, 16, 23, 13]
    revision = Exam.objects.get().bank_revision
    bank_load(sources=[("more.yaml", bank_file(question("d1-more-001")).decode())], dry_run=True)
    assert Exam.objects.get().bank_revision == revision
    bank_load(sources=[("more.yaml", bank_file(question("d1-more-001")).decode())])
    assert Exam.objects.get().bank_revision > revision
    assert column(standing_html(alice_client), "Bank") == [14, 16, 23, 13]


def test_an_upload_applied_in_the_browser_shows_in_the_bank_sizes(alice_client, banked, ines):  # noqa: F811
    assert column(standing_html(alice_client), "Bank")[1] == 16
    applied(ines, ("more.yaml", bank_file(question("d2-more-001", task="2.1"))))
    assert column(standing_html(alice_client), "Bank")[1] == 17


def test_retiring_a_question_in_the_admin_shows_in_bank_sizes_and_missed_counts(
    alice, alice_client, admin_client, banked
):
    mock_with_misses(alice, banked, wrong=1, at=timezone.now() - timedelta(hours=3))
    before = standing_html(alice_client)
    assert sum(column(before, "Missed")) == 1
    missed_id = next(iter(selectors.missed_pool(user_id=alice.pk, exam_id=banked.pk)))
    missed = Question.objects.select_related("current_version").get(pk=missed_id)
    url = reverse("admin:questions_question_change", args=[missed.pk])
    assert admin_client.post(url, admin_form(missed, status="retired")).status_code == 302
    after = standing_html(alice_client)
    assert sum(column(after, "Missed")) == 0
    assert sum(column(after, "Bank")) == sum(column(before, "Bank")) - 1


def test_renaming_a_domain_in_the_admin_shows_at_the_next_view(alice_client, admin_client, banked):
    domain = Domain.objects.prefetch_related("tasks").get(exam=banked, number=1)
    assert "1. Data Engineering</th>" in standing_html(alice_client)
    tasks = list(domain.tasks.all())
    form = {
        "exam": banked.pk,
        "number": 1,
        "name": "Data Engineering and Storage",
        "weight_percent": domain.weight_percent,
        "tasks-TOTAL_FORMS": len(tasks),
        "tasks-INITIAL_FORMS": len(tasks),
        "tasks-MIN_NUM_FORMS": 0,
        "tasks-MAX_NUM_FORMS": 1000,
    }
    for n, task in enumerate(tasks):
        form |= {
            f"tasks-{n}-id": task.pk,
            f"tasks-{n}-domain": domain.pk,
            f"tasks-{n}-code": task.code,
            f"tasks-{n}-name": task.name,
        }
    url = reverse("admin:questions_domain_change", args=[domain.pk])
    assert admin_client.post(url, form).status_code == 302
    assert "1. Data Engineering and Storage</th>" in standing_html(alice_client)


def test_loading_a_blueprint_raises_the_revision(banked):
    revision = Exam.objects.get().bank_revision
    assert blueprint_load_file(path=BLUEPRINT).bank_revision == revision + 1


def test_each_exam_carries_the_users_count_of_submitted_attempts_and_none_for_a_visitor(
    alice, bob, banked
):
    full_mock_done(alice, banked, right=30, at=timezone.now() - timedelta(hours=5))
    full_mock_done(alice, banked, right=30, at=timezone.now() - timedelta(hours=3))
    running = services.attempt_start_full_mock(user=alice, exam=banked)
    sample = blueprint_load_file(path=SAMPLE / "blueprint.yaml")
    chosen, exams = selectors.exam_choices(alice)
    assert chosen.pk == banked.pk and running.status == Attempt.Status.IN_PROGRESS
    assert {e.code: e.submitted_attempts for e in exams} == {banked.code: 2, sample.code: 0}
    assert [e.submitted_attempts for e in selectors.exam_choices(bob)[1]] == [0, 0]
    assert [e.submitted_attempts for e in selectors.exam_choices(None)[1]] == [0, 0]
    assert selectors.exam_choices(AnonymousUser())[0].pk == banked.pk


def test_the_bank_sizes_are_computed_once_for_every_candidate(
    alice, bob, client, banked, django_assert_num_queries
):
    client.force_login(alice)
    with django_assert_num_queries(8):
        client.get(reverse("exams:dashboard"))
    client.force_login(bob)
    # session, user, in progress, exams; last mocks, readiness counts, missed pool
    with django_assert_num_queries(7):
        assert column(standing_html(client), "Bank") == [13, 16, 23, 13]
