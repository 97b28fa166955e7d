"""Tests for matcher.vocab: loading and validating the vocabulary, normalising needs, and
reading needs (and refusals) in provider descriptions."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import matcher.vocab as vocab_module
from matcher.errors import ConfigError, MatcherError
from matcher.vocab import (
    ALL_SEND,
    CONTRACT_VALUES,
    DEFAULT_VOCABULARY_PATH,
    Need,
    NeedMatch,
    Normalised,
    TextNeeds,
    Vocabulary,
    load_vocabulary,
)


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="module")
def raw_yaml() -> dict:
    return yaml.safe_load(DEFAULT_VOCABULARY_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict, name: str = "vocab.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Public surface and loading
# ---------------------------------------------------------------------------------------------


def test_public_surface() -> None:
    for name in vocab_module.__all__:
        assert hasattr(vocab_module, name), name
    assert {"Need", "NeedMatch", "Normalised", "TextNeeds", "Vocabulary",
            "load_vocabulary"} <= set(vocab_module.__all__)


def test_default_file_loads_and_is_cached(vocab: Vocabulary) -> None:
    assert DEFAULT_VOCABULARY_PATH.is_file()
    assert load_vocabulary() is vocab
    assert isinstance(vocab.needs["autism"], Need)


def test_areas_and_dfe_types_are_all_there(vocab: Vocabulary) -> None:
    assert vocab.areas == {
        "ci": "Communication and interaction",
        "cl": "Cognition and learning",
        "semh": "Social, emotional and mental health",
        "sp": "Sensory and/or physical",
    }
    codes = {n.code for n in vocab.needs.values()}
    for code in ("SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD",
                 "DS", "OTH"):
        assert code in codes, f"no need carries the DfE code {code}"
    assert set(vocab.needs["pmld"].areas) == {"cl", "sp"}
    assert vocab.needs["autism"].code == "ASD"
    assert vocab.needs["autism"].phrase == "autistic children and young people"


def test_needs_named_in_the_brief_exist(vocab: Vocabulary) -> None:
    wanted = {
        "autism", "adhd", "dyslexia", "dyscalculia", "dysgraphia", "dyspraxia", "slcn",
        "selective_mutism", "down_syndrome", "cerebral_palsy", "physical_disability", "epilepsy",
        "medical", "gdd", "sensory_processing", "anxiety", "depression", "self_harm",
        "eating_disorder", "attachment_trauma", "school_avoidance", "tourettes", "abi",
        "hearing_impairment", "vision_impairment", "multi_sensory_impairment",
        "learning_disability", "mld", "sld", "pmld", "spld", "semh", "behaviour", "other",
    }
    assert wanted <= set(vocab.needs)
    assert ALL_SEND not in vocab.needs  # a special id, handled through label_of/areas_of


def test_closed_vocabularies_have_every_contract_value(vocab: Vocabulary) -> None:
    for name, values in CONTRACT_VALUES.items():
        labels = getattr(vocab, name)
        assert set(values) <= set(labels), name
        assert all(isinstance(v, str) and v.strip() for v in labels.values())
    assert vocab.cost["free_for_some"] == "Free for some families"
    assert vocab.travel_modes["online_only"]


def test_lookups(vocab: Vocabulary) -> None:
    assert vocab.areas_of("pmld") == ("cl", "sp")
    assert vocab.areas_of("area:ci") == ("ci",)
    assert vocab.areas_of(ALL_SEND) == ("ci", "cl", "semh", "sp")
    assert vocab.areas_of("no_such_need") == ()
    assert vocab.label_of("area:sp") == "Sensory and/or physical"
    assert vocab.label_of("autism") == "Autism"
    assert vocab.phrase_of(ALL_SEND) == "children and young people with any SEND"
    assert vocab.broader_of("cerebral_palsy") == ("physical_disability",)
    assert vocab.broader_of("autism") == ("neurodevelopmental",)
    assert "dyslexia" in vocab.in_area("area:cl")
    assert vocab.is_known("area:semh") and vocab.is_known(ALL_SEND)
    assert not vocab.is_known("area:xx")


def test_learning_disability_and_difficulty_stay_distinct(vocab: Vocabulary) -> None:
    assert vocab.normalise("learning disability").needs == ["learning_disability"]
    assert vocab.normalise("learning difficulties").needs == ["area:cl"]
    assert vocab.normalise("specific learning difficulties").needs == ["spld"]
    assert vocab.normalise("MLD").needs == ["mld"]
    assert vocab.normalise("SLD").needs == ["sld"]
    assert vocab.normalise("PMLD").needs == ["pmld"]


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def test_broken_file_reports_both_problems_at_once(tmp_path: Path, raw_yaml: dict) -> None:
    data = copy.deepcopy(raw_yaml)
    adhd = next(n for n in data["needs"] if n["id"] == "adhd")
    adhd["synonyms"].append("autism")           # problem 1: one word, two needs
    dyslexia = next(n for n in data["needs"] if n["id"] == "dyslexia")
    dyslexia["areas"] = ["cl", "maths"]         # problem 2: unknown area
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_vocabulary(path)
    message = str(info.value)
    assert "2 problems" in message
    assert "'autism'" in message and "need 'autism'" in message and "need 'adhd'" in message
    assert "unknown area 'maths'" in message and "need 'dyslexia'" in message
    assert str(path) in message


def test_missing_fields_unknown_code_and_bad_broader(tmp_path: Path, raw_yaml: dict) -> None:
    data = copy.deepcopy(raw_yaml)
    data["needs"].append({"id": "new_need", "synonyms": ["zorgle syndrome"], "code": "XYZ",
                          "broader": ["nowhere"], "synonmys": ["typo"]})
    del data["categories"]["travel"]
    with pytest.raises(ConfigError) as info:
        load_vocabulary(_write(tmp_path, data))
    message = str(info.value)
    assert "need 'new_need' is missing the fields label, phrase, areas" in message
    assert "unknown DfE code 'XYZ'" in message
    assert "unknown broader need 'nowhere'" in message
    assert "unknown field(s) synonmys" in message
    assert "'categories' is missing the contract value 'travel'" in message


def test_duplicate_yaml_keys_and_duplicate_ids_are_reported(tmp_path: Path) -> None:
    text = DEFAULT_VOCABULARY_PATH.read_text(encoding="utf-8")
    text = text.replace("  free: Free\n", "  free: Free\n  free: Free of charge\n")
    text = text.replace("needs:\n", "needs:\n  - {id: autism, label: Autism again, phrase: x, "
                        "areas: [ci], synonyms: [autismo]}\n", 1)
    path = tmp_path / "dupes.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_vocabulary(path)
    message = str(info.value)
    assert "the key 'free' appears twice" in message
    assert "the need id 'autism' is defined twice" in message


def test_unreadable_files_raise_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_vocabulary(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("needs: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_vocabulary(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="section 'needs' is missing"):
        load_vocabulary(empty)
    assert issubclass(ConfigError, MatcherError)


def test_matching_settings_are_bounded(tmp_path: Path, raw_yaml: dict) -> None:
    data = copy.deepcopy(raw_yaml)
    data["matching"]["fuzzy_threshold"] = 150
    data["matching"]["speed"] = "fast"
    with pytest.raises(ConfigError) as info:
        load_vocabulary(_write(tmp_path, data))
    assert "matching.fuzzy_threshold must be a number from 50 to 100" in str(info.value)
    assert "matching.speed is not a known setting" in str(info.value)


def test_a_local_authority_can_extend_the_file(tmp_path: Path, raw_yaml: dict) -> None:
    data = copy.deepcopy(raw_yaml)
    data["needs"].append({
        "id": "hypermobility_local", "label": "Hypermobility clinic need",
        "phrase": "children seen by the hypermobility clinic", "areas": ["sp"], "code": None,
        "synonyms": ["benign joint hypermobility syndrome", "BJHS"],
    })
    data["categories"]["youth"] = "Youth services"
    extended = load_vocabulary(_write(tmp_path, data))
    assert extended.normalise("BJHS").needs == ["hypermobility_local"]
    assert extended.categories["youth"] == "Youth services"
    assert extended is not load_vocabulary()


# ---------------------------------------------------------------------------------------------
# normalise
# ---------------------------------------------------------------------------------------------


def test_exact_matches_have_full_confidence(vocab: Vocabulary) -> None:
    result = vocab.normalise("ASC")
    assert result.matches == [NeedMatch("ASC", "autism", 1.0, "exact")]
    assert result.unrecognised == []


def test_fuzzy_matches_have_lower_confidence(vocab: Vocabulary) -> None:
    (match,) = vocab.normalise("dyslexai").matches
    assert match.need == "dyslexia" and match.method == "fuzzy"
    assert 0.85 <= match.confidence < 1.0


def test_phrase_inside_longer_text(vocab: Vocabulary) -> None:
    (match,) = vocab.normalise("my son is on the spectrum").matches
    assert (match.need, match.method, match.text) == ("autism", "phrase",
                                                      "my son is on the spectrum")
    assert match.confidence == vocab.phrase_confidence < 1.0


def test_unrecognised_words_are_kept_as_written(vocab: Vocabulary) -> None:
    result = vocab.normalise("autism; Zorgle-Blix syndrome, ADHD")
    assert result.needs == ["autism", "adhd"]
    assert result.unrecognised == ["Zorgle-Blix syndrome"]


def test_string_is_split_but_known_phrases_stay_whole(vocab: Vocabulary) -> None:
    assert vocab.normalise("speech and language").needs == ["slcn"]
    assert vocab.normalise("autism, speech and language and ADHD").needs == [
        "autism", "slcn", "adhd"]
    assert vocab.normalise("dyslexia/dyspraxia\nanxiety").needs == [
        "dyslexia", "dyspraxia", "anxiety"]
    assert vocab.normalise("Speech, language and communication needs").needs == ["slcn"]
    assert vocab.normalise("sensory and/or physical").needs == ["area:sp"]


def test_list_input_and_order_of_first_mention(vocab: Vocabulary) -> None:
    result = vocab.normalise(["ADHD", "autism", "ASD", "anxiety, ADHD"])
    assert result.needs == ["adhd", "autism", "anxiety"]
    assert isinstance(result, Normalised)
    assert [m.text for m in result.matches][:3] == ["ADHD", "autism", "ASD"]


def test_question_marks_and_filler_are_tolerated(vocab: Vocabulary) -> None:
    assert vocab.normalise("dyslexia?").needs == ["dyslexia"]
    assert vocab.normalise("autism etc.").needs == ["autism"]
    assert vocab.normalise("n/a").matches == [] and vocab.normalise("n/a").unrecognised == []
    assert vocab.normalise("").matches == []
    assert vocab.normalise(["", "  ", "?"]).unrecognised == []


def test_combination_words_give_two_needs(vocab: Vocabulary) -> None:
    result = vocab.normalise("mild learning disability")
    assert result.needs == ["mld", "learning_disability"]
    assert all(m.confidence == 1.0 for m in result.matches)


def test_short_codes_are_not_fuzzy_or_found_inside_words(vocab: Vocabulary) -> None:
    assert vocab.normalise("ASX").matches == []          # too short to be a misspelling of ASC
    assert vocab.normalise("our mascot is a dog").needs == []
    assert vocab.normalise("hi there").needs == []
    assert vocab.normalise("artistic").needs == []       # one letter from "autistic"
    assert vocab.normalise("possible asd").needs == ["autism"]


# ---------------------------------------------------------------------------------------------
# find_in_text
# ---------------------------------------------------------------------------------------------

#: Realistic provider sentences: (text, needs that must be excluded, needs that must be
#: mentioned). None of the excluded needs may also be mentioned.
NEGATIONS: list[tuple[str, set[str], set[str]]] = [
    ("We do not see children with sensory processing difficulties alone; please contact the "
     "Sensory Advice Line.", {"sensory_processing"}, set()),
    ("This group is not suitable for children with PMLD.", {"pmld"}, set()),
    ("Brookmere is not the right setting for pupils whose primary need is SLD or PMLD. "
     "We teach autistic students.", {"sld", "pmld"}, {"autism"}),
    ("Please note: the service does not offer ADHD or autism assessments.",
     {"adhd", "autism"}, set()),
    ("We are unable to support children who need tube feeding or oxygen.", {"medical"}, set()),
    ("ADHD and autism assessments are NOT carried out by this team; these are done by the "
     "paediatric service. We see young people with anxiety and low mood.",
     {"adhd", "autism"}, {"anxiety", "depression"}),
    ("Open to all SEND except PMLD.", {"pmld"}, {ALL_SEND}),
    ("We cannot accept referrals for children with a hearing impairment, but we do work with "
     "children who have a visual impairment.", {"hearing_impairment"}, {"vision_impairment"}),
    ("Our staff are not trained to support children with epilepsy.", {"epilepsy"}, set()),
    ("This line is for advice only - we do not diagnose dyslexia.", {"dyslexia"}, set()),
    ("Sadly we can't cater for wheelchair users at this venue.", {"physical_disability"}, set()),
    ("The club is not for children with challenging behaviour.", {"behaviour"}, set()),
]


@pytest.mark.parametrize(("text", "excluded", "mentioned"), NEGATIONS)
def test_find_in_text_reads_refusals(vocab: Vocabulary, text: str, excluded: set[str],
                                     mentioned: set[str]) -> None:
    found = vocab.find_in_text(text)
    assert isinstance(found, TextNeeds)
    assert set(found.excluded) == excluded
    assert mentioned <= set(found.mentioned)
    assert not set(found.mentioned) & set(found.excluded)


@pytest.mark.parametrize("text", [
    "For children with autism, whether or not they have a diagnosis.",
    "No diagnosis needed: children with ADHD-type difficulties are welcome.",
    "You don't need an EHCP. We support young people with dyslexia.",
    "A not-for-profit club for autistic children.",
    "Children with cerebral palsy who are not able to walk are very welcome.",
    "For deaf children who cannot hear the teacher without support.",
    "Sessions for blind children who are not able to see the board.",
    "Young people with anxiety who don't see friends much are welcome.",
])
def test_harmless_negations_do_not_exclude(vocab: Vocabulary, text: str) -> None:
    found = vocab.find_in_text(text)
    assert found.excluded == []
    assert found.mentioned


def test_find_in_text_for_a_familys_own_words(vocab: Vocabulary) -> None:
    story = "School doesn't support his dyslexia and CAMHS won't assess him for ADHD."
    assert set(vocab.find_in_text(story).excluded) == {"dyslexia", "adhd"}
    found = vocab.find_in_text(story, detect_exclusions=False)
    assert found.mentioned == ["dyslexia", "adhd"] and found.excluded == []


def test_find_in_text_mentions_in_order(vocab: Vocabulary) -> None:
    found = vocab.find_in_text(
        "Karate for children with ADHD, ASD, dyspraxia or low confidence. Downs and CP welcome.")
    assert found.mentioned == ["adhd", "autism", "dyspraxia", "semh", "down_syndrome",
                               "cerebral_palsy"]
    assert found.excluded == []


def test_find_in_text_is_word_boundary_and_case_safe(vocab: Vocabulary) -> None:
    found = vocab.find_in_text(
        "Say hi to Max, our mascot! We add new dates each term, and the ups and downs of "
        "family life are normal. Send us an email. Sensory room and quiet den available.")
    assert found.mentioned == [] and found.excluded == []
    assert vocab.find_in_text("SEN swim for HI and VI pupils").mentioned == [
        ALL_SEND, "hearing_impairment", "vision_impairment"]
    assert vocab.find_in_text("Assessments for dyslexia and other SpLDs").mentioned == [
        "dyslexia", "spld"]


def test_find_in_text_accessibility(vocab: Vocabulary) -> None:
    found = vocab.find_in_text(
        "Quiet swim with a pool hoist. Please note there is no Changing Places toilet at this "
        "site - the nearest is at Millpond Pools.")
    assert found.accessibility_excluded == ["changing_places"]
    assert "changing_places" not in found.accessibility_mentioned
    assert vocab.find_in_text("A Victorian house over three floors and there is no lift."
                              ).accessibility_excluded == ["wheelchair"]
    assert vocab.find_in_text("Fully accessible, with a Changing Places toilet."
                              ).accessibility_mentioned == ["wheelchair", "changing_places"]


def test_find_in_text_on_empty_text(vocab: Vocabulary) -> None:
    assert vocab.find_in_text("") == TextNeeds([], [])


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

_WORDS = ["autism", "ADHD", "not", "suitable", "for", "we", "do", "offer", "and", ",", ";",
          "PMLD", "children", "with", "except", "dyslexia", "cannot", "support", "deaf",
          "whether", "or", "zorgle", ".", "SEND", "speech", "language", "/", "?", "tube", "fed"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=20))
def test_find_in_text_never_overlaps(words: list[str]) -> None:
    found = load_vocabulary().find_in_text(" ".join(words))
    assert not set(found.mentioned) & set(found.excluded)
    assert len(found.mentioned) == len(set(found.mentioned))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_normalise_keeps_what_it_does_not_understand(text: str) -> None:
    vocab = load_vocabulary()
    result = vocab.normalise(text)
    for piece in result.unrecognised:
        assert piece and piece in text
    for match in result.matches:
        assert vocab.is_known(match.need)
        assert 0.0 < match.confidence <= 1.0
        assert match.method in {"exact", "phrase", "fuzzy"}
