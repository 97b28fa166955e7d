"""What kind of help a family is looking for, read from their words (``data/intents.yaml``).

Each category of the service template has cue words. The family's text is searched once per
request (one compiled pattern per category); services are then scored with array arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from matcher.errors import ConfigError

__all__ = ["ASK_PATTERN", "cue_pattern", "IntentLexicon", "Intent", "load_intents", "default_intents_path"]


def default_intents_path() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "intents.yaml"


@dataclass(frozen=True)
class Intent:
    """Categories the family's words point to: weight per category and the words that did it."""

    weights: dict[str, float]
    words: dict[str, list[str]]
    asks: tuple[str, ...] = ()   # the parts of the text that ask for something

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


def cue_pattern(cues: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any cue as whole words; "swim*" matches any ending
    and a "..." between words allows up to two words in between ("somewhere ... to go")."""
    return _cue_pattern(tuple(str(c) for c in cues))


@lru_cache(maxsize=256)
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    alts = []
    for cue in cues:
        cue = str(cue).strip().lower()
        parts = [re.escape(p.strip()).replace(r"\ ", r"\s+") for p in cue.rstrip("*").split("...")]
        body = r"(?:\s+\w+){0,2}\s+".join(p for p in parts if p)
        alts.append(body + (r"\w*" if cue.endswith("*") else r"\b"))
    return re.compile(r"\b(?:" + "|".join(alts) + ")", re.IGNORECASE)


class IntentLexicon:
    """Cue patterns per category."""

    def __init__(self, categories: dict[str, dict]):
        self.labels = {c: str(d.get("label", c)) for c, d in categories.items()}
        self.patterns: dict[str, re.Pattern[str]] = {}
        self.not_patterns: dict[str, re.Pattern[str]] = {}
        for c, d in categories.items():
            self.patterns[c] = cue_pattern(d.get("cues", []))
            if d.get("not_cues"):
                self.not_patterns[c] = cue_pattern(d["not_cues"])

    def read(self, text: str, ask_weight: float = 3.0, max_count: float = 6.0) -> Intent:
        """Weigh cue hits per category (capped at ``max_count``) in the family's text.

        A hit inside what the family asks for ("I also need some short breaks", "we want him to
        learn to travel") counts ``ask_weight`` times one that describes their situation ("she
        is in Year 11 at a special school"). Phrases in a category's ``not_cues`` are blanked
        first, so "was diagnosed with ADHD last year" or "in Turkish if possible" are not read
        as asking for an assessment.
        """
        found_asks = list(ASK_PATTERN.finditer(text))
        asks = [m.span() for m in found_asks]
        weights, words = {}, {}
        for c, pat in self.patterns.items():
            blank = self.not_patterns.get(c)
            seen = blank.sub(lambda m: " " * len(m.group(0)), text) if blank is not None else text
            found = list(pat.finditer(seen))
            if found:
                score = sum(ask_weight if any(a <= m.start() < b for a, b in asks) else 1.0
                            for m in found)
                weights[c] = float(min(score, max_count))
                words[c] = list(dict.fromkeys(m.group(0).lower() for m in found))[:3]
        return Intent(weights, words, tuple(m.group(0) for m in found_asks))


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
    if problems:
        raise ConfigError(f"{p} has {len(problems)} problem(s):\n" + "\n".join(f"  - {x}" for x in problems))
    return IntentLexicon(data)
