"""Practice journeys in a real browser: drills, missed questions, progress."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from exams import services
from exams.models import Attempt
from questions.models import Choice
from tests.browser.conftest import log_in
from tests.conftest import fill_bank

pytestmark = pytest.mark.browser


@pytest.fixture
def bank(exam):
    return fill_bank(exam, per_domain={1: 20, 2: 20, 3: 30, 4: 20})


def test_an_immediate_feedback_drill_on_modeling(
    live_server, page: Page, exam, bank, alice, screenshot
):
    log_in(page, live_server.url, "alice")
    page.get_by_role("link", name="Set up a drill").click()
    page.get_by_label("3. Modeling").check()
    page.get_by_label("Number of questions").fill("5")
    page.get_by_label("After each answer").check()
    page.get_by_role("button", name="Start drill").click()
    # A timed drill (the default) shows its instructions first; the clock starts on Begin.
    expect(page.get_by_role("heading", name="Timed drill: before you begin")).to_be_visible()
    expect(page.get_by_text("The clock has not started")).to_be_visible()
    assert not Attempt.objects.exists()
    page.get_by_role("button", name="Begin").click()
    expect(page.get_by_role("heading", name="Question 1 of 5")).to_be_visible()
    # Five questions at the full exam's pace (170 minutes for 65): about 13 minutes.
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^13:0[0-4]$"))

    page.locator("#choices label.choice").first.click()
    expect(page.locator("#save-status")).to_have_text(re.compile("Answer saved"))
    page.get_by_role("button", name="Check answer").click()
    expect(page.get_by_role("heading", name=re.compile(r"Correct|Not quite"))).to_be_visible()
    expect(page.get_by_text("✓ Correct answer").first).to_be_visible()  # two for a multiple
    expect(page.locator("#choices input").first).to_be_disabled()
    screenshot("drill-feedback")
    page.get_by_role("button", name="Next →").click()
    expect(page.get_by_role("heading", name="Question 2 of 5")).to_be_visible()
    expect(page.get_by_role("button", name="Check answer")).to_be_visible()

    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit drill…").click()
    page.get_by_role("button", name="Submit now").click()
    expect(page.get_by_role("heading", name="Domain drill: your report")).to_be_visible()
    expect(page.get_by_role("rowheader", name="3. Modeling")).to_be_visible()


def test_missed_question_practice_after_a_full_mock(live_server, page: Page, exam, bank, alice):
    attempt = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(1))
    items = list(attempt.items.select_related("attempt", "version").order_by("position"))
    for it in items[:3]:  # three wrong answers
        wrong = Choice.objects.filter(version=it.version, is_correct=False).values_list(
            "id", flat=True
        )[0]
        services.attempt_answer(item=it, revision=it.revision, choice_ids=[wrong])
    services.attempt_flag(item=items[10], flagged=True)  # and one flagged
    services.attempt_submit(attempt=attempt)

    log_in(page, live_server.url, "alice")
    expect(page.get_by_text("4 questions you got wrong or flagged")).to_be_visible()
    page.get_by_role("button", name="Practise missed questions").click()
    expect(page.get_by_role("heading", name="Question 1 of 4")).to_be_visible()
    expect(page.get_by_text("Missed and flagged practice")).to_be_visible()


def test_the_progress_chart_after_two_mocks(live_server, page: Page, exam, bank, alice, screenshot):
    now = timezone.now()
    for hours, right in ((5, 30), (2, 52)):
        attempt = services.attempt_start_full_mock(
            user=alice, exam=exam, now=now - timedelta(hours=hours), rng=random.Random(hours)
        )
        for it in attempt.items.select_related("attempt", "version").order_by("position")[:right]:
            key = list(
                Choice.objects.filter(version=it.version, is_correct=True).values_list(
                    "id", flat=True
                )
            )
            services.attempt_answer(
                item=it, revision=it.revision, choice_ids=key, now=now - timedelta(hours=hours)
            )
        services.attempt_submit(
            attempt=attempt, now=now - timedelta(hours=hours) + timedelta(minutes=40)
        )

    log_in(page, live_server.url, "alice")
    page.get_by_role("link", name="Progress", exact=True).click()
    chart = page.get_by_role("img", name="Score per full mock exam")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(5)
    table = page.get_by_role("region", name="The same figures as a table").get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("cell", name="80.0%")).to_be_visible()
    screenshot("progress")


def test_a_second_practice_offers_to_resume_or_abandon_the_open_one(
    live_server, page: Page, exam, bank, alice
):
    first = services.attempt_start_drill(
        user=alice,
        exam=exam,
        domain_numbers=[1],
        count=5,
        timed=False,
        feedback=Attempt.Feedback.IMMEDIATE,
    ).attempt
    log_in(page, live_server.url, "alice")

    def start_another(*, timed: bool) -> None:
        page.goto(live_server.url + "/exams/drill/")
        page.get_by_label("2. Exploratory Data Analysis").check()
        page.get_by_label("Number of questions").fill("6")
        page.get_by_label("Timed at the real exam's pace").set_checked(timed)
        page.get_by_role("button", name="Start drill").click()
        if timed:
            expect(
                page.get_by_role("heading", name="Timed drill: before you begin")
            ).to_be_visible()
            page.get_by_role("button", name="Begin").click()
        expect(page.get_by_role("heading", name="You have a practice attempt open")).to_be_visible()
        assert Attempt.objects.count() == 1

    # "Resume it" goes back to the open drill and starts nothing.
    start_another(timed=False)
    page.get_by_role("link", name="Resume it").click()
    expect(page).to_have_url(re.compile(rf"/attempts/{first.pk}/questions/1/$"))
    expect(page.get_by_role("heading", name="Question 1 of 5")).to_be_visible()
    assert Attempt.objects.get().status == Attempt.Status.IN_PROGRESS

    # "Abandon it and start this one" (a timed drill, Begin already pressed) does both.
    start_another(timed=True)
    page.get_by_role("button", name="Abandon it and start this one").click()
    expect(page.get_by_role("heading", name="Question 1 of 6")).to_be_visible()
    expect(page.get_by_role("timer")).to_be_visible()
    first.refresh_from_db()
    assert first.status == Attempt.Status.ABANDONED
    second = Attempt.objects.get(status=Attempt.Status.IN_PROGRESS)
    assert second.mode == Attempt.Mode.DRILL and second.question_count == 6
    assert second.deadline is not None
    assert set(second.items.values_list("question__task__domain__number", flat=True)) == {2}

    page.goto(live_server.url + "/history/")
    rows = page.get_by_role("row", name=re.compile(r"Domain drill"))
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Abandoned")).to_contain_text("Abandoned · counts nowhere")
    expect(rows.filter(has_text="In progress")).to_have_count(1)
