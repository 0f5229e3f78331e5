"""A complete full mock exam, from the dashboard to the report, with the keyboard only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from exams.models import Attempt
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def tab_to(page: Page, name: str, limit: int = 120) -> None:
    """Press Tab until the focused control's text is `name` (proves it is reachable)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate(
            "() => (document.activeElement.innerText || document.activeElement.value || '').trim()"
        )
        if text == name:
            return
    raise AssertionError(f"{name!r} is not reachable with Tab")


def press_choice(page: Page, key: str) -> None:
    """Press a choice key and wait until the page holds the saved answer's new revision
    (as a candidate waits for "Answer saved"): a move made with the page's older revision
    would be refused as coming from a stale page."""
    revision = page.locator('#answer-form input[name="revision"]')
    before = int(revision.input_value())
    with page.expect_response(lambda r: r.url.endswith("/answer/") and r.status == 200):
        page.keyboard.press(key)
    expect(revision).to_have_value(str(before + 1))
    expect(page.locator("#save-status")).to_have_text(re.compile("Answer saved"))


def test_a_full_mock_with_the_keyboard_only(
    live_server, page: Page, exam, full_bank, alice, screenshot
):
    log_in(page, live_server.url, "alice")
    tab_to(page, "Start full mock exam")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Full mock exam: before you begin")).to_be_visible()
    tab_to(page, "Begin")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    heading = page.get_by_role("heading", level=1)
    for position in range(1, 66):
        expect(heading).to_have_text(f"Question {position} of 65")
        choose = page.locator(".choose-n")
        picks = int(re.search(r"\d", choose.inner_text()).group()) if choose.count() else 1
        for key in "123"[:picks]:
            press_choice(page, key)
        if position in (7, 30):
            with page.expect_response(lambda r: r.url.endswith("/flag/")):
                page.keyboard.press("f")
            expect(page.get_by_role("button", name="Flagged for review")).to_be_visible()
        if position == 65:
            break
        with page.expect_navigation():
            page.keyboard.press("n")

    # P goes back, R opens the review screen.
    with page.expect_navigation():
        page.keyboard.press("p")
    expect(heading).to_have_text("Question 64 of 65")
    with page.expect_navigation():
        page.keyboard.press("r")
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(page.get_by_text("Unanswered0")).to_be_visible()
    expect(page.get_by_text("Flagged2")).to_be_visible()

    tab_to(page, "Submit exam…")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("You have answered every question.")).to_be_visible()
    tab_to(page, "Submit now")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Full mock exam: your report")).to_be_visible()
    attempt = Attempt.objects.get()
    assert attempt.status == Attempt.Status.SUBMITTED and attempt.result["answered"] == 65


def test_shortcuts_do_not_fire_while_typing(live_server, page: Page, exam, full_bank, alice):
    log_in(page, live_server.url, "alice")
    page.get_by_role("link", name="Start full mock exam").click()
    page.get_by_role("button", name="Begin").click()
    expect(page.get_by_role("heading", name="Question 1 of 65")).to_be_visible()
    # A text field on the page (as a browser extension or future note field would add).
    page.evaluate(
        "() => document.querySelector('.question-panel').append(Object.assign(document.createElement('input'), {id: 'note', 'ariaLabel': 'note'}))"
    )
    page.locator("#note").focus()
    page.keyboard.type("nf1")
    expect(page.locator("#note")).to_have_value("nf1")
    expect(page.get_by_role("heading", name="Question 1 of 65")).to_be_visible()
    expect(page.get_by_role("button", name="Flag for review")).to_be_visible()
    expect(page.locator("#choices input:checked")).to_have_count(0)
