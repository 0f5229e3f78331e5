"""Ready for the internet: throttled log-in, rate-limited sign-up and reset, security
headers, password reset, error pages, a health check and backups."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from exams import services
from exams.models import AttemptItem
from tests.conftest import ROOT, fill_bank
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def log_in(client: Client, username: str, password: str):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.9",
    )


@pytest.mark.django_db
class TestLogInThrottling:
    def test_it_locks_after_the_limit_and_says_how_long_to_wait(self, client, settings):
        UserFactory(username="alice")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert log_in(client, "alice", "wrong").status_code == 200
        locked = log_in(client, "alice", "wrong")
        assert locked.status_code == 429
        assert "log-in is locked for 15 minutes" in locked.content.decode()
        # Even the right password is refused while the lock lasts.
        assert log_in(client, "alice", PASSWORD).status_code == 429
        assert "_auth_user_id" not in client.session

    def test_the_lock_expires(self, client, settings):
        UserFactory(username="alice")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, "alice", "wrong")
        with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
            response = log_in(client, "alice", PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"]

    def test_another_address_or_user_is_not_locked(self, client, settings):
        UserFactory(username="alice")
        UserFactory(username="bob")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, "alice", "wrong")
        assert log_in(client, "bob", PASSWORD).status_code == 302
        other = Client()
        response = other.post(
            reverse("accounts:login"),
            {"username": "alice", "password": PASSWORD},
            REMOTE_ADDR="198.51.100.7",
        )
        assert response.status_code == 302


@pytest.mark.django_db
class TestRateLimits:
    @override_settings(SIGNUP_RATE="3/h")
    def test_sign_up_is_limited_per_address(self, client):
        for n in range(3):
            Client().post(
                reverse("accounts:signup"),
                {"username": f"new{n}", "password1": PASSWORD, "password2": PASSWORD},
                REMOTE_ADDR="203.0.113.5",
            )
        response = client.post(
            reverse("accounts:signup"),
            {"username": "new9", "password1": PASSWORD, "password2": PASSWORD},
            REMOTE_ADDR="203.0.113.5",
        )
        assert response.status_code == 429
        assert "Too many accounts" in response.content.decode()
        assert not User.objects.filter(username="new9").exists()

    @override_settings(PASSWORD_RESET_RATE="2/h")
    def test_password_reset_is_limited_per_address(self, client):
        for _ in range(2):
            client.post(reverse("accounts:password_reset"), {"email": "a@example.com"})
        response = client.post(reverse("accounts:password_reset"), {"email": "a@example.com"})
        assert response.status_code == 429


@pytest.mark.django_db
class TestPasswordReset:
    def test_the_emailed_link_sets_a_new_password_once(self, client):
        UserFactory(username="alice", email="alice@example.com")
        response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.com"})
        assert response.url == reverse("accounts:password_reset_done")
        (message,) = mail.outbox
        link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)
        form = client.get(link, follow=True)
        assert "Choose a new password" in form.content.decode()
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
        )
        assert done.url == reverse("accounts:password_reset_complete")
        assert User.objects.get(username="alice").check_password("a brand new passphrase")
        again = client.get(link, follow=True)
        assert "This link no longer works" in again.content.decode()

    def test_an_unknown_address_answers_the_same_and_sends_nothing(self, client):
        response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
        assert response.url == reverse("accounts:password_reset_done")
        assert mail.outbox == []

    def test_the_link_expires(self, client, settings):
        UserFactory(username="alice", email="alice@example.com")
        client.post(reverse("accounts:password_reset"), {"email": "alice@example.com"})
        link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
        later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
        with time_machine.travel(later, tick=False):
            page = client.get(link, follow=True)
        assert "This link no longer works" in page.content.decode()


PAGES = [
    ("accounts:login", False),
    ("accounts:signup", False),
    ("accounts:password_reset", False),
    ("exams:dashboard", True),
    ("exams:history", True),
    ("exams:progress", True),
    ("exams:drill", True),
    ("exams:start_full_mock", True),
]


@pytest.mark.django_db
class TestHeaders:
    @pytest.mark.parametrize(("name", "needs_login"), PAGES)
    def test_every_page_kind_sends_csp_and_permissions_policy(
        self, client, alice, full_bank, name, needs_login
    ):
        if needs_login:
            client.force_login(alice)
        response = client.get(reverse(name))
        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        )
        assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "camera=()" in response["Permissions-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        html = response.content.decode()
        assert "<script>" not in html and ' style="' not in html and " onclick=" not in html

    def test_the_question_page_and_report_have_no_inline_style_or_script(
        self, alice_client, alice, exam, full_bank
    ):
        attempt = services.attempt_start_full_mock(user=alice, exam=exam)
        item = attempt.items.select_related("attempt", "version").get(position=1)
        services.attempt_answer(item=item, choice_ids=item.choice_order[:1], revision=0)
        page = alice_client.get(reverse("exams:question", args=[attempt.pk, 1])).content.decode()
        services.attempt_submit(attempt=attempt)
        report = alice_client.get(reverse("exams:report", args=[attempt.pk])).content.decode()
        for html in (page, report):
            assert ' style="' not in html and "<script>" not in html and " hx-on" not in html

    def test_the_deploy_check_is_clean_with_production_settings(self):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": "x" * 60 + "-production-like-secret-key-for-the-check",
            "SECURE": "true",
            "DATABASE_URL": "sqlite:////tmp/mlsprep-deploy-check.sqlite3",
            # The two documented opt-ins for a site whose subdomains are all HTTPS.
            "HSTS_INCLUDE_SUBDOMAINS": "true",
            "HSTS_PRELOAD": "true",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
class TestErrorPages:
    def test_404_is_a_page_of_the_site(self, client):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "<h1>Page not found</h1>" in html and 'href="/"' in html and "site-header" in html

    @pytest.mark.parametrize("url", ["/accounts/logout/", "/exams/missed/"])
    def test_405_is_a_page_of_the_site(self, alice_client, url):
        response = alice_client.get(url)
        assert response.status_code == 405
        assert "This address is not for opening directly" in response.content.decode()
        assert "POST" in response["Allow"]

    @pytest.mark.parametrize(
        ("template", "heading"),
        [
            ("400.html", "That request could not be understood"),
            ("403.html", "You cannot open this page"),
            ("500.html", "Something went wrong on our side"),
        ],
    )
    def test_other_error_pages_render_with_a_way_back(self, rf, template, heading):
        from django.template.loader import render_to_string

        html = render_to_string(template)
        assert f"<h1>{heading}</h1>" in html and 'href="/"' in html

    def test_a_server_error_shows_our_page_without_internals(self, client, settings, monkeypatch):
        from exams import views

        def boom(*args, **kwargs):
            raise RuntimeError("secret internals")

        monkeypatch.setattr(views.selectors, "exam_choices", boom)
        UserFactory(username="alice")
        client.raise_request_exception = False
        client.force_login(User.objects.get(username="alice"))
        response = client.get(reverse("exams:dashboard"))
        assert response.status_code == 500
        html = response.content.decode()
        assert "Something went wrong on our side" in html and "secret internals" not in html


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_during_an_attempt_holds_every_answer(tmp_path, exam):
    if connection.vendor != "sqlite":
        pytest.skip("backup_db is the SQLite path; PostgreSQL is tested with pg_dump below")
    fill_bank(exam)
    user = UserFactory(username="alice")
    attempt = services.attempt_start_full_mock(user=user, exam=exam)
    for item in attempt.items.select_related("attempt", "version")[:20]:
        services.attempt_answer(item=item, choice_ids=item.choice_order[:1], revision=0)
    target = tmp_path / "backup.sqlite3"
    call_command("backup_db", str(target))
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup_db", str(target))
    restored = sqlite3.connect(target)
    rows = dict(restored.execute("SELECT id, selected FROM exams_attemptitem").fetchall())
    restored.close()
    for item in AttemptItem.objects.all():
        assert rows[item.pk] == (f"[{item.selected[0]}]" if item.selected else "[]")
    assert sum(r != "[]" for r in rows.values()) == 20


@pytest.mark.django_db(transaction=True)
def test_pg_dump_and_restore_keep_every_answer(tmp_path, exam):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    pg_bin = sorted(
        p
        for p in (
            shutil.which("pg_dump"),
            *map(str, __import__("glob").glob("/usr/lib/postgresql/*/bin/pg_dump")),
        )
        if p
    )
    if not pg_bin:
        pytest.skip("pg_dump is not installed")
    bindir = os.path.dirname(pg_bin[-1])
    fill_bank(exam)
    user = UserFactory(username="alice")
    attempt = services.attempt_start_full_mock(user=user, exam=exam)
    for item in attempt.items.select_related("attempt", "version")[:20]:
        services.attempt_answer(item=item, choice_ids=item.choice_order[:1], revision=0)
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    common = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    dump = tmp_path / "mlsprep.dump"
    subprocess.run(
        [f"{bindir}/pg_dump", *common, "--format=custom", "-f", str(dump), db["NAME"]],
        check=True,
        env=env,
    )
    restored_name = db["NAME"] + "_restored"
    subprocess.run([f"{bindir}/dropdb", *common, "--if-exists", restored_name], check=True, env=env)
    subprocess.run([f"{bindir}/createdb", *common, restored_name], check=True, env=env)
    try:
        subprocess.run(
            [f"{bindir}/pg_restore", *common, "-d", restored_name, str(dump)], check=True, env=env
        )
        out = subprocess.run(
            [
                f"{bindir}/psql",
                *common,
                "-At",
                "-d",
                restored_name,
                "-c",
                "SELECT count(*) FROM exams_attemptitem WHERE selected::text <> '[]'",
            ],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert out == "20"
    finally:
        subprocess.run(
            [f"{bindir}/dropdb", *common, "--if-exists", restored_name], check=False, env=env
        )


def test_the_site_has_an_icon_and_favicon_ico_leads_to_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    page = client.get(reverse("accounts:login")).content.decode()
    assert 'rel="icon"' in page and "favicon" in page
    assert client.post("/favicon.ico").status_code == 405
