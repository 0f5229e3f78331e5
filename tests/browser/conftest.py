from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.conftest import ROOT

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))

pytestmark = pytest.mark.browser


@pytest.fixture
def screenshot(page: Page):
    """Save what the candidate sees, at desktop and phone width, for people to look at."""

    def take(name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for width, height in ((1280, 900), (375, 812)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

    return take


def log_in(
    page: Page, base_url: str, username: str, password: str = "correct horse battery staple"
) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Welcome, {username}").wait_for()


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WIDTHS = (1280, 375)


def serious_violations(page: Page) -> list[str]:
    """Run axe-core on the page; list every serious or critical violation, readably."""
    # Evaluated through the DevTools protocol, not added as a <script>: the app's
    # Content-Security-Policy (script-src 'self') blocks inline scripts, and it stays
    # enforced on the page under test.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


@pytest.fixture(autouse=True)
def no_csp_violations(request):
    """Any Content-Security-Policy violation on a test's page fails the test: the site runs
    under a strict policy (no inline script or style), and the browser is the judge."""
    if "page" not in request.fixturenames:
        yield
        return
    page: Page = request.getfixturevalue("page")
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    yield
    assert violations == [], violations
