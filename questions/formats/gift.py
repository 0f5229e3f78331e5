"""Moodle's GIFT format (https://docs.moodle.org/en/GIFT_format), read and written.

Read: `$CATEGORY:` lines, `//` comments, `::title::`, `[html]`/`[markdown]`/`[plain]`/
`[moodle]` text format markers, the escapes `\\~ \\= \\# \\{ \\} \\: \\\\` and `\\n`,
`=right` / `~wrong` answers with `#feedback`, `~%50%` weights, and `####general feedback`.
Multiple choice maps to a single-answer question (one `=`) or, with weights that grade all
or nothing (see common.check_fractions), a multiple-response question; true/false maps to
a single-answer question with the choices "True" and "False". Essay, short answer,
numerical, matching and missing-word questions, and descriptions, are refused, each with a
message naming the kind.

Three comment lines before a question carry what GIFT has no place for, and are ignored
by Moodle: `// difficulty: 3`, `// tags: kinesis, streaming` and `// status: draft` (a
draft that has an explanation already; one without general feedback is a draft anyway).

Written by hand: the Python GIFT parsers on PyPI (pygiftparser, last released 2017;
pygiftparserrgmf 0.0.5) are unmaintained, give no line numbers and accept partial-credit
weights silently; GIFT's grammar is small enough to read exactly here.
"""

from __future__ import annotations

import re
from typing import Any

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
)

MSG_NO_ANSWERS = "no answer block {…}: a description, not a question"
MSG_UNCLOSED = "the answer block opened here is never closed with '}'"
MSG_MISSING_WORD = (
    "text after the answer block makes this a missing-word question, which this product "
    "does not have: put the whole stem before the '{…}'"
)
MSG_ESSAY = "an empty answer block {} is an essay question, which this product does not have"
MSG_NUMERICAL = "'{#…}' is a numerical question, which this product does not have"
MSG_MATCHING = "answers with '->' make a matching question, which this product does not have"
MSG_SHORT_ANSWER = (
    "answers all written with '=' and none with '~' make a short-answer question, which this "
    "product does not have: mark the wrong choices with '~'"
)
MSG_TEXT_BEFORE_ANSWERS = "text before the first '=' or '~' in the answer block: {text!r}"
MSG_BAD_WEIGHT = "answer weight {weight!r} is not a percentage such as %50% or %-100%"
MSG_MEDIA = "this question holds an image or other media, which this product cannot show"
MSG_BAD_COMMENT = "line {line}: '// {key}:' must be followed by {expected}"

_ESCAPABLE = "\\~=#{}:"
# Escaped characters stand in as private-use characters while the structure is read.
_HIDE = {c: chr(0xE000 + i) for i, c in enumerate(_ESCAPABLE)}
_SHOW = {v: k for k, v in _HIDE.items()}
_META = re.compile(r"//\s*(difficulty|tags|status)\s*:\s*(.*?)\s*$")
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_TRUE_FALSE = re.compile(r"^(TRUE|FALSE|T|F)\s*(#.*)?$", re.DOTALL)
_WEIGHT = re.compile(r"^\s*%([^%]*)%")


def _hide(text: str) -> str:
    def swap(match: re.Match) -> str:
        char = match.group(1)
        if char == "n":
            return "\n"
        return _HIDE.get(char, match.group(0))

    return re.sub(r"\\(.)", swap, text)


def _show(text: str) -> str:
    return "".join(_SHOW.get(c, c) for c in text)


def read(name: str, text: str, context: ReadContext) -> tuple[list[Entry], list]:
    """Every question of a GIFT file as an Entry (raw file-form mapping or problems)."""
    entries: list[Entry] = []
    category: str | None = None
    meta: dict[str, tuple[int, str]] = {}
    block: list[tuple[int, str]] = []

    def flush() -> None:
        if block:
            entries.append(_read_question(block, category, meta, context, len(entries) + 1))
            meta.clear()
        block.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("//"):
            match = _META.match(stripped)
            if match:
                meta[match.group(1)] = (number, match.group(2))
            continue
        if not stripped:
            flush()
            continue
        if not block and stripped.startswith("$CATEGORY:"):
            category = stripped.removeprefix("$CATEGORY:").strip()
            continue
        block.append((number, line))
    flush()
    return entries, []


def _read_question(
    block: list[tuple[int, str]],
    category: str | None,
    meta: dict[str, tuple[int, str]],
    context: ReadContext,
    position: int,
) -> Entry:
    first_line = block[0][0]
    text = _hide("\n".join(line for _, line in block)).strip()
    entry = Entry(line=first_line, label=f"question #{position}")
    title = None
    if text.startswith("::") and "::" in text[2:]:
        title, text = text[2:].split("::", 1)
        title = _show(title).strip()
        entry.label = title or entry.label
    text_format = "moodle"
    match = _FORMAT.match(text)
    if match:
        text_format = match.group(1).lower()
        text = text[match.end() :]
    if "{" not in text:
        entry.problems.append(MSG_NO_ANSWERS)
        return entry
    stem, rest = text.split("{", 1)
    if "}" not in rest:
        entry.problems.append(MSG_UNCLOSED)
        return entry
    inner, after = rest.split("}", 1)
    if after.strip():
        entry.problems.append(MSG_MISSING_WORD)
        return entry

    def plain(value: str) -> str:
        value = _show(value).strip()
        if text_format == "html":
            value, media = html_to_text(value)
            if media and MSG_MEDIA not in entry.problems:
                entry.problems.append(MSG_MEDIA)
        return value

    inner, _, general = inner.partition("####")
    explanation, references = split_references(plain(general))
    answers = _read_answers(inner.strip(), entry, plain)
    if entry.problems or answers is None:
        return entry
    qtype, choices = answers
    raw: dict[str, Any] = {"id": make_id(title, plain(stem))}
    place = context.place(category)
    if isinstance(place, str):
        entry.problems.append(place)
        return entry
    raw["domain"], raw["task"] = place
    raw["type"] = qtype
    if qtype == "multiple":
        raw["select"] = sum(1 for c in choices if c.get("correct"))
    raw["difficulty"] = DIFFICULTY_DEFAULT
    raw["tags"] = []
    for key, (line, value) in meta.items():
        if key == "difficulty":
            if not value.isdigit():
                entry.problems.append(
                    MSG_BAD_COMMENT.format(line=line, key=key, expected="1, 2 or 3")
                )
            else:
                raw["difficulty"] = int(value)
        elif key == "tags":
            raw["tags"] = [t.strip() for t in value.split(",") if t.strip()]
        elif value:
            raw["status"] = value
    raw.update({"stem": plain(stem), "choices": choices, "explanation": explanation})
    if references:
        raw["references"] = references
    if not explanation and "status" not in raw:
        raw["status"] = "draft"
    entry.raw = raw
    return entry


def _read_answers(inner: str, entry: Entry, plain) -> tuple[str, list[dict]] | None:
    """("single" | "multiple", choices) from the inside of an answer block, or None
    with the problem added to `entry`."""
    if not inner:
        entry.problems.append(MSG_ESSAY)
        return None
    if inner.startswith("#"):
        entry.problems.append(MSG_NUMERICAL)
        return None
    true_false = _TRUE_FALSE.match(inner)
    if true_false:
        key = true_false.group(1).upper().startswith("T")
        feedback = (true_false.group(2) or "").split("#")[1:]
        wrong_why = plain(feedback[0]) if feedback else ""
        right_why = plain(feedback[1]) if len(feedback) > 1 else ""
        choices = []
        for text, correct in (("True", key), ("False", not key)):
            choice: dict[str, Any] = {"text": text}
            if correct:
                choice["correct"] = True
            why = right_why if correct else wrong_why
            if why:
                choice["why"] = why
            choices.append(choice)
        return "single", choices
    parts = re.split(r"([~=])", inner)
    if parts[0].strip():
        entry.problems.append(MSG_TEXT_BEFORE_ANSWERS.format(text=_show(parts[0].strip())))
        return None
    markers, bodies = parts[1::2], parts[2::2]
    if any("->" in body for body in bodies):
        entry.problems.append(MSG_MATCHING)
        return None
    if "~" not in markers:
        entry.problems.append(MSG_SHORT_ANSWER)
        return None
    fractions: list[float] = []
    choices = []
    for marker, body in zip(markers, bodies, strict=True):
        weight = 100.0 if marker == "=" else 0.0
        match = _WEIGHT.match(body)
        if match:
            try:
                weight = float(match.group(1))
            except ValueError:
                entry.problems.append(MSG_BAD_WEIGHT.format(weight=match.group(1)))
                return None
            body = body[match.end() :]
        text, _, why = body.partition("#")
        choice: dict[str, Any] = {"text": plain(text)}
        if plain(why):
            choice["why"] = plain(why)
        fractions.append(weight)
        choices.append(choice)
    # One "=" and no "~" with a positive weight is Moodle's single-answer question.
    single = markers.count("=") == 1 and not any(
        f > 0 for m, f in zip(markers, fractions, strict=True) if m == "~"
    )
    verdict = check_fractions(fractions, single=single)
    if isinstance(verdict, str):
        entry.problems.append(verdict)
        return None
    for choice, fraction in zip(choices, fractions, strict=True):
        if fraction > 0:
            choice["correct"] = True
    return verdict[0], [dict(sorted(c.items(), key=_choice_key_order)) for c in choices]


def _choice_key_order(item: tuple[str, Any]) -> int:
    return ("text", "correct", "why").index(item[0])


def escape(text: str) -> str:
    """GIFT text: the special characters escaped, line breaks written as `\\n`."""
    out = "".join(f"\\{c}" if c in _ESCAPABLE else c for c in text)
    return out.replace("\n", "\\n")


def write(exam: str, questions: list[dict]) -> str:
    """A GIFT file of `questions` (file form), each after the `$CATEGORY:` of its task,
    with `[markdown]` text, `// difficulty:` and `// tags:` comments, and the references
    as the last paragraph of the general feedback. Every question can be written."""
    out = [
        f"// Questions of exam {exam}, exported in GIFT. The category's last part is the",
        "// task statement; the '// difficulty:', '// tags:' and '// status:' comments",
        "// carry what GIFT has no place for.",
    ]
    category = None
    for q in questions:
        if category_of(exam, q) != category:
            category = category_of(exam, q)
            out += ["", f"$CATEGORY: {category}"]
        out += ["", f"// difficulty: {q['difficulty']}"]
        if q.get("tags"):
            out.append(f"// tags: {', '.join(q['tags'])}")
        if q.get("status") == "draft" and q.get("explanation"):
            out.append("// status: draft")
        out.append(f"::{escape(q['id'])}::[markdown]{escape(q['stem'])} {{")
        share = multiple_fraction(q["select"]) if q["type"] == "multiple" else None
        for choice in q["choices"]:
            if share is None:
                marker = "=" if choice.get("correct") else "~"
            else:
                marker = f"~%{share}%" if choice.get("correct") else "~%-100%"
            line = f"\t{marker}{escape(choice['text'])}"
            if choice.get("why"):
                line += f"#{escape(choice['why'])}"
            out.append(line)
        general = join_references(q.get("explanation") or "", q.get("references", []))
        if general:
            out.append(f"\t####{escape(general)}")
        out.append("}")
    return "\n".join(out) + "\n"
