"""The engine's text relevance (BM25F over a service's fields) and the words its reasons name.

The services and family phrasings here are written for these tests; none comes from an
evaluation set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import joblib
import numpy as np
import pytest

from matcher.engine.text import FIELDS, FieldedTextIndex, ServiceTextIndex, analyse, first_sentence
from matcher.errors import NotFittedError


def fields(*services: dict) -> tuple[dict[str, list[str]], list[str]]:
    """Fields and own words of services given as dicts of field texts (missing ones empty)."""
    out = {f: [s.get(f, "") for s in services] for f in FIELDS}
    own = [" . ".join([s.get("name", ""), s.get("first", ""), s.get("rest", "")])
           for s in services]
    return out, own


def fit(*services: dict, **params) -> FieldedTextIndex:
    f, own = fields(*services)
    return FieldedTextIndex(**params).fit(f, own)


# --- reading the words -----------------------------------------------------------------------

@pytest.mark.parametrize("text, pairs", [
    ("Speech therapy for children with autism", {"speech therapy"}),
    ("A youth club: for teenagers who are deaf.", {"youth club"}),
    ("Short breaks and overnight stays in Hull", {"short breaks", "overnight stays"}),
    ("Help with sleep, toileting and eating", set()),
])
def test_pairs_are_only_words_side_by_side(text, pairs):
    terms = analyse(text)
    assert {t for t in terms if " " in t} == pairs
    # No pair skips a word that was dropped ("children with autism" is not "children autism").
    for pair in (t for t in terms if " " in t):
        assert re.search(r"\b" + pair.replace(" ", r"[\s-]+") + r"\b", text.lower())


def test_words_are_lower_case_without_stop_words():
    assert analyse("The Autism Group is FOR you", ngram_max=1) == ["autism", "group"]


@pytest.mark.parametrize("text, first, rest", [
    ("Swimming for disabled children. Tuesdays at 4pm.", "Swimming for disabled children.",
     "Tuesdays at 4pm."),
    ("Is your child anxious? We can help! Call us.", "Is your child anxious?",
     "We can help! Call us."),
    ("Parent support group\nMeets monthly in the library", "Parent support group",
     "Meets monthly in the library"),
    ("Sessions for ages 5 to 11, e.g. crafts and games", "Sessions for ages 5 to 11, e.g. crafts "
     "and games", ""),
])
def test_first_sentence(text, first, rest):
    assert first_sentence(text) == (first, rest)


# --- the estimator contract ------------------------------------------------------------------

def test_fit_returns_self_and_learned_state_ends_in_underscore():
    index = FieldedTextIndex()
    before = set(vars(index))
    f, own = fields({"name": "Autism club"}, {"name": "Deaf swimming"})
    assert index.fit(f, own) is index
    added = {k for k in vars(index) if k not in before and not k.startswith("_")}
    assert {"matrix_", "own_", "idf_", "vocabulary_", "tfidf_", "data_hash_"} <= added
    assert all(k.endswith("_") for k in added)


@pytest.mark.parametrize("call", [
    lambda i: i.similarity("autism"),
    lambda i: i.query("autism"),
    lambda i: i.shared_terms("autism", 0),
])
def test_not_fitted_error_before_fit(call):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        call(FieldedTextIndex())


def test_unknown_model_or_field_is_refused_with_the_choices():
    f, own = fields({"name": "Autism club"})
    with pytest.raises(ValueError, match="'bm25f' or 'tfidf'"):
        FieldedTextIndex(model="word2vec").fit(f, own)
    with pytest.raises(ValueError, match="no text field called summary"):
        FieldedTextIndex(weights={"summary": 2.0}).fit(f, own)


def test_similarity_is_a_cosine_and_zero_without_shared_words():
    index = fit({"name": "Autism youth club", "first": "Games for autistic teenagers."},
                {"name": "Wheelchair basketball", "first": "Sport for wheelchair users."})
    sim = index.similarity("my autistic son wants a youth club")
    assert sim.shape == (2,) and sim.dtype == np.float64
    assert np.all((sim >= 0) & (sim <= 1 + 1e-9))
    assert sim[0] > 0 and sim[1] == 0
    assert np.all(index.similarity("zzqx") == 0) and np.all(index.similarity("") == 0)


def test_tfidf_model_scores_as_a_plain_index_over_the_whole_text():
    services = [{"name": "Autism youth club", "first": "Games for autistic teenagers."},
                {"name": "Wheelchair basketball", "first": "Sport for wheelchair users."}]
    f, own = fields(*services)
    index = FieldedTextIndex(model="tfidf").fit(f, own)
    plain = ServiceTextIndex().fit([" ".join(f[k][i] for k in FIELDS) for i in range(2)])
    for text in ("autistic teenagers", "wheelchair sport", "nothing here"):
        np.testing.assert_allclose(index.similarity(text), plain.similarity(text))
    assert index.similarity("autistic teenagers")[0] > 0 == index.similarity("nothing here")[0]
    assert not np.allclose(index.similarity("wheelchair sport"),
                           fit(*services).similarity("wheelchair sport"))   # not BM25F


# --- what BM25F does that one bag of words does not -------------------------------------------

@pytest.mark.parametrize("word", ["dyspraxia", "stammering", "epilepsy"])
def test_a_word_in_the_name_counts_more_than_the_same_word_later(word):
    index = fit({"name": f"{word} support", "first": "A friendly group.", "rest": "Meets weekly."},
                {"name": "Support group", "first": "A friendly group.",
                 "rest": f"Meets weekly. {word}."})
    sim = index.similarity(f"{word} help")
    assert sim[0] > sim[1] > 0


@pytest.mark.parametrize("word", ["dyspraxia", "stammering", "epilepsy"])
def test_the_first_sentence_counts_more_than_the_rest(word):
    index = fit({"name": "Family hub", "first": f"Support for children with {word}.",
                 "rest": "Open weekdays. Free parking."},
                {"name": "Family hub", "first": "Support for children.",
                 "rest": f"Open weekdays. Free parking. Some have {word}."})
    sim = index.similarity(f"{word}")
    assert sim[0] > sim[1] > 0


MARKETING = ("We are a passionate, friendly and welcoming team who go the extra mile every day. "
             "Our award-winning staff love what they do and pride themselves on excellence, "
             "fun, laughter and making memories together in a vibrant community setting.")


@pytest.mark.parametrize("need", ["dyslexia", "hearing loss", "cerebral palsy"])
def test_with_query_norm_a_long_marketing_description_does_not_drown_the_need_it_names(need):
    # Both name the need once in the first sentence; one goes on with a long marketing passage.
    # Scored field by field and divided by what the query could score (norm="query"), the
    # passage does not lower the match; with norm="cosine" (as plain TF-IDF) it would.
    index = fit({"name": "Learning centre", "first": f"Tutoring for children with {need}."},
                {"name": "Learning centre", "first": f"Tutoring for children with {need}.",
                 "rest": " ".join([MARKETING] * 4)},
                {"name": "Play cafe", "first": "Drop-in play for toddlers."}, norm="query")
    sim = index.similarity(f"my son has {need}")
    assert sim[0] == pytest.approx(sim[1]) and sim[1] > 0 and sim[2] == 0
    cosine = fit(*[{"name": "Learning centre", "first": f"Tutoring for children with {need}."},
                   {"name": "Learning centre", "first": f"Tutoring for children with {need}.",
                    "rest": " ".join([MARKETING] * 4)}], norm="cosine")
    sim = cosine.similarity(f"my son has {need}")
    assert sim[0] > sim[1] > 0


def test_field_weights_change_the_order():
    services = ({"name": "Sensory room", "rest": "Also some sport."},
                {"name": "Sport club", "rest": "Also a sensory room."})
    by_name = fit(*services, weights={"name": 3.0, "rest": 1.0})
    by_rest = fit(*services, weights={"name": 0.5, "rest": 3.0})
    assert np.argmax(by_name.similarity("sensory")) == 0
    assert np.argmax(by_rest.similarity("sensory")) == 1


# --- honest reasons ---------------------------------------------------------------------------

def test_reasons_name_only_words_the_family_wrote():
    index = fit({"name": "Autism parent group", "first": "For parents of autistic children."})
    # The scored text has a label the family never wrote ("autism"); they wrote "autistic".
    q = index.query("autistic son Autism", own="my autistic son")
    assert index.similarity(q)[0] > 0
    assert index.shared_terms(q, 0) == ["autistic"]


@pytest.mark.parametrize("record, family", [
    ("Groups for children with autism", "children who have autism"),
    ("Swimming lessons for deaf children", "lessons at the pool for my deaf son"),
    ("Speech and language therapy", "his speech is slow and he needs therapy"),
])
def test_a_pair_is_named_only_when_both_sides_have_it_side_by_side(record, family):
    index = fit({"name": record})
    for term in index.shared_terms(family, 0, n=10):
        pattern = r"\b" + term.replace(" ", r"\W+") + r"\b"
        assert re.search(pattern, record.lower()) and re.search(pattern, family.lower()), term


def test_reasons_never_name_the_directorys_own_labels():
    # "Social, emotional and mental health" is a label in the tags, not the record's words.
    index = fit({"name": "Drop-in for teenagers", "first": "A place to talk.",
                 "tags": "Social emotional and mental health"})
    q = index.query("mental health teenagers talk")
    assert index.similarity(q)[0] > 0
    assert set(index.shared_terms(q, 0, n=10)) <= {"teenagers", "talk"}


def test_save_load_round_trip(tmp_path: Path):
    index = fit({"name": "Autism club", "first": "Games."}, {"name": "Deaf swimming"},
                k1=1.5, b=0.5)
    path = index.save(tmp_path / "m" / "text_index.joblib", config={"cap": 0.4})
    card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["data_hash"] == index.data_hash_
    assert card["config"]["k1"] == 1.5 and card["config"]["cap"] == 0.4
    loaded = FieldedTextIndex.load(path)
    assert loaded.get_params() == index.get_params()
    np.testing.assert_array_equal(loaded.similarity("autism games"), index.similarity("autism games"))
    assert loaded.shared_terms("autism games", 0) == index.shared_terms("autism games", 0)


def test_matcher_refits_a_saved_index_when_the_text_settings_change(postcode_index, tmp_path):
    from engine_support import explicit_config, property_directory

    from matcher.engine.pipeline import Matcher
    from matcher.services import records_to_frame
    from matcher.vocab import load_vocabulary

    frame = records_to_frame(property_directory(postcode_index, load_vocabulary()))
    cfg = explicit_config()
    first = Matcher.from_frame(frame, gazetteer=postcode_index, cfg=cfg, models_dir=tmp_path)
    other = cfg.model_copy(update={"text": cfg.text.model_copy(update={"k1": 2.5})})
    second = Matcher.from_frame(frame, gazetteer=postcode_index, cfg=other, models_dir=tmp_path)
    assert first.table.text_index.k1 != second.table.text_index.k1 == 2.5
    card = json.loads((tmp_path / "text_index.json").read_text(encoding="utf-8"))
    assert card["config"]["k1"] == 2.5


# --- every text reason on the development set ------------------------------------------------

def _words_in(term: str, text: str) -> bool:
    return re.search(r"\b" + r"[^\w.,;:!?()\[\]{}\"|\n]+".join(map(re.escape, term.split())) + r"\b",
                     text.lower()) is not None


@pytest.mark.parametrize("sparse", [False, True])
def test_every_text_reason_on_the_dev_set_names_words_both_sides_wrote(shared_dir, sparse):
    from matcher.engine.pipeline import Matcher
    from matcher.engine.profile import Profile
    from matcher.evaluation.runner import import_frame, load_cases

    set_dir = shared_dir / "eval" / "dev"
    if not (set_dir / "cases.jsonl").exists():
        pytest.skip("../shared/eval/dev is not present; the dev-set reasons cannot be walked")
    matcher = Matcher.from_frame(import_frame(set_dir / "services.csv", sparse=sparse))
    records = {r["id"]: r for r in matcher.table.records}
    prefix = "Its description matches your words: "
    named = 0
    for case in load_cases(set_dir / "cases.jsonl"):
        p = case["profile"]
        profile = Profile.model_validate({**p, "limit": 10, "who": p.get("who", case.get("who"))})
        family = " . ".join([*profile.needs, profile.about])
        for result in matcher.match(profile).results:
            rec = records[result.service_id]
            own = " . ".join([rec["name"], rec["description"], rec["needs_raw"] or ""])
            for reason in result.reasons:
                if reason.startswith(prefix):
                    for term in reason[len(prefix):].split(", "):
                        named += 1
                        assert _words_in(term, family), (case["id"], result.service_id, term)
                        assert _words_in(term, own), (case["id"], result.service_id, term)
    assert named > 0


def test_a_saved_index_missing_learned_state_is_refused_so_it_is_rebuilt(tmp_path: Path):
    index = fit({"name": "Autism club"}, {"name": "Deaf swimming"})
    del index.tfidf_to_own_
    joblib.dump(index, tmp_path / "old.joblib")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        FieldedTextIndex.load(tmp_path / "old.joblib")
