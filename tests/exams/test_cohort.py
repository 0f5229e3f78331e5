"""Cohort results: who an instructor sees, the table and its CSV, a candidate's history
and read-only reports, and the admin's read-only attempts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from exams.models import Attempt
from tests.factories import UserFactory
from tests.instructors import HTMX, drill_done, full_mock_done, make_group

NOW = timezone.now().replace(microsecond=0)
COHORT = reverse("instructor:cohort")
CSV = reverse("instructor:cohort_csv")


@pytest.fixture
def erin(db):
    return UserFactory(username="erin")


@pytest.fixture
def groups(exam, carol, dave, alice, bob, erin):
    return (
        make_group("Morning", exam=exam, instructor=carol, members=[alice, bob]),
        make_group("Evening", exam=exam, instructor=dave, members=[erin]),
    )


@pytest.fixture
def history(exam, full_bank, alice, bob, erin):
    """alice: two full mocks (52/65 then 39/65) and a drill; bob: nothing; erin: one mock."""
    first = full_mock_done(alice, exam, right=52, at=NOW - timedelta(days=3))
    last = full_mock_done(alice, exam, right=39, at=NOW - timedelta(days=2))
    drill = drill_done(alice, exam, at=NOW - timedelta(days=1))
    theirs = full_mock_done(erin, exam, right=60, at=NOW - timedelta(days=1))
    return {"first": first, "last": last, "drill": drill, "erin": theirs}


def as_user(client, user):
    client.force_login(user)
    return client


def parse(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


class TestWhoSeesWhom:
    @pytest.mark.parametrize(
        "url",
        [
            COHORT,
            CSV,
            reverse("instructor:groups"),
            reverse("instructor:reports"),
        ],
    )
    def test_candidates_get_404_on_every_instructor_page(self, alice_client, exam, url):
        assert alice_client.get(url).status_code == 404

    def test_a_candidate_cannot_reach_another_candidates_history_or_report(
        self, client, bob, groups, history
    ):
        as_user(client, bob)
        alice_id = history["last"].user_id
        assert client.get(reverse("instructor:candidate", args=[alice_id])).status_code == 404
        url = reverse("instructor:candidate_attempt", args=[alice_id, history["last"].pk])
        assert client.get(url).status_code == 404

    def test_the_groups_instructor_sees_its_members_only(self, client, carol, groups, history):
        html = as_user(client, carol).get(COHORT).content.decode()
        assert ">alice</a>" in html and ">bob</a>" in html and ">erin</a>" not in html

    def test_an_instructor_of_another_group_sees_nothing_of_this_group(
        self, client, dave, groups, history, alice
    ):
        as_user(client, dave)
        html = client.get(COHORT).content.decode()
        assert "alice" not in html and ">erin</a>" in html
        assert client.get(COHORT, {"group": groups[0].pk}).status_code == 404
        assert client.get(CSV, {"group": groups[0].pk}).status_code == 404
        assert client.get(reverse("instructor:candidate", args=[alice.pk])).status_code == 404
        url = reverse("instructor:candidate_attempt", args=[alice.pk, history["last"].pk])
        assert client.get(url).status_code == 404
        assert [r["candidate"] for r in parse(client.get(CSV))] == ["erin"]

    def test_a_group_for_another_exam_stays_out_of_this_exams_table(
        self, client, carol, groups, history
    ):
        from tests.factories import ExamFactory

        other = ExamFactory(code="other-exam")
        # An exam whose blueprint has no domains yet: nothing to weight readiness by.
        make_group("Other", exam=other, instructor=carol, members=[UserFactory(username="zoe")])
        as_user(client, carol)
        assert [r["candidate"] for r in parse(client.get(CSV))] == ["alice", "bob"]
        assert [r["candidate"] for r in parse(client.get(CSV, {"exam": "other-exam"}))] == ["zoe"]

    def test_operators_see_everyone_and_can_narrow_to_a_group(self, client, groups, history):
        as_user(client, UserFactory(username="root", is_staff=True, is_superuser=True))
        assert [r["candidate"] for r in parse(client.get(CSV))] == ["alice", "bob", "erin"]
        narrowed = parse(client.get(CSV, {"group": groups[1].pk}))
        assert [r["candidate"] for r in narrowed] == ["erin"]

    def test_an_attempt_must_belong_to_the_candidate_in_the_address(
        self, client, carol, bob, groups, history
    ):
        url = reverse("instructor:candidate_attempt", args=[bob.pk, history["last"].pk])
        assert as_user(client, carol).get(url).status_code == 404

    def test_garbage_group_or_exam_is_404_not_500(self, client, carol, groups, history):
        as_user(client, carol)
        assert client.get(COHORT, {"group": "x'"}).status_code == 404
        assert client.get(COHORT, {"exam": "no-such-exam"}).status_code == 404

    def test_anonymous_users_are_sent_to_log_in(self, client, exam):
        assert reverse("accounts:login") in client.get(COHORT).url

    @pytest.mark.parametrize(
        "url",
        [
            f"/instructor/cohort/{10**30}/",
            f"/instructor/groups/{10**30}/",
            f"/instructor/cohort/?group={10**30}",
            "/instructor/cohort/?group=%D9%A1",
        ],
    )
    def test_absurd_ids_are_404_not_500(self, client, carol, groups, url):
        assert as_user(client, carol).get(url).status_code == 404


class TestTable:
    def test_rows_show_last_and_best_full_mock_attempts_and_readiness(
        self, client, carol, groups, history
    ):
        rows = {r["candidate"]: r for r in parse(as_user(client, carol).get(CSV))}
        alice = rows["alice"]
        assert (alice["attempts"], alice["full mocks"]) == ("3", "2")
        assert (alice["last full mock %"], alice["best full mock %"]) == ("60.0", "80.0")
        # Readiness over both mocks and the drill: 91 of 135 questions right.
        assert alice["readiness"] in ("ready", "borderline", "not yet")
        assert alice["last activity (UTC)"] == history["drill"].submitted_at.isoformat()
        bob = rows["bob"]
        assert (bob["attempts"], bob["last full mock %"], bob["readiness"]) == (
            "0",
            "",
            "not enough data",
        )

    def test_readiness_matches_the_candidates_own_estimate(
        self, client, carol, alice, exam, groups, history
    ):
        from exams import scoring, selectors

        domains = list(exam.domains.order_by("number"))
        own = scoring.readiness(
            selectors.readiness_counts(user=alice, exam=exam),
            {d.number: d.weight_percent for d in domains},
            pass_mark=exam.pass_mark_percent,
        )
        row = next(r for r in parse(as_user(client, carol).get(CSV)) if r["candidate"] == "alice")
        assert row["readiness"] == own.verdict
        assert row["readiness %"] == f"{own.overall.percent:.1f}"
        for d in domains:
            assert row[f"domain {d.number} %"] == f"{own.domains[d.number].percent:.1f}"

    def test_the_page_shows_the_same_figures(self, client, carol, groups, history):
        html = as_user(client, carol).get(COHORT).content.decode()
        assert "60.0%" in html and "80.0%" in html and "3 (2 full)" in html
        assert "Download as CSV" in html

    def test_sorting_by_best_score_descending_puts_candidates_without_a_mock_last(
        self, client, groups, history, exam
    ):
        as_user(client, UserFactory(username="root", is_staff=True, is_superuser=True))
        rows = parse(client.get(CSV, {"sort": "-best"}))
        assert [r["candidate"] for r in rows] == ["erin", "alice", "bob"]
        rows = parse(client.get(CSV, {"sort": "best"}))
        assert [r["candidate"] for r in rows] == ["alice", "erin", "bob"]
        html = client.get(COHORT, {"sort": "-best"}).content.decode()
        assert html.index(">erin</a>") < html.index(">alice</a>") < html.index(">bob</a>")

    def test_the_page_is_paged_after_sorting_every_candidate(
        self, client, groups, history, monkeypatch
    ):
        from exams import cohort_views

        monkeypatch.setattr(cohort_views, "COHORT_PAGE_SIZE", 2)
        as_user(client, UserFactory(username="root", is_staff=True, is_superuser=True))
        first = client.get(COHORT, {"sort": "-best"}).content.decode()
        assert ">erin</a>" in first and ">alice</a>" in first and ">bob</a>" not in first
        assert "3 candidates" in first and "sort=-best&amp;page=2" in first
        second = client.get(COHORT, {"sort": "-best", "page": "2"}).content.decode()
        assert ">bob</a>" in second and ">erin</a>" not in second

    def test_the_csv_parses_back_with_a_header_and_one_row_per_candidate(
        self, client, carol, groups, history
    ):
        response = as_user(client, carol).get(CSV)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment;" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][:3] == ["candidate", "attempts", "full mocks"]
        assert rows[0][-1] == "last activity (UTC)"
        assert {"domain 1 %", "domain 4 %"} <= set(rows[0])
        assert [r[0] for r in rows[1:]] == ["alice", "bob"]
        assert all(len(r) == len(rows[0]) for r in rows)

    def test_a_name_with_commas_and_quotes_survives_the_csv(self, client, carol, exam, groups):
        odd = UserFactory(username='o"neil,jr')
        groups[0].memberships.create(user=odd)
        rows = parse(as_user(client, carol).get(CSV))
        assert 'o"neil,jr' in [r["candidate"] for r in rows]

    def test_a_name_a_spreadsheet_would_run_as_a_formula_is_defused(
        self, client, carol, exam, groups
    ):
        groups[0].memberships.create(user=UserFactory(username="@SUM+1"))
        rows = parse(as_user(client, carol).get(CSV))
        assert "'@SUM+1" in [r["candidate"] for r in rows]

    def test_the_table_runs_in_the_same_number_of_queries_however_long_the_history(
        self, client, carol, alice, bob, exam, groups, history, django_assert_num_queries
    ):
        as_user(client, carol)
        # session, user, instructor check, exam, domains, rows, readiness, groups list,
        # exams list (the CSV: neither list)
        with django_assert_num_queries(9):
            assert client.get(COHORT).status_code == 200
        with django_assert_num_queries(7):
            assert client.get(CSV).status_code == 200
        for day in range(3):
            full_mock_done(bob, exam, right=40 + day, at=NOW - timedelta(days=10 + day))
            drill_done(bob, exam, at=NOW - timedelta(days=20 + day))
        with django_assert_num_queries(9):
            html = client.get(COHORT).content.decode()
        assert "6 (3 full)" in html
        with django_assert_num_queries(7):
            client.get(CSV)


class TestCandidate:
    def test_the_history_lists_every_attempt_with_links_to_the_read_only_report(
        self, client, carol, alice, groups, history
    ):
        html = as_user(client, carol).get(reverse("instructor:candidate", args=[alice.pk]))
        html = html.content.decode()
        for attempt in (history["first"], history["last"], history["drill"]):
            assert reverse("instructor:candidate_attempt", args=[alice.pk, attempt.pk]) in html
        assert "Readiness on" in html and "No problem reports." in html

    def test_the_read_only_report_shows_the_review_and_no_candidate_action(
        self, client, carol, alice, groups, history
    ):
        attempt = history["last"]
        url = reverse("instructor:candidate_attempt", args=[alice.pk, attempt.pk])
        html = as_user(client, carol).get(url).content.decode()
        assert "60.0%" in html and "Question review" in html and "Question 65" in html
        for action in ("start_domain_drill", "report_csv", "Report a problem", "answer/"):
            assert action not in html
        fragment = client.get(url, {"show": "incorrect"}, **HTMX).content.decode()
        assert fragment.count('class="card review-item"') == 26

    def test_an_unfinished_attempt_says_there_is_no_report_yet(
        self, client, carol, alice, exam, groups, full_bank
    ):
        from exams import services

        running = services.attempt_start_full_mock(user=alice, exam=exam)
        url = reverse("instructor:candidate_attempt", args=[alice.pk, running.pk])
        html = as_user(client, carol).get(url).content.decode()
        assert "not finished" in html and running.items.first().version.stem not in html

    def test_the_candidate_page_runs_in_a_constant_number_of_queries(
        self, client, carol, alice, exam, groups, history, django_assert_num_queries
    ):
        url = reverse("instructor:candidate", args=[alice.pk])
        as_user(client, carol)
        # session, user, instructor check, may see, candidate, exam, attempts, domains,
        # readiness counts, reports
        with django_assert_num_queries(10):
            client.get(url)
        drill_done(alice, exam, at=NOW - timedelta(hours=5))
        full_mock_done(alice, exam, right=30, at=NOW - timedelta(hours=9))
        with django_assert_num_queries(10):
            html = client.get(url).content.decode()
        assert html.count("/instructor/cohort/") >= 5


class TestAdmin:
    def test_operators_see_attempts_read_only_and_cannot_add_change_or_delete(
        self, client, history
    ):
        staff = UserFactory(username="root", is_staff=True, is_superuser=True)
        as_user(client, staff)
        attempt = history["last"]
        listing = client.get(reverse("admin:exams_attempt_changelist"), {"q": "alice"})
        assert listing.status_code == 200 and "Full mock exam" in listing.content.decode()
        change = client.get(reverse("admin:exams_attempt_change", args=[attempt.pk]))
        assert change.status_code == 200
        assert 'name="_save"' not in change.content.decode()
        assert (
            client.post(
                reverse("admin:exams_attempt_change", args=[attempt.pk]), {"status": "abandoned"}
            ).status_code
            == 403
        )
        assert client.get(reverse("admin:exams_attempt_add")).status_code == 403
        delete = reverse("admin:exams_attempt_delete", args=[attempt.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        attempt.refresh_from_db()
        assert attempt.status == Attempt.Status.SUBMITTED

    def test_items_and_reports_are_listed_with_filters(self, client, history):
        as_user(client, UserFactory(username="root", is_staff=True, is_superuser=True))
        items = client.get(
            reverse("admin:exams_attemptitem_changelist"), {"attempt__mode": "drill"}
        )
        assert items.status_code == 200 and "5 attempt items" in items.content.decode()
        assert client.get(reverse("admin:exams_problemreport_changelist")).status_code == 200

    def test_superusers_manage_study_groups_in_the_admin(self, client, groups):
        as_user(client, UserFactory(username="root", is_staff=True, is_superuser=True))
        html = client.get(reverse("admin:accounts_studygroup_changelist")).content.decode()
        assert "Morning" in html and "Evening" in html


class TestAnInstructorMadeByTheCommandSeesOnlyTheirGroups:
    """Instructors are staff (make_instructor makes them so, for the admin's question
    bank); being staff must not show them candidates outside the groups they run."""

    @pytest.fixture
    def ines(self, db):
        from django.core.management import call_command

        user = UserFactory(username="ines")
        call_command("make_instructor", "ines")
        user.refresh_from_db()
        assert user.is_staff
        return user

    def test_a_candidate_in_no_group_stays_private(self, client, ines, exam, alice, history):
        make_group("Dec", exam=exam, instructor=ines, members=[])
        as_user(client, ines)
        assert ">alice</a>" not in client.get(COHORT).content.decode()
        assert [r["candidate"] for r in parse(client.get(CSV))] == []
        assert client.get(reverse("instructor:candidate", args=[alice.pk])).status_code == 404
        url = reverse("instructor:candidate_attempt", args=[alice.pk, history["last"].pk])
        assert client.get(url).status_code == 404

    def test_the_admin_shows_them_only_their_groups_attempts(
        self, client, ines, exam, bob, history
    ):
        theirs = full_mock_done(bob, exam, right=30, at=NOW - timedelta(hours=1))
        make_group("Dec", exam=exam, instructor=ines, members=[bob])
        as_user(client, ines)
        listed = client.get(reverse("admin:exams_attempt_changelist"))
        assert listed.status_code == 200 and "1 attempt" in listed.content.decode()
        assert "alice" not in listed.content.decode()
        mine = reverse("admin:exams_attempt_change", args=[theirs.pk])
        assert client.get(mine).status_code == 200
        alices = reverse("admin:exams_attempt_change", args=[history["last"].pk])
        # Django's admin redirects a hidden object's page to the admin index with a message.
        assert client.get(alices).status_code == 302
        items = client.get(reverse("admin:exams_attemptitem_changelist")).content.decode()
        assert "65 attempt items" in items

    def test_they_see_the_members_they_teach(self, client, ines, exam, alice, history):
        make_group("Dec", exam=exam, instructor=ines, members=[alice])
        as_user(client, ines)
        assert ">alice</a>" in client.get(COHORT).content.decode()
        assert client.get(reverse("instructor:candidate", args=[alice.pk])).status_code == 200


class TestWilsonIntervalsInBulk:
    @given(
        st.lists(
            st.integers(0, 400).flatmap(lambda t: st.tuples(st.integers(0, t), st.just(t))),
            max_size=30,
        )
    )
    def test_they_equal_scipys_interval_pair_by_pair(self, pairs):
        from exams import scoring

        bulk = scoring.wilson_intervals(pairs)
        assert set(bulk) == set(pairs)
        for pair in pairs:
            one, many = scoring.wilson_interval(*pair), bulk[pair]
            if one is None:
                assert many is None
                continue
            assert (many.percent, many.questions) == (one.percent, one.questions)
            assert many.low == pytest.approx(one.low, abs=1e-9)
            assert many.high == pytest.approx(one.high, abs=1e-9)
