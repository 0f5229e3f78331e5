"""More than one exam: a second exam's blueprint and questions load next to MLS-C01, a
candidate chooses it on the dashboard (remembered), and every candidate page is about it:
full mocks, drills, missed practice, history, progress and readiness. Questions never
cross from one exam's attempts into the other's.

The second exam is the one README.md shows how to load: docs/example-exam/ (three domains
weighted 50/30/20, 10 questions in 15 minutes, pass mark 70%)."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from exams import selectors, services, views
from exams.models import Attempt, AttemptItem
from questions.models import Choice, Exam, Question
from questions.services import bank_load, blueprint_load_file
from tests.conftest import ROOT, fill_bank
from tests.factories import ExamFactory, UserFactory

SAMPLE = ROOT / "docs" / "example-exam"


@pytest.fixture
def sample(db) -> Exam:
    """The second exam, loaded with the commands' own services from its files."""
    exam = blueprint_load_file(path=SAMPLE / "blueprint.yaml")
    bank_load(paths=[SAMPLE / "questions"])
    return exam


@pytest.fixture
def both(exam, full_bank, sample) -> tuple[Exam, Exam]:
    """MLS-C01 with a full mock's worth of questions, and the sample exam."""
    return exam, sample


def choose(client: Client, exam: Exam):
    return client.post(reverse("exams:choose_exam"), {"exam": str(exam.pk)})


def correct_ids(item: AttemptItem) -> list[int]:
    return list(
        Choice.objects.filter(version_id=item.version_id, is_correct=True).values_list(
            "id", flat=True
        )
    )


def wrong_ids(item: AttemptItem) -> list[int]:
    return list(
        Choice.objects.filter(version_id=item.version_id, is_correct=False).values_list(
            "id", flat=True
        )[:1]
    )


def exam_of_items(attempt: Attempt) -> set[str]:
    """The exam codes of every question in the attempt."""
    return set(attempt.items.values_list("question__task__domain__exam__code", flat=True))


def mock_done(user, exam: Exam, *, right: int, seed: int, at=None) -> Attempt:
    """A submitted full mock, the first `right` questions right and the rest wrong."""
    at = at or timezone.now()
    attempt = services.attempt_start_full_mock(
        user=user, exam=exam, now=at, rng=random.Random(seed)
    )
    for n, it in enumerate(attempt.items.select_related("attempt").order_by("position")):
        ids = correct_ids(it) if n < right else wrong_ids(it)
        services.attempt_answer(item=it, revision=it.revision, choice_ids=ids, now=at)
    return services.attempt_submit(attempt=attempt, now=at + timedelta(minutes=5))


class TestTheSecondExamsBlueprint:
    def test_it_loads_with_its_own_domains_weights_count_minutes_and_pass_mark(self, sample):
        assert (sample.code, sample.question_count, sample.minutes) == ("sample-stats", 10, 15)
        assert sample.pass_mark_percent == 70
        assert list(sample.domains.order_by("number").values_list("number", "weight_percent")) == [
            (1, 50),
            (2, 30),
            (3, 20),
        ]
        assert Question.objects.filter(task__domain__exam=sample).count() == 13

    def test_its_mock_draws_by_its_own_weights(self, alice, sample):
        attempt = services.attempt_start_full_mock(user=alice, exam=sample)
        per_domain = sorted(attempt.items.values_list("question__task__domain__number", flat=True))
        assert [per_domain.count(n) for n in (1, 2, 3)] == [5, 3, 2]
        assert attempt.deadline - attempt.started_at == timedelta(minutes=15)
        assert exam_of_items(attempt) == {"sample-stats"}


class TestTheExamsPage:
    @pytest.fixture
    def instructor(self, db) -> Client:
        user = UserFactory(username="ines")
        user.groups.add(Group.objects.get_or_create(name="Instructors")[0])
        client = Client()
        client.force_login(user)
        return client

    def test_it_lists_every_exam_with_its_numbers_and_bank(self, instructor, both):
        page = instructor.get(reverse("instructor:exams")).content.decode()
        assert '<th scope="row">mls-c01</th>' in page
        assert '<th scope="row">sample-stats</th>' in page
        assert '<td data-label="Minutes">15</td>' in page
        assert f'href="{reverse("instructor:upload_new")}"' in page

    def test_it_takes_one_query_for_the_exams(self, instructor, both, django_assert_num_queries):
        # session, user, instructor check, exams
        with django_assert_num_queries(4):
            instructor.get(reverse("instructor:exams"))

    def test_candidates_never_see_the_page(self, alice_client):
        assert alice_client.get(reverse("instructor:exams")).status_code == 404
        assert Client().get(reverse("instructor:exams")).status_code == 302

    def test_it_loads_nothing_from_a_post(self, instructor):
        assert instructor.post(reverse("instructor:exams")).status_code == 405


class TestChoosingTheExam:
    def test_a_candidate_who_never_chose_gets_the_site_default(self, alice, both, settings):
        mls, sample = both
        assert selectors.chosen_exam(alice) == mls  # DEFAULT_EXAM_CODE is mls-c01
        settings.DEFAULT_EXAM_CODE = "sample-stats"
        assert selectors.chosen_exam(alice) == sample
        settings.DEFAULT_EXAM_CODE = "no-such-exam"
        assert selectors.chosen_exam(alice) == mls  # the first exam by code

    def test_the_chooser_is_shown_only_when_there_is_a_second_exam(self, alice_client, exam):
        assert 'name="exam"' not in alice_client.get(reverse("exams:dashboard")).content.decode()
        blueprint_load_file(path=SAMPLE / "blueprint.yaml")
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
        assert f'<option value="{exam.pk}" selected>{exam.name}</option>' in html
        assert "Sample - Statistics Foundations</option>" in html
        assert 'action="/exams/choose/"' in html and "csrfmiddlewaretoken" in html

    def test_the_choice_is_remembered_across_sessions(self, alice, alice_client, both):
        mls, sample = both
        response = choose(alice_client, sample)
        assert response.status_code == 302 and response.url == reverse("exams:dashboard")
        assert Profile.objects.get(user=alice).exam == sample
        alice_client.logout()
        other_device = Client()
        other_device.force_login(alice)
        html = other_device.get(reverse("exams:dashboard")).content.decode()
        assert "<title>Dashboard · Sample - Statistics Foundations · mlsprep</title>" in html
        assert "Describing Data" in html and "Data Engineering" not in html
        assert selectors.chosen_exam(alice) == sample
        choose(other_device, mls)
        assert Profile.objects.filter(user=alice).count() == 1
        assert selectors.chosen_exam(alice) == mls

    def test_a_chosen_exam_that_is_removed_falls_back_to_the_default(self, alice, both):
        mls, _sample = both
        retired = ExamFactory(code="retired-exam")  # no questions: an exam can be removed
        profile = Profile.objects.create(user=alice, exam=retired)
        assert selectors.chosen_exam(alice) == retired
        retired.delete()
        profile.refresh_from_db()
        assert profile.exam is None and selectors.chosen_exam(alice) == mls

    def test_someone_elses_choice_changes_nothing_for_me(self, alice, both):
        mls, sample = both
        bob = Client()
        bob.force_login(UserFactory(username="bob"))
        choose(bob, sample)
        assert selectors.chosen_exam(alice) == mls

    @pytest.mark.parametrize("forged", ["999999", "abc", "", "1.5"])
    def test_a_forged_exam_choice_gets_a_clear_message(self, alice, alice_client, both, forged):
        _mls, sample = both
        choose(alice_client, sample)
        response = alice_client.post(reverse("exams:choose_exam"), {"exam": forged}, follow=True)
        assert response.status_code == 200
        assert views.MSG_UNKNOWN_EXAM in response.content.decode()
        assert selectors.chosen_exam(alice) == sample  # the earlier choice is kept

    def test_choosing_needs_a_login_and_a_post(self, alice_client, both):
        assert Client().post(reverse("exams:choose_exam"), {"exam": "1"}).status_code == 302
        assert alice_client.get(reverse("exams:choose_exam")).status_code == 405


class TestAFullMockOfTheSecondExam:
    def test_start_answer_submit_report_with_its_own_numbers(self, alice, alice_client, both):
        _mls, sample = both
        choose(alice_client, sample)
        html = alice_client.get(reverse("exams:start_full_mock")).content.decode()
        assert "Sample - Statistics Foundations" in html
        assert "<dt>Questions</dt><dd>10</dd>" in html
        assert "<dt>Time</dt><dd>15 minutes</dd>" in html
        assert "<dt>Pass mark</dt><dd>70%</dd>" in html
        assert "Describing Data" in html and "Data Engineering" not in html

        response = alice_client.post(reverse("exams:start_full_mock"))
        attempt = Attempt.objects.get(user=alice)
        assert response.url == reverse("exams:attempt", kwargs={"attempt_id": attempt.pk})
        assert (attempt.exam, attempt.question_count, attempt.pass_mark_percent) == (
            sample,
            10,
            70,
        )
        page = alice_client.get(reverse("exams:question", args=[attempt.pk, 1]))
        assert "Sample - Statistics Foundations · Full mock" in page.content.decode()

        # Seven right and three wrong, through the answer form as a page posts it.
        for it in attempt.items.order_by("position"):
            ids = correct_ids(it) if it.position <= 7 else wrong_ids(it)
            response = alice_client.post(
                reverse("exams:answer", args=[attempt.pk, it.position]),
                {
                    "choice": [str(it.choice_order.index(c) + 1) for c in ids],
                    "drawn": "",
                    "revision": str(it.revision),
                    "go": "next",
                },
            )
            assert response.status_code == 302
        response = alice_client.post(reverse("exams:submit", args=[attempt.pk]), {"confirm": "yes"})
        assert response.url == reverse("exams:report", kwargs={"attempt_id": attempt.pk})

        attempt.refresh_from_db()
        result = attempt.result
        assert (result["correct"], result["total"], result["pass_mark_percent"]) == (7, 10, 70)
        assert result["passed"] is True  # 70% meets a 70% pass mark
        assert [(d["number"], d["total"]) for d in result["domains"]] == [(1, 5), (2, 3), (3, 2)]
        report = alice_client.get(reverse("exams:report", args=[attempt.pk])).content.decode()
        assert "<title>Report · Sample - Statistics Foundations · mlsprep</title>" in report
        assert "7 of 10 correct" in report and "The pass mark is 70%." in report
        assert "1. Describing Data" in report and "Data Engineering" not in report
        assert exam_of_items(attempt) == {"sample-stats"}


class TestQuestionsNeverCrossExams:
    def test_mocks_drills_and_missed_practice_of_each_exam_draw_only_its_questions(
        self, alice, both
    ):
        mls, sample = both
        for seed in range(3):
            mock_done(alice, sample, right=4, seed=seed)
            mock_done(alice, mls, right=30, seed=seed)
        for exam, domains in ((sample, [1, 2, 3]), (mls, [1, 2, 3, 4])):
            drill = services.attempt_start_drill(
                user=alice,
                exam=exam,
                domain_numbers=domains,
                count=10,
                timed=False,
                feedback=Attempt.Feedback.AT_END,
            ).attempt
            services.attempt_submit(attempt=drill)
            missed = services.attempt_start_missed(user=alice, exam=exam, count=10).attempt
            services.attempt_submit(attempt=missed)
        attempts = Attempt.objects.filter(user=alice)
        assert attempts.count() == 10
        for attempt in attempts:
            assert exam_of_items(attempt) == {attempt.exam.code}, attempt.get_mode_display()

    def test_the_missed_pool_and_readiness_are_per_exam(self, alice, both):
        mls, sample = both
        mock_done(alice, sample, right=4, seed=1)
        mock_done(alice, mls, right=60, seed=1)
        sample_pool = selectors.missed_pool(user_id=alice.pk, exam_id=sample.pk)
        mls_pool = selectors.missed_pool(user_id=alice.pk, exam_id=mls.pk)
        assert len(sample_pool) == 6 and len(mls_pool) == 5
        assert not set(sample_pool) & set(mls_pool)
        assert set(
            Question.objects.filter(id__in=sample_pool).values_list(
                "task__domain__exam__code", flat=True
            )
        ) == {"sample-stats"}
        sample_counts = selectors.readiness_counts(user=alice, exam=sample)
        assert set(sample_counts) == {1, 2, 3}
        assert sum(total for _, total in sample_counts.values()) == 10
        assert sum(right for right, _ in sample_counts.values()) == 4
        mls_counts = selectors.readiness_counts(user=alice, exam=mls)
        assert sum(total for _, total in mls_counts.values()) == 65


class TestEveryPageIsAboutTheChosenExam:
    @pytest.fixture
    def history(self, alice, both):
        """Two submitted mocks of each exam, older first."""
        mls, sample = both
        now = timezone.now()
        return {
            "mls": [
                mock_done(alice, mls, right=r, seed=r, at=now - timedelta(hours=h))
                for r, h in ((30, 9), (50, 8))
            ],
            "sample": [
                mock_done(alice, sample, right=r, seed=r, at=now - timedelta(hours=h))
                for r, h in ((3, 7), (6, 6))
            ],
        }

    def test_the_dashboard_shows_the_chosen_exams_bank_missed_and_last_mock(
        self, alice, alice_client, both, history
    ):
        mls, sample = both
        choose(alice_client, sample)
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
        assert "Preparing for <strong>Sample - Statistics Foundations</strong>" in html
        assert "10 questions in 15 minutes" in html and "pass mark 70%" in html
        assert "Last full mock: <strong>60.0%</strong> (6 / 10)" in html
        sample_missed = len(selectors.missed_pool(user_id=alice.pk, exam_id=sample.pk))
        mls_missed = len(selectors.missed_pool(user_id=alice.pk, exam_id=mls.pk))
        # The sample bank holds 13 questions; the last MLS-C01 mock had 15 wrong.
        assert sample_missed <= 13 < 15 <= mls_missed
        assert f"{sample_missed} questions you got wrong or flagged" in html
        assert re.findall(r'<td data-label="Bank">(\d+)</td>', html) == ["6", "4", "3"]
        choose(alice_client, mls)
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
        assert "Last full mock: <strong>76.9%</strong> (50 / 65)" in html
        assert f"{mls_missed} questions you got wrong or flagged" in html
        assert re.findall(r'<td data-label="Bank">(\d+)</td>', html) == ["13", "16", "23", "13"]

    def test_history_and_progress_list_only_the_chosen_exams_attempts(
        self, alice_client, both, history
    ):
        _mls, sample = both
        choose(alice_client, sample)
        page = alice_client.get(reverse("exams:history")).content.decode()
        for attempt in history["sample"]:
            assert str(attempt.pk) in page
        for attempt in history["mls"]:
            assert str(attempt.pk) not in page
        assert "<h1>Your attempts: Sample - Statistics Foundations</h1>" in page
        progress = alice_client.get(reverse("exams:progress")).content.decode()
        assert "Sample - Statistics Foundations" in progress
        assert "30.0%" in progress and "60.0%" in progress
        assert "46.2%" not in progress and "76.9%" not in progress  # MLS-C01 scores

    def test_drill_setup_and_missed_practice_use_the_chosen_exam(
        self, alice, alice_client, both, history
    ):
        _mls, sample = both
        choose(alice_client, sample)
        form = alice_client.get(reverse("exams:drill")).content.decode()
        assert "Set up a drill: Sample - Statistics Foundations" in form
        assert "Describing Data" in form and "Data Engineering" not in form
        alice_client.post(
            reverse("exams:drill"),
            {"domains": ["1", "3"], "count": "5", "feedback": "end", "begin": "1"},
        )
        drill = Attempt.objects.get(user=alice, mode=Attempt.Mode.DRILL)
        assert drill.exam == sample and exam_of_items(drill) == {"sample-stats"}
        assert set(drill.items.values_list("question__task__domain__number", flat=True)) <= {
            1,
            3,
        }
        services.attempt_submit(attempt=drill)
        alice_client.post(reverse("exams:start_missed"), {"count": ""})
        missed = Attempt.objects.get(user=alice, mode=Attempt.Mode.MISSED)
        assert missed.exam == sample and exam_of_items(missed) == {"sample-stats"}

    def test_a_drill_from_another_exams_report_drills_that_exam(
        self, alice, alice_client, both, history
    ):
        mls, sample = both
        choose(alice_client, sample)
        report = history["mls"][0]
        html = alice_client.get(reverse("exams:report", args=[report.pk])).content.decode()
        assert f'<input type="hidden" name="exam" value="{mls.pk}">' in html
        alice_client.post(reverse("exams:start_domain_drill"), {"domain": "4", "exam": mls.pk})
        drill = Attempt.objects.get(user=alice, mode=Attempt.Mode.DRILL)
        assert drill.exam == mls
        assert set(drill.items.values_list("question__task__domain__number", flat=True)) == {4}

    def test_a_forged_exam_on_a_report_drill_gets_a_message(self, alice, alice_client, both):
        response = alice_client.post(
            reverse("exams:start_domain_drill"), {"domain": "1", "exam": "999999"}, follow=True
        )
        assert views.MSG_UNKNOWN_EXAM in response.content.decode()
        assert not Attempt.objects.filter(user=alice).exists()

    def test_an_attempt_in_progress_on_the_other_exam_stays_reachable(
        self, alice, alice_client, both
    ):
        mls, sample = both
        running = services.attempt_start_full_mock(user=alice, exam=mls)
        choose(alice_client, sample)
        dashboard = alice_client.get(reverse("exams:dashboard")).content.decode()
        assert f"{mls.name}: Full mock" in dashboard
        assert reverse("exams:attempt", args=[running.pk]) in dashboard
        history = alice_client.get(reverse("exams:history")).content.decode()
        assert reverse("exams:attempt", args=[running.pk]) in history
        assert f'<span class="badge small">{mls.name}</span>' in history
        resumed = alice_client.get(reverse("exams:attempt", args=[running.pk]), follow=True)
        assert resumed.status_code == 200 and f"{mls.name} · Full mock" in (
            resumed.content.decode()
        )
        # One full mock at a time, whichever exam: starting another resumes the running one.
        response = alice_client.get(reverse("exams:start_full_mock"))
        assert response.url == reverse("exams:attempt", kwargs={"attempt_id": running.pk})


def test_the_dashboard_takes_the_same_queries_with_two_exams(
    alice, alice_client, exam, django_assert_num_queries
):
    fill_bank(exam)
    mock_done(alice, exam, right=40, seed=1)
    # session, user, in progress (the overdue ones submitted from it), the chosen exam with
    # every exam with the count of submitted attempts on each (one query); then last mocks, bank, readiness counts,
    # missed pool, computed once for the exam's bank revision and the history stamp
    with django_assert_num_queries(8):
        alice_client.get(reverse("exams:dashboard"))
    sample = blueprint_load_file(path=SAMPLE / "blueprint.yaml")
    bank_load(paths=[SAMPLE / "questions"])
    with django_assert_num_queries(8):
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
    assert "Switch exam" in html
    with django_assert_num_queries(4):
        alice_client.get(reverse("exams:dashboard"))
    choose(alice_client, sample)
    mock_done(alice, sample, right=5, seed=2)
    with django_assert_num_queries(8):
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
    assert "Preparing for <strong>Sample - Statistics Foundations</strong>" in html
    with django_assert_num_queries(4):
        alice_client.get(reverse("exams:dashboard"))
