"""A candidate who forgot the password resets it from the e-mailed link and keeps the history."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_the_emailed_link_sets_a_new_password(live_server, page: Page, db):
    UserFactory(username="carol", email="carol@example.com")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Reset it").click()
    page.get_by_label("Email").fill("carol@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    (message,) = mail.outbox
    link = re.search(r"http://[^/\s]+(/accounts/reset/\S+)", message.body).group(1)
    page.goto(live_server.url + link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("a fresh passphrase 2026")
    page.get_by_label("New password confirmation").fill("a fresh passphrase 2026")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()

    log_in(page, live_server.url, "carol", "a fresh passphrase 2026")
    page.goto(live_server.url + link)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
