"""The elements of a JSON file's top-level array, decoded one at a time.

A feed saved as one JSON list (an Open Place ``/services`` answer, a list of saved pages)
can hold a hundred thousand services: parsed whole, its Python objects take several times
the file's size. :func:`array_elements` reads the file in chunks and decodes one element at a
time with the standard library's decoder (:meth:`json.JSONDecoder.raw_decode`), so only
the element being read and the current chunk are held.

It never judges a file itself: anything that is not a well-formed array (bad JSON, text
after the closing bracket, not UTF-8) raises :class:`NotStreamable`, and the caller parses
the file whole to give its usual error.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["NotStreamable", "array_elements", "starts_with_array"]

#: Bytes read at a time (doubled while one element is longer than what is buffered).
CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"   # JSON's whitespace


class NotStreamable(Exception):
    """The file is not one well-formed JSON array (or cannot be decoded as UTF-8)."""


def starts_with_array(path: str | Path) -> bool:
    """True when the file's first character (after a UTF-8 BOM and whitespace) is ``[``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    text = head.decode("utf-8", "ignore").lstrip("\ufeff" + _WHITESPACE)
    return text[:1] == "["


class _Reader:
    """A growing text buffer over a binary file, decoded as UTF-8 (one BOM skipped)."""

    def __init__(self, fh: Any):
        self.fh = fh
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.chunk = CHUNK

    def more(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at the end of the file."""
        if self.eof:
            return False
        data = self.fh.read(self.chunk)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise NotStreamable(str(exc)) from exc
        self.buf = self.buf[self.pos:] + text
        self.pos = 0
        if not data:
            self.eof = True
        return True

    def skip_space(self) -> str:
        """Skip whitespace; the next character, or ``""`` at the end of the file."""
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            self.pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self.more():
                return ""

    def value(self, decoder: json.JSONDecoder) -> Any:
        """Decode one JSON value at the current position."""
        while True:
            try:
                obj, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if self.eof:
                    raise NotStreamable("not valid JSON") from None
                self._grow()
                continue
            except (RecursionError, ValueError) as exc:
                raise NotStreamable(str(exc)) from exc
            if end >= len(self.buf) and not self.eof:
                # A number may go on in the next chunk ("12" of "123"): read on and decode again.
                self._grow()
                continue
            self.pos = end
            return obj

    def _grow(self) -> None:
        """Read more, in bigger steps while one value is longer than the buffer."""
        if len(self.buf) - self.pos >= self.chunk:
            self.chunk *= 2
        self.more()


def array_elements(path: str | Path) -> Iterator[Any]:
    """Yield the elements of the JSON array that is the whole of the file at ``path``.

    Raises :class:`NotStreamable` (possibly after some elements were yielded) when the file is
    not exactly one JSON array, and :class:`OSError` when it cannot be read.
    """
    decoder = json.JSONDecoder()
    with open(path, "rb") as fh:
        r = _Reader(fh)
        if r.skip_space() != "[":
            raise NotStreamable("the file does not start with '['")
        r.pos += 1
        if r.skip_space() == "]":
            r.pos += 1
        else:
            while True:
                if r.skip_space() == "":
                    raise NotStreamable("the file ends inside the array")
                yield r.value(decoder)
                sep = r.skip_space()
                r.pos += 1
                if sep == "]":
                    break
                if sep != ",":
                    raise NotStreamable("expected ',' or ']' after an element")
        if r.skip_space() != "":
            raise NotStreamable("text after the closing ']'")
