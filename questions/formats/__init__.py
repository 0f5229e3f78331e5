"""Question file formats other than the native YAML: each registers the suffixes it owns
and turns a file's text into the same validated question data as a YAML file."""

from __future__ import annotations

from questions.bankfile import BlueprintIndex, ParsedFile, Problem, ReadOptions

MSG_UNKNOWN_FORMAT = "unknown format {fmt!r}; known formats: {known}"

# format name → file suffixes (lower case, with the dot)
SUFFIXES: dict[str, tuple[str, ...]] = {"yaml": (".yaml", ".yml")}


def format_for_suffix(suffix: str) -> str | None:
    """The format registered for a file suffix such as ".xml", or None."""
    for fmt, suffixes in SUFFIXES.items():
        if suffix.lower() in suffixes:
            return fmt
    return None


def parse_text(
    name: str, text: str, *, fmt: str, blueprint: BlueprintIndex, options: ReadOptions
) -> ParsedFile:
    """Parse `text` (the file `name`) in format `fmt` into a ParsedFile."""
    return ParsedFile(
        path=name,
        problems=[
            Problem(name, "", MSG_UNKNOWN_FORMAT.format(fmt=fmt, known=", ".join(sorted(SUFFIXES))))
        ],
    )
