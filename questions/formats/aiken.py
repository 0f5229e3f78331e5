"""Moodle's Aiken format (https://docs.moodle.org/en/Aiken_format), read and written.

An Aiken question is its stem (one or more lines), its choices on lines starting
"A." or "A)", and "ANSWER: B". The format has nothing else: no id, category, feedback or
explanation. So every question is a single-answer draft (never drawn into an attempt
until an instructor writes its explanation), filed under the default task chosen on
upload (`--default-task`), with an id made from its stem (see common.make_id).

Written by hand: no maintained Aiken reader exists on PyPI (the "aiken" package is an
empty 2017 placeholder), and the format is a few line patterns.
"""

from __future__ import annotations

import re
from typing import Any

from questions.bankfile import Problem
from questions.formats.common import DIFFICULTY_DEFAULT, Entry, ReadContext, make_id

MSG_NO_TASK = (
    "Aiken files have no categories: choose the task statement to file their questions under "
    '("Default task statement" on the upload page, --default-task in load_questions)'
)
MSG_NO_ANSWER = "no 'ANSWER:' line after the choices"
MSG_NO_CHOICES = "'ANSWER:' with no choices (lines starting 'A.' or 'A)') before it"
MSG_SEVERAL_ANSWERS = (
    "'ANSWER: {answer}' names more than one choice: Aiken holds single-answer questions only"
)
MSG_UNKNOWN_LETTER = "'ANSWER: {answer}' names no choice of this question (choices: {letters})"
MSG_DUPLICATE_LETTER = "choice letter {letter} is used twice"

_CHOICE = re.compile(r"^([A-Z])[.)]\s+(.*\S)\s*$")
_ANSWER = re.compile(r"^ANSWER\s*:\s*(.*?)\s*$", re.IGNORECASE)


class _Question:
    def __init__(self, line: int):
        self.line = line
        self.stem: list[str] = []
        self.choices: list[tuple[str, str]] = []


def read(name: str, text: str, context: ReadContext) -> tuple[list[Entry], list[Problem]]:
    """Every question of an Aiken file as an Entry (raw file-form mapping or problems)."""
    if context.default_task is None:
        return [], [Problem(name, "", MSG_NO_TASK)]
    entries: list[Entry] = []
    current: _Question | None = None

    def unfinished(question: _Question) -> None:
        entry = Entry(line=question.line, label=f"question #{len(entries) + 1}")
        entry.problems.append(MSG_NO_ANSWER)
        entries.append(entry)

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        answer = _ANSWER.match(stripped)
        choice = _CHOICE.match(stripped)
        if current is None:
            if stripped:
                current = _Question(number)
                current.stem.append(stripped)
            continue
        if answer:
            entries.append(_finish(current, answer.group(1), context, len(entries) + 1))
            current = None
        elif choice and current.stem:
            current.choices.append((choice.group(1), choice.group(2)))
        elif current.choices:
            if stripped:  # a new stem before this question's ANSWER line
                unfinished(current)
                current = _Question(number)
                current.stem.append(stripped)
        else:
            current.stem.append(stripped)  # a blank line here separates paragraphs
    if current is not None:
        unfinished(current)
    return entries, []


def _finish(question: _Question, answer: str, context: ReadContext, position: int) -> Entry:
    stem = re.sub(r"\n{3,}", "\n\n", "\n".join(question.stem)).strip()
    entry = Entry(line=question.line, label=f"question #{position}")
    letters = [letter for letter, _ in question.choices]
    if not question.choices:
        entry.problems.append(MSG_NO_CHOICES)
    elif len(re.findall(r"[A-Za-z]", answer)) > 1:
        entry.problems.append(MSG_SEVERAL_ANSWERS.format(answer=answer))
    elif answer.upper() not in letters:
        entry.problems.append(MSG_UNKNOWN_LETTER.format(answer=answer, letters=", ".join(letters)))
    duplicates = sorted({letter for letter in letters if letters.count(letter) > 1})
    entry.problems += [MSG_DUPLICATE_LETTER.format(letter=letter) for letter in duplicates]
    if entry.problems:
        return entry
    choices: list[dict[str, Any]] = []
    for letter, text in question.choices:
        choices.append(
            {"text": text, "correct": True} if letter == answer.upper() else {"text": text}
        )
    domain = context.blueprint.domain_of_task(context.exam, context.default_task)
    entry.raw = {
        "id": make_id(None, stem),
        "domain": domain,
        "task": context.default_task,
        "type": "single",
        "difficulty": DIFFICULTY_DEFAULT,
        "tags": [],
        "stem": stem,
        "choices": choices,
        "status": "draft",
    }
    return entry


def write(exam: str, questions: list[dict]) -> str:
    """An Aiken file of single-answer `questions` (file form): stem, "A. …" choices and
    "ANSWER: X", a blank line between questions. Everything else (id, task, rationales,
    explanation, tags) has no place in Aiken and is left out; a choice's line breaks
    become spaces."""
    blocks = []
    for q in questions:
        lines = [q["stem"]]
        answer = ""
        for n, choice in enumerate(q["choices"]):
            letter = chr(ord("A") + n)
            lines.append(f"{letter}. {' '.join(choice['text'].split())}")
            if choice.get("correct"):
                answer = letter
        lines.append(f"ANSWER: {answer}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
