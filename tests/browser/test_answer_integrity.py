"""The answer record in a real browser: two devices, a signed-out session, and every
documented shortcut in every focus position."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import Browser, Page, expect

from exams import services
from exams.models import Attempt, AttemptItem
from tests.browser.conftest import log_in
from tests.conftest import CHROMIUM_ARGS  # noqa: F401  (the launch arguments are shared)

pytestmark = pytest.mark.browser


def stored(attempt: Attempt, position: int) -> list[int]:
    return AttemptItem.objects.get(attempt=attempt, position=position).selected


def first_single(attempt: Attempt) -> int:
    return (
        attempt.items.filter(version__type="single", position__gt=1, position__lt=65)
        .order_by("position")
        .values_list("position", flat=True)
        .first()
    )


@pytest.fixture
def mock(alice, exam, full_bank) -> Attempt:
    return services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(5))


def question_url(base: str, attempt: Attempt, position: int) -> str:
    return f"{base}/attempts/{attempt.pk}/questions/{position}/"


def test_two_devices_a_stale_page_never_wipes_the_newer_answer(live_server, browser: Browser, mock):
    position = first_single(mock)
    laptop = browser.new_context().new_page()
    phone = browser.new_context().new_page()
    for device in (laptop, phone):
        log_in(device, live_server.url, "alice")
        device.goto(question_url(live_server.url, mock, position))

    # Each time: the laptop draws the question, the phone then answers it, and the laptop
    # (its page now stale) moves on with N, P, R or the Next button.
    moves = [("n", None), ("p", None), ("r", None), (None, "Next →")]
    for n, (key, button) in enumerate(moves):
        laptop.goto(question_url(live_server.url, mock, position))
        phone.goto(question_url(live_server.url, mock, position))
        with phone.expect_response(lambda r: r.url.endswith("/answer/") and r.status == 200):
            phone.locator("#choices input").nth(n % 4).check()
        expect(phone.get_by_text("Answer saved")).to_be_visible()
        on_phone = stored(mock, position)
        assert on_phone
        with laptop.expect_navigation():
            if key:
                laptop.keyboard.press(key)
            else:
                laptop.get_by_role("button", name=button).click()
        assert stored(mock, position) == on_phone, (key, button)

    # A deliberate click on a page drawn before the phone's answer is refused, visibly.
    stale = browser.new_context().new_page()
    log_in(stale, live_server.url, "alice")
    stale.goto(question_url(live_server.url, mock, position))
    phone.goto(question_url(live_server.url, mock, position))
    with phone.expect_response(lambda r: r.url.endswith("/answer/") and r.status == 200):
        phone.locator("#choices input").nth(1).check()
    on_phone = stored(mock, position)
    with stale.expect_response(lambda r: r.url.endswith("/answer/") and r.status == 422):
        stale.locator("#choices input").nth(0).check()
    expect(stale.get_by_role("alert")).to_contain_text("changed on another page or device")
    expect(stale.locator("#choices input").nth(1)).to_be_checked()
    assert stored(mock, position) == on_phone


def test_a_signed_out_click_goes_to_log_in_and_back_to_the_question(
    live_server, browser: Browser, mock
):
    position = first_single(mock)
    tab = browser.new_context().new_page()
    log_in(tab, live_server.url, "alice")
    tab.goto(question_url(live_server.url, mock, position))
    tab.context.clear_cookies(name="sessionid")  # the session ends (expiry)

    # click, not check: the page navigates away before a check could be verified.
    with tab.expect_navigation(url=lambda u: "/accounts/login/" in u):
        tab.locator("#choices input").nth(1).click()
    expect(tab.get_by_text("your last click was not saved")).to_be_visible()
    assert stored(mock, position) == []
    tab.get_by_label("Username").fill("alice")
    tab.get_by_label("Password").fill("correct horse battery staple")
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(f"Question {position} of 65")

    tab.context.clear_cookies()  # every cookie gone: the CSRF check fails first
    with tab.expect_navigation(url=lambda u: "/accounts/login/" in u):
        tab.get_by_role("button", name="Flag for review").click()
    assert not AttemptItem.objects.get(attempt=mock, position=position).flagged


def test_a_log_in_from_another_tab_gives_a_clear_message_not_a_csrf_page(
    live_server, browser: Browser, mock
):
    position = first_single(mock)
    context = browser.new_context()
    old_tab = context.new_page()
    log_in(old_tab, live_server.url, "alice")
    old_tab.goto(question_url(live_server.url, mock, position))
    other_tab = context.new_page()
    other_tab.goto(live_server.url + "/")
    other_tab.get_by_role("button", name="Log out").click()
    log_in(other_tab, live_server.url, "alice")

    with old_tab.expect_response(lambda r: r.url.endswith("/answer/") and r.status == 403):
        old_tab.locator("#choices input").nth(1).click()
    expect(old_tab.get_by_role("alert")).to_contain_text("Your session changed")
    assert stored(mock, position) == []
    with old_tab.expect_navigation():
        old_tab.get_by_role("button", name="Next →").click()
    expect(old_tab.get_by_role("heading", name="Your session changed")).to_be_visible()


NAVIGATION_KEYS = ["n", "p", "r", "ArrowRight", "ArrowLeft", "Enter"]


@pytest.mark.parametrize("key", NAVIGATION_KEYS)
def test_no_navigation_shortcut_changes_a_saved_answer_from_any_focus(
    live_server, page: Page, mock, key
):
    """Choose B with "2", then press the key with the focus on each choice, the flag button,
    the navigation buttons and the page body: the stored answer stays B, and Enter never
    goes to the previous question."""
    position = first_single(mock)
    log_in(page, live_server.url, "alice")
    page.goto(question_url(live_server.url, mock, position))
    with page.expect_response(lambda r: r.url.endswith("/answer/") and r.status == 200):
        page.keyboard.press("2")
    chosen = stored(mock, position)
    assert chosen == [AttemptItem.objects.get(attempt=mock, position=position).choice_order[1]]

    focus_targets = [f"#choices input >> nth={n}" for n in range(4)] + [
        "#flag-form button",
        "#answer-form .question-actions button[value=next]",
        "#answer-form .question-actions button[value=previous]",
        "body",
    ]
    for target in focus_targets:
        page.goto(question_url(live_server.url, mock, position))
        if target == "body":
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
        else:
            page.locator(target).focus()
        page.keyboard.press(key)
        page.wait_for_load_state("networkidle")
        assert stored(mock, position) == chosen, (key, target)
        if key == "Enter" and "previous" not in target:  # Enter on that button means it
            assert f"/questions/{position - 1}/" not in page.url, target


def test_the_choice_keys_do_change_the_answer(live_server, page: Page, mock):
    position = first_single(mock)
    log_in(page, live_server.url, "alice")
    page.goto(question_url(live_server.url, mock, position))
    order = AttemptItem.objects.get(attempt=mock, position=position).choice_order
    for key, index in (("2", 1), ("c", 2), ("1", 0), ("d", 3)):
        with page.expect_response(lambda r: r.url.endswith("/answer/") and r.status == 200):
            page.keyboard.press(key)
        assert stored(mock, position) == [order[index]]
