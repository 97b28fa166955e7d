"""What kind of help a family is looking for, read from their words (``data/intents.yaml``).

Each category of the service template has cue words. The family's text is searched once per
request (one compiled pattern per category); services are then scored with array arithmetic.

Three readings sit on top of the cue words:

* an *ask* is where the family says what they want: after an asking word ("we need ...", "we
  are looking for ...", :data:`ASK_PATTERN`), a request for a setting ("which school", "a
  place at nursery", "change schools", :data:`SETTING_REQUEST`), or an everyday phrase a
  category lists under ``asks`` ("money worries", "a break", "someone to talk to"). Cue words
  there count ``ask_weight`` times;
* a *situation* is a phrase that says when or where something happens ("after school", "at
  nursery", "since he started school", "on the way to school", "school holidays",
  :data:`SITUATION`). For a category marked ``skip_situations`` (education), setting words
  inside one are not read at all: a parent who writes "meltdowns after school" is not asking
  for a school place;
* what a family asks for outweighs what merely describes them: when the text asks for some
  kind of help, a kind only described counts less than one asked for (``Intent.weights``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from matcher.errors import ConfigError
from matcher.resources import data_path

__all__ = ["ASK_PATTERN", "SETTING_REQUEST", "SITUATION", "cue_pattern", "IntentLexicon",
           "Intent", "load_intents", "default_intents_path"]


_DEFAULT_PATH = data_path("intents.yaml")


def default_intents_path() -> Path:
    return _DEFAULT_PATH


@dataclass(frozen=True)
class Intent:
    """Categories the family's words point to: weight per category and the words that did it.

    ``found`` holds ``(start, end, category, label, asked)`` for every word read for a
    category (widened to the request it sits in: "which school"): ``label`` says what kind of
    help it was read as, ``asked`` whether the family asked for it or only described their
    situation. ``situations`` holds ``(start, end, category)`` for every phrase of time or
    place whose setting words were not read as a request ("after school").
    """

    weights: dict[str, float]
    words: dict[str, list[str]]
    asks: tuple[str, ...] = ()        # the parts of the text that ask for something
    asked: tuple[str, ...] = ()       # categories with at least one word inside an ask
    found: tuple[tuple[int, int, str, str, bool], ...] = ()
    situations: tuple[tuple[int, int, str], ...] = ()

    def vector(self, categories: tuple[str, ...] | list[str]) -> np.ndarray:
        """Weights in the order of ``categories`` (the vocabulary's, as the service table's
        columns), scaled so the strongest is 1."""
        v = np.array([self.weights.get(c, 0.0) for c in categories], dtype=np.float64)
        return v / v.max() if v.max() > 0 else v


# Where a family says what they want: from an asking word to the end of the sentence. "Need"
# asks only after someone who needs ("we need", "she really needs"), so "special educational
# needs" or "an EHC needs assessment" are not asks.
ASK_PATTERN = re.compile(
    r"(?:\b(?!(?:special|educational|additional|complex|medical|sensory|learning|health|care|"
    r"support|mental|physical|emotional|communication|individual|particular|specific|different|"
    r"same|any|his|her|their|our|my|your|whose|of|the|ehc|send|sen)\b)[a-z']+\s+"
    r"(?:\w+ly\s+|also\s+|still\s+|just\s+)?(?:need|needs|needed)\b"
    r"|\b(?:want|wants|wanted|looking for|look for|would like|'d like|like some|"
    r"hoping for|hope to|hoping to|help with|help to|ask(?:ing)? for|interested in|wish)\b)[^.!?\n]*",
    re.IGNORECASE)

# ---- Settings: a request for a place, or the place and time where things happen --------------
# The grammar is general: a setting noun and the words around it (a preposition of time or
# place, a possessive, a starting verb, a time noun after it), never a list of sentences.
_S = r"[\s-]+"
#: Places of learning.
_PLACE = (r"(?:schools?|nurser(?:y|ies)|pre-?schools?|playgroups?|colleges?|sixth[\s-]+forms?"
          r"|primary|secondary|academy|academies)")
#: Places of learning, and the class, lessons, year group and staff inside one.
_SETTING = (rf"(?:{_PLACE}|class(?:es|rooms?)?|lessons?|reception|year{_S}\d{{1,2}}"
            r"|teachers?|senco|tutors?)")
#: Words that name whose or which setting it is: it is already theirs, not one they seek.
_DET = r"(?:the|his|her|their|my|our|your|this|that|its|[a-z]+['\u2019]s)"
#: A word between a determiner and the setting ("his *new* school"): not a function word.
_FREE = (r"(?!(?:of|for|with|and|or|but|to|a|an|at|in|on|from|after|before|since|into|by|as"
         r")\b)[a-z0-9'\u2019-]+")
#: ... and, without a determiner, not a word that picks a kind of setting ("in *mainstream*
#: school" may be what they want, "in primary school" is where the child is).
_MOD = (r"(?!(?:special|specialist|mainstream|independent|residential|right|different|new|"
        r"suitable|good|better|best|another|any|some|which|what)\b)" + _FREE)
_WHOSE = rf"(?:{_DET}\s+(?:{_FREE}\s+){{0,2}}?|{_MOD}\s+)?"
_PREP = (r"(?:at|in|into|around|from|to|off|out\s+of|outside(?:\s+of)?|inside|within|during|"
         r"after|before|since|until|till|throughout|through|across)")
_START = (r"(?:start(?:s|ed|ing)?|beg(?:an|ins?|un)|join(?:s|ed|ing)?|moved|went|go(?:es|ing)?"
          r"|return(?:s|ed|ing)?|left|leaving|changed)")
_WHEN = r"(?:since|when|after|before|until|till|once|ever\s+since)"
_TIME_NOUN = (r"(?:holidays?|hours|days?|run|mornings?|evenings?|nights?|gates?|trips?|uniform|bus"
              r"|terms?|weeks?|playground|pick[\s-]?ups?|drop[\s-]?offs?|lunch(?:es|times?)?"
              r"|dinners?|breaks?|time|work|staff|friends?|nurse|reports?|life)")

#: A phrase saying when or where something happens: "after school", "at nursery", "in class",
#: "on the way to school", "since he started nursery", "school holidays", "his teacher".
SITUATION = re.compile(
    rf"\b(?:{_WHEN}\s+(?:[a-z'\u2019]+\s+){{0,3}}?)?{_START}(?:\s+(?:up|back))?"
    rf"(?:\s+(?:to|at|into|in))?\s+{_WHOSE}{_SETTING}\b"
    rf"|\b(?:(?:on\s+)?(?:the|his|her|their|our|my)\s+(?:way|walk|drive|journey|trip|bus)(?:\s+home)?\s+)?"
    rf"{_PREP}{_S}{_WHOSE}{_SETTING}\b"
    rf"|\b(?:school|nursery|college|pre-?school|class){_S}{_TIME_NOUN}\b"
    rf"|\b(?:the|his|her|their|my|our|[a-z]+['\u2019]s)\s+(?:{_FREE}\s+)?"
    rf"(?:school|nursery|college|class(?:room)?|teachers?|senco|tutors?)\b",
    re.IGNORECASE)

_CHOICE = (r"(?:(?:a|an|another|the\s+right|the\s+best|a\s+good|a\s+better|a\s+different|"
           r"a\s+new|the|a\s+suitable)\s+)?")
#: A request for a setting: "which school", "a school place", "a place at nursery", "change
#: schools", "move him to a specialist school", "looking for a college", "apply for a nursery".
SETTING_REQUEST = re.compile(
    rf"\b(?:which|what)\s+(?:{_FREE}\s+)?{_PLACE}\b"
    rf"|\b(?:school|nursery|college|pre-?school|sixth[\s-]+form){_S}places?\b"
    rf"|\bplaces?\s+(?:for\s+(?:him|her|them)\s+)?(?:at|in|for)\s+(?:[a-z'-]+\s+){{0,3}}?{_PLACE}\b"
    rf"|\b(?:chang(?:e|es|ing)|mov(?:e|es|ing)|switch(?:es|ing)?|transfer(?:s|ring)?)\s+"
    rf"(?:(?:him|her|them|to)\s+){{0,2}}(?:schools|nurseries|colleges|"
    rf"(?:a|another|a\s+different|a\s+new|a\s+better|a\s+specialist|a\s+special|a\s+mainstream)"
    rf"\s+(?:{_FREE}\s+)?{_PLACE})\b"
    rf"|\b(?:find(?:ing)?|choos(?:e|ing)|pick(?:ing)?|apply(?:ing)?\s+(?:for|to)|look(?:ing)?\s+"
    rf"(?:for|at|round|around)|visit(?:ing)?|get(?:ting)?\s+(?:him|her|them)\s+into)\s+"
    rf"{_CHOICE}(?:{_FREE}\s+){{0,2}}?{_PLACE}\b",
    re.IGNORECASE)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def situation_spans(text: str) -> list[tuple[int, int]]:
    """Spans of :data:`SITUATION` phrases that are not part of a :data:`SETTING_REQUEST`."""
    requests = _spans(SETTING_REQUEST, text)
    return [(a, b) for a, b in _spans(SITUATION, text)
            if not any(a < rb and ra < b for ra, rb in requests)]


def cue_pattern(cues: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any cue as whole words; "swim*" matches any ending
    and a "..." between words allows up to two words in between ("somewhere ... to go").
    An apostrophe may be written either way or left out ("can't", "can’t", "cant")."""
    return _cue_pattern(tuple(str(c) for c in cues))


@lru_cache(maxsize=256)
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    alts = []
    for cue in cues:
        cue = str(cue).strip().lower()
        parts = [re.escape(p.strip()).replace(r"\ ", r"\s+").replace("'", "['\u2019]?")
                 for p in cue.rstrip("*").split("...")]
        body = r"(?:\s+\w+){0,2}\s+".join(p for p in parts if p)
        alts.append(body + (r"\w*" if cue.endswith("*") else r"\b"))
    return re.compile(r"\b(?:" + "|".join(alts) + ")", re.IGNORECASE)


class IntentLexicon:
    """Cue patterns per category."""

    def __init__(self, categories: dict[str, dict]):
        self.labels = {c: str(d.get("label", c)) for c, d in categories.items()}
        self.patterns: dict[str, re.Pattern[str]] = {}
        self.not_patterns: dict[str, re.Pattern[str]] = {}
        #: category -> [(label, pattern)]: its everyday asking phrases, by what they ask for.
        self.ask_patterns: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self.skip_situations = frozenset(c for c, d in categories.items()
                                         if d.get("skip_situations"))
        for c, d in categories.items():
            self.patterns[c] = cue_pattern(d.get("cues", []))
            if d.get("not_cues"):
                self.not_patterns[c] = cue_pattern(d["not_cues"])
            asks = d.get("asks") or []
            groups = asks.items() if isinstance(asks, dict) else [(self.labels[c], asks)]
            self.ask_patterns[c] = [(str(label), cue_pattern(phrases))
                                    for label, phrases in groups if phrases]

    def ask_phrases(self, text: str) -> list[tuple[int, int, str, str]]:
        """``(start, end, category, label)`` of every everyday asking phrase ("money worries",
        "a break") in ``text``, in order; ``label`` says what it asks for ("help with money
        and benefits")."""
        found = [(m.start(), m.end(), c, label) for c, groups in self.ask_patterns.items()
                 for label, pat in groups for m in pat.finditer(text)]
        return sorted(found)

    def read(self, text: str, ask_weight: float = 3.0, max_count: float = 6.0,
             phrases: list[tuple[int, int, str, str]] | None = None) -> Intent:
        """Weigh cue hits per category (capped at ``max_count``) in the family's text.

        A hit inside what the family asks for ("I also need some short breaks", "we want him to
        learn to travel", "which school would suit him") and a category's everyday asking
        phrase ("money worries") count ``ask_weight`` times one that describes their situation
        ("she is in Year 11 at a special school"). When the family asks for something, a kind
        of help they only describe counts less than one ask (at most ``ask_weight - 1``), so
        what they ask for outweighs the words about their condition. Phrases in a category's
        ``not_cues`` are blanked first, so "was diagnosed with ADHD last year" or "in Turkish
        if possible" are not read as asking for an assessment; for a ``skip_situations``
        category, cue words inside a phrase of time or place ("after school", "at nursery")
        are not read either. ``phrases`` is :meth:`ask_phrases` of ``text`` when the caller
        has it already.
        """
        found_asks = list(ASK_PATTERN.finditer(text))
        requests = list(SETTING_REQUEST.finditer(text))
        asks = [m.span() for m in found_asks] + [m.span() for m in requests]
        phrases = self.ask_phrases(text) if phrases is None else phrases
        situations = situation_spans(text) if self.skip_situations else []
        weights: dict[str, float] = {}
        words: dict[str, list[str]] = {}
        asked: list[str] = []
        read_as_situation: dict[tuple[int, int], str] = {}
        spans: list[tuple[int, int, str, str, bool]] = []
        request_spans = [m.span() for m in requests]
        for c, pat in self.patterns.items():
            seen = text
            hits: list[tuple[int, str, float]] = []
            for a, b, cat, label in phrases:
                if cat == c:
                    hits.append((a, text[a:b], ask_weight))
                    spans.append((a, b, c, label, True))
                    seen = seen[:a] + " " * (b - a) + seen[b:]
            blank = self.not_patterns.get(c)
            if blank is not None:
                seen = blank.sub(lambda m: " " * len(m.group(0)), seen)
            for m in pat.finditer(seen):
                if c in self.skip_situations and _inside(m.start(), situations):
                    for s in situations:
                        if s[0] <= m.start() < s[1]:
                            read_as_situation.setdefault(s, c)
                    continue
                in_ask = _inside(m.start(), asks)
                hits.append((m.start(), m.group(0), ask_weight if in_ask else 1.0))
                widened = [r for r in request_spans if r[0] <= m.start() < r[1]]
                spans.append((*(widened[0] if widened else m.span()), c, self.labels[c], in_ask))
            if hits:
                hits.sort()
                weights[c] = float(min(sum(w for _, _, w in hits), max_count))
                words[c] = list(dict.fromkeys(w.lower() for _, w, _ in hits))[:3]
                if any(w >= ask_weight > 1.0 for _, _, w in hits):
                    asked.append(c)
        if asked and ask_weight > 1.0:
            # What the family asks for outweighs what only describes them.
            cap = ask_weight - 1.0
            weights = {c: w if c in asked else min(w, cap) for c, w in weights.items()}
        ask_texts = [text[a:b] for a, b in sorted(asks)]
        ask_texts += [text[a:b] for a, b, *_ in phrases if not _inside(a, asks)]
        return Intent(weights, words, tuple(dict.fromkeys(ask_texts)), tuple(asked),
                      tuple(sorted(set(spans))),
                      tuple(sorted((a, b, c) for (a, b), c in read_as_situation.items())))


def load_intents(path: str | Path | None = None,
                 categories: tuple[str, ...] | None = None) -> IntentLexicon:
    """Load and check ``data/intents.yaml``; every problem is listed in one ConfigError.

    Its categories must be ``categories`` (default: those of the vocabulary in use,
    :func:`matcher.allowed.vocabulary_in_use`). Cached per file and categories.
    """
    if categories is None:
        from matcher.allowed import vocabulary_in_use

        categories = tuple(vocabulary_in_use().categories)
    return _load_intents(Path(path) if path else default_intents_path(), tuple(categories))


_KEYS = ("label", "cues", "not_cues", "asks", "skip_situations")


def _asks_ok(asks: object) -> bool:
    if isinstance(asks, dict):
        return all(isinstance(k, str) and k.strip() and isinstance(v, list) and v
                   for k, v in asks.items())
    return isinstance(asks, list)


@lru_cache(maxsize=8)
def _load_intents(p: Path, categories: tuple[str, ...]) -> IntentLexicon:
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Could not read {p}: {exc}") from None
    problems = [f"{c}: not a category of the vocabulary (use one of {', '.join(categories)})"
                for c in data if c not in categories]
    problems += [f"{c}: needs a non-empty list of cues" for c, d in data.items()
                 if not isinstance(d, dict) or not d.get("cues")]
    problems += [f"{c}: not_cues must be a list of phrases" for c, d in data.items()
                 if isinstance(d, dict) and "not_cues" in d and not isinstance(d["not_cues"], list)]
    problems += [f"{c}: asks must be a list of phrases, or plain-English labels each with a "
                 f"list of phrases" for c, d in data.items()
                 if isinstance(d, dict) and "asks" in d and not _asks_ok(d["asks"])]
    problems += [f"{c}: skip_situations must be true or false" for c, d in data.items()
                 if isinstance(d, dict) and not isinstance(d.get("skip_situations", False), bool)]
    problems += [f"{c}: unknown key {k!r} (use {', '.join(_KEYS)})" for c, d in data.items()
                 if isinstance(d, dict) for k in d if k not in _KEYS]
    if problems:
        raise ConfigError(f"{p} has {len(problems)} problem(s):\n" + "\n".join(f"  - {x}" for x in problems))
    return IntentLexicon(data)
