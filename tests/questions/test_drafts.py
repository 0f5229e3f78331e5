"""Draft questions: kept and listed for instructors, never drawn into an attempt, and made
active only once they have an explanation."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from exams import selectors, services
from exams.models import Attempt, AttemptItem
from questions import bankfile as bf
from questions.admin import MSG_EXPLANATION_BEFORE_ACTIVE
from questions.bankfile import ReadOptions
from questions.models import Question, QuestionVersion
from questions.services import bank_load, blueprint_index, question_as_data
from tests.conftest import fill_bank
from tests.factories import QuestionFactory

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)

RAW = {
    "id": "d1-draft-001",
    "domain": 1,
    "task": "1.2",
    "type": "single",
    "difficulty": 2,
    "stem": "Which service delivers streams to S3?",
    "choices": [{"text": "Firehose", "correct": True}, {"text": "Batch"}],
}


def validate(exam, **changes):
    return bf.validate_question({**RAW, **changes}, exam=exam.code, blueprint=blueprint_index())


class TestValidation:
    def test_a_draft_may_leave_its_explanation_out_or_empty(self, exam):
        for raw in ({"status": "draft"}, {"status": "draft", "explanation": ""}):
            data, errors = validate(exam, **raw)
            assert errors == []
            assert (data["status"], data["explanation"]) == ("draft", "")

    def test_a_draft_with_an_explanation_stays_a_draft(self, exam):
        data, errors = validate(exam, status="draft", explanation="Firehose delivers.")
        assert errors == []
        assert (data["status"], data["explanation"]) == ("draft", "Firehose delivers.")

    def test_an_active_or_retired_question_needs_its_explanation(self, exam):
        assert validate(exam)[1] == [bf.MSG_MISSING_KEYS.format(keys="explanation")]
        for status in ("active", "retired"):
            assert validate(exam, status=status, explanation="")[1] == [
                bf.MSG_EMPTY_TEXT.format(what="explanation")
            ]

    def test_an_unknown_status_is_refused(self, exam):
        assert validate(exam, status="pending", explanation="x")[1] == [bf.MSG_BAD_STATUS]


DRAFT_FILE = """\
exam: mls-c01
questions:
  - id: d1-draft-001
    domain: 1
    task: "1.2"
    type: single
    difficulty: 2
    status: draft
    stem: Which service delivers streams to S3?
    choices: [{text: Firehose, correct: true}, {text: Batch}]
"""


class TestLoading:
    def test_the_loader_creates_a_draft_with_a_draft_version(self, exam):
        result = bank_load(sources=[("drafts.yaml", DRAFT_FILE)])
        assert result.created == 1
        question = Question.objects.get()
        assert question.status == Question.Status.DRAFT
        assert (question.current_version.is_draft, question.current_version.explanation) == (
            True,
            "",
        )

    def test_completing_a_draft_in_its_file_adds_a_non_draft_version(self, exam):
        bank_load(sources=[("drafts.yaml", DRAFT_FILE)])
        completed = DRAFT_FILE.replace("status: draft", "explanation: Firehose delivers.")
        result = bank_load(sources=[("drafts.yaml", completed)])
        assert result.new_versions == 1
        question = Question.objects.get()
        assert question.status == Question.Status.ACTIVE
        assert [(v.number, v.is_draft) for v in question.versions.order_by("number")] == [
            (1, True),
            (2, False),
        ]

    def test_a_yaml_export_keeps_drafts_and_loads_back_unchanged(self, exam, tmp_path):
        from questions.services import bank_export

        bank_load(sources=[("drafts.yaml", DRAFT_FILE)])
        files = bank_export(exam=exam, folder=tmp_path)
        assert "status: draft" in files[0].read_text()
        result = bank_load(paths=files)
        assert (result.unchanged, result.new_versions, result.metadata_updated) == (1, 0, 0)


@pytest.fixture
def bank_with_drafts(exam):
    """Exactly a full mock's quota of active questions, and a draft beside each domain's."""
    questions = fill_bank(exam)
    drafts = []
    for domain in exam.domains.prefetch_related("tasks"):
        for n in range(20):
            drafts.append(
                QuestionFactory(
                    external_id=f"draft-{domain.number}-{n}",
                    task=domain.tasks.all()[0],
                    status=Question.Status.DRAFT,
                )
            )
    return questions, drafts


class TestNeverInAnAttempt:
    def test_a_full_mock_never_draws_a_draft(self, alice, exam, bank_with_drafts):
        _, drafts = bank_with_drafts
        attempt = services.attempt_start_full_mock(
            user=alice, exam=exam, now=START, rng=random.Random(3)
        )
        drawn = set(attempt.items.values_list("question_id", flat=True))
        assert len(drawn) == exam.question_count
        assert drawn.isdisjoint(d.pk for d in drafts)

    def test_a_full_mock_refuses_to_fill_a_quota_with_drafts(self, alice, exam):
        fill_bank(exam, per_domain={1: 5})
        QuestionFactory.create_batch(
            80, task=exam.domains.get(number=1).tasks.first(), status=Question.Status.DRAFT
        )
        with pytest.raises(services.BankShortfall):
            services.attempt_start_full_mock(user=alice, exam=exam, now=START)

    def test_a_drill_never_draws_a_draft(self, alice, exam, bank_with_drafts):
        _, drafts = bank_with_drafts
        started = services.attempt_start_drill(
            user=alice,
            exam=exam,
            domain_numbers=[1, 2, 3, 4],
            count=65,
            timed=False,
            feedback=Attempt.Feedback.AT_END,
            now=START,
            rng=random.Random(1),
        )
        drawn = set(started.attempt.items.values_list("question_id", flat=True))
        assert len(drawn) == 65
        assert drawn.isdisjoint(d.pk for d in drafts)

    def test_missed_practice_never_draws_a_question_made_a_draft_since(self, alice, exam):
        fill_bank(exam, per_domain={1: 3})
        drill = services.attempt_start_drill(
            user=alice,
            exam=exam,
            domain_numbers=[1],
            count=3,
            timed=False,
            feedback=Attempt.Feedback.AT_END,
            now=START,
            rng=random.Random(1),
        ).attempt
        for item in AttemptItem.objects.filter(attempt=drill):
            services.attempt_flag(item=item, flagged=True, now=START)
        services.attempt_submit(attempt=drill, now=START + timedelta(minutes=1))
        items = list(drill.items.order_by("position"))
        assert len(selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk)) == 3
        Question.objects.filter(pk=items[0].question_id).update(status=Question.Status.DRAFT)
        pool = selectors.missed_pool(user_id=alice.pk, exam_id=exam.pk)
        assert set(pool) == {items[1].question_id, items[2].question_id}
        started = services.attempt_start_missed(
            user=alice, exam=exam, count=10, now=START + timedelta(hours=1)
        )
        drawn = set(started.attempt.items.values_list("question_id", flat=True))
        assert drawn == {items[1].question_id, items[2].question_id}

    def test_the_dashboard_bank_size_counts_only_active_questions(self, exam, bank_with_drafts):
        sizes = {d.number: d.active_questions for d in selectors.bank_size_by_domain(exam)}
        assert sizes == {1: 13, 2: 16, 3: 23, 4: 13}


def admin_form(question: Question, **overrides) -> dict:
    data = question_as_data(question)
    form = {
        "external_id": question.external_id,
        "task": question.task_id,
        "type": data["type"],
        "select_count": data.get("select", 1),
        "difficulty": question.difficulty,
        "stem": data["stem"],
        "explanation": data["explanation"],
        "status": question.status,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "versions-MIN_NUM_FORMS": 0,
        "versions-MAX_NUM_FORMS": 1000,
    }
    for n, choice in enumerate(data["choices"], start=1):
        form[f"choice_{n}_text"] = choice["text"]
        if choice.get("correct"):
            form[f"choice_{n}_correct"] = "on"
    form.update(overrides)
    return form


@pytest.mark.django_db
class TestAdmin:
    @pytest.fixture
    def draft(self, exam):
        bank_load(sources=[("drafts.yaml", DRAFT_FILE)])
        return Question.objects.select_related("current_version").get()

    def test_the_admin_lists_drafts_by_status(self, admin_client, draft, full_bank):
        url = reverse("admin:questions_question_changelist") + "?status__exact=draft"
        html = admin_client.get(url).content.decode()
        assert "1 question" in html and "d1-draft-001" in html

    def test_activating_without_an_explanation_is_refused_with_a_message(self, admin_client, draft):
        url = reverse("admin:questions_question_change", args=[draft.pk])
        response = admin_client.post(url, admin_form(draft, status="active"))
        assert response.status_code == 200
        assert MSG_EXPLANATION_BEFORE_ACTIVE.format(status="active") in (
            response.content.decode().replace("&#x27;", "'")
        )
        draft.refresh_from_db()
        assert draft.status == Question.Status.DRAFT
        assert draft.versions.count() == 1

    def test_a_draft_can_be_saved_without_an_explanation(self, admin_client, draft):
        url = reverse("admin:questions_question_change", args=[draft.pk])
        response = admin_client.post(url, admin_form(draft, stem="A clearer stem for S3?"))
        assert response.status_code == 302
        version = Question.objects.get().current_version
        assert (version.number, version.is_draft, version.stem) == (
            2,
            True,
            "A clearer stem for S3?",
        )

    def test_completing_a_draft_creates_a_non_draft_version(self, admin_client, draft):
        url = reverse("admin:questions_question_change", args=[draft.pk])
        form = admin_form(draft, status="active", explanation="Firehose delivers to S3.")
        assert admin_client.post(url, form).status_code == 302
        question = Question.objects.select_related("current_version").get()
        assert question.status == Question.Status.ACTIVE
        assert (question.current_version.number, question.current_version.is_draft) == (2, False)
        assert QuestionVersion.objects.get(question=question, number=1).is_draft

    def test_activating_a_draft_that_has_its_explanation_adds_a_non_draft_version(
        self, admin_client, exam
    ):
        text = DRAFT_FILE.replace(
            "    status: draft\n", "    status: draft\n    explanation: Firehose delivers.\n"
        )
        bank_load(sources=[("drafts.yaml", text)], options=ReadOptions())
        draft = Question.objects.get()
        assert draft.current_version.is_draft
        url = reverse("admin:questions_question_change", args=[draft.pk])
        assert admin_client.post(url, admin_form(draft, status="active")).status_code == 302
        version = Question.objects.get().current_version
        assert (version.number, version.is_draft, version.change_summary) == (
            2,
            False,
            "changed: draft completed",
        )
