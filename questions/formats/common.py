"""Conventions shared by the GIFT, Aiken and Moodle XML formats.

- **Exam**: these formats name none; questions are filed under the exam chosen on the
  command line or the upload page (default: mls-c01 when loaded, else the only exam).
- **Category → task statement**: a Moodle category path whose last part starts with a
  task code of that exam ("$course$/top/mls-c01/3/3.2" or ".../3.2 Select a model")
  files its questions under that task (and so its domain). A question in no category,
  or in one whose last part is no task code, goes to the default task chosen on upload
  (`--default-task`); without one it is refused.
- **Id**: the question's Moodle name (GIFT `::title::`, XML `<idnumber>` first, then
  `<name>`) when it is already a valid id; otherwise the name made into one (lower case,
  hyphens); a question without a name gets `<first words of the stem>-<8 hex digits of
  the stem's SHA-256>`. The same file always gives the same ids.
- **References**: a last paragraph of the general feedback reading "References:" then one
  "- https://…" line per link holds the question's references.
- **Draft**: a question without general feedback has no explanation: it is imported as a
  draft, never drawn into an attempt until an instructor completes it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.utils.text import slugify

from questions import bankfile
from questions.bankfile import BlueprintIndex, ParsedFile, Problem, ReadOptions

DEFAULT_EXAM = "mls-c01"
DIFFICULTY_DEFAULT = 2
TASK_CODE = re.compile(r"^(\d+\.\d+)(?:\s|$)")
REFERENCES_HEADING = "References:"

MSG_NO_EXAM = "no exam to file these questions under: load a blueprint first"
MSG_CHOOSE_EXAM = "choose the exam to file these questions under (--exam); loaded: {known}"
MSG_UNKNOWN_EXAM = "unknown exam {exam!r} (loaded: {known})"
MSG_UNKNOWN_DEFAULT_TASK = "the default task {task!r} is not a task statement of exam {exam!r}"
MSG_NO_CATEGORY = (
    "no task statement for this question: it is in no category and no default task was "
    'chosen ("Default task statement" on the upload page, --default-task in load_questions)'
)
MSG_CATEGORY_NO_TASK = (
    "no task statement for this question: its category {category!r} does not end in a task "
    'code such as …/3.2, and no default task was chosen ("Default task statement" on the '
    "upload page, --default-task in load_questions)"
)
MSG_CATEGORY_UNKNOWN_TASK = "category {category!r} names task {task!r}, which exam {exam!r} lacks"


@dataclass
class ReadContext:
    """What a reader needs besides the text: the file name, the exam its questions go
    under, the blueprint to place categories in, and the default task (or None)."""

    name: str
    exam: str
    blueprint: BlueprintIndex
    default_task: str | None

    @classmethod
    def build(
        cls, name: str, *, blueprint: BlueprintIndex, options: ReadOptions
    ) -> tuple[ReadContext | None, list[Problem]]:
        """(context, []) for reading the file `name` with `options`, or (None, problems)
        when no exam can be chosen (none loaded, several and none given, an unknown one)
        or the default task is not a task statement of that exam."""
        known = ", ".join(sorted(blueprint.exams)) or "none"
        exam = options.exam
        if exam is None:
            if DEFAULT_EXAM in blueprint.exams:
                exam = DEFAULT_EXAM
            elif len(blueprint.exams) == 1:
                exam = next(iter(blueprint.exams))
            elif not blueprint.exams:
                return None, [Problem(name, "", MSG_NO_EXAM)]
            else:
                return None, [Problem(name, "", MSG_CHOOSE_EXAM.format(known=known))]
        if exam not in blueprint.exams:
            return None, [Problem(name, "", MSG_UNKNOWN_EXAM.format(exam=exam, known=known))]
        task = options.default_task
        if task is not None and blueprint.domain_of_task(exam, task) is None:
            message = MSG_UNKNOWN_DEFAULT_TASK.format(task=task, exam=exam)
            return None, [Problem(name, "", message)]
        return cls(name=name, exam=exam, blueprint=blueprint, default_task=task), []

    def place(self, category: str | None) -> tuple[int, str] | str:
        """(domain number, task code) for a question in Moodle category `category` (a
        path such as "$course$/top/mls-c01/3/3.2", or None), or the problem as text."""
        last = category.rstrip("/").rsplit("/", 1)[-1].strip() if category else ""
        match = TASK_CODE.match(last)
        if match:
            task = match.group(1)
            domain = self.blueprint.domain_of_task(self.exam, task)
            if domain is None:
                return MSG_CATEGORY_UNKNOWN_TASK.format(
                    category=category, task=task, exam=self.exam
                )
            return domain, task
        if self.default_task is not None:
            return self.blueprint.domain_of_task(self.exam, self.default_task), self.default_task
        if category:
            return MSG_CATEGORY_NO_TASK.format(category=category)
        return MSG_NO_CATEGORY


def category_of(exam: str, question: dict[str, Any]) -> str:
    """The Moodle category an exported question goes in: "$course$/top/<exam>/<domain>/<task>"."""
    return f"$course$/top/{exam}/{question['domain']}/{question['task']}"


@dataclass
class Entry:
    """One question as a reader found it: its first line (None where the format has no
    lines), a label for messages, the raw mapping to validate, and the problems that
    stopped the reader from building it (then `raw` is None)."""

    line: int | None
    label: str
    raw: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def finish(
    name: str, context: ReadContext, entries: list[Entry], file_problems: list[Problem]
) -> ParsedFile:
    """Validate every entry with bankfile.validate_question into one ParsedFile."""
    parsed = ParsedFile(path=name, exam=context.exam, problems=list(file_problems))
    for entry in entries:
        qid = entry.raw.get("id") if entry.raw else None
        where = qid if isinstance(qid, str) and qid else entry.label
        if entry.line is not None:
            where = f"line {entry.line}: {where}"
        if entry.problems:
            parsed.problems.extend(Problem(name, where, m) for m in entry.problems)
            continue
        data, errors = bankfile.validate_question(
            entry.raw, exam=context.exam, blueprint=context.blueprint
        )
        parsed.problems.extend(Problem(name, where, e) for e in errors)
        if data is not None:
            parsed.questions.append(data)
    return parsed


def make_id(name: str | None, stem: str) -> str:
    """A valid question id from a Moodle question name (kept when already valid, else
    made into one), or, without a usable name, from the stem; always the same for the
    same input."""
    if name:
        name = name.strip()
        if bankfile.SLUG.fullmatch(name) and len(name) <= bankfile.ID_MAX_LENGTH:
            return name
        slug = _slug(name, bankfile.ID_MAX_LENGTH)
        if slug:
            return slug
    digest = hashlib.sha256(stem.strip().encode()).hexdigest()[:8]
    words = _slug(" ".join(stem.split()[:6]), 40)
    return f"{words}-{digest}" if words else f"q-{digest}"


def _slug(text: str, limit: int) -> str:
    """Lower-case words joined by single hyphens, cut at a hyphen to at most `limit`."""
    slug = re.sub(r"[-_]+", "-", slugify(text)).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] if "-" in slug[:limit] else slug[:limit]
    return slug.strip("-")


def tag_of(text: str) -> str:
    """A Moodle tag (any text) as a product tag ("Machine Learning" → "machine-learning")."""
    return _slug(text, bankfile.TAG_MAX_LENGTH)


def split_references(feedback: str) -> tuple[str, list[str]]:
    """(explanation, references) from general feedback: a last paragraph "References:"
    followed by "- <link>" lines holds the references."""
    paragraphs = feedback.strip().split("\n\n")
    lines = paragraphs[-1].strip().splitlines()
    if (
        len(lines) >= 2
        and lines[0].strip() == REFERENCES_HEADING
        and all(re.fullmatch(r"\s*- https?://\S+\s*", line) for line in lines[1:])
    ):
        links = [line.strip()[2:].strip() for line in lines[1:]]
        return "\n\n".join(paragraphs[:-1]).strip(), links
    return feedback.strip(), []


def join_references(explanation: str, references: list[str]) -> str:
    """General feedback holding the explanation and, as its last paragraph, the references."""
    if not references:
        return explanation
    block = "\n".join([REFERENCES_HEADING, *(f"- {url}" for url in references)])
    return f"{explanation}\n\n{block}" if explanation else block


def check_fractions(fractions: list[float], *, single: bool) -> tuple[str, int] | str:
    """("single" | "multiple", number of correct choices) when Moodle grades these answer
    fractions (percent) all or nothing, else the reason they cannot be represented.

    Single answer: one choice at 100, the others at 0 or below. Multiple response: the
    correct choices share 100 equally (to 0.01, for thirds written 33.33333), and every
    other choice has a penalty (below 0), so that ticking every box cannot score."""
    correct = [f for f in fractions if f > 0]
    if single:
        if len(correct) == 1 and abs(correct[0] - 100) < 0.01:
            return "single", 1
        return MSG_FRACTIONS_SINGLE.format(fractions=_listed(fractions))
    if (
        correct
        and abs(sum(correct) - 100) < 0.01 * len(correct)
        and max(correct) - min(correct) < 0.01
        and all(f < 0 for f in fractions if f <= 0)
    ):
        # One correct answer with every other penalised grades like a single answer.
        return ("single", 1) if len(correct) == 1 else ("multiple", len(correct))
    return MSG_FRACTIONS_MULTIPLE.format(fractions=_listed(fractions))


MSG_FRACTIONS_SINGLE = (
    "the answer grades ({fractions}) are not all or nothing: a single-answer question needs "
    "exactly one answer at 100% and the others at 0% or below"
)
MSG_FRACTIONS_MULTIPLE = (
    "the answer grades ({fractions}) are not all or nothing: a multiple-response question "
    "needs its correct answers to share 100% equally and every other answer to carry a "
    "penalty (below 0%)"
)


def _listed(fractions: list[float]) -> str:
    return ", ".join(f"{f:g}%" for f in fractions)


def multiple_fraction(select: int) -> str:
    """The percent each correct choice of a multiple-response question gets (Moodle's
    precision: 5 decimals at most, e.g. 33.33333)."""
    return f"{100 / select:.5f}".rstrip("0").rstrip(".")


class _HtmlToText(HTMLParser):
    """Walks HTML (the standard library's parser) writing the product's Markdown subset:
    paragraphs, line breaks, `code`, **strong**, *emphasis*, list items. Every other tag
    is dropped with its text kept; script and style are dropped with their content."""

    SKIP = frozenset({"script", "style", "head", "title"})
    BLOCKS = frozenset({"p", "div", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"})
    INLINE = {"code": "`", "tt": "`", "kbd": "`", "strong": "**", "b": "**", "em": "*", "i": "*"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # per open list: [0] for ul, [n] counter for ol
        self.images = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
            self.pre += tag == "pre"
        elif tag == "br":
            self.out.append("\n")
        elif tag in self.INLINE:
            self.out.append(self.INLINE[tag])
        elif tag in ("ul", "ol"):
            self.lists.append([0 if tag == "ul" else 1])
            self.out.append("\n\n")
        elif tag == "li":
            marker = "-"
            if self.lists and self.lists[-1][0]:
                marker = f"{self.lists[-1][0]}."
                self.lists[-1][0] += 1
            self.out.append(f"\n{marker} ")
        elif tag in ("img", "video", "audio", "object", "embed", "iframe"):
            self.images += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
            self.pre -= tag == "pre"
        elif tag in self.INLINE:
            self.out.append(self.INLINE[tag])
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        joined = "".join(self.out)
        lines = [line.strip() for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


MSG_EMBEDDED_MEDIA = "{what} holds an image or other media, which this product cannot show"


def html_to_text(html: str) -> tuple[str, int]:
    """(text in the product's Markdown subset, number of images/media dropped) from
    HTML as Moodle stores it. Never keeps a tag: the result is shown as text."""
    parser = _HtmlToText()
    parser.feed(html)
    parser.close()
    return parser.text(), parser.images
