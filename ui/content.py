"""Words the pages show that are not the API's: labels, "questions you could ask", SENDIASS.

Pure functions only (no Streamlit calls), so they are easy to test. Matching and reasons stay
in the API; here is only how to say things to a parent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = [
    "QUESTIONS_PATH",
    "SENDIASS_FALLBACK",
    "Labels",
    "load_questions",
    "questions_for",
    "sendiass_line",
    "age_range",
    "travel_text",
    "last_checked_text",
    "contact_lines",
    "split_words",
    "spoken",
    "understood_lines",
    "GLOSSARY_PATH",
    "load_glossary",
    "explain_terms",
    "tel_link",
]

QUESTIONS_PATH = Path(__file__).resolve().parent / "questions.yaml"
GLOSSARY_PATH = Path(__file__).resolve().parent / "glossary.yaml"

#: Said when the directory has no SENDIASS entry of its own.
SENDIASS_FALLBACK = (
    "Your local SEND Information, Advice and Support Service (SENDIASS) gives free, "
    "confidential and impartial advice to parents, carers and young people aged up to 25. "
    "Search for \"SENDIASS\" and your council's name to find its phone number."
)


class Labels:
    """Plain labels for the API's codes, from ``GET /vocabularies``.

    >>> lab = Labels({"needs": [{"id": "autism", "label": "Autism"}],
    ...               "categories": {"leisure": "Leisure and activities"}})
    >>> lab.need("autism"), lab.of("categories", "leisure"), lab.of("categories", "x_y")
    ('Autism', 'Leisure and activities', 'X y')
    """

    def __init__(self, vocab: Mapping) -> None:
        self.vocab = vocab
        self.needs: dict[str, str] = {n["id"]: n["label"] for n in vocab.get("needs", [])}
        self.needs["all_send"] = "Any SEND"
        for area, label in (vocab.get("areas") or {}).items():
            self.needs[f"area:{area}"] = label

    def need(self, need_id: str) -> str:
        """The need's label (the id itself, tidied, when unknown)."""
        return self.needs.get(need_id) or need_id.replace("_", " ").capitalize()

    def of(self, vocabulary: str, value: str) -> str:
        """The label of ``value`` in a closed vocabulary such as ``"when"`` or ``"referral"``."""
        return (self.vocab.get(vocabulary) or {}).get(value) or value.replace("_", " ").capitalize()

    def many(self, vocabulary: str, values: Iterable[str]) -> str:
        """Labels joined with commas, or ``""``."""
        return ", ".join(self.of(vocabulary, v) for v in values)

    def options(self, vocabulary: str) -> list[str]:
        """The vocabulary's values, in the API's order."""
        return list((self.vocab.get(vocabulary) or {}).keys())


@lru_cache(maxsize=4)
def load_questions(path: Path = QUESTIONS_PATH) -> dict:
    """The questions file: ``{"general": [...], "category": {...}, "need": {...}}``."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {"general": list(data.get("general") or []),
            "category": dict(data.get("category") or {}),
            "need": dict(data.get("need") or {})}


def questions_for(categories: Sequence[str], needs: Sequence[str], n: int = 3,
                  questions: Mapping | None = None) -> list[str]:
    """Up to ``n`` questions for a service: first one for each of the child's ``needs`` that
    has some, then its ``categories``, then general ones; never the same one twice.

    >>> q = {"general": ["G1", "G2"], "category": {"leisure": ["L1", "L2"]},
    ...      "need": {"autism": ["A1", "A2"]}}
    >>> questions_for(["leisure"], ["autism"], 3, q)
    ['A1', 'L1', 'A2']
    >>> questions_for([], [], 2, q)
    ['G1', 'G2']
    """
    q = questions if questions is not None else load_questions()
    pools = [list(q["need"].get(x) or []) for x in needs]
    pools += [list(q["category"].get(c) or []) for c in categories]
    out: list[str] = []
    # Round-robin over the pools so one need does not crowd out the rest.
    while len(out) < n and any(pools):
        for pool in pools:
            if pool and len(out) < n:
                item = pool.pop(0)
                if item not in out:
                    out.append(item)
    for item in q["general"]:
        if len(out) >= n:
            break
        if item not in out:
            out.append(item)
    return out


def sendiass_line(service: Mapping | None) -> str:
    """One sentence about the local SEND information, advice and support service.

    ``service`` is the directory's SENDIASS entry (``GET /services/{id}``), or ``None``.
    """
    if not service:
        return SENDIASS_FALLBACK
    how = [x for x in (service.get("phone"), service.get("email"), service.get("url")) if x]
    contact = f" Contact: {', '.join(how)}." if how else ""
    return (f"{service['name']} is free, confidential and impartial. It can explain SEN support "
            f"and EHC plans, help with forms and come to meetings with you.{contact}")


def age_range(min_age: int | None, max_age: int | None) -> str:
    """``"Ages 5 to 16"``, ``"Ages 5 and over"``, ``"Up to age 16"`` or ``"Ages not stated"``."""
    if min_age is None and max_age is None:
        return "Ages not stated"
    if max_age is None:
        return f"Ages {min_age} and over"
    if min_age is None:
        return f"Up to age {max_age}"
    return f"Ages {min_age} to {max_age}"


def travel_text(minutes: float | None, km: float | None) -> str:
    """``"About 23 minutes (2.9 km)"``, or what is known."""
    if minutes is None and km is None:
        return "Travel time not known (online, phone or no venue given)"
    parts = []
    if minutes is not None:
        parts.append(f"About {max(1, round(minutes))} minutes")
    if km is not None:
        parts.append(f"{km:.1f} km" if minutes is None else f"({km:.1f} km)")
    return " ".join(parts)


def last_checked_text(last_reviewed: str | None, today: dt.date | None = None) -> str:
    """``"20 June 2026"``, with a warning in words when over a year ago.

    >>> last_checked_text("2024-01-05", dt.date(2026, 1, 1))
    '5 January 2024 (over a year ago: details may have changed)'
    """
    if not last_reviewed:
        return "Not known: check the details with the provider"
    try:
        day = dt.date.fromisoformat(str(last_reviewed)[:10])
    except ValueError:
        return str(last_reviewed)
    text = f"{day.day} {day.strftime('%B %Y')}"
    if (today or dt.date.today()) - day > dt.timedelta(days=365):
        text += " (over a year ago: details may have changed)"
    return text


def contact_lines(detail: Mapping) -> list[str]:
    """Phone, e-mail, website and address of a service, as lines of text (only those known)."""
    out = []
    if detail.get("phone"):
        out.append(f"Phone: {detail['phone']}")
    if detail.get("email"):
        out.append(f"Email: {detail['email']}")
    if detail.get("url"):
        out.append(f"Website: {detail['url']}")
    if detail.get("address") or detail.get("postcode"):
        out.append("Address: " + ", ".join(x for x in (detail.get("address"),
                                                         detail.get("postcode")) if x))
    return out


def split_words(text: str) -> list[str]:
    """Free needs words split on commas, semicolons and new lines; blanks dropped.

    >>> split_words("autisim, finds school hard;  \\n ADHD")
    ['autisim', 'finds school hard', 'ADHD']
    """
    import re

    return [w.strip() for w in re.split(r"[,;\n]", text or "") if w.strip()]


def spoken(label: str) -> str:
    """A need's label as words in a sentence: ``"Autism"`` -> ``"autism"``; acronyms and
    names stay as they are (``"ADHD"``, ``"Down syndrome"``).

    >>> spoken("Autism"), spoken("ADHD"), spoken("Down syndrome"), spoken("Hearing impairment (deaf)")
    ('autism', 'ADHD', 'Down syndrome', 'hearing impairment (deaf)')
    """
    first = label.split(" ", 1)[0]
    if first.isupper() or first in _NAMES:
        return label
    return label[:1].lower() + label[1:]


def understood_lines(understood: Iterable[Mapping]) -> list[str]:
    """What the matcher read in the family's own words, one plain-English line each, so that a
    parent can see it and correct it. A need chosen from the list (its words are its label) is
    not repeated.

    >>> understood_lines([{"words": "hates loud noise", "as": "Sensory processing difficulties",
    ...                    "kind": "need"},
    ...                   {"words": "Autism", "as": "Autism", "kind": "need"},
    ...                   {"words": "money worries", "as": "help with money and benefits",
    ...                    "kind": "ask"}])[0]
    '\u201chates loud noise\u201d: we read this as sensory processing difficulties'
    """
    lines = []
    for u in understood:
        words, read_as, kind = str(u.get("words", "")), str(u.get("as", "")), u.get("kind")
        if not words or not read_as:
            continue
        if kind == "need":
            if words.casefold() == read_as.casefold() or words.casefold() == spoken(read_as).casefold():
                continue
            text = f"we read this as {spoken(read_as)}"
        elif kind == "ask":
            text = f"we read this as asking for {read_as}"
        elif kind == "help":
            text = f"we took this as a sign that {read_as} may help"
        else:
            text = f"we read this as {read_as}"
        lines.append(f"\u201c{words}\u201d: {text}")
    return list(dict.fromkeys(lines))


_NAMES = {"Down", "Tourette", "Tourette's", "English", "British"}


@lru_cache(maxsize=2)
def load_glossary(path: Path = GLOSSARY_PATH) -> dict[str, str]:
    """The glossary file: ``{term: plain meaning}``."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {str(k): str(v) for k, v in (data.get("terms") or {}).items()}


def explain_terms(text: str, seen: set[str], glossary: Mapping[str, str] | None = None) -> str:
    """``text`` with each glossary term spelt out in brackets the first time it is used.

    ``seen`` holds the terms already explained on the page and is updated, so a term is
    explained once a page. Longer terms are tried first ("DCT package" before "DCT"); a term
    already inside brackets or followed by its own brackets is counted as explained.

    >>> g = {"SLD": "severe learning difficulties", "DCT": "Disabled Children's Team"}
    >>> seen = set()
    >>> explain_terms("For SLD and SLD. Ask the DCT.", seen, g)
    "For SLD (severe learning difficulties) and SLD. Ask the DCT (Disabled Children's Team)."
    >>> explain_terms("Severe learning difficulties (SLD), DCT", set(), g)
    "Severe learning difficulties (SLD), DCT (Disabled Children's Team)"
    """
    import re

    glossary = load_glossary() if glossary is None else glossary
    terms = sorted((t for t in glossary if t not in seen), key=len, reverse=True)
    if not terms or not text:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w-])")
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        term = m.group(1)
        if term in seen:
            continue
        seen.add(term)
        before, after = text[:m.start()], text[m.end():]
        if before.endswith("(") or after.startswith(" (") or after.startswith("("):
            continue
        out.append(text[last:m.end()] + f" ({glossary[term]})")
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def tel_link(phone: str) -> str:
    """A phone number as a Markdown link that a phone can call.

    >>> tel_link("020 7946 0001")
    '[020 7946 0001](tel:+442079460001)'
    """
    import re

    digits = re.sub(r"[^\d+]", "", phone)
    if digits.startswith("0"):
        digits = "+44" + digits[1:]
    return f"[{phone}](tel:{digits})" if len(digits) >= 6 else phone
