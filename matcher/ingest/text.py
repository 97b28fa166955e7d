"""HTML descriptions -> plain text that keeps paragraphs and list items.

Directory feeds publish descriptions as HTML (``<p>``, ``<ul><li>``, ``&amp;``, ``&nbsp;``).
:func:`clean_text` parses them with lxml's HTML parser and writes plain text: one blank line
between paragraphs and other blocks, ``- `` before each list item, line breaks kept, entities
decoded, scripts and styles dropped, runs of spaces closed up. Links stay in the record's own
fields (``url``, ``email``); a link's words stay in the text. Text without markup is only
tidied (whitespace), never parsed.
"""

from __future__ import annotations

import html
import re

import lxml.etree
import lxml.html

__all__ = ["clean_text", "looks_like_html"]

_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?\s*>|<!--")
_ENTITY = re.compile(r"&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]{1,31});")
_BLOCKS = frozenset({
    "p", "div", "section", "article", "header", "footer", "main", "aside", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "dt", "dd", "table", "tr",
    "address", "figure", "figcaption", "pre", "hr", "form", "fieldset", "nav",
})
_DROP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed",
                   "head", "title", "meta", "link"})
#: Passes of :func:`clean_text` over markup that comes out of a pass as tags again.
MAX_PASSES = 3
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def looks_like_html(text: str) -> bool:
    """True when ``text`` holds a tag, an HTML comment or an entity."""
    return bool(_TAG.search(text) or _ENTITY.search(text))


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n")
             .replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


class _Writer:
    """Walks the parsed tree and collects text with block and list structure."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def brk(self, n: int) -> None:
        """Make sure the text ends with at least ``n`` newlines (nothing at the start)."""
        if not self.parts:
            return
        tail = "".join(self.parts[-3:])
        have = len(tail) - len(tail.rstrip("\n"))
        if have < n:
            self.parts.append("\n" * (n - have))

    def walk(self, el: lxml.html.HtmlElement) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if tag in _DROP or not isinstance(el.tag, str):
            # comments and processing instructions: skip them, keep their tail
            if el.tail:
                self.parts.append(el.tail)
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.brk(1)
            self.parts.append("- ")
        elif tag in _BLOCKS:
            self.brk(2)
        if el.text:
            self.parts.append(el.text)
        for child in el:
            self.walk(child)
        if tag == "li":
            self.brk(1)
        elif tag in _BLOCKS:
            self.brk(2)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if el.tail:
            self.parts.append(el.tail)


def clean_text(text: str | None) -> str:
    """Plain text of an HTML (or plain) description; ``""`` for nothing.

    Markup that was escaped once more (``&lt;p&gt;``, as some systems publish it) or that sits
    inside an element read as raw text (``<textarea>``) comes out as tags: those are cleaned
    by a further pass (while a pass changes anything), up to :data:`MAX_PASSES`, then any tag
    still left is cut out.

    >>> clean_text("<p>Fish &amp; chips</p><ul><li>one</li><li>two</li></ul>")
    'Fish & chips\\n\\n- one\\n- two'
    """
    if not text:
        return ""
    for _ in range(MAX_PASSES):
        if not looks_like_html(text):
            return _tidy(text)
        plain = _plain_text(text)
        if plain == text or not _TAG.search(plain):    # "a < b and c > d" is not markup
            return plain
        text = plain
    return _tidy(_TAG.sub(" ", text))


def _plain_text(text: str) -> str:
    """One pass of :func:`clean_text`: parse the HTML, write its text."""
    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _tidy(html.unescape(_TAG.sub(" ", text)))
    writer = _Writer()
    writer.walk(root)
    return _tidy("".join(writer.parts))
