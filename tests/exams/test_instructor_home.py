"""The instructors' overview page and the way to it."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exams.models import ProblemReport
from questions.models import BankUpload, Question
from tests.factories import UserFactory
from tests.instructors import drill_done, make_group

HOME = reverse("instructor:home")


def test_it_counts_what_waits_for_the_instructor(client, carol, exam, full_bank, alice, bob):
    full_bank[0].status = Question.Status.DRAFT
    full_bank[0].save(update_fields=["status"])
    make_group("Morning", exam=exam, instructor=carol, members=[alice])
    BankUpload.objects.create(uploaded_by=carol, status=BankUpload.Status.PREVIEWED)
    BankUpload.objects.create(uploaded_by=bob, status=BankUpload.Status.PREVIEWED)
    attempt = drill_done(alice, exam, at=timezone.now())
    item = attempt.items.first()
    ProblemReport.objects.create(
        user=alice,
        item=item,
        question=item.question,
        version=item.version,
        kind=ProblemReport.Kind.TYPO,
        created_at=timezone.now(),
    )
    client.force_login(carol)
    html = client.get(HOME).content.decode()
    assert "1 open report from candidates." in html
    assert "for the 1 group you run" in html
    # Only carol's own pending upload, not bob's.
    assert "1 of yours awaits Apply or Discard." in html
    assert "1 draft</a> waits for an explanation" in html


def test_it_takes_a_fixed_number_of_queries(client, carol, django_assert_num_queries):
    client.force_login(carol)
    # session, user, instructor check, four counts
    with django_assert_num_queries(7):
        assert client.get(HOME).status_code == 200


def test_candidates_get_404_and_visitors_go_to_log_in(alice_client):
    assert alice_client.get(HOME).status_code == 404
    response = Client().get(HOME)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_refuses_a_post(client, carol):
    client.force_login(carol)
    assert client.post(HOME).status_code == 405


def test_staff_find_it_in_the_header_and_candidates_do_not(alice_client, exam):
    staff = UserFactory(username="sam", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert f'href="{HOME}"' in client.get(reverse("exams:dashboard")).content.decode()
    assert f'href="{HOME}"' not in alice_client.get(reverse("exams:dashboard")).content.decode()


def test_every_instructor_page_links_every_other(client, carol, exam):
    client.force_login(carol)
    html = client.get(HOME).content.decode()
    for name in ("items", "reports", "cohort", "groups", "uploads", "exams"):
        assert f'href="{reverse("instructor:" + name)}"' in html
    assert 'aria-current="page">Overview' in html
