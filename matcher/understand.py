"""The reading step: facts with provenance from a service record's own words.

Councils publish free text. The ages a service is for, who it is for ("for adults
with...", "for parents of..."), who it turns away, its thresholds, whether it needs an EHC
plan, where users must live, how to get a referral, what it costs and how it is delivered
all live in the name, the description and a feed's audience tags. :func:`read_service`
reads them and returns :class:`Fact` objects, each with the exact words it comes from
(``quote``, a verbatim substring of the field named by ``source``) and a ``confidence``:
``"certain"`` for unambiguous wording, ``"likely"`` for weaker wording.

Every rule is general grammar (a negation cue and its scope, "aged N to M", "for parents
of", "must live in <Place>"), not a list of particular records. Regular expressions are
compiled once at import; the needs scanner is built once per vocabulary.

This is a pure library module: it imports only the standard library and
:mod:`matcher.vocab`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from re import _constants as _C  # the pattern parser's node types, to read rule starts
from re import _parser
from typing import Any

from matcher.vocab import Vocabulary, load_vocabulary

__all__ = ["FIELDS", "Fact", "ages_said_of_audience", "effective_ages", "read_service"]

#: Fact fields, in the order :func:`read_service` reports them.
FIELDS = ("min_age", "max_age", "child_ages", "audience", "adults_only", "for_parents",
          "excludes", "threshold", "residency", "ehcp_required", "referral", "cost",
          "delivery", "needs")

_MAX_QUOTE = 120


@dataclass(frozen=True)
class Fact:
    """One thing a record says about itself, and the words that say it."""

    field: str       # one of FIELDS
    value: Any       # int for ages, str for audience/threshold/..., list[str] for needs/excludes
    quote: str       # verbatim words of the record (<= 120 characters)
    source: str      # "name" | "description" | "tags"
    confidence: str  # "certain" | "likely"
    #: For ages: "" when the words give numbers ("aged 8 to 12", "under fives"), "line" for
    #: numbers on a line of their own ("Age: 5 to 11"), "phase" for a word naming an age group
    #: ("toddlers", "primary school"), "all_ages" for "all ages".
    kind: str = ""


# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------

_I = re.IGNORECASE
_AP = "['\u2019]"  # apostrophes as councils type them

_WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "twenty-one": 21, "twenty-two": 22, "twenty-three": 23,
    "twenty-four": 24, "twenty-five": 25,
}
_WORDS_RX = "|".join(sorted((w.replace("-", "[- ]?") for w in _WORD_NUMBERS),
                            key=len, reverse=True))


def _n(name: str) -> str:
    """A one- or two-digit number or a number word, not part of a price, time, phone
    number, decimal or longer number."""
    return (rf"(?<![\w\u00a3$\u20ac:/.])(?<!\d[.,])(?P<{name}>\d{{1,2}}(?!\d)(?![.:,]\d)"
            rf"|(?:{_WORDS_RX})(?=s?\b))")


def _num(text: str) -> int:
    text = text.lower().replace(" ", "-")
    if text.isdigit():
        return int(text)
    if text not in _WORD_NUMBERS and "-" not in text and text.startswith("twenty"):
        text = "twenty-" + text[6:]
    return _WORD_NUMBERS.get(text, -1)


_DASH = r"\s*(?:-|\u2013|\u2014|to|till|until|up\s+to)\s*"
_STRONG_CUE_PLAIN = (r"for|aimed\s+at|designed\s+for|open\s+to|targeted\s+at|only\s+for|"
                     r"exclusively\s+for")
_YEARS = r"(?:\s*(?:years?|yrs?)(?:[\s-]*old)?)?"
#: What may not follow an age: times, durations, percentages, dates, counts.
_NOT_AGE = (r"(?!\s*(?:am\b|pm\b|a\.m|p\.m|%|hours?\b|hrs?\b|mins?\b|minutes?\b|days?\b|weeks?\b|"
            r"months?\b|sessions?\b|miles?\b|places?\b|people\b|pence\b|p\b|"
            r"jan(?:uary)?\b|feb(?:ruary)?\b|march\b|apr(?:il)?\b|june?\b|july?\b|aug(?:ust)?\b|"
            r"sep(?:t|tember)?\b|oct(?:ober)?\b|nov(?:ember)?\b|dec(?:ember)?\b))")
_PEOPLE = (r"children|child|kids|young\s+people|young\s+person|youngsters|young\s+adults|"
           r"pupils|students|learners|adults|babies|teenagers|teens|boys|girls|people|"
           r"individuals|participants|infants|toddlers|those|anyone|users|members|juniors|"
           r"youths|seniors|females|males|little\s+ones")

#: Sentence and clause ends that bound a negation's scope.
_CLAUSE_END = re.compile(
    r"[.!?](?=\s|$)|[;:\n\r()]|\s[-\u2013\u2014]+\s"
    r"|\b(?:but|however|although|though|whereas|whilst|while|instead|unless|if\s+you)\b"
    r"|,\s*(?=(?:and\s+|so\s+|as\s+|because\s+)?(?:we|our|you|your|they|please|this|it|"
    r"sessions?|there|which|so|because)\b)", _I)
#: ``[.!?](?=\s|$)|\n``, written to start with a character set (which ``re`` skips to fast).
_SENTENCE_END = re.compile(r"[.!?\n](?:(?<=\n)|(?=\s|$))")

#: Negations that refuse nothing; masked (same length) before any rule reads the text.
_BENIGN = re.compile(
    r"\b(?:whether\s+or\s+not|or\s+not|if\s+not|not\s+just|not\s+only|not\s+necessarily|"
    r"not\s+alone|not\s+always|not\s+sure|not\s+too|no\s+matter|not\s+a\s+problem|"
    r"not[- ]for[- ]profit|do\s+not\s+hesitate|don['\u2019]t\s+hesitate|"
    r"(?:do\s+not|don['\u2019]t|please\s+do\s+not)\s+worry|"
    r"(?:do|does)\s+not\s+(?:need|have\s+to)|(?:don|doesn)['\u2019]t\s+(?:need|have\s+to)|"
    r"need\s+not|no\s+need|not\s+(?:needed|required|necessary|essential)|"
    r"not\s+limited\s+to|doesn['\u2019]t\s+matter|does\s+not\s+matter|with\s+or\s+without)\b",
    _I)


_BENIGN_TRIGGERS = ("not", "no ", "n't", "n\u2019t", "with or", "need")


def _mask(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


# ---------------------------------------------------------------------------------------------
# Where a rule may match, found once per text
# ---------------------------------------------------------------------------------------------
#
# ``re`` tries a pattern at every position of the text it scans, and some ninety rule patterns
# read each text. So each text is cut once into words (runs of ASCII letters and digits of the
# lower-cased text), and a table built once per distinct word says which trigger words the
# word contains and which rule patterns may *start* at it. The words a pattern can start with
# are read off the pattern itself (:func:`_pattern_starts`), so they follow the rules as they
# change. A rule is then tried (``Pattern.match``) only where it may start, inside the
# sentences its triggers select: the very matches ``finditer`` finds scanning those sentences,
# without the scan. A text this cannot vouch for (lower-casing changes its length, or it holds
# a character ``re`` folds onto an ASCII letter or digit) is scanned as before.

_WORD_RUN = re.compile(r"[a-z0-9]+")
#: Characters ``re`` matches to an ASCII letter or digit that ``str.lower`` does not map to it.
_ODD_CASE = re.compile("[\u0130\u0131\u017f\u212a]")
_ODD_DIGIT = re.compile(r"[^\D0-9]")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_MAX_START = 12     # letters of a start word worth telling apart
_MAX_HEADS = 600    # beyond this many ways to start, a pattern is scanned
# A start is a word that may go on / the beginning of a word / a whole word / a symbol.
_OPEN, _PREFIX, _WORD, _SYMBOL = 0, 1, 2, 3

_Heads = set[tuple[str, int, bool]]   # (start, kind, a word starts there)


class _NoStart(Exception):
    """A pattern may start with something other than a known word or symbol."""


def _lookbehind_no_alnum(av: Any) -> bool:
    """``av`` (of ASSERT_NOT) is a one-character lookbehind refusing every letter and digit."""
    direction, sub = av
    if direction != -1 or len(sub.data) != 1 or sub.data[0][0] is not _C.IN:
        return False
    items = sub.data[0][1]
    if items and items[0][0] is _C.NEGATE:   # [^\W_]: no letter or digit may come before
        return (_C.CATEGORY, _C.CATEGORY_NOT_WORD) in items and all(
            op is _C.NEGATE or (op is _C.CATEGORY and a is _C.CATEGORY_NOT_WORD)
            or (op is _C.LITERAL and not chr(a).isalnum()) for op, a in items)
    return (_C.CATEGORY, _C.CATEGORY_WORD) in items


def _class_chars(items: Any) -> tuple[str, ...] | None:
    """The lower-cased characters a character class matches, when few and plain."""
    chars: set[str] = set()
    for op, a in items:
        if op is _C.LITERAL:
            chars.add(chr(a).lower())
        elif op is _C.RANGE and a[1] - a[0] <= 40:
            chars.update(chr(c).lower() for c in range(a[0], a[1] + 1))
        elif op is _C.CATEGORY and a is _C.CATEGORY_DIGIT:
            chars.update("0123456789")
        elif op is _C.CATEGORY and a in (_C.CATEGORY_SPACE, _C.CATEGORY_NOT_WORD):
            chars.add(" ")   # stands for any character that is not a letter or digit
        else:
            return None
    return tuple(chars)


def _is_symbol(c: str) -> bool:
    """A character that matches only itself, case-insensitively too (e.g. a pound sign)."""
    return len(c) == 1 and not c.isalnum() and not c.isspace() and c.lower() == c == c.upper()


def _close(heads: _Heads) -> _Heads:
    return {(p, _PREFIX if p and k == _OPEN else k, g) for p, k, g in heads}


def _extend(heads: _Heads, chars: tuple[str, ...] | None) -> _Heads:
    """``heads`` followed by one of ``chars`` (None: any character)."""
    if chars is not None and len(heads) * len(chars) > _MAX_HEADS // 4:
        heads = _close(heads)   # enough told apart: these only begin the starts
    out = set()
    for prefix, kind, guarded in heads:
        if kind != _OPEN:
            out.add((prefix, kind, guarded))
        elif chars is not None and all(c in _ALNUM for c in chars):
            for c in chars:
                out.add((prefix + c, _OPEN if len(prefix) + 1 < _MAX_START else _PREFIX,
                         guarded))
        elif prefix:
            ends = chars is not None and all(len(c) == 1 and not c.isalnum() for c in chars)
            out.add((prefix, _WORD if ends else _PREFIX, guarded))
        elif chars is not None and all(_is_symbol(c) for c in chars):
            out.update((c, _SYMBOL, True) for c in chars)
        else:
            raise _NoStart
    return out


def _walk(items: Any, heads: _Heads) -> _Heads:
    """The ways a match may start after the pattern items ``items``, from ``heads``."""
    for op, av in items:
        if len(heads) > _MAX_HEADS // 8:
            heads = _close(heads)
        if op is _C.AT:
            if av is _C.AT_BOUNDARY:   # before a letter a word starts; after one it ends
                heads = {(p, _WORD if p and k == _OPEN else k, g or not p) for p, k, g in heads}
        elif op is _C.ASSERT_NOT and _lookbehind_no_alnum(av):
            heads = {(p, k, g or not p) for p, k, g in heads}
        elif op is _C.ASSERT or op is _C.ASSERT_NOT:
            pass   # other lookarounds consume nothing
        elif op is _C.LITERAL:
            heads = _extend(heads, (chr(av).lower(),))
        elif op is _C.IN:
            heads = _extend(heads, _class_chars(av))
        elif op is _C.SUBPATTERN:
            heads = _walk(av[3].data, heads)
        elif op is _C.ATOMIC_GROUP:
            heads = _walk(av.data, heads)
        elif op is _C.BRANCH:
            heads = set().union(*(_walk(alt.data, heads) for alt in av[1]))
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            once = _close(_walk(av[2].data, heads))
            heads = once if av[0] > 0 else heads | once
        else:
            heads = _extend(heads, None)
        if len(heads) > _MAX_HEADS:
            raise _NoStart
    return heads


class _Starts:
    """Where matches of one pattern may start: at the start of a word that is one of
    ``words`` or begins with one of ``beginnings`` (lower case), or at one of ``symbols``."""

    def __init__(self, words: frozenset[str], beginnings: frozenset[str], symbols: str):
        self.words, self.beginnings, self.symbols = words, beginnings, symbols


def _pattern_starts(rx: re.Pattern[str]) -> _Starts | None:
    """Where matches of ``rx`` may start, read off the pattern; None when it does not say
    plainly (it may start inside a word, or at any capitalised word)."""
    try:
        heads = _walk(_parser.parse(rx.pattern, rx.flags).data, {("", _OPEN, False)})
    except (_NoStart, RecursionError):
        return None
    if any(not p or not g for p, _k, g in heads):
        return None
    beginnings = frozenset(p for p, k, _g in heads if k in (_OPEN, _PREFIX))
    if sum(len(p) == 1 and p.isalpha() for p in beginnings) > 3:
        return None   # "any capitalised word": scanning is as quick
    return _Starts(frozenset(p for p, k, _g in heads if k == _WORD), beginnings,
                   "".join(sorted(p for p, k, _g in heads if k == _SYMBOL)))


class _Scan:
    """The registered rule patterns and trigger tuples, and what each word says of them."""

    def __init__(self) -> None:
        self.rules: dict[int, tuple[re.Pattern[str], int, str]] = {}   # id -> (rx, id, symbols)
        self.word_rules: dict[str, set[int]] = {}
        self.beginning_rules: dict[str, set[int]] = {}
        self.trigger_bits: dict[str, int] = {}   # trigger of ASCII letters/digits -> its bit
        #: id(triggers) -> (triggers, bits of its letter/digit triggers, the others with the
        #: bits of the letters/digits each contains)
        self.triggers: dict[int, tuple[tuple[str, ...], int, tuple[tuple[str, int], ...]]] = {}

    def add_rules(self, *patterns: re.Pattern[str]) -> None:
        for rx in patterns:
            starts = _pattern_starts(rx)
            if starts is None or id(rx) in self.rules:
                continue
            rid = len(self.rules)
            self.rules[id(rx)] = (rx, rid, starts.symbols)
            for w in starts.words:
                self.word_rules.setdefault(w, set()).add(rid)
            for w in starts.beginnings:
                self.beginning_rules.setdefault(w, set()).add(rid)

    def _bit(self, t: str) -> int:
        return self.trigger_bits.setdefault(t, 1 << len(self.trigger_bits))

    def add_triggers(self, *tuples: tuple[str, ...]) -> None:
        for triggers in tuples:
            bits = 0
            other = []
            for t in triggers:
                if t and all(c in _ALNUM for c in t):
                    bits |= self._bit(t)
                else:   # found with str.find; not looked for when its longest word is absent
                    longest = max(_WORD_RUN.findall(t.lower()), key=len, default="")
                    other.append((t, self._bit(longest) if len(longest) > 2 else 0))
            self.triggers[id(triggers)] = (triggers, bits, tuple(other))

    def word(self, w: str, firsts: frozenset[str]) -> tuple[int, tuple[int, ...], bool] | bool:
        """The trigger bits in ``w``, the rules that may start at it and whether a needs
        phrase may start at it; False when none."""
        bits = 0
        for t, bit in self.trigger_bits.items():
            if t in w:
                bits |= bit
        rules = set(self.word_rules.get(w, ()))
        for n in range(1, min(len(w), _MAX_START) + 1):
            rules.update(self.beginning_rules.get(w[:n], ()))
        first = w in firsts
        return (bits, tuple(sorted(rules)), first) if bits or rules or first else False


_SCAN = _Scan()
_EMPTY: tuple[()] = ()


def _find_all(text: str, sub: str) -> list[int]:
    at = []
    i = text.find(sub)
    while i >= 0:
        at.append(i)
        i = text.find(sub, i + 1)
    return at


class _Doc:
    """One text (the name, the description or a tag) being read."""

    def __init__(self, text: str, source: str, reader: _NeedReader):
        self.text = text
        self.source = source
        self.low = low = text.lower()
        self.sentence_starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
        self.scopes: list[tuple[int, int]] = []
        self.claimed: dict[str, list[tuple[int, int]]] = {}
        self._spans: dict[Any, list[tuple[int, int]]] = {}
        #: Where each rule may start (None: scan the text), the trigger bits of each
        #: sentence and of the whole text, and where a needs phrase may start.
        self.starts: dict[int, list[int]] | None = None
        self.marks: list[int] = []
        self.bits = 0
        self.need_starts: list[int] | None = None
        if len(low) == len(text) and (text.isascii() or not (
                _ODD_CASE.search(text) or _ODD_DIGIT.search(text))):
            self._index(reader)
        self.masked = text
        found = self.iter(_BENIGN, _BENIGN_TRIGGERS, text)
        if found:
            parts: list[str] = []
            last = 0
            for m in found:
                parts.append(text[last:m.start()])
                parts.append(" " * (m.end() - m.start()))
                last = m.end()
            parts.append(text[last:])
            self.masked = "".join(parts)

    def _index(self, reader: _NeedReader) -> None:
        """One pass over the words: trigger bits per sentence, where each rule may start."""
        starts: dict[int, list[int]] = {}
        needs: list[int] = []
        bounds = self.sentence_starts
        marks = [0] * len(bounds)
        k = 0
        nxt = bounds[1] if len(bounds) > 1 else len(self.low) + 1
        known = reader.words
        if len(known) > 200_000:
            known.clear()
        firsts = reader.first_forms or frozenset()
        for m in _WORD_RUN.finditer(self.low):
            w = m.group()
            got = known.get(w)
            if got is None:
                got = known[w] = _SCAN.word(w, firsts)
            if got:
                bits, rules, first = got
                p = m.start()
                if bits:
                    while p >= nxt:
                        k += 1
                        nxt = bounds[k + 1] if k + 1 < len(bounds) else len(self.low) + 1
                    marks[k] |= bits
                for r in rules:
                    at = starts.get(r)
                    if at is None:
                        starts[r] = [p]
                    else:
                        at.append(p)
                if first:
                    needs.append(p)
        self.starts = starts
        self.marks = marks
        for mark in marks:
            self.bits |= mark
        self.need_starts = needs if reader.first_forms is not None else None

    def spans(self, triggers: tuple[str, ...]) -> list[tuple[int, int]]:
        """The sentences that contain one of ``triggers`` (lower-case substrings), merged.

        Rules only read these sentences: a cheap ``str.find`` keeps the regular
        expressions off text that cannot match them."""
        key = id(triggers)
        got = self._spans.get(key)
        if got is not None:
            return got
        info = _SCAN.triggers.get(key)
        if self.starts is None or info is None or info[0] is not triggers:
            return self._find_spans(triggers)
        _, bits, other = info
        low = self.low
        starts = self.sentence_starts
        found: set[int] = set()
        for t, pieces in other:
            if self.bits & pieces != pieces:
                continue   # a letter or digit of it is nowhere in the text
            i = low.find(t)
            while i >= 0:
                k = bisect.bisect_right(starts, i) - 1
                found.add(k)
                nxt = starts[k + 1] if k + 1 < len(starts) else len(low)
                i = low.find(t, max(nxt, i + 1))
        got = []
        if self.bits & bits or found:
            n = len(starts)
            for k, mark in enumerate(self.marks):
                if mark & bits or k in found:
                    s = starts[k]
                    e = starts[k + 1] if k + 1 < n else len(self.text)
                    if got and got[-1][1] == s:
                        got[-1] = (got[-1][0], e)
                    else:
                        got.append((s, e))
        self._spans[key] = got
        return got

    def _find_spans(self, triggers: tuple[str, ...]) -> list[tuple[int, int]]:
        """:meth:`spans` by searching the text for each trigger."""
        got = self._spans.get(triggers)
        if got is not None:
            return got
        if len(self.low) != len(self.text):   # lower() changed offsets: read everything
            got = [(0, len(self.text))]
        else:
            starts = self.sentence_starts
            found: set[int] = set()
            for t in triggers:
                i = self.low.find(t)
                while i >= 0:
                    k = bisect.bisect_right(starts, i) - 1
                    found.add(k)
                    nxt = starts[k + 1] if k + 1 < len(starts) else len(self.low)
                    i = self.low.find(t, max(nxt, i + 1))
            got = []
            for k in sorted(found):
                s = starts[k]
                e = starts[k + 1] if k + 1 < len(starts) else len(self.text)
                if got and got[-1][1] == s:
                    got[-1] = (got[-1][0], e)
                else:
                    got.append((s, e))
        self._spans[triggers] = got
        return got

    def _where(self, rx: re.Pattern[str]) -> list[int] | None:
        """Where a match of ``rx`` may start, ascending; None when unknown (scan)."""
        rule = _SCAN.rules.get(id(rx))
        if self.starts is None or rule is None or rule[0] is not rx:
            return None
        where = self.starts.get(rule[1], [])
        if rule[2]:
            at = [i for c in rule[2] for i in _find_all(self.text, c)]
            if at:
                where = sorted(where + at)
        return where

    def iter(self, rx: re.Pattern[str], triggers: tuple[str, ...],
             text: str | None = None) -> Sequence[re.Match[str]]:
        """Matches of ``rx`` in the sentences containing one of ``triggers``: what
        ``rx.finditer`` finds in each run of those sentences."""
        where = self._where(rx)
        if where is not None and not where:
            return _EMPTY
        spans = self.spans(triggers)
        if not spans:
            return _EMPTY
        text = self.masked if text is None else text
        if where is None:
            return [m for s, e in spans for m in rx.finditer(text, s, e)]
        out = []
        match = rx.match
        i, n = 0, len(where)
        for s, e in spans:
            if where[i] < s:
                i = bisect.bisect_left(where, s, i)
            pos = s
            while i < n:
                p = where[i]
                if p >= e:
                    break
                i += 1
                if p >= pos:
                    m = match(text, p, e)
                    if m is not None:
                        out.append(m)
                        pos = m.end()
            if i >= n:
                break
        return out

    def search(self, rx: re.Pattern[str]) -> re.Match[str] | None:
        """``rx.search(self.masked)``."""
        where = self._where(rx)
        if where is None:
            return rx.search(self.masked)
        for p in where:
            m = rx.match(self.masked, p)
            if m is not None:
                return m
        return None

    def sentence(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.sentence_starts, pos) - 1
        start = self.sentence_starts[i]
        end = self.sentence_starts[i + 1] if i + 1 < len(self.sentence_starts) else len(self.text)
        return start, end

    def clause_start(self, pos: int) -> int:
        start, _ = self.sentence(pos)
        last = start
        for m in _CLAUSE_END.finditer(self.masked, start, pos):
            if m.group(0)[:1] != ",":
                last = m.end()
        return last

    def clause_end(self, pos: int) -> int:
        m = _CLAUSE_END.search(self.masked, pos)
        return m.start() if m else len(self.text)

    def sentence_start(self, pos: int) -> int:
        """Where the sentence holding ``pos`` starts."""
        return self.sentence_starts[bisect.bisect_right(self.sentence_starts, pos) - 1]

    def sentence_end(self, pos: int) -> int:
        """Where the sentence holding ``pos`` ends."""
        m = _SENTENCE_END.search(self.text, pos)
        return m.start() if m else len(self.text)

    def in_scope(self, pos: int) -> bool:
        return any(s <= pos < e for s, e in self.scopes)

    def claim(self, kind: str, start: int, end: int) -> bool:
        """Reserve ``[start, end)`` for one kind of rule; False if it overlaps a claim."""
        spans = self.claimed.setdefault(kind, [])
        if any(s < end and start < e for s, e in spans):
            return False
        spans.append((start, end))
        return True

    def quote(self, start: int, end: int) -> str:
        """The words at ``[start, end)``, trimmed to whole words within 120 characters."""
        q = self.text[start:end]
        if len(q) > _MAX_QUOTE:
            q = q[:_MAX_QUOTE]
            cut = q.rfind(" ")
            if cut > _MAX_QUOTE // 2:
                q = q[:cut]
        return q.strip(" ,;:")

    def fact(self, field: str, value: Any, start: int, end: int, confidence: str,
             kind: str = "") -> Fact:
        q = self.quote(start, end) or self.text[start:end][:_MAX_QUOTE]
        return Fact(field, value, q, self.source, confidence, kind)


# ---------------------------------------------------------------------------------------------
# Needs: the vocabulary's text phrases, found by a first-word pre-filter and longest match
# ---------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019\u2018`\u00b4][^\W_]+)*|[,;/&+\n]")
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`\u00b4")
_SEPARATOR_FOR = {"&": "and", "+": "/", "\n": ";"}


def _trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, factored as a character trie (fast in ``re``)."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            body = "(?:" + body + ")?"
        return body

    return build(trie)


class _NeedReader:
    """Finds the vocabulary's needs in running text, with their character spans.

    The phrase tables are the vocabulary's own (the same ones ``find_in_text`` scans);
    when a vocabulary does not expose them, the needs' public synonyms are used.
    """

    def __init__(self, vocab: Vocabulary):
        tables = _vocab_phrase_tables(vocab)
        if tables is not None:
            self.ci: dict[str, tuple[str, ...]] = dict(tables[0])
            self.cs: dict[str, tuple[str, ...]] = dict(tables[1])
        else:   # pragma: no cover - vocabularies without a text scanner
            self.ci, self.cs = {}, {}
            for nid, need in vocab.needs.items():
                for s in need.synonyms:
                    key = " ".join(self._tokens(s))
                    if s.isupper() and len(s) <= 5:
                        self.cs[key] = (nid,)
                    else:
                        self.ci[key.lower()] = (nid,)
        self.max_len = max((k.count(" ") + 1 for k in [*self.ci, *self.cs]), default=1)
        self.ci_prefixes = {" ".join(k.split(" ")[:j]) for k in self.ci
                            for j in range(1, k.count(" ") + 1)}
        self.cs_prefixes = {" ".join(k.split(" ")[:j]) for k in self.cs
                            for j in range(1, k.count(" ") + 1)}
        firsts = {k.split(" ")[0].lower() for k in [*self.ci, *self.cs]}
        self.first_re = re.compile(
            r"(?<![^\W_])(?:" + _trie_regex(firsts) + r")s?(?![^\W_])", _I)
        # ``first_re`` matches whole words only: the lower-cased words it can match, so that
        # a text's word list (see ``_Doc``) says where to try it. None when a first word is
        # not plain ASCII letters and digits (then the text is scanned).
        self.first_forms: frozenset[str] | None = None
        if all(f and all(c in _ALNUM for c in f) for f in firsts):
            self.first_forms = frozenset(firsts | {f + "s" for f in firsts})
        #: What each word of a text says (see ``_Scan.word``), worked out once per word.
        self.words: dict[str, tuple[int, tuple[int, ...], bool] | bool] = {}

    @staticmethod
    def _tokens(text: str) -> list[str]:
        return [_SEPARATOR_FOR.get(t, t.translate(_APOSTROPHES)) for t in _TOKEN_RE.findall(text)]

    def find(self, text: str, start: int = 0, end: int | None = None,
             where: Sequence[int] | None = None) -> list[tuple[int, int, tuple[str, ...]]]:
        """``(start, end, need ids)`` of each phrase in ``text[start:end]``, longest first.

        ``where``: the positions (ascending) where ``first_re`` may match, when known."""
        end = len(text) if end is None else end
        out: list[tuple[int, int, tuple[str, ...]]] = []
        pos = start
        ci, cs = self.ci, self.cs
        ci_prefixes, cs_prefixes, max_len = self.ci_prefixes, self.cs_prefixes, self.max_len
        token = _TOKEN_RE.search
        separator = _SEPARATOR_FOR.get
        if where is None:
            firsts: Iterable[int] = (m.start() for m in self.first_re.finditer(text, start, end))
        else:
            match = self.first_re.match
            firsts = [p for p in where if start <= p < end and match(text, p, end)]
        for first in firsts:
            if first < pos:
                continue
            low_key = exact_key = ""
            best: tuple[int, tuple[str, ...]] | None = None
            n, at = 0, first
            while (t := token(text, at, end)) is not None:   # the tokens from ``first`` on
                n += 1
                at = t.end()
                raw = t.group()
                word = separator(raw) or raw.translate(_APOSTROPHES)
                low_key = word.lower() if n == 1 else f"{low_key} {word.lower()}"
                exact_key = word if n == 1 else f"{exact_key} {word}"
                hit = ci.get(low_key) or cs.get(exact_key)
                if hit is None and len(word) > 3 and word.endswith("s"):   # plural
                    hit = ci.get(low_key[:-1]) or cs.get(exact_key[:-1])
                if hit is not None:
                    best = (at, hit)
                if n >= max_len or (low_key not in ci_prefixes
                                    and exact_key not in cs_prefixes):
                    break
            if best is not None:
                out.append((first, best[0], best[1]))
                pos = best[0]
        return out


def _vocab_phrase_tables(vocab: Vocabulary) -> tuple[dict[str, tuple[str, ...]],
                                                     dict[str, tuple[str, ...]]] | None:
    """The vocabulary's own phrase tables for running text: ``(case-insensitive,
    case-sensitive)`` phrase -> need ids, or None when it has none.

    These live on the vocabulary's private text scanner (``Vocabulary._scan_text``, the
    tables ``find_in_text`` uses): this helper is the one place that reads them, so that
    the reading step and ``find_in_text`` find the same phrases."""
    scanner = getattr(vocab, "_scan_text", None)
    if scanner is None or not hasattr(scanner, "ci"):
        return None
    return scanner.ci, scanner.cs


_READERS: dict[int, tuple[Vocabulary, _NeedReader]] = {}


def _reader(vocab: Vocabulary) -> _NeedReader:
    got = _READERS.get(id(vocab))
    if got is None or got[0] is not vocab:
        got = (vocab, _NeedReader(vocab))
        _READERS[id(vocab)] = got
    return got[1]


# ---------------------------------------------------------------------------------------------
# Exclusions: a negation cue and its scope
# ---------------------------------------------------------------------------------------------

_NEG_VERBS = (r"(?:support|accept|offer|provide|cater|help|work|see|take|treat|admit|cover|"
              r"serve|deliver|meet|accommodate|diagnose|assess|include|enrol|register|place|"
              r"apply)\w*")
_EXCLUSION_CUES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rx, _I), conf) for rx, conf in (
        # "not suitable for", "is not the right setting for", "not designed for"
        (r"\b(?:not|isn['\u2019]t|aren['\u2019]t)\s+(?:\w+\s+){0,2}?(?:suitable|appropriate|"
         r"designed|intended|eligible|the\s+right\s+\w+|able\s+to\s+" + _NEG_VERBS + r")"
         r"(?:\s+(?:for|to|with))?\b", "certain"),
        (r"\bunsuitable\s+for\b|\bineligible\b", "certain"),
        # "cannot offer", "we do not accept referrals for", "unable to support", "no longer see"
        (r"\b(?:cannot|can['\u2019]t|can\s+not|do\s+not|does\s+not|don['\u2019]t|"
         r"doesn['\u2019]t|will\s+not|won['\u2019]t|unable\s+to|no\s+longer|not\s+currently)"
         r"\s+(?:\w+\s+){0,2}?" + _NEG_VERBS + r"\b(?:\s+(?:for|with|to))?", "certain"),
        (r"\bnot\s+(?:currently\s+)?(?:accepting|taking|offering|providing|supporting|open\s+"
         r"(?:(?:meetings?|sessions?|events?|groups?|days?|classes|clubs?)\s+)?to|"
         r"available\s+(?:to|for)|aimed\s+at)\b", "certain"),
        (r"\bno\s+(?:referrals|places|service|support)\s+(?:for|to)\b", "certain"),
        (r"\bexcluding\b|\bwith\s+the\s+exception\s+of\b", "certain"),
        (r"\bnot\s+for\b|\bexcept(?:\s+for)?\b|\bapart\s+from\b|\bother\s+than\b", "likely"),
    )
)
_GROUP_UNDER = re.compile(
    rf"\b(?:under|below|younger\s+than)[\s-]+(?:the\s+age\s+of\s+|age\s+|aged\s+)?{_n('n')}",
    _I)
_GROUP_OVER = re.compile(
    rf"\b(?:over|above|older\s+than)[\s-]+(?:the\s+age\s+of\s+|age\s+)?{_n('n')}"
    rf"|{_n('m')}\s*(?:\+|(?:years?\s+)?(?:and|or)\s+(?:over|above|older))", _I)
_GROUP_NON_RESIDENT = re.compile(
    r"\bnon[- ]?residents?\b|\boutside\s+(?:of\s+)?(?:the\s+|our\s+|this\s+)?(?:borough|area|"
    r"county|city|district|region|catchment|local\s+authority|[A-Z])|\bout[- ]of[- ](?:area|"
    r"borough|county|city)\b|\b(?:do|does)\s+not\s+live\b|\bdon['\u2019]t\s+live\b"
    r"|\bnot\s+(?:living|resident|registered)\b|\bliving\s+outside\b", _I)
#: The object of a refusal: its first words (up to two more before it: "not suitable for
#: very young children"), not a word further on ("does not apply to help given by children").
_OBJECT = r"\s*(?:[\w'\u2019-]+\s+){0,2}?"
_GROUP_ADULTS = re.compile(rf"{_OBJECT}(?:\badults?\b|\bover[- ]18s\b)", _I)
_GROUP_CHILDREN = re.compile(
    rf"{_OBJECT}\b(?:children|child|young\s+people|kids|minors|under[- ]18s)\b", _I)


#: Who a refusal names when no need, age or area does: a group of people by what they are
#: ("members of the public", "patients who are detained under ...", "professionals"), after any
#: "referrals for" or "places for". ``more`` is what qualifies the group ("who ...", "with ...",
#: "already ...", "of the public"): a bare "children" or "adults" is an age instead.
_GROUP_HEAD = (r"people|persons?|patients?|clients?|individuals|anyone|anybody|those|children|"
               r"adults|young\s+people|famil(?:y|ies)|residents|members(?:\s+of\s+the\s+public)?|"
               r"(?:the\s+)?general\s+public|the\s+public|professionals|practitioners|pupils|"
               r"students|learners|service\s+users|users|parents|carers|men|women|babies|visitors|"
               r"organisations|agencies|businesses")
_GROUP_NAMED = re.compile(
    r"\s*(?:(?:new\s+)?(?:referrals?|places?|applications?|bookings?)\s+(?:for|from)\s+)?"
    rf"(?P<what>(?:(?:any|all|the|new|current|existing)\s+)?(?:{_GROUP_HEAD})\b"
    r"(?P<more>\s+(?:who|whose|with|already|currently|detained|living|under\s+(?!\d)|on|in\s+"
    r"(?:receipt|hospital|crisis|prison|custody)|aged?\s+(?!\d)|of\s+the\s+public)\b[^.;:()]*)?)",
    _I)
#: A negation inside a condition ("if you do not have a GP", "when they are not able to"):
#: the sentence's words before the cue open an if-, when- or unless- clause not yet closed.
_CONDITION_BEFORE = re.compile(r"\b(?:if|when|whenever|unless|in\s+case)\b[^,;.]*$", _I)
#: After a need's words, the name of a law ("the Mental Health Act").
_ACT_AFTER = re.compile(r"\s+Act\b")
#: A circumstance a refusal names: "not suitable if you are pregnant", "not intended to be used
#: where you have a deterioration in your symptoms", "not appropriate when someone is at risk".
_CIRCUMSTANCE = re.compile(
    r"\s*(?:(?:to\s+)?(?:be\s+)?used\s+|for\s+use\s+)?(?:where|if|when|while|whilst)\s+"
    r"(?P<what>(?:you|they|someone|anyone|the\s+person|your\s+child|a\s+child|the\s+child|"
    r"people|a\s+person)\s+(?:are|is|have|has|need|needs|require|requires)\b[^.;:()]*)", _I)


def _slug(words: str) -> str:
    """A plain-words value for a group a refusal names, as a label writes one."""
    tokens = re.findall(r"[a-z0-9]+", words.lower())
    return "_".join(tokens[:10])


_T_EXCLUDE = ("not", "n't", "n\u2019t", "unable", "no ", "unsuitable", "ineligible", "except",
              "excluding", "apart from", "other than")


def _exclusions(doc: _Doc, reader: _NeedReader, out: list[Fact]) -> None:
    text = doc.masked
    cues: list[tuple[int, int, str]] = []
    for rx, conf in _EXCLUSION_CUES:
        for m in doc.iter(rx, _T_EXCLUDE):
            if not any(s <= m.start() < e for s, e, _ in cues):
                cues.append((m.start(), m.end(), conf))
    cues.sort()
    for start, cue_end, conf in cues:
        if _CONDITION_BEFORE.search(text, doc.sentence_start(start), start):
            continue   # "If you don't see a group near you": a condition, not a refusal
        end = doc.clause_end(cue_end)
        if end <= cue_end:
            continue
        doc.scopes.append((start, end))
        values: list[str] = []
        weak_only = True
        for _s, e, target in reader.find(doc.text, cue_end, end):
            if _ACT_AFTER.match(text, e):
                continue   # "detained under the Mental Health Act": a law's name, not a need
            values.extend(t for t in target if t not in values)
            weak_only = False
        explicit_age = False
        for m in _GROUP_UNDER.finditer(text, cue_end, end):
            n = _num(m.group("n"))
            if 0 < n < 100:
                values.append(f"under_{n}")
                out.append(doc.fact("min_age", n, start, end, conf))
                explicit_age, weak_only = True, False
        for m in _GROUP_OVER.finditer(text, cue_end, end):
            n = _num(m.group("n") or m.group("m"))
            if 0 < n < 100:
                values.append(f"over_{n}")
                out.append(doc.fact("max_age", n - 1, start, end, conf))
                explicit_age, weak_only = True, False
        if _GROUP_NON_RESIDENT.search(text, cue_end, end):
            values.append("non_residents")
            weak_only = False
        if not values and not explicit_age:
            group = _GROUP_NAMED.match(text, cue_end, end)
            if not group and conf == "certain":
                # a circumstance runs on past "if you" to the sentence's end
                group = _CIRCUMSTANCE.match(text, cue_end, doc.sentence_end(cue_end))
                if group:
                    end = group.end()
            # A qualified group or a circumstance is quoted as it is; a bare "children" or
            # "adults" is an age; any other group goes with what the clause says of it
            # ("anyone held under ...").
            qualified = group is not None and (group.re is _CIRCUMSTANCE or group["more"])
            if not qualified and _GROUP_ADULTS.match(text, cue_end, end):
                values.append("over_18")
            elif not qualified and _GROUP_CHILDREN.match(text, cue_end, end):
                values.append("under_18")
            elif group:
                values.append(_slug(text[group.start("what"):end]))
                weak_only = False
        if values:
            out.append(doc.fact("excludes", list(dict.fromkeys(values)), start, end,
                                "likely" if weak_only else conf))


# ---------------------------------------------------------------------------------------------
# Ages
# ---------------------------------------------------------------------------------------------

_AGE_CONTEXT = re.compile(
    rf"\b(?:aged?|ages|age\s+(?:guidance|range|limit|group)|{_PEOPLE})\s*(?:\w+\s+)?[:(]?\s*$", _I)
_AGE_AFTER = re.compile(r"\s*(?:only|years?\b|yrs?\b|year[\s-]olds?)", _I)
_OTHERS_OF = re.compile(
    r"\b(?:parents?|carers?|parent[- ]carers?|mums?|dads?|mothers?|fathers?|grandparents?|"
    r"guardians?)(?:\s*(?:,|and|/|&|or)\s*(?:parents?|carers?|guardians?|grandparents?))*"
    r"\s+(?:of|with|whose|who\s+have|caring\s+for|looking\s+after|raising|expecting)\b", _I)
_TOGETHER = re.compile(r"\b(?:and|with|alongside)\s+(?:their|your|the)\s+(?:child|children|"
                       r"babies|baby|toddlers?|little\s+ones|young\s+people)\b", _I)
_COST_BEFORE = re.compile(
    r"(?:\bfree|\u00a3\s?\d+(?:\.\d\d)?|\bconcessions?|\bdiscounts?|\bcharge)\s+(?:for|to)\s+"
    r"(?:\w+\s+)?$", _I)
_DURATION_BEFORE = re.compile(
    r"\b(?:for|over|within|lasting|lasts?|takes?|in|every|after|before|than|about|around|"
    r"approximately|of|up)\s*$", _I)

# kind: "range" (lo, hi), "min" (lo), "max" (hi), "under" (0 .. hi-1), "below" (.. hi-1),
# "year" (school years lo..hi), "upto" (max hi, needs age words), "ctx" prefix = needs context
_AGE_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(rx, _I), kind, conf) for rx, kind, conf in (
        (rf"\b(?:{_PEOPLE})\s+(?:aged\s+|age\s+|ages\s+|from\s+|between\s+|of\s+|"
         rf"\(\s*(?:aged\s+|ages\s+)?)?(?:from\s+|between\s+)?{_n('lo')}(?:{_DASH}|\s+and\s+)"
         rf"{_n('hi')}{_YEARS}{_NOT_AGE}", "range", "certain"),
        (rf"\b(?:aged?|ages|age\s+range|age\s+groups?)\s*:?\s*(?:from\s+|between\s+)?{_n('lo')}"
         rf"(?:{_DASH}|\s+and\s+){_n('hi')}{_YEARS}{_NOT_AGE}", "range", "certain"),
        (rf"\bfrom\s+(?:the\s+age\s+of\s+|age\s+|aged\s+){_n('lo')}(?:{_DASH}"
         rf"(?:(?:the\s+)?age\s+(?:of\s+)?)?{_n('hi')})?", "range", "certain"),
        (rf"{_n('lo')}{_DASH}{_n('hi')}\s*-?\s*(?:years?|yrs?)[\s-]*olds?\b", "range", "certain"),
        (rf"{_n('lo')}\s*(?:-|\u2013|to)\s*{_n('hi')}\s*{_AP}?s\b", "range", "certain"),
        (rf"\b(?:from\s+)?(?:birth|pre-?birth)\s*(?:-|\u2013|to|until|up\s+to)\s*"
         rf"(?:the\s+age\s+of\s+|age\s+|aged\s+)?{_n('hi')}{_NOT_AGE}", "birth", "certain"),
        (r"\bfrom\s+birth\b", "from_birth", "certain"),
        (rf"\b(?:from\s+)?{_n('lo')}\s*(?:years?\s+)?of\s+age\s+(?:and|or)\s+(?:up(?:wards?)?|over|"
         r"above|older)\b|\bfrom\s+(?:the\s+age\s+of\s+)?" + _n("lo2") + r"\s*years?\s+of\s+age\b",
         "min", "certain"),
        (rf"{_n('lo')}{_DASH}{_n('hi')}\s+(?:(?:mainstream|special|state|independent|community)"
         r"\s+)?(?:secondary|primary|middle|upper|first|junior|infant|special|all[\s-]through)\s+"
         r"(?:schools?|academy|academies|college|phase)\b", "range", "certain"),
        (rf"\bunder[\s-]?{_n('hi')}\s*{_AP}?s\b", "under", "certain"),
        (rf"\bover[\s-]?{_n('lo')}\s*{_AP}?s\b", "min", "certain"),
        (rf"\b(?:under|below|younger\s+than)\s+(?:the\s+age\s+of\s+|age\s+){_n('hi')}",
         "below", "certain"),
        (rf"\b(?:over|above|older\s+than)\s+(?:the\s+age\s+of\s+|age\s+){_n('lo')}",
         "min", "certain"),
        (rf"\b(?:under|below|younger\s+than)\s+{_n('hi')}{_YEARS}{_NOT_AGE}",
         "ctx_below", "certain"),
        (rf"\b(?:over|above|older\s+than)\s+{_n('lo')}{_YEARS}{_NOT_AGE}", "ctx_min", "certain"),
        (rf"{_n('lo')}\s*(?:years?\s*(?:old\s*)?|yrs?\s*)?(?:and|or|&)\s+(?:over|above|older|"
         rf"upwards?|up)\b", "ctx_min", "certain"),
        (rf"{_n('lo')}[\s-]*(?:years?|yrs?)[\s-]*olds?\s*(?:and|or|&)\s+(?:over|above|older|"
         rf"upwards?|up)\b", "min", "certain"),
        (rf"{_n('lo')}\s*(?:years?\s*|yrs?\s*)?\+(?!\s*(?:hours?|hrs?|years?\s+(?:of\s+)?experience|people|members|"
         rf"staff|sessions?|days?|weeks?|miles?|places?))", "ctx_min", "certain"),
        (rf"\bup\s+to\s+(?:(?:the\s+)?age(?:d)?\s+(?:of\s+)?)?{_n('hi')}{_YEARS}{_NOT_AGE}"
         r"(?!\s*(?:children|families|young|adults|pupils|students|participants|per|at\s+a))",
         "upto", "certain"),
        (rf"{_n('lo')}{_DASH}{_n('hi')}\s*(?:years|yrs)\b(?!\s+(?:of\s+)?(?:experience|"
         r"service|ago))", "ctx_range", "likely"),
    )
)
_SCHOOL_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(rx, _I), kind, conf) for rx, kind, conf in (
        (r"\b(?:school\s+)?(?:years?|yrs?|y(?=\d))\s*(?P<a>\d{1,2})(?:['\u2019]?s)?\s*(?:-|\u2013|to|"
         r"and|&|through)\s*(?:(?:years?|yrs?|y)\s*)?(?P<b>\d{1,2})(?:['\u2019]?s)?\b"
         r"(?!\s*(?:years?\s*)?olds?)",
         "years", "certain"),
        (r"\b(?P<first>reception|nursery|EYFS)\s*(?:-|\u2013|to|through)\s*(?:years?|yrs?|y)\s*"
         r"(?P<b>\d{1,2})\b", "from_first", "certain"),
        (r"\b(?:key\s+stages?|KS)\s*(?P<a>[1-5])(?:\s*(?:-|\u2013|to|and|&|,)\s*"
         r"(?:key\s+stages?\s*|KS\s*)?(?P<b>[1-5]))?\b", "ks", "certain"),
        (r"\b(?:school\s+)?year\s+(?P<a>\d{1,2})\b(?!\s*(?:-|\u2013|to|and|&)\s*\d)"
         r"(?!\s*(?:years?\s*)?olds?)", "year", "likely"),
    )
)
#: Right after school years or key stages, the ages in brackets: "Years 7 to 11 (ages 11-16)".
_AGES_IN_BRACKETS = re.compile(
    rf"\s*\(\s*(?:ages?d?\s+)?{_n('lo')}{_DASH}{_n('hi')}{_YEARS}\s*\)", _I)
_KEY_STAGES = {1: (5, 7), 2: (7, 11), 3: (11, 14), 4: (14, 16), 5: (16, 18)}
_FIRST_YEAR_AGE = {"reception": 4, "nursery": 3, "eyfs": 0}
_PHASES: tuple[tuple[re.Pattern[str], int | None, int | None], ...] = tuple(
    (re.compile(rx, _I), lo, hi) for rx, lo, hi in (
        (r"\bprimary[\s-](?:school[\s-]?)?(?:aged?|children|pupils|kids|learners|phase|years)\b"
         r"|\bprimary\s+(?:schools?|academy|academies)\b|\b(?:in|at|attending)\s+primary\b", 4, 11),
        (r"\bsecondary[\s-](?:school[\s-]?)?(?:aged?|children|pupils|kids|learners|phase|"
         r"students|years)\b|\bsecondary\s+schools?\b|\b(?:in|at|attending)\s+secondary\b",
         11, 16),
        (r"\bsixth[\s-]form(?:ers?)?\b", 16, 18),
        (r"\bpost[\s-]?16\b", 16, None),
        (r"\breception[\s-](?:class(?:es)?|year|aged?|children|pupils)\b"
         r"|\b(?:in|into|starting)\s+reception\b", 4, 5),
        (r"\bpre-?school(?:ers|[\s-]aged?|\s+children)\b", 2, 4),
        # A pre-school or nursery school takes children until they start school at 4 or 5.
        (r"\bpre-?schools?\b(?![\s-](?:aged?|children|ers)\b)|\bnursery\s+schools?\b", None, 4),
        (r"\bbabies\b|\binfants\b|\bnew-?borns?\b|\bbaby\s+(?:and|&)\s+(?=toddler)"
         r"|\bbaby\s+(?:groups?|classes|sensory|massage|yoga|signing|music)\b", 0, 1),
        (r"\btoddlers?\b", 1, 3),
        (r"\bteen(?:ager)?s\b|\badolescents?\b", 13, 19),
        (r"\bearly\s+years\b", 0, 5),
    )
)


def _others_before(doc: _Doc, pos: int) -> re.Match[str] | None:
    """The last "parents of" / "carers of" before ``pos`` in its clause, unless the clause
    brings the children along ("parents and their children aged 0-5")."""
    start = doc.clause_start(pos)
    before = doc.masked[start:pos]
    m = None
    for m in _OTHERS_OF.finditer(before):  # noqa: B007 - the last one counts
        pass
    if m is None or _TOGETHER.search(before, m.end()):
        return None
    return m


def _age_facts(doc: _Doc, lo: int | None, hi: int | None, start: int, end: int,
               conf: str, out: list[Fact], kind: str = "") -> None:
    if lo is not None and not 0 <= lo <= 99 or hi is not None and not 0 <= hi <= 99:
        return
    if lo is not None and hi is not None and lo > hi:
        return
    if doc.in_scope(start):
        return
    if _COST_BEFORE.search(doc.masked, max(0, start - 25), start):
        return   # "free for under 5s" says who pays, not who the service is for
    if _SUPERVISION_AFTER.match(doc.masked, end):
        return   # "under 16s must be accompanied by an adult": a condition, not who it is for
    if not doc.claim("age", start, end):
        return
    if kind != "all_ages" and _ALSO_RUN_BEFORE.search(doc.masked, doc.clause_start(start), start):
        conf = "likely"   # "we also run youth clubs for teens": another offer's ages
    # "for parents of children aged 0-5": the ages are the children's, not the service's.
    m = _others_before(doc, start)
    if m is not None:
        out.append(doc.fact("child_ages", (lo, hi), m.start() + doc.clause_start(start), end,
                            conf, kind))
        return
    if kind == "" and _stated_line(doc, start, end):
        kind = "line"   # "Age: 6 months to 2 years" on a line of its own: a field, in words
    if lo is not None:
        out.append(doc.fact("min_age", lo, start, end, conf, kind))
    if hi is not None:
        out.append(doc.fact("max_age", hi, start, end, conf, kind))


#: A line's label naming its ages, as a form would: "Age:", "Ages -", "Age range:".
_AGE_LINE_LABEL = re.compile(
    r"\s*(?:[-*\u2022]\s*)?(?:age|ages|age\s+range|age\s+group|age\s+guidance|suitable\s+for)"
    r"\s*[:\u2013-]?\s*", _I)
#: After ages on such a line: nothing but "years old", an aside in brackets, punctuation.
_AGE_LINE_REST = re.compile(
    r"\s*(?:years?|yrs?)?(?:[\s-]*olds?)?(?:\s*\([^()\n]{0,30}\))?[\s.;,!]*", _I)


def _stated_line(doc: _Doc, start: int, end: int) -> bool:
    """Whether the ages at ``[start, end)`` of a description stand on a line of their own,
    with at most a label before ("Age: 5 to 11", "12 months - 3 years old"): the record's
    own statement of its ages, as a form field would give them."""
    if doc.source != "description" or "\n" not in doc.text:
        return False
    text = doc.masked
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    before = text[line_start:start]
    return (not before.strip(" \t-*\u2022") or _AGE_LINE_LABEL.fullmatch(before) is not None) and \
        _AGE_LINE_REST.fullmatch(text, end, line_end) is not None


#: Before an age, words naming another offer of the same provider: "We also run a youth club
#: for teens", "The centre also offers holiday clubs for 8-12s".
_ALSO_RUN_BEFORE = re.compile(
    r"\b(?:also|additionally|separately)\s+(?:run|runs|offer|offers|provide|provides|have|has|"
    r"host|hosts|organise|organises|organize|organizes|deliver|delivers|hold|holds)\b", _I)
#: After an age, words making it a condition of attending (or of a way in) rather than who a
#: service is for.
_SUPERVISION_AFTER = re.compile(
    rf"\s*(?:{_AP}?s\b)?\s*\)?\s*(?:(?:must|need\s+to|needs\s+to|should|have\s+to|will\s+need\s+to)"
    r"\s+be\s+(?:accompanied|supervised)|(?:need|needs|require|requires|must\s+have)\s+"
    r"(?:an?\s+)?(?:adult|parental|parent(?:/carer)?)\s+(?:supervision|consent|present)"
    r"|(?:are\s+)?(?:to\s+be\s+)?accompanied\s+by"
    # "young people aged 14+ can self-refer": who may use one route in, not who it is for
    r"|(?:can|may|are\s+able\s+to|are\s+welcome\s+to)\s+(?:also\s+)?(?:self[\s-]?refer|"
    r"refer\s+themselves|make\s+(?:their\s+own|a\s+self)[\s-]?referrals?|"
    r"(?:attend|come|visit)\s+(?:alone|unaccompanied|on\s+their\s+own|by\s+themselves|"
    r"without\s+(?:an?\s+)?(?:adult|parent|carer))))", _I)
#: "for all ages", "all age groups", "young and old": no age limit (not "children of all ages").
_ALL_AGES = re.compile(
    r"(?<!children\s)(?<!young\speople\s)(?<!pupils\s)(?<!kids\s)"
    r"(?<!children\sof\s)(?<!young\speople\sof\s)(?<!pupils\sof\s)(?<!kids\sof\s)"
    r"\b(?:all|any|every)\s+ages?(?:\s+groups?)?\b|\ball[\s-]age\s+groups?\b"
    r"|\byoung\s+and\s+old\b|\bold\s+and\s+young\b", _I)
#: Who a service is for, naming children and adults alike: "for everyone - adults, young
#: people and children", "open to children, young people and adults", "welcomes kids and
#: grown-ups": every age.
_YOUNG_RX = r"(?:children|kids|young\s+people|babies|teenagers)"
_GROWN_RX = r"(?:adults|grown[\s-]?ups|older\s+people)"
_ADULTS_AND_CHILDREN = re.compile(
    rf"\b(?:for|open\s+to|welcomes?|welcoming)\s+(?:(?:everyone|everybody|all)\b[^.;:\n]{{0,30}}?"
    rf"(?:[-\u2013\u2014,:(]\s*)?)?(?:{_YOUNG_RX}(?:\s*(?:,|&|\band\b)\s*{_YOUNG_RX})*"
    rf"\s*(?:,|&|\band\b|\bas\s+well\s+as\b)\s*{_GROWN_RX}|{_GROWN_RX}(?:\s*(?:,|&|\band\b)\s*"
    rf"{_YOUNG_RX})+)\b", _I)
_T_ADULTS_AND_CHILDREN = ("adult", "grown", "older")
#: Before an age-group word: the words that make it the audience ("for toddlers and ...").
_PHASE_CUE = re.compile(
    rf"\b(?:{_STRONG_CUE_PLAIN}|ideal\s+for|suitable\s+for|welcomes?)\s+(?:(?:all|young|local|"
    r"the|our)\s+)?(?:[\w-]+\s*(?:,|/|&|\band\b|\bor\b)\s*){0,2}$", _I)
#: A short aside in brackets after an age: "six months (sitting)", "18 months (walking)".
_ASIDE = r"(?:\s*\([^()\n]{1,20}\))?"
#: "six weeks to five years", "6 months - 4 years", "12/18 months (walking) - three years old":
#: from the months given, as whole years (the first of "12/18 months").
_MONTHS_TO_YEARS = re.compile(
    rf"{_n('lo')}(?:/\d{{1,2}})?\s*(?P<unit>weeks?|months?)(?:\s+old)?{_ASIDE}{_DASH}{_n('hi')}"
    r"\s*(?:years?|yrs?)\b", _I)
#: "six months (sitting) up to 12/18 months (walking)", "birth to 13 months": both ends in
#: weeks or months, as whole years (the last of "12/18 months").
_MONTH_SPAN = re.compile(
    rf"(?:{_n('lo')}\s*(?P<unit>weeks?|months?)(?:\s+old)?{_ASIDE}|\b(?:from\s+)?birth)"
    rf"{_DASH}(?P<hi>\d{{1,2}}|{_WORDS_RX})(?:/(?P<hi2>\d{{1,2}}))?\s*(?:months?|mths?)\b", _I)
#: "(6-24 months)", "babies aged 0 to 12 months": ages in months, as whole years.
_MONTHS = re.compile(
    rf"(?<![\w\u00a3$:/.])(?P<lo>\d{{1,2}}){_DASH}(?P<hi>\d{{1,2}})\s*(?:months?|mths?)"
    r"(?:\s+old)?\b(?!\s+(?:course|programme|contract|membership|period|wait))", _I)
#: "aged 8 to 18 (or age 25 for those with a disability)": the oldest age, for some.
_OR_AGE = re.compile(
    rf"\bor\s+(?:up\s+to\s+)?(?:the\s+)?(?:age[sd]?\s+(?:of\s+)?|to\s+){_n('hi')}"
    r"(?:\s*(?:years?|yrs?))?\s+(?:for|with|if|when|where)\b", _I)

#: After "up to 25" without age words: "with SEND", "if ...", "for those ...", "(".
_UPTO_AFTER = re.compile(r"\s*(?:with|if|for\s+(?:those|young\s+people)|\()", _I)
_T_AGES = (*"0123456789", "aged", "ages", "year old", "year-old", "birth", "under", "over")
_T_MONTH_SPAN = ("month", "week")
_T_SCHOOL = ("year", "yr", "ks", "key stage", "reception", "nursery", "eyfs",
             *(f"y{d}" for d in range(1, 10)))
_T_ALL_AGES = ("all", "any", "every", "young", "old")
_T_PHASES = ("primary", "secondary", "sixth", "post", "reception", "school", "bab", "infant",
             "newborn", "new-born", "toddler", "teen", "adolescen", "early years")


def _ages(doc: _Doc, out: list[Fact]) -> None:
    text = doc.masked
    below: list[Fact] = []   # upper bounds from "under the age of 35": from 0 unless told
    if doc.spans(_T_AGES):
        found_range = False
        for rx, rule_kind, rule_conf in _AGE_RULES:
            for m in doc.iter(rx, _T_AGES):
                kind, conf = rule_kind, rule_conf
                g = m.groupdict()
                lo_word = g.get("lo") or g.get("lo2")
                lo = _num(lo_word) if lo_word else None
                hi = _num(g["hi"]) if g.get("hi") else None
                start, end = m.start(), m.end()
                if kind.startswith("ctx_"):
                    ctx = _AGE_CONTEXT.search(text, max(0, start - 40), start) is not None \
                        or _AGE_AFTER.match(text, end) is not None
                    if not ctx and kind == "ctx_range":
                        if _DURATION_BEFORE.search(text, max(0, start - 20), start):
                            continue
                    elif not ctx:
                        if kind != "ctx_min" or "+" not in m.group(0) and "over" not in \
                                m.group(0).lower():
                            continue
                        conf = "likely"
                    kind = kind[4:]
                if kind == "range":
                    if hi is not None and (lo is None or lo >= hi):
                        continue
                    found_range = True
                elif kind in ("birth", "from_birth"):
                    lo = 0
                elif kind == "under":
                    lo, hi = 0, (hi - 1 if hi else None)
                elif kind == "below":
                    hi = hi - 1 if hi else None
                elif kind == "upto":
                    words = m.group(0).lower()
                    if not ("age" in words or "year" in words or found_range
                            or _UPTO_AFTER.match(text[end:end + 30])):
                        continue
                n = len(out)
                _age_facts(doc, lo, hi, start, end, conf, out)
                if kind == "below":
                    below.extend(f for f in out[n:] if f.field == "max_age")
        for m in doc.iter(_MONTHS_TO_YEARS, _T_AGES):
            hi = _num(m.group("hi"))
            lo = 0 if m.group("unit").lower().startswith("week") else _num(m.group("lo")) // 12
            if hi > 0 and lo <= hi:
                _age_facts(doc, lo, hi, m.start(), m.end(), "certain", out)
        for m in doc.iter(_MONTH_SPAN, _T_MONTH_SPAN):
            start, end = m.start(), m.end()
            months = [_num(m.group("hi"))] + ([int(m.group("hi2"))] if m.group("hi2") else [])
            lo_months = 0 if not m.group("lo") or m.group("unit").lower().startswith("week") \
                else _num(m.group("lo"))
            said = m.group(0).lower().lstrip().startswith(("birth", "from")) or \
                _AGE_CONTEXT.search(text, max(0, start - 40), start) is not None or \
                _stated_line(doc, start, end)
            if said and 0 <= lo_months < max(months) <= 60:
                _age_facts(doc, lo_months // 12, max(months) // 12, start, end, "certain", out)
        for m in doc.iter(_MONTHS, _T_AGES):
            lo, hi = int(m.group("lo")), int(m.group("hi"))
            start, end = m.start(), m.end()
            said = m.group(0).lower().endswith("old") or (
                text[start - 1:start] == "(" and text[end:end + 1] == ")") or \
                _AGE_CONTEXT.search(text, max(0, start - 40), start) is not None
            if said and lo < hi <= 60:
                _age_facts(doc, lo // 12, hi // 12, m.start(), m.end(), "certain", out)
        if found_range:
            for m in doc.iter(_OR_AGE, _T_AGES):
                _age_facts(doc, None, _num(m.group("hi")), m.start(), m.end(), "certain", out)
    if doc.spans(_T_SCHOOL):
        for rx, kind, conf in _SCHOOL_RULES:
            for m in doc.iter(rx, _T_SCHOOL):
                g = m.groupdict()
                if kind == "ks":
                    a = int(g["a"])
                    b = int(g["b"]) if g.get("b") else a
                    if a > b:
                        continue
                    lo, hi = _KEY_STAGES[a][0], _KEY_STAGES[b][1]
                elif kind == "from_first":
                    b = int(g["b"])
                    if not 1 <= b <= 13:
                        continue
                    lo, hi = _FIRST_YEAR_AGE[g["first"].lower()], b + 5
                else:
                    a = int(g["a"])
                    b = int(g["b"]) if g.get("b") else a
                    if not 1 <= a <= b <= 13:
                        continue
                    lo, hi = a + 4, b + 5
                stated = _AGES_IN_BRACKETS.match(text, m.end())
                if stated is not None:
                    # "Years 9-13 (13-19)": the ages the record states beside the school years
                    # are what it says, not the years' usual ages.
                    lo, hi = _num(stated.group("lo")), _num(stated.group("hi"))
                    if lo >= hi:
                        continue
                    _age_facts(doc, lo, hi, m.start(), stated.end(), "certain", out)
                    continue
                _age_facts(doc, lo, hi, m.start(), m.end(), conf, out)
    if below and not any(f.field == "min_age" and f.source == doc.source for f in out):
        # "for young people under the age of 35" and no lower age: from birth.
        out.extend(Fact("min_age", 0, f.quote, f.source, f.confidence) for f in below)
    for rx, lo, hi in _PHASES:
        for m in doc.iter(rx, _T_PHASES):
            # An age-group word is the audience when it names the service ("Toddler group")
            # or follows "for" ("for babies and toddlers"); otherwise it is only likely.
            cue = doc.source == "name" or _PHASE_CUE.search(
                text, doc.clause_start(m.start()), m.start()) is not None
            if lo is None and not cue:
                continue   # "we visit pre-schools": a setting named, not who it is for
            _age_facts(doc, lo, hi, m.start(), m.end(), "certain" if cue else "likely", out,
                       "phase")
    for m in doc.iter(_ADULTS_AND_CHILDREN, _T_ADULTS_AND_CHILDREN):
        # "for everyone - adults, young people and children": every age is named.
        _age_facts(doc, 0, None, m.start(), m.end(), "certain", out, "all_ages")
    for m in doc.iter(_ALL_AGES, _T_ALL_AGES):
        _age_facts(doc, 0, None, m.start(), m.end(), "certain", out, "all_ages")


# ---------------------------------------------------------------------------------------------
# Audience, adults only, for parents
# ---------------------------------------------------------------------------------------------

_AUD_WORDS = (
    r"children\s+and\s+young\s+people|young\s+people|young\s+person|young\s+carers|"
    r"young\s+adults|care\s+leavers|children|child|kids|youngsters|youth|teenagers|teens|"
    r"students|pupils|learners|parent[\s-]carers?|parents?|foster\s+carers|kinship\s+carers|"
    r"carers?|mums|dads|mothers|fathers|grandparents|whole\s+famil(?:y|ies)|families|"
    r"family(?!\s+members?\b)|"
    r"professionals|practitioners|staff|sencos?|teachers|schools|older\s+(?:people|adults)|"
    r"adults?|grown[\s-]?ups|men|women|veterans"
)
_AUD_FALLBACK = {
    "kids": "children_young_people", "youngsters": "children_young_people",
    "learners": "children_young_people", "young adults": "adults", "grown ups": "adults",
    "grownups": "adults", "mothers": "parents_carers", "fathers": "parents_carers",
    "children and young people": "children_young_people",
}
_AUD_WORD_RE = re.compile(rf"\b(?:{_AUD_WORDS})\b", _I)
_MOD = r"(?!(?:with|who|whose|aged?|of|in|at|to|on|from|and|or|for|by)\b)[\w\u2019'-]+"
_LIST = (rf"(?:(?:{_MOD})\s+){{0,2}}(?:{_AUD_WORDS})\b(?:\s*(?:,|/|&|\band\b|\bor\b|\bplus\b)"
         rf"\s*(?:(?:{_MOD})\s+){{0,2}}(?:{_AUD_WORDS})\b)*")
_STRONG_CUE = _STRONG_CUE_PLAIN
_AUD_CUE = re.compile(
    rf"\b(?P<cue>{_STRONG_CUE}|available\s+to|available\s+for|suitable\s+for|supports?|"
    rf"supporting|helps?|helping|works?\s+with|working\s+with|serves?|serving|welcomes?|"
    rf"welcoming|offered\s+to|dedicated\s+to)\s+(?P<list>{_LIST})", _I)
_AUD_WITH = re.compile(
    r"\b(?P<who>adults?|young\s+adults|men|women|children|young\s+people|teenagers|pupils)"
    r"\s+(?:with|who\s+have|who\s+are|living\s+with|aged)\b", _I)
_PARENT_OF = re.compile(
    r"(?<!young\s)\b(?:parents?|carers?|parent[\s-]carers?)(?:\s*(?:and|/|&|or)\s*"
    r"(?:carers?|parents?))?\s+(?:of|whose|who\s+care\s+for|caring\s+for)\b", _I)
_PARENT_NOUN = re.compile(
    rf"(?<!young\s)\bparent[\s-]?carers?{_AP}?\s*(?:forum|group|council|network|voice|"
    rf"partnership|participation)\b|(?<!young\s)\bcarers?{_AP}?\s+(?:peer\s+)?(?:support|centre|hub|"
    rf"groups?|service|network|forum|assessment|breaks?|allowance|cafe|café)\b"
    rf"|(?<!young\s)\bcarers{_AP}\s+[a-z]\w+"
    r"|\b(?:ante|post)[\s-]?natal\s+(?:classes|clinics?|drop[\s-]ins?|workshops?|sessions?|groups?|"
    r"courses?|education|appointments?|support)\b|\bbreast[\s-]?feeding\s+(?:support|groups?|"
    r"welcome|caf[eé]s?|peer|clinics?|workshops?|drop[\s-]ins?)\b|\bmums?[\s-]to[\s-]be\b"
    r"|\bexpectant\s+(?:parents|mums|mothers|fathers|dads)\b"
    r"|\b(?:mums?|mothers?|dads?|fathers?|parents?)\s+(?:and|&)\s+(?:baby|babies)\b"
    rf"|\bparent(?:ing)?\s+(?:support|groups?|courses?|programmes?|workshops?|classes|"
    rf"network|forum|drop[\s-]in|coffee\s+mornings?|training|sessions?)\b"
    r"|\b(?:your|their|our)\s+(?:own\s+)?parenting\b|\bparenting\s+skills\b", _I)
_ADULT_CERTAIN = re.compile(
    r"\badults?[\s-]+only\b|\b(?:over[\s-]?18s|18\s*\+|18s\s+and\s+over)\s+only\b"
    r"|\bfor\s+adults\s+aged\s+(?:18|over\s+18)\b"
    r"|\bpeople\s+(?:aged\s+)?over\s+(?:the\s+age\s+of\s+)?18\b|\bover[\s-]18s\b"
    r"|\badults\s+(?:with|who\s+have|living\s+with)\b", _I)
_ADULT_LIKELY = re.compile(
    r"\badult\s+(?:social\s+care|day\s+(?:centre|services?|opportunities)|services?|education|learning|"
    r"community|team|placements?|respite)\b|\badults?\b|\bgrown[\s-]?ups\b", _I)
_CHILD_WORDS = re.compile(
    r"\b(?:children|child|young\s+people|young\s+person|kids|teenagers|teens|pupils|"
    r"families|family|youth|babies|toddlers|under[\s-]?18s)\b", _I)
#: Words naming the young themselves (not their families): these always keep a record from
#: being read as adults only. "Family" and "families" beside a certain statement that the users
#: are adults ("assessments of adults with dementia ... care professionals or families") are
#: those adults' families, so they only stop a likely reading.
_YOUNG_WORDS = re.compile(
    r"\b(?:children|child|young\s+people|young\s+person|kids|teenagers|teens|pupils|"
    r"youth|babies|toddlers|under[\s-]?18s)\b", _I)


_T_AUDIENCE = ("natal", "breast", "expectant", "caring", "care for", "cares for", "looking after",
               "look after", "helping to support", "child", "young", "kid", "youth", "teen",
               "student", "pupil", "learner", "parent",
               "carer", "mum", "dad", "mother", "father", "famil", "professional",
               "practitioner", "staff", "senco", "teacher", "school", "adult", "grown", "men",
               "veteran", "older", "leaver")
_T_ADULT_CERTAIN = ("adult", "18", "over")
_T_ADULT_LIKELY = ("adult", "grown")


_AUD_KEY = re.compile(r"[a-z0-9]+")
_STRONG_CUE_RE = re.compile(_STRONG_CUE, _I)
_STRONG_BEFORE = re.compile(rf"\b(?:{_STRONG_CUE})\s+(?:\w+\s+){{0,2}}$", _I)


def _audience_value(vocab: Vocabulary, word: str) -> str | None:
    key = " ".join(_AUD_KEY.findall(word.lower()))
    return vocab.audience_of(key) or _AUD_FALLBACK.get(key)


#: Before "for": a price or a rule, so "for ..." says who gets it, not who the service is for.
_PRICE_FOR_BEFORE = re.compile(
    r"\b(?:discounts?|discounted|concessions?|reductions?|reduced|offers?|deals?|rates?|prices?|"
    r"tickets?|fees?|policy|policies|free|half[\s-]price|cheaper)\s+(?:\w+\s+)?$"
    r"|\u00a3\s?\d+(?:\.\d\d)?\s+$", _I)
#: Unpaid carers, named by what they do: "adults who are caring for older relatives".
_CARING_FOR = re.compile(
    r"\b(?:people|adults|anyone|those|someone|men|women)\s+(?:who\s+(?:are\s+|is\s+)?)?"
    r"(?:caring\s+for|care\s+for|cares\s+for|looking\s+after|look\s+after|helping\s+to\s+support)"
    r"\s+(?:an?\s+|their\s+|a\s+loved\s+)?(?:older\s+|elderly\s+|disabled\s+|ill\s+|poorly\s+)?"
    r"(?:relatives?|partners?|family\s+members?|loved\s+ones?|parents?|friends?|someone|adults?|"
    r"spouses?|husbands?|wives|wife)\b", _I)


def _audience(doc: _Doc, vocab: Vocabulary, out: list[Fact]) -> None:
    text = doc.masked
    for m in doc.iter(_AUD_CUE, _T_AUDIENCE):
        if doc.in_scope(m.start()) or _PRICE_FOR_BEFORE.search(
                text, max(0, m.start() - 30), m.start()):
            continue   # "discounts for foster carers": who gets a price, not who it is for
        cue = m.group("cue").lower()
        conf = "certain" if _STRONG_CUE_RE.fullmatch(cue) else "likely"
        values: list[str] = []
        ls, le = m.span("list")
        for w in _AUD_WORD_RE.finditer(text, ls, le):
            v = _audience_value(vocab, w.group(0))
            if v and v not in values:
                values.append(v)
        for v in values:
            out.append(doc.fact("audience", v, m.start(), m.end(), conf))
        if "parents_carers" in values and "children_young_people" not in values:
            out.append(doc.fact("for_parents", True, m.start(), m.end(), conf))
    for m in doc.iter(_AUD_WITH, _T_AUDIENCE):
        if doc.in_scope(m.start()) or _others_before(doc, m.start()):
            continue
        v = _audience_value(vocab, m.group("who"))
        if v:
            out.append(doc.fact("audience", v, m.start(), m.end(), "likely"))
    for m in doc.iter(_PARENT_OF, _T_AUDIENCE):
        if doc.in_scope(m.start()):
            continue
        strong = _STRONG_BEFORE.search(text[max(0, m.start() - 30):m.start()]) is not None \
            or doc.source == "name"
        conf = "certain" if strong else "likely"
        out.append(doc.fact("audience", "parents_carers", m.start(), m.end(), conf))
        out.append(doc.fact("for_parents", True, m.start(), m.end(), conf))
    for m in doc.iter(_CARING_FOR, _T_AUDIENCE):
        if doc.in_scope(m.start()):
            continue
        strong = _STRONG_BEFORE.search(text[max(0, m.start() - 30):m.start()]) is not None
        conf = "certain" if strong else "likely"
        out.append(doc.fact("audience", "parents_carers", m.start(), m.end(), conf))
        out.append(doc.fact("for_parents", True, m.start(), m.end(), conf))
    for m in doc.iter(_PARENT_NOUN, _T_AUDIENCE):
        if doc.in_scope(m.start()):
            continue
        out.append(doc.fact("audience", "parents_carers", m.start(), m.end(), "certain"))
        words = m.group(0).lower()
        certain = any(w in words for w in ("forum", "carer", "natal", "breast", "to be", "to-be",
                                           "expectant", "baby", "babies"))
        out.append(doc.fact("for_parents", True, m.start(), m.end(),
                            "certain" if certain else "likely"))
    if doc.source == "name":
        for m in _AUD_WORD_RE.finditer(text):
            v = _audience_value(vocab, m.group(0))
            if v:
                out.append(doc.fact("audience", v, m.start(), m.end(), "likely"))


def _adults_only(docs: Sequence[_Doc], facts: list[Fact], out: list[Fact]) -> None:
    """``adults_only`` unless the record also speaks of children, young people or families."""
    if any(f.field == "audience" and f.value in ("children_young_people", "families")
           for f in facts):
        return
    if any(f.field == "max_age" and f.value < 18 for f in facts):
        return
    if any(f.field == "min_age" and f.value < 16 for f in facts):
        return
    family = False
    for doc in docs:
        if doc.spans(_T_AUDIENCE) and doc.search(_CHILD_WORDS):
            if doc.search(_YOUNG_WORDS):
                return
            family = True
    found: list[Fact] = []
    for doc in docs:
        for m in doc.iter(_ADULT_CERTAIN, _T_ADULT_CERTAIN):
            if not doc.in_scope(m.start()) and not _others_before(doc, m.start()):
                found.append(doc.fact("adults_only", True, m.start(), m.end(), "certain"))
    for f in facts:
        if f.field == "min_age" and f.value >= 18 and f.confidence == "certain":
            found.append(Fact("adults_only", True, f.quote, f.source, "certain"))
    if not found and not family:
        for doc in docs:
            for m in doc.iter(_ADULT_LIKELY, _T_ADULT_LIKELY):
                if not doc.in_scope(m.start()) and not _others_before(doc, m.start()):
                    found.append(doc.fact("adults_only", True, m.start(), m.end(), "likely"))
                    break
    out.extend(found[:3])


# ---------------------------------------------------------------------------------------------
# Thresholds, EHCP, residency, referral, cost, delivery: tables of (pattern, value, confidence)
# ---------------------------------------------------------------------------------------------

_EHC = (r"(?:EHCPs?\b|EHC\s*plans?\b|EHC\s*P\b|Education,?\s+Health,?\s+(?:and|&)\s+Care\s+"
        r"(?:\(EHC\)\s+)?Plans?(?:\s*\(EHCP?\))?|statements?\s+of\s+(?:special\s+educational\s+"
        r"needs|SEN)\b)")
_DIAG = r"(?:a\s+|an\s+)?(?:confirmed\s+|formal\s+|clinical\s+|medical\s+|existing\s+)?diagnosis"
_PLACE = (r"(?P<place>(?:[A-Z][\w'\u2019.-]*|of|upon|on|under|in|and|&|the)"
          r"(?:[ -](?:[A-Z][\w'\u2019-]*|upon|on|under|in|and|&|of|the)){0,5})")
_PLACE_STOP = frozenset({"local", "all", "our", "any", "eligible", "other", "some", "many",
                         "please", "we", "you", "they", "this", "these", "those", "their",
                         "your", "supported", "temporary", "residential", "foster", "care",
                         "council", "social", "a", "an", "of", "upon", "on", "under", "in",
                         "and", "&", "the", "if", "it", "there"})


def _table(*rows: tuple[Any, ...]) -> tuple[tuple[re.Pattern[str], Any, str, tuple[str, ...]], ...]:
    """Rows of (pattern, value, confidence, flags[, trigger words of this row only])."""
    return tuple((re.compile(row[0], row[3]), row[1], row[2], row[4] if len(row) > 4 else ())
                 for row in rows)


_THRESHOLD = _table(
    (r"\b(?:severe|significant)\s*(?:and|&|or|,)\s*(?:complex|enduring)\b|\bcomplex\s*(?:and|&|"
     r"or)\s*(?:severe|significant|profound)\b|\bmost\s+complex\b|\bhighest\s+levels?\s+of\s+"
     r"need\b", "severe_complex", "certain", _I),
    (r"\bprofound\s+(?:and|&)\s+multiple\b", "severe_complex", "certain", _I),
    (r"\b(?:high|significant|substantial)\s+levels?\s+of\s+(?:need|support|care)\b"
     r"|\bcomplex\s+(?:medical\s+|health\s+|care\s+)?needs\b", "severe_complex", "likely", _I),
    (rf"\bmust\s+have\s+(?:received\s+)?{_DIAG}\b|\b{_DIAG}\s+(?:is\s+)?(?:required|essential|"
     rf"needed|necessary)\b|\brequires?\s+{_DIAG}\b|\b(?:only|solely|exclusively)\b"
     rf"[^.;:]{{0,60}}\bwith\s+{_DIAG}\b|\b(?:for|open\s+to|available\s+to|aimed\s+at)\s+"
     rf"(?:[\w'\u2019-]+\s+){{0,4}}?(?:(?:with|who\s+have|who\s+has)\s+{_DIAG}\b|(?:who\s+(?:are|is|"
     rf"have\s+been|has\s+been)\s+)?(?:formally\s+|clinically\s+)?diagnosed\s+with\b)",
     "diagnosis_required", "certain", _I),
    (rf"\bwith\s+{_DIAG}\s+of\b|\b(?:have|has)\s+(?:received\s+)?{_DIAG}\b"
     r"|\bdiagnosed\s+with\b", "diagnosis_required", "likely", _I),
    (r"\bmust\s+be\s+referred\b|\b(?:by|through)\s+referral\s+only\b|\breferral\s+only\b"
     r"|\breferrals?\s+(?:is|are)\s+(?:required|needed|necessary|essential)\b"
     r"|\b(?:requires?|needs?)\s+(?:a\s+)?(?:formal\s+|professional\s+)?referral\b"
     r"|\bonly\s+(?:accept|take)s?\s+referrals\s+from\b|\bonly\s+(?:by|via|through)\s+"
     r"(?:a\s+)?referral\b", "referral_required", "certain", _I),
    (r"\beligibility\s+criteria\b|\bmeet\s+(?:the|our)\s+(?:eligibility\s+)?criteria\b",
     "referral_required", "likely", _I),
)
_ONLY_FOR = re.compile(
    r"\b(?P<w>only|exclusively|solely|specifically)\s+(?:for|open\s+to|available\s+(?:to|for)|"
    r"aimed\s+at)\b|\bis\s+(?P<w2>only)\s+for\b", _I)
#: Words that take the threshold back ("with or without a diagnosis", "awaiting diagnosis").
_DIAG_NOT = re.compile(
    r"\bwith\s+or\s+without\b|\bwhether\s+or\s+not\b|\bno\s+(?:formal\s+)?diagnosis\b"
    r"|\bwithout\s+(?:a\s+)?(?:formal\s+)?diagnosis\b|\b(?:do|does)\s+not\s+(?:need|require)\b"
    r"|\b(?:don|doesn)['\u2019]t\s+(?:need|require)\b|\bnot\s+(?:needed|required|necessary|"
    r"essential)\b|\bawaiting\b|\bpre[\s-]?diagnosis\b|\bbefore\s+(?:a\s+)?diagnosis\b"
    r"|\bwaiting\s+(?:list\s+)?for\b|\bsuspected\b|\bor\s+(?:are\s+)?(?:awaiting|waiting)\b",
    _I)

_EHCP_NOT = re.compile(
    rf"\bwith\s+or\s+without\s+(?:an?\s+)?{_EHC}|\b(?:do|does)\s+not\s+(?:need|have\s+to\s+"
    rf"have|require)\s+(?:an?\s+)?{_EHC}|\b(?:don|doesn)['\u2019]t\s+(?:need|have\s+to\s+have|"
    rf"require)\s+(?:an?\s+)?{_EHC}|\bno\s+{_EHC}\s+(?:is\s+)?(?:needed|required|necessary)"
    rf"|\b{_EHC}\s+(?:is\s+|are\s+)?not\s+(?:needed|required|necessary|essential)"
    rf"|\bwithout\s+(?:an?\s+)?{_EHC}|\bwhether\s+or\s+not\s+(?:\w+\s+){{1,3}}(?:have|has)\s+"
    rf"(?:an?\s+)?{_EHC}|\bno\s+need\s+(?:for|to\s+have)\s+(?:an?\s+)?{_EHC}", _I)
_EHCP = _table(
    (rf"\bmust\s+have\s+(?:an?\s+)?(?:current\s+|existing\s+)?{_EHC}"
     rf"|\b(?:for|only\s+for|open\s+to|available\s+to|exclusively\s+for)\s+"
     rf"(?:[\w'\u2019-]+\s+){{0,6}}?(?:who\s+have|with)\s+(?:(?:SEND|SEN|additional\s+needs|"
     rf"a\s+disability|disabilities)\s+(?:and|&)\s+)?(?:an?\s+)?{_EHC}|\b{_EHC}\s+(?:is\s+)?(?:required|essential|needed)\b"
     rf"|\brequires?\s+(?:an?\s+)?{_EHC}|\bneeds?\s+(?:to\s+have\s+)?an?\s+{_EHC}"
     rf"|\b(?:via|through|by|with)\s+(?:an?\s+|the\s+)?{_EHC}\s+only\b"
     rf"|\bonly\s+(?:via|through|by|with)\s+(?:an?\s+|the\s+)?{_EHC}"
     rf"|\ball\s+(?:of\s+)?(?:our\s+|the\s+)?(?:pupils|students|children|learners|young\s+people)"
     rf"\s+(?:\w+\s+)?(?:have|hold|will\s+have|must\s+have)\s+(?:an?\s+)?{_EHC}"
     rf"|\bfunded\s+(?:through|via|by)\s+(?:[\w,'\u2019-]+\s+){{0,5}}?(?:an?\s+|the\s+|their\s+)?{_EHC}"
     rf"|\b(?:admissions?|places?|entry|access|referrals?)\s+(?:is\s+|are\s+)?(?:only\s+)?"
     rf"(?:(?:made|allocated|offered|given|agreed|decided)\s+)?(?:through|via)\s+(?:the\s+)?{_EHC}"
     rf"\s+(?:process|route|system)\b",
     True, "certain", _I),
    (rf"\bthrough\s+the\s+{_EHC}\s+(?:process|route)\b|\bwith\s+an?\s+{_EHC}", True, "likely", _I),
    (rf"\b(?:pupils|children|young\s+people|students|learners)\s+(?:who\s+have|with)\s+"
     rf"(?:an?\s+)?{_EHC}", True, "likely", _I),
)

_RESIDENCY = _table(
    (rf"\b(?i:must\s+live\s+in|must\s+be\s+(?:an?\s+)?residents?\s+(?:of|in)|(?:only\s+)?"
     rf"(?:for|open\s+to|available\s+to)\s+(?:\w+\s+)?residents\s+of|residents\s+of)\s+{_PLACE}",
     None, "certain", 0),
    (rf"\b(?i:for|open\s+to|available\s+to|only\s+for)\s+{_PLACE}\s+(?i:residents?)\b",
     None, "certain", 0),
    (rf"\b{_PLACE}\s+(?i:residents\s+only)\b", None, "certain", 0),
    (rf"\b(?i:who\s+live\s+in|living\s+in|live\s+in|resident\s+in|who\s+live\s+or\s+(?:go\s+to|"
     rf"attend)\s+school\s+in)\s+{_PLACE}", None, "likely", 0),
    (r"\b(?:must\s+live\s+in|who\s+live\s+in|living\s+in|residents\s+of|resident\s+in)\s+"
     r"(?P<place>(?:the|our|this)\s+(?:local\s+)?(?:borough|city|county|district|area|"
     r"local\s+authority(?:\s+area)?|council\s+area))\b", "as_written", "likely", _I),
)

_REFERRAL = _table(
    (r"\bself[\s-]?referr?(?:als?|ing|ed)?\b|\bself[\s-]refer\b|\brefer\s+(?:yourself|"
     r"yourselves|themselves|himself|herself)\b|\bno\s+referral\s+(?:is\s+)?(?:needed|required|"
     r"necessary)\b", "self", "certain", _I),
    (r"\bdrop[\s-]in\b|\bjust\s+(?:turn|come|pop)\s+(?:up|along|in)\b|\b(?:contact|call|email|"
     r"phone|ring)\s+(?:us|the\s+(?:team|service))\s+directly\b|\bopen\s+access\b",
     "self", "likely", _I),
    (r"\bGP\s+referrals?\b|\breferr(?:al|als|ed)\s+(?:from|by|via|through)\s+(?:a\s+|your\s+|"
     r"their\s+|the\s+)?(?:GP|doctor|family\s+doctor)\b|\b(?:ask|see)\s+your\s+(?:GP|doctor)\s+"
     r"(?:to|for|about)\s+(?:a\s+)?refer", "gp", "certain", _I),
    (r"\breferr(?:al|als|ed)\s+(?:from|by|via|through)\s+(?:a\s+|an\s+|your\s+|their\s+|the\s+|"
     r"any\s+)?(?:\w+\s+)?(?:professionals?|health\s+visitors?|social\s+workers?|paediatricians?|"
     r"consultants?|therapists?|school\s+nurses?|CAMHS|key\s+workers?|practitioners?|"
     r"clinicians?|midwi(?:fe|ves)|early\s+help)\b|\bprofessional\s+referrals?\b"
     r"|\bmust\s+be\s+referred\b(?!\s+(?:by|from|through|via)\s+(?:a\s+|your\s+|their\s+|the\s+)?"
     r"(?:GP|doctor|school|SENCO))", "professional", "certain", _I),
    (r"\bprofessionals?\s+(?:can|may|should|will)\s+(?:also\s+)?refer\b", "professional",
     "likely", _I),
    (r"\bschool\s+referrals?\b|\breferr(?:al|als|ed)\s+(?:from|by|via|through)\s+(?:the\s+|"
     r"your\s+|their\s+|a\s+)?(?:child['\u2019]s\s+)?(?:schools?|SENCOs?|teachers?|education\s+"
     r"settings?)\b|\breferr(?:al|als|ed)\s+(?:come|comes|are\s+made|made|are\s+accepted)\s+"
     r"(?:from|by|via|through)\s+(?:the\s+|your\s+|their\s+|a\s+)?(?:child['\u2019]s\s+)?"
     r"(?:schools?|SENCOs?|teachers?)\b|\b(?:SENCOs?|schools)\s+(?:can|may|should|must|will)\s+"
     r"refer\b",
     "school", "certain", _I),
    (r"\b(?:via|through)\s+(?:the\s+|your\s+|their\s+|a\s+)?(?:child['\u2019]s\s+)?schools?"
     r"(?:['\u2019]s)?(?:\s+SENCO)?\b", "school?", "likely", _I),
    (rf"\b(?:through|via)\s+(?:an?\s+|the\s+|their\s+|your\s+)?(?:{_EHC}|EHC\s+needs\s+"
     rf"assessment)|\bnamed\s+(?:in|on)\s+(?:the|their|an?|your)\s+{_EHC}", "ehcp", "certain",
     _I),
)

_FREE_FOR_SOME = re.compile(
    r"\bfree\s+(?:for|to)\s+(?:some|those|eligible|under|over|children\s+(?:under|over|aged|who|"
    r"on|in|with)|families\s+(?:on|who|receiving|in\s+receipt|with|that)|people\s+(?:on|who|"
    r"receiving)|anyone\s+(?:on|who|receiving)|residents|members|siblings|carers|young\s+carers|"
    r"students|2|two|the\s+first|first)\b|\bconcessions?\b|\bconcessionary\b|\bsubsidi[sz]ed\b"
    r"|\breduced\s+(?:rates?|fees?|prices?|costs?)\b|\bdiscount(?:s|ed)?\b|\bbursar(?:y|ies)\b"
    r"|\bmeans[\s-]tested\b|\bfunded\s+places?\b|\bfree\s+for\s+some\b|\bfree\s+places\b", _I)
_FREE_CERTAIN = re.compile(
    r"\bfree\s+of\s+charge\b|\bno\s+(?:charge|cost|fee)s?\b|\bat\s+no\s+cost\b|\bwithout\s+"
    r"charge\b|\bcosts?\s+nothing\b|\b(?:cost|fee)[\s-]free\b", _I)
_FREE = re.compile(r"\bfree\b", _I)
_NOT_FREE_BEFORE = re.compile(
    r"(?:feel|gluten|dairy|nut|smoke|sugar|alcohol|drug|barrier|stress|hands|jargon|toll|"
    r"hassle|judgement|judgment|risk|duty|tax|fat|lactose|debt|worry|carbon|plastic|"
    r"latex|allergen|scent|fragrance|free|be|are\s+you|set)[\s-]*$", _I)
_NOT_FREE_AFTER = re.compile(
    r"(?:[\s-]*)(?:parking|car\s*park|wi-?fi|internet|time|from|flow(?:ing)?|play|school\s+"
    r"meals|schools?\b|standing|speech|running|text|refreshments?|tea|coffee|lunch|snacks?|"
    r"breakfast|period\s+products|sanitary|to\s+(?:ask|contact|call|get\s+in\s+touch|come\s+and\s+"
    r"go|leave|talk|chat|drop|pop|choose|move)|of\s+(?:bullying|judgement|judgment|pressure|"
    r"discrimination|harm|stigma)|will|rein|hand)\b", _I)
_FREE_STRONG_AFTER = re.compile(
    r"\s*(?:of\s+charge|service|to\s+(?:attend|access|use|join)|sessions?|courses?|groups?|"
    r"advice|support|help|activities|membership|information|training|workshops?|and\s+"
    r"confidential)\b", _I)
_FREE_STRONG_BEFORE = re.compile(r"\b(?:is|are|totally|completely|entirely|all|always)\s+$", _I)
_PAID = _table(
    (r"\u00a3\s?\d+(?:\.\d\d)?\s*(?:per|a|an|each|for\s+(?:a|each|the))\s+(?:session|hour|day|"
     r"week|term|month|year|class|visit|child|person|night|course|lesson|block|half[\s-]term)\b"
     r"|\b(?:costs?|charges?|fees?|prices?)\s+(?:is\s+|are\s+|of\s+)?(?:just\s+|only\s+)?"
     r"\u00a3\s?\d|\bthere\s+is\s+a\s+(?:small\s+)?(?:charge|cost|fee)\b|\b(?:charges?|fees?)\s+"
     r"apply\b|\b(?:small|nominal|weekly|session|membership|annual|joining)\s+(?:charge|fee|cost)s?\b"
     r"|\bchargeable\b|\bpaid[\s-]for\s+service\b|\bwe\s+charge\b", "paid", "certain", _I),
    (r"\u00a3\s?\d", "paid", "likely", _I),
)

_DELIVERY = _table(
    (r"\bvia\s+zoom\b|\bon\s+zoom\b|\bzoom\s+(?:calls?|sessions?|meetings?)\b|\b(?:via|on|over)\s+"
     r"(?:microsoft\s+)?teams\b|\bvideo\s+(?:calls?|link|consultations?|appointments?)\b"
     r"|\b(?:delivered|held|run|take\s+place|available|offered|provided)\s+(?:\w+\s+)?"
     r"(?:online|virtually|remotely)\b|\bonline\s+(?:sessions?|courses?|support|groups?|"
     r"meetings?|workshops?|classes|training|programmes?|appointments?|chat|counselling|therapy|"
     r"forum|community|service)\b|\bweb\s*chat\b|\blive\s+chat\b|\bwebinars?\b",
     "online", "certain", _I, ("zoom", "teams", "video", "online", "virtual", "remote", "chat",
                               "webinar")),
    (r"(?<!book\s)(?<!apply\s)(?<!register\s)(?<!enrol\s)(?<!found\s)(?<!pay\s)(?<!order\s)"
     r"(?<!more\s)(?<!information\s)\bonline\b(?!\s+(?:form|referral|booking|shop|safety|directory|at|via|here))|\bvirtual(?:ly)?"
     r"\b|\bremotely\b", "online", "likely", _I,
     ("online", "virtual", "remotely")),
    (r"\b(?:by|over\s+the|on\s+the|via)\s+(?:tele)?phone\b|\b(?:tele)?phone\s+(?:support|advice|"
     r"appointments?|consultations?|calls?|service|counselling|line)\b|\bhelp[\s-]?lines?\b"
     r"|\badvice\s+lines?\b|\btext\s+(?:service|support)\b", "phone", "certain", _I,
     ("phone", "help", "line", "text")),
    (r"\bhome\s+visits?\b|\bvisits?\s+(?:you\s+|families\s+|children\s+|people\s+)?(?:at|in)\s+"
     r"(?:your|their|the\s+family['\u2019]?s?)\s+homes?\b|\bin\s+(?:your|their|the\s+family)"
     r"(?:['\u2019]s?)?\s+(?:own\s+)?homes?\b|\bvisit\s+(?:you|families)\s+at\s+home\b",
     "home_visit", "certain", _I, ("home",)),
    (r"\bat\s+home\b|\boutreach\b", "home_visit", "likely", _I, ("home", "outreach")),
    (r"\bin[\s-]person\b|\bface[\s-]to[\s-]face\b|\bdrop[\s-]in\b", "in_person", "certain", _I,
     ("person", "face", "drop")),
    (r"\bat\s+(?:our|the)\s+(?:\w+\s+)?(?:centre|center|office|venue|hub|clinic|library|hall)\b"
     r"|\b(?:sessions?|groups?|meetings?|classes)\s+(?:are\s+|is\s+)?(?:held|run|meet)s?\s+(?:at|"
     r"in)\b", "in_person", "likely", _I,
     ("centre", "center", "office", "venue", "hub", "clinic", "library", "hall", "held", "meet",
      " run")),
)
_DELIVERED = re.compile(r"\b(?:deliver|provid|run|held|offer|taught|teach|visit)\w*", _I)
_NEG_BEFORE = re.compile(r"\b(?:no|not|cannot|without|n['\u2019]t)\s+(?:\w+\s+)?$", _I)


def _rows(doc: _Doc, field: str,
          table: Sequence[tuple[re.Pattern[str], Any, str, tuple[str, ...]]],
          out: list[Fact], triggers: tuple[str, ...], neg_check: bool = False) -> None:
    text = doc.masked
    for rx, value, conf, row_triggers in table:
        for m in doc.iter(rx, row_triggers or triggers):
            start, end = m.span()
            if doc.in_scope(start):
                continue
            if neg_check and _NEG_BEFORE.search(text, max(0, start - 25), start):
                continue
            v = value
            if field == "referral" and value == "school?":
                clause = text[doc.clause_start(start):doc.clause_end(end)]
                if _DELIVERED.search(clause):
                    continue
                v = "school"
            if field == "residency":
                v = m.group("place") if value == "as_written" else _place(m.group("place"))
                if not v:
                    continue
            if field == "threshold" and value == "diagnosis_required":
                s, e = doc.sentence(start)
                if _DIAG_NOT.search(doc.text, s, e):
                    continue
            if not doc.claim(field, start, end):
                continue
            out.append(doc.fact(field, v, start, end, conf))


def _place(place: str) -> str | None:
    words = place.split()
    while words and words[-1].lower() in _PLACE_STOP | {"gp", "residents", "resident"}:
        words.pop()
    while words and words[0] in ("the", "The") and len(words) > 1 and words[1][:1].islower():
        words.pop(0)
    if not words or words[0].lower() in _PLACE_STOP - {"the"}:
        return None
    return " ".join(words).rstrip(".,")


_T_ONLY = ("only", "exclusive", "solely", "specifically")
_T_THRESHOLD = ("severe", "significant", "complex", "profound", "highest", "high", "substantial",
                "diagnos", "referr", "referral", "eligib", "criteria")


def _thresholds(doc: _Doc, reader: _NeedReader, out: list[Fact]) -> None:
    _rows(doc, "threshold", _THRESHOLD, out, _T_THRESHOLD)
    for m in doc.iter(_ONLY_FOR, _T_ONLY):
        if doc.in_scope(m.start()):
            continue
        end = doc.clause_end(m.end())
        if reader.find(doc.text, m.end(), end):
            word = (m.group("w") or m.group("w2") or "").lower()
            conf = "likely" if word == "specifically" else "certain"
            out.append(doc.fact("threshold", "only_for_named_need", m.start(), end, conf))


_T_EHCP = ("ehc", "care plan", "statement")
#: After "funded through an EHC plan": another way in ("and adult social care", "or privately").
_OTHER_ROUTE = re.compile(r"\s*(?:,|\band\b|\bor\b|&|/)\s*(?:by\s+|through\s+|via\s+)?\w", _I)
_IF_BEFORE = re.compile(r"\b(?:if|whether|when|may|might|can|could|think|thinking|worried|"
                        r"apply(?:ing)?\s+for|going\s+through|considering|most|many|some|usually|"
                        r"often|typically|generally|normally)\b", _I)


def _ehcp(doc: _Doc, out: list[Fact]) -> None:
    low = doc.low
    if "ehc" not in low and "care plan" not in low and "statement" not in low:
        return
    for m in doc.iter(_EHCP_NOT, _T_EHCP, doc.text):
        doc.claim("ehcp", *doc.sentence(m.start()))
        out.append(doc.fact("ehcp_required", False, m.start(), m.end(), "certain"))
    for rx, value, conf, _ in _EHCP:
        for m in doc.iter(rx, _T_EHCP):
            if doc.in_scope(m.start()) or not doc.claim("ehcp", m.start(), m.end()):
                continue
            sure = conf
            if _IF_BEFORE.search(doc.masked, doc.clause_start(m.start()), m.start()):
                sure = "likely"   # "if your child needs an EHCP, we can help": no requirement
            elif m.group(0)[:6].lower() == "funded" and _OTHER_ROUTE.match(doc.masked, m.end()):
                sure = "likely"   # "funded through EHC plans or privately": one route of several
            out.append(doc.fact("ehcp_required", value, m.start(), m.end(), sure))


_T_COST = ("free", "\u00a3", "charge", "cost", "fee", "concession", "subsidi", "discount", "bursar",
           "means", "funded", "price", "reduced", "for some")


_T_FREE = ("free",)


def _cost(doc: _Doc, out: list[Fact]) -> None:
    text = doc.masked
    found: list[Fact] = []
    for m in doc.iter(_FREE_FOR_SOME, _T_COST):
        if not doc.in_scope(m.start()) and doc.claim("cost", m.start(), m.end()):
            found.append(doc.fact("cost", "free_for_some", m.start(), m.end(), "certain"))
    for m in doc.iter(_FREE_CERTAIN, _T_COST):
        if not doc.in_scope(m.start()) and doc.claim("cost", m.start(), m.end()):
            found.append(doc.fact("cost", "free", m.start(), m.end(), "certain"))
    for m in doc.iter(_FREE, _T_FREE):
        start, end = m.span()
        if doc.in_scope(start) or _NOT_FREE_BEFORE.search(text, max(0, start - 15), start) \
                or _NOT_FREE_AFTER.match(text, end) or not doc.claim("cost", start, end):
            continue
        strong = _FREE_STRONG_AFTER.match(text, end) or _FREE_STRONG_BEFORE.search(
            text, max(0, start - 15), start)
        if strong:
            end = strong.end() if _FREE_STRONG_AFTER.match(text, end) else end
            start = min(start, strong.start())
        found.append(doc.fact("cost", "free", start, end, "certain" if strong else "likely"))
    _rows(doc, "cost", _PAID, found, _T_COST)
    said = {f.value for f in found}
    if {"free", "paid"} <= said and "free_for_some" not in said:
        # "Groups are free; some trips have a small cost": free for some of what it offers.
        paid = next(f for f in found if f.value == "paid")
        found.append(Fact("cost", "free_for_some", paid.quote, paid.source, "likely"))
    out.extend(found)


#: Before a need, the words making it who the service is for: a people word and "with",
#: "who have", "whose primary need is", "who" ("for pupils with SLD and PMLD", "young people
#: who stammer"), with up to four listed needs or qualifiers between.
_SERVED_BEFORE = re.compile(
    rf"\b(?:{_PEOPLE}|adults?|parents?|carers?|families|those|year[\s-]olds|residents)\s+"
    rf"(?:\([^()]{{1,14}}\)\s+)?(?:(?:aged|from|between)\s+[\w\s+-]{{1,14}}?\s+)?(?:with|who\s+(?:have|has|are|experience|live\s+with)|living\s+with|"
    rf"affected\s+by|diagnosed\s+with|whose\s+(?:main\s+|primary\s+|only\s+)?(?:area\s+of\s+)?"
    rf"(?:special\s+educational\s+)?needs?\s+(?:is|are|includes?)|who)\s+"
    rf"(?:(?:an?|the|some|mild|moderate|severe|complex|additional|diagnosed|suspected|"
    rf"significant|profound|specific|a\s+diagnosis\s+of)\s+)*"
    rf"(?:[\w'\u2019-]+(?:\s+[\w'\u2019-]+)?\s*(?:,|\band\b|\bor\b|&|/|\band/or\b)\s*){{0,4}}$", _I)
#: Before who a service is for, words saying only that it suits them, not that it is for them.
_SUITS_BEFORE = re.compile(
    r"\b(?:great|ideal|perfect|suitable|good|accessible|welcom\w*|includ\w*|also|as\s+well\s+as|"
    r"especially|particularly|even|everyone|anyone|all|such\s+as|like)\b", _I)
#: After a need, words leaving the list open ("with autism or other additional needs").
_OPEN_LIST_AFTER = re.compile(
    r"(?:\s*(?:,|\band\b|\bor\b|&|/)\s*[\w-]+(?:\s+[\w-]+)?){0,4}?\s*,?\s*(?:(?:\bor\b|\band/or\b)"
    r"\s*(?:any|other|another|similar|related|a\s+new|new|an?\s+(?:suspected|undiagnosed|possible)|"
    r"(?:a\s+)?(?:suspected\s+)?diagnosis|undiagnosed|suspected)\b|\betc\b)", _I)
#: After a need, a people word: "autistic young people", "deaf children".
_SERVED_AFTER = re.compile(rf"\s*(?:{_PEOPLE}|adults?)\b", _I)


def _needs(doc: _Doc, reader: _NeedReader, out: list[Fact]) -> None:
    conf = "certain" if doc.source in ("name", "tags") else "likely"
    seen: set[str] = set()
    served: set[str] = set()
    text = doc.masked
    for start, end, target in reader.find(doc.text, where=doc.need_starts):
        if doc.in_scope(start):
            continue
        clause = doc.clause_start(start)
        if text[max(0, clause - 2):clause].strip().endswith(")"):
            # "adults (18+) with PMLD": a bracket inside the clause does not end it.
            opening = text.rfind("(", 0, clause)
            if opening >= 0 and clause - opening <= 20:
                clause = doc.clause_start(opening)
        who = None if doc.source == "tags" else (
            _SERVED_BEFORE.search(text, max(clause, start - 160), start)
            or _SERVED_AFTER.match(text, end))
        if who is not None:
            # Named as who the service is for: the needs it serves (kind "served"); certain
            # unless the words only say it suits them ("great for children with ...").
            at = min(who.start(), start)
            sure = "likely" if _SUITS_BEFORE.search(text, max(clause, at - 40), at) or \
                _OPEN_LIST_AFTER.match(text, end) else "certain"
            new = [t for t in target if t not in served]
            if new:
                served.update(new)
                seen.update(new)
                out.append(doc.fact("needs", new, start, end, sure, "served"))
            continue
        new = [t for t in target if t not in seen]
        if new:
            seen.update(new)
            out.append(doc.fact("needs", new, start, end, conf))


# ---------------------------------------------------------------------------------------------
# The entry points
# ---------------------------------------------------------------------------------------------


_T_REFERRAL = ("refer", "drop", "direct", "turn up", "come along", "pop in", "open access",
               "school", "ehc", "care plan", "gp", "doctor")
_T_RESIDENCY = ("resident", "live", "living")
_T_DELIVERY = ("zoom", "teams", "video", "online", "virtual", "remote", "web", "chat", "phone",
               "help line", "helpline", "advice line", "text", "home", "visit", "outreach",
               "person", "face", "drop", "centre", "center", "office", "venue", "hub",
               "clinic", "library", "hall", "held", "meet", "run")


#: Every rule pattern and trigger tuple the rules pass to ``_Doc.iter``/``spans``/``search``,
#: so that a text's word list says where each may match (others are simply scanned).
_SCAN.add_rules(
    _ALL_AGES, _ADULTS_AND_CHILDREN, _MONTHS_TO_YEARS, _MONTH_SPAN, _MONTHS, _OR_AGE,
    _BENIGN, _CARING_FOR, _AUD_CUE, _AUD_WITH, _PARENT_OF, _PARENT_NOUN, _CHILD_WORDS, _ADULT_CERTAIN,
    _ADULT_LIKELY, _ONLY_FOR, _EHCP_NOT, _FREE_FOR_SOME, _FREE_CERTAIN, _FREE,
    *(row[0] for table in (_EXCLUSION_CUES, _AGE_RULES, _SCHOOL_RULES, _PHASES, _THRESHOLD,
                           _EHCP, _RESIDENCY, _REFERRAL, _PAID, _DELIVERY) for row in table))
_SCAN.add_triggers(
    _BENIGN_TRIGGERS, _T_EXCLUDE, _T_AGES, _T_MONTH_SPAN, _T_ADULTS_AND_CHILDREN, _T_ALL_AGES, _T_SCHOOL, _T_PHASES, _T_AUDIENCE, _T_ADULT_CERTAIN,
    _T_ADULT_LIKELY, _T_ONLY, _T_THRESHOLD, _T_EHCP, _T_COST, _T_FREE, _T_RESIDENCY,
    _T_REFERRAL, _T_DELIVERY,
    *(row[3] for table in (_THRESHOLD, _EHCP, _RESIDENCY, _REFERRAL, _PAID, _DELIVERY)
      for row in table if row[3]))


def _read(doc: _Doc, vocab: Vocabulary, reader: _NeedReader, out: list[Fact]) -> None:
    _exclusions(doc, reader, out)
    _ages(doc, out)
    _audience(doc, vocab, out)
    _thresholds(doc, reader, out)
    _ehcp(doc, out)
    _rows(doc, "residency", _RESIDENCY, out, _T_RESIDENCY)
    _rows(doc, "referral", _REFERRAL, out, _T_REFERRAL)
    _cost(doc, out)
    _rows(doc, "delivery", _DELIVERY, out, _T_DELIVERY, neg_check=True)
    _needs(doc, reader, out)


def read_service(name: str, description: str, tags: Sequence[str] = (),
                 vocab: Vocabulary | None = None, organisation: str = "",
                 organisation_description: str = "") -> list[Fact]:
    """The facts a service's name, description and audience tags state, with their words.

    Each :class:`Fact` quotes the record verbatim (``quote`` is a substring of the field
    named by ``source``). Ages of other people ("for parents of children aged 0-5") are
    reported as ``child_ages``, never as the service's ``min_age``/``max_age``; words inside
    a refusal ("not suitable for children under 8") become ``excludes`` (and the age the
    refusal implies), never needs or audiences served.

    ``organisation`` (the provider's name) and ``organisation_description`` (the provider's
    words about itself) are optional. Ages in a sentence whose subject is the organisation
    ("Starlight Arts provides ... for adults (16+)") are the organisation's: when the record's
    words also state ages said of something else (its group: "our drama group for adults
    (18+)"), those are the service's and the organisation's are kept as only likely. An
    organisation that says it serves adults only ("a charity supporting anyone aged 18+",
    "care for adults with life limiting illnesses") serves adults in a service whose own
    words and tags state no ages and name no children, young people, families or parents
    (:func:`_adults_from_organisation`).

    >>> [(f.field, f.value) for f in read_service("Youth club", "For young people aged 11 to 18.")][:2]
    [('min_age', 11), ('max_age', 18)]
    """
    vocab = vocab if vocab is not None else load_vocabulary()
    reader = _reader(vocab)
    out: list[Fact] = []
    docs: list[_Doc] = []
    if name:
        docs.append(_Doc(name, "name", reader))
    if description:
        docs.append(_Doc(description, "description", reader))
    for doc in docs:
        _read(doc, vocab, reader, out)
    for tag in tags or ():
        if not tag or not str(tag).strip():
            continue
        tag = str(tag)
        value = _audience_value(vocab, tag)
        if value:
            out.append(Fact("audience", value, tag, "tags", "certain"))
            if value == "parents_carers":
                out.append(Fact("for_parents", True, tag, "tags", "likely"))
        doc = _Doc(tag, "tags", reader)
        docs.append(doc)
        _ages(doc, out)
        _needs(doc, reader, out)
    if organisation and description:
        out = _organisation_ages(description, organisation, out)
    _adults_only(docs, out, out)
    if organisation_description:
        _adults_from_organisation(organisation_description, docs, vocab, reader, out)
    return _dedupe(_served_not_excluded(out))


#: After an organisation's name at a sentence's start, a verb making it the subject.
_ORG_SUBJECT_AFTER = re.compile(
    r"\s*(?:\([^()]{1,40}\)\s*)?(?:is|are|was|has|have|provides?|offers?|runs?|delivers?|"
    r"supports?|works?|helps?|gives?|aims?|exists?|brings?|creates?|allows?|enables?|"
    r"welcomes?|started|began)\b", _I)


def _organisation_sentences(text: str, organisation: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` whose subject is the organisation: they start with
    its name (or "The <name>") followed by a verb ("Starlight Arts provides ...")."""
    words = organisation.split()
    if len(" ".join(words)) < 3:
        return []
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    rx = re.compile(r"\s*(?:the\s+)?" + r"\s+".join(map(re.escape, words)), _I)
    out: list[tuple[int, int]] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        m = rx.match(text, start)
        if m and _ORG_SUBJECT_AFTER.match(text, m.end()):
            out.append((start, end))
    return out


def _organisation_ages(description: str, organisation: str, facts: list[Fact]) -> list[Fact]:
    """Certain ages the description says of the organisation (in a sentence whose subject it
    is) become likely when the name or description also states certain ages said of
    something else: a group's own age beats its organisation's ("Starlight Arts provides ...
    for disabled adults (16+)", then "Our drama group for disabled adults (18+) ...": the
    group is for 18 and over)."""
    ages = [f for f in facts if f.field in ("min_age", "max_age") and f.confidence == "certain"
            and f.kind in ("", "line") and f.source in ("name", "description")]
    if len({f.quote for f in ages}) < 2:
        return facts    # one statement of ages: nothing to choose between
    spans = _organisation_sentences(description, organisation)
    if not spans:
        return facts

    def of_organisation(f: Fact) -> bool:
        at = _find_all(description, f.quote) if f.quote else []
        return bool(at) and all(any(s <= i < e for s, e in spans) for i in at)

    org_ages = [f for f in ages if f.source == "description" and of_organisation(f)]
    if not org_ages or len(org_ages) == len(ages):
        return facts
    return [Fact(f.field, f.value, f.quote, f.source, "likely", f.kind)
            if any(f is g for g in org_ages) else f for f in facts]


#: Where a quote of an organisation's statement may stop: the next comma or joined clause.
_QUOTE_TAIL = re.compile(r",|\s(?:and|by|to|so|which|who)\s", _I)
#: Audiences naming people other than adults.
_NOT_ADULT_AUDIENCES = frozenset({"children_young_people", "families", "parents_carers"})


def _adults_from_organisation(text: str, docs: Sequence[_Doc], vocab: Vocabulary,
                              reader: _NeedReader, out: list[Fact]) -> None:
    """An ``adults_only`` fact quoting the organisation's own words (source
    ``organisation``), when they say with certainty that it serves adults only and the
    service's own words and tags do not say otherwise: no ages and no adults-only fact of
    their own, and no children, young people, families or parents named (as an audience, in
    any words or tag, or anywhere in the name and description). A hospice's lymphoedema clinic
    or a community shed group is then for adults, as its organisation says ("care for adults
    with life limiting illnesses", "a charity supporting anyone aged 18+")."""
    if any(f.field in ("min_age", "max_age", "child_ages", "adults_only", "for_parents")
           for f in out):
        return
    if any(f.field == "audience" and f.value in _NOT_ADULT_AUDIENCES for f in out):
        return
    if any(doc.source != "tags" and doc.search(_YOUNG_WORDS) for doc in docs):
        return
    org = _Doc(text, "organisation", reader)
    facts: list[Fact] = []
    _ages(org, facts)
    _audience(org, vocab, facts)
    found: list[Fact] = []
    _adults_only([org], facts, found)
    certain = [f for f in found if f.confidence == "certain"]
    if not certain:
        return
    # The words around the statement, within its clause ("supporting anyone aged 18+ in the
    # Brigg area", not just "18+"), so that the quote says who the organisation serves.
    fact = certain[0]
    at = text.find(fact.quote)
    if at >= 0:
        start, end = org.clause_start(at), org.clause_end(at + len(fact.quote))
        start = max(start, at - 40)
        while start < at and start > 0 and text[start - 1].isalnum():
            start += 1
        end = min(end, at + len(fact.quote) + 40)
        while end > at + len(fact.quote) and end < len(text) and text[end].isalnum():
            end -= 1
        cut = _QUOTE_TAIL.search(text, at + len(fact.quote), end)
        end = cut.start() if cut else end
        fact = org.fact("adults_only", True, start, end, "certain")
    out.append(fact)


def _served_not_excluded(facts: list[Fact]) -> list[Fact]:
    """Exclusions without the needs the record also names outside any refusal: a refusal
    naming a need the record serves limits what it offers ("we support ADHD ... we do not
    offer ADHD assessments", "mild eating disorders (not anorexia)", "support through the
    cancer journey ... we do not treat cancer"); it does not turn that need away. (The
    engine reads its descriptions' needs the same way: ``Vocabulary.find_in_text``.)"""
    named = {n for f in facts if f.field == "needs" and f.source != "tags" for n in f.value}
    if not named:
        return facts
    out: list[Fact] = []
    for f in facts:
        if f.field == "excludes" and any(v in named for v in f.value):
            kept = [v for v in f.value if v not in named]
            if not kept:
                continue
            f = Fact(f.field, kept, f.quote, f.source, f.confidence, f.kind)
        out.append(f)
    return out


_KEEP_EVERY = frozenset({"min_age", "max_age", "child_ages", "excludes", "needs"})


def _dedupe(facts: list[Fact]) -> list[Fact]:
    """Drop repeats: one fact per field, value and source (the first certain one, else the
    first), except ages, exclusions and needs, kept once per quote."""
    seen: dict[tuple[str, str, str, str], int] = {}
    out: list[Fact] = []
    for f in facts:
        quote = f.quote if f.field in _KEEP_EVERY else ""
        key = (f.field, repr(f.value), quote, f.source)
        if key in seen:
            i = seen[key]
            if f.confidence == "certain" and out[i].confidence != "certain":
                out[i] = f
            continue
        seen[key] = len(out)
        out.append(f)
    order = {name: i for i, name in enumerate(FIELDS)}
    return sorted(out, key=lambda f: order.get(f.field, len(order)))


#: Before ages, the words making them who the service is for ("for children aged 4 to 11",
#: "a group of girls aged 7 to 10", "open to 13 year olds and upwards").
_AUDIENCE_AGES_CUE = re.compile(
    r"\b(?:for|aimed\s+at|open\s+to|designed\s+for|targeted\s+at|groups?\s+of|"
    r"welcomes?|welcoming)\b(?:(?!\b(?:for|aimed|open|designed|targeted|groups?|welcom\w*)\b)"
    r"[^.;:()\n]){0,50}$", _I)
#: Before ages, words making them a part, an example or a usual case, not the whole audience.
_PART_OF_BEFORE = re.compile(
    r"\b(?:including|includes?|plus|also|as\s+well\s+as|especially|particularly|such\s+as|"
    r"e\.?g|for\s+example|usually|typically|generally|mostly|mainly|often|some|sometimes|"
    r"even|can|may)\b"
    # a named part of the offer: "the Tuesday session is for ...", "our junior section for ..."
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b|\b(?:morning|afternoon|evening|"
    r"weekend|holiday|summer|junior|senior|older|younger|youth|teen)\s+(?:sessions?|groups?|"
    r"class(?:es)?|clubs?|sections?|squads?|teams?)\b", _I)


def ages_said_of_audience(text: str, quote: str) -> bool:
    """Whether the ages quoted are said of the service's whole audience in ``text``: the
    words before them, in their clause, say who it is for ("for", "open to", "a group of")
    and do not make them a part or an example ("including", "plus", "also", "usually")."""
    at = text.find(quote)
    if at < 0:
        return False
    start = at
    while start > 0 and text[start - 1] not in ".;:!?()\n":
        start -= 1
    before = text[start:at]
    return _AUDIENCE_AGES_CUE.search(before) is not None and \
        _PART_OF_BEFORE.search(before) is None


def effective_ages(facts: Iterable[Fact]) -> tuple[int | None, int | None, Fact | None]:
    """The age range the facts give: ``(min_age, max_age, the fact behind it)``.

    Facts are taken in tiers, and the first tier stating any age decides both bounds:
    ages on a line of their own, as a form gives them ("Age: 6 months to 2 years"; kind
    ``line``: they outrank ages in the running text, such as "music classes for children
    under 5" above the session's own ages), then certain numbers ("aged 8 to 12", "under
    fives"), then certain age-group words ("Toddler group", "for babies"), then a certain "for
    all ages" (0 and over), then likely numbers, then likely words. A description that says
    "all ages" and also gives numbers is for all ages (the numbers describe a part of what it
    offers: "our under 5s space"). Within a tier several ranges are joined ("0-19, or up to 25 with SEND"
    gives 0 to 25). The fact returned is the one giving the lower bound, or the upper bound
    when no lower one is stated; ``(None, None, None)`` when the facts state no age.
    ``child_ages`` (the ages of the children of parents a service is for) never count.
    """
    facts = [f for f in facts if f.field in ("min_age", "max_age") and isinstance(f.value, int)]
    for conf, kinds in (("certain", ("line",)), ("certain", ("",)), ("certain", ("phase",)),
                        ("certain", ("all_ages",)), ("likely", ("", "line")),
                        ("likely", ("phase", "all_ages"))):
        tier = [f for f in facts if f.confidence == conf and f.kind in kinds]
        if not tier:
            continue
        mins = [f for f in tier if f.field == "min_age"]
        maxs = [f for f in tier if f.field == "max_age"]
        lo_fact = min(mins, key=lambda f: f.value) if mins else None
        hi_fact = max(maxs, key=lambda f: f.value) if maxs else None
        lo = lo_fact.value if lo_fact else None
        hi = hi_fact.value if hi_fact else None
        if lo is not None and hi is not None and lo > hi:
            # Contradicting bounds ("over 18s" and "under 16s"): keep the lower bound's.
            hi, hi_fact = None, None
        closed = {f.quote for f in maxs}
        if hi is not None and any(f.quote not in closed and f.value > hi for f in mins):
            # "Juniors (8 to 10), youths (11 to 17) and seniors (over 18s)": no upper bound.
            hi, hi_fact = None, None
        if conf == "certain" and kinds == ("",) and all(f.source == "description" for f in tier):
            every = [f for f in facts if f.kind == "all_ages" and f.confidence == "certain"]
            if every:
                # "For people of all ages ... (the Tuesday clinic is for 15-24 year olds)": the
                # numbers are a part of what it offers; the service is for all ages.
                return 0, None, every[0]
        return lo, hi, lo_fact or hi_fact
    return None, None, None
