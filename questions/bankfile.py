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
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

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
QUESTION_KEYS_OPTIONAL = ("select", "tags", "status", "references")
STATUSES = ("active", "retired", "draft")
# A draft is kept and listed for instructors but never drawn into an attempt; it is the
# only status whose explanation may be missing (e.g. an Aiken import, which has none).
DRAFT = "draft"
MAX_REFERENCES = 10
REFERENCE_MAX_LENGTH = 500
CHOICE_KEYS = ("text", "correct", "why")
FILE_KEYS = ("exam", "questions")
TYPES = ("single", "multiple")
MIN_CHOICES, MAX_CHOICES = 2, 6
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # matched whole (fullmatch): no trailing newline
ID_MAX_LENGTH = 80
TAG_MAX_LENGTH = 60
# Limits that keep one file from exhausting memory or the page (characters unless stated).
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 12  # nesting of lists and mappings; a question file needs 5
TEXT_LIMITS = {"stem": 4000, "explanation": 6000, "text": 1000, "why": 2000}
# Keys whose values are prose: an unquoted value followed by " #" was cut by a comment.
TEXT_KEYS = frozenset({"stem", "explanation", "text", "why", "name"})

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
MSG_BAD_EXAM = "'exam' must be an exam code such as mls-c01"
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
MSG_BAD_TAGS = (
    "tags must be a list of lowercase words joined by hyphens, each at most 60 characters"
)
MSG_EMPTY_TEXT = "{what} must be non-empty text"
MSG_READ_AS_BOOL = "{what} was read as {value}: put it in quotes"
MSG_READ_AS_NUMBER = "{what} was read as the number {value}: put it in quotes"
MSG_NOT_TEXT = "{what} must be text, not a {kind}"
MSG_TOO_LONG = "{what} is {length} characters long; the limit is {limit}"
MSG_FILE_TOO_BIG = "the file is {size} bytes; the limit is {limit} bytes"
MSG_TOO_DEEP = "line {line}: lists and mappings are nested too deeply (more than {limit} levels)"
MSG_DUPLICATE_KEY = (
    "line {line}: key {key!r} is written twice in the same mapping (first on line {first})"
)
MSG_COMMENT_CUT = (
    "line {line}: the {key} value is cut at ' #' (read as a comment): quote this text or "
    "write it as a block (|)"
)
MSG_QUOTE_VALUE = (
    "line {line}: {key} {value} is read as a number or true/false, not as written: "
    'quote it, e.g. {key}: "{value}"'
)
MSG_MULTIPLE_DOCUMENTS = "the file holds more than one YAML document ('---'): keep one"
MSG_CHOICES_NOT_LIST = "choices must be a list"
MSG_BAD_STATUS = "status must be 'active', 'retired' or 'draft'"
MSG_BAD_REFERENCES = (
    "references must be a list of up to 10 http(s) links, each at most 500 characters"
)
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


def text_problem(what: str, value: Any, *, limit: int | None = None) -> str | None:
    """Why `value` is not acceptable text for `what` (None when it is): says what YAML read
    instead (true/false, a number, a list), or that it is empty or over `limit`."""
    if isinstance(value, bool):
        return MSG_READ_AS_BOOL.format(what=what, value=str(value).lower())
    if isinstance(value, int | float):
        return MSG_READ_AS_NUMBER.format(what=what, value=value)
    if isinstance(value, list | Mapping):
        kind = "list" if isinstance(value, list) else "mapping"
        return MSG_NOT_TEXT.format(what=what, kind=kind)
    if not isinstance(value, str) or not value.strip():
        return MSG_EMPTY_TEXT.format(what=what)
    if limit is not None and len(value.strip()) > limit:
        return MSG_TOO_LONG.format(what=what, length=len(value.strip()), limit=limit)
    return None


def validate_question(
    raw: Any, *, exam: str, blueprint: BlueprintIndex
) -> tuple[dict | None, list[str]]:
    """Check one question in file form; return its normalised form and every problem found.

    `raw` is the mapping form of question files (every format is turned into it first);
    the result has the keys of QUESTION_KEYS_REQUIRED (plus select, references and a
    non-active status when given), or is None with one message per problem. Only a
    question with `status: draft` may leave its explanation out or empty (it is then "").
    """
    if not isinstance(raw, Mapping):
        return None, [MSG_NOT_MAPPING]
    errors: list[str] = []
    is_draft = raw.get("status") == DRAFT
    missing = [
        k for k in QUESTION_KEYS_REQUIRED if k not in raw and not (is_draft and k == "explanation")
    ]
    if missing:
        errors.append(MSG_MISSING_KEYS.format(keys=", ".join(missing)))
    unknown = sorted(
        str(k) for k in raw if k not in QUESTION_KEYS_REQUIRED + QUESTION_KEYS_OPTIONAL
    )
    if unknown:
        errors.append(MSG_UNKNOWN_KEYS.format(keys=", ".join(unknown)))

    qid = raw.get("id")
    if "id" in raw and not (
        isinstance(qid, str) and SLUG.fullmatch(qid) and len(qid) <= ID_MAX_LENGTH
    ):
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
    if not (
        isinstance(tags, list)
        and all(isinstance(t, str) and SLUG.fullmatch(t) and len(t) <= TAG_MAX_LENGTH for t in tags)
    ):
        errors.append(MSG_BAD_TAGS)
        tags = []

    status = raw.get("status", "active")
    if status not in STATUSES:
        errors.append(MSG_BAD_STATUS)
    references = raw.get("references", [])
    if references is None:
        references = []
    if not _valid_references(references):
        errors.append(MSG_BAD_REFERENCES)
        references = []

    stem = explanation = None
    for key in ("stem", "explanation"):
        if key == "explanation" and is_draft and not _text(raw.get(key)):
            # A draft may leave its explanation empty: completing it means writing one.
            if raw.get(key) not in (None, "") and not isinstance(raw.get(key), str):
                errors.append(text_problem(key, raw[key]))
            continue
        if key in raw:
            problem = text_problem(key, raw[key], limit=TEXT_LIMITS[key])
            if problem:
                errors.append(problem)
            elif key == "stem":
                stem = _text(raw[key])
            else:
                explanation = _text(raw[key])

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
            "explanation": explanation or "",
        }
    )
    if references:
        data["references"] = list(references)
    if status != "active":
        data["status"] = status
    return data, []


_URL = URLValidator(schemes=["http", "https"])


def _valid_references(value: Any) -> bool:
    if not isinstance(value, list) or len(value) > MAX_REFERENCES:
        return False
    for url in value:
        if not isinstance(url, str) or len(url) > REFERENCE_MAX_LENGTH or url != url.strip():
            return False
        try:
            _URL(url)
        except ValidationError:
            return False
    return True


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
        problem = text_problem(f"choice {n} text", choice.get("text"), limit=TEXT_LIMITS["text"])
        text = None if problem else _text(choice.get("text"))
        if problem:
            errors.append(problem)
        else:
            key = " ".join(text.lower().split())
            if key in seen:
                errors.append(MSG_DUPLICATE_CHOICE.format(n=n, first=seen[key]))
            seen.setdefault(key, n)
        correct = choice.get("correct", False)
        if not isinstance(correct, bool):
            errors.append(MSG_CHOICE_BAD_CORRECT.format(n=n))
        why = choice.get("why")
        problem = (
            None if why is None else text_problem(f"choice {n} why", why, limit=TEXT_LIMITS["why"])
        )
        if problem:
            errors.append(problem)
            why = None
        item: dict[str, Any] = {"text": text}
        if correct is True:
            item["correct"] = True
        if why is not None and _text(why):
            item["why"] = _text(why)
        out.append(item)
    return out, errors


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, composing the node tree first so that `read_yaml` can refuse
    what the plain loader accepts silently (duplicate keys, comment-cut text, deep
    nesting) with the line of each problem."""


def _check_nodes(
    node: yaml.Node, lines: list[str], problems: list[str], string_keys: frozenset[str]
) -> None:
    """Walk the node tree (iteratively: no recursion limit to hit) collecting problems."""
    stack: list[tuple[yaml.Node, int, str | None]] = [(node, 1, None)]
    seen: set[int] = set()
    while stack:
        current, depth, key = stack.pop()
        if id(current) in seen:  # an alias: already checked where it was defined
            continue
        seen.add(id(current))
        line = current.start_mark.line + 1
        if depth > MAX_DEPTH:
            problems.append(MSG_TOO_DEEP.format(line=line, limit=MAX_DEPTH))
            return
        if isinstance(current, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key_node, value_node in current.value:
                name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if name is not None:
                    if name in first_line:
                        problems.append(
                            MSG_DUPLICATE_KEY.format(
                                line=key_node.start_mark.line + 1, key=name, first=first_line[name]
                            )
                        )
                    else:
                        first_line[name] = key_node.start_mark.line + 1
                stack.append((value_node, depth + 1, name))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((child, depth + 1, None) for child in reversed(current.value))
        elif (
            isinstance(current, yaml.ScalarNode)
            and key in string_keys
            and current.tag != "tag:yaml.org,2002:str"
        ):
            problems.append(MSG_QUOTE_VALUE.format(line=line, key=key, value=current.value))
        elif isinstance(current, yaml.ScalarNode) and key in TEXT_KEYS and current.style is None:
            end = current.end_mark
            rest = lines[end.line][end.column :] if end.line < len(lines) else ""
            if re.match(r"\s+#", rest):
                problems.append(MSG_COMMENT_CUT.format(line=end.line + 1, key=key))


def read_yaml(
    text: str, *, string_keys: frozenset[str] = frozenset()
) -> tuple[Any, list[str], dict[int, int]]:
    """Parse one YAML document strictly.

    Returns (data, problems, question_lines): `data` is None when any problem was found;
    `question_lines` maps the index of each entry of a top-level `questions:` list to its
    1-based line. Values of `string_keys` must be text as written (an unquoted 1.10 is the
    number 1.1). Problems are plain one-line messages naming the line. Never raises on
    bad input (YAML errors, too-deep nesting and multiple documents become problems).
    """
    problems: list[str] = []
    loader = StrictLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.composer.ComposerError as exc:
            if "expected a single document" in str(exc):
                return None, [MSG_MULTIPLE_DOCUMENTS], {}
            raise
        if node is None:
            return None, [], {}
        _check_nodes(node, text.splitlines(), problems, string_keys)
        if problems:
            return None, problems, {}
        question_lines: dict[int, int] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == "questions" and isinstance(value_node, yaml.SequenceNode):
                    question_lines = {
                        i: child.start_mark.line + 1 for i, child in enumerate(value_node.value)
                    }
        return loader.construct_document(node), [], question_lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [MSG_YAML.format(line=line, problem=problem)], {}
    except RecursionError:
        return None, [MSG_TOO_DEEP.format(line="?", limit=MAX_DEPTH)], {}
    finally:
        loader.dispose()


def read_text_file(path: Path) -> tuple[str | None, str | None]:
    """(text, None), or (None, problem) for a file too big, unreadable or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, MSG_FILE_TOO_BIG.format(size=size, limit=MAX_FILE_BYTES)
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot be read: {exc}"


@dataclass(frozen=True)
class ReadOptions:
    """Choices a file cannot make for itself: the format (None: from the file name), and
    for formats without an exam or task statement, the ones to file questions under."""

    fmt: str | None = None
    exam: str | None = None
    default_task: str | None = None


DEFAULT_READ_OPTIONS = ReadOptions()


def parse_file(
    path: Path, *, blueprint: BlueprintIndex, options: ReadOptions = ReadOptions()
) -> ParsedFile:
    """Read one question file; every problem is collected, none stops the reading early."""
    text, problem = read_text_file(path)
    if problem:
        return ParsedFile(path=str(path), problems=[Problem(str(path), "", problem)])
    return parse_text(str(path), text, blueprint=blueprint, options=options)


def parse_text(
    name: str, text: str, *, blueprint: BlueprintIndex, options: ReadOptions = ReadOptions()
) -> ParsedFile:
    """Parse and validate the text of one question file named `name` (a path or an
    uploaded file's name), in the format `options.fmt` or the one its name implies.
    Every problem is collected, none stops the reading early."""
    if options.fmt is None and Path(name).suffix.lower() in SUFFIXES_NEEDING_A_FORMAT:
        return ParsedFile(path=name, problems=[Problem(name, "", MSG_CHOOSE_FORMAT)])
    fmt = options.fmt or format_of(name)
    if fmt != "yaml":
        from questions import formats  # the other formats build on this module

        return formats.parse_text(name, text, fmt=fmt, blueprint=blueprint, options=options)
    path = name
    parsed = ParsedFile(path=name)
    doc, yaml_problems, question_lines = read_yaml(text, string_keys=frozenset({"task", "id"}))
    if yaml_problems:
        parsed.problems.extend(Problem(str(path), "", p) for p in yaml_problems)
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
    elif not isinstance(exam, str):
        file_problem(MSG_BAD_EXAM)
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
        where = f"line {question_lines.get(position - 1, '?')}: {where}"
        data, errors = validate_question(raw, exam=parsed.exam, blueprint=blueprint)
        parsed.problems.extend(Problem(str(path), where, e) for e in errors)
        if data is not None:
            parsed.questions.append(data)
    return parsed


YAML_SUFFIXES = frozenset({".yaml", ".yml"})
# Suffixes more than one format uses (GIFT and Aiken are both plain text).
SUFFIXES_NEEDING_A_FORMAT = frozenset({".txt"})
MSG_CHOOSE_FORMAT = (
    'a .txt file may be GIFT or Aiken: choose its format (the upload page\'s "Format", or '
    "--format in load_questions)"
)


def format_of(name: str) -> str:
    """The format a file name implies: "yaml" for .yaml/.yml; other formats register
    their suffixes in `questions.formats`. Unknown suffixes are read as YAML, whose
    strict reader then says what is wrong."""
    suffix = Path(name).suffix.lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    from questions import formats

    return formats.format_for_suffix(suffix) or "yaml"


def find_question_files(
    paths: Iterable[Path], *, fmt: str | None = None
) -> tuple[list[Path], list[Problem]]:
    """The files to read: each file given, and in each folder (recursively) the files of
    format `fmt` (its suffixes, plus .txt for GIFT and Aiken), or of every registered
    format when `fmt` is None. Returns (files, problems for paths that do not exist)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            from questions import formats

            suffixes = formats.folder_suffixes(fmt)
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), "", "no such file or folder"))
    return files, problems


def parse_files(
    paths: Iterable[Path],
    *,
    blueprint: BlueprintIndex,
    options: ReadOptions = ReadOptions(),
    sources: Iterable[tuple[str, str]] = (),
) -> tuple[list[tuple[str, str, dict]], list[Problem]]:
    """Parse and validate every file (files and folders under `paths`, and `sources`,
    texts already in memory as [(file name, text)], e.g. a browser upload); also catch
    ids used twice across files.

    Returns ([(exam code, file path or name, question data)], problems)."""
    files, problems = find_question_files(paths, fmt=options.fmt)
    parsed = [parse_file(path, blueprint=blueprint, options=options) for path in files]
    parsed += [
        parse_text(name, text, blueprint=blueprint, options=options) for name, text in sources
    ]
    questions, more = _collect(parsed)
    return questions, problems + more


def _collect(parsed_files: list[ParsedFile]) -> tuple[list[tuple[str, str, dict]], list[Problem]]:
    """Every file's questions and problems, plus a problem for each id used twice."""
    problems: list[Problem] = []
    questions: list[tuple[str, str, dict]] = []
    first_seen: dict[str, str] = {}
    for parsed in parsed_files:
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
            questions.append((parsed.exam, parsed.path, data))
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
