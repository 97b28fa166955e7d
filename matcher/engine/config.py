"""Typed, bounded match configuration, read from ``data/match_config.toml``.

Every weight and threshold of the engine is a field here with bounds, so a bad value is caught
when the file is loaded, with one message listing every problem (splink-style), not deep in a
request.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matcher.errors import ConfigError
from matcher.resources import data_path
from matcher.vocab import Vocabulary

__all__ = [
    "MatchConfig",
    "load_config",
    "parse_config",
    "dump_config",
    "default_config_path",
]

#: The travel mode of a family using only online, phone and home-visit services: it has no
#: speed. Every other travel mode of the vocabulary needs one in ``[travel.modes]``.
ONLINE_ONLY = "online_only"
Unit = Field(ge=0.0, le=1.0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weights(_Strict):
    need: float = Field(0.40, ge=0, le=10)
    intent: float = Field(0.10, ge=0, le=10)
    text: float = Field(0.20, ge=0, le=10)
    travel: float = Field(0.20, ge=0, le=10)
    transition: float = Field(0.10, ge=0, le=10)
    preferences: float = Field(0.08, ge=0, le=10)
    language: float = Field(0.10, ge=0, le=10)
    audience: float = Field(0.10, ge=0, le=10)
    freshness: float = Field(0.02, ge=0, le=10)
    age_hint: float = Field(0.05, ge=0, le=10)   # ages a description suggests, not states


class FocusTopic(_Strict):
    """A situation a service can be named for, and the words that say a family is in it."""

    name_words: list[str] = Field(min_length=1)  # whole words in a service's name; "sibling*"
    cues: list[str] = Field(min_length=1)        # words in the family's text that mention it
    phrase: str = Field(min_length=1)            # "people in a mental health crisis"


class IntentConfig(_Strict):
    ask_weight: float = Field(3.0, ge=1, le=10)   # a cue inside an ask counts this many times
    max_count: float = Field(6.0, ge=1, le=20)    # a category's weight is capped here


class NeedConfig(_Strict):
    exact: float = Unit
    same_code: float = Unit
    same_area: float = Unit
    all_send: float = Unit
    unstated: float = Unit
    from_text: float = Unit
    from_text_when_stated: float = Unit
    about_weight: float = Unit
    max_share: float = Unit
    exclude_other_needs: bool = True
    exclusive_groups: list[list[str]] = []
    topic_needs: list[str] = []
    no_needs_given: float = Unit
    focus_missed: float = Field(1.0, ge=0, le=1)
    # Situations a service can be named for ("Crisis Line", "Brothers and Sisters Club"):
    # see FocusTopic. A family whose words use none of a topic's cues gets ``focus_missed``.
    focus_topics: dict[str, FocusTopic] = {}


class FieldWeights(_Strict):
    """How much a word counts in each field of a service's text (BM25F)."""

    name: float = Field(3.0, ge=0, le=10)
    first: float = Field(2.0, ge=0, le=10)      # the first sentence of the description
    rest: float = Field(1.0, ge=0, le=10)       # the rest of the description
    audience: float = Field(1.0, ge=0, le=10)   # the words saying who it is for
    tags: float = Field(1.0, ge=0, le=10)       # needs column, needs' and categories' labels


class TextConfig(_Strict):
    cap: float = Field(0.30, gt=0, le=1)
    model: Literal["bm25f", "tfidf"] = "tfidf"
    k1: float = Field(0.8, gt=0, le=20)
    b: float = Field(0.3, ge=0, le=1)
    norm: Literal["query", "cosine"] = "cosine"
    fields: FieldWeights = FieldWeights()
    # Add the labels of the needs read from a description to its tags, as the labels of the
    # needs a record states are.
    read_needs: bool = False
    ngram_max: int = Field(2, ge=1, le=3)
    min_df: int = Field(1, ge=1, le=100)
    max_features: int = Field(50000, ge=100, le=1_000_000)


class ModeConfig(_Strict):
    speed_kmh: float = Field(gt=0, le=200)
    route_factor: float = Field(ge=1.0, le=3.0)
    overhead_min: float = Field(ge=0, le=120)
    label: str


class StatutoryWalking(_Strict):
    under_8_miles: float = Field(2.0, gt=0, le=10)
    from_8_miles: float = Field(3.0, gt=0, le=10)
    min_age: int = Field(5, ge=0, le=25)
    max_age: int = Field(16, ge=0, le=25)


class TravelConfig(_Strict):
    default_mode: str = "public_transport"   # one of ``modes``
    default_max_minutes: float = Field(30, gt=0, le=240)
    unknown: float = Unit
    full_until: float = Field(0.5, gt=0, lt=1)
    at_limit: float = Field(0.6, gt=0, le=1)
    beyond_scale: float = Field(0.15, gt=0, le=2)
    modes: dict[str, ModeConfig]              # every travel mode of the vocabulary but online_only
    statutory_walking: StatutoryWalking = StatutoryWalking()


class EligibilityConfig(_Strict):
    lookahead_years: int = Field(1, ge=0, le=3)
    lookahead_transitions: list[str] = []
    free_for_some_is_free: bool = True


class TransitionConfig(_Strict):
    same: float = Unit
    other_transition: float = Unit
    related_category: float = Unit
    related_categories: dict[str, list[str]] = {}
    destination_min_age: dict[str, int] = {}


class PreferencesConfig(_Strict):
    categories_weight: float = Field(1.0, ge=0.1, le=10)


class LanguageConfig(_Strict):
    mentioned: float = Field(0.7, ge=0, le=1)
    not_listed: float = Field(0.35, ge=0, le=1)
    other_community: float = Field(0.2, ge=0, le=1)


class AudienceConfig(_Strict):
    parent_service_for_young_person: float = Field(0.2, ge=0, le=1)


class FreshnessConfig(_Strict):
    stale_after_days: int = Field(365, ge=1, le=3650)
    stale: float = Unit
    unknown: float = Unit


class RankConfig(_Strict):
    limit_default: int = Field(10, ge=1, le=50)
    limit_max: int = Field(50, ge=1, le=500)
    kind: Literal["category", "category_organisation"] = "category_organisation"
    same_kind_allowance: int = Field(2, ge=1, le=50)
    same_kind_penalty: float = Field(0.08, ge=0, le=1)
    pool: int = Field(250, ge=50, le=2000)
    min_score: float = Field(0.0, ge=0, le=1)


class ExplainConfig(_Strict):
    max_reasons: int = Field(5, ge=1, le=10)
    not_suggested_limit: int = Field(200, ge=0, le=100_000)


class MatchConfig(_Strict):
    """The whole engine configuration (see data/match_config.toml for the meaning of each)."""

    weights: Weights = Weights()
    need: NeedConfig
    intent: IntentConfig = IntentConfig()
    text: TextConfig = TextConfig()
    travel: TravelConfig
    eligibility: EligibilityConfig = EligibilityConfig()
    transition: TransitionConfig
    freshness: FreshnessConfig
    language: LanguageConfig = LanguageConfig()
    preferences: PreferencesConfig = PreferencesConfig()
    audience: AudienceConfig = AudienceConfig()
    rank: RankConfig = RankConfig()
    explain: ExplainConfig = ExplainConfig()


def default_config_path() -> Path:
    """``data/match_config.toml`` at the repository root."""
    return data_path("match_config.toml")


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = [f"{source} has {exc.error_count()} problem(s):"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        lines.append(f"  - {where}: {err['msg']} (got {err.get('input')!r})")
    lines.append("Fix these values and load the file again.")
    return "\n".join(lines)


def _vocabulary_problems(cfg: MatchConfig, vocab: Vocabulary) -> list[str]:
    """Values of the configuration that the vocabulary does not have, or misses."""
    modes = [m for m in vocab.travel_modes if m != ONLINE_ONLY]
    transitions, categories = list(vocab.transitions), list(vocab.categories)
    problems = [f"travel.modes.{m}: missing; every travel mode needs speed, route factor and "
                "overhead" for m in modes if m not in cfg.travel.modes]
    problems += [f"travel.modes.{m}: not a travel mode of the vocabulary (use one of "
                 f"{', '.join(modes)})" for m in cfg.travel.modes if m not in modes]
    if cfg.travel.default_mode not in cfg.travel.modes:
        problems.append(f"travel.default_mode: '{cfg.travel.default_mode}' is not one of the "
                        f"travel modes ({', '.join(cfg.travel.modes)})")
    where = [("transition.related_categories", list(cfg.transition.related_categories)),
             ("transition.destination_min_age", list(cfg.transition.destination_min_age)),
             ("eligibility.lookahead_transitions", cfg.eligibility.lookahead_transitions)]
    for name, values in where:
        problems += [f"{name}.{t}: not a transition (use one of {', '.join(transitions)})"
                     for t in values if t not in transitions]
    for t, cats in cfg.transition.related_categories.items():
        problems += [f"transition.related_categories.{t}: '{c}' is not a category (use one of "
                     f"{', '.join(categories)})" for c in cats if c not in categories]
    return problems


def parse_config(data: dict, source: str = "configuration",
                 vocab: Vocabulary | None = None) -> MatchConfig:
    """Validate a configuration mapping; raise :class:`ConfigError` listing every problem.

    Travel modes, transitions and categories are checked against ``vocab`` (default: the
    vocabulary in use, :func:`matcher.allowed.vocabulary_in_use`).
    """
    try:
        cfg = MatchConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source)) from None
    if vocab is None:
        from matcher.allowed import vocabulary_in_use

        vocab = vocabulary_in_use()
    problems = _vocabulary_problems(cfg, vocab)
    if sum(cfg.weights.model_dump().values()) <= 0:
        problems.append("weights: at least one weight must be above 0")
    if problems:
        raise ConfigError(f"{source} has {len(problems)} problem(s):\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return cfg


@lru_cache(maxsize=8)
def load_config(path: str | Path | None = None) -> MatchConfig:
    """Load and validate a TOML configuration (default: ``data/match_config.toml``)."""
    p = Path(path) if path else default_config_path()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Configuration file {p} not found.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from None
    return parse_config(data, source=str(p))


def dump_config(cfg: MatchConfig) -> dict:
    """Plain mapping that :func:`parse_config` turns back into an equal config."""
    return cfg.model_dump(mode="json")
