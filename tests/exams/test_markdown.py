"""Question text: a small Markdown subset, sanitised; nothing else gets through."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from exams.templatetags.exam_tags import markdown, markdown_inline

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    '<p style="color:red">x</p>',
    "`</code><script>alert(1)</script>`",
    "**<b onmouseover=alert(1)>x</b>**",
    "&lt;script&gt;",
    "<!-- comment --><div>x</div>",
    "data:text/html,<script>alert(1)</script>",
]


class Elements(HTMLParser):
    """Every element, attribute and comment a browser would build from the HTML."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)

    def handle_comment(self, data):
        self.comments.append(data)


BLOCK = {"p", "em", "strong", "code", "ul", "ol", "li"}
INLINE = {"em", "strong", "code"}


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize(("render", "allowed"), [(markdown, BLOCK), (markdown_inline, INLINE)])
def test_hostile_input_never_becomes_markup(text, render, allowed):
    parsed = Elements()
    parsed.feed(str(render(text)))
    assert parsed.tags <= allowed, parsed.tags
    assert parsed.attributes == [] and parsed.comments == []


def test_the_subset_renders():
    html = str(markdown("A wrapped\nline.\n\nUse `num_round` and *not* **this**:\n\n- one\n- two"))
    assert html.startswith("<p>A wrapped\nline.</p>")
    assert (
        "<code>num_round</code>" in html
        and "<em>not</em>" in html
        and "<strong>this</strong>" in html
    )
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert str(markdown_inline("Set `__label__` first")) == "Set <code>__label__</code> first"


def test_text_that_looks_like_tags_is_shown_as_text():
    assert "s3://bucket/device=&lt;id&gt;/" in str(markdown("s3://bucket/device=<id>/"))
