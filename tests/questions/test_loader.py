from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from questions import bankfile as bf
from questions.models import Choice, Question, QuestionVersion
from questions.services import (
    BankLoadError,
    RetireRefused,
    bank_export,
    bank_load,
    question_as_data,
)

GOOD = """\
exam: mls-c01
questions:
  - id: de-kinesis-001
    domain: 1
    task: "1.2"
    type: single
    difficulty: 2
    tags: [kinesis, streaming]
    stem: |
      A retailer streams clickstream events and needs them in S3 within a minute.
      Which service delivers them with the least operational effort?
    choices:
      - text: Amazon Data Firehose
        correct: true
        why: It buffers and delivers to S3 with no code to run.
      - text: Kinesis Data Streams with a custom consumer
      - text: AWS Batch
      - text: AWS DataSync
    explanation: |
      Firehose is the managed delivery service. The other choices need code or are batch tools.
  - id: de-formats-002
    domain: 1
    task: "1.1"
    type: multiple
    select: 2
    difficulty: 3
    tags: [parquet, orc]
    stem: |
      Which two formats are columnar? Choose two.
    choices:
      - text: Parquet
        correct: true
      - text: ORC
        correct: true
      - text: CSV
      - text: JSON
      - text: Avro
    explanation: |
      Parquet and ORC store data by column. CSV, JSON and Avro are row-oriented.
"""

# Ten different mistakes, one per question or file-level, each named in a comment.
BROKEN = """\
exam: mls-c01
questions:
  - id: bad-missing-explanation        # 1: a required key is missing
    domain: 1
    task: "1.1"
    type: single
    difficulty: 1
    stem: A stem.
    choices: [{text: a, correct: true}, {text: b}, {text: c}, {text: d}]
  - id: bad-unknown-key                # 2: an unknown key
    domain: 1
    task: "1.1"
    type: single
    difficulty: 1
    colour: blue
    stem: A stem.
    choices: [{text: a, correct: true}, {text: b}]
    explanation: Because.
  - id: bad-unknown-domain             # 3: a domain the blueprint does not have
    domain: 9
    task: "1.1"
    type: single
    difficulty: 1
    stem: A stem.
    choices: [{text: a, correct: true}, {text: b}]
    explanation: Because.
  - id: bad-task-outside-domain        # 4: a task of another domain
    domain: 2
    task: "1.1"
    type: single
    difficulty: 1
    stem: A stem.
    choices: [{text: a, correct: true}, {text: b}]
    explanation: Because.
  - id: bad-unknown-task               # 5: a task the blueprint does not have
    domain: 1
    task: "1.9"
    type: single
    difficulty: 1
    stem: A stem.
    choices: [{text: a, correct: true}, {text: b}]
    explanation: Because.
  - id: bad-two-correct                # 6: a single-answer question with two keys
    domain: 1
    task: "1.1"
    type: single
    difficulty: 1
    stem: A stem.
    choices: [{text: a, correct: true}, {text: b, correct: true}, {text: c}]
    explanation: Because.
  - id: bad-select-mismatch            # 7: select disagrees with the correct choices
    domain: 1
    task: "1.1"
    type: multiple
    select: 2
    difficulty: 1
    stem: A stem. Choose two.
    choices: [{text: a, correct: true}, {text: b}, {text: c}, {text: d}, {text: e}]
    explanation: Because.
  - id: bad-one-choice                 # 8: fewer than two choices
    domain: 1
    task: "1.1"
    type: single
    difficulty: 1
    stem: A stem.
    choices: [{text: a, correct: true}]
    explanation: Because.
  - id: bad-duplicate-choice           # 9: the same choice text twice
    domain: 1
    task: "1.1"
    type: single
    difficulty: 1
    stem: A stem.
    choices: [{text: Parquet, correct: true}, {text: parquet}, {text: c}]
    explanation: Because.
  - id: bad-empty-stem                 # 10: empty text
    domain: 1
    task: "1.1"
    type: single
    difficulty: 4                      # 11: difficulty out of range
    stem: "  "
    choices: [{text: a, correct: true}, {text: b}]
    explanation: Because.
"""


def line_of(text: str, question_id: str) -> int:
    """The 1-based line where the question `question_id` starts in a file's text."""
    [line] = [
        n
        for n, row in enumerate(text.splitlines(), start=1)
        if row.split("#")[0].strip() == f"- id: {question_id}"
    ]
    return line


def counts(result) -> tuple[int, int, int, int]:
    return (result.created, result.new_versions, result.metadata_updated, result.unchanged)


def with_content(questions):
    return questions.select_related("task__domain", "current_version").prefetch_related(
        "current_version__choices", "tags"
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def good_file(tmp_path) -> Path:
    return write(tmp_path, "good.yaml", GOOD)


def test_it_loads_a_valid_file(exam, good_file):
    result = bank_load(paths=[good_file])
    assert counts(result) == (2, 0, 0, 0)
    q = Question.objects.get(external_id="de-formats-002")
    v = q.current_version
    assert v.number == 1 and q.versions.count() == 1
    assert v.type == "multiple" and v.select_count == 2 and q.task.code == "1.1"
    assert [c.text for c in v.choices.order_by("position")] == [
        "Parquet",
        "ORC",
        "CSV",
        "JSON",
        "Avro",
    ]
    assert sorted(t.name for t in q.tags.all()) == ["orc", "parquet"]
    first = Question.objects.get(external_id="de-kinesis-001")
    assert (
        first.current_version.choices.get(position=0).rationale
        == "It buffers and delivers to S3 with no code to run."
    )


def test_a_second_run_changes_nothing(exam, good_file):
    bank_load(paths=[good_file])
    stamps = dict(Question.objects.values_list("external_id", "updated_at"))
    versions = list(QuestionVersion.objects.values_list("id", flat=True))
    result = bank_load(paths=[good_file])
    assert counts(result) == (0, 0, 0, 2)
    assert dict(Question.objects.values_list("external_id", "updated_at")) == stamps
    assert list(QuestionVersion.objects.values_list("id", flat=True)) == versions


def test_it_reports_every_mistake_and_loads_nothing(exam, tmp_path, good_file):
    broken = write(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(BankLoadError) as caught:
        bank_load(paths=[good_file, broken])
    problems = {(p.where, p.message) for p in caught.value.problems}
    expected = {
        ("bad-missing-explanation", bf.MSG_MISSING_KEYS.format(keys="explanation")),
        ("bad-unknown-key", bf.MSG_UNKNOWN_KEYS.format(keys="colour")),
        (
            "bad-unknown-domain",
            bf.MSG_UNKNOWN_DOMAIN.format(domain=9, exam="mls-c01", known="1, 2, 3, 4"),
        ),
        (
            "bad-task-outside-domain",
            bf.MSG_TASK_OUTSIDE_DOMAIN.format(task="1.1", actual=1, domain=2),
        ),
        ("bad-unknown-task", bf.MSG_UNKNOWN_TASK.format(task="1.9", exam="mls-c01")),
        ("bad-two-correct", bf.MSG_SINGLE_CORRECT.format(count=2)),
        ("bad-select-mismatch", bf.MSG_MULTIPLE_CORRECT.format(select=2, count=1)),
        ("bad-one-choice", bf.MSG_CHOICE_COUNT.format(count=1)),
        ("bad-duplicate-choice", bf.MSG_DUPLICATE_CHOICE.format(n=2, first=1)),
        ("bad-empty-stem", bf.MSG_EMPTY_TEXT.format(what="stem")),
        ("bad-empty-stem", bf.MSG_BAD_DIFFICULTY),
    }
    # Each problem names the line its question starts on, then its id.
    expected = {(f"line {line_of(BROKEN, qid)}: {qid}", message) for qid, message in expected}
    assert problems == expected
    assert all(p.file == str(broken) for p in caught.value.problems)
    assert Question.objects.count() == 0  # the good file was not loaded either


def test_it_reports_malformed_yaml_with_its_line(exam, tmp_path):
    path = write(
        tmp_path, "bad.yaml", "exam: mls-c01\nquestions:\n  - id: x\n    stem: [unclosed\n"
    )
    with pytest.raises(BankLoadError) as caught:
        bank_load(paths=[path])
    [problem] = caught.value.problems
    assert problem.message.startswith("malformed YAML at line ")
    assert "line 4" in problem.message or "line 5" in problem.message


def test_it_rejects_an_unknown_exam_and_a_missing_question_list(exam, tmp_path):
    a = write(tmp_path, "a.yaml", "exam: aws-saa\nquestions: []\n")
    b = write(tmp_path, "b.yaml", "exam: mls-c01\n")
    with pytest.raises(BankLoadError) as caught:
        bank_load(paths=[a, b])
    messages = [p.message for p in caught.value.problems]
    assert bf.MSG_FILE_UNKNOWN_EXAM.format(exam="aws-saa", known="mls-c01") in messages
    assert bf.MSG_FILE_NO_QUESTIONS in messages


def test_it_rejects_an_id_used_in_two_files(exam, tmp_path, good_file):
    other = write(tmp_path, "copy.yaml", GOOD)
    with pytest.raises(BankLoadError) as caught:
        bank_load(paths=[good_file, other])
    assert {p.where for p in caught.value.problems} == {"de-kinesis-001", "de-formats-002"}
    assert all("used more than once" in p.message for p in caught.value.problems)


def test_an_unquoted_task_is_refused_rather_than_misread(exam, tmp_path):
    path = write(tmp_path, "t.yaml", GOOD.replace('task: "1.2"', "task: 1.2"))
    with pytest.raises(BankLoadError) as caught:
        bank_load(paths=[path])
    # Refused while reading the YAML, naming the line (5) of the unquoted value.
    assert [p.message for p in caught.value.problems] == [
        bf.MSG_QUOTE_VALUE.format(line=5, key="task", value="1.2")
    ]
    assert Question.objects.count() == 0


def test_it_updates_a_changed_question_and_keeps_its_choice_rows(exam, tmp_path, good_file):
    bank_load(paths=[good_file])
    question = Question.objects.get(external_id="de-kinesis-001")
    first = question.current_version
    rows_before = list(
        first.choices.order_by("position").values_list("id", "text", "is_correct", "rationale")
    )
    # Swap the texts of the first two choices and move the key with them.
    changed = GOOD.replace(
        "      - text: Amazon Data Firehose\n        correct: true\n        why: It buffers and delivers to S3 with no code to run.\n      - text: Kinesis Data Streams with a custom consumer\n",
        "      - text: Kinesis Data Streams with a custom consumer\n      - text: Amazon Data Firehose\n        correct: true\n",
    )
    assert changed != GOOD
    path = write(tmp_path, "good.yaml", changed)
    result = bank_load(paths=[path])
    assert counts(result) == (0, 1, 0, 1)
    # The change is a new current version; version 1 and its choice rows (which attempts
    # that showed it point at) stay exactly as they were.
    question.refresh_from_db()
    current = question.current_version
    assert (current.number, first.number) == (2, 1) and current.pk != first.pk
    assert (
        list(
            Choice.objects.filter(version=first)
            .order_by("position")
            .values_list("id", "text", "is_correct", "rationale")
        )
        == rows_before
    )
    choices = list(current.choices.order_by("position"))
    assert not {c.id for c in choices} & {row[0] for row in rows_before}
    assert [(c.text, c.is_correct) for c in choices[:2]] == [
        ("Kinesis Data Streams with a custom consumer", False),
        ("Amazon Data Firehose", True),
    ]


def test_missing_questions_are_kept_unless_retired(exam, tmp_path, good_file):
    bank_load(paths=[good_file])
    only_first = write(tmp_path, "good.yaml", GOOD.split("  - id: de-formats-002")[0])
    bank_load(paths=[only_first])
    assert Question.objects.get(external_id="de-formats-002").status == Question.Status.ACTIVE
    # Retiring 1 of 2 active questions is above the safety share: refused unless allowed.
    with pytest.raises(RetireRefused):
        bank_load(paths=[only_first], retire_missing=True)
    assert Question.objects.get(external_id="de-formats-002").status == Question.Status.ACTIVE
    result = bank_load(paths=[only_first], retire_missing=True, allow_mass_retire=True)
    assert result.retired == 1
    assert Question.objects.get(external_id="de-formats-002").status == Question.Status.RETIRED


def test_check_validates_without_writing(exam, good_file):
    result = bank_load(paths=[good_file], dry_run=True)
    assert result.created == 2
    assert Question.objects.count() == 0


def test_export_then_load_is_a_no_op(exam, good_file, tmp_path):
    bank_load(paths=[good_file])
    before = [question_as_data(q) for q in with_content(Question.objects.all())]
    [exported] = bank_export(exam=exam, folder=tmp_path / "out")
    doc = yaml.safe_load(exported.read_text())
    assert doc["exam"] == "mls-c01" and len(doc["questions"]) == 2
    result = bank_load(paths=[tmp_path / "out"])
    assert counts(result) == (0, 0, 0, 2)
    after = [question_as_data(q) for q in with_content(Question.objects.all())]
    assert after == before


def test_the_command_lists_problems_and_exits_non_zero(exam, tmp_path, capsys):
    broken = write(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(CommandError, match=r"11 problem\(s\) found; nothing was loaded"):
        call_command("load_questions", str(broken))
    err = capsys.readouterr().err
    assert "bad-two-correct: a single-answer question needs exactly 1 correct choice" in err
    assert err.count(str(broken)) == 11


def test_the_command_prints_counts_and_check_writes_nothing(exam, good_file, capsys):
    call_command("load_questions", "--check", str(good_file))
    assert "created 2, new versions 0, metadata updated 0, unchanged 0," in capsys.readouterr().out
    assert Question.objects.count() == 0
    call_command("load_questions", str(good_file))
    call_command("load_questions", str(good_file))
    assert (
        "Loaded questions: created 0, new versions 0, metadata updated 0, unchanged 2, "
        "retired 0, kept admin edits 0, conflicts 0." in capsys.readouterr().out
    )


def test_export_command_writes_files(exam, good_file, tmp_path, capsys):
    bank_load(paths=[good_file])
    call_command("export_questions", str(tmp_path / "x"))
    assert (tmp_path / "x" / "mls-c01-domain-1.yaml").is_file()
