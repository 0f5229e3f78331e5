"""axe-core finds no serious or critical violation on any page, at desktop and phone width,
and no page scrolls sideways on a phone."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from exams import services
from exams.models import Attempt
from questions.models import Choice
from tests.browser.conftest import WIDTHS, horizontal_overflow, log_in, serious_violations
from tests.conftest import fill_bank

pytestmark = pytest.mark.browser


def check(page: Page, url: str, name: str) -> list[str]:
    return check_opened(page, lambda: page.goto(url), name)


def check_opened(page: Page, open_page: Callable[[], object], name: str) -> list[str]:
    """As `check`, for a page reached by `open_page()` (e.g. the answer to a form post,
    which a reload would not reproduce): opened afresh for every width and theme."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        open_page()
        problems += [f"{name} at {width}px: {v}" for v in serious_violations(page)]
        if width < 400 and (overflow := horizontal_overflow(page)) > 0:
            problems.append(f"{name} at {width}px scrolls sideways by {overflow}px")
    # The dark theme (prefers-color-scheme) must keep its contrast too.
    page.emulate_media(color_scheme="dark")
    open_page()
    problems += [f"{name} in the dark theme: {v}" for v in serious_violations(page)]
    page.emulate_media(color_scheme="light")
    return problems


def test_every_page_passes_axe_and_fits_a_phone(live_server, page: Page, exam, alice):
    fill_bank(exam, per_domain={1: 20, 2: 20, 3: 30, 4: 20})
    base = live_server.url
    problems = check(page, f"{base}/accounts/login/", "login")
    problems += check(page, f"{base}/accounts/signup/", "sign-up")

    # A submitted full mock (for the report, history and progress) ...
    done = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(1))
    for it in done.items.select_related("attempt", "version").order_by("position")[:40]:
        services.attempt_answer(item=it, revision=it.revision, choice_ids=[it.choice_order[0]])
    services.attempt_flag(item=done.items.select_related("attempt").get(position=3), flagged=True)
    services.attempt_submit(attempt=done)
    # ... a mock abandoned by the candidate, and one that ended with no answer (both
    # recorded as abandoned: their report pages, and their rows in the history) ...
    dropped = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(3))
    services.attempt_abandon(attempt=dropped)
    empty = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(4))
    services.attempt_submit(attempt=empty)
    assert Attempt.objects.filter(status=Attempt.Status.ABANDONED).count() == 2
    # ... and a drill with one answer revealed.
    drill = services.attempt_start_drill(
        user=alice,
        exam=exam,
        domain_numbers=[3],
        count=5,
        timed=True,
        feedback=Attempt.Feedback.IMMEDIATE,
    ).attempt
    shown = drill.items.select_related("attempt", "version").get(position=1)
    wrong = Choice.objects.filter(version=shown.version, is_correct=False).values_list(
        "id", flat=True
    )[0]
    services.attempt_answer(item=shown, revision=shown.revision, choice_ids=[wrong])
    services.attempt_reveal(item=shown)

    log_in(page, base, "alice")
    # The full mock's instructions show only while no mock is running (a running one is
    # resumed instead), so they come before the running mock is started.
    problems += check(page, f"{base}/exams/full-mock/", "full mock instructions")
    expect(page.get_by_role("heading", name="Full mock exam: before you begin")).to_be_visible()

    # A running mock (question page, navigator, review, abandon confirmation).
    running = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(2))
    first = running.items.select_related("attempt", "version").get(position=1)
    services.attempt_answer(item=first, revision=first.revision, choice_ids=[first.choice_order[1]])
    services.attempt_flag(item=first, flagged=True)

    pages = {
        "dashboard": "/",
        "question page and navigator": f"/attempts/{running.pk}/questions/1/",
        "review screen": f"/attempts/{running.pk}/review/",
        "abandon confirmation": f"/attempts/{running.pk}/abandon/",
        "report": f"/attempts/{done.pk}/report/",
        "abandoned attempt's report": f"/attempts/{dropped.pk}/report/",
        "empty mock's report (abandoned)": f"/attempts/{empty.pk}/report/",
        "drill with feedback": f"/attempts/{drill.pk}/questions/1/",
        "drill setup": "/exams/drill/",
        "history": "/history/",
        "progress": "/progress/",
    }
    for name, path in pages.items():
        problems += check(page, base + path, name)
    page.goto(f"{base}/attempts/{running.pk}/abandon/")
    expect(page.get_by_role("heading", name="Abandon this full mock exam?")).to_be_visible()
    page.goto(f"{base}/attempts/{dropped.pk}/report/")
    expect(page.get_by_role("heading", name="Full mock exam: abandoned")).to_be_visible()

    # Pages that answer a form post: a timed drill's instructions, and the page offered
    # when a practice attempt is already open (the drill above).
    def drill_form(*, timed: bool) -> None:
        page.goto(f"{base}/exams/drill/")
        page.get_by_label("2. Exploratory Data Analysis").check()
        page.get_by_label("Timed at the real exam's pace").set_checked(timed)
        page.get_by_role("button", name="Start drill").click()

    def timed_drill_instructions() -> None:
        drill_form(timed=True)
        expect(page.get_by_role("heading", name="Timed drill: before you begin")).to_be_visible()

    def practice_open() -> None:
        drill_form(timed=False)
        expect(page.get_by_role("heading", name="You have a practice attempt open")).to_be_visible()

    problems += check_opened(page, timed_drill_instructions, "timed drill instructions")
    problems += check_opened(page, practice_open, "practice attempt open")
    assert Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).count() == 2  # nothing new

    # The navigator folds away on a phone and opens with its toggle.
    page.set_viewport_size({"width": 375, "height": 900})
    page.goto(f"{base}/attempts/{running.pk}/questions/1/")
    navigator = page.get_by_role("navigation", name="Question navigator")
    expect(navigator.get_by_role("link", name="1 answered, flagged")).to_be_hidden()
    navigator.get_by_text("All questions").click()
    expect(navigator.get_by_role("link", name="1 answered, flagged")).to_be_visible()
    problems += [f"open navigator at 375px: {v}" for v in serious_violations(page)]

    assert problems == []


def test_the_checks_catch_what_they_look_for(page: Page):
    # A page with known faults, so the checks above are known to be able to fail.
    page.set_viewport_size({"width": 375, "height": 600})
    page.set_content(
        '<html><body><img src="x.png"><input type="text">'
        '<div style="width: 900px">wide</div></body></html>'
    )
    found = serious_violations(page)
    assert any(v.startswith("image-alt (critical)") for v in found)
    assert any(v.startswith("label (critical)") for v in found)
    assert horizontal_overflow(page) > 0


def test_the_checks_also_work_on_the_apps_own_pages(live_server, page: Page, db):
    # The app's pages carry a strict Content-Security-Policy (no inline script): axe must
    # still run there and report, or every check above would pass vacuously.
    page.set_viewport_size({"width": 375, "height": 600})
    page.goto(live_server.url + "/accounts/login/")
    assert serious_violations(page) == []
    page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML('beforeend',
            '<img src="x.png"><input type="text">')"""
    )
    found = serious_violations(page)
    assert any(v.startswith("image-alt (critical)") for v in found)
    assert any(v.startswith("label (critical)") for v in found)
