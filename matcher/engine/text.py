"""Text relevance between a family's words and each service's text.

:class:`FieldedTextIndex` (what the engine scores with) reads a service field by field: BM25F
over its name, the first sentence of its description, the rest, the words saying who it is for,
and its tags. :class:`ServiceTextIndex` is plain TF-IDF over the whole text (the baseline).

Both follow scikit-learn's estimator contract: :meth:`ServiceTextIndex.fit` returns ``self``,
learned state ends in ``_`` and using the index before fitting raises :class:`NotFittedError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    TfidfVectorizer,
    strip_accents_unicode,
)

from matcher.errors import NotFittedError

__all__ = ["FIELDS", "FieldedTextIndex", "ServiceTextIndex", "TextQuery", "analyse", "corpus_hash",
           "first_sentence"]


def corpus_hash(texts: Sequence[str]) -> str:
    """Stable SHA-256 of a corpus (order matters), used to tell whether a saved index is current."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


class ServiceTextIndex:
    """A TF-IDF index over service texts.

    >>> idx = ServiceTextIndex().fit(["Autism parent group in Islington", "Wheelchair basketball"])
    >>> idx.similarity("support for my autistic son, autism").round(2).tolist()
    [0.38, 0.0]
    """

    def __init__(self, ngram_max: int = 2, min_df: int = 1, max_features: int = 50000):
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "matrix_"):
            raise NotFittedError(
                "This ServiceTextIndex is not fitted yet: call fit(texts) or ServiceTextIndex.load(path) first."
            )

    def fit(self, texts: Sequence[str]) -> ServiceTextIndex:
        """Learn the vocabulary and IDF weights from service texts; returns ``self``."""
        self.vectorizer_ = TfidfVectorizer(
            lowercase=True,
            strip_accents="unicode",
            stop_words="english",
            ngram_range=(1, self.ngram_max),
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.matrix_ = self.vectorizer_.fit_transform(list(texts)).tocsr()
        self.vocabulary_ = self.vectorizer_.vocabulary_
        self.feature_names_ = self.vectorizer_.get_feature_names_out()
        self.idf_ = self.vectorizer_.idf_.astype(np.float64)
        self.data_hash_ = corpus_hash(texts)
        return self

    def transform(self, text: str) -> sp.csr_matrix:
        """The query's TF-IDF vector, shape (1, n_terms), L2-normalised.

        Same result as the fitted vectoriser's ``transform`` (sublinear tf x idf, L2 norm) without
        its per-call validation, which dominates the time for one short query.
        """
        self._check_is_fitted()
        if not hasattr(self, "_analyzer"):
            self._analyzer = self.vectorizer_.build_analyzer()
        counts: dict[int, int] = {}
        for token in self._analyzer(text):
            j = self.vocabulary_.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        n_terms = self.matrix_.shape[1]
        if not counts:
            return sp.csr_matrix((1, n_terms), dtype=np.float64)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf_[cols]
        vals /= np.linalg.norm(vals)
        order = np.argsort(cols)
        # int32 indices (what scipy would pick for this shape anyway) skip its index-dtype checks.
        indptr = np.array([0, len(cols)], dtype=np.int32)
        return sp.csr_matrix((vals[order], cols[order].astype(np.int32), indptr), shape=(1, n_terms))

    def similarity(self, text: str | sp.csr_matrix) -> np.ndarray:
        """Cosine similarity of ``text`` (or its vector) with every service, shape (n_services,)."""
        q = self.transform(text) if isinstance(text, str) else text
        if q.nnz == 0:
            return np.zeros(self.matrix_.shape[0], dtype=np.float64)
        if not hasattr(self, "_columns"):
            self._columns = self.matrix_.tocsc()  # column slices: work grows with the query only
        cs = self._columns
        # The stored entries of the query's columns, gathered with array arithmetic, each
        # weighted by the query's value for its term, then summed per service.
        starts, ends = cs.indptr[q.indices], cs.indptr[q.indices + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.matrix_.shape[0], dtype=np.float64)
        flat = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        weights = cs.data[flat] * np.repeat(q.data, lengths)
        return np.bincount(cs.indices[flat], weights=weights, minlength=self.matrix_.shape[0])

    def shared_terms(self, text: str | sp.csr_matrix, row: int, n: int = 3) -> list[str]:
        """The ``n`` terms contributing most to the similarity of ``text`` with service ``row``."""
        return self.shared_terms_many(text, [row], n)[0]

    def shared_terms_many(self, text: str | sp.csr_matrix, rows: Sequence[int] | np.ndarray,
                          n: int = 3) -> list[list[str]]:
        """:meth:`shared_terms` for each of ``rows``, with the array work done once for all.

        A term's contribution is its weight in the service times its weight in ``text``; the
        best come first, ties in the order the service's row stores them.
        """
        self._check_is_fitted()
        q = self.transform(text) if isinstance(text, str) else text
        rows = np.asarray(rows, dtype=np.intp).reshape(-1)
        out: list[list[str]] = [[] for _ in range(rows.size)]
        m = self.matrix_
        starts, ends = m.indptr[rows], m.indptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if q.nnz == 0 or total == 0:
            return out
        owner, flat, cols = _row_entries(m, starts, lengths, total)
        weight = np.zeros(m.shape[1])          # the query's weight of every term (mostly 0)
        weight[q.indices] = q.data
        prod = m.data[flat] * weight[cols]
        keep = np.flatnonzero(prod > 0)
        # Group by result, best first within each; lexsort is stable, so ties keep row order.
        keep = keep[np.lexsort((-prod[keep], owner[keep]))]
        bounds = np.searchsorted(owner[keep], np.arange(rows.size + 1))
        names = self.feature_names_[cols[keep]].tolist()
        return _pick_terms(out, names, bounds, n)

    def save(self, path: str | Path, config: dict | None = None) -> Path:
        """Save with joblib, plus a JSON card beside it (data hash, library versions, config)."""
        self._check_is_fitted()
        return _save_with_card(self, path, "ServiceTextIndex (TF-IDF, scikit-learn)",
                               {"ngram_max": self.ngram_max, "min_df": self.min_df,
                                "max_features": self.max_features, **(config or {})})

    @classmethod
    def load(cls, path: str | Path) -> ServiceTextIndex:
        """Load an index saved by :meth:`save`."""
        return _load_checked(cls, path)


# ---------------------------------------------------------------------------------------------
# BM25F over a service's fields
# ---------------------------------------------------------------------------------------------

#: The fields a service's text is read in. ``tags`` holds the feed's needs column and the
#: directory's own words for the record (its needs' and categories' labels).
FIELDS = ("name", "first", "rest", "audience", "tags")
DEFAULT_WEIGHTS = {"name": 3.0, "first": 2.0, "rest": 1.0, "audience": 1.0, "tags": 1.0}
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"|\u2022\n]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\s*\n\s*")


def first_sentence(text: str) -> tuple[str, str]:
    """Split a description into its first sentence and the rest.

    >>> first_sentence("Play sessions for deaf children. Held at the library. Free.")
    ('Play sessions for deaf children.', 'Held at the library. Free.')
    >>> first_sentence("no full stop here")
    ('no full stop here', '')
    """
    text = text.strip()
    m = _SENTENCE_END.search(text)
    if not m:
        return text, ""
    return text[:m.start()].strip(), text[m.end():].strip()


def analyse(text: str, ngram_max: int = 2) -> list[str]:
    """Words (lower case, accents dropped, stop words left out) and, with ``ngram_max`` 2, the
    pairs of words that stand side by side in the text with neither a stop word and no
    punctuation between them, so "children with autism" gives no "children autism" and
    "sleep, toileting" no "sleep toileting".

    >>> analyse("Speech therapy for children with autism")
    ['speech', 'therapy', 'children', 'autism', 'speech therapy']
    """
    text = strip_accents_unicode(text.lower())
    if ngram_max < 2:
        return [t for t in _TOKEN.findall(text) if t not in ENGLISH_STOP_WORDS]
    words: list[str] = []
    pairs: list[str] = []
    for part in _BREAK.split(text):
        tokens = _TOKEN.findall(part)
        keep = [t not in ENGLISH_STOP_WORDS for t in tokens]
        words += [t for t, k in zip(tokens, keep, strict=True) if k]
        pairs += [f"{a} {b}" for a, b, ka, kb in
                  zip(tokens, tokens[1:], keep, keep[1:], strict=False) if ka and kb]
    return words + pairs


def _as_given(tokens: list[str]) -> list[str]:
    return tokens


@dataclass(frozen=True)
class TextQuery:
    """A family's words as an index reads them: the weight of each term of the scored text
    (``vector``), and the terms of the family's own words (``own``), the only ones a reason
    may name."""

    vector: sp.csr_matrix
    own: frozenset[str]


def _gather(cs: sp.csc_matrix, vec: sp.csr_matrix) -> np.ndarray:
    """``cs @ vec.T`` for a one-row ``vec``, touching only the columns ``vec`` has."""
    n = cs.shape[0]
    starts, ends = cs.indptr[vec.indices], cs.indptr[vec.indices + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(n, dtype=np.float64)
    flat = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    weights = cs.data[flat] * np.repeat(vec.data, lengths)
    return np.bincount(cs.indices[flat], weights=weights, minlength=n)


class FieldedTextIndex:
    """Text relevance of a family's words to each service, read field by field (BM25F).

    Each field's term counts are divided by its length against the field's average length
    (``b``), weighted by the field (``weights``), summed, saturated (``k1``) and multiplied by
    the term's inverse document frequency, so a match is one sparse product. With
    ``norm="query"`` the score is divided by the most the family's words could score (each of
    their terms saturated in a service), so it lies in [0, 1) and a long description is judged
    field by field: words added to its other fields do not lower a match in its name or first
    sentence. With ``norm="cosine"`` rows and query are L2-normalised instead. ``model="tfidf"`` scores with the plain TF-IDF index over the whole text
    instead (``tfidf_``, kept in every index as the baseline the engine is measured against).

    Terms are words and pairs of adjacent words (:func:`analyse`). Reasons name only terms the
    family wrote and the record itself says (its name, description or needs column).

    >>> idx = FieldedTextIndex().fit(
    ...     {"name": ["Autism parent group", "Wheelchair basketball"], "first": ["", ""],
    ...      "rest": ["", ""], "audience": ["", ""], "tags": ["", ""]},
    ...     own=["Autism parent group", "Wheelchair basketball"])
    >>> idx.similarity(idx.query("autism group")).round(2).tolist()
    [0.63, 0.0]
    """

    def __init__(self, model: str = "bm25f", k1: float = 1.2, b: float = 0.75,
                 weights: dict[str, float] | None = None, norm: str = "cosine",
                 ngram_max: int = 2, min_df: int = 1, max_features: int = 50000):
        self.model = model
        self.k1 = k1
        self.b = b
        self.norm = norm
        self.weights = weights
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features

    def get_params(self) -> dict:
        """The constructor's parameters (what an index saved to disk must agree on)."""
        return {"model": self.model, "k1": self.k1, "b": self.b,
                "weights": {**DEFAULT_WEIGHTS, **(self.weights or {})}, "norm": self.norm,
                "ngram_max": self.ngram_max, "min_df": self.min_df,
                "max_features": self.max_features}

    #: What fit learns; an index missing any of them (e.g. saved by an older version) is
    #: treated as not fitted, so a saved copy is rebuilt rather than used.
    _LEARNED = ("matrix_", "own_", "idf_", "vocabulary_", "feature_names_", "tfidf_",
                "tfidf_to_own_", "data_hash_")

    def _check_is_fitted(self) -> None:
        if not all(hasattr(self, a) for a in self._LEARNED):
            raise NotFittedError(
                "This FieldedTextIndex is not fitted yet: call fit(fields, own) or "
                "FieldedTextIndex.load(path) first.")

    def _analyse(self, text: str) -> list[str]:
        return analyse(text, self.ngram_max)

    @staticmethod
    def corpus_hash(fields: dict[str, Sequence[str]], own: Sequence[str],
                    whole: Sequence[str] | None = None) -> str:
        """Hash of everything :meth:`fit` reads, to tell whether a saved index is current."""
        return corpus_hash([*(t for f in FIELDS for t in fields[f]), *own, *(whole or [])])

    def fit(self, fields: dict[str, Sequence[str]], own: Sequence[str],
            whole: Sequence[str] | None = None) -> FieldedTextIndex:
        """Learn from each service's ``fields`` (a list of texts for each of :data:`FIELDS`),
        its ``own`` words and its ``whole`` text for the TF-IDF index (default: the fields
        joined); returns ``self``."""
        if self.model not in ("bm25f", "tfidf"):
            raise ValueError(f"text model '{self.model}' is not known; use 'bm25f' or 'tfidf'")
        if self.norm not in ("query", "cosine"):
            raise ValueError(f"text norm '{self.norm}' is not known; use 'query' or 'cosine'")
        unknown = set(self.weights or {}) - set(FIELDS)
        if unknown:
            raise ValueError(f"no text field called {', '.join(sorted(unknown))}; the fields "
                             f"are {', '.join(FIELDS)}")
        n = len(own)
        # Each text is read once; the counts of every field and of the own words are then
        # rows of one matrix over one vocabulary.
        docs = [self._analyse(t) for f in FIELDS for t in fields[f]]
        docs += [self._analyse(t) for t in own]
        counter = CountVectorizer(analyzer=_as_given, min_df=self.min_df,
                                  max_features=self.max_features, dtype=np.float64)
        counts = counter.fit_transform(docs).tocsr()
        self.vocabulary_ = counter.vocabulary_
        self.feature_names_ = counter.get_feature_names_out()
        v = len(self.vocabulary_)
        w = self.get_params()["weights"]
        tf = sp.csr_matrix((n, v), dtype=np.float64)
        seen = sp.csr_matrix((n, v), dtype=np.float64)
        for i, f in enumerate(FIELDS):
            c = counts[i * n:(i + 1) * n]
            seen = seen + c
            length = np.asarray(c.sum(axis=1)).ravel()
            avg = float(length.mean()) if n else 0.0
            # An empty field has no counts to scale (and, with b = 1, no length to divide by).
            scale = np.divide(w[f], 1.0 - self.b + self.b * length / (avg or 1.0),
                              out=np.zeros(n), where=length > 0)
            tf = tf + sp.diags(scale) @ c
        df = np.bincount(seen.tocsr().indices, minlength=v).astype(np.float64)
        self.idf_ = np.log1p((n - df + 0.5) / (df + 0.5))
        tf = tf.tocsr()
        tf.data = tf.data * (self.k1 + 1.0) / (self.k1 + tf.data)
        tf = (tf @ sp.diags(self.idf_)).tocsr()
        if self.norm == "cosine":
            norms = np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
            tf = (sp.diags(np.divide(1.0, norms, out=np.zeros(n), where=norms > 0)) @ tf).tocsr()
        tf.eliminate_zeros()
        tf.sort_indices()
        self.matrix_ = tf
        own_counts = counts[len(FIELDS) * n:].tocsr()
        own_counts.data[:] = 1.0
        own_counts.sort_indices()
        self.own_ = own_counts
        if whole is None:
            whole = [" ".join(parts) for parts in zip(*(fields[f] for f in FIELDS), strict=True)]
        self.tfidf_ = ServiceTextIndex(ngram_max=self.ngram_max, min_df=self.min_df,
                                       max_features=self.max_features).fit(list(whole))
        # Each TF-IDF term's column among the record's own words (-1: a pair that is not side
        # by side anywhere, such as "children autism").
        self.tfidf_to_own_ = np.array([self.vocabulary_.get(str(t), -1)
                                       for t in self.tfidf_.feature_names_], dtype=np.int64)
        self.data_hash_ = self.corpus_hash(fields, own, whole)
        return self

    # -- querying ------------------------------------------------------------------------------

    def query(self, text: str, own: str | None = None) -> TextQuery:
        """Read a family's words: ``text`` is scored; ``own`` (default ``text``) is what the
        family itself wrote, the only words a reason may name."""
        self._check_is_fitted()
        own_terms = frozenset(self._analyse(text if own is None else own))
        if self.model == "tfidf":
            return TextQuery(self.tfidf_.transform(text), own_terms)
        counts: dict[int, int] = {}
        for token in self._analyse(text):
            j = self.vocabulary_.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        n_terms = self.matrix_.shape[1]
        if not counts:
            return TextQuery(sp.csr_matrix((1, n_terms), dtype=np.float64), own_terms)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        qtf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.norm == "cosine":
            vals = (1.0 + np.log(qtf)) * self.idf_[cols]
            vals /= np.linalg.norm(vals)
        else:
            # Divided by the most the query could score: every term saturated in a service.
            vals = 1.0 + np.log(qtf)
            vals /= float(np.sum(vals * self.idf_[cols])) * (self.k1 + 1.0)
        order = np.argsort(cols)
        indptr = np.array([0, len(cols)], dtype=np.int32)
        vec = sp.csr_matrix((vals[order], cols[order].astype(np.int32), indptr),
                            shape=(1, n_terms))
        return TextQuery(vec, own_terms)

    def transform(self, text: str) -> TextQuery:
        """:meth:`query` with the family's own words taken to be all of ``text``."""
        return self.query(text)

    def _model_matrix(self) -> tuple[sp.csr_matrix, np.ndarray]:
        if self.model == "tfidf":
            return self.tfidf_.matrix_, self.tfidf_.feature_names_
        return self.matrix_, self.feature_names_

    def similarity(self, text: str | TextQuery) -> np.ndarray:
        """Relevance in [0, 1] of ``text`` (or its query) to every service, shape (n_services,)."""
        q = self.query(text) if isinstance(text, str) else text
        if self.model == "tfidf":
            return self.tfidf_.similarity(q.vector)
        if q.vector.nnz == 0:
            return np.zeros(self.matrix_.shape[0], dtype=np.float64)
        if not hasattr(self, "_columns"):
            self._columns = self.matrix_.tocsc()  # column slices: work grows with the query only
        return _gather(self._columns, q.vector)

    def shared_terms(self, text: str | TextQuery, row: int, n: int = 3) -> list[str]:
        """The ``n`` terms adding most to the relevance of ``text`` to service ``row`` that the
        family wrote and the record itself says."""
        return self.shared_terms_many(text, [row], n)[0]

    def shared_terms_many(self, text: str | TextQuery, rows: Sequence[int] | np.ndarray,
                          n: int = 3) -> list[list[str]]:
        """:meth:`shared_terms` for each of ``rows``, with the array work done once for all.

        A term's contribution is its weight in the service times its weight in the query; the
        best come first, ties in the order the service's row stores them. A term counts only
        if the family's own words have it and the record's own words (not the directory's
        labels) have it too, word for word and, for a pair, side by side.
        """
        self._check_is_fitted()
        q = self.query(text) if isinstance(text, str) else text
        rows = np.asarray(rows, dtype=np.intp).reshape(-1)
        out: list[list[str]] = [[] for _ in range(rows.size)]
        m, names_all = self._model_matrix()
        starts, ends = m.indptr[rows], m.indptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if q.vector.nnz == 0 or total == 0 or not q.own:
            return out
        owner, flat, cols = _row_entries(m, starts, lengths, total)
        weight = np.zeros(m.shape[1])          # the query's weight of every term (mostly 0)
        weight[q.vector.indices] = q.vector.data
        prod = m.data[flat] * weight[cols]
        # Which terms the family wrote, and which the record says (in this index's vocabulary).
        own_cols = self._own_columns(names_all, q.own)
        family = np.zeros(m.shape[1], dtype=bool)
        family[own_cols[0]] = True
        keep = np.flatnonzero((prod > 0) & family[cols])
        if keep.size:
            said = self.own_[rows]
            said_keys = (np.repeat(np.arange(rows.size), np.diff(said.indptr)).astype(np.int64)
                         * self.own_.shape[1] + said.indices)
            own_col = own_cols[1][cols[keep]]
            keys = owner[keep].astype(np.int64) * self.own_.shape[1] + own_col
            keep = keep[(own_col >= 0) & np.isin(keys, said_keys)]
        # Group by result, best first within each; lexsort is stable, so ties keep row order.
        keep = keep[np.lexsort((-prod[keep], owner[keep]))]
        bounds = np.searchsorted(owner[keep], np.arange(rows.size + 1))
        names = names_all[cols[keep]].tolist()
        return _pick_terms(out, names, bounds, n)

    def _own_columns(self, names: np.ndarray, family: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        """The model's columns of the family's own terms, and each model column's column in
        the record-words matrix ``own_`` (-1 where it has none)."""
        if self.model == "tfidf":
            lookup, to_own = self.tfidf_.vocabulary_, self.tfidf_to_own_
        else:
            lookup, to_own = self.vocabulary_, np.arange(len(names), dtype=np.int64)
        cols = np.array([j for t in family if (j := lookup.get(t)) is not None], dtype=np.intp)
        return cols, to_own

    # -- saving --------------------------------------------------------------------------------

    def save(self, path: str | Path, config: dict | None = None) -> Path:
        """Save with joblib, plus a JSON card beside it (data hash, library versions, config)."""
        self._check_is_fitted()
        return _save_with_card(self, path,
                               f"FieldedTextIndex ({self.model}; BM25F over {', '.join(FIELDS)} "
                               "and TF-IDF over the whole text, scikit-learn/scipy)",
                               {**self.get_params(), **(config or {})})

    @classmethod
    def load(cls, path: str | Path) -> FieldedTextIndex:
        """Load an index saved by :meth:`save`."""
        return _load_checked(cls, path)


# -- shared by both indexes ------------------------------------------------------------------

def _row_entries(m: sp.csr_matrix, starts: np.ndarray, lengths: np.ndarray,
                 total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stored entry of the chosen rows, row after row: the result it belongs to, its
    position in ``m.data`` and its column (a vectorised concatenation of the rows' ranges)."""
    owner = np.repeat(np.arange(lengths.size), lengths)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    flat = np.repeat(starts, lengths) + offsets
    return owner, flat, m.indices[flat]


def _pick_terms(out: list[list[str]], names: list, bounds: np.ndarray,
                n: int) -> list[list[str]]:
    """Up to ``n`` terms for each result from its best-first ``names[bounds[r]:bounds[r+1]]``,
    skipping "autism autism" and a term already said within a longer one, or vice versa."""
    for r, picked in enumerate(out):
        for term in names[bounds[r]:bounds[r + 1]]:
            term = str(term)
            words = term.split()
            if len(set(words)) < len(words) or any(term in t or t in term for t in picked):
                continue
            picked.append(term)
            if len(picked) == n:
                break
    return out


def _save_with_card(index: Any, path: str | Path, model: str, config: dict) -> Path:
    """Save ``index`` with joblib, then a JSON card beside it (model, data hash, sizes,
    ``config``, library versions). Each is written beside its target and renamed: several API
    workers may save at once, and a reader must never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp",
                                     delete=False) as tmp:
        joblib.dump(index, tmp)
    os.replace(tmp.name, path)
    card = {
        "model": model,
        "data_hash": index.data_hash_,
        "n_services": int(index.matrix_.shape[0]),
        "n_terms": int(index.matrix_.shape[1]),
        "config": config,
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "joblib": joblib.__version__},
    }
    card_path = path.with_suffix(".json")
    tmp_card = card_path.with_name(f"{card_path.name}.{os.getpid()}.tmp")
    tmp_card.write_text(json.dumps(card, indent=2), encoding="utf-8")
    os.replace(tmp_card, card_path)
    return path


def _load_checked(cls: type, path: str | Path) -> Any:
    """An index of class ``cls`` saved by its ``save``, checked to be fitted."""
    obj = joblib.load(Path(path))
    if not isinstance(obj, cls):
        raise NotFittedError(f"{path} does not hold a {cls.__name__}; delete it to rebuild.")
    obj._check_is_fitted()
    return obj
