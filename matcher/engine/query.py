"""Turn a validated :class:`Profile` into the arrays and facts the pipeline stages use.

The family's words are read once (:func:`read_family_words`): the needs they list, the needs
their own words describe (the vocabulary's synonyms, plus a little grammar for what has no
fixed wording: "born at 27 weeks", "hates loud noise", "can't cope with busy shops"), the kind
of help they ask for (:mod:`matcher.engine.intent`) and the phrases read as their situation
("after school"). Where the same words could be a condition or an ask, the ask wins: "money
worries" asks for financial help and is not read as anxiety, and "someone to talk to" asks
for someone to talk to rather than saying the child has a mental health need. The reading
comes back as ``understood``: each of their words, as written, and what it was read as.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from matcher.engine.config import MatchConfig
from matcher.engine.intent import Intent, load_intents
from matcher.engine.profile import Profile
from matcher.errors import ProfileError
from matcher.geo.postcodes import PostcodeIndex, postcode_district
from matcher.vocab import Vocabulary

__all__ = ["FamilyNeed", "FamilyQuery", "FamilyWords", "NEED_PATTERNS", "prepare_query",
           "read_family_words"]


@dataclass(frozen=True)
class FamilyNeed:
    """One canonical need of the family, with the words it came from."""

    need: str          # canonical id ("autism") or broad area ("area:semh")
    weight: float      # 1 for a need the family listed, less for one read from their free text
    words: str         # the family's own words, for reasons ("you mentioned ...")
    listed: bool


@dataclass(frozen=True)
class FamilyWords:
    """What was read from the family's words (their needs list and their free text)."""

    needs: tuple[FamilyNeed, ...]
    unrecognised: tuple[str, ...]
    intent: Intent
    #: Each of their words that was understood, as written, and what it was read as:
    #: {"words": "hates loud noise", "as": "Sensory processing difficulties", "kind": "need",
    #: "id": "sensory_processing"}. ``kind`` is "need" (``id`` the need), "ask" (a kind of help
    #: they ask for), "help" (a kind of help their words point to without asking) or
    #: "situation" (when or where things happen, not a request; ``id`` the category it is not
    #: asking for).
    understood: tuple[dict[str, str], ...]
    #: What their everyday asks were read as, where that says more than the category's label
    #: ("money worries": "help with money and benefits").
    ask_labels: tuple[str, ...] = ()


# ---- Grammar for needs that have no fixed wording ---------------------------------------------
_N = (r"(?P<n>\d{1,2}|(?:twenty|thirty)(?:[\s-]?(?:one|two|three|four|five|six|seven|eight|"
      r"nine))?)")
_PLUS = r"(?:\s*\+\s*\d(?:\s*days?)?)?"
_WEEKS = r"(?:weeks?|wks?)"
_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9}


def _number(text: str) -> int:
    text = text.lower().replace("-", " ")
    if text.isdigit():
        return int(text)
    tens, _, ones = text.partition(" ") if " " in text else (text[:6], "", text[6:])
    return {"twenty": 20, "thirty": 30}.get(tens.strip(), 0) + _ONES.get(ones.strip(), 0)


#: A baby is premature when born before 37 weeks of pregnancy (full term is 40). The number is
#: kept apart so "born at 39 weeks" or "born 2 weeks early" are not read as premature.
_GESTATION = range(22, 37)
_WEEKS_EARLY = range(4, 19)
_AVERSION = (r"(?:hate[sd]?|hating|dislikes?|can['\u2019]?t\s+(?:stand|cope\s+with|bear|tolerate|"
             r"handle)|cannot\s+(?:stand|cope\s+with|bear|tolerate|handle)|(?:does\s+not|do\s+not|"
             r"doesn['\u2019]?t|don['\u2019]?t|won['\u2019]?t)\s+(?:like|tolerate|cope\s+with)|"
             r"(?:scared|frightened|terrified|afraid)\s+of|(?:upset|overwhelmed|distressed|"
             r"overloaded|bothered)\s+by|struggles?\s+with|screams?\s+at)")
_PLACES = (r"(?:noises?|sounds?|music|places?|rooms?|environments?|voices?|bangs?|shops?|streets?|"
           r"supermarkets?|crowds?|lights?|people)")
_STIMULUS = (rf"(?:(?:loud|noisy|crowded)(?:\s+{_PLACES})?|(?:busy|bright)\s+{_PLACES}"
             r"|noises?|sounds?|crowds?|lights|textures?|labels?|smells?|being\s+touched|"
             r"hand[\s-]?dryers?|haircuts?|hair\s+cuts?|fireworks|sirens?)")
_HARD = r"(?:hard|difficult|too\s+much|overwhelming|unbearable|scary|frightening|upsetting)"


@dataclass(frozen=True)
class NeedPattern:
    """A need read by a grammar rule; ``accept`` checks the named group ``n`` when present."""

    need: str
    pattern: re.Pattern[str]
    accept: range | None = None

    def finditer(self, text: str):
        for m in self.pattern.finditer(text):
            if self.accept is None or _number(m.group("n")) in self.accept:
                yield m


#: Needs read from a family's own words by grammar (in order; the first to read a need wins).
NEED_PATTERNS: tuple[NeedPattern, ...] = (
    # "born at 27 weeks", "delivered at 32+4 weeks", "born at twenty-nine weeks"
    NeedPattern("prematurity", re.compile(
        rf"\b(?:born|delivered|arrived)\s+(?:[a-z'-]+\s+){{0,3}}?(?:at\s+)?(?:just\s+|only\s+|around\s+"
        rf"|about\s+)?{_N}{_PLUS}\s*{_WEEKS}\b", re.IGNORECASE), _GESTATION),
    # "a 27 weeker", "27-week prem", "30 week preemie"
    NeedPattern("prematurity", re.compile(
        rf"\b{_N}{_PLUS}[\s-]*(?:weeker|{_WEEKS}\s+(?:prem|premmie|preemie|premie)\b)",
        re.IGNORECASE), _GESTATION),
    # "born 10 weeks early", "8 weeks premature"
    NeedPattern("prematurity", re.compile(
        rf"\b{_N}{_PLUS}\s*{_WEEKS}\s+(?:early|premature|prem)\b", re.IGNORECASE), _WEEKS_EARLY),
    # "hates loud noise", "can't cope with busy shops", "scared of hand dryers"
    NeedPattern("sensory_processing", re.compile(
        rf"\b{_AVERSION}\s+(?:[a-z'\u2019]+\s+){{0,3}}?{_STIMULUS}\b", re.IGNORECASE)),
    # "finds noisy places hard", "finds busy shops too much"
    NeedPattern("sensory_processing", re.compile(
        rf"\bfinds?\s+(?:[a-z'\u2019]+\s+){{0,2}}?{_STIMULUS}(?:\s+[a-z]+)?\s+{_HARD}\b",
        re.IGNORECASE)),
)


def _blank(text: str, spans) -> str:
    for a, b, *_ in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def _is_code(word: str) -> bool:
    upper = sum(c.isupper() for c in word)
    return " " not in word and upper >= 2 and upper >= sum(c.islower() for c in word)


@lru_cache(maxsize=512)
def _need_words_pattern(vocab: Vocabulary, nid: str) -> re.Pattern[str] | None:
    """One pattern for the words of a need the vocabulary reads in running text, longest
    first: to find where in a family's text a need came from. Apostrophes may be left out and
    a final "s" added, as the vocabulary allows."""
    need = vocab.needs.get(nid)
    if need is None:
        return None
    alts = []
    for word in sorted({need.label, *need.synonyms}, key=len, reverse=True):
        tokens = re.findall(r"[^\W_]+", word.replace("'", "").replace("\u2019", ""))
        if not tokens or nid not in vocab.find_in_text(word, detect_exclusions=False).mentioned:
            continue   # a word understood only in a needs list ("reading"), not in running text
        body = r"[\W_]+".join("['\u2019]?".join(map(re.escape, t)) for t in tokens)
        alts.append(f"(?-i:{body})" if _is_code(word) else body)
    if not alts:
        return None
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alts) + r")s?(?![^\W_])", re.IGNORECASE)


def _pattern_needs(text: str) -> list[tuple[str, int, int]]:
    """``(need, start, end)`` of every need the grammar reads in ``text``."""
    return [(p.need, *m.span()) for p in NEED_PATTERNS for m in p.finditer(text)]


def _drop_overlaps(items: list[tuple[int, int, dict[str, str]]]) -> list[dict[str, str]]:
    """Items in reading order, without one whose words sit inside another's read the same way
    ("loud noise" inside "hates loud noise") or that repeats it."""
    keep: list[tuple[int, int, dict[str, str]]] = []
    for a, b, u in sorted(items, key=lambda t: (t[0] < 0, t[0], -(t[1] - t[0]))):
        if any(ka <= a and b <= kb and k["as"] == u["as"] and k["kind"] == u["kind"]
               for ka, kb, k in keep):
            continue
        keep.append((a, b, u))
    return [u for _, _, u in keep]


def _read(needs: tuple[str, ...], about: str, vocab: Vocabulary, categories: tuple[str, ...],
          about_weight: float, ask_weight: float, max_count: float) -> FamilyWords:
    lexicon = load_intents(categories=categories)
    # Everything is located in what the family said: their free text, then each listed need
    # (sentences apart, so an ask in their words does not run on into their needs list).
    said = ". ".join([about, *needs])
    offsets = [len(about) + 2 + sum(len(e) + 2 for e in needs[:i]) for i in range(len(needs))]
    found: list[FamilyNeed] = []
    understood: list[tuple[int, int, dict[str, str]]] = []
    seen: set[str] = set()

    def add(hits: list[tuple[int, int, str]], weight: float, listed: bool,
            words_of: dict[str, str]) -> None:
        """Needs in the order the family wrote them; one whose words were not found as
        written (a fuzzy match, at position -1) keeps its place among the others."""
        for at, end, nid in sorted(hits, key=lambda h: (h[0] < 0, h[0])):
            if nid == "all_send":
                continue
            label = vocab.label_of(nid)
            understood.append((at, end, {"words": said[at:end] if end > at else label.lower(),
                                         "as": label, "kind": "need", "id": nid}))
            if nid not in seen:
                seen.add(nid)
                found.append(FamilyNeed(nid, weight, words_of.get(nid, label.lower()), listed))

    # The needs they list, without the words of an everyday ask ("money worries").
    phrases = lexicon.ask_phrases(said)
    entries = [_blank(e, [(a - offsets[i], b - offsets[i]) for a, b, *_ in phrases
                          if offsets[i] <= a and b <= offsets[i] + len(e)])
               for i, e in enumerate(needs)]
    kept = [(i, e) for i, e in enumerate(entries) if e.strip(" ,;./")]
    normalised = vocab.normalise([e for _, e in kept]) if kept else None
    unrecognised = list(normalised.unrecognised) if normalised is not None else []
    hits: list[tuple[int, int, str]] = []
    words_of: dict[str, str] = {}
    for m in normalised.matches if normalised is not None else []:
        i = next((i for i, e in kept if m.text in e), None)
        at = offsets[i] + entries[i].index(m.text) if i is not None else -1
        hits.append((at, at + len(m.text) if i is not None else -1, m.need))
        words_of.setdefault(m.need, m.text)
    for i, entry in enumerate(entries):
        for nid, a, b in _pattern_needs(entry):
            hits.append((offsets[i] + a, offsets[i] + b, nid))
            words_of.setdefault(nid, entry[a:b])
            unrecognised = [u for u in unrecognised if u not in entry[a:b] and entry[a:b] not in u]
    add(hits, 1.0, True, words_of)

    # Their own words: the same, at the weight of a need only told about.
    if about:
        text = _blank(about, [p for p in phrases if p[1] <= len(about)])
        hits = [(a, b, nid) for nid, a, b in _pattern_needs(text)]
        for nid in vocab.find_in_text(text, detect_exclusions=False).mentioned:
            pattern = _need_words_pattern(vocab, nid)
            spans = [m.span() for m in pattern.finditer(text)] if pattern is not None else []
            hits += [(a, b, nid) for a, b in spans or [(-1, -1)]]
        # Each need in the words they wrote it in ("autistic", not the label "autism").
        words_about: dict[str, str] = {}
        for a, b, nid in sorted(hits):
            if b > a >= 0:
                words_about.setdefault(nid, text[a:b])
        add(hits, about_weight, False, words_about)

    intent = lexicon.read(said, ask_weight, max_count, phrases)
    for a, b, c, label, asked in intent.found:
        understood.append((a, b, {"words": said[a:b], "as": label,
                                  "kind": "ask" if asked else "help", "id": c}))
    for a, b, c in intent.situations:
        understood.append((a, b, {"words": said[a:b], "kind": "situation", "id": c,
                                  "as": f"when or where things happen, not a request for "
                                        f"{lexicon.labels[c]}"}))
    # Words read as an ask or a situation were understood, if not as a need.
    unrecognised = [u for u in unrecognised if not _understood_as_help(lexicon, u)]
    ask_labels = tuple(dict.fromkeys(label for _, _, c, label, asked in intent.found
                                     if asked and label != lexicon.labels[c]))
    return FamilyWords(tuple(found), tuple(unrecognised), intent,
                       tuple(_drop_overlaps(understood)), ask_labels)


def _understood_as_help(lexicon, words: str) -> bool:
    intent = lexicon.read(words)
    return bool(intent.weights or intent.situations)


def read_family_words(profile: Profile, vocab: Vocabulary, cfg: MatchConfig) -> FamilyWords:
    """Read the family's needs list and free text. Nothing of it is kept after the request:
    no cache holds a family's words."""
    return _read(tuple(profile.needs or ()), profile.about or "", vocab, tuple(vocab.categories),
                 cfg.need.about_weight, cfg.intent.ask_weight, cfg.intent.max_count)


@dataclass
class FamilyQuery:
    """Everything about one request, resolved once (postcode, needs, travel, look-ahead)."""

    profile: Profile
    age: int
    lookahead_age: int            # oldest age a destination-phase service may start at
    needs: list[FamilyNeed]
    unrecognised: list[str]
    text: str                     # words for the TF-IDF scorer
    mode: str
    max_minutes: float
    lat: float | None = None
    lon: float | None = None
    district: str | None = None
    place: str | None = None      # formatted postcode / district for reasons
    notes: list[str] = field(default_factory=list)
    intent: Intent = field(default_factory=lambda: Intent({}, {}))
    categories: tuple[str, ...] = ()  # the vocabulary's categories: the intent vector's order
    understood: list[dict[str, str]] = field(default_factory=list)

    @property
    def intent_vector(self):
        """Category weights of :attr:`intent` in :attr:`categories` order, computed once."""
        if not hasattr(self, "_intent_vector"):
            self._intent_vector = self.intent.vector(self.categories)
        return self._intent_vector

    @property
    def has_location(self) -> bool:
        return self.lat is not None


def prepare_query(profile: Profile, vocab: Vocabulary, gazetteer: PostcodeIndex,
                  cfg: MatchConfig) -> FamilyQuery:
    """Resolve the profile. Raises :class:`PostcodeError` for a bad postcode (a 422 in the API)."""
    words = read_family_words(profile, vocab, cfg)
    needs = list(words.needs)
    intent = words.intent
    labels = " ".join(vocab.needs[n.need].label for n in needs if n.need in vocab.needs)
    categories = tuple(vocab.categories)
    # What the family asks for ("we need some short breaks") is said twice, so its words weigh
    # more than those describing their situation; an everyday ask is also said in the words of
    # what it was read as ("money worries": help with money and benefits).
    # A phrase read as their situation ("meltdowns after school") is left out of the words
    # matched against service descriptions: it says when things happen, not what they want;
    # unless it is read as another kind of help too ("starts secondary school": a move).
    other = [(a, b) for a, b, *_ in intent.found]
    about = _blank(profile.about or "", [
        s for s in intent.situations if s[1] <= len(profile.about or "")
        and not any(a < s[1] and s[0] < b for a, b in other)])
    text = " ".join([*profile.needs, about, *intent.asks, labels, *words.ask_labels])

    mode = profile.travel.mode or cfg.travel.default_mode
    if mode != "online_only" and mode not in cfg.travel.modes:
        # A travel mode added to the vocabulary needs its speed in the match configuration.
        raise ProfileError(f"travel.mode '{mode}' has no speed in the match configuration; use "
                           f"one of: {', '.join([*cfg.travel.modes, 'online_only'])}",
                           field="travel.mode")
    max_minutes = profile.travel.max_minutes or cfg.travel.default_max_minutes
    q = FamilyQuery(
        profile=profile,
        age=profile.age,
        lookahead_age=profile.age + (cfg.eligibility.lookahead_years
                                     if profile.transition in cfg.eligibility.lookahead_transitions
                                     else 0),
        needs=needs,
        unrecognised=list(words.unrecognised),
        text=text,
        mode=mode,
        max_minutes=float(max_minutes),
        categories=categories,
        understood=[dict(u) for u in words.understood],
    )
    q.intent = intent
    if profile.postcode:
        loc = gazetteer.lookup(profile.postcode)  # raises PostcodeError with a clear message
        q.lat, q.lon, q.place = loc.latitude, loc.longitude, loc.postcode
        q.district = postcode_district(loc.postcode)
    return q
