"""A candidate switches to a second exam on the dashboard and takes its full mock, in a real
browser, with JavaScript on (the chooser is a plain form and needs none)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from questions.services import bank_load, blueprint_load_file
from tests.browser.conftest import horizontal_overflow, log_in, serious_violations
from tests.conftest import ROOT
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

SAMPLE = ROOT / "docs" / "example-exam"


def test_a_candidate_switches_exam_and_takes_its_mock(
    live_server, page: Page, exam, full_bank, screenshot
):
    blueprint_load_file(path=SAMPLE / "blueprint.yaml")
    bank_load(paths=[SAMPLE / "questions"])
    UserFactory(username="sam")
    log_in(page, live_server.url, "sam")
    expect(page.get_by_text("Preparing for AWS Certified Machine Learning")).to_be_visible()
    page.get_by_label("Exam").select_option(label="Sample - Statistics Foundations")
    page.get_by_role("button", name="Switch exam").click()
    expect(
        page.get_by_text("Your pages are now about Sample - Statistics Foundations.")
    ).to_be_visible()
    expect(page.get_by_role("row", name="1. Describing Data 50%")).to_be_visible()
    assert serious_violations(page) == []
    screenshot("dashboard-exam-chooser")

    page.get_by_role("link", name="Start full mock exam").click()
    expect(page.get_by_role("heading", name="Full mock exam: before you begin")).to_be_visible()
    expect(page.get_by_text("15 minutes")).to_be_visible()
    page.get_by_role("button", name="Begin").click()
    expect(page.get_by_role("heading", name="Question 1 of 10")).to_be_visible()
    expect(page.get_by_text("Sample - Statistics Foundations · Full mock")).to_be_visible()
    page.set_viewport_size({"width": 375, "height": 812})
    assert horizontal_overflow(page) == 0
