"""The page's clock follows the server's: after a wake, a focus, every minute, and when
the server closes the attempt."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from exams import services
from exams.models import Attempt
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def shown_seconds(page: Page) -> int:
    parts = [int(p) for p in re.findall(r"\d+", page.locator("#timer").inner_text())]
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@pytest.fixture
def mock(alice, exam, full_bank) -> Attempt:
    return services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(2))


def open_question(page: Page, base: str, attempt: Attempt) -> None:
    log_in(page, base, "alice")
    page.goto(f"{base}/attempts/{attempt.pk}/questions/1/")
    expect(page.locator("#timer")).to_have_text(re.compile(r"2:4\d:\d\d"))


def move_deadline(attempt: Attempt, *, minutes_left: int) -> None:
    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() + timedelta(minutes=minutes_left)
    )


def test_waking_the_tab_shows_the_servers_time_within_two_seconds(live_server, page: Page, mock):
    open_question(page, live_server.url, mock)
    move_deadline(mock, minutes_left=30)
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#timer")).to_have_text(re.compile(r"^(29:5\d|30:00)$"), timeout=2000)
    assert 29 * 60 + 50 <= shown_seconds(page) <= 30 * 60


def test_focus_also_resyncs(live_server, page: Page, mock):
    open_question(page, live_server.url, mock)
    move_deadline(mock, minutes_left=45)
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(page.locator("#timer")).to_have_text(re.compile(r"^(44:5\d|45:00)$"), timeout=2000)


def test_without_any_event_the_page_rereads_the_clock_every_minute(live_server, page: Page, mock):
    page.clock.install()
    open_question(page, live_server.url, mock)
    move_deadline(mock, minutes_left=20)
    page.clock.run_for(65_000)
    expect(page.locator("#timer")).to_have_text(re.compile(r"^(19:[45]\d|20:00)$"), timeout=5000)


def test_the_page_goes_to_the_report_when_the_server_closes_the_attempt(
    live_server, page: Page, mock
):
    open_question(page, live_server.url, mock)
    first = mock.items.select_related("attempt", "version").get(position=1)
    services.attempt_answer(item=first, revision=0, choice_ids=first.choice_order[:1])
    services.attempt_submit(attempt=mock)
    with page.expect_navigation(url=re.compile(r"/report/$")):
        page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.get_by_role("heading", name="Full mock exam: your report")).to_be_visible()
