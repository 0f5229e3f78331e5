"""GIFT, Aiken and Moodle XML: every mapping rule and every refusal, on sample files
written for these tests (tests/questions/samples/), both ways, and through the commands."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from questions.bankfile import ReadOptions, parse_text
from questions.formats import common, gift
from questions.models import Question
from questions.services import BankLoadError, bank_export, bank_load, blueprint_index

SAMPLES = Path(__file__).parent / "samples"


def parse(name: str, **options):
    """The sample `name` read like an upload (from memory), with `options`."""
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return parse_text(name, text, blueprint=blueprint_index(), options=ReadOptions(**options))


def by_id(parsed) -> dict[str, dict]:
    return {q["id"]: q for q in parsed.questions}


def problems_of(parsed) -> list[tuple[str, str]]:
    return [(p.where, p.message) for p in parsed.problems]


def reload_unchanged(tmp_path: Path, exam, fmt: str, **options) -> tuple[int, object]:
    """Export the bank in `fmt`, load the export back; (questions exported, LoadResult)."""
    out = tmp_path / f"export-{fmt}"
    skipped: list[str] = []
    files = bank_export(exam=exam, folder=out, fmt=fmt, skipped=skipped)
    count = Question.objects.exclude(status=Question.Status.RETIRED).count() - len(skipped)
    result = bank_load(paths=files, options=ReadOptions(**options))
    return count, result


# --- GIFT --------------------------------------------------------------------------------


class TestGiftReading:
    def test_a_category_ending_in_a_task_code_files_questions_under_that_task(self, exam):
        questions = by_id(parse("mapping.gift", default_task="1.1"))
        assert (questions["de-stream-001"]["domain"], questions["de-stream-001"]["task"]) == (
            1,
            "1.2",
        )
        # The last part may go on with the task's name after the code.
        assert questions["mo-pick-001"]["task"] == "3.2"

    def test_a_question_before_any_category_goes_to_the_default_task(self, exam):
        questions = by_id(parse("mapping.gift", default_task="1.1"))
        assert (questions["no-category-001"]["domain"], questions["no-category-001"]["task"]) == (
            1,
            "1.1",
        )

    def test_without_a_default_task_a_question_in_no_category_is_refused(self, exam):
        parsed = parse("mapping.gift")
        assert ("line 4: no-category-001", common.MSG_NO_CATEGORY) in problems_of(parsed)

    def test_per_choice_feedback_is_the_why_and_general_feedback_the_explanation(self, exam):
        q = by_id(parse("mapping.gift", default_task="1.1"))["de-stream-001"]
        assert q["choices"] == [
            {
                "text": "Amazon Data Firehose",
                "correct": True,
                "why": "Managed delivery with buffering.",
            },
            {"text": "Kinesis Data Streams with a custom consumer", "why": "Needs code to run."},
            {"text": "AWS Batch"},
        ]
        assert q["explanation"] == "Firehose is the managed delivery service."

    def test_a_references_paragraph_of_the_general_feedback_becomes_the_references(self, exam):
        q = by_id(parse("mapping.gift", default_task="1.1"))["de-stream-001"]
        assert q["references"] == ["https://example.com/firehose", "https://example.com/streams"]

    def test_escaped_newlines_make_paragraphs_and_markdown_is_kept(self, exam):
        q = by_id(parse("mapping.gift", default_task="1.1"))["de-stream-001"]
        assert q["stem"] == (
            "A sensor fleet sends events that must reach S3 within a minute.\n\n"
            "Which service delivers them with the `least` effort?"
        )

    def test_difficulty_and_tags_comments_give_difficulty_and_tags(self, exam):
        questions = by_id(parse("mapping.gift", default_task="1.1"))
        assert (questions["de-stream-001"]["difficulty"], questions["de-stream-001"]["tags"]) == (
            3,
            ["kinesis", "streaming"],
        )
        assert (questions["mo-pick-001"]["difficulty"], questions["mo-pick-001"]["tags"]) == (2, [])

    def test_escapes_are_read_as_the_characters_they_stand_for(self, exam):
        q = by_id(parse("mapping.gift", default_task="1.1"))["stream-question-two-draft"]
        assert q["stem"] == "Escapes keep { braces }, = equals, ~ tildes, # hashes and a : colon."
        assert q["choices"][0]["text"] == "Choice with a \\ backslash"

    def test_a_title_that_is_no_valid_id_is_made_into_one_and_a_missing_one_comes_from_the_stem(
        self, exam
    ):
        questions = by_id(parse("mapping.gift", default_task="1.1"))
        assert "stream-question-two-draft" in questions  # "Stream Question Two (draft)"
        derived = common.make_id(None, "Which loss suits binary classification?")
        assert derived.startswith("which-loss-suits-binary-classification-")
        assert derived in questions
        # The same file read again gives the same ids.
        assert set(by_id(parse("mapping.gift", default_task="1.1"))) == set(questions)

    def test_html_text_becomes_markdown_subset_text(self, exam):
        q = by_id(parse("mapping.gift", default_task="1.1"))["mo-pick-001"]
        assert q["stem"] == "Which **two** algorithms are supervised?\n\nChoose `two`."
        assert q["choices"][0]["why"] == "Gradient-boosted *trees*."
        assert q["explanation"] == "XGBoost and linear learner learn from labels."

    def test_equal_positive_weights_with_penalties_make_a_multiple_response_question(self, exam):
        questions = by_id(parse("mapping.gift", default_task="1.1"))
        pick = questions["mo-pick-001"]
        assert (pick["type"], pick["select"]) == ("multiple", 2)
        assert [c.get("correct", False) for c in pick["choices"]] == [True, True, False, False]
        three = questions["mo-three-001"]
        assert (three["type"], three["select"]) == ("multiple", 3)

    def test_true_false_becomes_a_single_answer_question_with_its_feedback_on_each_choice(
        self, exam
    ):
        q = by_id(parse("mapping.gift", default_task="1.1"))["mo-truefalse-001"]
        assert q["type"] == "single"
        assert q["choices"] == [
            {"text": "True", "correct": True, "why": "Right: the trees are built in sequence."},
            {"text": "False", "why": "Each tree corrects the previous ones: it is true."},
        ]

    def test_a_question_without_general_feedback_is_a_draft_and_a_status_comment_keeps_one(
        self, exam
    ):
        questions = by_id(parse("mapping.gift", default_task="1.1"))
        assert questions["stream-question-two-draft"]["status"] == "draft"
        assert questions["stream-question-two-draft"]["explanation"] == ""
        assert questions["mo-truefalse-001"]["status"] == "draft"
        assert questions["mo-truefalse-001"]["explanation"] == "Boosting is sequential."
        assert "status" not in questions["de-stream-001"]

    def test_the_sample_gives_every_question_and_no_problem(self, exam):
        parsed = parse("mapping.gift", default_task="1.1")
        assert parsed.problems == []
        assert len(parsed.questions) == 7


class TestGiftRefusals:
    EXPECTED = [
        ("line 4: essay-001", gift.MSG_ESSAY),
        ("line 6: numerical-001", gift.MSG_NUMERICAL),
        ("line 8: short-001", gift.MSG_SHORT_ANSWER),
        ("line 10: matching-001", gift.MSG_MATCHING),
        ("line 16: missing-word-001", gift.MSG_MISSING_WORD),
        ("line 18: description-001", gift.MSG_NO_ANSWERS),
        (
            "line 20: partial-001",
            common.MSG_FRACTIONS_MULTIPLE.format(fractions="50%, 50%, 0%"),
        ),
        (
            "line 26: partial-single-001",
            common.MSG_FRACTIONS_MULTIPLE.format(fractions="100%, 50%, 0%"),
        ),
        ("line 32: unclosed-001", gift.MSG_UNCLOSED),
        (
            "line 38: no-task-001",
            common.MSG_CATEGORY_NO_TASK.format(category="$course$/top/Default for course"),
        ),
        (
            "line 46: unknown-task-001",
            common.MSG_CATEGORY_UNKNOWN_TASK.format(
                category="$course$/top/mls-c01/9/9.9", task="9.9", exam="mls-c01"
            ),
        ),
        ("line 54: invalid-001", "choice 2 repeats the text of choice 1"),
    ]

    def test_every_kind_the_product_cannot_hold_is_refused_with_its_line_and_reason(self, exam):
        parsed = parse("refusals.gift")
        assert problems_of(parsed) == self.EXPECTED
        assert parsed.questions == []

    def test_a_refused_file_loads_nothing(self, exam):
        with pytest.raises(BankLoadError) as info:
            bank_load(paths=[SAMPLES / "refusals.gift"])
        assert len(info.value.problems) == len(self.EXPECTED)
        assert not Question.objects.exists()


class TestGiftLoadAndExport:
    def test_loading_creates_drafts_with_a_draft_version(self, exam):
        result = bank_load(
            paths=[SAMPLES / "mapping.gift"], options=ReadOptions(default_task="1.1")
        )
        assert result.created == 7
        draft = Question.objects.get(external_id="stream-question-two-draft")
        assert draft.status == Question.Status.DRAFT
        assert (draft.current_version.is_draft, draft.current_version.explanation) == (True, "")
        active = Question.objects.get(external_id="de-stream-001")
        assert (active.status, active.current_version.is_draft) == (Question.Status.ACTIVE, False)

    def test_reloading_the_same_file_changes_nothing(self, exam):
        options = ReadOptions(default_task="1.1")
        bank_load(paths=[SAMPLES / "mapping.gift"], options=options)
        result = bank_load(paths=[SAMPLES / "mapping.gift"], options=options)
        assert (result.unchanged, result.created, result.new_versions) == (7, 0, 0)

    def test_export_then_import_changes_nothing(self, exam, tmp_path):
        bank_load(paths=[SAMPLES / "mapping.gift"], options=ReadOptions(default_task="1.1"))
        count, result = reload_unchanged(tmp_path, exam, "gift")
        assert count == 7
        assert result.summary() == (
            "created 0, new versions 0, metadata updated 0, unchanged 7, retired 0, "
            "kept admin edits 0, conflicts 0"
        )

    def test_the_yaml_bank_survives_a_gift_round_trip(self, exam, tmp_path):
        from tests.conftest import QUESTIONS

        bank_load(paths=[QUESTIONS])
        count, result = reload_unchanged(tmp_path, exam, "gift")
        assert result.unchanged == count > 0
        assert (result.created, result.new_versions, result.metadata_updated) == (0, 0, 0)

    def test_written_text_escapes_every_special_character(self):
        assert gift.escape("a{b}c=d~e#f:g\\h\ni") == "a\\{b\\}c\\=d\\~e\\#f\\:g\\\\h\\ni"


class TestCommands:
    def test_load_questions_picks_gift_by_extension(self, exam, capsys):
        call_command("load_questions", str(SAMPLES / "mapping.gift"), "--default-task", "1.1")
        assert "created 7" in capsys.readouterr().out

    def test_load_questions_reads_a_txt_file_as_gift_with_format(self, exam, tmp_path, capsys):
        path = tmp_path / "bank.txt"
        shutil.copy(SAMPLES / "mapping.gift", path)
        call_command(
            "load_questions",
            str(path),
            "--format",
            "gift",
            "--default-task",
            "1.1",
            "--exam",
            "mls-c01",
        )
        assert "created 7" in capsys.readouterr().out

    def test_a_folder_scan_reads_gift_files_too(self, exam, tmp_path, capsys):
        shutil.copy(SAMPLES / "mapping.gift", tmp_path / "mapping.gift")
        call_command("load_questions", str(tmp_path), "--default-task", "1.1")
        assert "created 7" in capsys.readouterr().out

    def test_refusals_are_listed_one_per_line_and_nothing_is_loaded(self, exam, capsys):
        with pytest.raises(CommandError, match="12 problem"):
            call_command("load_questions", str(SAMPLES / "refusals.gift"))
        err = capsys.readouterr().err
        assert f"refusals.gift: line 4: essay-001: {gift.MSG_ESSAY}" in err
        assert not Question.objects.exists()

    def test_an_unknown_default_task_is_refused(self, exam, capsys):
        with pytest.raises(CommandError):
            call_command("load_questions", str(SAMPLES / "mapping.gift"), "--default-task", "7.7")
        assert common.MSG_UNKNOWN_DEFAULT_TASK.format(task="7.7", exam="mls-c01") in (
            capsys.readouterr().err
        )

    def test_export_questions_writes_gift(self, exam, tmp_path, capsys):
        bank_load(paths=[SAMPLES / "mapping.gift"], options=ReadOptions(default_task="1.1"))
        call_command("export_questions", str(tmp_path), "--format", "gift")
        assert "mls-c01-domain-3.gift" in capsys.readouterr().out
        text = (tmp_path / "mls-c01-domain-3.gift").read_text()
        assert "$CATEGORY: $course$/top/mls-c01/3/3.2" in text
        assert "~%50%XGBoost#Gradient-boosted *trees*." in text
