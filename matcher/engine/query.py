"""Turn a validated :class:`Profile` into the arrays and facts the pipeline stages use."""

from __future__ import annotations

from dataclasses import dataclass, field

from matcher.engine.config import MatchConfig
from matcher.engine.intent import Intent, load_intents
from matcher.engine.profile import Profile
from matcher.errors import ProfileError
from matcher.geo.postcodes import PostcodeIndex, postcode_district
from matcher.vocab import Vocabulary

__all__ = ["FamilyNeed", "FamilyQuery", "prepare_query"]


@dataclass(frozen=True)
class FamilyNeed:
    """One canonical need of the family, with the words it came from."""

    need: str          # canonical id ("autism") or broad area ("area:semh")
    weight: float      # 1 for a need the family listed, less for one read from their free text
    words: str         # the family's own words, for reasons ("you mentioned ...")
    listed: bool


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
    normalised = vocab.normalise(profile.needs) if profile.needs else None
    needs: list[FamilyNeed] = []
    seen: set[str] = set()
    if normalised is not None:
        for m in normalised.matches:
            if m.need not in seen and m.need != "all_send":
                seen.add(m.need)
                needs.append(FamilyNeed(m.need, 1.0, m.text, True))
    unrecognised = list(normalised.unrecognised) if normalised is not None else []
    if profile.about:
        found = vocab.find_in_text(profile.about, detect_exclusions=False)
        for nid in found.mentioned:
            if nid not in seen and nid != "all_send":
                seen.add(nid)
                label = vocab.needs[nid].label.lower() if nid in vocab.needs else nid
                needs.append(FamilyNeed(nid, cfg.need.about_weight, label, False))

    labels = " ".join(vocab.needs[n.need].label for n in needs if n.need in vocab.needs)
    # Sentences apart, so an ask in the family's words does not run on into their needs list.
    categories = tuple(vocab.categories)
    intent = load_intents(categories=categories).read(
        ". ".join([profile.about, *profile.needs]), cfg.intent.ask_weight, cfg.intent.max_count)
    # What the family asks for ("we need some short breaks") is said twice, so its words weigh
    # more than those describing their situation.
    text = " ".join([*profile.needs, profile.about, *intent.asks, labels])

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
        unrecognised=unrecognised,
        text=text,
        mode=mode,
        max_minutes=float(max_minutes),
        categories=categories,
    )
    q.intent = intent
    if profile.postcode:
        loc = gazetteer.lookup(profile.postcode)  # raises PostcodeError with a clear message
        q.lat, q.lon, q.place = loc.latitude, loc.longitude, loc.postcode
        q.district = postcode_district(loc.postcode)
    return q

