"""Question versions: nothing done to the bank changes what a past or running attempt
shows or scores; admin edits survive reloads; --retire-missing is scoped and guarded."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from exams import services as exam_services
from exams.models import Attempt, AttemptItem
from questions.models import Question, QuestionVersion
from questions.services import (
    MSG_CONFLICT,
    RetireRefused,
    bank_export,
    bank_load,
    question_admin_save,
    question_as_data,
)
from tests.conftest import QUESTIONS, fill_bank

ENTRY = """\
  - id: {qid}
    domain: 1
    task: "1.2"
    type: single
    difficulty: 2
    tags: [kinesis]
    stem: |
      {stem}
    choices:
{choices}
    explanation: |
      Firehose buffers and delivers with no code to run; the others need code.
"""
CHOICES = [
    ("Amazon Data Firehose", True),
    ("Kinesis Data Streams with a custom consumer", False),
    ("AWS Batch array jobs", False),
    ("AWS DataSync tasks", False),
]
STEM = "A retailer streams clickstream events to S3. Which service needs the LEAST effort?"


def write(folder: Path, name: str, entries: list[str]) -> Path:
    path = folder / name
    path.write_text("exam: mls-c01\nquestions:\n" + "".join(entries), encoding="utf-8")
    return path


def entry(qid: str, choices=CHOICES, stem: str = STEM) -> str:
    lines = "".join(
        f"      - text: {text}\n" + ("        correct: true\n" if correct else "")
        for text, correct in choices
    )
    return ENTRY.format(qid=qid, stem=stem, choices=lines)


def drill_of(user, exam, question: Question) -> Attempt:
    """An untimed drill holding just this question."""
    return exam_services._create_attempt(
        user=user,
        exam=exam,
        mode=Attempt.Mode.DRILL,
        question_ids=[question.pk],
        minutes=None,
        feedback=Attempt.Feedback.AT_END,
        now=exam_services.timezone.now(),
        rng=random.Random(3),
    )


@pytest.fixture
def one_question_attempt(tmp_path, alice, exam):
    """A drill holding the file's question, answered correctly."""
    path = write(tmp_path, "bank.yaml", [entry("v-kinesis-001")])
    bank_load(paths=[path])
    attempt = drill_of(alice, exam, Question.objects.get(external_id="v-kinesis-001"))
    item = AttemptItem.objects.select_related("attempt", "version").get(attempt=attempt)
    key = [c.pk for c in item.version.choices.all() if c.is_correct]
    exam_services.attempt_answer(item=item, choice_ids=key, revision=0)
    return path, attempt


def report_html(client, attempt: Attempt) -> str:
    url = reverse("exams:report", kwargs={"attempt_id": attempt.pk})
    html = client.get(url, {"show": "all"}).content.decode()  # the review loads on demand
    review = html.split('<div id="report-questions">')[1]
    # Each problem-report form carries a CSRF token, masked afresh on every render.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", review)


def question_html(client, attempt: Attempt) -> str:
    url = reverse("exams:question", kwargs={"attempt_id": attempt.pk, "position": 1})
    form = client.get(url).content.decode().split('id="answer-form"')[1].split("</form>")[0]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", form)


EDITS = {
    "reordered": lambda p: write(p.parent, p.name, [entry("v-kinesis-001", CHOICES[::-1])]),
    "choice removed": lambda p: write(
        p.parent, p.name, [entry("v-kinesis-001", [CHOICES[1], CHOICES[0], CHOICES[2]])]
    ),
    "key moved": lambda p: write(
        p.parent,
        p.name,
        [entry("v-kinesis-001", [(t, i == 2) for i, (t, _) in enumerate(CHOICES)])],
    ),
    "stem edited": lambda p: write(
        p.parent, p.name, [entry("v-kinesis-001", stem="A new stem. Which is MOST suitable?")]
    ),
}


class TestAttemptsKeepTheirVersion:
    @pytest.mark.parametrize("edit", EDITS)
    def test_a_submitted_report_is_identical_after_any_bank_edit(
        self, alice_client, one_question_attempt, edit
    ):
        path, attempt = one_question_attempt
        exam_services.attempt_submit(attempt=attempt)
        before = report_html(alice_client, attempt)
        assert "✓ Correct" in before

        EDITS[edit](path)
        result = bank_load(paths=[path])

        assert result.new_versions == 1
        assert report_html(alice_client, attempt) == before
        assert Attempt.objects.get(pk=attempt.pk).correct_count == 1

    @pytest.mark.parametrize("edit", EDITS)
    def test_a_running_attempt_keeps_showing_and_scoring_its_version(
        self, alice_client, one_question_attempt, edit
    ):
        path, attempt = one_question_attempt
        before = question_html(alice_client, attempt)
        assert "checked" in before

        EDITS[edit](path)
        bank_load(paths=[path])

        assert question_html(alice_client, attempt) == before
        submitted = exam_services.attempt_submit(attempt=attempt)
        assert submitted.correct_count == 1

    def test_retiring_leaves_past_attempts_alone(self, alice_client, one_question_attempt):
        path, attempt = one_question_attempt
        exam_services.attempt_submit(attempt=attempt)
        before = report_html(alice_client, attempt)
        text = path.read_text().replace(
            "    difficulty: 2\n", "    difficulty: 2\n    status: retired\n"
        )
        path.write_text(text)
        result = bank_load(paths=[path])
        assert result.retired == 1
        assert Question.objects.get().status == Question.Status.RETIRED
        assert report_html(alice_client, attempt) == before

    def test_new_attempts_get_the_new_version_and_old_versions_stay(
        self, one_question_attempt, alice, exam
    ):
        path, attempt = one_question_attempt
        EDITS["reordered"](path)
        bank_load(paths=[path])
        question = Question.objects.get()
        assert list(question.versions.values_list("number", flat=True)) == [1, 2]
        assert question.current_version.number == 2
        assert AttemptItem.objects.get(attempt=attempt).version.number == 1

    def test_the_loader_says_what_changed_in_each_new_version(self, one_question_attempt):
        path, _ = one_question_attempt
        EDITS["key moved"](path)
        result = bank_load(paths=[path])
        assert result.changes == ["v-kinesis-001: v2 changed: key"]
        EDITS["reordered"](path)
        assert bank_load(paths=[path]).changes == [
            "v-kinesis-001: v3 changed: choices reordered, key"
        ]


class TestAdminEditsSurviveReloads:
    def admin_edit(
        self, stem: str = "Edited in the admin: which is the MOST suitable?"
    ) -> Question:
        question = Question.objects.select_related("task__domain", "current_version").get()
        data = question_as_data(question) | {"stem": stem}
        question_admin_save(
            question=question, data=data, tag_ids=question.tags.values_list("pk", flat=True)
        )
        return question

    def test_a_restart_does_not_undo_an_admin_edit(self, tmp_path, exam):
        path = write(tmp_path, "bank.yaml", [entry("v-kinesis-001")])
        bank_load(paths=[path])
        self.admin_edit()

        result = bank_load(paths=[path])  # what scripts/run does on every start

        question = Question.objects.get()
        assert question.current_version.stem.startswith("Edited in the admin")
        assert question.current_version.source == QuestionVersion.Source.ADMIN
        assert (result.kept_admin, result.new_versions, result.conflicts) == (1, 0, [])

    def test_a_file_change_after_an_admin_edit_is_a_reported_conflict(self, tmp_path, exam):
        path = write(tmp_path, "bank.yaml", [entry("v-kinesis-001")])
        bank_load(paths=[path])
        self.admin_edit()
        write(tmp_path, "bank.yaml", [entry("v-kinesis-001", stem="File edit: which is MOST apt?")])

        result = bank_load(paths=[path])

        assert result.conflicts == [f"v-kinesis-001: {MSG_CONFLICT}"]
        assert Question.objects.get().current_version.stem.startswith("Edited in the admin")

        preferred = bank_load(paths=[path], prefer_files=True)
        assert preferred.new_versions == 1
        question = Question.objects.get()
        assert question.current_version.stem.startswith("File edit")
        assert not question.edited_in_admin

    def test_the_conflict_is_printed_by_the_command(self, tmp_path, exam, capsys):
        path = write(tmp_path, "bank.yaml", [entry("v-kinesis-001")])
        bank_load(paths=[path])
        self.admin_edit()
        write(tmp_path, "bank.yaml", [entry("v-kinesis-001", stem="File edit: which is MOST apt?")])
        call_command("load_questions", str(path))
        captured = capsys.readouterr()
        assert f"conflict: v-kinesis-001: {MSG_CONFLICT}" in captured.err
        assert "conflicts 1" in captured.out


class TestRetireMissingIsScoped:
    def test_it_retires_only_questions_from_files_under_the_given_paths(self, tmp_path, exam):
        a = write(tmp_path, "a.yaml", [entry(f"v-a-{n:03d}") for n in range(30)])
        b = write(tmp_path, "b.yaml", [entry("v-b-001"), entry("v-b-002")])
        bank_load(paths=[a, b])
        write(tmp_path, "b.yaml", [entry("v-b-001")])

        result = bank_load(paths=[b], retire_missing=True)

        assert result.retired_ids == ["v-b-002"]
        assert Question.objects.filter(status="active").count() == 31

    def test_a_new_file_alone_retires_nothing_else(self, tmp_path, exam, capsys):
        bank = write(tmp_path, "bank.yaml", [entry(f"v-a-{n:03d}") for n in range(30)])
        bank_load(paths=[bank])
        new = write(tmp_path, "newfile.yaml", [entry("v-new-001")])
        call_command("load_questions", str(new), "--retire-missing", "--check")
        assert "retired 0" in capsys.readouterr().out

    def test_it_refuses_to_retire_a_large_share_without_yes(self, tmp_path, exam, capsys):
        bank = write(tmp_path, "bank.yaml", [entry(f"v-a-{n:03d}") for n in range(30)])
        bank_load(paths=[bank])
        write(tmp_path, "bank.yaml", [entry("v-a-000")])

        with pytest.raises(RetireRefused):
            bank_load(paths=[bank], retire_missing=True)
        with pytest.raises(CommandError, match="safety limit"):
            call_command("load_questions", str(bank), "--retire-missing")
        assert "would retire: v-a-001" in capsys.readouterr().err
        assert Question.objects.filter(status="active").count() == 30

        call_command("load_questions", str(bank), "--retire-missing", "--yes")
        assert Question.objects.filter(status="active").count() == 1


class TestTheShippedBank:
    def test_it_loads_exports_and_reloads_with_nothing_changed(self, tmp_path, exam):
        first = bank_load(paths=[QUESTIONS])
        assert first.created > 800
        assert bank_load(paths=[QUESTIONS]).unchanged == first.created
        bank_export(exam=exam, folder=tmp_path)
        again = bank_load(paths=[tmp_path])
        assert (again.created, again.new_versions, again.metadata_updated) == (0, 0, 0)

    def test_references_are_kept_exported_and_shown_with_the_explanation(
        self, tmp_path, alice_client, alice, exam
    ):
        text = (
            entry("v-ref-001")
            + "    references:\n      - https://docs.aws.amazon.com/firehose/latest/dev/what-is-this-service.html\n"
        )
        path = write(tmp_path, "bank.yaml", [text])
        bank_load(paths=[path])
        question = Question.objects.get()
        assert question.current_version.references == [
            "https://docs.aws.amazon.com/firehose/latest/dev/what-is-this-service.html"
        ]
        bank_export(exam=exam, folder=tmp_path / "out")
        assert (
            "what-is-this-service.html" in (tmp_path / "out" / "mls-c01-domain-1.yaml").read_text()
        )
        attempt = drill_of(alice, exam, question)
        exam_services.attempt_submit(attempt=attempt)
        assert "what-is-this-service.html" in report_html(alice_client, attempt)


def test_a_mock_from_a_filled_bank_pins_current_versions(alice, exam):
    fill_bank(exam)
    attempt = exam_services.attempt_start_full_mock(user=alice, exam=exam)
    for item in attempt.items.select_related("question"):
        assert item.version_id == item.question.current_version_id
