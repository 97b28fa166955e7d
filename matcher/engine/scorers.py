"""Scorers: pure, vectorised functions over all services, each returning values in [0, 1].

Each returns a :class:`Scored` holding the values and the per-service facts its reason is
later written from, so explanation and number come from the same arrays.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np

from matcher.engine.config import MatchConfig
from matcher.engine.features import AREAS, ServiceTable
from matcher.engine.intent import cue_pattern
from matcher.engine.query import FamilyQuery
from matcher.geo.distance import haversine_km_from
from matcher.vocab import Vocabulary

__all__ = [
    "Scored",
    "NeedLevels",
    "need_levels",
    "score_need",
    "score_text",
    "travel_minutes",
    "score_travel",
    "score_transition",
    "score_preferences",
    "score_freshness",
    "score_intent",
    "score_language",
    "score_audience",
    "score_age_hint",
    "NEED_LEVELS",
    "focus_matrix",
    "focus_phrase",
    "topic_focus",
]

# Level codes for need matches, best first in value order of the default config.
NEED_LEVELS = ("none", "unstated", "all_send", "same_area", "same_code", "exact", "excluded")


@dataclass
class Scored:
    """Values in [0, 1] for every service, plus the arrays its reasons are built from."""

    values: np.ndarray
    applies: bool = True
    facts: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class NeedLevels:
    """Per family need (columns) and service (rows): the value of the best match.

    The level behind a value (exact, same DfE type, same area, "all SEND"...) is only needed for
    the few services explained, so :meth:`level` works it out for one cell on demand.
    """

    values: np.ndarray      # (n_services, n_family_needs) float
    overlap: np.ndarray     # (n_services,) bool: states a need, DfE type or broad area in common
    excluded_any: np.ndarray  # (n_services,) bool: the description rules out one of the needs
    exact_any: np.ndarray   # (n_services,) bool: serves one of the needs by name
    parts: list = field(default_factory=list)  # per family need: (exact, code, area, excluded)
    focus_missed: np.ndarray | None = None  # named for a need the family did not mention
    base: tuple = ()        # (unstated value, all-SEND value) arrays shared by every need
    weights: tuple = ()     # (exact, same_code, same_area) values from the config

    def level(self, row: int, j: int) -> int:
        """Index into NEED_LEVELS of the best match of family need ``j`` at service ``row``."""
        part = self.parts[j] if j < len(self.parts) else None
        if part is None:
            return 0
        exact, code, area_v, excl = part
        if excl[row]:
            return NEED_LEVELS.index("excluded")
        unstated, all_send = self.base
        w_exact, w_code, w_area = self.weights
        candidates = (0.0, float(unstated[row]), float(all_send[row]), float(area_v[row]) * w_area,
                      float(code[row]) * w_code, float(exact[row]) * w_exact)
        return max(range(len(candidates)), key=candidates.__getitem__)  # first best, as argmax


# Who a service named for a broad area of need is for.
AREA_PHRASES = {
    "ci": "children with communication and interaction needs",
    "cl": "children with learning difficulties",
    "semh": "children with social, emotional and mental health needs",
    "sp": "children with sensory or physical needs",
}

# Words too general to say what a service is for when they appear in its name.
_GENERIC_NAME_WORDS = frozenset({
    "need", "needs", "difficulty", "difficulties", "disorder", "disorders", "problem",
    "problems", "issue", "issues", "delay", "delayed", "disability", "disabilities", "disabled",
    "condition", "conditions", "learning", "support", "special", "children", "child", "young",
    "people", "family", "families", "parent", "parents", "service", "services"})


def focus_matrix(table: ServiceTable, vocab: Vocabulary) -> np.ndarray:
    """Bool (n_services, n_needs + 4 areas): the needs a service is *named* for.

    A need is a service's focus when its name says it ("Sleep Well - SEND Sleep Service",
    "Sensory Advice Line", "Calmer Families - ADHD Parent Programme"): either the vocabulary
    reads the need in the name, or a distinctive word of one of the needs the provider lists
    appears in the name. Worked out once per table, then cached.
    """
    key = "__focus__"
    if key in table.need_cache:
        return table.need_cache[key]
    col = {g: i for i, g in enumerate(table.need_ids)}
    k = len(table.need_ids)
    words = {nid: {w for syn in need.synonyms for w in re.findall(r"[a-z]{4,}", syn.casefold())
                   if w not in _GENERIC_NAME_WORDS}
             for nid, need in vocab.needs.items()}
    out = np.zeros((table.n, k + len(AREAS)), dtype=bool)
    named: dict[str, list[str]] = {}   # the needs read in each distinct name, read once
    for r, (name, needs) in enumerate(zip(table.frame["name"], table.frame["needs"], strict=True)):
        name = str(name)
        tokens = set(re.findall(r"[a-z]{4,}", name.casefold()))
        if name not in named:
            named[name] = vocab.find_in_text(name, detect_exclusions=False).mentioned
        for nid in named[name]:
            if nid in col:
                out[r, col[nid]] = True
            elif nid.startswith("area:") and nid[5:] in AREAS:
                out[r, k + AREAS.index(nid[5:])] = True
        for nid in needs or ():
            if nid in col and tokens & words.get(nid, set()):
                out[r, col[nid]] = True
    table.need_cache[key] = out
    return out


def topic_focus(table: ServiceTable, cfg: MatchConfig) -> np.ndarray:
    """Bool (n_services, n_topics): services named for a situation of ``need.focus_topics``
    (a "Crisis Line", a "Brothers and Sisters Club"), in the config's topic order."""
    key = ("__topics__", id(cfg))
    if key not in table.need_cache:
        names = table.frame["name"].fillna("").astype(str)
        cols = [names.str.contains(cue_pattern(topic.name_words)).to_numpy(bool)
                for topic in cfg.need.focus_topics.values()]
        table.need_cache[key] = (np.stack(cols, axis=1) if cols
                                 else np.zeros((table.n, 0), dtype=bool))
    return table.need_cache[key]


def focus_phrase(table: ServiceTable, vocab: Vocabulary, cfg: MatchConfig, row: int,
                 family_text: str) -> str:
    """Plain words for who service ``row`` is named for ("children with sleep difficulties",
    "people in a mental health crisis"), for the sentence saying why its need fit was lowered:
    a situation the family's words do not mention first, else the first need in its name; ""
    when it is named for nothing in particular."""
    topics = list(cfg.need.focus_topics.values())
    for c in np.flatnonzero(topic_focus(table, cfg)[row]):
        if not cue_pattern(topics[c].cues).search(family_text):
            return topics[c].phrase
    focus = focus_matrix(table, vocab)[row]
    k = len(table.need_ids)
    for c in np.flatnonzero(focus[:k]):
        need = vocab.needs.get(table.need_ids[c])
        if need is not None:
            return need.phrase
    for c in np.flatnonzero(focus[k:]):
        return AREA_PHRASES.get(AREAS[c], "")
    return ""


def _focus_columns(table: ServiceTable, nid: str, vocab: Vocabulary, cfg: MatchConfig) -> list[int]:
    """Columns of :func:`focus_matrix` that count as a service being named for family need
    ``nid``: the need itself, needs of the same DfE type, broader needs it belongs to, and its
    broad area(s)."""
    col = {g: i for i, g in enumerate(table.need_ids)}
    k = len(table.need_ids)
    if not nid.startswith("area:") and (nid not in vocab.needs or nid not in col):
        return []
    same_code, _, area_cols = _related_columns(table, nid, vocab, cfg)
    own = [] if nid.startswith("area:") else [col[nid]]
    # A service named for a broader group ("neurodevelopmental") covers the family's need.
    broader = [col[b] for b in vocab.broader_of(nid) if b in col]
    return own + same_code + broader + [k + a for a in area_cols]


def _related_columns(table: ServiceTable, nid: str, vocab: Vocabulary,
                     cfg: MatchConfig) -> tuple[list[int], list[int], list[int]]:
    """Need columns related to family need ``nid``: (same DfE type, same broad area, area
    columns of AREAS). For an area need ("area:semh"): (needs in the area, [], [its column]).
    A need in an exclusive group (SLD vs PMLD) is never related to the others in it."""
    col = {g: i for i, g in enumerate(table.need_ids)}
    if nid.startswith("area:"):
        area = nid[5:]
        in_area = [col[g] for g, need in vocab.needs.items() if area in need.areas and g in col]
        return in_area, [], [AREAS.index(area)] if area in AREAS else []
    need = vocab.needs[nid]
    siblings = _exclusive_siblings(cfg, nid)
    others = [(g, other) for g, other in vocab.needs.items()
              if g != nid and g in col and g not in siblings]
    same_code = [col[g] for g, other in others if need.code and other.code == need.code]
    same_area = [col[g] for g, other in others if set(other.areas) & set(need.areas)]
    return same_code, same_area, [AREAS.index(a) for a in need.areas if a in AREAS]


def _exclusive_siblings(cfg: MatchConfig, nid: str) -> set[str]:
    for group in cfg.need.exclusive_groups:
        if nid in group:
            return set(group) - {nid}
    return set()


def _need_view(table: ServiceTable, nid: str, vocab: Vocabulary, cfg: MatchConfig):
    """Per-service match strengths for one canonical need, computed once per table and cached.

    Returns (exact, same_code, same_area, excluded, stated) arrays, or None for an unknown need.
    """
    key = (nid, id(cfg))
    if key in table.need_cache:
        return table.need_cache[key]
    n = table.n
    col = {g: i for i, g in enumerate(table.need_ids)}
    if nid.startswith("area:"):
        in_area, _, area_cols = _related_columns(table, nid, vocab, cfg)
        exact = table.area_strength[:, area_cols].max(axis=1, initial=0.0)
        code = table.need_strength[:, in_area].max(axis=1, initial=0.0)
        area_v = np.zeros(n)
        excl = np.zeros(n, dtype=bool)
        stated = (exact > 0) | table.need_stated[:, in_area].any(axis=1)
    else:
        if nid not in vocab.needs or nid not in col:
            table.need_cache[key] = None
            return None
        exact = table.need_strength[:, col[nid]].astype(np.float64)
        same_code, same_area, area_cols = _related_columns(table, nid, vocab, cfg)
        code = table.need_strength[:, same_code].max(axis=1, initial=0.0)
        area_v = np.maximum(
            table.need_strength[:, same_area].max(axis=1, initial=0.0),
            table.area_strength[:, area_cols].max(axis=1, initial=0.0),
        )
        excl = table.need_excluded[:, col[nid]]
        # Sharing only a broad area is weak evidence: a service for SLD and PMLD does not
        # become one for autism because both sit near "cognition and learning".
        stated = (table.need_stated[:, [col[nid], *same_code]].any(axis=1)
                  | (table.area_strength[:, area_cols].max(axis=1, initial=0.0) > 0))
    view = (exact, code.astype(np.float64), area_v.astype(np.float64), excl, stated)
    table.need_cache[key] = view
    return view


def need_levels(table: ServiceTable, query: FamilyQuery, vocab: Vocabulary,
                cfg: MatchConfig) -> NeedLevels:
    """Match every family need against every service at the best level available."""
    n, k = table.n, len(query.needs)
    values = np.zeros((n, k), dtype=np.float64, order="F")  # column-major: fast row max/sum
    overlap = np.zeros(n, dtype=bool)
    excluded_any = np.zeros(n, dtype=bool)
    exact_any = np.zeros(n, dtype=bool)
    c = cfg.need
    unstated = table.needs_unstated * c.unstated
    all_send = table.all_send * c.all_send
    floor = np.maximum(unstated, all_send)
    parts: list = []
    focus = focus_matrix(table, vocab)
    focus_hit = np.zeros(n, dtype=bool)
    for j, fn in enumerate(query.needs):
        fkey = ("__focus_cols__", fn.need, id(cfg))
        if fkey not in table.need_cache:
            table.need_cache[fkey] = _focus_columns(table, fn.need, vocab, cfg)
        fcols = table.need_cache[fkey]
        if fcols:
            hkey = ("__focus_hit__", fn.need, id(cfg))
            if hkey not in table.need_cache:
                table.need_cache[hkey] = focus[:, fcols].any(axis=1)
            focus_hit |= table.need_cache[hkey]
        view = _need_view(table, fn.need, vocab, cfg)
        if view is None:
            parts.append(None)
            continue
        exact, code, area_v, excl, stated = view
        best = np.maximum(np.maximum(floor, area_v * c.same_area),
                          np.maximum(code * c.same_code, exact * c.exact))
        values[:, j] = np.where(excl, 0.0, best)
        parts.append((exact, code, area_v, excl))
        overlap |= stated
        excluded_any |= excl
        exact_any |= (exact > 0) & ~excl
    if "__has_focus__" not in table.need_cache:
        table.need_cache["__has_focus__"] = focus.any(axis=1)
    focus_missed = table.need_cache["__has_focus__"] & ~focus_hit if k else np.zeros(n, dtype=bool)
    topics = cfg.need.focus_topics
    if topics:
        said = tuple(bool(cue_pattern(t.cues).search(query.text)) for t in topics.values())
        if not all(said):
            mkey = ("__topics_unsaid__", id(cfg), said)   # at most 2 ** len(topics) entries
            if mkey not in table.need_cache:
                table.need_cache[mkey] = topic_focus(table, cfg)[:, ~np.array(said)].any(axis=1)
            focus_missed |= table.need_cache[mkey]
    return NeedLevels(values, overlap, excluded_any, exact_any, parts, focus_missed,
                      (unstated, all_send), (c.exact, c.same_code, c.same_area))


def score_need(levels: NeedLevels, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """Need fit: a blend of the best-met need and the average over all the family's needs."""
    n = levels.values.shape[0]
    if not query.needs:
        return Scored(np.full(n, cfg.need.no_needs_given), applies=True,
                      facts={"no_needs": np.ones(n, dtype=bool)})
    w = np.array([fn.weight for fn in query.needs], dtype=np.float64)
    weighted = levels.values * w
    best = weighted.max(axis=1)
    mean = weighted.sum(axis=1) / w.sum()
    s = cfg.need.max_share
    values = np.clip(s * best + (1 - s) * mean, 0.0, 1.0)
    facts: dict[str, np.ndarray] = {}
    if levels.focus_missed is not None:
        values = np.where(levels.focus_missed, values * cfg.need.focus_missed, values)
        facts["focus_missed"] = levels.focus_missed
    return Scored(values, facts=facts)


def score_text(table: ServiceTable, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """Text relevance of the family's words to each service (TF-IDF or BM25F cosine, as
    ``[text] model`` says), scaled so ``cap`` counts as 1.

    ``facts["vector"]`` is the query as the index read it, carrying the family's own words
    (their needs list and what they wrote), the only words a reason may name.
    """
    if not query.text.strip():
        return Scored(np.zeros(table.n), applies=False)
    p = query.profile
    vector = table.text_index.query(query.text, own=" . ".join([*p.needs, p.about]))
    sim = table.text_index.similarity(vector)
    return Scored(np.clip(sim / cfg.text.cap, 0.0, 1.0), facts={"cosine": sim, "vector": vector})


def travel_minutes(km: np.ndarray, mode: str, cfg: MatchConfig) -> np.ndarray:
    """Door-to-door minutes from straight-line km: overhead + km x route factor / speed.

    >>> from matcher.engine.config import load_config
    >>> travel_minutes(np.array([0.0, 2.0]), "public_transport", load_config()).round(1).tolist()
    [8.0, 18.5]
    """
    m = cfg.travel.modes[mode]  # type: ignore[index]
    return m.overhead_min + km * m.route_factor / m.speed_kmh * 60.0


def _decay(minutes: np.ndarray, limit: float, cfg: MatchConfig) -> np.ndarray:
    t = cfg.travel
    r = minutes / limit
    inside = 1.0 - (1.0 - t.at_limit) * np.clip((r - t.full_until) / (1.0 - t.full_until), 0, 1) ** 2
    beyond = t.at_limit * np.exp(-(r - 1.0) / t.beyond_scale)
    return np.where(r <= 1.0, inside, beyond)


def score_travel(table: ServiceTable, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """Travel fit: full for online, phone and home visits; smooth decay against the limit."""
    n = table.n
    d = table.delivery
    remote = d[:, table.col("delivery", "online")] | d[:, table.col("delivery", "phone")]
    home = d[:, table.col("delivery", "home_visit")]
    in_person = d[:, table.col("delivery", "in_person")]
    has_coords = ~np.isnan(table.lat)
    km = np.full(n, np.nan)
    minutes = np.full(n, np.nan)
    values = np.full(n, cfg.travel.unknown)
    if query.has_location and query.mode != "online_only":
        km = haversine_km_from(query.lat, query.lon, table.points)
        minutes = travel_minutes(km, query.mode, cfg)
        known = in_person & has_coords
        # Rows without a venue have NaN minutes; np.where drops them, and NaN raises no warning.
        values = np.where(known, _decay(minutes, query.max_minutes, cfg), values)
    no_travel = remote | home
    values = np.where(no_travel, 1.0, values)
    return Scored(np.clip(values, 0, 1), facts={
        "km": km, "minutes": minutes, "remote": remote, "home": home, "in_person": in_person,
        "has_coords": has_coords,
    })


def score_transition(table: ServiceTable, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """Transition fit: the service lists the family's move, or serves the destination phase."""
    t = query.profile.transition
    if not t:
        return Scored(np.zeros(table.n), applies=False)
    c = cfg.transition
    same = table.transitions[:, table.col("transitions", t)]
    is_transition = table.cats[:, table.col("categories", "transition")] | table.transitions.any(axis=1)
    related_cats = table.cols("categories", c.related_categories.get(t, []))
    related = table.cats[:, related_cats].any(axis=1) if related_cats else np.zeros(table.n, bool)
    dest = c.destination_min_age.get(t)
    if dest is not None:
        # A setting of the phase being left (a nursery for a child starting school) does not
        # help with the move, even when it says it supports it: the child is leaving it.
        # (NaN, no age stated, compares False.) A setting the child cannot attend at the
        # destination age is one they are leaving.
        settings_left = (table.max_age < dest) & table.cats[:, table.col("categories", "education")]
        related &= ~(table.max_age <= dest)
        same = same & ~settings_left
        is_transition = is_transition & ~settings_left
    values = np.where(same, c.same, np.where(related, c.related_category,
                                             np.where(is_transition, c.other_transition, 0.0)))
    return Scored(values, facts={"same": same, "related": related})


def score_preferences(table: ServiceTable, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """Mean over the preferences the family gave: categories, when, accessibility, delivery, language."""
    p = query.profile.preferences
    parts: dict[str, np.ndarray] = {}
    n = table.n
    if p.categories:
        idx = table.cols("categories", p.categories)
        parts["categories"] = table.cats[:, idx].any(axis=1).astype(float)
    if p.when:
        idx = table.cols("when", p.when)
        stated = table.when.any(axis=1)
        parts["when"] = np.where(stated, table.when[:, idx].any(axis=1), 0.5).astype(float)
    if p.accessibility:
        idx = table.cols("accessibility", p.accessibility)
        parts["accessibility"] = table.access[:, idx].mean(axis=1)
    if p.delivery:
        idx = table.cols("delivery", p.delivery)
        parts["delivery"] = table.delivery[:, idx].any(axis=1).astype(float)
    if not parts:
        return Scored(np.zeros(n), applies=False)
    # A kind of service the family asked for by name counts more than the other wishes.
    w = np.array([cfg.preferences.categories_weight if k == "categories" else 1.0 for k in parts])
    values = np.stack(list(parts.values()), axis=1) @ (w / w.sum())
    return Scored(values, facts=parts)


def score_intent(table: ServiceTable, intent_vector: np.ndarray) -> Scored:
    """Does the service's category match what the family's words say they are looking for?

    ``intent_vector`` has one weight per category (the table's ``closed["categories"]`` order),
    the strongest scaled to 1.
    """
    if intent_vector.max(initial=0.0) <= 0:
        return Scored(np.zeros(table.n), applies=False)
    wanted = np.flatnonzero(intent_vector)
    values = (table.cats[:, wanted] * intent_vector[wanted]).max(axis=1)
    return Scored(values)


#: How many languages' description searches a table keeps (each is one flag per service).
LANGUAGE_CACHE_SIZE = 32


def score_language(table: ServiceTable, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """Language fit. Always applies: services named for a language community score low for
    families who did not ask for that language; a family asking for a language is matched on
    the services' language lists, then on mentions in their descriptions.
    """
    c = cfg.language
    lang = (query.profile.preferences.language or "").strip().casefold()
    community = table.has_community_language
    if not lang or lang in ("english", "en"):
        values = np.where(community, c.other_community, 1.0)
        return Scored(values, facts={"community": community, "listed": ~community})
    listed = (table.language_matrix[:, table.languages.index(lang)]
              if lang in table.languages else np.zeros(table.n, dtype=bool))
    if lang in ("bsl", "british sign language"):
        listed = listed | table.access[:, table.col("accessibility", "bsl")]
    mentioned = table.language_cache.get(lang)
    if mentioned is None:
        mentioned = table.mentions(lang)
        # A family may type any language: keep the latest few, so that memory stays bounded
        # whatever is asked.
        cache = table.language_cache
        for old in list(cache)[:max(0, len(cache) - LANGUAGE_CACHE_SIZE + 1)]:
            cache.pop(old, None)   # the oldest first; safe beside other requests' threads
        cache[lang] = mentioned
    other_community = community & (table.community_language != lang)
    values = np.where(listed, 1.0, np.where(mentioned, c.mentioned,
                                            np.where(other_community, c.other_community, c.not_listed)))
    return Scored(values, facts={"community": other_community, "listed": listed, "mentioned": mentioned})


def score_audience(table: ServiceTable, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """A young person asking for themselves is poorly served by courses for parents."""
    if query.profile.who != "young_person":
        return Scored(np.zeros(table.n), applies=False)
    values = np.where(table.parent_facing, cfg.audience.parent_service_for_young_person, 1.0)
    return Scored(values, facts={"parent_facing": table.parent_facing})


def score_freshness(table: ServiceTable, today: dt.date, cfg: MatchConfig) -> Scored:
    """1 if checked within ``stale_after_days``, ``stale`` if older, ``unknown`` if never dated."""
    age_days = today.toordinal() - table.reviewed_ordinal
    f = cfg.freshness
    values = np.where(np.isnan(age_days), f.unknown, np.where(age_days > f.stale_after_days, f.stale, 1.0))
    return Scored(values, facts={"age_days": age_days})


def score_age_hint(table: ServiceTable, query: FamilyQuery, cfg: MatchConfig) -> Scored:
    """Ages a record's words suggest but do not state ("likely" facts of the reading step,
    for a record with no ages): 0 where the child is outside them, else 1. A suggestion is
    never a rule, so it only moves the score (and is said)."""
    lo, hi = table.hint_min_age, table.hint_max_age
    has = ~np.isnan(lo) | ~np.isnan(hi)
    if not has.any():
        return Scored(np.ones(table.n), applies=False)
    with np.errstate(invalid="ignore"):
        inside = (np.isnan(lo) | (lo <= query.lookahead_age)) & (np.isnan(hi) | (query.age <= hi))
    return Scored(np.where(has & ~inside, 0.0, 1.0), facts={"has": has, "inside": inside})
