"""The needs vocabulary: canonical needs, broad areas, synonyms, and the contract's closed lists.

Everything here is driven by ``data/vocabulary.yaml``, a commented file a local authority can
extend without touching code. :func:`load_vocabulary` reads and validates it (every problem is
reported at once in one :class:`~matcher.errors.ConfigError`) and returns a :class:`Vocabulary`.

Two jobs use it:

* :meth:`Vocabulary.normalise` turns the words a family or a provider types as *needs*
  ("ASC", "dyslexsia?", "speech and language", "on the spectrum") into canonical need ids.
  Exact synonyms first, then known phrases inside longer words, then a rapidfuzz fuzzy match
  for misspellings. Nothing is dropped: words it cannot place are returned in
  ``unrecognised``.
* :meth:`Vocabulary.find_in_text` reads a free-text service description and says which needs
  it mentions and which it says it does *not* cater for ("not the right setting for pupils
  with SLD", "we are not able to support children who need tube feeding").

Both work on tokens (words, plus the separators ``, ; /``) and look phrases up in
dictionaries, so they are word-boundary safe ("ASC" never matches inside "mascot") and fast
enough to read thousands of descriptions at import time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from rapidfuzz import fuzz, process

from matcher.errors import ConfigError
from matcher.resources import data_path

__all__ = [
    "Need",
    "NeedMatch",
    "Normalised",
    "TextNeeds",
    "Vocabulary",
    "load_vocabulary",
    "DEFAULT_VOCABULARY_PATH",
    "ALL_SEND",
    "AREA_PREFIX",
    "CONTRACT_VALUES",
]

#: ``data/vocabulary.yaml``: in the installed package, or the repository's (:mod:`matcher.resources`).
DEFAULT_VOCABULARY_PATH = data_path("vocabulary.yaml")

#: The special need id for services open to any SEND.
ALL_SEND = "all_send"

#: Prefix of broad-area ids in need lists: ``area:ci``, ``area:cl``, ``area:semh``, ``area:sp``.
AREA_PREFIX = "area:"

#: Values fixed by ../shared/contract.md: the YAML may add to these lists, never drop one.
CONTRACT_VALUES: dict[str, tuple[str, ...]] = {
    "categories": ("education", "health", "social_care", "short_breaks", "leisure",
                   "support_advice", "training_employment", "travel", "transition", "assessment"),
    "delivery": ("in_person", "online", "phone", "home_visit"),
    "when": ("weekdays", "evenings", "weekends", "school_holidays", "term_time"),
    "accessibility": ("wheelchair", "sensory_friendly", "quiet_space", "bsl", "changing_places"),
    "referral": ("self", "professional", "gp", "school", "ehcp"),
    "transitions": ("into_early_years", "early_years_to_primary", "primary_to_secondary",
                    "secondary_to_post16", "preparing_for_adulthood"),
    "travel_modes": ("walk", "public_transport", "car", "travel_assistance", "online_only"),
    "cost": ("free", "paid", "free_for_some"),
}

#: The four broad areas of the SEND Code of Practice; the YAML must define each.
_REQUIRED_AREAS = ("ci", "cl", "semh", "sp")

_NEED_FIELDS_REQUIRED = ("id", "label", "phrase", "areas", "synonyms")
_NEED_FIELDS_OPTIONAL = ("code", "broader", "list_only", "exact_case")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# ---------------------------------------------------------------------------------------------
# Public data classes (docs/design.md)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """One canonical need."""

    id: str                    # "autism", "adhd", "slcn", ...
    label: str                 # "Autism" (for reasons shown to parents)
    areas: tuple[str, ...]     # broad areas: "ci", "cl", "semh", "sp" (several allowed)
    code: str | None           # DfE SEN type code ("ASD", "SLCN", ...)
    phrase: str                # how a reason names it: "autistic children and young people"
    synonyms: tuple[str, ...]  # all accepted words, abbreviations, misspellings


@dataclass(frozen=True)
class NeedMatch:
    """One need recognised in the words given."""

    text: str          # the words as given
    need: str          # canonical need id, an area id "area:ci", or "all_send"
    confidence: float  # 1.0 exact synonym, phrase_confidence for a phrase, else rapidfuzz score / 100
    method: str        # "exact" | "phrase" | "fuzzy"


@dataclass(frozen=True)
class Normalised:
    """The result of :meth:`Vocabulary.normalise`."""

    matches: list[NeedMatch]
    unrecognised: list[str]  # kept, never dropped

    @property
    def needs(self) -> list[str]:
        """Unique canonical ids in order of first mention."""
        return list(dict.fromkeys(m.need for m in self.matches))


@dataclass(frozen=True)
class TextNeeds:
    """What a free-text description says about needs (and accessibility).

    ``mentioned`` and ``excluded`` never overlap: a need the text says it does not cater for
    is only in ``excluded``. Both are in order of first appearance.
    """

    mentioned: list[str]
    excluded: list[str]
    accessibility_mentioned: list[str] = field(default_factory=list)
    accessibility_excluded: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------

#: Words (letters and digits; an apostrophe inside a word is dropped: "Down's" -> "Downs") and
#: the separators that split lists of needs.
_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019\u2018`\u00b4][^\W_]+)*|[,;/&+\n]")
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`\u00b4")
_SEPARATOR_FOR = {"&": "and", "+": "/", "\n": ";"}
#: Tokens that may split a list of needs ("autism, ADHD", "dyslexia/dyspraxia", "ASD and
#: anxiety") unless they sit inside a known phrase ("speech and language").
_SOFT_SEPARATORS = frozenset({",", "/", "and", "or"})
_HARD_SEPARATOR = ";"
_PUNCT_TOKENS = frozenset({",", "/", ";"})


class _Token(NamedTuple):
    text: str   # as written, apostrophes removed; separators normalised
    start: int  # offsets in the original string
    end: int


def _tokenise(text: str) -> list[_Token]:
    out: list[_Token] = []
    for m in _TOKEN_RE.finditer(text):
        raw = m.group(0)
        tok = _SEPARATOR_FOR.get(raw, raw.translate(_APOSTROPHES))
        out.append(_Token(tok, m.start(), m.end()))
    return out


def _key(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form used for every lookup."""
    return " ".join(t.text.lower() for t in _tokenise(text))


def _is_code(synonym: str) -> bool:
    """True for short capitalised codes (ASC, ADD, HI, SpLD, AD/HD) that must keep their case
    in running text. Codes have no spaces, at least two capitals and no more lower-case
    letters than capitals."""
    if any(c.isspace() for c in synonym):
        return False
    upper = sum(c.isupper() for c in synonym)
    lower = sum(c.islower() for c in synonym)
    return upper >= 2 and upper >= lower


# ---------------------------------------------------------------------------------------------
# Phrase scanner: longest-first dictionary lookups over token n-grams
# ---------------------------------------------------------------------------------------------

Target = tuple[str, ...]


class _Scanner:
    """Finds known phrases in a token list, longest first, left to right, without overlaps.

    ``ci`` maps lower-case keys (matched in any case); ``cs`` maps exact-case keys (codes
    such as "ASC", matched only as written). A final plural "s" is tolerated ("SpLDs").
    """

    def __init__(self, ci: Mapping[str, Target], cs: Mapping[str, Target]):
        self.ci = dict(ci)
        self.cs = dict(cs)
        self.first_ci = {k.split(" ")[0] for k in self.ci}
        self.first_cs = {k.split(" ")[0] for k in self.cs}
        self.max_len = max((k.count(" ") + 1 for k in [*self.ci, *self.cs]), default=1)

    def _first_ok(self, tok: str, low: str) -> bool:
        if low in self.first_ci or tok in self.first_cs:
            return True
        if len(tok) > 3 and tok.endswith("s"):
            return low[:-1] in self.first_ci or tok[:-1] in self.first_cs
        return False

    def _lookup(self, toks: Sequence[str], lows: Sequence[str], i: int, n: int) -> Target | None:
        low = " ".join(lows[i:i + n])
        hit = self.ci.get(low)
        if hit is not None:
            return hit
        exact = " ".join(toks[i:i + n])
        hit = self.cs.get(exact)
        if hit is not None:
            return hit
        last = toks[i + n - 1]
        if len(last) > 3 and last.endswith("s"):   # plural: "SpLDs", "tics"
            hit = self.ci.get(low[:-1])
            if hit is None:
                hit = self.cs.get(exact[:-1])
        return hit

    def scan(self, toks: Sequence[str]) -> list[tuple[int, int, Target]]:
        """``(start, end, target)`` token spans of every phrase found."""
        lows = [t.lower() for t in toks]
        found: list[tuple[int, int, Target]] = []
        i, n = 0, len(toks)
        while i < n:
            hit: Target | None = None
            length = 0
            if self._first_ok(toks[i], lows[i]):
                for length in range(min(self.max_len, n - i), 0, -1):
                    hit = self._lookup(toks, lows, i, length)
                    if hit is not None:
                        break
            if hit is not None:
                found.append((i, i + length, hit))
                i += length
            else:
                i += 1
        return found


# ---------------------------------------------------------------------------------------------
# Negation in descriptions
# ---------------------------------------------------------------------------------------------

#: Clause boundaries: sentence ends, ; : newlines, spaced dashes, and contrast words.
_CLAUSE_RE = re.compile(
    r"(?<=[.!?])\s+|[;:\n\r]+|\s[-\u2013\u2014]+\s"
    r"|\b(?:but|however|although|though|whereas|whilst|while|instead|unless|otherwise)\b"
    r"|,?\s+and\s+(?=(?:\w+\s+){0,2}(?:not|cannot|can't|can\u2019t|don't|don\u2019t|doesn't|"
    r"doesn\u2019t|won't|won\u2019t|isn't|isn\u2019t|aren't|aren\u2019t|unable|never)\b)",
    re.IGNORECASE,
)
#: Negations that do not refuse anything ("whether or not they have a diagnosis").
_BENIGN_RE = re.compile(
    r"\b(?:whether or not|or not|with or without|not needed|not required|not necessary|"
    r"not essential|no need|dont need|do not need|does not need|doesnt need|need not|"
    r"dont have to|do not have to|does not have to|not only|not just|not always|not sure|"
    r"no matter|not for profit|not a problem|dont worry|do not worry|not too|not alone)\b"
)
_NEG = r"(?:not|cannot|cant|dont|doesnt|didnt|wont|isnt|arent|unable|never|no longer)"
_REFUSAL_VERB = (
    r"(?:offer|offers|offered|provide|provides|provided|support|supports|supported|"
    r"accept|accepts|accepted|cater|caters|catered|carry out|carries out|carried out|"
    r"diagnose|diagnoses|assess|assesses|treat|treats|admit|admits|cover|covers|covered|"
    r"deliver|delivers|delivered|accommodate|work with|help with|meet the needs|"
    r"suitable|appropriate|the right|designed|equipped|available|for|include|includes|"
    r"included|open to|eligible|able to (?:support|offer|provide|accept|cater|meet|help|"
    r"admit|accommodate|deliver|work with|take))"
)
#: A provider saying what it does not do: "we do not currently offer", "is not the right
#: setting for", "are NOT carried out", "cannot support", "not suitable for".
_REFUSAL_RE = re.compile(
    rf"\b{_NEG}\b(?:\s+\w+){{0,3}}?\s+{_REFUSAL_VERB}\b"
    r"|\b(?:we|service|team|clinic|school)\s+(?:are\s+|is\s+)?(?:do not|does not|dont|doesnt|"
    r"cannot|cant|no longer|not able to|unable to)(?:\s+currently)?\s+see\b"
    r"|\bunsuitable\b|\bnot\s+\w+\s+suitable\b"
)
#: Exceptions: only needs named after the cue are excluded ("all SEND except PMLD").
_EXCEPT_RE = re.compile(r"\b(?:except|excluding|apart from|other than|with the exception of)\b")
#: "no lift", "there is no Changing Places toilet", "not wheelchair accessible".
_ACCESS_NEG_RE = re.compile(
    r"\b(?:no|not|without|isnt|arent|lacks|lacking)"
    r"(?:\s+(?:a|an|any|fully|currently|yet|full|easy|proper|suitable))*\s*$"
)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_RE.split(text) if c and c.strip()]


# ---------------------------------------------------------------------------------------------
# The vocabulary
# ---------------------------------------------------------------------------------------------


class Vocabulary:
    """The needs taxonomy and the closed vocabularies, with normalisation and text reading.

    Build one with :func:`load_vocabulary` (or :meth:`from_mapping` for a parsed YAML
    document). Attributes:

    * ``needs``: canonical need id -> :class:`Need` (``all_send`` and areas are not in it);
    * ``areas``: "ci" -> "Communication and interaction", ...;
    * ``categories``, ``delivery``, ``when``, ``accessibility``, ``referral``, ``transitions``,
      ``travel_modes``, ``cost``: contract value -> plain-English label;
    * ``sen_types``: DfE SEN type code -> name;
    * ``fuzzy_threshold``, ``min_fuzzy_length``, ``phrase_confidence``: matching settings.
    """

    needs: dict[str, Need]
    areas: dict[str, str]
    categories: dict[str, str]
    delivery: dict[str, str]
    when: dict[str, str]
    accessibility: dict[str, str]
    referral: dict[str, str]
    transitions: dict[str, str]
    travel_modes: dict[str, str]
    cost: dict[str, str]
    audience: dict[str, str]

    def __init__(self, data: Mapping[str, Any], source: str = "<vocabulary>",
                 problems: Sequence[str] = ()):
        """Validate ``data`` (a parsed vocabulary YAML document) and build the lookups.

        ``problems`` are ones already found while reading the file (duplicate keys); they are
        reported together with the rest. Raises :class:`ConfigError` listing every problem
        found, not just the first.
        """
        self.source = source
        problems = list(problems)
        _Builder(self, data, problems).build()
        if problems:
            raise ConfigError(
                f"The needs vocabulary {source} has {len(problems)} problem"
                f"{'s' if len(problems) != 1 else ''}:\n"
                + "\n".join(f"  - {p}" for p in problems)
                + "\nFix these in the file and load it again."
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<mapping>") -> Vocabulary:
        """Same as the constructor; reads better at call sites."""
        return cls(data, source)

    # -- lookups ----------------------------------------------------------------------------

    def areas_of(self, need_id: str) -> tuple[str, ...]:
        """Broad areas of a need id, an ``area:*`` id (itself) or ``all_send`` (all four).

        Unknown ids (for example a need removed from the file since data was imported) have
        no areas: ``()``.
        """
        if need_id == ALL_SEND:
            return tuple(self.areas)
        if need_id.startswith(AREA_PREFIX):
            area = need_id[len(AREA_PREFIX):]
            return (area,) if area in self.areas else ()
        need = self.needs.get(need_id)
        return need.areas if need else ()

    def label_of(self, need_id: str) -> str:
        """Plain-English label of a need id, ``area:*`` id or ``all_send``; the id if unknown."""
        if need_id == ALL_SEND:
            return self.all_send_label
        if need_id.startswith(AREA_PREFIX):
            return self.areas.get(need_id[len(AREA_PREFIX):], need_id)
        need = self.needs.get(need_id)
        return need.label if need else need_id

    def phrase_of(self, need_id: str) -> str:
        """How a reason names the children served ("autistic children and young people")."""
        if need_id == ALL_SEND:
            return self.all_send_phrase
        if need_id.startswith(AREA_PREFIX):
            label = self.areas.get(need_id[len(AREA_PREFIX):])
            return f"children with {label.lower()} needs" if label else need_id
        need = self.needs.get(need_id)
        return need.phrase if need else need_id

    def broader_of(self, need_id: str) -> tuple[str, ...]:
        """Wider needs whose services usually also serve this one (``cerebral_palsy`` ->
        ``("physical_disability",)``). Empty when none are declared."""
        return self._broader.get(need_id, ())

    def in_area(self, area: str) -> list[str]:
        """Canonical need ids that belong to a broad area ("ci" or "area:ci")."""
        area = area[len(AREA_PREFIX):] if area.startswith(AREA_PREFIX) else area
        return [nid for nid, need in self.needs.items() if area in need.areas]

    def audience_of(self, text: str) -> str | None:
        """The audience value a word or tag names ("Parents", "young people", "LGBTQ+"), or
        ``None``; case, punctuation and spacing are ignored."""
        return self._audience_words.get(_audience_key(text))

    def is_known(self, need_id: str) -> bool:
        """True for a canonical need id, ``all_send`` or an ``area:*`` id of this vocabulary."""
        if need_id == ALL_SEND or need_id in self.needs:
            return True
        return need_id.startswith(AREA_PREFIX) and need_id[len(AREA_PREFIX):] in self.areas

    # -- normalisation ----------------------------------------------------------------------

    def normalise(self, words: str | Sequence[str]) -> Normalised:
        """Turn needs as people write them into canonical ids.

        ``words`` is one string (split on commas, semicolons, "and", "or", "/" and newlines,
        except inside known phrases such as "speech and language") or a list of strings.
        Each piece is matched, in order: exactly (confidence 1.0), by a known phrase inside it
        ("my son is on the spectrum"; ``phrase_confidence``), then fuzzily (rapidfuzz
        ``fuzz.ratio`` / 100, only for words of ``min_fuzzy_length`` characters or more).
        Pieces that match nothing are returned in ``unrecognised`` as written.

        >>> v = load_vocabulary()
        >>> v.normalise("ASC, dyslexsia? and speech and language").needs
        ['autism', 'dyslexia', 'slcn']
        """
        items: Iterable[Any] = [words] if isinstance(words, str) else words
        matches: list[NeedMatch] = []
        unrecognised: list[str] = []
        for item in items:
            if item is None:
                continue
            self._normalise_one(str(item), matches, unrecognised)
        return Normalised(matches, unrecognised)

    def _normalise_one(self, raw: str, matches: list[NeedMatch], unrecognised: list[str]) -> None:
        toks = _tokenise(raw)
        words = [t for t in toks if t.text not in _PUNCT_TOKENS]
        if not words:
            return
        whole = _key(raw)
        if whole in self._ignore:
            return
        target = self._exact.get(whole)
        if target is not None:
            self._add(matches, raw.strip(), target, 1.0, "exact")
            return
        if len(words) > 1 and not self._scan_short.scan([t.text for t in toks]):
            # A misspelt phrase that contains a separator ("speach and langauge") is matched
            # whole before it is split into words that mean nothing on their own.
            found = self._fuzzy(" ".join(t.text.lower() for t in words))
            if found:
                for target, score in found:
                    self._add(matches, raw.strip(), target, round(score / 100.0, 4), "fuzzy")
                return
        for piece in self._split(toks):
            text = raw[piece[0].start:piece[-1].end].strip()
            self._match_piece(piece, text, matches, unrecognised)

    def _split(self, toks: list[_Token]) -> list[list[_Token]]:
        """Split on separators that are not inside a known phrase."""
        protected: set[int] = set()
        for start, end, _ in self._scan_short.scan([t.text for t in toks]):
            protected.update(range(start, end))
        pieces: list[list[_Token]] = []
        current: list[_Token] = []
        for i, tok in enumerate(toks):
            low = tok.text.lower()
            if low == _HARD_SEPARATOR or (low in _SOFT_SEPARATORS and i not in protected):
                if current:
                    pieces.append(current)
                current = []
            else:
                current.append(tok)
        if current:
            pieces.append(current)
        return [p for p in pieces if any(t.text not in _PUNCT_TOKENS for t in p)]

    def _match_piece(self, piece: list[_Token], text: str, matches: list[NeedMatch],
                     unrecognised: list[str]) -> None:
        toks = [t.text for t in piece]
        key = " ".join(t.lower() for t in toks)
        if key in self._ignore:
            return
        target = self._exact.get(key)
        if target is not None:
            self._add(matches, text, target, 1.0, "exact")
            return
        n_words = sum(t not in _PUNCT_TOKENS for t in toks)
        scanner = self._scan_short if n_words <= 3 else self._scan_long
        hits = scanner.scan(toks)
        if hits:
            for _, _, target in hits:
                self._add(matches, text, target, self.phrase_confidence, "phrase")
            return
        found = self._fuzzy(key)
        if found is None and 1 < n_words <= 6:
            found = self._fuzzy_words([t for t in toks if t not in _PUNCT_TOKENS])
        if found:
            for target, score in found:
                self._add(matches, text, target, round(score / 100.0, 4), "fuzzy")
            return
        unrecognised.append(text)

    def _fuzzy(self, key: str) -> list[tuple[Target, float]] | None:
        if len(key.replace(" ", "")) < self.min_fuzzy_length or key in self._stopwords:
            return None
        best = process.extractOne(
            key, self._fuzzy_keys,
            scorer=fuzz.ratio,
            processor=None,   # both sides are already lower-cased, punctuation-free keys
            score_cutoff=self.fuzzy_threshold,
        )
        if best is None:
            return None
        choice, score, _ = best
        return [(self._exact[choice], float(score))]

    def _fuzzy_words(self, words: list[str]) -> list[tuple[Target, float]] | None:
        """Fuzzy-match single words and word pairs of a short piece ("suspected dyslexai")."""
        found: list[tuple[Target, float]] = []
        lows = [w.lower() for w in words]
        grams = [" ".join(lows[i:i + 2]) for i in range(len(lows) - 1)] + lows
        for gram in grams:
            hit = self._fuzzy(gram)
            if hit and all(hit[0][0] != t for t, _ in found):
                found.extend(hit)
        return found or None

    @staticmethod
    def _add(matches: list[NeedMatch], text: str, target: Target, confidence: float,
             method: str) -> None:
        for need in target:
            if not any(m.text == text and m.need == need for m in matches):
                matches.append(NeedMatch(text, need, confidence, method))

    # -- free text --------------------------------------------------------------------------

    def find_in_text(self, text: str, detect_exclusions: bool = True) -> TextNeeds:
        """Needs a free-text description mentions, and needs it says it does not cater for.

        A need is *excluded* when it is named in the same clause as a refusal ("we do not
        offer", "is not the right setting for", "cannot support", "not suitable for") or
        after an exception ("all SEND except PMLD"). Harmless negations ("whether or not they
        have a diagnosis", "no diagnosis needed") do not count. Short capitalised codes (ASC,
        HI, ADD, SEN) only match as written in capitals.

        Pass ``detect_exclusions=False`` for a family's own words, where "school doesn't
        support his dyslexia" is about someone else's refusal: every need found is then
        ``mentioned``.

        >>> v = load_vocabulary()
        >>> v.find_in_text("For autistic pupils. Not suitable for PMLD.")
        TextNeeds(mentioned=['autism'], excluded=['pmld'], accessibility_mentioned=[], accessibility_excluded=[])
        """
        mentioned: dict[str, None] = {}
        excluded: dict[str, None] = {}
        acc_mentioned: dict[str, None] = {}
        acc_excluded: dict[str, None] = {}
        if not text:
            return TextNeeds([], [])
        for clause in _clauses(text):
            toks = [t.text for t in _tokenise(clause)]
            if not toks:
                continue
            hits = self._scan_text.scan(toks)
            acc_hits = self._scan_access.scan(toks)
            if not hits and not acc_hits:
                continue
            lows = [t.lower() for t in toks]
            lowered = " ".join(lows)
            offsets: list[int] = []
            pos = 0
            for low in lows:
                offsets.append(pos)
                pos += len(low) + 1
            cleaned = _BENIGN_RE.sub(lambda m: "_" * len(m.group(0)), lowered)
            refusal = detect_exclusions and _REFUSAL_RE.search(cleaned) is not None
            exc = _EXCEPT_RE.search(cleaned)
            except_at = exc.start() if exc and detect_exclusions else None
            for start, _end, target in hits:
                negated = (
                    refusal
                    or (except_at is not None and offsets[start] > except_at)
                    or (detect_exclusions and start > 0 and lows[start - 1] == "not")
                )
                for need in target:
                    (excluded if negated else mentioned)[need] = None
            for start, _end, target in acc_hits:
                before = cleaned[:offsets[start]]
                negated = refusal or (detect_exclusions
                                      and _ACCESS_NEG_RE.search(before) is not None)
                for value in target:
                    (acc_excluded if negated else acc_mentioned)[value] = None
        # A need the text also names outside any refusal is one it serves: a refusal naming
        # it limits what is offered ("we support ADHD ... we do not offer ADHD assessments",
        # "mild eating disorders (not anorexia)"), it does not turn the need away.
        excluded = {n: None for n in excluded if n not in mentioned}
        return TextNeeds(
            mentioned=[n for n in mentioned if n not in excluded],
            excluded=list(excluded),
            accessibility_mentioned=[a for a in acc_mentioned if a not in acc_excluded],
            accessibility_excluded=list(acc_excluded),
        )

    def __repr__(self) -> str:
        return f"Vocabulary({self.source!r}, {len(self.needs)} needs, {len(self._exact)} words)"


# ---------------------------------------------------------------------------------------------
# Validation and construction
# ---------------------------------------------------------------------------------------------


def _str_list(value: Any, where: str, problems: list[str]) -> list[str]:
    """A list of non-empty strings (``None`` counts as empty); reports anything else."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where} must be a list of words, got {type(value).__name__}")
        return []
    out: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            problems.append(f"{where} contains {item!r}, which is not a word")
        elif not _key(str(item)):
            problems.append(f"{where} contains {item!r}, which has no letters or digits")
        else:
            out.append(str(item))
    return out


def _label_map(value: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.append(f"section '{where}' is missing or is not a mapping of value: label")
        return {}
    return value


class _Builder:
    """Fills a :class:`Vocabulary` from parsed YAML, collecting every problem."""

    def __init__(self, vocab: Vocabulary, data: Any, problems: list[str]):
        self.v = vocab
        self.data = data if isinstance(data, dict) else {}
        self.problems = problems
        if not isinstance(data, dict):
            problems.append("the file must be a mapping with sections such as 'areas' and 'needs'")
        #: lower-case key -> (target, who defined it) for collision reports
        self.owner: dict[str, tuple[Target, str]] = {}
        self.ci_text: dict[str, Target] = {}
        self.cs_text: dict[str, Target] = {}
        self.ci_list: dict[str, Target] = {}
        self.cs_list: dict[str, Target] = {}

    # -- helpers ----------------------------------------------------------------------------

    def _register(self, synonym: str, target: Target, who: str, *, list_only: bool = False,
                  exact_case: bool = False) -> None:
        toks = [t.text for t in _tokenise(synonym)]
        key = " ".join(t.lower() for t in toks)
        previous = self.owner.get(key)
        if previous is not None and previous[0] != target:
            self.problems.append(
                f"the word {synonym!r} is listed for both {previous[1]} and {who}; "
                "a word may only mean one thing, so remove it from one of them"
            )
            return
        if previous is None:
            self.owner[key] = (target, who)
        case_sensitive = exact_case or _is_code(synonym)
        if case_sensitive:
            self.cs_list[" ".join(toks)] = target
            if not list_only:
                self.cs_text[" ".join(toks)] = target
        else:
            self.ci_list[key] = target
            if not list_only:
                self.ci_text[key] = target

    def _settings(self) -> None:
        m = self.data.get("matching", {})
        if not isinstance(m, dict):
            self.problems.append("'matching' must be a mapping")
            m = {}
        bounds = {
            "fuzzy_threshold": (85.0, 50.0, 100.0),
            "min_fuzzy_length": (5, 1, 50),
            "phrase_confidence": (0.9, 0.0, 1.0),
        }
        for name, (default, lo, hi) in bounds.items():
            value = m.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
                self.problems.append(
                    f"matching.{name} must be a number from {lo:g} to {hi:g}, got {value!r}")
                value = default
            setattr(self.v, name, type(default)(value))
        for name in m:
            if name not in bounds:
                self.problems.append(
                    f"matching.{name} is not a known setting (known: {', '.join(bounds)})")

    # -- sections ---------------------------------------------------------------------------

    def build(self) -> None:
        v, d, problems = self.v, self.data, self.problems
        self._settings()

        # Areas.
        v.areas = {}
        areas = _label_map(d.get("areas"), "areas", problems)
        for area_id, spec in areas.items():
            where = f"area '{area_id}'"
            if not isinstance(spec, dict) or not isinstance(spec.get("label"), str) \
                    or not spec["label"].strip():
                problems.append(f"{where} needs a 'label' (for example: Communication and interaction)")
                continue
            v.areas[str(area_id)] = spec["label"].strip()
            for s in _str_list(spec.get("synonyms"), f"{where} synonyms", problems):
                self._register(s, (AREA_PREFIX + str(area_id),), where)
        for area_id in _REQUIRED_AREAS:
            if area_id not in v.areas:
                problems.append(f"the broad area '{area_id}' is missing from 'areas'")

        # SEN type codes.
        sen = d.get("sen_types")
        v.sen_types = {str(k): str(val) for k, val in sen.items()} if isinstance(sen, dict) else {}
        if not isinstance(sen, dict):
            problems.append("section 'sen_types' (DfE SEN type codes) is missing or not a mapping")

        # all_send.
        spec = d.get(ALL_SEND)
        if not isinstance(spec, dict):
            problems.append("section 'all_send' is missing (label, phrase and synonyms for 'any SEND')")
            spec = {}
        v.all_send_label = str(spec.get("label") or "Any special educational need or disability")
        v.all_send_phrase = str(spec.get("phrase") or "children and young people with any SEND")
        for s in _str_list(spec.get("synonyms"), "all_send synonyms", problems):
            self._register(s, (ALL_SEND,), "all_send")
        for s in _str_list(spec.get("list_only"), "all_send list_only", problems):
            self._register(s, (ALL_SEND,), "all_send", list_only=True)

        self._needs()
        self._combinations()

        # Lists of ignored words and fuzzy stopwords.
        v._ignore = frozenset(_key(s) for s in _str_list(d.get("ignore"), "ignore", problems))
        v._stopwords = frozenset(
            _key(s) for s in _str_list(d.get("fuzzy_stopwords"), "fuzzy_stopwords", problems))

        self._closed()

        # Lookups.
        v._exact = {key: target for key, (target, _) in self.owner.items()}
        # Short pieces ("possible asd") also accept codes in lower case, except two-letter
        # ones, which are too often ordinary words ("hi there", "cp").
        all_ci = {**self.ci_list, **{k.lower(): t for k, t in self.cs_list.items()
                                     if len(k.replace(" ", "")) >= 3}}
        v._scan_short = _Scanner(all_ci, {})
        v._scan_long = _Scanner(self.ci_list, self.cs_list)
        v._scan_text = _Scanner(self.ci_text, self.cs_text)
        v._fuzzy_keys = [
            k for k in self.ci_list
            if len(k.replace(" ", "")) >= v.min_fuzzy_length and k in v._exact
        ]

    def _needs(self) -> None:
        v, problems = self.v, self.problems
        v.needs = {}
        v._broader = {}
        raw = self.data.get("needs")
        if not isinstance(raw, list) or not raw:
            problems.append("section 'needs' is missing or empty: it must be a list of needs")
            raw = []
        pending_broader: list[tuple[str, list[str]]] = []
        for i, spec in enumerate(raw, start=1):
            if not isinstance(spec, dict):
                problems.append(f"need #{i} is not a mapping of fields (id, label, phrase, ...)")
                continue
            nid = spec.get("id")
            where = f"need '{nid}'" if nid else f"need #{i}"
            missing = [f for f in _NEED_FIELDS_REQUIRED if f not in spec]
            if missing:
                problems.append(f"{where} is missing the field{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(missing)}")
            unknown = [f for f in spec if f not in _NEED_FIELDS_REQUIRED + _NEED_FIELDS_OPTIONAL]
            if unknown:
                problems.append(f"{where} has unknown field(s) {', '.join(map(str, unknown))}; "
                                f"allowed: {', '.join(_NEED_FIELDS_REQUIRED + _NEED_FIELDS_OPTIONAL)}")
            if not isinstance(nid, str) or not _ID_RE.match(nid):
                if "id" in spec:
                    problems.append(f"{where}: the id must be lower-case letters, digits and "
                                    f"underscores, starting with a letter (got {nid!r})")
                continue
            if nid in v.needs or nid == ALL_SEND:
                problems.append(f"the need id '{nid}' is defined twice; ids must be unique")
                continue
            label, phrase = spec.get("label"), spec.get("phrase")
            for name, value in (("label", label), ("phrase", phrase)):
                if name in spec and (not isinstance(value, str) or not value.strip()):
                    problems.append(f"{where}: '{name}' must be a non-empty text")
            areas = spec.get("areas")
            area_list: list[str] = []
            if "areas" in spec:
                if not isinstance(areas, list):
                    problems.append(f"{where}: 'areas' must be a list such as [ci] or [cl, sp]")
                else:
                    for a in areas:
                        if a not in v.areas and a not in _REQUIRED_AREAS:
                            problems.append(
                                f"{where} has the unknown area {a!r}; use one of "
                                f"{', '.join(v.areas or _REQUIRED_AREAS)}")
                        else:
                            area_list.append(str(a))
            code = spec.get("code")
            if code is not None and (not isinstance(code, str) or code not in v.sen_types):
                problems.append(f"{where} has the unknown DfE code {code!r}; use one of "
                                f"{', '.join(v.sen_types)} or null")
                code = None
            synonyms = _str_list(spec.get("synonyms"), f"{where} synonyms", problems)
            list_only = _str_list(spec.get("list_only"), f"{where} list_only", problems)
            exact_case = _str_list(spec.get("exact_case"), f"{where} exact_case", problems)
            if "synonyms" in spec and not synonyms and not list_only and not exact_case:
                problems.append(f"{where} has no synonyms; list at least the words people use")
            broader = _str_list(spec.get("broader"), f"{where} broader", problems)
            pending_broader.append((nid, broader))
            if not isinstance(label, str) or not isinstance(phrase, str) or missing:
                continue
            target = (nid,)
            who = f"need '{nid}'"
            for s in [label, *synonyms]:
                self._register(s, target, who)
            for s in list_only:
                self._register(s, target, who, list_only=True)
            for s in exact_case:
                self._register(s, target, who, exact_case=True)
            all_words = tuple(dict.fromkeys([label, *synonyms, *list_only, *exact_case]))
            v.needs[nid] = Need(nid, label.strip(), tuple(area_list),
                                code, phrase.strip(), all_words)
        for nid, broader in pending_broader:
            bad = [b for b in broader if b not in v.needs or b == nid]
            for b in bad:
                problems.append(f"need '{nid}' lists the unknown broader need {b!r}")
            v._broader[nid] = tuple(b for b in broader if b not in bad)

    def _combinations(self) -> None:
        raw = self.data.get("combinations") or []
        if not isinstance(raw, list):
            self.problems.append("'combinations' must be a list of {words: [...], needs: [...]}")
            return
        for i, spec in enumerate(raw, start=1):
            where = f"combination #{i}"
            if not isinstance(spec, dict):
                self.problems.append(f"{where} must have 'words' and 'needs'")
                continue
            words = _str_list(spec.get("words"), f"{where} words", self.problems)
            needs = _str_list(spec.get("needs"), f"{where} needs", self.problems)
            unknown = [n for n in needs if n not in self.v.needs]
            for n in unknown:
                self.problems.append(f"{where} names the unknown need {n!r}")
            if len(needs) < 2:
                self.problems.append(f"{where} must name at least two needs "
                                     "(a word for one need belongs in its synonyms)")
            if unknown or not words or not needs:
                continue
            for w in words:
                self._register(w, tuple(needs), f"{where} ({' + '.join(needs)})")

    def _closed(self) -> None:
        v, problems = self.v, self.problems
        access_ci: dict[str, Target] = {}
        access_cs: dict[str, Target] = {}
        for name, required in CONTRACT_VALUES.items():
            section = _label_map(self.data.get(name), name, problems)
            labels: dict[str, str] = {}
            for value, spec in section.items():
                where = f"{name}.{value}"
                synonyms: list[str] = []
                if isinstance(spec, dict):
                    label = spec.get("label")
                    synonyms = _str_list(spec.get("synonyms"), f"{where} synonyms", problems)
                else:
                    label = spec
                if not isinstance(label, str) or not label.strip():
                    problems.append(f"{where} needs a plain-English label")
                    continue
                labels[str(value)] = label.strip()
                for s in synonyms:
                    toks = [t.text for t in _tokenise(s)]
                    if _is_code(s):
                        access_cs[" ".join(toks)] = (str(value),)
                    else:
                        key = " ".join(t.lower() for t in toks)
                        if key in access_ci and access_ci[key] != (str(value),):
                            problems.append(f"the word {s!r} is listed under two {name} values")
                        access_ci[key] = (str(value),)
            for value in required:
                if value not in labels and section:
                    problems.append(f"'{name}' is missing the contract value '{value}' "
                                    "(../shared/contract.md); add it back with a label")
            setattr(v, name, labels)
        v._scan_access = _Scanner(access_ci, access_cs)
        self._audience()

    def _audience(self) -> None:
        """``audience``: who a service is for (value -> label), and its words."""
        v, problems = self.v, self.problems
        section = _label_map(self.data.get("audience"), "audience", problems)
        labels: dict[str, str] = {}
        words: dict[str, str] = {}
        for value, spec in section.items():
            where = f"audience.{value}"
            if not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
                problems.append(f"{where} needs a label and a list of synonyms")
                continue
            labels[str(value)] = spec["label"].strip()
            for s in [str(value).replace("_", " "),
                      *_str_list(spec.get("synonyms"), f"{where} synonyms", problems)]:
                key = _audience_key(s)
                if key in words and words[key] != str(value):
                    problems.append(f"the word {s!r} is listed under two audience values")
                words[key] = str(value)
        v.audience = labels
        v._audience_words = words


def _audience_key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that records duplicate mapping keys instead of silently keeping one."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[str] = []


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue
        if duplicate:
            loader.duplicates.append(
                f"the key {key!r} appears twice in one section (line {key_node.start_mark.line + 1}); "
                "the second would silently replace the first, so merge them")
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> tuple[Any, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"The needs vocabulary file {path} does not exist. Pass the path of a "
            "vocabulary YAML file, or restore data/vocabulary.yaml from the repository."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The needs vocabulary file {path} cannot be read ({exc}). "
                          "Check that it is a UTF-8 text file you may read.") from exc
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"The needs vocabulary file {path} is not valid YAML: {exc}. "
                          "Fix the line shown (check indentation and quotes).") from exc
    finally:
        loader.dispose()
    return data, loader.duplicates


@functools.lru_cache(maxsize=8)
def load_vocabulary(path: Path | str | None = None) -> Vocabulary:
    """Load and validate a vocabulary file (default ``data/vocabulary.yaml``); cached.

    Raises :class:`ConfigError` listing every problem in the file at once. Call
    ``load_vocabulary.cache_clear()`` after editing the file in a running process.
    """
    file = Path(path) if path is not None else DEFAULT_VOCABULARY_PATH
    data, duplicates = _read_yaml(file)
    return Vocabulary(data if data is not None else {}, source=str(file), problems=duplicates)
