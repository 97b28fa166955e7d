"""Explain: plain-English reasons built from the same arrays as the numbers.

Each scored component becomes a :class:`Contribution` whose ``label`` is written from the
values that produced its points (splink's waterfall). Reasons are the labels, best first,
plus the facts a parent needs at a glance (ages, cost), at most ``max_reasons``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from matcher.engine.combine import Combined
from matcher.engine.config import MatchConfig
from matcher.engine.eligibility import Eligibility
from matcher.engine.features import (
    AGE_FACTS,
    ServiceTable,
    age_hint_quote,
    threshold_quote,
    used_quote,
)
from matcher.engine.query import FamilyQuery
from matcher.engine.scorers import NEED_LEVELS, NeedLevels, Scored, focus_phrase
from matcher.geo.distance import haversine_km
from matcher.vocab import Vocabulary

__all__ = [
    "Contribution",
    "Explanation",
    "explain_row",
    "explain_rows",
    "age_sentence",
    "TRANSITION_PHRASES",
    "MODE_PHRASES",
    "phrase_for",
]

# Wording for sentences, keyed by closed-list values. These tables only word the values; the
# values themselves come from the vocabulary, and one with no wording here is written with
# its vocabulary label (phrase_for), never dropped.

TRANSITION_PHRASES = {
    "into_early_years": "starting nursery or early years",
    "early_years_to_primary": "the move to primary school",
    "primary_to_secondary": "the move to secondary school",
    "secondary_to_post16": "the move to college or sixth form after Year 11",
    "preparing_for_adulthood": "preparing for adult life",
}
MODE_PHRASES = {
    "walk": "walk",
    "public_transport": "by public transport",
    "car": "by car",
    "travel_assistance": "with council travel help",
}
AREA_LABELS = {
    "ci": "communication and interaction",
    "cl": "cognition and learning",
    "semh": "social, emotional and mental health",
    "sp": "sensory and physical",
}
WHEN_LABELS = {"weekdays": "on weekdays", "evenings": "in the evenings", "weekends": "at weekends",
               "school_holidays": "in the school holidays", "term_time": "in term time"}
ACCESS_LABELS = {"wheelchair": "wheelchair access", "sensory_friendly": "sensory-friendly sessions",
                 "quiet_space": "a quiet space", "bsl": "British Sign Language (BSL)",
                 "changing_places": "a Changing Places toilet"}
CATEGORY_LABELS = {"education": "education", "health": "health", "social_care": "social care",
                   "short_breaks": "a short break", "leisure": "a leisure activity",
                   "support_advice": "support and advice",
                   "training_employment": "training or work", "travel": "travel help",
                   "transition": "help with moving on", "assessment": "an assessment service"}
_PHRASES = {"transitions": TRANSITION_PHRASES, "travel_modes": MODE_PHRASES,
            "when": WHEN_LABELS, "accessibility": ACCESS_LABELS, "categories": CATEGORY_LABELS}


def phrase_for(kind: str, value: str, vocab: Vocabulary | None = None) -> str:
    """How a sentence words ``value`` of the closed list ``kind``: the wording table's phrase,
    else the vocabulary's label (mid-sentence case), else the value with spaces.

    >>> phrase_for("when", "weekends")
    'at weekends'
    >>> phrase_for("categories", "befriending")
    'befriending'
    """
    phrase = _PHRASES.get(kind, {}).get(value)
    if phrase:
        return phrase
    label = getattr(vocab, kind, {}).get(value) if vocab is not None else None
    return lower_label(label) if label else value.replace("_", " ")


@dataclass
class Contribution:
    """One component's part of a score: ``points = weight * value``."""

    component: str
    value: float
    weight: float
    points: float
    label: str
    inputs: dict = field(default_factory=dict)


@dataclass
class Explanation:
    """Waterfall: base + contributions = total."""

    base: float
    contributions: list[Contribution]
    total: float

    def to_dict(self) -> dict:
        return asdict(self)


def _num(x: float) -> int:
    return int(x)


def said_in_record(record: dict, fields: Sequence[str]) -> str | None:
    """The quote of the fact that filled one of ``fields`` of the record from its own words
    (the reading step at import), or ``None`` when the record's fields said it."""
    return used_quote(record.get("facts"), fields)


def said_by(record: dict, fields: Sequence[str]) -> str:
    """Who says the words :func:`said_in_record` quotes: "it" (the record), or "its
    organisation" for words from the provider's description of itself."""
    fact = next((f for f in record.get("facts") or () if f.get("used")
                 and f.get("field") in fields and f.get("quote")), None)
    return "its organisation" if fact is not None and fact.get("source") == "organisation" \
        else "it"


def _parent_words(record: dict) -> str | None:
    """The words (or feed tag) saying a service is for parents and carers, if any."""
    for fact in record.get("facts") or ():
        if fact.get("quote") and (
                (fact.get("field") == "for_parents" and fact.get("value"))
                or (fact.get("field") == "audience" and fact.get("value") == "parents_carers"
                    and fact.get("confidence") == "certain")):
            return str(fact["quote"])
    return None


def age_sentence(lo: float, hi: float, query: FamilyQuery, lookahead: bool,
                 vocab: Vocabulary | None = None, quote: str | None = None,
                 by: str = "it") -> str:
    """'For ages 8 to 14; your child is 10' (or the not-stated / look-ahead forms). With
    ``quote`` (ages read from the description), the words it says them in follow the span;
    ``by`` is who says them ("it", or "its organisation" for the provider's own words about
    itself: "For ages 18 and over (its organisation says 'anyone aged 18+')")."""
    age = query.age
    if math.isnan(lo) and math.isnan(hi):
        return "Age range not stated: check with the provider"
    if math.isnan(hi):
        span = f"For ages {_num(lo)} and over"
    elif math.isnan(lo):
        span = f"For ages up to {_num(hi)}"
    elif lo == hi:
        span = f"For age {_num(lo)}"
    else:
        span = f"For ages {_num(lo)} to {_num(hi)}"
    if quote:
        span = f"{span} ({by} says '{quote}')"
    if lookahead:
        t = query.profile.transition
        move = phrase_for("transitions", t, vocab) if t else "the move ahead"
        return f"{span}: one to look at now for {move}"
    if query.profile.who == "young_person":
        return f"{span}; you are {age}"
    return f"{span}; your child is {age}"


def _minutes_phrase(minutes: float, mode: str, vocab: Vocabulary | None = None) -> str:
    m = max(1, int(round(minutes)))
    if mode == "walk":
        return f"About {m} minutes' walk"
    if mode in MODE_PHRASES:
        return f"About {m} minutes {MODE_PHRASES[mode]}"
    return f"About {m} minutes ({phrase_for('travel_modes', mode, vocab)})"


def _need_label(j: int, level: int, query: FamilyQuery, vocab: Vocabulary) -> str:
    fn = query.needs[j]
    need = vocab.needs.get(fn.need)
    name = NEED_LEVELS[level]
    said = f"you mentioned {fn.words}" if fn.listed else f"you wrote '{fn.words}'"
    if fn.need.startswith("area:"):
        area = AREA_LABELS.get(fn.need.split(":", 1)[1], "these")
        if name in ("exact", "same_code"):
            return f"Supports {area} needs: {said}"
    phrase = need.phrase if need else fn.words
    if name == "exact":
        return f"Supports {phrase}: {said}"
    if name == "same_code":
        return f"Supports related needs of the same type as {fn.words}"
    if name == "same_area":
        areas = [AREA_LABELS[a] for a in (need.areas if need else ()) if a in AREA_LABELS]
        return f"Supports {areas[0] if areas else 'related'} needs, like {fn.words}"
    if name == "all_send":
        return "Open to children and young people with any SEND"
    if name == "unstated":
        return "Does not say which needs it supports: ask the provider"
    if name == "excluded":
        return f"Says it does not support {lower_label(need.label) if need else fn.words}"
    return f"Does not mention {fn.words}"


def lower_label(label: str) -> str:
    """'Autism' -> 'autism' for use mid-sentence, but 'ADHD', 'Down syndrome' and 'DCD' stay."""
    first = label.split()[0] if label else ""
    if len(first) > 1 and first[1:].islower() and first.lower() not in PROPER_WORDS:
        return label[0].lower() + label[1:]
    return label


PROPER_WORDS = {"down", "tourette's", "tourettes", "asperger's"}


@lru_cache(maxsize=4096)
def _review_date(ordinal: int) -> tuple[str, str]:
    """('June 2025', '2025-06-14') for a date ordinal. Cached: directories share few dates."""
    day = dt.date.fromordinal(ordinal)
    return day.strftime("%B %Y"), day.isoformat()


def _pref_label(part: str, value: float, row: int, table: ServiceTable, query: FamilyQuery,
                vocab: Vocabulary | None = None) -> str:
    p = query.profile.preferences
    if part == "categories":
        wanted = [phrase_for("categories", c, vocab) for c in p.categories]
        return f"It is {wanted[0]}, as you asked" if value >= 1 else f"Not {' or '.join(wanted)}"
    if part == "when":
        got = [phrase_for("when", w, vocab) for w in p.when if table.when[row, table.col("when", w)]]
        if got:
            return f"Runs {' and '.join(got)}, as you asked"
        return "Times not stated: check with the provider" if value == 0.5 else \
            f"Not {' or '.join(phrase_for('when', w, vocab) for w in p.when)}"
    if part == "accessibility":
        listed = {a: bool(table.access[row, table.col("accessibility", a)]) for a in p.accessibility}
        have = [phrase_for("accessibility", a, vocab) for a, ok in listed.items() if ok]
        lack = [phrase_for("accessibility", a, vocab) for a, ok in listed.items() if not ok]
        if have and not lack:
            return f"Has {' and '.join(have)}, as you asked"
        return f"Does not list {' or '.join(lack)}"
    if part == "delivery":
        return "Delivered the way you asked" if value >= 1 else "Not delivered the way you asked"
    return part


def _travel_label(row: int, scored: Scored, query: FamilyQuery,
                  vocab: Vocabulary | None = None) -> str:
    f = scored.facts
    if f["remote"][row] and not f["in_person"][row]:
        return "Online or by phone, so no travel needed"
    if f["home"][row] and not f["in_person"][row]:
        return "Comes to your home"
    if query.mode == "online_only":
        return "Can be used online or by phone"
    if not query.has_location:
        return "Travel time not estimated: no postcode given"
    if not f["has_coords"][row]:
        if f["remote"][row] or f["home"][row]:
            return "Online, by phone or at home, so no travel needed"
        return "Venue not given, so travel time not estimated"
    minutes, km = float(f["minutes"][row]), float(f["km"][row])
    trip = f"{_minutes_phrase(minutes, query.mode, vocab)} ({km:.1f} km)"
    if f["remote"][row] or f["home"][row]:
        if minutes > query.max_minutes:
            return f"Online, by phone or at home, so no travel needed (the venue is {trip[0].lower()}{trip[1:]})"
        return f"{trip}, or online, by phone or at home"
    if minutes > query.max_minutes:
        trip += f": longer than the {int(query.max_minutes)} minutes you said"
    return trip


def explain_row(row: int, table: ServiceTable, query: FamilyQuery, scored: dict[str, Scored],
                levels: NeedLevels, combined: Combined, elig: Eligibility, variety: float,
                vocab: Vocabulary, cfg: MatchConfig, today: dt.date,
                labels: Mapping[str, LabelFn]) -> tuple[Explanation, list[str]]:
    """Contributions (adding up to the score) and up to ``max_reasons`` sentences for one result.

    One row of :func:`explain_rows`, which explains all of a match's results at once.
    """
    return explain_rows([row], [variety], table, query, scored, levels, combined, elig, vocab,
                        cfg, today, labels)[0]


@dataclass
class Rows:
    """The results being explained and everything their sentences are written from: each
    component's values and points at those rows, and what a label needs worked out once for
    all of them (the best-met need, the shared terms, the intent category...)."""

    rows: np.ndarray
    table: ServiceTable
    query: FamilyQuery
    scored: dict[str, Scored]
    levels: NeedLevels
    combined: Combined
    vocab: Vocabulary
    cfg: MatchConfig
    values: dict[str, list[float]]
    prepared: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()`` the first time ``key`` is asked for, then the same object."""
        if key not in self.prepared:
            self.prepared[key] = make()
        return self.prepared[key]


#: One component's sentence for result ``i`` (service ``row``): ``(label, inputs)``.
LabelFn = Callable[[Rows, int, int], tuple[str, dict]]


def _best_needs(b: Rows) -> tuple[list[int], list[int]]:
    """The need weighing most at each row (first of equals), and how well it is met there."""
    q = b.query
    weights = np.array([fn.weight for fn in q.needs], dtype=np.float64)
    best = np.argmax(b.levels.values[b.rows] * weights, axis=1).tolist()
    level = [int(b.levels.level(r, j)) for r, j in zip(b.rows.tolist(), best, strict=True)]
    return best, level


def label_need(b: Rows, i: int, row: int) -> tuple[str, dict]:
    q, vocab = b.query, b.vocab
    if not q.needs:
        return "You did not name any needs, so this is matched on your other answers", {}
    best, level = b.once("need", lambda: _best_needs(b))
    j, lvl = best[i], level[i]
    label = _need_label(j, lvl, q, vocab)
    inputs: dict = {"need": q.needs[j].need, "level": NEED_LEVELS[lvl]}
    focus_missed = b.scored["need"].facts.get("focus_missed")
    if focus_missed is not None and focus_missed[row]:
        # Named for a need or situation the family did not mention.
        phrase = focus_phrase(b.table, vocab, b.cfg, row, q.text)
        if phrase:
            label = f"{label}, but it is mainly for {phrase}"
            inputs["mainly_for"] = phrase
    return label, inputs


def label_text(b: Rows, i: int, row: int) -> tuple[str, dict]:
    facts = b.scored["text"].facts
    terms = b.once("text_terms", lambda: b.table.text_index.shared_terms_many(
        facts["vector"], b.rows))[i]
    cosine = b.once("text_cosine", lambda: np.asarray(
        facts["cosine"][b.rows], dtype=np.float64).tolist())[i]
    label = (f"Its description matches your words: {', '.join(terms)}" if terms
             else "Its description has little in common with your words")
    return label, {"cosine": round(cosine, 4), "terms": terms}


def _intent_hits(b: Rows) -> tuple[list[str], list[bool], dict[str, str]]:
    from matcher.engine.intent import load_intents

    cats = b.table.closed["categories"]
    hit = b.table.cats[b.rows] * b.query.intent_vector   # (rows, categories)
    return ([cats[k] for k in np.argmax(hit, axis=1).tolist()], (hit.max(axis=1) > 0).tolist(),
            load_intents(categories=cats).labels)


def label_intent(b: Rows, i: int, row: int) -> tuple[str, dict]:
    cats, hits, labels = b.once("intent", lambda: _intent_hits(b))
    cat, hit_any = cats[i], hits[i]
    words = b.query.intent.words.get(cat, [])
    if hit_any:
        said = ", ".join(f"'{w}'" for w in words)
        offers = labels.get(cat) or phrase_for("categories", cat, b.vocab)
        label = f"Offers {offers}, which you asked about ({said})"
    else:
        label = "Not the kind of help your words point to"
    return label, {"category": cat if hit_any else None, "words": words if hit_any else []}


def label_travel(b: Rows, i: int, row: int) -> tuple[str, dict]:
    q = b.query
    f = b.scored["travel"].facts
    km, minutes = float(f["km"][row]), float(f["minutes"][row])
    return _travel_label(row, b.scored["travel"], q, b.vocab), {
        "km": None if math.isnan(km) else round(km, 2),
        "minutes": None if math.isnan(minutes) else round(minutes, 1),
        "mode": q.mode, "max_minutes": q.max_minutes}


def label_transition(b: Rows, i: int, row: int) -> tuple[str, dict]:
    transition = phrase_for("transitions", b.query.profile.transition or "", b.vocab)
    f = b.scored["transition"].facts
    if f["same"][row]:
        return f"Helps with {transition}", {}
    if f["related"][row]:
        return f"A setting or service to consider for {transition}", {}
    if b.values["transition"][i] > 0:
        return f"Helps with moving on, though not mainly with {transition}", {}
    return f"Not aimed at {transition}", {}


def label_language(b: Rows, i: int, row: int) -> tuple[str, dict]:
    f = b.scored["language"].facts
    lang = (b.query.profile.preferences.language or "").strip()
    if f["community"][row]:
        return f"Mainly for {str(b.table.community_language[row]).title()}-speaking families", {}
    if not lang or lang.casefold() in ("english", "en"):
        return "Works in English", {}
    if f["listed"][row]:
        return f"Offers support in {lang}", {}
    if f.get("mentioned") is not None and f["mentioned"][row]:
        return f"Mentions {lang} in its description: ask about it", {}
    return f"Does not list {lang}: ask whether an interpreter can be arranged", {}


def label_audience(b: Rows, i: int, row: int) -> tuple[str, dict]:
    return ("A course or group for parents and carers" if b.values["audience"][i] < 1
            else "For young people themselves"), {}


def label_preferences(b: Rows, i: int, row: int) -> tuple[str, dict]:
    parts = {k: float(v[row]) for k, v in b.scored["preferences"].facts.items()}
    best = sorted(parts, key=lambda k: -parts[k])
    label = "; ".join(_pref_label(k, parts[k], row, b.table, b.query, b.vocab)
                      for k in best[:2])
    return label, {k: round(v, 3) for k, v in parts.items()}


def label_freshness(b: Rows, i: int, row: int) -> tuple[str, dict]:
    o = float(b.table.reviewed_ordinal[row])
    if math.isnan(o):
        return ("No date for when it was last checked: confirm details with the provider",
                {"last_reviewed": None})
    month, iso = _review_date(int(o))
    label = (f"Last checked {month}, over a year ago: details may have changed"
             if b.values["freshness"][i] < 1 else f"Details checked {month}")
    return label, {"last_reviewed": iso}


def label_age_hint(b: Rows, i: int, row: int) -> tuple[str, dict]:
    return _age_hint_label(row, b.table, b.query, b.scored["age_hint"]), {}


def explain_rows(rows: Sequence[int], variety: Sequence[float], table: ServiceTable,
                 query: FamilyQuery, scored: dict[str, Scored], levels: NeedLevels,
                 combined: Combined, elig: Eligibility, vocab: Vocabulary, cfg: MatchConfig,
                 today: dt.date,
                 labels: Mapping[str, LabelFn]) -> list[tuple[Explanation, list[str]]]:
    """:func:`explain_row` for each of ``rows`` (with its ``variety`` adjustment), in order.

    Each component's sentence comes from its label function in ``labels`` (the engine's
    registry, :data:`matcher.engine.components.LABELS`), written from the same arrays as its
    points; what a label needs for every row is worked out once (:class:`Rows`).
    """
    rows = np.asarray(rows, dtype=np.intp)
    comps = list(combined.weights.items())
    values = {c: np.asarray(combined.values[c][rows], dtype=np.float64).tolist() for c, _ in comps}
    points = {c: np.asarray(combined.points[c][rows], dtype=np.float64).tolist() for c, _ in comps}
    batch = Rows(rows, table, query, scored, levels, combined, vocab, cfg, values)
    school_km = _school_km(rows, table, query, cfg)

    out = []
    for i, row in enumerate(rows.tolist()):
        contribs: list[Contribution] = []
        for comp, w in comps:
            label, inputs = labels[comp](batch, i, row)
            contribs.append(Contribution(comp, round(values[comp][i], 6), round(w, 6),
                                         points[comp][i], label, inputs))
        out.append(_finish(row, contribs, float(variety[i]), table, query, elig, cfg,
                           school_km[i], "freshness" in combined.weights, vocab))
    return out


def _finish(row: int, contribs: list[Contribution], variety: float, table: ServiceTable,
            query: FamilyQuery, elig: Eligibility, cfg: MatchConfig, school_km: float,
            has_freshness: bool, vocab: Vocabulary | None = None) -> tuple[Explanation, list[str]]:
    """The waterfall of one result and its reasons: the scored labels best first, with the
    age fact third, then one fact (school travel, EHC plan, cost, area) and a caveat last."""
    if variety < 0:
        contribs.append(Contribution(
            "variety", 0.0, 0.0, variety,
            "Placed a little lower because similar services from this provider are already listed"))
    total = float(sum(c.points for c in contribs))
    expl = Explanation(base=0.0, contributions=contribs, total=total)

    scored_reasons = [c for c in sorted(contribs, key=lambda c: -c.points)
                      if c.component in ("need", "intent", "travel", "transition", "text", "preferences")
                      and (c.points > 0 or c.component in ("travel", "preferences"))]
    lang = next((c for c in contribs if c.component == "language"), None)
    if lang is not None and (query.profile.preferences.language or lang.value < 1):
        scored_reasons.insert(1 if lang.value >= 1 else len(scored_reasons), lang)
    reasons = [c.label for c in scored_reasons]
    record = table.records[row]
    age = age_sentence(table.min_age[row], table.max_age[row], query, bool(elig.lookahead[row]),
                       vocab, said_in_record(record, AGE_FACTS), said_by(record, AGE_FACTS))
    hint = next((c.label for c in contribs if c.component == "age_hint"
                 and c.label.startswith("Age range not stated")), None)
    if hint and age.startswith("Age range not stated"):
        age = hint      # what the description suggests, with its words, instead
    reasons.insert(min(2, len(reasons)), age)
    parents = (said_in_record(record, ("for_parents",)) or _parent_words(record)
               if query.profile.who != "young_person" else None)
    if parents:
        reasons.insert(min(3, len(reasons)), f"For you as a parent or carer: it says '{parents}'")
    facts = _facts(row, table, query, elig, cfg, school_km)
    fresh = next(c for c in contribs if c.component == "freshness") if has_freshness else None
    caveats = [fresh.label] if fresh is not None and fresh.value < 1 else []
    limit = cfg.explain.max_reasons
    body = reasons[: max(0, limit - len(caveats) - min(1, len(facts)))]
    out = body + facts[:1] + caveats
    seen: set[str] = set()
    return expl, [r for r in out if not (r in seen or seen.add(r))][:limit]


def _school_km(rows: np.ndarray, table: ServiceTable, query: FamilyQuery,
               cfg: MatchConfig) -> list[float]:
    """Kilometres from home to each of ``rows`` that is an education setting with a venue,
    when the child is of statutory school-travel age; NaN where that does not apply."""
    sw = cfg.travel.statutory_walking
    km = np.full(len(rows), np.nan)
    if query.has_location and sw.min_age <= query.age <= sw.max_age:
        is_setting = table.cats[rows, table.col("categories", "education")]
        at = np.flatnonzero(is_setting & ~np.isnan(table.lat[rows]))
        if at.size:
            km[at] = haversine_km(query.lat, query.lon, table.lat[rows[at]], table.lon[rows[at]])
    return km.tolist()


def _age_hint_label(row: int, table: ServiceTable, query: FamilyQuery, scored: Scored) -> str:
    """'Age range not stated, but the description suggests ages 11 to 18 (it says '...');
    your child is 9': empty where the record's words suggest no ages."""
    if not scored.facts["has"][row]:
        return "Its words suggest no ages"
    lo, hi = float(table.hint_min_age[row]), float(table.hint_max_age[row])
    if math.isnan(hi):
        span = f"ages {_num(lo)} and over"
    elif math.isnan(lo):
        span = f"ages up to {_num(hi)}"
    else:
        span = f"ages {_num(lo)} to {_num(hi)}"
    quote = age_hint_quote(table.records[row].get("facts"))
    said = f" (it says '{quote}')" if quote else ""
    who = "you are" if query.profile.who == "young_person" else "your child is"
    joint = "; " if scored.facts["inside"][row] else ", but "
    return (f"Age range not stated, but the description suggests {span}{said}{joint}{who} "
            f"{query.age}: check with the provider")


def _facts(row: int, table: ServiceTable, query: FamilyQuery, elig: Eligibility,
           cfg: MatchConfig, school_km: float) -> list[str]:
    out: list[str] = []
    if table.threshold[row]:
        quote = threshold_quote(table.records[row].get("facts")) or ""
        out.append(f"It says '{quote}': check with them that your child's needs fit")
    if not math.isnan(school_km):  # an education setting and a child of school-travel age
        sw = cfg.travel.statutory_walking
        miles = school_km / 1.609344
        limit = sw.under_8_miles if query.age < 8 else sw.from_8_miles
        if miles > limit:
            out.append(f"More than {limit:g} miles away, so your child may get free travel to "
                       "school: ask the council")
    if table.ehcp_required[row]:
        quote = said_in_record(table.records[row], ("ehcp_required",))
        out.append("For children and young people with an EHC plan, which you have"
                   + (f" (it says '{quote}')" if quote else ""))
    cost = table.cost[row]
    details = str(table.records[row]["cost_details"] or "").strip()
    if cost == "free":
        out.append("Free")
    elif cost == "free_for_some":
        out.append(f"Free for some families{': ' + details if details else ''}")
    elif cost == "paid":
        out.append(f"There is a charge{': ' + details if details else ''}")
    if elig.unknown["area"][row] and query.district:
        out.append("Does not say who can use it: check you live in the area it serves")
    return out


#: Why a rule excludes service ``row``, in a sentence written from the record's own fields.
ReasonFn = Callable[[int, ServiceTable, FamilyQuery, NeedLevels, Vocabulary], str]


def reason_age(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
               vocab: Vocabulary) -> str:
    record = table.records[row]
    quote = said_in_record(record, AGE_FACTS)
    return age_sentence(table.min_age[row], table.max_age[row], query, False, vocab,
                        quote, said_by(record, AGE_FACTS)).replace("; your child is", ", but your child is").replace(
        "; you are", ", but you are")


def reason_area(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
                vocab: Vocabulary) -> str:
    areas = [table.area_districts[k] for k in np.flatnonzero(table.area_matrix[row])]
    shown = ", ".join(areas[:6]) + ("..." if len(areas) > 6 else "")
    return f"Only for families living in {shown}; you are in {query.district}"


def reason_ehcp(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
                vocab: Vocabulary) -> str:
    quote = said_in_record(table.records[row], ("ehcp_required",))
    return ("Only for children and young people with an EHC plan"
            + (f" (it says '{quote}')" if quote else ""))


def reason_parents_only(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
                        vocab: Vocabulary) -> str:
    words = _parent_words(table.records[row])
    return ("For parents and carers" + (f" (it says '{words}')" if words else "")
            + ", and you are looking for yourself")


def reason_online_only(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
                       vocab: Vocabulary) -> str:
    return "Only in person, and you asked for online or phone services"


def reason_free_only(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
                     vocab: Vocabulary) -> str:
    return "There is a charge, and you asked for free services only"


def reason_other_needs(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
                       vocab: Vocabulary) -> str:
    stated = [lower_label(vocab.needs[table.need_ids[k]].label)
              for k in np.flatnonzero(table.need_stated[row])][:3]
    return f"Specialises in {', '.join(stated)}, which you did not mention"


def reason_need_excluded(row: int, table: ServiceTable, query: FamilyQuery, levels: NeedLevels,
                         vocab: Vocabulary) -> str:
    j = [k for k in range(len(query.needs))
         if NEED_LEVELS[int(levels.level(row, k))] == "excluded"]
    words = query.needs[j[0]].words if j else "your child's needs"
    return f"Says it does not support {words}"
