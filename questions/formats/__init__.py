"""Question file formats other than the native YAML: GIFT, Aiken and Moodle XML.

Each format lives in its own module with a `read(name, text, context)` returning
`[Entry]` (one raw question in the mapping form of question files, with its line) plus
file-level problems, and a `write(exam, questions)` returning the text of one file. This
package registers their suffixes, turns Moodle's conventions into the product's (see
`common`), and sends every entry through `bankfile.validate_question`, the one place that
decides validity, so every format has the same limits and rules as YAML files.
"""

from __future__ import annotations

from questions.bankfile import BlueprintIndex, ParsedFile, Problem, ReadOptions
from questions.formats import aiken, gift, moodle_xml
from questions.formats.common import ReadContext, finish

MSG_UNKNOWN_FORMAT = "unknown format {fmt!r}; known formats: {known}"

# format name → file suffixes (lower case, with the dot). A folder scan picks up these
# files; ".txt" is read only when the format is given (--format), being too common.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "yaml": (".yaml", ".yml"),
    "gift": (".gift",),
    "aiken": (".aiken",),
    "xml": (".xml",),
}
TEXT_FORMATS = ("gift", "aiken")
MODULES = {"gift": gift, "aiken": aiken, "xml": moodle_xml}
FORMATS = tuple(SUFFIXES)
# What an export file of each format is called after: mls-c01-domain-1.gift …
EXPORT_SUFFIX = {"yaml": ".yaml", "gift": ".gift", "aiken": ".aiken", "xml": ".xml"}


def format_for_suffix(suffix: str) -> str | None:
    """The format registered for a file suffix such as ".xml", or None."""
    for fmt, suffixes in SUFFIXES.items():
        if suffix.lower() in suffixes:
            return fmt
    return None


def folder_suffixes(fmt: str | None = None) -> frozenset[str]:
    """The suffixes a folder scan reads: those of format `fmt` (plus ".txt" for GIFT and
    Aiken, whose files are often plain text), or of every format when `fmt` is None."""
    if fmt is None:
        return frozenset(s for suffixes in SUFFIXES.values() for s in suffixes)
    extra = (".txt",) if fmt in TEXT_FORMATS else ()
    return frozenset(SUFFIXES.get(fmt, ()) + extra)


def parse_text(
    name: str, text: str, *, fmt: str, blueprint: BlueprintIndex, options: ReadOptions
) -> ParsedFile:
    """Parse `text` (the file `name`) in format `fmt` ("gift", "aiken" or "xml") into a
    ParsedFile of validated questions filed under `options.exam` (default: mls-c01 when
    loaded, else the only exam), every problem collected with its line where the format
    has lines. Never raises on bad input."""
    module = MODULES.get(fmt)
    if module is None:
        known = ", ".join(FORMATS)
        return ParsedFile(
            path=name, problems=[Problem(name, "", MSG_UNKNOWN_FORMAT.format(fmt=fmt, known=known))]
        )
    context, problems = ReadContext.build(name, blueprint=blueprint, options=options)
    if context is None:
        return ParsedFile(path=name, problems=problems)
    text = text.removeprefix("\ufeff")
    entries, file_problems = module.read(name, text, context)
    return finish(name, context, entries, file_problems)


def can_write(fmt: str, question: dict) -> bool:
    """Whether format `fmt` can represent `question` (file form) without losing its key:
    Aiken holds single-answer questions only; every other format holds every question."""
    return fmt != "aiken" or question["type"] == "single"


def write(fmt: str, *, exam: str, questions: list[dict]) -> str:
    """The text of one file holding `questions` (file form, as `question_as_data` gives)
    of exam `exam`, in format `fmt` ("gift", "aiken" or "xml"); the questions must
    pass `can_write`. Raises KeyError for an unknown format."""
    return MODULES[fmt].write(exam, questions)
