"""Reading a family's own words (matcher/engine/query.py, matcher/engine/intent.py): a situation
is not a request, everyday words for needs and for kinds of help, asks outweigh condition words,
and ``understood`` says what each of their words was read as. Each rule is tried on at least
three phrasings written for this test."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_support import TODAY

from matcher.engine.config import load_config
from matcher.engine.intent import load_intents
from matcher.engine.pipeline import Matcher
from matcher.engine.profile import Profile
from matcher.engine.query import prepare_query, read_family_words
from matcher.errors import ConfigError
from matcher.geo.postcodes import get_postcode_index
from matcher.ingest import read_service_csv
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def read(vocab, about: str = "", needs: list[str] | None = None):
    profile = Profile.model_validate({"age": 8, "about": about, "needs": needs or []},
                                     context={"vocabulary": vocab})
    return read_family_words(profile, vocab, load_config())


def need_ids(words) -> list[str]:
    return [n.need for n in words.needs]


def kinds(words, kind: str) -> list[tuple[str, str]]:
    return [(u["words"], u["id"]) for u in words.understood if u["kind"] == kind]


# -- a situation is not a request -----------------------------------------------------------

@pytest.mark.parametrize(("about", "situation"), [
    ("meltdowns after school", "after school"),
    ("he gets very upset at nursery", "at nursery"),
    ("since she started reception she hardly sleeps", "since she started reception"),
    ("on the way to school he panics", "on the way to school"),
    ("the school holidays are really hard for us", "school"),
    ("he comes home from college exhausted", "from college"),
])
def test_time_and_place_of_learning_is_a_situation_not_a_request_for_a_place(vocab, about,
                                                                             situation):
    words = read(vocab, about)
    assert "education" not in words.intent.weights
    assert any(situation in w for w, c in kinds(words, "situation") if c == "education")
    assert not any(c == "education" for _, c in kinds(words, "ask") + kinds(words, "help"))


@pytest.mark.parametrize(("about", "wanted"), [
    ("which school would suit him best", "which school"),
    ("we need a school place for September", "school place"),
    ("we are looking for a specialist school", "looking for a specialist school"),
    ("she is unhappy and we want to change schools", "change schools"),
    ("is there a place at nursery for a child like her", "place at nursery"),
])
def test_asking_for_a_setting_is_still_a_request(vocab, about, wanted):
    words = read(vocab, about)
    assert "education" in words.intent.asked
    asks = [w for w, c in kinds(words, "ask") if c == "education"]
    assert any(wanted in w for w in asks), asks


def test_a_request_and_a_situation_in_one_text_are_told_apart(vocab):
    words = read(vocab, "he is unhappy at his school, so we need a new school")
    assert "education" in words.intent.asked
    assert ("at his school", "education") in kinds(words, "situation")


def query_text(vocab, about: str) -> str:
    profile = Profile.model_validate({"age": 10, "about": about}, context={"vocabulary": vocab})
    return prepare_query(profile, vocab, get_postcode_index(), load_config()).text


@pytest.mark.parametrize("about", [
    "meltdowns after school", "he is fine at school but not at home",
    "since she started nursery she cries a lot",
])
def test_a_situation_is_left_out_of_the_words_matched_against_descriptions(vocab, about):
    text = query_text(vocab, about).lower()
    assert "school" not in text and "nursery" not in text, text


@pytest.mark.parametrize(("about", "kept"), [
    ("he starts secondary school next September", "secondary school"),
    ("she will start secondary school in the autumn", "secondary school"),
    ("he is leaving school next summer", "leaving school"),
])
def test_a_situation_that_is_also_a_move_stays_in_those_words(vocab, about, kept):
    assert kept in query_text(vocab, about)


# -- everyday words for needs -----------------------------------------------------------------

@pytest.mark.parametrize(("about", "need"), [
    # sensory processing, by the grammar "hates / can't cope with / scared of ... <stimulus>"
    ("he hates loud noise", "sensory_processing"),
    ("she can't cope with busy shops", "sensory_processing"),
    ("scared of hand dryers and fireworks", "sensory_processing"),
    ("finds noisy places too much", "sensory_processing"),
    ("covers his ears all the time", "sensory_processing"),
    # eating
    ("he won't eat anything at all", "feeding"),
    ("she refuses food most days", "feeding"),
    ("a very fussy eater", "feeding"),
    ("only eats beige food", "feeding"),
    # born early: words and numbers of weeks
    ("she was born at 27 weeks", "prematurity"),
    ("born at twenty-nine weeks", "prematurity"),
    ("our little 30 weeker", "prematurity"),
    ("he arrived 10 weeks early", "prematurity"),
    ("born early and spent a month in the neonatal unit", "prematurity"),
    # hyperactivity
    ("he can't sit still", "adhd"),
    ("never sits still in lessons", "adhd"),
    ("always on the go, very fidgety", "adhd"),
    # friendship
    ("he has no friends", "semh"),
    ("she struggles to make friends", "semh"),
    ("plays on his own every lunchtime", "semh"),
])
def test_everyday_words_for_needs(vocab, about, need):
    assert need in need_ids(read(vocab, about))


@pytest.mark.parametrize("about", [
    "she was born at 39 weeks", "born at 40 weeks by c-section", "born 2 weeks early",
    "born at 37 weeks",
])
def test_a_baby_born_at_or_near_term_is_not_read_as_premature(vocab, about):
    assert "prematurity" not in need_ids(read(vocab, about))


@pytest.mark.parametrize("about", [
    "he loves loud music", "she likes busy places", "we live near a noisy road",
])
def test_noise_words_without_an_aversion_are_not_a_sensory_need(vocab, about):
    assert "sensory_processing" not in need_ids(read(vocab, about))


@pytest.mark.parametrize(("about", "need"), [
    ("he is alone at playtime every day", "semh"),
    ("she plays on her own at school", "semh"),
    ("he is socially isolated", "semh"),
    ("she is sensitive to light", "sensory_processing"),
    ("he has tactile defensiveness", "sensory_processing"),
    ("she covers her ears in assembly", "sensory_processing"),
    ("he was in NICU for six weeks", "prematurity"),
    ("she was born preterm", "prematurity"),
    ("he is ex-prem", "prematurity"),
    ("he is bouncing off the walls", "adhd"),
    ("she is always on the go", "adhd"),
    ("he is really fidgety", "adhd"),
])
def test_everyday_synonyms_read_as_the_need(vocab, about, need):
    assert need_ids(read(vocab, about)) == [need]


def test_everyday_words_in_the_needs_list_are_read_too(vocab):
    words = read(vocab, needs=["hates loud noise", "born at 28 weeks", "won't eat"])
    assert need_ids(words) == ["sensory_processing", "prematurity", "feeding"]
    assert all(n.listed and n.weight == 1.0 for n in words.needs)
    assert words.unrecognised == ()


# -- everyday words for what the family asks for ------------------------------------------------

@pytest.mark.parametrize(("about", "category", "label"), [
    ("we have money worries", "support_advice", "help with money and benefits"),
    ("we can't afford the bills since I stopped work", "support_advice",
     "help with money and benefits"),
    ("we are struggling financially", "support_advice", "help with money and benefits"),
    ("honestly we need a break", "short_breaks", "a short break"),
    ("I never get any time to myself", "short_breaks", "a short break"),
    ("just a little break now and then would help", "short_breaks", "a short break"),
    ("I need someone to talk to", "health",
     "someone to talk to (counselling or emotional support)"),
    ("she would like to talk to someone", "health",
     "someone to talk to (counselling or emotional support)"),
    ("he has nobody to talk to and neither do I", "support_advice",
     "other parents or someone who understands"),
])
def test_everyday_asks(vocab, about, category, label):
    words = read(vocab, about)
    assert category in words.intent.asked
    assert any(u["kind"] == "ask" and u["id"] == category and u["as"] == label
               for u in words.understood), words.understood


@pytest.mark.parametrize("about", [
    "I feel so alone with all this", "we feel isolated since the diagnosis",
    "there is no one to talk to who gets it",
])
def test_feeling_alone_asks_for_others_who_understand(vocab, about):
    words = read(vocab, about)
    assert "support_advice" in words.intent.asked
    assert any(u["kind"] == "ask" and u["as"] == "other parents or someone who understands"
               for u in words.understood), words.understood


@pytest.mark.parametrize("about", [
    "is there a grant for a sensory room", "can we get disability living allowance for him",
    "we are on universal credit",
])
def test_benefits_words_point_to_support_and_advice(vocab, about):
    assert read(vocab, about).intent.weights.get("support_advice", 0) > 0


@pytest.mark.parametrize("about", [
    "money worries", "we are worried about money", "financial worries keep me up at night",
])
def test_money_worries_are_an_ask_not_anxiety(vocab, about):
    words = read(vocab, about)
    assert "anxiety" not in need_ids(words)
    assert "support_advice" in words.intent.asked


@pytest.mark.parametrize("about", [
    "I just want someone to talk to", "someone to talk to would help",
    "I need to talk to someone",
])
def test_someone_to_talk_to_is_an_ask_not_a_mental_health_need(vocab, about):
    words = read(vocab, about)
    assert "semh" not in need_ids(words)
    assert "health" in words.intent.asked


@pytest.mark.parametrize(("about", "asked"), [
    ("he is autistic, has ADHD and goes to a special school, and we have money worries",
     "support_advice"),
    ("she has cerebral palsy and epilepsy, sees a physio and a paediatrician, we need a break",
     "short_breaks"),
    ("he has Down syndrome and a speech therapist, we are looking for a youth club",
     "leisure"),
])
def test_what_is_asked_for_outweighs_what_is_described(vocab, about, asked):
    intent = read(vocab, about).intent
    vector = dict(zip(vocab.categories, intent.vector(vocab.categories), strict=True))
    assert vector[asked] == 1.0
    assert all(w < 1.0 for c, w in vector.items() if c != asked), vector


# -- in the ranking (the fictional demo directory) --------------------------------------------

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "islington_local_offer.csv"


@pytest.fixture(scope="module")
def demo(postcode_index) -> Matcher:
    if not DEMO.is_file():
        pytest.skip("needs the demo data data/demo/")
    records, _ = read_service_csv(DEMO, progress=False)
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index)


def top(matcher: Matcher, about: str, n: int = 10):
    return matcher.match({"age": 9, "about": about, "postcode": "N7 8JN"},
                         today=TODAY).results[:n]


@pytest.mark.parametrize(("about", "asked"), [
    ("he is autistic and we have money worries", "support_advice"),
    ("autistic boy with ADHD, we really can't afford things at the moment", "support_advice"),
    ("he has autism and sensory needs and we are struggling financially", "support_advice"),
    ("he is autistic and has ADHD and we need a break", "short_breaks"),
    ("autism and epilepsy, I never get time to myself", "short_breaks"),
    ("my autistic son is up all night, just a little break would help", "short_breaks"),
    ("he has ADHD and I need someone to talk to", "health"),
    ("she has dyslexia and anxiety and would like to talk to someone", "health"),
    ("he is autistic, I just want someone to talk to", "health"),
])
def test_the_kind_of_help_asked_for_comes_first(demo, about, asked):
    """The condition words point elsewhere (autism clubs, ADHD groups); the first two
    suggestions are the kind of help the family asked for."""
    results = top(demo, about, 5)
    assert all(asked in r.categories for r in results[:2]), [(r.name, r.categories)
                                                             for r in results]


@pytest.mark.parametrize("about", [
    "he has autism and meltdowns after school",
    "since he started nursery he has been hitting and biting, we think he may be autistic",
    "she has ADHD and is in trouble at school every day",
    "on the way to school he panics, he has anxiety",
])
def test_a_situation_at_school_does_not_fill_the_list_with_schools(demo, about):
    results = top(demo, about)
    schools_only = [r.name for r in results if r.categories == ["education"]]
    assert len(schools_only) <= 2, schools_only
    reasons = [x for r in results for x in r.reasons]
    assert not [x for x in reasons if "school" in x.lower() and ("asked" in x or "your words" in x)]


# -- understood: what each of their words was read as ------------------------------------------

def test_understood_names_the_words_and_what_they_were_read_as(demo):
    out = demo.match({"age": 6, "needs": ["autism"],
                       "about": "hates loud noise, meltdowns after school, money worries",
                       "postcode": "N7 8JN"}, today=TODAY)
    assert out.understood == [
        {"words": "hates loud noise", "as": "Sensory processing difficulties", "kind": "need",
         "id": "sensory_processing"},
        {"words": "meltdowns", "as": "Behaviour that challenges", "kind": "need",
         "id": "behaviour"},
        {"words": "after school", "kind": "situation", "id": "education",
         "as": "when or where things happen, not a request for a school, nursery or college "
               "place"},
        {"words": "money worries", "as": "help with money and benefits", "kind": "ask",
         "id": "support_advice"},
        {"words": "autism", "as": "Autism", "kind": "need", "id": "autism"},
    ]


@pytest.mark.parametrize(("about", "expected"), [
    ("he might be autistic, hates noise", ["autism", "sensory_processing"]),
    ("won't eat and can't sit still", ["feeding", "adhd"]),
    ("born at 30 weeks, now has no friends", ["prematurity", "semh"]),
])
def test_needs_come_in_the_order_the_family_wrote_them(vocab, about, expected):
    words = read(vocab, about)
    assert need_ids(words) == expected
    assert [u["id"] for u in words.understood if u["kind"] == "need"] == expected


def test_described_help_is_not_called_an_ask(vocab):
    words = read(vocab, "he struggles to make friends")
    assert ("friends", "leisure") in kinds(words, "help")
    assert not kinds(words, "ask")


# -- the asks file is checked --------------------------------------------------------------

def test_asks_with_a_bad_shape_are_refused(tmp_path, vocab):
    bad = tmp_path / "intents.yaml"
    bad.write_text("leisure:\n  cues: [fun]\n  asks: {somewhere to go: not-a-list}\n",
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="leisure: asks must be a list of phrases, or "
                                          "plain-English labels each with a list"):
        load_intents(bad, categories=tuple(vocab.categories))
