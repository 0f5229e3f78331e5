"""Journeys a candidate takes, in a real browser (Chromium driven by Playwright)."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from exams import services
from exams.models import Attempt
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_new_candidate_signs_up_and_lands_on_the_dashboard(
    live_server, page: Page, exam, full_bank
):
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Email address").fill("erin@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-passphrase-42")
    page.get_by_label("Password confirmation").fill("a-long-passphrase-42")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Welcome, erin")).to_be_visible()
    expect(page.get_by_role("link", name="Start full mock exam")).to_be_visible()
    # Readiness and its estimate are empty (—) before any answer; 0 missed; 23 in the bank.
    expect(page.get_by_role("row", name=re.compile(r"3\. Modeling 36% — — 0 23"))).to_be_visible()


def begin_full_mock(page: Page) -> None:
    """From the dashboard: the instructions first (no clock running yet), then Begin."""
    page.get_by_role("link", name="Start full mock exam").click()
    expect(page.get_by_role("heading", name="Full mock exam: before you begin")).to_be_visible()
    expect(page.get_by_text("The clock has not started")).to_be_visible()
    assert not Attempt.objects.filter(mode=Attempt.Mode.FULL).exists()
    page.get_by_role("button", name="Begin").click()
    expect(page.get_by_role("heading", name="Question 1 of 65")).to_be_visible()


def choose(page: Page, index: int) -> None:
    page.locator("#choices label.choice").nth(index).click()
    expect(page.locator("#save-status")).to_have_text(re.compile("Answer saved"))


def test_a_full_mock_from_start_to_report(
    live_server, page: Page, exam, full_bank, alice, screenshot
):
    log_in(page, live_server.url, "alice")
    begin_full_mock(page)
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^2:(4\d|50):\d\d$"))

    # Answer the first three questions, saving each through htmx.
    choose(page, 0)
    expect(page.get_by_text("1 of 65 answered")).to_be_visible()
    page.get_by_role("button", name="Next →").click()
    expect(page.get_by_role("heading", name="Question 2 of 65")).to_be_visible()
    choose(page, 1)
    page.get_by_role("button", name="Flag for review").click()
    expect(page.get_by_role("button", name="Flagged for review")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("button", name="Next →").click()
    choose(page, 2)
    screenshot("question")

    # Jump through the navigator to question 10 and flag it.
    page.get_by_role("navigation", name="Question navigator").get_by_role(
        "link", name=re.compile(r"^10 ")
    ).click()
    expect(page.get_by_role("heading", name="Question 10 of 65")).to_be_visible()
    page.get_by_role("button", name="Flag for review").click()
    expect(page.get_by_role("button", name="Flagged for review")).to_be_visible()

    # A reload keeps answers and flags.
    page.goto(live_server.url + page.url.split(live_server.url)[1].replace("/10/", "/2/"))
    expect(page.get_by_role("heading", name="Question 2 of 65")).to_be_visible()
    expect(page.locator("#choices input").nth(1)).to_be_checked()
    expect(page.get_by_role("button", name="Flagged for review")).to_be_visible()
    navigator = page.get_by_role("navigation", name="Question navigator")
    expect(
        navigator.get_by_role("link", name=re.compile(r"^2 .*answered, flagged"))
    ).to_be_visible()
    expect(
        navigator.get_by_role("link", name=re.compile(r"^10 .*unanswered, flagged"))
    ).to_be_visible()
    expect(page.get_by_text("3 of 65 answered")).to_be_visible()

    # The review screen counts and filters, then submission asks for confirmation.
    page.get_by_role("button", name="Review and submit").click()
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(page.get_by_text("Unanswered62")).to_be_visible()
    page.get_by_role("link", name="Flagged", exact=True).click()
    expect(page.locator(".review-cell")).to_have_count(2)
    screenshot("review")
    page.get_by_role("button", name="Submit exam…").click()
    expect(page.get_by_text("62 unanswered questions")).to_be_visible()
    page.get_by_role("button", name="Submit now").click()

    # The report: overall, per domain against the pass mark, and the flagged review.
    expect(page.get_by_role("heading", name="Full mock exam: your report")).to_be_visible()
    expect(page.get_by_text("Below the pass mark").first).to_be_visible()
    domains = page.get_by_role("table").first
    for name in [
        "1. Data Engineering",
        "2. Exploratory Data Analysis",
        "3. Modeling",
        "4. Machine Learning Implementation and Operations",
    ]:
        expect(domains.get_by_role("rowheader", name=name)).to_be_visible()
    expect(domains.get_by_text("Needs improvement").first).to_be_visible()
    screenshot("report")
    page.get_by_role("link", name="Flagged", exact=True).click()
    expect(page.locator(".review-item")).to_have_count(2)
    flagged = page.get_by_role("heading", name=re.compile(r"Question 2 .*Flagged"))
    expect(flagged).to_be_visible()
    # Each question of the review opens on its own, with its explanation.
    second = page.locator(".review-item").filter(has=flagged)
    second.locator(":scope > summary").click()
    expect(second.get_by_role("heading", name="Explanation")).to_be_visible()
    assert Attempt.objects.get().status == Attempt.Status.SUBMITTED


def test_an_open_page_submits_itself_when_time_runs_out(
    live_server, page: Page, exam, full_bank, alice
):
    log_in(page, live_server.url, "alice")
    # An attempt with 20 seconds left on its clock, opened at once.
    started = timezone.now() - timedelta(minutes=exam.minutes) + timedelta(seconds=20)
    attempt = services.attempt_start_full_mock(
        user=alice, exam=exam, now=started, rng=random.Random(3)
    )
    # One answer, so the mock is scored (a mock that ends with none is abandoned: below).
    first = attempt.items.select_related("attempt", "version").get(position=1)
    services.attempt_answer(item=first, revision=first.revision, choice_ids=first.choice_order[:1])
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/questions/2/")
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^0:[0-2]\d$"))
    expect(page.get_by_role("heading", name="Full mock exam: your report")).to_be_visible(
        timeout=40_000
    )
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED and attempt.timed_out
    assert attempt.result["answered"] == 1


def test_a_mock_that_runs_out_with_no_answer_is_recorded_as_abandoned(
    live_server, page: Page, exam, full_bank, alice
):
    log_in(page, live_server.url, "alice")
    started = timezone.now() - timedelta(minutes=exam.minutes) + timedelta(seconds=10)
    attempt = services.attempt_start_full_mock(
        user=alice, exam=exam, now=started, rng=random.Random(4)
    )
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/questions/1/")
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^0:(0\d|10)$"))
    expect(page.get_by_role("heading", name="Full mock exam: abandoned")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("with no answer at all")).to_be_visible()
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.ABANDONED and attempt.timed_out
    assert attempt.score_percent is None and attempt.passed is None
    page.get_by_role("link", name="All attempts").click()
    expect(page.get_by_role("row", name=re.compile(r"Full mock exam"))).to_contain_text(
        "Abandoned (ended with no answers) · counts nowhere"
    )


def test_a_failed_save_says_so_and_retries(live_server, page: Page, exam, full_bank, alice):
    # The answer endpoint cannot be reached. The route is in place before any page loads, so
    # no save can slip past it while the question page is still arriving.
    page.route("**/answer/", lambda route: route.abort())
    log_in(page, live_server.url, "alice")
    begin_full_mock(page)
    page.locator("#choices label.choice").nth(2).click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    expect(page.locator("#choices")).to_have_class(re.compile("is-unsaved"))
    assert Attempt.objects.get().items.get(position=1).selected == []

    page.unroute("**/answer/")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#save-status")).to_have_text(re.compile("Answer saved"))
    expect(page.locator("#choices")).not_to_have_class(re.compile("is-unsaved"))
    item = Attempt.objects.get().items.get(position=1)
    assert item.selected == [item.choice_order[2]]


def test_a_save_after_the_deadline_is_refused_on_screen(
    live_server, page: Page, exam, full_bank, alice
):
    started = timezone.now() - timedelta(minutes=exam.minutes) + timedelta(seconds=30)
    attempt = services.attempt_start_full_mock(
        user=alice, exam=exam, now=started, rng=random.Random(5)
    )
    # Another question answered in time, so the attempt is scored when it closes (a mock
    # that ends with no answer at all is recorded as abandoned instead).
    other = attempt.items.select_related("attempt", "version").get(position=2)
    services.attempt_answer(item=other, revision=other.revision, choice_ids=other.choice_order[:1])
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/questions/1/")
    # The server's clock runs out while the page is open: moved here by 31 seconds, and
    # past the grace for answers already in flight too.
    moved = timedelta(seconds=31 + settings.ANSWER_GRACE_SECONDS)
    Attempt.objects.filter(pk=attempt.pk).update(
        started_at=started - moved, deadline=attempt.deadline - moved
    )
    page.locator("#choices label.choice").first.click()
    expect(page.get_by_role("alert")).to_contain_text("Time is up")
    expect(page.locator("#choices input").first).to_be_disabled()
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    assert attempt.items.get(position=1).selected == []


def test_abandoning_a_full_mock_from_the_dashboard_and_the_review_screen(
    live_server, page: Page, exam, full_bank, alice
):
    log_in(page, live_server.url, "alice")
    begin_full_mock(page)
    choose(page, 0)
    page.get_by_role("button", name="Flag for review").click()
    expect(page.get_by_role("button", name="Flagged for review")).to_be_visible()

    # From the dashboard's in-progress list: the confirmation names what is lost, and
    # "Keep going" leaves the attempt running.
    page.get_by_role("link", name="mlsprep").click()
    in_progress = page.get_by_role("region", name="In progress")
    in_progress.get_by_role("link", name="Abandon full mock exam").click()
    expect(page.get_by_role("heading", name="Abandon this full mock exam?")).to_be_visible()
    expect(page.get_by_text("You will lose your 1 answer and 1 flag")).to_be_visible()
    page.get_by_role("link", name="Keep going").click()
    expect(page.get_by_role("heading", name="Question 1 of 65")).to_be_visible()
    attempt = Attempt.objects.get()
    assert attempt.status == Attempt.Status.IN_PROGRESS

    # From the review screen, this time confirmed.
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("link", name="Abandon attempt…").click()
    expect(page.get_by_role("heading", name="Abandon this full mock exam?")).to_be_visible()
    page.get_by_role("button", name="Abandon attempt").click()
    expect(page.get_by_role("heading", name="Welcome, alice")).to_be_visible()
    expect(page.get_by_text("The full mock exam was abandoned")).to_be_visible()
    expect(page.get_by_role("region", name="In progress")).to_have_count(0)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.ABANDONED and attempt.score_percent is None

    page.goto(live_server.url + "/history/")
    expect(page.get_by_role("row", name=re.compile(r"Full mock exam"))).to_contain_text(
        "Abandoned · counts nowhere"
    )
    # Its report says so, and a new mock starts from the instructions, not a resume.
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/report/")
    expect(page.get_by_role("heading", name="Full mock exam: abandoned")).to_be_visible()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Start full mock exam").click()
    expect(page.get_by_role("heading", name="Full mock exam: before you begin")).to_be_visible()
