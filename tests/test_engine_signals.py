"""Signals read from names and words: a service *named* for a need the family did not mention
is lowered on need fit; the intent reader weighs what the family asks for and ignores phrases
that say a diagnosis is already done; a nursery does not help a child starting school; a
service whose description says it is "Bengali speaking" is a community service."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import explicit_config, make_record

from matcher.engine.intent import IntentLexicon, load_intents
from matcher.engine.pipeline import Matcher
from matcher.engine.profile import Profile
from matcher.engine.query import prepare_query
from matcher.engine.scorers import focus_matrix, need_levels, score_need
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def _matcher(postcode_index, vocab, focus_missed: float) -> Matcher:
    def r(*args: Any, **kw: Any):
        return make_record(postcode_index, vocab, *args, **kw)

    records = [
        r("SLEEP", "Sleep Well Service", "Help with settling and night waking.", ["health"],
          "sleep problems;autism;ADHD", "N7 6PA"),
        r("ADHD", "Calm Families ADHD Group", "A parent group.", ["support_advice"],
          "ADHD;autism", "N7 6PA"),
        r("PLAIN", "Holloway Parent Group", "A parent group.", ["support_advice"],
          "ADHD;autism", "N7 6PA"),
        r("CLUB", "Spectrum Saturday Club", "Games and crafts.", ["leisure"],
          "autism", "N7 6PA"),
    ]
    cfg = explicit_config(need={"focus_missed": focus_missed})
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index, cfg=cfg)


def _need_values(m: Matcher, **profile: Any) -> dict[str, float]:
    query = prepare_query(Profile.model_validate({"age": 8, **profile}), m.vocab, m.gazetteer,
                          m.cfg)
    scored = score_need(need_levels(m.table, query, m.vocab, m.cfg), query, m.cfg)
    return dict(zip(m.table.ids.tolist(), scored.values.tolist(), strict=True))


def test_focus_is_read_from_the_name_not_from_every_listed_need(postcode_index, vocab):
    m = _matcher(postcode_index, vocab, 0.5)
    focus = focus_matrix(m.table, vocab)
    col = {nid: i for i, nid in enumerate(m.table.need_ids)}
    named = {sid: {nid for nid, c in col.items() if focus[i, c]}
             for i, sid in enumerate(m.table.ids.tolist())}
    assert named["SLEEP"] == {"sleep"}
    assert named["ADHD"] == {"adhd"}
    assert named["PLAIN"] == set()
    assert "autism" in named["CLUB"]


def test_need_fit_is_scaled_down_only_where_the_named_need_was_not_mentioned(postcode_index, vocab):
    full = _need_values(_matcher(postcode_index, vocab, 1.0), needs=["ADHD"])
    half = _need_values(_matcher(postcode_index, vocab, 0.5), needs=["ADHD"])
    # Same listed needs, so the same need fit when the rule is off...
    assert full["SLEEP"] == pytest.approx(full["ADHD"])
    # ...and with it on, only the sleep service (named for a need not mentioned) is halved.
    assert half["SLEEP"] == pytest.approx(0.5 * full["SLEEP"])
    assert half["ADHD"] == pytest.approx(full["ADHD"])
    assert half["PLAIN"] == pytest.approx(full["PLAIN"])
    assert half["CLUB"] == pytest.approx(0.5 * full["CLUB"])


def test_a_family_that_mentions_the_named_need_is_not_penalised(postcode_index, vocab):
    full = _need_values(_matcher(postcode_index, vocab, 1.0), needs=["ADHD", "not sleeping"])
    half = _need_values(_matcher(postcode_index, vocab, 0.5), needs=["ADHD", "not sleeping"])
    assert half["SLEEP"] == pytest.approx(full["SLEEP"])


def test_shipped_config_lowers_a_service_named_for_another_need(postcode_index, vocab):
    from matcher.engine.config import load_config

    assert load_config().need.focus_missed < 1.0
    m = Matcher.from_frame(records_to_frame([
        make_record(postcode_index, vocab, "SLEEP", "Sleep Well Service", "Night waking.",
                    ["health"], "sleep problems;ADHD", "N7 6PA"),
        make_record(postcode_index, vocab, "ADHD", "ADHD Parent Group", "Night waking.",
                    ["health"], "sleep problems;ADHD", "N7 6PA"),
    ]), gazetteer=postcode_index)
    out = m.match({"age": 8, "needs": ["ADHD"], "postcode": "N7 8JN"})
    assert [r.service_id for r in out.results] == ["ADHD", "SLEEP"]


@pytest.mark.parametrize(("text", "wanted"), [
    ("My son was diagnosed with ADHD last year", False),
    ("She has a diagnosis of autism", False),
    ("help in Turkish if possible", False),
    ("we are waiting for an autism assessment", True),
    ("we suspect ADHD", True),
    ("possibly autistic, not diagnosed yet", True),
])
def test_assessment_cues_skip_phrases_that_say_it_is_done(text, wanted):
    intent = load_intents().read(text)
    assert ("assessment" in intent.weights) is wanted, intent


def test_dots_in_a_cue_allow_up_to_two_words_between():
    lex = IntentLexicon({"leisure": {"cues": ["somewhere ... to go"]}})
    assert lex.read("somewhere to go")
    assert lex.read("somewhere safe to go").words["leisure"] == ["somewhere safe to go"]
    assert lex.read("somewhere safe and warm to go").weights == {}
    assert lex.read("somewhere really safe and warm to go").weights == {}


def test_not_cues_only_silence_their_own_category():
    lex = IntentLexicon({
        "assessment": {"cues": ["diagnos*"], "not_cues": ["was diagnosed"]},
        "health": {"cues": ["diagnos*"]},
    })
    intent = lex.read("he was diagnosed in May")
    assert "assessment" not in intent.weights
    assert intent.weights["health"] == 1.0


def test_what_the_family_asks_for_outweighs_what_describes_their_situation():
    lex = IntentLexicon({"education": {"cues": ["school"]}, "short_breaks": {"cues": ["short breaks"]}})
    intent = lex.read("She is at a special school and loves school. I need some short breaks.")
    assert intent.weights["short_breaks"] > intent.weights["education"]
    plain = lex.read("She is at a special school and loves school. Short breaks would be good.")
    assert plain.weights["short_breaks"] < plain.weights["education"]


def test_a_setting_of_the_phase_being_left_does_not_help_with_the_move(postcode_index, vocab):
    def r(*args: Any, **kw: Any):
        return make_record(postcode_index, vocab, *args, **kw)

    records = [
        r("NURSERY", "Little Acorns Nursery", "A nursery.", ["education"], "all SEND", "N7 6PA",
          min_age=2, max_age=4, transitions=["early_years_to_primary"]),
        r("PRIMARY", "Holloway Primary", "A primary school.", ["education"], "all SEND",
          "N7 6PA", min_age=4, max_age=11, transitions=["early_years_to_primary"]),
        r("WORKSHOP", "Starting School Workshop", "For parents.", ["support_advice"], "all SEND",
          "N7 6PA", min_age=2, max_age=4, transitions=["early_years_to_primary"]),
    ]
    m = Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index,
                           cfg=explicit_config())
    from matcher.engine.scorers import score_transition

    query = prepare_query(Profile.model_validate(
        {"age": 4, "transition": "early_years_to_primary"}), m.vocab, m.gazetteer, m.cfg)
    values = dict(zip(m.table.ids.tolist(),
                      score_transition(m.table, query, m.cfg).values.tolist(), strict=True))
    assert values == {"NURSERY": 0.0, "PRIMARY": 1.0, "WORKSHOP": 1.0}


@pytest.mark.parametrize(("name", "description", "community"), [
    ("Jonaki Families", "Bengali and Sylheti speaking support for families.", "bengali"),
    ("Mosty Group", "Polish-speaking parents meet monthly.", "polish"),
    ("Hooyo Circle (Somali parents)", "A circle for parents.", "somali"),
    ("Sleep Service", "Interpreters available (Bengali, Somali).", ""),
])
def test_community_language_is_read_from_name_or_speaking_phrase(postcode_index, vocab, name,
                                                                 description, community):
    rec = make_record(postcode_index, vocab, "X", name, description, ["support_advice"],
                      "all SEND", "N7 6PA", languages=["Bengali", "Sylheti", "Polish", "Somali",
                                                       "English"])
    m = Matcher.from_frame(records_to_frame([rec]), gazetteer=postcode_index,
                           cfg=explicit_config())
    assert m.table.community_language.tolist() == [community]


def test_a_service_named_for_a_situation_is_lowered_unless_the_family_mentions_it(postcode_index,
                                                                                   vocab):
    records = [
        make_record(postcode_index, vocab, "CRISIS", "Mental Health Crisis Line",
                    "Call any time.", ["health"], "", "N7 6PA"),
        make_record(postcode_index, vocab, "TALK", "Youth Counselling", "Someone to talk to.",
                    ["health"], "", "N7 6PA"),
    ]
    m = Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index,
                           cfg=explicit_config(need={
                               "focus_missed": 0.5, "focus_topics": {"crisis": {
                                   "name_words": ["crisis"], "cues": ["crisis", "urgent*"],
                                   "phrase": "people in crisis"}}}))
    calm = _need_values(m, needs=["anxiety"], about="she worries a lot")
    urgent = _need_values(m, needs=["anxiety"], about="we need help urgently")
    assert calm["CRISIS"] == pytest.approx(0.5 * calm["TALK"])
    assert urgent["CRISIS"] == pytest.approx(urgent["TALK"])


def test_focus_topics_without_cues_are_refused():
    from matcher.errors import ConfigError

    with pytest.raises(ConfigError, match="cues"):
        explicit_config(need={"focus_topics": {"crisis": {"name_words": ["crisis"],
                                                          "phrase": "people in crisis"}}})


def test_the_text_query_repeats_what_the_family_asks_for(postcode_index, vocab):
    m = _matcher(postcode_index, vocab, 1.0)
    query = prepare_query(Profile.model_validate(
        {"age": 9, "about": "He is at a special school. We need a swimming club. Thanks!"}),
        m.vocab, m.gazetteer, m.cfg)
    assert query.text.count("swimming club") == 2
    assert query.text.count("special school") == 1


def test_focus_phrase_names_what_the_service_is_for(postcode_index, vocab):
    from matcher.engine.scorers import focus_phrase

    records = [
        make_record(postcode_index, vocab, "SLEEP", "Sleep Well Service", "Night waking.",
                    ["health"], "sleep problems;ADHD", "N7 6PA"),
        make_record(postcode_index, vocab, "CRISIS", "Mental Health Crisis Line",
                    "Call any time.", ["health"], "", None),
        make_record(postcode_index, vocab, "PLAIN", "Holloway Parent Group", "A group.",
                    ["support_advice"], "ADHD", "N7 6PA"),
    ]
    cfg = explicit_config(need={"focus_topics": {"crisis": {
        "name_words": ["crisis"], "cues": ["crisis"], "phrase": "people in a crisis"}}})
    m = Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index, cfg=cfg)

    def phrase(sid: str, text: str = "anxiety") -> str:
        row = m.table.ids.tolist().index(sid)
        return focus_phrase(m.table, vocab, cfg, row, text)

    assert phrase("SLEEP") == vocab.needs["sleep"].phrase
    assert phrase("CRISIS") == "people in a crisis"
    assert phrase("CRISIS", "she is in crisis") != "people in a crisis"
    assert phrase("PLAIN") == ""


def test_a_service_named_for_a_broader_group_covers_the_familys_need(postcode_index, vocab):
    records = [
        make_record(postcode_index, vocab, "NEURO", "Neurodevelopmental Clinic", "Assessments.",
                    ["health"], "autism;ADHD", "N7 6PA"),
        make_record(postcode_index, vocab, "SLEEP", "Sleep Well Service", "Night waking.",
                    ["health"], "sleep problems;ADHD", "N7 6PA"),
    ]
    m = Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index,
                           cfg=explicit_config(need={"focus_missed": 0.5}))
    query = prepare_query(Profile.model_validate({"age": 8, "needs": ["ADHD"]}), m.vocab,
                          m.gazetteer, m.cfg)
    missed = need_levels(m.table, query, m.vocab, m.cfg).focus_missed
    assert dict(zip(m.table.ids.tolist(), missed.tolist(), strict=True)) == {
        "NEURO": False, "SLEEP": True}


def test_the_need_reason_says_who_a_lowered_service_is_mainly_for(postcode_index, vocab):
    m = _matcher(postcode_index, vocab, 0.5)
    out = m.match({"age": 8, "needs": ["ADHD"], "postcode": "N7 8JN", "limit": 10})
    label = {r.service_id: next(c.label for c in r.explanation.contributions
                                if c.component == "need") for r in out.results}
    assert label["SLEEP"] == ("Supports children with ADHD: you mentioned ADHD, but it is "
                              "mainly for children with sleep difficulties")
    assert label["ADHD"] == "Supports children with ADHD: you mentioned ADHD"


@pytest.mark.parametrize(("text", "asks"), [
    ("We need some short breaks.", ["We need some short breaks"]),
    ("She really needs somewhere to go.", ["She really needs somewhere to go"]),
    ("Mum needs a break. He likes trains.", ["Mum needs a break"]),
    ("We are looking for a youth club", ["looking for a youth club"]),
    ("My son has special educational needs and goes to a special school.", []),
    ("We have applied for an EHC needs assessment.", []),
    ("His needs are not met at school.", []),
])
def test_asks_are_what_someone_needs_or_wants_not_the_word_needs(text, asks):
    from matcher.engine.intent import ASK_PATTERN

    assert [m.group(0) for m in ASK_PATTERN.finditer(text)] == asks


def test_the_ask_weight_comes_from_the_config(postcode_index, vocab):
    m = _matcher(postcode_index, vocab, 1.0)
    about = "She loves school. We need swimming."

    def weights(ask_weight: float) -> dict[str, float]:
        cfg = explicit_config(intent={"ask_weight": ask_weight, "max_count": 6.0})
        query = prepare_query(Profile.model_validate({"age": 9, "about": about}), m.vocab,
                              m.gazetteer, cfg)
        return query.intent.weights

    assert weights(1.0)["education"] == weights(1.0)["leisure"]
    assert weights(3.0)["leisure"] == 3 * weights(3.0)["education"]
    assert weights(3.0) != weights(1.0)


def test_languages_typed_by_families_keep_a_bounded_cache(postcode_index, vocab):
    from matcher.engine.scorers import LANGUAGE_CACHE_SIZE

    rec = make_record(postcode_index, vocab, "X", "Parent Group", "We speak Tigrinya and Polish.",
                      ["support_advice"], "all SEND", "N7 6PA")
    m = Matcher.from_frame(records_to_frame([rec]), gazetteer=postcode_index,
                           cfg=explicit_config())
    for i in range(LANGUAGE_CACHE_SIZE * 3):
        m.match({"age": 8, "preferences": {"language": f"language number {i}"}})
    assert len(m.table.language_cache) == LANGUAGE_CACHE_SIZE
    # still read right after the oldest were let go
    out = m.match({"age": 8, "preferences": {"language": "Tigrinya"}})
    assert out.results and out.results[0].service_id == "X"
    assert m.table.language_cache["tigrinya"].tolist() == [True]
