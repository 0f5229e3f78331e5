"""The loader refuses every ambiguous file with one clear line per problem, loads nothing
when anything is wrong, and never raises a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from questions import bankfile as bf
from questions.models import Question, TaskStatement
from questions.services import BankLoadError, BlueprintError, bank_load, blueprint_load_file
from tests.conftest import BLUEPRINT

GOOD = """\
exam: mls-c01
questions:
  - id: s-kinesis-001
    domain: 1
    task: "1.2"
    type: single
    difficulty: 2
    tags: [kinesis]
    stem: |
      A retailer streams clickstream events to S3. Which service needs the LEAST effort?
    choices:
      - text: Amazon Data Firehose
        correct: true
      - text: Kinesis Data Streams with a custom consumer
      - text: AWS Batch array jobs
      - text: AWS DataSync tasks
    explanation: |
      Firehose buffers and delivers with no code to run; the others need code.
"""


def problems_of(tmp_path: Path, text: str | bytes) -> list[str]:
    """Load a file holding `text` next to a good one; return the problem lines and check
    that nothing at all was loaded."""
    good = tmp_path / "good.yaml"
    good.write_text(GOOD.replace("s-kinesis-001", "s-good-001"))
    bad = tmp_path / "bad.yaml"
    if isinstance(text, bytes):
        bad.write_bytes(text)
    else:
        bad.write_text(text)
    with pytest.raises(BankLoadError) as refused:
        bank_load(paths=[good, bad])
    assert not Question.objects.exists()
    return [str(p) for p in refused.value.problems]


def one_problem(tmp_path: Path, text: str | bytes) -> str:
    found = problems_of(tmp_path, text)
    assert len(found) == 1, found
    assert found[0].startswith(str(tmp_path / "bad.yaml"))
    return found[0]


@pytest.fixture(autouse=True)
def blueprint(exam):
    return exam


class TestAmbiguousYaml:
    def test_a_key_written_twice_in_one_question(self, tmp_path):
        text = GOOD.replace("    choices:", "    stem: a draft line left behind\n    choices:")
        line = one_problem(tmp_path, text)
        assert "line 11: key 'stem' is written twice in the same mapping (first on line 9)" in line

    def test_two_questions_blocks_in_one_file(self, tmp_path):
        text = GOOD + GOOD.split("\n", 1)[1]  # a second "questions:" block
        line = one_problem(tmp_path, text)
        assert "key 'questions' is written twice" in line

    def test_unquoted_text_cut_at_a_comment(self, tmp_path):
        text = GOOD.replace("- text: AWS Batch array jobs", "- text: AWS Batch #3 array jobs")
        line = one_problem(tmp_path, text)
        assert "line 15: the text value is cut" in line
        assert "quote this text or write it as a block (|)" in line

    def test_a_comment_after_an_id_is_still_fine(self, tmp_path):
        path = tmp_path / "ok.yaml"
        path.write_text(GOOD.replace("s-kinesis-001", "s-kinesis-001   # stable id"))
        assert bank_load(paths=[path]).created == 1

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("Yes", "choice 3 text was read as true: put it in quotes"),
            ("No", "choice 3 text was read as false: put it in quotes"),
            ("1.5", "choice 3 text was read as the number 1.5: put it in quotes"),
            ("[a, b]", "choice 3 text must be text, not a list"),
        ],
    )
    def test_values_read_as_something_other_than_text_say_so(self, tmp_path, value, message):
        line = one_problem(tmp_path, GOOD.replace("AWS Batch array jobs", value))
        assert line.endswith(message)
        assert "line 3: s-kinesis-001" in line

    @pytest.mark.parametrize("exam_value", ["[mls-c01]", "{code: mls-c01}", "12", "true"])
    def test_an_exam_that_is_not_a_code(self, tmp_path, exam_value):
        line = one_problem(tmp_path, GOOD.replace("exam: mls-c01", f"exam: {exam_value}"))
        assert "'exam' must be an exam code" in line or "unknown exam" in line

    def test_a_deeply_nested_list(self, tmp_path):
        text = GOOD.replace("tags: [kinesis]", "tags: " + "[" * 5000 + "]" * 5000)
        line = one_problem(tmp_path, text)
        assert "nested too deeply" in line

    def test_several_documents(self, tmp_path):
        line = one_problem(tmp_path, GOOD + "---\n" + GOOD)
        assert "more than one YAML document" in line


class TestLimits:
    def test_an_id_or_tag_with_a_trailing_newline(self, tmp_path):
        text = GOOD.replace("id: s-kinesis-001", 'id: "s-kinesis-001\\n"').replace(
            "tags: [kinesis]", 'tags: ["kinesis\\n"]'
        )
        found = problems_of(tmp_path, text)
        assert any(bf.MSG_BAD_ID in p for p in found)
        assert any(bf.MSG_BAD_TAGS in p for p in found)

    def test_a_tag_longer_than_its_column(self, tmp_path):
        line = one_problem(tmp_path, GOOD.replace("[kinesis]", "[" + "k" * 61 + "]"))
        assert line.endswith(bf.MSG_BAD_TAGS)

    def test_a_megabyte_stem(self, tmp_path):
        stem = "word " * 200_000
        line = one_problem(tmp_path, GOOD.replace("A retailer streams", stem + "A retailer"))
        assert "stem is" in line and "the limit is 4000" in line

    def test_a_file_over_the_size_limit_is_not_even_parsed(self, tmp_path):
        big = GOOD.encode() + b"# " + b"x" * bf.MAX_FILE_BYTES + b"\n"
        line = one_problem(tmp_path, big)
        assert f"the limit is {bf.MAX_FILE_BYTES} bytes" in line

    def test_not_utf8(self, tmp_path):
        line = one_problem(tmp_path, GOOD.encode("utf-16"))
        assert "cannot be read" in line

    def test_the_command_prints_one_line_per_problem_and_loads_nothing(self, tmp_path, capsys):
        bad = tmp_path / "bad.yaml"
        bad.write_text(GOOD.replace("AWS Batch array jobs", "Yes").replace("[kinesis]", "[Kin]"))
        with pytest.raises(CommandError, match="2 problem"):
            call_command("load_questions", str(bad))
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2
        assert all(e.startswith(f"{bad}: line 3: s-kinesis-001: ") for e in err)


BLUEPRINT_TEXT = BLUEPRINT.read_text()


class TestBlueprintFiles:
    def test_an_unquoted_task_code_is_refused_with_its_line(self, tmp_path, db):
        path = tmp_path / "bp.yaml"
        path.write_text(BLUEPRINT_TEXT.replace('code: "1.2"', "code: 1.10", 1))
        with pytest.raises(BlueprintError) as refused:
            blueprint_load_file(path=path)
        (problem,) = refused.value.problems
        line = next(
            n for n, text in enumerate(path.read_text().splitlines(), 1) if "code: 1.10" in text
        )
        assert f"line {line}: code 1.10 is read as a number" in problem
        assert 'quote it, e.g. code: "1.10"' in problem

    def test_quoted_codes_1_2_and_1_20_are_two_task_statements(self, tmp_path, db):
        data = yaml.safe_load(BLUEPRINT_TEXT)
        data["code"] = "demo"
        data["domains"][0]["tasks"].append({"code": "1.20", "name": "Another task"})
        path = tmp_path / "bp.yaml"
        path.write_text(yaml.safe_dump(data))
        exam = blueprint_load_file(path=path)
        codes = set(TaskStatement.objects.filter(domain__exam=exam).values_list("code", flat=True))
        assert {"1.2", "1.20"} <= codes

    def test_a_duplicate_key_in_a_blueprint(self, tmp_path, db):
        path = tmp_path / "bp.yaml"
        path.write_text(BLUEPRINT_TEXT.replace("minutes:", "minutes: 10\nminutes:", 1))
        with pytest.raises(BlueprintError, match="key 'minutes' is written twice"):
            blueprint_load_file(path=path)

    def test_the_command_reports_without_a_traceback(self, tmp_path, db, capsys):
        path = tmp_path / "bp.yaml"
        path.write_text(BLUEPRINT_TEXT.replace('code: "1.2"', "code: 1.10", 1))
        with pytest.raises(CommandError):
            call_command("load_blueprint", str(path))
