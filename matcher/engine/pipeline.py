"""The match pipeline: eligibility -> scorers -> combine -> rank -> explain."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.engine.combine import combine
from matcher.engine.components import LABELS, RULE_CHECKS, MatchInputs, rule_reason, score_all
from matcher.engine.config import MatchConfig, load_config
from matcher.engine.eligibility import RULES, check_eligibility
from matcher.engine.explain import Explanation, explain_rows
from matcher.engine.features import ServiceTable, make_text_index, text_fields
from matcher.engine.profile import Profile
from matcher.engine.query import prepare_query
from matcher.engine.rank import rank
from matcher.engine.scorers import (
    focus_matrix,
    need_levels,
    topic_focus,
)
from matcher.engine.text import FieldedTextIndex
from matcher.geo.postcodes import PostcodeIndex, get_postcode_index
from matcher.vocab import Vocabulary

__all__ = ["Matcher", "MatchResult", "NotSuggested", "MatchOutcome", "saved_text_index",
           "saved_index_key"]


def saved_text_index(frame: pd.DataFrame, vocab: Vocabulary, cfg: MatchConfig,
                     models_dir: str | Path, data_key: str | None = None) -> FieldedTextIndex:
    """The text index of the (active) services of ``frame``: the one saved under
    ``models_dir`` when it is current, else fitted now and saved there.

    A saved index is current when it was fitted with the same parameters on the same texts
    (their hash), or, when ``data_key`` is given (a key of the directory's content, the
    vocabulary and the configuration), when it was saved with that key: then the texts are
    not even put together to be hashed.
    """
    path = Path(models_dir) / "text_index.joblib"
    wanted = make_text_index(cfg)
    loaded = None
    if path.exists():
        try:
            loaded = FieldedTextIndex.load(path)
        except Exception:  # noqa: BLE001 - a stale or broken cache is rebuilt, never used
            loaded = None
    if loaded is not None and loaded.get_params() != wanted.get_params():
        loaded = None
    if loaded is not None and data_key is not None and \
            getattr(loaded, "data_key_", None) == data_key:
        return loaded
    tf = text_fields(frame.reset_index(drop=True), vocab, cfg)
    if loaded is not None and loaded.data_hash_ == wanted.corpus_hash(tf.fields, tf.own,
                                                                      tf.whole):
        if data_key is None:
            return loaded
        index = loaded
    else:
        index = wanted.fit(tf.fields, tf.own, tf.whole)
    index.data_key_ = data_key
    index.save(path, config={"cap": cfg.text.cap, "read_needs": cfg.text.read_needs,
                             "data_key": data_key})
    return index


def saved_index_key(models_dir: str | Path) -> str | None:
    """The ``data_key`` the text index under ``models_dir`` was saved with (read from its
    JSON card, without loading the index), or ``None``."""
    import json

    card = Path(models_dir) / "text_index.json"
    try:
        return json.loads(card.read_text(encoding="utf-8"))["config"].get("data_key")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass
class MatchResult:
    """One suggested service (contract section 3, plus details for the UI)."""

    service_id: str
    name: str
    score: float
    reasons: list[str]
    explanation: Explanation
    organisation: str = ""
    categories: list[str] = field(default_factory=list)
    travel_minutes: float | None = None
    distance_km: float | None = None
    min_age: int | None = None
    max_age: int | None = None
    cost: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    last_reviewed: str | None = None


@dataclass
class NotSuggested:
    """A service that was not suggested, and why."""

    service_id: str
    name: str
    status: str            # "excluded" (fails two or more rules) or "near_miss" (fails exactly one)
    reasons: list[str]
    score_if_eligible: float


@dataclass
class MatchOutcome:
    results: list[MatchResult]
    understood_needs: list[dict]
    unrecognised_needs: list[str]
    not_suggested: list[NotSuggested] | None = None
    candidates: int = 0
    excluded: int = 0
    excluded_by_rule: dict[str, int] = field(default_factory=dict)
    #: Each of the family's words that was understood, and as what (see
    #: :attr:`matcher.engine.query.FamilyWords.understood`), so that they can correct it.
    understood: list[dict] = field(default_factory=list)

    def to_dict(self, full: bool = False) -> dict:
        d = asdict(self)
        if not full:
            for r in d["results"]:
                r.pop("explanation", None)
            d.pop("not_suggested", None)
        return d


def _opt(x: float, nd: int | None = None) -> float | None:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return round(float(x), nd) if nd is not None else float(x)


class Matcher:
    """Scores every service of a directory against a family's profile.

    Build once per data version (:meth:`from_frame`), then call :meth:`match` per request.
    """

    def __init__(self, table: ServiceTable, vocab: Vocabulary, gazetteer: PostcodeIndex,
                 cfg: MatchConfig):
        self.table = table
        self.vocab = vocab
        self.gazetteer = gazetteer
        self.cfg = cfg

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, vocab: Vocabulary | None = None,
                   gazetteer: PostcodeIndex | None = None, cfg: MatchConfig | None = None,
                   models_dir: str | Path | None = None,
                   readings: dict[str, tuple[list[str], list[str]]] | None = None,
                   data_key: str | None = None) -> Matcher:
        """Build the service table; reuse or save the text index under ``models_dir`` if given.

        ``readings`` are the needs each service's words were read to mention and exclude, by
        id (:func:`matcher.engine.features.read_needs`), stored from an earlier build; services
        without one are read now. ``data_key`` names the directory's content (see
        :func:`saved_text_index`).

        ``vocab`` defaults to the vocabulary in use (:func:`matcher.allowed.vocabulary_in_use`);
        the table's closed-list columns and the profiles' allowed values are its values.
        """
        if vocab is None:
            from matcher.allowed import vocabulary_in_use

            vocab = vocabulary_in_use()
        if "status" in frame.columns:
            # Inactive services (withdrawn or paused by their feed) are kept in the store and
            # never suggested.
            frame = frame[frame["status"].fillna("active") != "inactive"].reset_index(drop=True)
        cfg = cfg or load_config()
        gazetteer = gazetteer or get_postcode_index()
        index = None
        if models_dir is not None:
            index = saved_text_index(frame, vocab, cfg, models_dir, data_key=data_key)
        table = ServiceTable.build(frame, vocab, cfg, text_index=index, readings=readings)
        # What each service is named for: worked out now rather than on the first request.
        focus_matrix(table, vocab)
        topic_focus(table, cfg)
        return cls(table, vocab, gazetteer, cfg)

    def match(self, profile: Profile | dict, *, explain: str = "brief",
              today: dt.date | None = None) -> MatchOutcome:
        """Rank services for one family. ``explain="full"`` adds the services not suggested.

        A dict is validated against this matcher's vocabulary (a value it does not have is a
        ``ValidationError`` naming the allowed ones).
        """
        if not isinstance(profile, Profile):
            profile = Profile.model_validate(profile, context={"vocabulary": self.vocab})
        today = today or dt.date.today()
        cfg, table, vocab = self.cfg, self.table, self.vocab
        query = prepare_query(profile, vocab, self.gazetteer, cfg)

        levels = need_levels(table, query, vocab, cfg)
        elig = check_eligibility(table, query, levels, cfg, RULE_CHECKS)
        scored = score_all(MatchInputs(table, query, cfg, levels, today))
        combined = combine(scored, cfg)
        eligible = elig.eligible
        # Integer id ranks and kind codes sort and compare like the strings, only faster.
        rows, adjusted = rank(combined.score, eligible, table.id_rank, table.kind_code,
                              profile.limit, cfg)
        variety = (adjusted - combined.score[rows]).tolist()
        explained = explain_rows(rows, variety, table, query, scored, levels, combined, elig,
                                 vocab, cfg, today, LABELS)

        tr = scored["travel"].facts
        results = []
        for row, (expl, reasons) in zip(rows.tolist(), explained, strict=True):
            rec = table.records[row]
            results.append(MatchResult(
                service_id=str(table.ids[row]),
                name=str(rec["name"]),
                score=round(float(expl.total), 6),
                reasons=reasons,
                explanation=expl,
                organisation=str(rec["organisation"] or ""),
                categories=list(rec["categories"]),
                travel_minutes=_opt(tr["minutes"][row], 1) if tr["in_person"][row] else None,
                distance_km=_opt(tr["km"][row], 2),
                min_age=None if np.isnan(table.min_age[row]) else int(table.min_age[row]),
                max_age=None if np.isnan(table.max_age[row]) else int(table.max_age[row]),
                cost=rec["cost"] if isinstance(rec["cost"], str) else None,
                postcode=rec["postcode"] if isinstance(rec["postcode"], str) else None,
                latitude=_opt(table.lat[row]),
                longitude=_opt(table.lon[row]),
                last_reviewed=rec["last_reviewed"] if isinstance(rec["last_reviewed"], str) else None,
            ))

        n_eligible = int(np.count_nonzero(eligible))
        by_rule = {r: int(np.count_nonzero(m)) for r, m in elig.fails.items()}
        understood = [{"words": fn.words, "need": fn.need,
                       "label": vocab.needs[fn.need].label if fn.need in vocab.needs else fn.need,
                       "from": "needs" if fn.listed else "about"} for fn in query.needs]
        outcome = MatchOutcome(results=results, understood_needs=understood,
                               unrecognised_needs=query.unrecognised,
                               candidates=n_eligible, excluded=table.n - n_eligible,
                               excluded_by_rule={r: c for r, c in by_rule.items() if c},
                               understood=query.understood)
        if explain == "full":
            outcome.not_suggested = self._not_suggested(query, levels, elig, combined.score)
        return outcome

    def _not_suggested(self, query, levels, elig, score) -> list[NotSuggested]:
        """Excluded services with their reasons: near misses (one rule failed) first, then by
        score, at most ``explain.not_suggested_limit`` (sentences are written only for those)."""
        table = self.table
        n_failed = elig.n_failed
        rows = np.flatnonzero(n_failed > 0)
        order = np.lexsort((table.id_rank[rows], -score[rows], n_failed[rows]))
        out = []
        for row in rows[order][: self.cfg.explain.not_suggested_limit]:
            reasons = [rule_reason(r, int(row), table, query, levels, self.vocab)
                       for r in RULES if r in elig.fails and elig.fails[r][row]]
            out.append(NotSuggested(
                service_id=str(table.ids[row]), name=str(table.records[int(row)]["name"]),
                status="near_miss" if n_failed[row] == 1 else "excluded",
                reasons=reasons, score_if_eligible=round(float(score[row]), 6)))
        return out
