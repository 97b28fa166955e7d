"""Service features: everything the engine needs about the directory, as arrays.

Built once per data version (``ServiceTable.build``) so that a match only does array
arithmetic: no per-service Python on the request path.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matcher.allowed import closed_values
from matcher.engine.config import MatchConfig
from matcher.engine.text import FIELDS, FieldedTextIndex, ServiceTextIndex, first_sentence
from matcher.geo.distance import SpherePoints
from matcher.vocab import Vocabulary

__all__ = ["ServiceTable", "TextFields", "FrameRows", "multi_hot", "make_text_index", "text_fields",
           "reading_key", "read_needs", "Readings"]

#: What the engine read in each service's words, by id: (needs mentioned, needs excluded).
Readings = dict[str, tuple[list[str], list[str]]]


class FrameRows(Sequence[dict]):
    """A frame's rows as plain dicts, each made when asked for: what
    ``frame.to_dict("records")`` gives, without holding a dict per service (an answer reads a
    few dozen rows; the table keeps only one list per column)."""

    def __init__(self, frame: pd.DataFrame):
        self._names = [str(c) for c in frame.columns]
        self._columns = [frame[c].tolist() for c in frame.columns]
        self._n = len(frame)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        i = int(i)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"row {i} is not in a table of {self._n}")
        return {name: column[i] for name, column in zip(self._names, self._columns, strict=True)}


def reading_key(vocab: Vocabulary) -> str | None:
    """A key for what :func:`read_needs` gives with ``vocab``: 16 hex digits of the SHA-256 of
    the vocabulary file and of the code that reads text (:mod:`matcher.vocab`), so a stored
    reading is used only while both are the same. ``None`` for a vocabulary not read from a
    file (its readings are never stored)."""
    import hashlib
    from pathlib import Path

    import matcher.vocab as vocab_module

    source = Path(str(vocab.source))
    if not source.is_file():
        return None
    digest = hashlib.sha256(source.read_bytes())
    digest.update(Path(vocab_module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def read_needs(name: str, description: str, vocab: Vocabulary) -> tuple[list[str], list[str]]:
    """The needs a service's name and description mention, and those they say it does not
    cater for (:meth:`Vocabulary.find_in_text`): what :meth:`ServiceTable.build` reads per
    service, and what is stored per record so a start need not read it again."""
    found = vocab.find_in_text(f"{name}. {description}")
    return list(found.mentioned), list(found.excluded)

AREAS = ("ci", "cl", "semh", "sp")


def multi_hot(values: pd.Series, vocabulary: tuple[str, ...] | list[str]) -> np.ndarray:
    """Bool matrix (n_rows, len(vocabulary)): True where the row's list holds the value.

    The matrix is C-ordered (rows contiguous). :meth:`ServiceTable.build` stores the small
    closed-vocabulary ones column-major, since a match reads them a whole column at a time.
    """
    index = {v: i for i, v in enumerate(vocabulary)}
    out = np.zeros((len(values), len(vocabulary)), dtype=bool)
    rows, cols = [], []
    for r, items in enumerate(values):
        for it in items or ():
            c = index.get(it)
            if c is not None:
                rows.append(r)
                cols.append(c)
    out[rows, cols] = True
    return out


def multi_hot_sparse(values: pd.Series, vocabulary: Sequence[str]) -> sp.csr_matrix:
    """:func:`multi_hot` as a sparse boolean CSR matrix, made without the dense one (for wide
    lists such as postcode districts, where a service lists one or two of thousands)."""
    index = {v: i for i, v in enumerate(vocabulary)}
    rows: list[int] = []
    cols: list[int] = []
    for r, items in enumerate(values):
        for c in sorted({index[it] for it in items or () if it in index}):
            rows.append(r)
            cols.append(c)
    return sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)),
                         shape=(len(values), len(vocabulary)), dtype=bool)


def _service_text(frame: pd.DataFrame, vocab: Vocabulary) -> list[str]:
    needs = vocab.needs
    out = []
    for name, description, needs_raw, listed, categories in zip(
            frame["name"], frame["description"], frame["needs_raw"], frame["needs"],
            frame["categories"], strict=True):
        labels = " ".join(needs[n].label for n in listed if n in needs)
        cats = " ".join(c.replace("_", " ") for c in categories)
        out.append(" ".join([name, name, description, needs_raw, labels, cats]))
    return out


#: Facts of the reading step whose quoted words say who a service is for.
_AUDIENCE_FACTS = ("audience", "for_parents", "adults_only")


@dataclass
class TextFields:
    """What the text index reads: each field's text per service, each service's own words
    (name, description, needs column: what a reason may quote) and the whole text that the
    plain TF-IDF index reads."""

    fields: dict[str, list[str]]
    own: list[str]
    whole: list[str]


def text_fields(frame: pd.DataFrame, vocab: Vocabulary, cfg: MatchConfig) -> TextFields:
    """Split each service's text into the fields of :data:`matcher.engine.text.FIELDS`."""
    fields: dict[str, list[str]] = {f: [] for f in FIELDS}
    own: list[str] = []
    has_facts = "facts" in frame.columns
    for r in frame.itertuples(index=False):
        description = r.description if isinstance(r.description, str) else ""
        first, rest = first_sentence(description)
        quotes: list[str] = []
        facts = r.facts if has_facts and isinstance(r.facts, list) else []
        for fact in facts:
            quote = fact.get("quote") or ""
            # The service's own words only: an organisation's words about itself (source
            # "organisation") say who it serves, not what this service is.
            if fact.get("field") in _AUDIENCE_FACTS and quote and quote not in quotes \
                    and fact.get("source") != "organisation":
                quotes.append(quote)
        labels = [vocab.needs[n].label for n in r.needs if n in vocab.needs]
        if cfg.text.read_needs:
            found = vocab.find_in_text(f"{r.name}. {description}")
            labels += [vocab.needs[n].label for n in found.mentioned
                       if n in vocab.needs and vocab.needs[n].label not in labels]
        cats = [c.replace("_", " ") for c in r.categories]
        fields["name"].append(r.name)
        fields["first"].append(first)
        fields["rest"].append(rest)
        # Full stops between the parts, so no pair of words runs across two of them.
        fields["audience"].append(" . ".join(quotes))
        fields["tags"].append(" . ".join([r.needs_raw or "", *labels, *cats]))
        own.append(" . ".join([r.name, description, r.needs_raw or ""]))
    return TextFields(fields, own, _service_text(frame, vocab))


def make_text_index(cfg: MatchConfig) -> FieldedTextIndex:
    """An unfitted text index with the configuration's parameters."""
    t = cfg.text
    return FieldedTextIndex(model=t.model, k1=t.k1, b=t.b, weights=t.fields.model_dump(), norm=t.norm,
                            ngram_max=t.ngram_max, min_df=t.min_df, max_features=t.max_features)


@dataclass
class ServiceTable:
    """The directory as arrays, plus the fitted text index.

    Need matrices have one column per canonical need (``need_ids``): ``need_strength`` is 1 for
    a need the provider states, ``cfg.need.from_text`` for one read only from the description,
    and 0 where the description says the need is not catered for (``need_excluded``).

    The closed-list matrices (``cats``, ``delivery``, ``when``, ``access``, ``referral``,
    ``transitions``) have one column per value of the vocabulary the table was built with,
    in its order (``closed``): :meth:`col` and :meth:`cols` find a value's column.
    """

    frame: pd.DataFrame
    ids: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    cats: np.ndarray
    delivery: np.ndarray
    when: np.ndarray
    access: np.ndarray
    referral: np.ndarray
    transitions: np.ndarray
    ehcp_required: np.ndarray
    cost: np.ndarray
    reviewed_ordinal: np.ndarray
    area_districts: list[str]
    area_matrix: sp.csr_matrix | np.ndarray   # (n, districts) bool; sparse when built here
    area_national: np.ndarray
    area_unstated: np.ndarray
    languages: list[str]
    language_matrix: np.ndarray
    community_language: np.ndarray  # the language community a service is named for, or ""
    parent_facing: np.ndarray       # the description addresses parents and carers
    description_lower: pd.Series
    need_ids: list[str]
    need_strength: np.ndarray
    need_stated: np.ndarray      # needs the provider states that define who it is for (not topics)
    need_excluded: np.ndarray
    area_strength: np.ndarray
    all_send: np.ndarray
    needs_unstated: np.ndarray
    stated_specific: np.ndarray
    kind: np.ndarray
    text_index: FieldedTextIndex
    records: Sequence[dict]      # one plain dict per service (made when read), for answers
    closed: dict[str, tuple[str, ...]]   # column values of each closed-list matrix
    # What the reading step read from a record's words but did not make a field of.
    threshold: np.ndarray | None = None     # says it is for severe/complex needs, a diagnosis...
    parents_only: np.ndarray | None = None  # for parents and carers, not for children themselves
    hint_min_age: np.ndarray | None = None  # ages the words suggest ("likely"), NaN when none
    hint_max_age: np.ndarray | None = None
    need_cache: dict = field(default_factory=dict)       # per-need arrays, filled on first use
    language_cache: dict = field(default_factory=dict)   # per-language description mentions

    # Derived from the fields above in __post_init__ (so also after dataclasses.replace): lookups
    # that let a match use integer and boolean arrays instead of Python loops or object arrays.
    points: SpherePoints = field(init=False, repr=False)      # venues, trigonometry done once
    area_open: np.ndarray = field(init=False, repr=False)     # national, or no area stated
    area_rows: dict[str, np.ndarray] = field(init=False, repr=False)  # district -> rows listing it
    id_rank: np.ndarray = field(init=False, repr=False)       # dense rank of ids (sorted as str)
    kind_code: np.ndarray = field(init=False, repr=False)     # equal codes <=> equal kinds
    cost_stated: np.ndarray = field(init=False, repr=False)
    cost_free: np.ndarray = field(init=False, repr=False)
    cost_free_for_some: np.ndarray = field(init=False, repr=False)
    has_community_language: np.ndarray = field(init=False, repr=False)
    closed_index: dict[str, dict[str, int]] = field(init=False, repr=False)  # value -> column

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.threshold is None:
            self.threshold = np.zeros(n, dtype=bool)
        if self.parents_only is None:
            self.parents_only = np.zeros(n, dtype=bool)
        if self.hint_min_age is None:
            self.hint_min_age = np.full(n, np.nan)
        if self.hint_max_age is None:
            self.hint_max_age = np.full(n, np.nan)
        self.closed_index = {name: {v: i for i, v in enumerate(values)}
                             for name, values in self.closed.items()}
        self.points = SpherePoints.from_degrees(self.lat, self.lon)
        self.area_open = self.area_national | self.area_unstated
        # The rows of every district column of area_matrix: np.nonzero walks row by row, so
        # a stable sort by column keeps each district's rows in ascending order.
        rows, cols = (self.area_matrix.nonzero() if sp.issparse(self.area_matrix)
                      else np.nonzero(self.area_matrix))
        order = np.argsort(cols, kind="stable")
        rows, cols = rows[order], cols[order]
        bounds = np.searchsorted(cols, np.arange(len(self.area_districts) + 1))
        self.area_rows = {d: rows[bounds[i]:bounds[i + 1]]
                          for i, d in enumerate(self.area_districts) if bounds[i + 1] > bounds[i]}
        # np.unique sorts with the elements' own ordering (Python str comparison for ids), and
        # equal ids share a code, so sorting by id_rank is sorting by id, ties included.
        self.id_rank = np.unique(self.ids, return_inverse=True)[1].astype(np.int64).ravel()
        self.kind_code = np.unique(np.asarray(self.kind).astype(str),
                                   return_inverse=True)[1].astype(np.int64).ravel()
        cost = np.asarray(self.cost).astype(str)
        self.cost_stated = cost != ""
        self.cost_free = cost == "free"
        self.cost_free_for_some = cost == "free_for_some"
        self.has_community_language = np.asarray(self.community_language).astype(str) != ""
        # Shared by every match (and handed out in scorers' facts): nobody may write to them.
        for name in ("area_open", "id_rank", "kind_code", "cost_stated", "cost_free",
                     "cost_free_for_some", "has_community_language"):
            getattr(self, name).setflags(write=False)

    @property
    def n(self) -> int:
        return len(self.ids)

    def area_columns(self, row: int) -> np.ndarray:
        """The columns of ``area_districts`` that service ``row`` lists, in order."""
        if sp.issparse(self.area_matrix):
            line = self.area_matrix[int(row)]
            return np.sort(line.indices[line.data])
        return np.flatnonzero(self.area_matrix[row])

    def dense_area_matrix(self) -> np.ndarray:
        """``area_matrix`` as a dense boolean array (for the gap analysis)."""
        if sp.issparse(self.area_matrix):
            return self.area_matrix.toarray().astype(bool)
        return np.asarray(self.area_matrix, dtype=bool)

    def mentions(self, text: str) -> np.ndarray:
        """Bool (n,): the services whose lower-cased description contains ``text``."""
        return self.description_lower.str.contains(text, regex=False).to_numpy(bool)

    def col(self, kind: str, value: str) -> int:
        """The column of ``value`` in the closed list ``kind`` ("categories", "delivery", ...)."""
        try:
            return self.closed_index[kind][value]
        except KeyError:
            raise ValueError(
                f"'{value}' is not in the {kind} of the vocabulary this directory was built "
                f"with ({', '.join(self.closed.get(kind, ()))})") from None

    def cols(self, kind: str, values: list[str] | tuple[str, ...]) -> list[int]:
        """The columns of ``values`` in the closed list ``kind``, in the given order."""
        return [self.col(kind, v) for v in values]

    @classmethod
    def build(cls, frame: pd.DataFrame, vocab: Vocabulary, cfg: MatchConfig,
              text_index: FieldedTextIndex | ServiceTextIndex | None = None,
              readings: Readings | None = None) -> ServiceTable:
        """Compute every array from a frame made by :func:`matcher.services.records_to_frame`.

        ``readings`` (id -> :func:`read_needs` of that service) are used where given instead of
        reading the service's words again; any service without one is read here."""
        frame = frame.reset_index(drop=True)
        n = len(frame)
        # The closed lists' columns come from the vocabulary: a value added to it is a column.
        closed = closed_values(vocab)
        delivery = multi_hot(frame["delivery"], closed["delivery"])

        # Service areas: districts as columns.
        areas = frame["service_area"].map(lambda xs: [x.upper() for x in (xs or [])])
        national = areas.map(lambda xs: "NATIONAL" in xs).to_numpy(bool)
        districts = sorted({d for xs in areas for d in xs if d != "NATIONAL"})
        area_matrix = multi_hot_sparse(areas, districts)
        area_unstated = areas.map(len).to_numpy() == 0

        # Languages: case-folded names as columns.
        langs = frame["languages"].map(lambda xs: [x.strip().casefold() for x in (xs or [])])
        language_list = sorted({x for xs in langs for x in xs})
        language_matrix = multi_hot(langs, language_list)

        # Needs: stated (needs column) and read from the description.
        need_ids = list(vocab.needs)
        col = {nid: i for i, nid in enumerate(need_ids)}
        strength = np.zeros((n, len(need_ids)), dtype=np.float32)
        stated = np.zeros((n, len(need_ids)), dtype=bool)
        excluded = np.zeros((n, len(need_ids)), dtype=bool)
        area_strength = np.zeros((n, len(AREAS)), dtype=np.float32)
        all_send = np.zeros(n, dtype=bool)
        topics = set(cfg.need.topic_needs)
        defining_cols = np.array([nid not in topics for nid in need_ids], dtype=bool)
        stated_specific = np.zeros(n, dtype=bool)
        from_text = cfg.need.from_text
        from_text_stated = cfg.need.from_text_when_stated
        readings = readings or {}
        for r, (sid, needs, name, desc) in enumerate(
            zip(frame["id"], frame["needs"], frame["name"], frame["description"], strict=True)
        ):
            found = readings.get(sid)
            mentioned, excluded_needs = found if found is not None else read_needs(name, desc,
                                                                                    vocab)
            for nid in excluded_needs:
                if nid in col:
                    excluded[r, col[nid]] = True
            text_weight = from_text_stated if needs else from_text
            entries = [(nid, 1.0) for nid in needs or ()] + [(nid, text_weight) for nid in mentioned]
            for nid, s in entries:
                if nid == "all_send":
                    all_send[r] = True
                    continue
                if nid.startswith("area:"):
                    a = nid.split(":", 1)[1]
                    if a in AREAS:
                        area_strength[r, AREAS.index(a)] = max(area_strength[r, AREAS.index(a)], s)
                    continue
                if nid not in col or excluded[r, col[nid]]:
                    continue
                c = col[nid]
                strength[r, c] = max(strength[r, c], s)
                if s == 1.0:
                    stated[r, c] = True
            stated_specific[r] = bool(stated[r, defining_cols].any()) and not any(
                x == "all_send" or x.startswith("area:") for x in (needs or ())
            )
        # A service for severe and complex needs, or only with a diagnosis, is not open to
        # any child with SEND, whatever general words ("disabilities") its text uses.
        facts = frame["facts"] if "facts" in frame else pd.Series([[]] * n)
        # (A provider that lists "any SEND" among its needs is taken at its word.)
        threshold = facts.map(has_threshold).to_numpy(bool)
        stated_all = frame["needs"].map(lambda xs: "all_send" in (xs or ())).to_numpy(bool)
        all_send &= ~threshold | stated_all
        min_age, max_age = frame["min_age"].to_numpy(float), frame["max_age"].to_numpy(float)
        # Ages the words suggest count only where the record states none.
        hint = np.array([age_hint_of(fs) for fs in facts], dtype=float).reshape(n, 2)
        hint[~(np.isnan(min_age) & np.isnan(max_age))] = np.nan
        # The provider stated no needs: not a restriction, whatever its description mentions.
        needs_unstated = frame["needs"].map(len).to_numpy() == 0

        # A service named for a language community ("Polish SEN Parents Group") is for speakers
        # of that language; BSL is left to the needs and accessibility rules.
        # So is one whose description says it is "Bengali and Sylheti speaking support".
        def community(name: str, description: str, listed: list[str]) -> str:
            low, desc = name.casefold(), description.casefold()
            for lang in listed:
                if lang in ("english", "bsl", "british sign language"):
                    continue
                word = re.escape(lang)
                if re.search(rf"\b{word}\b", low) or re.search(
                        rf"\b{word}(?:,? (?:and|or) [a-z]+)?[- ]speak(?:ing|ers)\b", desc):
                    return lang
            return ""

        # A fixed-width str array, not object: comparing it with a language is then a C loop.
        community_language = np.array(
            [community(nm, ds, ls) for nm, ds, ls in
             zip(frame["name"], frame["description"].fillna(""), langs, strict=True)], dtype=str)

        parent_facing = frame["description"].fillna("").str.contains(
            r"\b(?:for parents|parents and carers|parents/carers|parent carers?|parents of|carers of"
            r"|parent (?:group|course|workshop|programme|network)s?)\b",
            case=False, regex=True).to_numpy(bool)
        if "audience" in frame:     # the feed's tags or the reading step say it is for parents
            parent_facing = parent_facing | frame["audience"].map(
                lambda a: "parents_carers" in (a or ())).to_numpy(bool)

        reviewed = frame["last_reviewed"].map(
            lambda d: dt.date.fromisoformat(d).toordinal() if isinstance(d, str) and d else
            (d.toordinal() if isinstance(d, dt.date) else np.nan)
        ).to_numpy(dtype=float)

        first_cat = frame["categories"].map(lambda xs: xs[0] if xs else "")
        if cfg.rank.kind == "category":
            kind = first_cat.to_numpy(object)
        else:
            kind = (first_cat + "|" + frame["organisation"].fillna("").str.casefold()).to_numpy(object)

        if text_index is None:
            tf = text_fields(frame, vocab, cfg)
            text_index = make_text_index(cfg).fit(tf.fields, tf.own, tf.whole)

        return cls(
            frame=frame,
            ids=frame["id"].astype(str).to_numpy(object),
            min_age=min_age,
            max_age=max_age,
            lat=frame["latitude"].to_numpy(float),
            lon=frame["longitude"].to_numpy(float),
            cats=np.asfortranarray(multi_hot(frame["categories"], closed["categories"])),
            delivery=np.asfortranarray(delivery),
            when=np.asfortranarray(multi_hot(frame["when"], closed["when"])),
            access=np.asfortranarray(multi_hot(frame["accessibility"], closed["accessibility"])),
            referral=np.asfortranarray(multi_hot(frame["referral"], closed["referral"])),
            transitions=np.asfortranarray(multi_hot(frame["transitions"], closed["transitions"])),
            ehcp_required=frame["ehcp_required"].to_numpy(bool),
            cost=frame["cost"].fillna("").astype(str).to_numpy(object),
            reviewed_ordinal=reviewed,
            area_districts=districts,
            area_matrix=area_matrix,
            area_national=national,
            area_unstated=area_unstated,
            languages=language_list,
            language_matrix=language_matrix,
            community_language=community_language,
            parent_facing=parent_facing,
            description_lower=frame["description"].fillna("").str.casefold(),
            need_ids=need_ids,
            need_strength=strength,
            need_stated=stated & defining_cols,
            need_excluded=excluded,
            area_strength=area_strength,
            all_send=all_send,
            needs_unstated=needs_unstated,
            stated_specific=stated_specific,
            kind=kind,
            text_index=text_index,
            records=FrameRows(frame),
            threshold=threshold,
            parents_only=frame["audience"].map(
                lambda a: "parents_carers" in (a or ()) and not {"children_young_people",
                                                                "families"} & set(a or ())
            ).to_numpy(bool) if "audience" in frame else None,
            hint_min_age=hint[:, 0],
            hint_max_age=hint[:, 1],
            closed=closed,
        )

    @staticmethod
    def service_texts(frame: pd.DataFrame, vocab: Vocabulary) -> list[str]:
        """The text each service is indexed by (name twice, description, needs, labels)."""
        return _service_text(frame, vocab)


#: Threshold facts that make a service not "open to any SEND" (matcher.understand).
THRESHOLDS = ("severe_complex", "diagnosis_required", "only_for_named_need")
#: Facts of the reading step that can give a service its ages.
AGE_FACTS = ("min_age", "max_age", "child_ages", "adults_only")
#: Facts whose "likely" reading suggests ages without stating them (see :func:`age_hint_of`).
_AGE_HINT_FACTS = ("min_age", "max_age", "adults_only")


def _is_threshold(fact: dict) -> bool:
    return (fact.get("field") == "threshold" and fact.get("value") in THRESHOLDS
            and fact.get("confidence") == "certain")


def has_threshold(facts: Any) -> bool:
    return any(_is_threshold(f) for f in facts or ())


def threshold_quote(facts: Any) -> str | None:
    """The words of the first threshold fact that makes the service not open to any SEND."""
    return next((str(f["quote"]) for f in facts or () if _is_threshold(f) and f.get("quote")),
                None)


def used_quote(facts: Any, fields: Sequence[str]) -> str | None:
    """The quote of the fact that filled one of ``fields`` from the record's own words (the
    reading step at import), or ``None`` when the record's fields said it."""
    return next((str(f["quote"]) for f in facts or ()
                 if f.get("used") and f.get("field") in fields and f.get("quote")), None)


def age_hint_quote(facts: Any) -> str | None:
    """The words of the first fact behind :func:`age_hint_of` (a "likely" age)."""
    return next((str(f["quote"]) for f in facts or () if f.get("field") in _AGE_HINT_FACTS
                 and f.get("confidence") == "likely" and f.get("quote")), None)


def age_hint_of(facts: Any) -> tuple[float, float]:
    """The ages a record's words suggest without stating them outright (likely facts), as
    (low, high) with NaN for a bound they do not suggest. Facts for parents' children and
    certain facts (already made fields at import) do not count."""
    lows = [f["value"] for f in facts or () if f.get("field") == "min_age"
            and f.get("confidence") == "likely" and isinstance(f.get("value"), int)]
    highs = [f["value"] for f in facts or () if f.get("field") == "max_age"
             and f.get("confidence") == "likely" and isinstance(f.get("value"), int)]
    if any(f.get("field") == "adults_only" and f.get("value") for f in facts or ()):
        lows.append(18)
    lo = float(min(lows)) if lows else np.nan
    hi = float(max(highs)) if highs else np.nan
    if lo == lo and hi == hi and lo > hi:
        return np.nan, np.nan
    return lo, hi
