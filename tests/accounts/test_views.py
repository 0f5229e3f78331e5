from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse


@pytest.mark.django_db
class TestSignUp:
    def test_it_creates_the_account_and_lands_on_the_dashboard(self, client):
        response = client.post(
            reverse("accounts:signup"),
            {
                "username": "carol",
                "email": "carol@example.com",
                "password1": "a-long-passphrase-42",
                "password2": "a-long-passphrase-42",
            },
        )
        assert response.url == reverse("exams:dashboard")
        assert User.objects.filter(username="carol").exists()
        assert client.get(response.url).status_code == 200

    def test_it_applies_the_password_validators(self, client):
        response = client.post(
            reverse("accounts:signup"),
            {"username": "dave", "password1": "12345678", "password2": "12345678"},
        )
        assert response.status_code == 200
        assert "This password is too common." in response.content.decode()
        assert not User.objects.filter(username="dave").exists()

    def test_the_form_is_shown(self, client):
        html = client.get(reverse("accounts:signup")).content.decode()
        assert '<label for="id_username">' in html and "Sign up" in html

    def test_it_refuses_other_methods(self, client):
        assert client.put(reverse("accounts:signup")).status_code == 405


@pytest.mark.django_db
class TestLogInAndOut:
    def test_log_in_lands_on_the_dashboard(self, client, alice):
        response = client.post(
            reverse("accounts:login"),
            {"username": "alice", "password": "correct horse battery staple"},
        )
        assert response.url == reverse("exams:dashboard")

    def test_a_wrong_password_is_refused(self, client, alice):
        response = client.post(reverse("accounts:login"), {"username": "alice", "password": "nope"})
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    def test_the_dashboard_needs_a_login(self, client):
        response = client.get(reverse("exams:dashboard"))
        login = urlsplit(response.url)
        assert login.path == reverse("accounts:login")
        assert parse_qs(login.query, strict_parsing=True) == {"next": ["/"]}

    def test_log_out_is_a_post(self, alice_client):
        assert alice_client.get(reverse("accounts:logout")).status_code == 405
        assert alice_client.post(reverse("accounts:logout")).url == reverse("accounts:login")
        assert alice_client.get(reverse("exams:dashboard")).status_code == 302


@pytest.mark.django_db
def test_password_change(alice_client, alice):
    response = alice_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "another-long-phrase-7",
            "new_password2": "another-long-phrase-7",
        },
    )
    assert response.url == reverse("accounts:password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("another-long-phrase-7")


@pytest.mark.django_db
def test_the_instructors_group_can_manage_the_bank_but_not_the_blueprint():
    codenames = set(
        Group.objects.get(name="Instructors").permissions.values_list("codename", flat=True)
    )
    assert {
        "add_question",
        "change_question",
        "delete_question",
        "change_choice",
        "add_tag",
    } <= codenames
    assert (
        "view_exam" in codenames
        and "change_exam" not in codenames
        and "change_domain" not in codenames
    )


@pytest.mark.django_db
def test_make_instructor(alice):
    call_command("make_instructor", "alice")
    alice.refresh_from_db()
    assert alice.is_staff and alice.groups.filter(name="Instructors").exists()
    assert alice.has_perm("questions.change_question") and not alice.has_perm(
        "questions.change_exam"
    )
    with pytest.raises(CommandError, match="no user named 'zed'"):
        call_command("make_instructor", "zed")


@pytest.mark.django_db
def test_make_instructor_recreates_the_group_with_its_permissions_when_it_is_missing(alice):
    from django.contrib.auth.models import Group

    Group.objects.filter(name="Instructors").delete()
    call_command("make_instructor", "alice")
    alice = type(alice).objects.get(pk=alice.pk)  # a fresh user: no cached permissions
    assert alice.groups.filter(name="Instructors").exists()
    assert alice.has_perm("questions.change_question") and alice.has_perm("questions.view_exam")
    assert not alice.has_perm("questions.change_exam")


@pytest.mark.django_db
def test_each_fields_help_is_the_text_its_aria_describedby_names(client):
    import re

    html = client.get(reverse("accounts:signup")).content.decode()
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert described, "the sign-up form has fields with help text"
    for ids in described:
        for help_id in ids.split():
            assert f'id="{help_id}"' in html
