"""GIFT, Aiken and Moodle XML: every mapping rule and every refusal, on sample files
written for these tests (tests/questions/samples/), both ways, and through the commands."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import assume, given
from hypothesis import strategies as st

from questions.bankfile import (
    MSG_CHOOSE_FORMAT,
    BlueprintIndex,
    ReadOptions,
    parse_text,
    validate_question,
)
from questions.formats import aiken, common, gift, moodle_xml, write
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
        ("line 60: weight-001", gift.MSG_BAD_WEIGHT.format(weight="lots")),
        ("line 65: before-001", gift.MSG_TEXT_BEFORE_ANSWERS.format(text="stray")),
        (
            "line 68: comment-001",
            gift.MSG_BAD_COMMENT.format(line=67, key="difficulty", expected="1, 2 or 3"),
        ),
        ("line 74: media-001", gift.MSG_MEDIA),
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


# --- Aiken ---------------------------------------------------------------------------------


class TestAiken:
    def test_every_question_is_a_single_answer_draft_under_the_default_task(self, exam):
        parsed = parse("mapping.aiken", default_task="2.3")
        assert parsed.problems == []
        assert [
            (q["type"], q["status"], q["explanation"], q["task"], q["domain"])
            for q in parsed.questions
        ] == [("single", "draft", "", "2.3", 2)] * 2

    def test_stems_keep_their_lines_and_paragraphs_and_answer_marks_the_key(self, exam):
        first, second = parse("mapping.aiken", default_task="2.3").questions
        assert first["stem"] == (
            "Which service stores training data for SageMaker\nat the lowest cost per gigabyte?"
        )
        assert first["choices"] == [
            {"text": "Amazon S3", "correct": True},
            {"text": "Amazon EBS"},
            {"text": "Amazon EFS"},
        ]
        assert second["stem"] == (
            "Which metric suits an imbalanced binary classifier?\n\nThink about the minority class."
        )
        assert second["choices"] == [{"text": "Accuracy"}, {"text": "F1 score", "correct": True}]

    def test_ids_come_from_the_stem_and_are_stable(self, exam):
        first = parse("mapping.aiken", default_task="2.3").questions[0]
        assert first["id"] == common.make_id(None, first["stem"])
        assert first["id"].startswith("which-service-stores-training-data-for-")

    def test_without_a_default_task_the_file_is_refused(self, exam):
        parsed = parse("mapping.aiken")
        assert problems_of(parsed) == [("", aiken.MSG_NO_TASK)]

    def test_every_malformed_question_is_refused_with_its_line(self, exam):
        parsed = parse("refusals.aiken", default_task="2.3")
        assert problems_of(parsed) == [
            ("line 1: question #1", aiken.MSG_SEVERAL_ANSWERS.format(answer="A, B")),
            ("line 7: question #2", aiken.MSG_UNKNOWN_LETTER.format(answer="D", letters="A, B")),
            ("line 12: question #3", aiken.MSG_NO_ANSWER),
            ("line 20: question #5", aiken.MSG_DUPLICATE_LETTER.format(letter="A")),
            ("line 25: question #6", aiken.MSG_NO_ANSWER),
        ]

    def test_loaded_questions_are_drafts_and_export_then_import_changes_nothing(
        self, exam, tmp_path
    ):
        result = bank_load(
            paths=[SAMPLES / "mapping.aiken"], options=ReadOptions(default_task="2.3")
        )
        assert result.created == 2
        assert set(Question.objects.values_list("status", "current_version__is_draft")) == {
            (Question.Status.DRAFT, True)
        }
        count, result = reload_unchanged(tmp_path, exam, "aiken", default_task="2.3")
        assert (count, result.unchanged, result.created, result.new_versions) == (2, 2, 0, 0)

    def test_export_leaves_out_multiple_response_questions_and_names_them(self, exam, tmp_path):
        bank_load(paths=[SAMPLES / "mapping.gift"], options=ReadOptions(default_task="1.1"))
        skipped: list[str] = []
        files = bank_export(exam=exam, folder=tmp_path, fmt="aiken", skipped=skipped)
        assert sorted(skipped) == ["mo-pick-001", "mo-three-001"]
        text = "".join(f.read_text() for f in files)
        assert "ANSWER: A" in text and "XGBoost" not in text

    def test_load_questions_reads_a_txt_file_as_aiken_with_format(self, exam, tmp_path, capsys):
        path = tmp_path / "drafts.txt"
        shutil.copy(SAMPLES / "mapping.aiken", path)
        call_command("load_questions", str(path), "--format", "aiken", "--default-task", "2.3")
        assert "created 2" in capsys.readouterr().out


# --- Moodle XML ----------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<quiz><question type="multichoice"><name><text>&lol3;</text></name></question></quiz>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="multichoice"><name><text>&secret;</text></name></question></quiz>
"""


# The refused Moodle kinds in the order of moodle-refusals.xml, with the name each message gives.
REFUSED_KINDS = [
    ("shortanswer", "short answer"),
    ("numerical", "numerical"),
    ("essay", "essay"),
    ("match", "matching"),
    ("multianswer", "embedded answers (Cloze)"),
    ("description", "description"),
    ("ddwtos", "drag and drop into text"),
    ("gapselect", "select missing words"),
    ("ddimageortext", "drag and drop onto image"),
    ("ddmarker", "drag and drop markers"),
    ("calculated", "calculated"),
    ("calculatedsimple", "calculated simple"),
    ("calculatedmulti", "calculated multichoice"),
    ("randomsamatch", "random short-answer matching"),
    ("ordering", "ordering"),
    ("random", "random"),
]


def parse_xml(text: str, **options):
    return parse_text(
        "upload.xml", text, blueprint=blueprint_index(), options=ReadOptions(**options)
    )


class TestMoodleXml:
    def test_a_moodle_4_export_imports_with_every_mapping_rule(self, exam):
        parsed = parse("moodle4-export.xml", default_task="1.1")
        assert parsed.problems == []
        questions = by_id(parsed)
        assert set(questions) == {
            "pick-the-algorithm-for-tabular-churn",
            "mo-supervised-002",
            "boosting-is-sequential",
            "unfinished-question",
        }

    def test_the_category_names_the_task_and_one_without_a_task_code_gets_the_default(self, exam):
        questions = by_id(parse("moodle4-export.xml", default_task="1.1"))
        assert questions["mo-supervised-002"]["task"] == "3.2"
        assert (
            questions["unfinished-question"]["domain"],
            questions["unfinished-question"]["task"],
        ) == (1, "1.1")

    def test_html_becomes_safe_markdown_subset_text(self, exam):
        q = by_id(parse("moodle4-export.xml", default_task="1.1"))[
            "pick-the-algorithm-for-tabular-churn"
        ]
        assert q["stem"] == (
            "A telecom wants to predict churn from **tabular** data.\n"
            "Which built-in algorithm fits best?\n\n"
            "Compare <script> tags: shown as text."
        )
        assert "alert" not in q["stem"]
        assert q["choices"][0] == {
            "text": "XGBoost",
            "correct": True,
            "why": "Strong on *tabular* features.",
        }
        multiple = by_id(parse("moodle4-export.xml", default_task="1.1"))["mo-supervised-002"]
        assert multiple["stem"] == "Which **two** are supervised?\n\n- Choose two."

    def test_feedback_explanation_references_difficulty_and_tags_map(self, exam):
        q = by_id(parse("moodle4-export.xml", default_task="1.1"))[
            "pick-the-algorithm-for-tabular-churn"
        ]
        assert q["explanation"] == "Gradient-boosted trees do well on tabular data."
        assert q["references"] == ["https://example.com/xgboost"]
        assert (q["difficulty"], q["tags"]) == (3, ["machine-learning"])
        assert q["choices"][2]["why"] == "An image task."

    def test_fractions_decide_single_or_multiple_response(self, exam):
        questions = by_id(parse("moodle4-export.xml", default_task="1.1"))
        # single true with a penalised wrong answer (-33.33333) is still all or nothing
        assert questions["pick-the-algorithm-for-tabular-churn"]["type"] == "single"
        multiple = questions["mo-supervised-002"]
        assert (multiple["type"], multiple["select"]) == ("multiple", 2)
        assert [c.get("correct", False) for c in multiple["choices"]] == [True, True, False, False]

    def test_idnumber_wins_over_name(self, exam):
        assert "mo-supervised-002" in by_id(parse("moodle4-export.xml", default_task="1.1"))

    def test_true_false_is_a_two_choice_single_answer_question(self, exam):
        q = by_id(parse("moodle4-export.xml", default_task="1.1"))["boosting-is-sequential"]
        assert q["choices"] == [
            {"text": "True", "correct": True, "why": "Right."},
            {"text": "False", "why": "They are built in sequence."},
        ]

    def test_empty_general_feedback_makes_a_draft(self, exam):
        q = by_id(parse("moodle4-export.xml", default_task="1.1"))["unfinished-question"]
        assert (q["status"], q["explanation"]) == ("draft", "")

    def test_every_kind_the_product_cannot_hold_is_refused_with_its_line_and_reason(self, exam):
        parsed = parse("moodle-refusals.xml")
        expected = [
            (f"line {line}: {qtype}-001", moodle_xml.MSG_TYPE.format(qtype=qtype, label=label))
            for line, (qtype, label) in enumerate(REFUSED_KINDS, start=4)
        ] + [
            (
                "line 20: partial-single-001",
                common.MSG_FRACTIONS_SINGLE.format(fractions="100%, 50%, 0%"),
            ),
            (
                "line 21: no-penalty-001",
                common.MSG_FRACTIONS_MULTIPLE.format(fractions="50%, 50%, 0%"),
            ),
            (
                "line 22: unequal-001",
                common.MSG_FRACTIONS_MULTIPLE.format(fractions="70%, 30%, -100%"),
            ),
            ("line 23: image-001", moodle_xml.MSG_MEDIA),
            ("line 24: file-001", moodle_xml.MSG_MEDIA),
            ("line 25: bad-fraction-001", moodle_xml.MSG_BAD_FRACTION.format(n=1, value="lots")),
            ("line 26: no-type-001", moodle_xml.MSG_NO_TYPE),
        ]
        assert problems_of(parsed) == expected
        assert parsed.questions == []

    @pytest.mark.parametrize(
        "attack", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"]
    )
    def test_entity_attacks_are_refused_with_a_message(self, exam, attack):
        assert problems_of(parse_xml(attack)) == [("", moodle_xml.MSG_DANGEROUS)]

    def test_malformed_xml_and_another_root_are_refused_with_a_message(self, exam):
        [(_, message)] = problems_of(parse_xml("<quiz><question></quiz>"))
        assert message.startswith("malformed XML: mismatched tag: line 1")
        assert problems_of(parse_xml("<html/>")) == [
            ("", moodle_xml.MSG_NOT_QUIZ.format(tag="html"))
        ]

    def test_export_then_import_changes_nothing(self, exam, tmp_path):
        bank_load(paths=[SAMPLES / "moodle4-export.xml"], options=ReadOptions(default_task="1.1"))
        bank_load(paths=[SAMPLES / "mapping.gift"], options=ReadOptions(default_task="1.1"))
        count, result = reload_unchanged(tmp_path, exam, "xml")
        assert count == 11
        assert (result.unchanged, result.created, result.new_versions, result.metadata_updated) == (
            11,
            0,
            0,
            0,
        )

    def test_the_yaml_bank_survives_a_moodle_xml_round_trip(self, exam, tmp_path):
        from tests.conftest import QUESTIONS

        bank_load(paths=[QUESTIONS])
        count, result = reload_unchanged(tmp_path, exam, "xml")
        assert result.unchanged == count > 0
        assert (result.created, result.new_versions, result.metadata_updated) == (0, 0, 0)

    def test_the_upload_path_never_raises_on_an_attack(self, exam):
        with pytest.raises(BankLoadError) as info:
            bank_load(sources=[("upload.xml", BILLION_LAUGHS)])
        assert [p.message for p in info.value.problems] == [moodle_xml.MSG_DANGEROUS]

    def test_load_questions_picks_moodle_xml_by_extension_and_refuses_an_attack(
        self, exam, tmp_path, capsys
    ):
        call_command("load_questions", str(SAMPLES / "moodle4-export.xml"), "--default-task", "1.1")
        assert "created 4" in capsys.readouterr().out
        attack = tmp_path / "attack.xml"
        attack.write_text(EXTERNAL_ENTITY)
        with pytest.raises(CommandError, match="1 problem"):
            call_command("load_questions", str(attack))
        assert moodle_xml.MSG_DANGEROUS in capsys.readouterr().err


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

    def test_a_txt_file_without_a_format_is_asked_for_one_not_read_as_yaml(
        self, exam, tmp_path, capsys
    ):
        path = tmp_path / "bank.txt"
        shutil.copy(SAMPLES / "mapping.gift", path)
        with pytest.raises(CommandError, match="nothing was loaded"):
            call_command("load_questions", str(path), "--default-task", "1.1")
        err = capsys.readouterr().err
        assert MSG_CHOOSE_FORMAT in err and "YAML" not in err
        assert not Question.objects.exists()

    def test_a_folder_scan_reads_gift_files_too(self, exam, tmp_path, capsys):
        shutil.copy(SAMPLES / "mapping.gift", tmp_path / "mapping.gift")
        call_command("load_questions", str(tmp_path), "--default-task", "1.1")
        assert "created 7" in capsys.readouterr().out

    def test_refusals_are_listed_one_per_line_and_nothing_is_loaded(self, exam, capsys):
        with pytest.raises(CommandError, match="16 problem"):
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


# --- round trips of any text ----------------------------------------------------------------

BLUEPRINT = BlueprintIndex(exams={"mls-c01": {1: frozenset({"1.1", "1.2"})}})
# Every character GIFT escapes or XML encodes, line breaks, and Markdown marks.
TEXT = (
    st.text(alphabet="ab é{}~=#:\\\n*`-<>&%", min_size=1, max_size=40)
    .map(str.strip)
    .filter(lambda t: t and not t.startswith("%"))
)


@st.composite
def questions(draw) -> dict:
    texts = draw(
        st.lists(TEXT, min_size=2, max_size=6, unique_by=lambda t: " ".join(t.lower().split()))
    )
    multiple = len(texts) >= 3 and draw(st.booleans())
    select = draw(st.integers(2, min(5, len(texts) - 1))) if multiple else 1
    choices = []
    for n, text in enumerate(texts):
        choice = {"text": text}
        if n < select:
            choice["correct"] = True
        why = draw(st.none() | TEXT)
        if why:
            choice["why"] = why
        choices.append(choice)
    raw = {
        "id": "q-round-trip",
        "domain": 1,
        "task": draw(st.sampled_from(["1.1", "1.2"])),
        "type": "multiple" if multiple else "single",
        "difficulty": draw(st.integers(1, 3)),
        "tags": draw(st.lists(st.sampled_from(["kinesis", "glue", "s3-tiers"]), unique=True)),
        "stem": draw(TEXT),
        "choices": choices,
        "explanation": draw(TEXT),
        "references": draw(
            st.lists(
                st.sampled_from(["https://example.com/a", "https://example.com/b"]), unique=True
            )
        ),
    }
    if multiple:
        raw["select"] = select
    if draw(st.booleans()):
        raw["status"] = "draft"
    data, errors = validate_question(raw, exam="mls-c01", blueprint=BLUEPRINT)
    assume(not errors)
    return data


@pytest.mark.parametrize("fmt", ["gift", "xml"])
@given(question=questions())
def test_any_question_written_and_read_back_is_the_same(fmt, question):
    text = write(fmt, exam="mls-c01", questions=[question])
    parsed = parse_text(f"bank.{fmt}", text, blueprint=BLUEPRINT, options=ReadOptions(fmt=fmt))
    assert parsed.problems == []
    assert parsed.questions == [question]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>First.</p><p>Second.</p>", "First.\n\nSecond."),
        ("<p>One line<br>and the next</p>", "One line\nand the next"),
        ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two"),
        ("<ul><li>x</li><li>y</li></ul>", "- x\n- y"),
        (
            "Run <code>aws s3 ls</code> <b>now</b>, <i>please</i>",
            "Run `aws s3 ls` **now**, *please*",
        ),
        ('<span style="color:red">kept</span> <a href="https://x.example">text</a>', "kept text"),
        ("<script>alert(1)</script><style>p{}</style>only this", "only this"),
        ("a &amp; b &lt;c&gt; &#x27;d&#x27;", "a & b <c> 'd'"),
        ("<p>   spaced\n   out   </p>", "spaced out"),
    ],
)
def test_html_becomes_the_markdown_subset_and_never_keeps_a_tag(html, text):
    assert common.html_to_text(html) == (text, 0)


def test_images_and_media_are_counted_so_the_question_is_refused():
    assert common.html_to_text('<p>See <img src="@@PLUGINFILE@@/a.png"></p><video></video>') == (
        "See",
        2,
    )


def test_moodles_gift_export_gives_the_questions_of_its_xml_export(exam):
    """The same three Moodle questions exported as GIFT and as XML (in the shapes Moodle
    4.x writes) read the same, but for what Moodle's GIFT leaves out: idnumber (the name
    gives the id) and tags (difficulty and tags take their defaults)."""
    from_gift = parse("moodle4-export.gift")
    assert from_gift.problems == []
    from_xml = by_id(parse("moodle4-export.xml", default_task="1.1"))
    expected = [
        {**from_xml["pick-the-algorithm-for-tabular-churn"], "difficulty": 2, "tags": []},
        {**from_xml["mo-supervised-002"], "id": "two-supervised-algorithms"},
        from_xml["boosting-is-sequential"],
    ]
    assert from_gift.questions == expected
