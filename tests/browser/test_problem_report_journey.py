"""A candidate reports a problem with a question from the report page; an instructor
finds it in the queue and resolves it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from exams.models import ProblemReport
from tests.browser.conftest import log_in, serious_violations
from tests.conftest import fill_bank
from tests.instructors import make_group, make_instructor

pytestmark = pytest.mark.browser


@pytest.fixture
def bank(exam):
    return fill_bank(exam, per_domain={1: 10, 2: 10, 3: 10, 4: 10})


def test_a_reported_question_reaches_the_instructors_queue(
    live_server, page: Page, exam, bank, alice, screenshot
):
    carol = make_instructor("carol")
    make_group("Morning", exam=exam, instructor=carol, members=[alice])

    log_in(page, live_server.url, "alice")
    page.get_by_role("link", name="Set up a drill").click()
    page.get_by_label("1. Data Engineering").check()
    page.get_by_label("Number of questions").fill("5")
    page.get_by_label("Timed at the real exam's pace").uncheck()
    page.get_by_role("button", name="Start drill").click()
    expect(page.get_by_role("heading", name="Question 1 of 5")).to_be_visible()
    page.locator("#choices label.choice").first.click()
    expect(page.locator("#save-status")).to_have_text(re.compile("Answer saved"))
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit drill…").click()
    page.get_by_role("button", name="Submit now").click()
    expect(page.get_by_role("heading", name="Domain drill: your report")).to_be_visible()

    page.get_by_role("link", name="Open the question review").click()
    page.get_by_role("heading", name=re.compile(r"^Question 1\b")).click()
    first = page.locator("#report-problem-1")
    first.get_by_text("Report a problem with this question").click()
    first.get_by_label("Ambiguous: more than one answer fits").check()
    first.get_by_label("Comment (optional)").fill("Choices B and C both satisfy the scenario.")
    screenshot("problem-report-form")
    first.get_by_role("button", name="Send report").click()
    expect(first.get_by_role("status")).to_have_text("Thanks: an instructor will look at it.")
    expect(first.get_by_role("button", name="Send report")).to_have_count(0)
    screenshot("problem-report-sent")
    report = ProblemReport.objects.get()
    assert (report.kind, report.user) == ("ambiguous", alice)

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, "carol")
    page.goto(live_server.url + "/instructor/reports/")
    entry = page.get_by_role("listitem").filter(has_text=report.question.external_id)
    expect(entry.get_by_role("heading")).to_contain_text(
        f"Question {report.question.external_id} · version 1"
    )
    expect(entry).to_contain_text("Choices B and C both satisfy the scenario.")
    expect(entry).to_contain_text("Ambiguous: more than one answer fits")
    expect(entry).to_contain_text("alice")
    screenshot("problem-report-queue")
    assert serious_violations(page) == []

    # The worklist marks the same question, with the reason in words.
    page.get_by_role("link", name="Item analysis").click()
    page.goto(page.url.split("?")[0] + "?mode=drill&look=on")
    worklist_row = page.get_by_role("row").filter(has_text=report.question.external_id)
    expect(worklist_row).to_contain_text("Reported by candidates: 1 open problem")
    screenshot("problem-report-worklist")
    page.get_by_role("link", name="Problem reports").click()
    entry = page.get_by_role("listitem").filter(has_text=report.question.external_id)
    entry.get_by_label("Resolution note").fill("Reworded choice C in version 2.")
    entry.get_by_role("button", name=re.compile("Mark resolved")).click()
    expect(page.get_by_text("The report was marked resolved.")).to_be_visible()
    expect(page.get_by_text("0 reports")).to_be_visible()
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Reworded choice C in version 2.")).to_be_visible()
    report.refresh_from_db()
    assert (report.status, report.resolved_by.username) == ("resolved", "carol")

    page.get_by_role("link", name="Cohort results").click()
    expect(page.get_by_role("heading", name=re.compile("^Cohort results"))).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="alice"))
    expect(row).to_contain_text("1")  # one attempt, a drill: no full mock yet
    screenshot("cohort-table")
    assert serious_violations(page) == []
    page.get_by_role("link", name="alice").click()
    expect(page.get_by_role("heading", name="alice")).to_be_visible()
    expect(page.get_by_text("Reworded")).to_have_count(0)  # the resolution is the queue's
    expect(page.get_by_text("Ambiguous: more than one answer fits · Resolved")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"\d{4}, \d\d:\d\d")).first.click()
    expect(page.get_by_role("heading", name="alice: domain drill report")).to_be_visible()
    expect(page.get_by_text("Report a problem with this question")).to_have_count(0)
    screenshot("instructor-attempt-report")
    assert serious_violations(page) == []
