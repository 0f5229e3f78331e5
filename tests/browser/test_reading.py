"""Pages that read well at every width, filters that show where you are, exam-style review
tools, and a report that prints on one or two pages."""

from __future__ import annotations

import random
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from exams import services
from exams.models import Attempt, AttemptItem
from questions.models import Choice
from tests.browser.conftest import horizontal_overflow, log_in

pytestmark = pytest.mark.browser

WIDTHS = (320, 375, 768, 1280)

# For every table cell, header, label and term: the words whose letters sit on more than
# one line (a word broken inside it). A line may end after a hyphen, dash or slash as in
# print, so the parts between those count as words. Tokens longer than 24 characters
# (parameter names, URLs) may wrap where they would otherwise overflow: left out.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const el of document.querySelectorAll('td, th, label, dt, dd, .badge')) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const re = /[^\\s\\-\u2013\u2014\\/]+/g;
      let m;
      while ((m = re.exec(node.textContent))) {
        if (m[0].length > 24) continue;
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def submitted_mock(user, exam) -> Attempt:
    attempt = services.attempt_start_full_mock(user=user, exam=exam, rng=random.Random(4))
    for item in attempt.items.select_related("attempt", "version"):
        key = list(
            Choice.objects.filter(version=item.version, is_correct=True).values_list(
                "id", flat=True
            )
        )
        chosen = key if item.position % 3 else [c for c in item.choice_order if c not in key][:1]
        services.attempt_answer(item=item, choice_ids=chosen, revision=0)
        if item.position in (5, 17):
            services.attempt_flag(item=item, flagged=True)
    return services.attempt_submit(attempt=attempt)


def test_no_word_breaks_in_tables_and_nothing_scrolls_sideways(
    live_server, page: Page, alice, exam, full_bank
):
    report = submitted_mock(alice, exam)
    running = services.attempt_start_drill(
        user=alice, exam=exam, domain_numbers=[3], count=5, timed=False, feedback="end"
    ).attempt
    log_in(page, live_server.url, "alice")
    pages = [
        "/",
        "/history/",
        "/progress/",
        f"/attempts/{report.pk}/report/",
        f"/attempts/{running.pk}/review/",
        f"/attempts/{running.pk}/questions/1/",
    ]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in pages:
            page.goto(live_server.url + path)
            assert page.evaluate(BROKEN_WORDS) == [], (width, path)
            assert horizontal_overflow(page) <= 0, (width, path)


def test_filters_show_the_current_one_after_each_swap(
    live_server, page: Page, alice, exam, full_bank
):
    report = submitted_mock(alice, exam)
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/attempts/{report.pk}/report/")
    filters = page.get_by_role("navigation", name="Show questions")
    for name in ("Incorrect", "Flagged", "Unanswered", "All"):
        with page.expect_response(lambda r: "show=" in r.url):
            filters.get_by_role("link", name=name).click()
        expect(filters.get_by_role("link", name=name)).to_have_attribute("aria-current", "true")
        assert filters.locator('[aria-current="true"]').count() == 1
    running = services.attempt_start_drill(
        user=alice, exam=exam, domain_numbers=[3], count=5, timed=False, feedback="end"
    ).attempt
    page.goto(f"{live_server.url}/attempts/{running.pk}/review/")
    review_filters = page.get_by_role("navigation", name="Show", exact=True)
    with page.expect_response(lambda r: "show=unanswered" in r.url):
        review_filters.get_by_role("link", name="Unanswered").click()
    expect(review_filters.get_by_role("link", name="Unanswered")).to_have_attribute(
        "aria-current", "true"
    )


def test_strike_out_survives_a_reload_and_another_device(
    live_server, browser: Browser, alice, exam, full_bank
):
    attempt = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(6))
    url = f"{live_server.url}/attempts/{attempt.pk}/questions/2/"
    laptop = browser.new_context().new_page()
    log_in(laptop, live_server.url, "alice")
    laptop.goto(url)
    with laptop.expect_response(lambda r: r.url.endswith("/strike/") and r.status == 200):
        laptop.get_by_role("button", name="Strike out B").click()
    expect(laptop.get_by_role("button", name="Restore B")).to_have_attribute("aria-pressed", "true")
    laptop.reload()
    expect(laptop.locator(".choice.is-struck")).to_have_count(1)
    phone = browser.new_context().new_page()
    log_in(phone, live_server.url, "alice")
    phone.goto(url)
    expect(phone.get_by_role("button", name="Restore B")).to_be_visible()
    assert AttemptItem.objects.get(attempt=attempt, position=2).selected == []


def test_review_flagged_walks_through_the_flagged_questions(
    live_server, page: Page, alice, exam, full_bank
):
    attempt = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(8))
    for position in (3, 11, 40):
        services.attempt_flag(
            item=AttemptItem.objects.select_related("attempt").get(
                attempt=attempt, position=position
            ),
            flagged=True,
        )
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/review/")
    page.get_by_role("link", name="Review flagged (3)").click()
    heading = page.get_by_role("heading", level=1)
    for position in (3, 11, 40):
        expect(heading).to_have_text(f"Question {position} of 65")
        with page.expect_navigation():
            page.keyboard.press("n")
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()


def test_the_report_prints_on_two_pages_at_most(live_server, page: Page, alice, exam, full_bank):
    report = submitted_mock(alice, exam)
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/attempts/{report.pk}/report/")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, pages
    page.goto(f"{live_server.url}/attempts/{report.pk}/report/?show=all&print=full")
    full = len(re.findall(rb"/Type\s*/Page[^s]", page.pdf(format="A4")))
    assert full > pages
