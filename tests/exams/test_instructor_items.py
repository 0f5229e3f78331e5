"""The instructors' item analysis pages: the list with its worklist, one version's
figures, and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from accounts.permissions import INSTRUCTORS_GROUP
from exams import instructor_views, item_analysis
from exams.models import Attempt, ProblemReport
from tests.exams.item_data import Answer, build_bank, history, sit
from tests.factories import (
    DomainFactory,
    ExamFactory,
    QuestionFactory,
    TaskStatementFactory,
    UserFactory,
)

ITEMS = reverse("instructor:items")
CSV = reverse("instructor:items_csv")


@pytest.fixture
def carol(db):
    """An instructor (staff and in the Instructors group, as make_instructor makes one)."""
    user = UserFactory(username="carol")
    call_command("make_instructor", "carol")
    user.refresh_from_db()
    return user


@pytest.fixture
def carol_client(client, carol):
    client.force_login(carol)
    return client


@pytest.fixture(autouse=True)
def fresh_statistics():
    """Every test reads its own history afresh (kept rows are per process)."""
    item_analysis.response_rows_forget()


@pytest.fixture
def bank(db):
    return build_bank()


def rows_of(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def listed(response) -> list[str]:
    return [f"{s.external_id} v{s.version_number}" for s in response.context["page"].object_list]


# Access


@pytest.mark.parametrize("url", [ITEMS, CSV, "item"])
def test_a_candidate_gets_not_found(client, alice, bank, url):
    _exam, q = bank
    url = reverse("instructor:item", args=[q["e1"].current_version_id]) if url == "item" else url
    client.force_login(alice)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [ITEMS, CSV])
def test_an_anonymous_visitor_is_sent_to_log_in(client, bank, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_a_member_of_the_instructors_group_may_use_the_list(client, alice, bank):
    alice.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
    client.force_login(alice)
    assert client.get(ITEMS).status_code == 200


@pytest.mark.parametrize("url", [ITEMS, CSV])
def test_the_pages_refuse_a_post(carol_client, bank, url):
    assert carol_client.post(url).status_code == 405


# The list


def test_the_list_shows_each_current_version_with_its_figures_and_reasons(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)
    response = carol_client.get(ITEMS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Item analysis · Machine Learning Specialty" in page
    assert sorted(listed(response)) == ["e1 v1", "h1 v1", "s1 v1", "t1 v1", "w1 v1"]
    assert "Too easy: 100% answered correctly (40 of 40), above 90%." in page
    assert "Likely a wrong key: discrimination is negative" in page
    assert reverse("instructor:item", args=[q["w1"].current_version_id]) in page


def test_the_list_puts_the_questions_with_most_reasons_first(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)
    stats = carol_client.get(ITEMS).context["page"].object_list
    counts = [len(s.reasons) for s in stats]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


def test_no_mark_is_shown_below_the_minimum_sample(carol_client, bank):
    exam, q = bank
    history(exam, q, 29)
    response = carol_client.get(ITEMS)
    assert all(s.reasons == [] for s in response.context["page"].object_list)
    assert "Too easy:" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("domain=2", ["t1 v1"]),
        ("task=1.2", ["s1 v1", "w1 v1"]),
        ("reason=too_easy", ["e1 v1"]),
        ("reason=too_hard", ["h1 v1"]),
        ("look=on&domain=1&sort=question", ["e1 v1", "h1 v1", "s1 v1", "w1 v1"]),
        ("reason=wrong_key", ["h1 v1", "w1 v1"]),
        ("reason=flagged", ["h1 v1"]),
    ],
)
def test_the_list_is_filtered(carol_client, bank, query, expected):
    exam, q = bank
    history(exam, q, 40)
    assert sorted(listed(carol_client.get(f"{ITEMS}?{query}"))) == sorted(expected)


def test_the_list_is_sorted_by_a_figure_either_way(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)
    up = carol_client.get(f"{ITEMS}?sort=facility").context["page"].object_list
    down = carol_client.get(f"{ITEMS}?sort=-facility").context["page"].object_list
    assert [s.facility for s in up] == sorted(s.facility for s in up)
    assert [s.facility for s in down] == sorted((s.facility for s in down), reverse=True)
    assert listed(carol_client.get(f"{ITEMS}?sort=-facility"))[0] == "e1 v1"


def test_versions_without_a_figure_sort_last_either_way(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)  # nobody recorded time on h1, w1, s1, t1
    for sort in ("time", "-time"):
        stats = carol_client.get(f"{ITEMS}?sort={sort}").context["page"].object_list
        assert stats[0].external_id == "e1"
        assert all(s.mean_time_seconds is None for s in stats[1:])


def test_drills_are_listed_apart_from_full_mocks(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)
    sit(exam, [[Answer(q["e1"], "A")]], mode=Attempt.Mode.DRILL)
    stats = carol_client.get(f"{ITEMS}?mode=drill&sort=question").context["page"].object_list
    e1 = next(s for s in stats if s.external_id == "e1")
    assert (e1.mode, e1.n, e1.correct, e1.discrimination) == ("drill", 1, 0, None)


def test_all_versions_lists_the_old_ones_too(carol_client, bank):
    _exam, q = bank
    old = q["e1"].current_version
    new = old.question.versions.create(number=2, stem="A clearer scenario.", explanation="Why.")
    for c in old.choices.all():
        new.choices.create(position=c.position, text=c.text, is_correct=c.is_correct)
    q["e1"].current_version = new
    q["e1"].save()
    assert "e1 v1" not in listed(carol_client.get(ITEMS))
    assert {"e1 v1", "e1 v2"} <= set(listed(carol_client.get(f"{ITEMS}?versions=all")))


def test_a_forged_filter_or_sort_is_refused_with_a_message_and_the_rest_still_applies(
    carol_client, bank
):
    exam, q = bank
    history(exam, q, 40)
    response = carol_client.get(f"{ITEMS}?sort=__class__&domain=9&mode=x&task=1.2")
    assert response.status_code == 200
    assert sorted(listed(response)) == ["s1 v1", "w1 v1"]
    message = instructor_views.MSG_BAD_FILTERS.format(fields="domain, mode, sort")
    assert message in response.content.decode()


def test_an_unknown_exam_code_says_so_and_shows_the_default_exam(carol_client, bank):
    response = carol_client.get(f"{ITEMS}?exam=nope")
    assert response.status_code == 200
    assert "There is no exam with the code “nope”" in response.content.decode()
    assert response.context["exam"] == bank[0]


def test_the_exam_is_chosen_by_its_code(carol_client, bank):
    other = ExamFactory(code="other", name="Other exam")
    QuestionFactory(external_id="o1", task=TaskStatementFactory(domain=DomainFactory(exam=other)))
    response = carol_client.get(f"{ITEMS}?exam=other")
    assert listed(response) == ["o1 v1"]


def test_without_any_exam_the_list_says_there_is_nothing_to_analyse(carol_client, db):
    response = carol_client.get(ITEMS)
    assert response.status_code == 200
    assert instructor_views.MSG_NO_EXAM in response.content.decode()


def test_the_list_is_paginated(carol_client, bank, monkeypatch):
    monkeypatch.setattr(instructor_views, "ITEMS_PAGE_SIZE", 2)
    first = carol_client.get(f"{ITEMS}?sort=question")
    third = carol_client.get(f"{ITEMS}?sort=question&page=3")
    assert listed(first) == ["e1 v1", "h1 v1"] and listed(third) == ["w1 v1"]
    assert "page=2" in first.content.decode()
    assert listed(carol_client.get(f"{ITEMS}?sort=question&page=zz")) == ["e1 v1", "h1 v1"]


def test_an_htmx_request_gets_the_results_fragment_with_a_csv_link_for_its_filters(
    carol_client, bank
):
    response = carol_client.get(f"{ITEMS}?domain=2&page=1", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<section id="item-results"') and "<html" not in page
    assert f'href="{CSV}?domain=2"' in page


# One version


def test_the_detail_page_shows_the_question_its_keys_and_every_figure(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)
    sit(exam, [[Answer(q["w1"], "A", seconds=40)]], mode=Attempt.Mode.DRILL)
    version = q["w1"].current_version
    response = carol_client.get(reverse("instructor:item", args=[version.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert version.stem in page and "✓ Key" in page
    full, drill = response.context["full"], response.context["drill"]
    assert {c.letter: c.picks for c in full.choices} == {"A": 0, "B": 16, "C": 24, "D": 0}
    # 27% of 40 is 10.8: the 10 best are all strong candidates, the 10 worst all weak.
    assert (full.upper_n, full.lower_n) == (10, 10)
    assert {c.letter: (c.upper_picks, c.lower_picks) for c in full.choices}["C"] == (10, 0)
    assert (drill.n, drill.mean_time_seconds) == (1, 40)
    assert "Likely a wrong key" in page
    assert "(16 of 40)" in page  # facility with its count


def test_the_detail_page_counts_problem_reports(carol_client, bank):
    exam, q = bank
    history(exam, q, 3)
    item = q["h1"].attempt_items.first()
    ProblemReport.objects.create(
        user=item.attempt.user,
        item=item,
        question=q["h1"],
        version=item.version,
        kind="ambiguous",
        created_at=item.attempt.started_at,
    )
    response = carol_client.get(reverse("instructor:item", args=[item.version_id]))
    assert "Problem reports: 1 open of 1" in response.content.decode()
    assert "Reported by candidates: 1 open problem report (1 in all)." in (
        response.content.decode()
    )


def test_an_unknown_version_is_not_found(carol_client, bank):
    assert carol_client.get(reverse("instructor:item", args=[999999])).status_code == 404


# CSV


def test_the_csv_parses_back_to_the_figures_of_the_list(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)
    rows = rows_of(carol_client.get(f"{CSV}?sort=question"))
    assert [r["question"] for r in rows] == ["e1", "h1", "s1", "t1", "w1"]
    assert list(rows[0]) == instructor_views.CSV_HEADER
    e1, w1 = rows[0], rows[4]
    assert (e1["responses"], e1["correct"], e1["facility"]) == ("40", "40", "1.0000")
    assert "too_easy" in e1["reason codes"].split()
    assert float(w1["discrimination"]) < 0 and "wrong_key" in w1["reason codes"].split()
    assert w1["choice picks"] == "A=0;B=16 (key);C=24;D=0"
    assert e1["responses with time"] == "40" and 20 <= float(e1["mean time (s)"]) <= 60


def test_the_csv_applies_the_same_filters(carol_client, bank):
    exam, q = bank
    history(exam, q, 40)
    assert [r["question"] for r in rows_of(carol_client.get(f"{CSV}?task=1.2&sort=question"))] == [
        "s1",
        "w1",
    ]
    assert [r["question"] for r in rows_of(carol_client.get(f"{CSV}?reason=too_hard"))] == ["h1"]


def test_without_any_exam_the_csv_is_not_found(carol_client, db):
    assert carol_client.get(CSV).status_code == 404


# Queries: the same count with a small and a ten times larger history.

LIST_QUERIES = 9  # session, user, exam, task statements, then 5 for the statistics
DETAIL_QUERIES = 9  # session, user, version, the other versions, then 5 for the statistics


@pytest.mark.parametrize("attempts", [4, 40])
def test_the_list_takes_a_constant_number_of_queries(
    carol_client, bank, attempts, django_assert_num_queries
):
    exam, q = bank
    history(exam, q, attempts)
    with django_assert_num_queries(LIST_QUERIES):
        response = carol_client.get(f"{ITEMS}?look=on&sort=-discrimination")
    assert response.status_code == 200


@pytest.mark.parametrize("attempts", [4, 40])
def test_the_csv_takes_a_constant_number_of_queries(
    carol_client, bank, attempts, django_assert_num_queries
):
    exam, q = bank
    history(exam, q, attempts)
    with django_assert_num_queries(LIST_QUERIES):
        response = carol_client.get(CSV)
    assert len(rows_of(response)) == 5


@pytest.mark.parametrize("attempts", [4, 40])
def test_the_detail_page_takes_a_constant_number_of_queries(
    carol_client, bank, attempts, django_assert_num_queries
):
    exam, q = bank
    history(exam, q, attempts)
    with django_assert_num_queries(DETAIL_QUERIES):
        response = carol_client.get(reverse("instructor:item", args=[q["w1"].current_version_id]))
    assert response.status_code == 200


def test_sorting_paging_and_exporting_again_reuse_the_grouped_responses(
    carol_client, bank, django_assert_num_queries
):
    exam, q = bank
    history(exam, q, 40)
    carol_client.get(ITEMS)
    with django_assert_num_queries(LIST_QUERIES - 1):
        carol_client.get(f"{ITEMS}?sort=-facility&page=1")
    with django_assert_num_queries(LIST_QUERIES - 1):
        assert len(rows_of(carol_client.get(f"{CSV}?sort=-facility"))) == 5
