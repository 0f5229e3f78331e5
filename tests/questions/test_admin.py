from __future__ import annotations

import pytest
from django.urls import reverse

from questions.models import Question


def form_data(exam, choices: list[tuple[str, bool]], **overrides) -> dict:
    task = exam.domains.get(number=1).tasks.get(code="1.2")
    data = {
        "external_id": "admin-q-001",
        "task": task.pk,
        "type": "single",
        "select_count": 1,
        "difficulty": 2,
        "stem": "A stem written in the admin.",
        "explanation": "Why the key is right.",
        "status": "active",
        # The read-only list of versions (an inline): none yet for a new question.
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "versions-MIN_NUM_FORMS": 0,
        "versions-MAX_NUM_FORMS": 1000,
    }
    for n, (text, correct) in enumerate(choices, start=1):
        data[f"choice_{n}_text"] = text
        if correct:
            data[f"choice_{n}_correct"] = "on"
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_admin_saves_a_valid_question(admin_client, exam):
    response = admin_client.post(
        reverse("admin:questions_question_add"),
        form_data(exam, [("Firehose", True), ("DataSync", False)]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    question = Question.objects.get()
    assert question.current_version.choices.count() == 2


@pytest.mark.django_db
def test_the_admin_applies_the_question_file_rules(admin_client, exam):
    data = form_data(exam, [("Firehose", True), ("firehose", True), ("DataSync", False)])
    response = admin_client.post(reverse("admin:questions_question_add"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "choice 2 repeats the text of choice 1" in html
    assert not Question.objects.exists()
    data = form_data(exam, [("Firehose", True), ("Kinesis", True), ("DataSync", False)])
    html = admin_client.post(reverse("admin:questions_question_add"), data).content.decode()
    assert "a single-answer question needs exactly 1 correct choice, this one has 2" in html
    assert not Question.objects.exists()


@pytest.mark.django_db
def test_the_admin_lists_and_filters_the_bank(admin_client, full_bank):
    response = admin_client.get(
        reverse("admin:questions_question_changelist")
        + "?task__domain__id__exact="
        + str(full_bank[0].task.domain_id)
    )
    assert response.status_code == 200
    assert "13 questions" in response.content.decode()
    response = admin_client.get(reverse("admin:questions_question_changelist") + "?q=d3-q-001")
    assert "1 question" in response.content.decode()


def test_the_admin_offers_no_way_to_delete_a_question(admin_client, exam, full_bank):
    question = full_bank[0]
    changelist = admin_client.get(reverse("admin:questions_question_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    change = admin_client.get(reverse("admin:questions_question_change", args=[question.pk]))
    assert reverse("admin:questions_question_delete", args=[question.pk]) not in (
        change.content.decode()
    )
    assert (
        admin_client.post(
            reverse("admin:questions_question_delete", args=[question.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Question.objects.filter(pk=question.pk).exists()
