"""TF-IDF text similarity between a family's words and each service's text.

Follows scikit-learn's estimator contract: :meth:`ServiceTextIndex.fit` returns ``self``,
learned state ends in ``_`` and using the index before fitting raises :class:`NotFittedError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher.errors import NotFittedError

__all__ = ["ServiceTextIndex", "corpus_hash"]


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
        # Every stored entry of the chosen rows, row after row: its position in m.data and the
        # result it belongs to (a vectorised concatenation of the rows' index ranges).
        owner = np.repeat(np.arange(rows.size), lengths)
        offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        flat = np.repeat(starts, lengths) + offsets
        cols = m.indices[flat]
        weight = np.zeros(m.shape[1])          # the query's weight of every term (mostly 0)
        weight[q.indices] = q.data
        prod = m.data[flat] * weight[cols]
        keep = np.flatnonzero(prod > 0)
        # Group by result, best first within each; lexsort is stable, so ties keep row order.
        keep = keep[np.lexsort((-prod[keep], owner[keep]))]
        bounds = np.searchsorted(owner[keep], np.arange(rows.size + 1))
        names = self.feature_names_[cols[keep]].tolist()
        for r in range(rows.size):
            picked = out[r]
            for term in names[bounds[r]:bounds[r + 1]]:
                term = str(term)
                words = term.split()
                # Skip "autism autism" and terms already said within a longer one, or vice versa.
                if len(set(words)) < len(words) or any(term in t or t in term for t in picked):
                    continue
                picked.append(term)
                if len(picked) == n:
                    break
        return out

    def save(self, path: str | Path, config: dict | None = None) -> Path:
        """Save with joblib, plus a JSON card beside it (data hash, library versions, config)."""
        self._check_is_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: several API workers may save at once, and a
        # reader must never see half a file.
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp",
                                         delete=False) as tmp:
            joblib.dump(self, tmp)
        os.replace(tmp.name, path)
        card = {
            "model": "ServiceTextIndex (TF-IDF, scikit-learn)",
            "data_hash": self.data_hash_,
            "n_services": int(self.matrix_.shape[0]),
            "n_terms": int(self.matrix_.shape[1]),
            "config": {"ngram_max": self.ngram_max, "min_df": self.min_df,
                       "max_features": self.max_features, **(config or {})},
            "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                         "numpy": np.__version__, "joblib": joblib.__version__},
        }
        card_path = path.with_suffix(".json")
        tmp_card = card_path.with_name(f"{card_path.name}.{os.getpid()}.tmp")
        tmp_card.write_text(json.dumps(card, indent=2), encoding="utf-8")
        os.replace(tmp_card, card_path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ServiceTextIndex:
        """Load an index saved by :meth:`save`."""
        obj = joblib.load(Path(path))
        if not isinstance(obj, cls):
            raise NotFittedError(f"{path} does not hold a ServiceTextIndex; delete it to rebuild.")
        obj._check_is_fitted()
        return obj
