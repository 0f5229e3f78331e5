"""Problem reports: candidates report a question once its answer was shown to them;
instructors work the queue."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import services
from exams.models import Attempt, AttemptItem, ProblemReport
from tests.factories import UserFactory
from tests.instructors import HTMX, drill_done, key_of, make_group, wrong_of

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def submitted(alice, exam, full_bank) -> Attempt:
    return drill_done(alice, exam, at=NOW - timedelta(hours=2))


@pytest.fixture
def groups(exam, carol, dave, alice, bob):
    erin = UserFactory(username="erin")
    return (
        make_group("Morning", exam=exam, instructor=carol, members=[alice, bob]),
        make_group("Evening", exam=exam, instructor=dave, members=[erin]),
    )


def first_item(attempt: Attempt) -> AttemptItem:
    return attempt.items.select_related("attempt", "version").get(position=1)


def report(user, item, kind="wrong_key", comment="The key contradicts the explanation.", **kw):
    return services.problem_report_create(
        user=user, item=item, kind=kind, comment=comment, now=kw.get("now", NOW)
    )


def problem_url(item: AttemptItem) -> str:
    return reverse(
        "exams:report_problem", kwargs={"attempt_id": item.attempt_id, "position": item.position}
    )


def immediate_drill(user, exam) -> Attempt:
    return services.attempt_start_drill(
        user=user,
        exam=exam,
        domain_numbers=[2],
        count=5,
        timed=False,
        feedback=Attempt.Feedback.IMMEDIATE,
        rng=random.Random(2),
    ).attempt


class TestProblemReportCreate:
    def test_a_report_on_a_submitted_attempt_is_stored_open_against_the_version_shown(
        self, alice, submitted
    ):
        item = first_item(submitted)
        stored = report(alice, item)
        assert (stored.status, stored.kind, stored.version_id, stored.question_id) == (
            "open",
            "wrong_key",
            item.version_id,
            item.question_id,
        )
        assert stored.comment == "The key contradicts the explanation."

    def test_a_revealed_item_of_an_attempt_in_progress_can_be_reported(
        self, alice, exam, full_bank
    ):
        attempt = immediate_drill(alice, exam)
        item = first_item(attempt)
        services.attempt_answer(item=item, revision=0, choice_ids=wrong_of(item))
        services.attempt_reveal(item=item)
        assert report(alice, item).item_id == item.pk

    def test_an_item_not_revealed_yet_is_refused(self, alice, exam, full_bank):
        attempt = immediate_drill(alice, exam)
        item = first_item(attempt)
        services.attempt_answer(item=item, revision=0, choice_ids=key_of(item))
        with pytest.raises(services.ReportRefused) as refused:
            report(alice, item)
        assert refused.value.message == services.MSG_REPORT_NOT_REVEALED
        assert not ProblemReport.objects.exists()

    def test_an_abandoned_attempt_reveals_nothing_so_is_refused(self, alice, exam, full_bank):
        attempt = services.attempt_abandon(attempt=immediate_drill(alice, exam))
        with pytest.raises(services.ReportRefused):
            report(alice, first_item(attempt))

    def test_another_users_item_is_refused(self, bob, submitted):
        with pytest.raises(services.ReportRefused) as refused:
            report(bob, first_item(submitted))
        assert refused.value.message == services.MSG_REPORT_NOT_REVEALED

    def test_a_second_report_on_the_same_item_changes_nothing(self, alice, submitted):
        item = first_item(submitted)
        report(alice, item, kind="typo", comment="first")
        with pytest.raises(services.ReportRefused) as refused:
            report(alice, item, kind="other", comment="second")
        assert refused.value.message == services.MSG_REPORT_DUPLICATE
        assert list(ProblemReport.objects.values_list("kind", "comment")) == [("typo", "first")]

    def test_a_concurrent_duplicate_that_passes_the_check_is_stopped_by_the_constraint(
        self, alice, submitted, monkeypatch
    ):
        from django.db.models import QuerySet

        item = first_item(submitted)
        report(alice, item, kind="typo", comment="first")
        # As if the other request's row appeared between this one's check and its insert.
        monkeypatch.setattr(QuerySet, "exists", lambda self: False)
        with pytest.raises(services.ReportRefused) as refused:
            report(alice, item, kind="other", comment="second")
        assert refused.value.message == services.MSG_REPORT_DUPLICATE
        monkeypatch.undo()
        assert list(ProblemReport.objects.values_list("comment", flat=True)) == ["first"]

    def test_reports_beyond_the_hourly_limit_are_refused_until_the_hour_has_passed(
        self, alice, submitted, settings
    ):
        settings.PROBLEM_REPORTS_PER_HOUR = 2
        items = list(submitted.items.select_related("attempt").order_by("position"))
        report(alice, items[0], now=NOW - timedelta(minutes=50))
        report(alice, items[1], now=NOW - timedelta(minutes=10))
        with pytest.raises(services.ReportRefused) as refused:
            report(alice, items[2], now=NOW)
        assert refused.value.message == services.MSG_REPORT_FLOOD.format(limit=2)
        assert ProblemReport.objects.count() == 2
        report(alice, items[2], now=NOW + timedelta(minutes=11))
        assert ProblemReport.objects.count() == 3

    def test_the_limit_is_per_user(self, alice, bob, exam, submitted, settings):
        settings.PROBLEM_REPORTS_PER_HOUR = 1
        report(alice, first_item(submitted))
        bobs = drill_done(bob, exam, at=NOW - timedelta(hours=1))
        assert report(bob, first_item(bobs)).user == bob

    @pytest.mark.parametrize(
        ("kind", "comment", "message"),
        [
            ("broken", "", services.MSG_REPORT_UNKNOWN_KIND),
            ("", "", services.MSG_REPORT_UNKNOWN_KIND),
            ("typo", "x" * 2001, services.MSG_REPORT_TOO_LONG.format(limit=2000)),
        ],
    )
    def test_a_bad_kind_or_an_over_long_comment_is_refused(
        self, alice, submitted, kind, comment, message
    ):
        with pytest.raises(services.ReportRefused) as refused:
            report(alice, first_item(submitted), kind=kind, comment=comment)
        assert refused.value.message == message and refused.value.fixable
        assert not ProblemReport.objects.exists()

    def test_a_comment_of_exactly_the_limit_is_kept(self, alice, submitted):
        assert len(report(alice, first_item(submitted), comment="y" * 2000).comment) == 2000


class TestReportProblemView:
    def test_the_report_page_offers_the_form_on_every_question(self, alice_client, submitted):
        url = reverse("exams:report", args=[submitted.pk])
        assert "Report a problem with this question" not in alice_client.get(url).content.decode()
        # The question review, where the form is, loads on demand.
        html = alice_client.get(url, {"show": "all"}).content.decode()
        assert html.count("Report a problem with this question") == submitted.question_count
        assert problem_url(first_item(submitted)) in html

    def test_a_plain_post_stores_it_and_returns_to_the_question_in_the_report(
        self, alice_client, alice, submitted
    ):
        item = first_item(submitted)
        response = alice_client.post(problem_url(item), {"kind": "ambiguous", "comment": "B fits"})
        assert response.url == reverse("exams:report", args=[submitted.pk]) + "#rq-1"
        page = alice_client.get(response.url).content.decode()
        assert "Thanks: an instructor will look at it." in page
        assert ProblemReport.objects.get().user == alice

    def test_after_a_plain_post_the_review_shows_the_report_sent_instead_of_the_form(
        self, alice_client, submitted
    ):
        item = first_item(submitted)
        alice_client.post(problem_url(item), {"kind": "ambiguous", "comment": "B fits"})
        html = alice_client.get(
            reverse("exams:report", args=[submitted.pk]), {"show": "all"}
        ).content.decode()
        assert "You reported this question (ambiguous: more than one answer fits)" in html
        assert "An instructor will look at it." in html
        # The other questions still offer the form.
        assert html.count("Report a problem with this question") == submitted.question_count - 1

    def test_the_candidate_sees_the_instructors_resolution(
        self, alice, carol, alice_client, submitted
    ):
        item = first_item(submitted)
        sent = report(alice, item)
        services.problem_report_resolve(report=sent, by=carol, note="Key fixed in version 2.")
        review = alice_client.get(
            reverse("exams:report", args=[submitted.pk]), {"show": "all"}
        ).content.decode()
        page = alice_client.get(problem_url(item)).content.decode()
        for html in (review, page):
            assert "An instructor resolved it: <q>Key fixed in version 2.</q>" in html
        assert 'name="kind"' not in page

    def test_htmx_gets_the_thanks_in_place_of_the_form(self, alice_client, submitted):
        item = first_item(submitted)
        response = alice_client.post(problem_url(item), {"kind": "typo"}, **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="report-problem-1"' in html and "Thanks: an instructor will look at it." in html
        assert "<form" not in html

    def test_htmx_says_already_reported_on_a_second_report(self, alice_client, submitted):
        item = first_item(submitted)
        alice_client.post(problem_url(item), {"kind": "typo"}, **HTMX)
        html = alice_client.post(problem_url(item), {"kind": "other"}, **HTMX).content.decode()
        assert services.MSG_REPORT_DUPLICATE in html
        assert ProblemReport.objects.get().kind == "typo"

    def test_htmx_keeps_the_form_when_the_kind_is_missing(self, alice_client, submitted):
        html = alice_client.post(problem_url(first_item(submitted)), {}, **HTMX).content.decode()
        assert services.MSG_REPORT_UNKNOWN_KIND in html and "<form" in html

    def test_a_plain_post_without_a_kind_keeps_what_was_typed(self, alice_client, submitted):
        item = first_item(submitted)
        response = alice_client.post(problem_url(item), {"comment": "C & D overlap"})
        html = response.content.decode()
        assert response.status_code == 422
        assert services.MSG_REPORT_UNKNOWN_KIND in html and "C &amp; D overlap</textarea>" in html
        assert not ProblemReport.objects.exists()

    def test_htmx_keeps_the_chosen_kind_when_the_comment_is_too_long(self, alice_client, submitted):
        item = first_item(submitted)
        data = {"kind": "outdated", "comment": "z" * 2001}
        html = alice_client.post(problem_url(item), data, **HTMX).content.decode()
        assert 'value="outdated" required checked' in html and "z" * 2001 in html

    def test_another_users_attempt_is_404(self, client, bob, submitted):
        client.force_login(bob)
        item = first_item(submitted)
        assert client.get(problem_url(item)).status_code == 404
        assert client.post(problem_url(item), {"kind": "typo"}).status_code == 404
        assert not ProblemReport.objects.exists()

    def test_a_forged_position_is_404(self, alice_client, submitted):
        url = reverse("exams:report_problem", args=[submitted.pk, 999])
        assert alice_client.post(url, {"kind": "typo"}).status_code == 404
        absurd = f"/attempts/{submitted.pk}/questions/{10**30}/problem/"
        assert alice_client.post(absurd, {"kind": "typo"}).status_code == 404

    def test_the_page_of_an_unrevealed_item_refuses_and_shows_nothing_of_the_question(
        self, alice_client, alice, exam, full_bank
    ):
        attempt = immediate_drill(alice, exam)
        item = first_item(attempt)
        response = alice_client.get(problem_url(item))
        html = response.content.decode()
        assert response.status_code == 200
        assert services.MSG_REPORT_NOT_REVEALED in html
        assert item.version.stem not in html and "Correct answer" not in html
        assert 'name="kind"' not in html

    def test_a_post_on_an_unrevealed_item_returns_to_the_question_with_the_reason(
        self, alice_client, alice, exam, full_bank
    ):
        item = first_item(immediate_drill(alice, exam))
        response = alice_client.post(problem_url(item), {"kind": "typo"}, follow=True)
        assert services.MSG_REPORT_NOT_REVEALED in response.content.decode()
        assert response.redirect_chain[0][0] == reverse("exams:question", args=[item.attempt_id, 1])
        assert not ProblemReport.objects.exists()

    def test_immediate_feedback_links_to_the_form_once_revealed(
        self, alice_client, alice, exam, full_bank
    ):
        item = first_item(immediate_drill(alice, exam))
        question = reverse("exams:question", args=[item.attempt_id, 1])
        assert problem_url(item) not in alice_client.get(question).content.decode()
        services.attempt_answer(item=item, revision=0, choice_ids=key_of(item))
        services.attempt_reveal(item=item)
        assert problem_url(item) in alice_client.get(question).content.decode()
        form = alice_client.get(problem_url(item)).content.decode()
        assert 'name="kind"' in form and 'value="outdated"' in form

    def test_anonymous_users_are_sent_to_log_in(self, client, submitted):
        response = client.post(problem_url(first_item(submitted)), {"kind": "typo"})
        assert response.status_code == 302 and reverse("accounts:login") in response.url

    def test_other_methods_are_refused(self, alice_client, submitted):
        assert alice_client.put(problem_url(first_item(submitted))).status_code == 405

    def test_the_instructors_read_only_view_offers_no_report_form(
        self, client, carol, groups, submitted
    ):
        client.force_login(carol)
        url = reverse("instructor:candidate_attempt", args=[submitted.user_id, submitted.pk])
        html = client.get(url).content.decode()
        assert "Question review" in html and "Report a problem" not in html


class TestQueue:
    url = reverse("instructor:reports")

    def test_candidates_get_404(self, alice_client):
        assert alice_client.get(self.url).status_code == 404

    def test_anonymous_users_are_sent_to_log_in(self, client):
        assert reverse("accounts:login") in client.get(self.url).url

    def test_the_groups_instructor_sees_the_report_with_answer_against_key(
        self, client, carol, alice, groups, submitted
    ):
        item = first_item(submitted)
        report(alice, item, comment="Option C is also right")
        client.force_login(carol)
        html = client.get(self.url).content.decode()
        letters = {cid: "ABCDEFGH"[n] for n, cid in enumerate(item.choice_order)}
        assert f"Question {item.question.external_id} · version 1" in html
        assert "Option C is also right" in html and "alice" in html
        assert f"<dd>{letters[item.selected[0]]}</dd>" in html
        assert f"<dd>{''.join(sorted(letters[c] for c in key_of(item)))}</dd>" in html
        assert "The marked answer is wrong" in html

    def test_an_instructor_of_another_group_sees_nothing_of_this_group(
        self, client, dave, alice, groups, submitted
    ):
        report(alice, first_item(submitted), comment="Option C is also right")
        client.force_login(dave)
        html = client.get(self.url).content.decode()
        assert "Option C is also right" not in html and "0 reports" in html
        assert client.get(self.url, {"group": groups[0].pk}).status_code == 404

    def test_operators_see_every_report_and_the_admin_link(self, client, alice, submitted):
        stored = report(alice, first_item(submitted))
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
        html = client.get(self.url).content.decode()
        assert reverse("admin:questions_question_change", args=[stored.question_id]) in html

    def test_filters_narrow_by_kind_status_and_domain(
        self, client, carol, alice, groups, submitted
    ):
        items = list(submitted.items.select_related("attempt").order_by("position"))
        report(alice, items[0], kind="typo", comment="typo here")
        report(alice, items[1], kind="outdated", comment="outdated here")
        client.force_login(carol)
        html = client.get(self.url, {"kind": "typo"}).content.decode()
        assert "typo here" in html and "outdated here" not in html
        assert "1 report" in html
        assert "0 reports" in client.get(self.url, {"domain": "3"}).content.decode()
        assert "2 reports" in client.get(self.url, {"domain": "1"}).content.decode()
        assert "0 reports" in client.get(self.url, {"status": "resolved"}).content.decode()
        absurd = client.get(self.url, {"domain": str(10**30)}).content.decode()
        assert "2 reports" in absurd  # an impossible domain filter is ignored
        assert client.post(f"/instructor/reports/{10**30}/resolve/").status_code == 404

    def test_resolving_records_who_when_and_the_note(self, client, carol, alice, groups, submitted):
        stored = report(alice, first_item(submitted))
        client.force_login(carol)
        response = client.post(
            reverse("instructor:report_resolve", args=[stored.pk]),
            {"note": "Key fixed in version 2", "next": f"{self.url}?status=open"},
        )
        assert response.url == f"{self.url}?status=open"
        stored.refresh_from_db()
        assert (stored.status, stored.resolved_by, stored.resolution) == (
            "resolved",
            carol,
            "Key fixed in version 2",
        )
        html = client.get(self.url, {"status": "resolved"}).content.decode()
        assert "Key fixed in version 2" in html and "by carol" in html

    def test_resolving_twice_says_so(self, client, carol, alice, groups, submitted):
        stored = report(alice, first_item(submitted))
        services.problem_report_resolve(report=stored, by=carol, note="done")
        client.force_login(carol)
        url = reverse("instructor:report_resolve", args=[stored.pk])
        response = client.post(url, {"note": "again"}, follow=True)
        assert services.MSG_REPORT_ALREADY_RESOLVED in response.content.decode()
        stored.refresh_from_db()
        assert stored.resolution == "done"

    def test_an_instructor_of_another_group_cannot_resolve(
        self, client, dave, alice, groups, submitted
    ):
        stored = report(alice, first_item(submitted))
        client.force_login(dave)
        url = reverse("instructor:report_resolve", args=[stored.pk])
        assert client.post(url, {"note": "x"}).status_code == 404
        assert client.post(reverse("instructor:report_resolve", args=[9999])).status_code == 404
        stored.refresh_from_db()
        assert stored.status == "open"

    def test_resolve_is_post_only_and_a_foreign_next_is_ignored(
        self, client, carol, alice, groups, submitted
    ):
        stored = report(alice, first_item(submitted))
        client.force_login(carol)
        url = reverse("instructor:report_resolve", args=[stored.pk])
        assert client.get(url).status_code == 405
        assert client.post(url, {"next": "https://evil.example/"}).url == self.url

    def test_the_queue_runs_in_the_same_number_of_queries_for_one_or_many_reports(
        self, client, carol, alice, bob, exam, groups, submitted, django_assert_num_queries
    ):
        report(alice, first_item(submitted))
        client.force_login(carol)
        # session, user, instructor check, exam, group list, exam list, domains, count,
        # reports, choices
        with django_assert_num_queries(10):
            assert client.get(self.url).status_code == 200
        bobs = drill_done(bob, exam, at=NOW - timedelta(hours=3))
        for item in bobs.items.select_related("attempt"):
            report(bob, item, kind="other")
        with django_assert_num_queries(10):
            html = client.get(self.url).content.decode()
        assert "6 reports" in html
