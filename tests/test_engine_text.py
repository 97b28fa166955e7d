"""ServiceTextIndex follows scikit-learn's estimator contract: fit returns self, learned state
ends in ``_``, NotFittedError before fit, and save/load round-trips with a JSON card."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

from matcher.engine.text import ServiceTextIndex, corpus_hash
from matcher.errors import MatcherError, NotFittedError

TEXTS = [
    "Autism youth club in Holloway: games, art and a quiet room for autistic teenagers",
    "Wheelchair basketball for young people with physical disabilities",
    "Speech and language therapy for children with speech delay",
    "Swimming lessons for deaf children with BSL instructors",
]
LEARNED = ("vectorizer_", "matrix_", "vocabulary_", "feature_names_", "idf_", "data_hash_")


@pytest.fixture(scope="module")
def fitted() -> ServiceTextIndex:
    return ServiceTextIndex().fit(TEXTS)


def test_fit_returns_self():
    index = ServiceTextIndex(ngram_max=1)
    assert index.fit(TEXTS) is index


def test_learned_attributes_end_in_underscore_and_appear_only_after_fit():
    index = ServiceTextIndex()
    before = set(vars(index))
    assert not any(k.endswith("_") for k in before)
    assert not any(hasattr(index, a) for a in LEARNED)
    index.fit(TEXTS)
    assert all(hasattr(index, a) for a in LEARNED)
    # Constructor parameters are stored as given, without a trailing underscore, and fit
    # adds nothing else that is public without one.
    assert (index.ngram_max, index.min_df, index.max_features) == (2, 1, 50000)
    added = {k for k in vars(index) if k not in before and not k.startswith("_")}
    assert added and all(k.endswith("_") for k in added)


@pytest.mark.parametrize("call", [
    lambda i, tmp: i.similarity("autism"),
    lambda i, tmp: i.transform("autism"),
    lambda i, tmp: i.shared_terms("autism", 0),
    lambda i, tmp: i.save(tmp / "index.joblib"),
])
def test_not_fitted_error_before_fit(call, tmp_path: Path):
    with pytest.raises(NotFittedError, match="not fitted yet") as info:
        call(ServiceTextIndex(), tmp_path)
    assert isinstance(info.value, MatcherError)
    assert "fit" in str(info.value)  # says what to do


def test_similarity_shape_range_and_order(fitted):
    sim = fitted.similarity("my autistic son wants a club")
    assert sim.shape == (len(TEXTS),)
    assert sim.dtype == np.float64
    assert np.all((sim >= 0) & (sim <= 1 + 1e-9))
    assert int(np.argmax(sim)) == 0
    assert sim[1] == 0.0


def test_words_outside_the_vocabulary_give_zeros(fitted):
    assert np.all(fitted.similarity("zzqx unknownword") == 0.0)
    assert np.all(fitted.similarity("") == 0.0)


def test_shared_terms_names_the_overlap(fitted):
    terms = fitted.shared_terms("deaf swimming", 3)
    assert set(terms) <= {"deaf", "swimming", "deaf swimming"}
    assert {"deaf", "swimming"} & set(terms)
    assert fitted.shared_terms("deaf swimming", 0) == []


def test_corpus_hash_is_stable_and_order_sensitive():
    assert corpus_hash(TEXTS) == corpus_hash(list(TEXTS))
    assert corpus_hash(TEXTS) != corpus_hash(TEXTS[::-1])
    assert corpus_hash(["ab", "c"]) != corpus_hash(["a", "bc"])
    assert len(corpus_hash(TEXTS)) == 64


def test_save_load_round_trip_with_json_card(fitted, tmp_path: Path):
    path = fitted.save(tmp_path / "models" / "text_index.joblib", config={"cap": 0.3})
    assert path.exists()
    card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["data_hash"] == corpus_hash(TEXTS) == fitted.data_hash_
    assert card["n_services"] == len(TEXTS)
    assert card["n_terms"] == len(fitted.vocabulary_)
    assert card["versions"]["scikit-learn"] == sklearn.__version__
    assert card["versions"]["numpy"] == np.__version__
    assert {"python", "joblib"} <= set(card["versions"])
    assert card["config"]["ngram_max"] == 2 and card["config"]["cap"] == 0.3

    loaded = ServiceTextIndex.load(path)
    assert isinstance(loaded, ServiceTextIndex)
    assert loaded.data_hash_ == fitted.data_hash_
    for query in ("autism club", "deaf swimming", "speech delay therapy"):
        np.testing.assert_array_equal(loaded.similarity(query), fitted.similarity(query))


def test_load_refuses_a_file_that_is_not_an_index(tmp_path: Path):
    path = tmp_path / "other.joblib"
    joblib.dump({"not": "an index"}, path)
    with pytest.raises(NotFittedError, match="delete it to rebuild"):
        ServiceTextIndex.load(path)


def test_refit_replaces_the_learned_state(fitted):
    index = ServiceTextIndex().fit(TEXTS)
    before = index.data_hash_
    index.fit(TEXTS[:2])
    assert index.data_hash_ != before
    assert index.similarity("autism").shape == (2,)


def test_matcher_reuses_a_saved_index_only_while_the_data_is_unchanged(
        postcode_index, tmp_path: Path, monkeypatch):
    from engine_support import explicit_config, property_directory

    from matcher.engine.pipeline import Matcher
    from matcher.services import records_to_frame
    from matcher.vocab import load_vocabulary

    records = property_directory(postcode_index, load_vocabulary())
    frame = records_to_frame(records)
    cfg = explicit_config()
    first = Matcher.from_frame(frame, gazetteer=postcode_index, cfg=cfg, models_dir=tmp_path)
    card = json.loads((tmp_path / "text_index.json").read_text(encoding="utf-8"))
    assert card["data_hash"] == first.table.text_index.data_hash_

    calls = []
    real_fit = ServiceTextIndex.fit

    def counting_fit(self, texts):
        calls.append(len(texts))
        return real_fit(self, texts)

    monkeypatch.setattr(ServiceTextIndex, "fit", counting_fit)
    again = Matcher.from_frame(frame, gazetteer=postcode_index, cfg=cfg, models_dir=tmp_path)
    assert calls == []  # loaded, not refitted
    np.testing.assert_array_equal(again.table.text_index.similarity("autism club"),
                                  first.table.text_index.similarity("autism club"))
    Matcher.from_frame(records_to_frame(records[:-1]), gazetteer=postcode_index, cfg=cfg,
                       models_dir=tmp_path)
    assert calls == [len(records) - 1]  # the data changed: refitted
