"""An instructor works through the item analysis: the worklist, a filter, one question."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.conftest import WIDTHS, horizontal_overflow, log_in, serious_violations
from tests.exams.item_data import build_bank, history
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_an_instructor_finds_a_likely_wrong_key_and_opens_its_figures(
    live_server,
    page: Page,
    db,
    screenshot,
):
    exam, q = build_bank()
    history(exam, q, 40)
    UserFactory(username="carol")
    call_command("make_instructor", "carol")
    log_in(page, live_server.url, "carol")
    page.goto(live_server.url + "/instructor/items/")
    expect(
        page.get_by_role("heading", name="Item analysis · Machine Learning Specialty")
    ).to_be_visible()
    screenshot("instructor-items")
    page.get_by_label("Reason").select_option("wrong_key")
    expect(page.get_by_role("status").filter(has_text="2 versions")).to_be_visible()
    page.get_by_role("link", name="w1 v1").click()
    expect(page.get_by_role("heading", name="Needs a look?")).to_be_visible()
    expect(page.get_by_text("Likely a wrong key: discrimination is negative")).to_be_visible()
    expect(page.get_by_role("row", name="Facility (share correct)")).to_contain_text("(16 of 40)")
    screenshot("instructor-item")
    problems = []
    for url in (page.url, live_server.url + "/instructor/items/"):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            problems += [f"{url} at {width}px: {v}" for v in serious_violations(page)]
            if width < 400 and (overflow := horizontal_overflow(page)) > 0:
                problems.append(f"{url} at {width}px scrolls sideways by {overflow}px")
    assert problems == []
