"""The question file format: parsing, validation and writing.

This module is the single place that decides whether a question is valid. The file
loader, the admin and any later upload path turn their input into the plain
mapping form used by question files and call `validate_question`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

QUESTION_KEYS_REQUIRED = (
    "id",
    "domain",
    "task",
    "type",
    "difficulty",
    "stem",
    "choices",
    "explanation",
)
QUESTION_KEYS_OPTIONAL = ("select", "tags")
CHOICE_KEYS = ("text", "correct", "why")
FILE_KEYS = ("exam", "questions")
TYPES = ("single", "multiple")
MIN_CHOICES, MAX_CHOICES = 2, 6
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ID_MAX_LENGTH = 80

# Messages (tests reuse these).
MSG_YAML = "malformed YAML at line {line}: {problem}"
MSG_FILE_NOT_MAPPING = "the file must be a mapping with the keys 'exam' and 'questions'"
MSG_FILE_UNKNOWN_KEYS = "unknown top-level key(s): {keys}"
MSG_FILE_NO_EXAM = "missing top-level key 'exam'"
MSG_FILE_UNKNOWN_EXAM = "unknown exam {exam!r} (known: {known})"
MSG_FILE_NO_QUESTIONS = "'questions' must be a list of questions"
MSG_NOT_MAPPING = "a question must be a mapping of keys to values"
MSG_MISSING_KEYS = "missing key(s): {keys}"
MSG_UNKNOWN_KEYS = "unknown key(s): {keys}"
MSG_BAD_ID = "id must be lowercase letters, digits and single hyphens, at most 80 characters"
MSG_DUPLICATE_ID = "id {id!r} is used more than once (also in {other})"
MSG_BAD_DOMAIN = "domain must be a whole number"
MSG_UNKNOWN_DOMAIN = "unknown domain {domain} for exam {exam!r} (domains: {known})"
MSG_BAD_TASK = 'task must be a quoted string such as "1.2"'
MSG_UNKNOWN_TASK = "unknown task statement {task!r} for exam {exam!r}"
MSG_TASK_OUTSIDE_DOMAIN = "task {task!r} belongs to domain {actual}, not domain {domain}"
MSG_BAD_TYPE = "type must be 'single' or 'multiple'"
MSG_SELECT_MISSING = "a multiple-response question needs 'select' (how many choices to pick)"
MSG_SELECT_BAD = "select must be a whole number from 2 to 5 for a multiple-response question"
MSG_SELECT_ON_SINGLE = "'select' is only for multiple-response questions (or must be 1)"
MSG_BAD_DIFFICULTY = "difficulty must be 1, 2 or 3"
MSG_BAD_TAGS = "tags must be a list of lowercase words joined by hyphens"
MSG_EMPTY_TEXT = "{what} must be non-empty text"
MSG_CHOICES_NOT_LIST = "choices must be a list"
MSG_CHOICE_COUNT = "a question needs 2 to 6 choices, this one has {count}"
MSG_CHOICE_NOT_MAPPING = (
    "choice {n} must be a mapping with 'text' (and optionally 'correct', 'why')"
)
MSG_CHOICE_UNKNOWN_KEYS = "choice {n} has unknown key(s): {keys}"
MSG_CHOICE_BAD_CORRECT = "choice {n}: correct must be true or false"
MSG_DUPLICATE_CHOICE = "choice {n} repeats the text of choice {first}"
MSG_SINGLE_CORRECT = "a single-answer question needs exactly 1 correct choice, this one has {count}"
MSG_MULTIPLE_CORRECT = "select is {select} but {count} choice(s) are marked correct"


@dataclass(frozen=True)
class BlueprintIndex:
    """What a question file may refer to: exam code → domain number → task codes."""

    exams: Mapping[str, Mapping[int, frozenset[str]]]

    def domain_of_task(self, exam: str, task: str) -> int | None:
        for number, tasks in self.exams.get(exam, {}).items():
            if task in tasks:
                return number
        return None


@dataclass
class Problem:
    file: str
    where: str  # question id, or "question #N", or "" for the whole file
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.where}: {self.message}"
            if self.where
            else f"{self.file}: {self.message}"
        )


@dataclass
class ParsedFile:
    path: str
    exam: str | None = None
    questions: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    """Stripped text, or None when the value is not non-empty text."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def validate_question(
    raw: Any, *, exam: str, blueprint: BlueprintIndex
) -> tuple[dict | None, list[str]]:
    """Check one question in file form; return its normalised form and every problem found."""
    if not isinstance(raw, Mapping):
        return None, [MSG_NOT_MAPPING]
    errors: list[str] = []
    missing = [k for k in QUESTION_KEYS_REQUIRED if k not in raw]
    if missing:
        errors.append(MSG_MISSING_KEYS.format(keys=", ".join(missing)))
    unknown = sorted(
        str(k) for k in raw if k not in QUESTION_KEYS_REQUIRED + QUESTION_KEYS_OPTIONAL
    )
    if unknown:
        errors.append(MSG_UNKNOWN_KEYS.format(keys=", ".join(unknown)))

    qid = raw.get("id")
    if "id" in raw and not (isinstance(qid, str) and SLUG.match(qid) and len(qid) <= ID_MAX_LENGTH):
        errors.append(MSG_BAD_ID)

    domains = blueprint.exams.get(exam, {})
    domain = raw.get("domain")
    if "domain" in raw:
        if not _is_int(domain):
            errors.append(MSG_BAD_DOMAIN)
        elif domain not in domains:
            known = ", ".join(str(n) for n in sorted(domains))
            errors.append(MSG_UNKNOWN_DOMAIN.format(domain=domain, exam=exam, known=known))
    task = raw.get("task")
    if "task" in raw:
        if not isinstance(task, str):
            errors.append(MSG_BAD_TASK)
        else:
            actual = blueprint.domain_of_task(exam, task)
            if actual is None:
                errors.append(MSG_UNKNOWN_TASK.format(task=task, exam=exam))
            elif _is_int(domain) and domain in domains and actual != domain:
                errors.append(
                    MSG_TASK_OUTSIDE_DOMAIN.format(task=task, actual=actual, domain=domain)
                )

    qtype = raw.get("type")
    if "type" in raw and qtype not in TYPES:
        errors.append(MSG_BAD_TYPE)
    select = raw.get("select")
    if qtype == "multiple":
        if "select" not in raw:
            errors.append(MSG_SELECT_MISSING)
        elif not (_is_int(select) and 2 <= select <= 5):
            errors.append(MSG_SELECT_BAD)
    elif qtype == "single" and "select" in raw and select != 1:
        errors.append(MSG_SELECT_ON_SINGLE)

    difficulty = raw.get("difficulty")
    if "difficulty" in raw and not (_is_int(difficulty) and 1 <= difficulty <= 3):
        errors.append(MSG_BAD_DIFFICULTY)

    tags = raw.get("tags", [])
    if tags is None:
        tags = []
    if not (isinstance(tags, list) and all(isinstance(t, str) and SLUG.match(t) for t in tags)):
        errors.append(MSG_BAD_TAGS)
        tags = []

    stem = _text(raw.get("stem"))
    if "stem" in raw and stem is None:
        errors.append(MSG_EMPTY_TEXT.format(what="stem"))
    explanation = _text(raw.get("explanation"))
    if "explanation" in raw and explanation is None:
        errors.append(MSG_EMPTY_TEXT.format(what="explanation"))

    choices_out: list[dict[str, Any]] = []
    raw_choices = raw.get("choices")
    if "choices" in raw:
        if not isinstance(raw_choices, list):
            errors.append(MSG_CHOICES_NOT_LIST)
        else:
            choices_out, choice_errors = _validate_choices(raw_choices)
            errors.extend(choice_errors)
            if isinstance(raw_choices, list) and not choice_errors:
                count = sum(1 for c in choices_out if c.get("correct"))
                if qtype == "single" and count != 1:
                    errors.append(MSG_SINGLE_CORRECT.format(count=count))
                elif qtype == "multiple" and _is_int(select) and count != select:
                    errors.append(MSG_MULTIPLE_CORRECT.format(select=select, count=count))

    if errors:
        return None, errors
    data: dict[str, Any] = {
        "id": qid,
        "domain": domain,
        "task": task,
        "type": qtype,
    }
    if qtype == "multiple":
        data["select"] = select
    data.update(
        {
            "difficulty": difficulty,
            "tags": sorted(set(tags)),
            "stem": stem,
            "choices": choices_out,
            "explanation": explanation,
        }
    )
    return data, []


def _validate_choices(raw_choices: list) -> tuple[list[dict[str, Any]], list[str]]:
    errors: list[str] = []
    if not MIN_CHOICES <= len(raw_choices) <= MAX_CHOICES:
        errors.append(MSG_CHOICE_COUNT.format(count=len(raw_choices)))
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for n, choice in enumerate(raw_choices, start=1):
        if not isinstance(choice, Mapping):
            errors.append(MSG_CHOICE_NOT_MAPPING.format(n=n))
            continue
        unknown = sorted(str(k) for k in choice if k not in CHOICE_KEYS)
        if unknown:
            errors.append(MSG_CHOICE_UNKNOWN_KEYS.format(n=n, keys=", ".join(unknown)))
        text = _text(choice.get("text"))
        if text is None:
            errors.append(MSG_EMPTY_TEXT.format(what=f"choice {n} text"))
        else:
            key = " ".join(text.lower().split())
            if key in seen:
                errors.append(MSG_DUPLICATE_CHOICE.format(n=n, first=seen[key]))
            seen.setdefault(key, n)
        correct = choice.get("correct", False)
        if not isinstance(correct, bool):
            errors.append(MSG_CHOICE_BAD_CORRECT.format(n=n))
        why = choice.get("why")
        if why is not None and _text(why) is None:
            errors.append(MSG_EMPTY_TEXT.format(what=f"choice {n} why"))
        item: dict[str, Any] = {"text": text}
        if correct is True:
            item["correct"] = True
        if why is not None and _text(why):
            item["why"] = _text(why)
        out.append(item)
    return out, errors


def parse_file(path: Path, *, blueprint: BlueprintIndex) -> ParsedFile:
    """Read one question file; every problem is collected, none stops the reading early."""
    parsed = ParsedFile(path=str(path))
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        parsed.problems.append(Problem(str(path), "", MSG_YAML.format(line=line, problem=problem)))
        return parsed
    except (OSError, UnicodeDecodeError) as exc:
        parsed.problems.append(Problem(str(path), "", f"cannot be read: {exc}"))
        return parsed

    def file_problem(message: str) -> None:
        parsed.problems.append(Problem(str(path), "", message))

    if not isinstance(doc, Mapping):
        file_problem(MSG_FILE_NOT_MAPPING)
        return parsed
    unknown = sorted(str(k) for k in doc if k not in FILE_KEYS)
    if unknown:
        file_problem(MSG_FILE_UNKNOWN_KEYS.format(keys=", ".join(unknown)))
    exam = doc.get("exam")
    if exam is None:
        file_problem(MSG_FILE_NO_EXAM)
    elif exam not in blueprint.exams:
        known = ", ".join(sorted(blueprint.exams)) or "none loaded"
        file_problem(MSG_FILE_UNKNOWN_EXAM.format(exam=exam, known=known))
    else:
        parsed.exam = exam
    items = doc.get("questions")
    if not isinstance(items, list):
        file_problem(MSG_FILE_NO_QUESTIONS)
        return parsed
    if parsed.exam is None:
        return parsed
    for position, raw in enumerate(items, start=1):
        where = (
            raw.get("id") if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) else None
        )
        where = where or f"question #{position}"
        data, errors = validate_question(raw, exam=parsed.exam, blueprint=blueprint)
        parsed.problems.extend(Problem(str(path), where, e) for e in errors)
        if data is not None:
            parsed.questions.append(data)
    return parsed


def find_question_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), "", "no such file or folder"))
    return files, problems


def parse_files(
    paths: Iterable[Path], *, blueprint: BlueprintIndex
) -> tuple[list[tuple[str, dict]], list[Problem]]:
    """Parse and validate every file; also catch ids used twice across files."""
    files, problems = find_question_files(paths)
    questions: list[tuple[str, dict]] = []  # (exam code, question data)
    first_seen: dict[str, str] = {}
    for path in files:
        parsed = parse_file(path, blueprint=blueprint)
        problems.extend(parsed.problems)
        for data in parsed.questions:
            if data["id"] in first_seen:
                problems.append(
                    Problem(
                        parsed.path,
                        data["id"],
                        MSG_DUPLICATE_ID.format(id=data["id"], other=first_seen[data["id"]]),
                    )
                )
                continue
            first_seen[data["id"]] = parsed.path
            questions.append((parsed.exam, data))
    return questions, problems


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line text as `|` blocks so exported files stay hand-editable."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value + "\n", style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _str_representer)


def dump_file(exam: str, questions: list[dict]) -> str:
    return yaml.dump(
        {"exam": exam, "questions": questions},
        Dumper=_BlockDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
