from functools import lru_cache

import nh3
from django import template
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

register = template.Library()


def _hms(seconds: int) -> tuple[int, int, int]:
    hours, rest = divmod(max(0, int(seconds)), 3600)
    return (hours, *divmod(rest, 60))


@register.filter
def clock(seconds: int | None) -> str:
    """Seconds as H:MM:SS (or M:SS under an hour), the way the exam timer shows them."""
    if seconds is None:
        return ""
    hours, minutes, secs = _hms(seconds)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds in words: "2 h 5 min", "14 min", "45 s"."""
    if seconds is None:
        return "untimed"
    hours, minutes, secs = _hms(seconds)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


@register.filter
def question_time(seconds: int | None) -> str:
    """Time on a question in words, to the second: "1 min 35 s", "45 s", "1 h 2 min 5 s"."""
    hours, minutes, secs = _hms(seconds or 0)
    parts = [f"{hours} h"] if hours else []
    if hours or minutes:
        parts.append(f"{minutes} min")
    parts.append(f"{secs} s")
    return " ".join(parts)


@register.filter
def letter(index: int) -> str:
    return "ABCDEF"[index] if 0 <= index < 6 else str(index + 1)


@register.filter
def drawn_positions(item) -> str:
    """The positions (1-based, this attempt's order) of the stored selection, comma-joined:
    what the page was drawn with, so navigation can tell a change from a page moving on."""
    chosen = set(item.selected)
    return ",".join(str(p) for p, cid in enumerate(item.choice_order, start=1) if cid in chosen)


# Question text may use a small Markdown subset: paragraphs (a blank line), `code` spans,
# *emphasis* / **strong**, and bullet or numbered lists. A single newline is a space, so
# text wrapped in a question file reflows at any width. Raw HTML is never passed through:
# markdown-it escapes it, and nh3 (ammonia) then keeps only the tags of the subset, with no
# attributes, as a second line of defence.
_MARKDOWN = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False}).enable(
    ["emphasis", "backticks", "list", "escape"]
)
_BLOCK_TAGS = {"p", "em", "strong", "code", "ul", "ol", "li"}
_INLINE_TAGS = {"em", "strong", "code"}


# Question versions never change, so the same text always renders the same: each worker
# keeps the latest renderings (a question page renders a stem and up to six choices).
_RENDERED_KEPT = 4096


@register.filter(is_safe=True)
def markdown(text: str) -> str:
    """Question prose (stem, explanation) as sanitised HTML paragraphs and lists."""
    return mark_safe(_render_block(str(text or "")))


@register.filter(is_safe=True)
def markdown_inline(text: str) -> str:
    """A choice or rationale: the same subset without block elements."""
    return mark_safe(_render_inline(str(text or "")))


@lru_cache(maxsize=_RENDERED_KEPT)
def _render_block(text: str) -> str:
    html = _MARKDOWN.render(text)
    return nh3.clean(html, tags=_BLOCK_TAGS, attributes={}, link_rel=None)


@lru_cache(maxsize=_RENDERED_KEPT)
def _render_inline(text: str) -> str:
    html = _MARKDOWN.renderInline(" ".join(text.split()))
    return nh3.clean(html, tags=_INLINE_TAGS, attributes={}, link_rel=None)


@register.simple_tag
def nav_cells(navigator: list[dict], current: int) -> str:
    """The navigator's cells, one <li> per question: a link to it, its answered and
    flagged marks, the current question marked. Built in one pass rather than a template
    include and a URL lookup per cell (a mock has 65), and kept small: the link is
    relative ("../12/" from any question page of the attempt) and the accessible name
    ("12 answered, flagged") is the link's label."""
    cells = []
    for cell in navigator:
        position, answered, flagged = cell["position"], cell["answered"], cell["flagged"]
        classes = (
            "nav-cell" + (" is-answered" if answered else "") + (" is-flagged" if flagged else "")
        )
        state = ("answered" if answered else "unanswered") + (", flagged" if flagged else "")
        marks = ("✓" if answered else "○") + ("⚑" if flagged else "")
        current_attr = ' aria-current="page"' if position == current else ""
        cells.append(
            f'<li id="nav-{position}"><a href="../{position}/" class="{classes}"'
            f'{current_attr} aria-label="{position} {state}">{position}'
            f'<span class="nav-marks" aria-hidden="true">{marks}</span></a></li>'
        )
    return mark_safe("\n".join(cells))
