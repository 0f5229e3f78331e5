import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

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
def letter(index: int) -> str:
    return "ABCDEF"[index] if 0 <= index < 6 else str(index + 1)


@register.filter
def drawn_positions(item) -> str:
    """The positions (1-based, this attempt's order) of the stored selection, comma-joined:
    what the page was drawn with, so navigation can tell a change from a page moving on."""
    chosen = set(item.selected)
    return ",".join(str(p) for p, cid in enumerate(item.choice_order, start=1) if cid in chosen)


@register.filter(needs_autoescape=True)
def prose(text: str, autoescape: bool = True) -> str:
    """Question text as paragraphs: a blank line starts a new paragraph, and the hard line
    breaks of a question file's wrapped lines become spaces, so text reflows at any width
    (Django's `linebreaks` would keep them as <br>)."""
    escape = conditional_escape if autoescape else (lambda s: s)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", str(text or "").strip())]
    return mark_safe("".join(f"<p>{escape(p)}</p>" for p in paragraphs if p))
