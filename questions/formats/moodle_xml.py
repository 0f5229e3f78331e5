"""Moodle XML (https://docs.moodle.org/en/Moodle_XML_format), read and written.

Read with defusedxml (a DTD, and so any entity, internal or external, is refused: the
billion-laughs and external-entity attacks never expand) into the standard library's
ElementTree, keeping each element's line.

- `<question type="category">` sets the category of the questions after it (see common:
  its last part names the task statement).
- `type="multichoice"`: `<single>true</single>` with one answer at fraction 100 (the others
  at 0 or below) is a single-answer question; `<single>false</single>` with its correct
  answers sharing 100 equally and every other answer penalised (below 0) is a
  multiple-response question (one correct answer at 100 is a single-answer question);
  any other grading gives partial credit and is refused (common.check_fractions).
- `type="multichoiceset"` (the all-or-nothing plugin) maps the same way without a grading
  check: it is all or nothing by definition.
- `type="truefalse"` is a single-answer question with the choices "True" and "False".
- Every other type is refused with a message naming it (TYPE_NAMES).
- `<name>`: the id unless `<idnumber>` is set (made into a valid id when needed);
  `<answer><feedback>` → the choice's rationale (why); `<generalfeedback>` → the
  explanation (empty: a draft), its last "References:" paragraph → the references.
- `<tags>`: "difficulty-1/2/3" → difficulty (default 2), "status-draft" → a draft that
  has an explanation already, the others → tags (made into valid tags).
- Text in format html (Moodle's default) becomes the product's Markdown subset, never
  HTML (common.html_to_text); markdown, plain_text and moodle_auto_format are kept as
  written. Images and other media (`<file>`, `<img>`) cannot be shown: refused.
- Ignored: shuffleanswers, answernumbering, defaultgrade, penalty, hidden, the combined
  feedbacks, hints (the product shuffles choices itself and scores all or nothing).

Written with `format="markdown"` texts, so an export loads back unchanged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from defusedxml import ElementTree as DefusedET
from defusedxml.common import DefusedXmlException

from questions.bankfile import Problem
from questions.formats.common import (
    DIFFICULTY_DEFAULT,
    Entry,
    ReadContext,
    category_of,
    check_fractions,
    html_to_text,
    join_references,
    make_id,
    multiple_fraction,
    split_references,
    tag_of,
)

TYPE_NAMES = {
    "shortanswer": "short answer",
    "numerical": "numerical",
    "essay": "essay",
    "match": "matching",
    "randomsamatch": "random short-answer matching",
    "multianswer": "embedded answers (Cloze)",
    "description": "description",
    "ddwtos": "drag and drop into text",
    "gapselect": "select missing words",
    "ddimageortext": "drag and drop onto image",
    "ddmarker": "drag and drop markers",
    "calculated": "calculated",
    "calculatedsimple": "calculated simple",
    "calculatedmulti": "calculated multichoice",
    "ordering": "ordering",
    "random": "random",
}
DIFFICULTY_TAG = "difficulty-{n}"
DRAFT_TAG = "status-draft"

MSG_DANGEROUS = (
    "the file declares a DTD or entities, which are refused for safety: export it from "
    "Moodle again, or remove the <!DOCTYPE …> part"
)
MSG_MALFORMED = "malformed XML: {problem}"
MSG_NOT_QUIZ = "not a Moodle XML question file: the root element is <{tag}>, not <quiz>"
MSG_TYPE = (
    "Moodle question type {qtype!r} ({label}) is not one this product has: only multiple "
    "choice (single answer, or all-or-nothing multiple response) and true/false are imported"
)
MSG_NO_TYPE = "a <question> without a type attribute"
MSG_BAD_FRACTION = "answer {n} has fraction {value!r}, not a number"
MSG_MEDIA = "this question holds an image or other media, which this product cannot show"
MSG_TRUE_FALSE = "a true/false question needs two answers, one at fraction 100"


class _LineParser(DefusedET.DefusedXMLParser):
    """defusedxml's parser that also notes each element's line (for messages)."""

    def _start(self, tag, attr_list):
        element = super()._start(tag, attr_list)
        element.sourceline = self.parser.CurrentLineNumber
        return element


def _parse(text: str) -> tuple[ET.Element | None, str | None]:
    parser = _LineParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(text)
        return parser.close(), None
    except DefusedXmlException:
        return None, MSG_DANGEROUS
    except ET.ParseError as exc:
        return None, MSG_MALFORMED.format(problem=exc)


def read(name: str, text: str, context: ReadContext) -> tuple[list[Entry], list[Problem]]:
    """Every question of a Moodle XML file as an Entry (raw file-form mapping or problems)."""
    root, problem = _parse(text)
    if root is None:
        return [], [Problem(name, "", problem)]
    if root.tag != "quiz":
        return [], [Problem(name, "", MSG_NOT_QUIZ.format(tag=root.tag))]
    entries: list[Entry] = []
    category: str | None = None
    for element in root.findall("question"):
        qtype = element.get("type")
        if qtype == "category":
            category = _plain(element.find("category"))[0] or None
            continue
        entries.append(_read_question(element, qtype, category, context, len(entries) + 1))
    return entries, []


def _plain(element: ET.Element | None, default_format: str = "html") -> tuple[str, int]:
    """(text, media count) of a Moodle text element (one with a <text> child and a
    format attribute), in the product's Markdown subset."""
    if element is None:
        return "", 0
    text_element = element.find("text")
    raw = (text_element.text if text_element is not None else element.text) or ""
    if element.get("format", default_format) == "html":
        return html_to_text(raw)
    return raw.strip(), 0


def _read_question(
    element: ET.Element, qtype: str | None, category: str | None, context: ReadContext, n: int
) -> Entry:
    name = _plain(element.find("name"), "plain_text")[0]
    entry = Entry(line=getattr(element, "sourceline", None), label=name or f"question #{n}")
    if qtype is None:
        entry.problems.append(MSG_NO_TYPE)
        return entry
    if qtype not in ("multichoice", "multichoiceset", "truefalse"):
        label = TYPE_NAMES.get(qtype, "unknown type")
        entry.problems.append(MSG_TYPE.format(qtype=qtype, label=label))
        return entry
    media = 0
    stem, count = _plain(element.find("questiontext"))
    media += count
    general, count = _plain(element.find("generalfeedback"))
    media += count
    answers: list[tuple[float, str, str]] = []
    for number, answer in enumerate(element.findall("answer"), start=1):
        value = answer.get("fraction", "0")
        try:
            fraction = float(value)
        except ValueError:
            entry.problems.append(MSG_BAD_FRACTION.format(n=number, value=value))
            continue
        text, count = _plain(answer, "moodle_auto_format")
        why, more = _plain(answer.find("feedback"), "moodle_auto_format")
        media += count + more
        answers.append((fraction, text, why))
    if media or element.find(".//file") is not None:
        entry.problems.append(MSG_MEDIA)
    if entry.problems:
        return entry
    fractions = [fraction for fraction, _, _ in answers]
    if qtype == "truefalse":
        if sorted(fractions) != [0, 100]:
            entry.problems.append(MSG_TRUE_FALSE)
            return entry
        answers = [
            (f, "True" if t.strip().lower() == "true" else "False", w) for f, t, w in answers
        ]
        verdict: tuple[str, int] | str = ("single", 1)
    elif qtype == "multichoiceset":
        correct = sum(1 for f in fractions if f > 0)
        verdict = ("single", 1) if correct == 1 else ("multiple", correct)
    else:
        single = (_plain(element.find("single"), "plain_text")[0] or "true").lower() in (
            "true",
            "1",
        )
        verdict = check_fractions(fractions, single=single)
    if isinstance(verdict, str):
        entry.problems.append(verdict)
        return entry
    place = context.place(category)
    if isinstance(place, str):
        entry.problems.append(place)
        return entry
    idnumber = _plain(element.find("idnumber"), "plain_text")[0]
    explanation, references = split_references(general)
    raw: dict[str, Any] = {
        "id": make_id(idnumber or name, stem),
        "domain": place[0],
        "task": place[1],
        "type": verdict[0],
    }
    if verdict[0] == "multiple":
        raw["select"] = verdict[1]
    raw["difficulty"] = DIFFICULTY_DEFAULT
    tags = []
    for tag_element in element.findall("tags/tag"):
        tag = _plain(tag_element, "plain_text")[0]
        if tag.startswith("difficulty-"):
            level = tag.removeprefix("difficulty-")
            raw["difficulty"] = int(level) if level.isdigit() else level
        elif tag == DRAFT_TAG:
            raw["status"] = "draft"
        elif tag_of(tag):
            tags.append(tag_of(tag))
    raw["tags"] = sorted(set(tags))
    choices = []
    for fraction, text, why in answers:
        choice: dict[str, Any] = {"text": text}
        if fraction > 0:
            choice["correct"] = True
        if why:
            choice["why"] = why
        choices.append(choice)
    raw.update({"stem": stem, "choices": choices, "explanation": explanation})
    if references:
        raw["references"] = references
    if not explanation:
        raw["status"] = "draft"
    entry.raw = raw
    return entry


def _text_element(parent: ET.Element, tag: str, text: str, fmt: str | None = "markdown"):
    element = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(element, "text").text = text
    return element


def write(exam: str, questions: list[dict]) -> str:
    """A Moodle XML file of `questions` (file form): a category question before each
    task's questions, then one multichoice question each, texts in markdown format,
    difficulty and tags as tags, references as the last paragraph of the general
    feedback. Every question can be written."""
    quiz = ET.Element("quiz")
    category = None
    for q in questions:
        if category_of(exam, q) != category:
            category = category_of(exam, q)
            question = ET.SubElement(quiz, "question", {"type": "category"})
            _text_element(question, "category", category, None)
        question = ET.SubElement(quiz, "question", {"type": "multichoice"})
        _text_element(question, "name", q["id"], None)
        _text_element(question, "questiontext", q["stem"])
        general = join_references(q.get("explanation") or "", q.get("references", []))
        _text_element(question, "generalfeedback", general)
        ET.SubElement(question, "defaultgrade").text = "1"
        ET.SubElement(question, "penalty").text = "0"
        ET.SubElement(question, "hidden").text = "0"
        ET.SubElement(question, "idnumber").text = q["id"]
        multiple = q["type"] == "multiple"
        ET.SubElement(question, "single").text = "false" if multiple else "true"
        ET.SubElement(question, "shuffleanswers").text = "true"
        ET.SubElement(question, "answernumbering").text = "abc"
        share = multiple_fraction(q["select"]) if multiple else "100"
        for choice in q["choices"]:
            wrong = "-100" if multiple else "0"
            fraction = share if choice.get("correct") else wrong
            answer = ET.SubElement(question, "answer", {"fraction": fraction, "format": "markdown"})
            ET.SubElement(answer, "text").text = choice["text"]
            _text_element(answer, "feedback", choice.get("why", ""))
        tags = ET.SubElement(question, "tags")
        names = [DIFFICULTY_TAG.format(n=q["difficulty"]), *q.get("tags", [])]
        if q.get("status") == "draft" and q.get("explanation"):
            names.append(DRAFT_TAG)
        for name in names:
            ET.SubElement(ET.SubElement(tags, "tag"), "text").text = name
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"
