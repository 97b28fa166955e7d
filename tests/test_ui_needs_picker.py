"""The needs picker: grouped checkboxes in everyday words that add only what is ticked, and the
needs understood from the family's own words, each removable before searching."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

from pathlib import Path

import yaml
from streamlit.testing.v1 import AppTest
from ui_fake_api import VOCAB, open_page

import needs_picker
import questionnaire

PAGE = "pages/1_Find_support.py"
VOCAB_FILE = Path(__file__).resolve().parents[1] / "data" / "vocabulary.yaml"


def to_needs_step() -> tuple[AppTest, object]:
    at, fake = open_page(PAGE)
    at.radio(key="fs_who").set_value("parent")
    at.button(key="fs_continue").click().run()
    at.text_input(key="fs_age").input("10")
    at.radio(key="fs_ehcp").set_value("no")
    at.button(key="fs_continue").click().run()
    assert at.header[0].value == "Needs"
    return at, fake


def test_every_vocabulary_need_has_exactly_one_checkbox_and_no_unknown_ids():
    needs = yaml.safe_load(VOCAB_FILE.read_text(encoding="utf-8"))["needs"]
    groups = needs_picker.need_groups(needs)
    ids = [nid for _, items in groups for nid, _ in items]
    assert sorted(ids) == sorted(n["id"] for n in needs)
    assert len(ids) == len(set(ids))
    in_file = {nid for g in needs_picker.load_groups() for nid in g["needs"]}
    assert in_file <= {n["id"] for n in needs}, in_file - {n["id"] for n in needs}


def test_abbreviations_on_the_checkboxes_are_spelt_out():
    needs = yaml.safe_load(VOCAB_FILE.read_text(encoding="utf-8"))["needs"]
    texts = {nid: text for _, items in needs_picker.need_groups(needs) for nid, text in items}
    assert texts["sld"].startswith("Severe learning difficulties (SLD): ")
    assert texts["pmld"].startswith("Profound and multiple learning difficulties (PMLD)")
    assert "developmental coordination disorder" in texts["dyspraxia"]
    assert "attention deficit hyperactivity disorder" in texts["adhd"]


def test_a_need_missing_from_the_groups_file_still_appears_last():
    groups = needs_picker.need_groups([*VOCAB["needs"], {"id": "new_need", "label": "New need"}])
    assert groups[-1][1][-1] == ("new_need", "New need")


def test_there_is_no_search_box_that_can_pick_needs():
    at, _ = to_needs_step()
    assert [m.key for m in at.multiselect] == []
    assert [t.key for t in at.text_input] == ["fs_words"]
    assert all(not c.value for c in at.checkbox)
    titles = [e.label for e in at.expander]
    assert titles[0] == "Talking, understanding and getting on with others"


def test_only_the_ticked_needs_are_chosen_and_unticking_removes_one():
    at, fake = to_needs_step()
    at.checkbox(key="fs_needs_autism").check().run()
    at.checkbox(key="fs_needs_anxiety").check().run()
    assert at.session_state["fs_needs"] == ["autism", "anxiety"]
    assert "You have chosen: Autism (autistic), Anxiety, worry or fear." in [
        m.value for m in at.markdown]
    at.checkbox(key="fs_needs_autism").uncheck().run()
    assert at.session_state["fs_needs"] == ["anxiety"]
    assert [c.key for c in at.checkbox if c.value] == ["fs_needs_anxiety"]


def test_partial_words_typed_are_never_turned_into_a_list_of_needs():
    at, fake = to_needs_step()
    at.text_input(key="fs_words").input("autis").run()
    assert "fs_needs" not in at.session_state or not at.session_state["fs_needs"]
    assert all(not c.value for c in at.checkbox)
    assert "You have chosen: nothing yet." in [m.value for m in at.markdown]
    # The typed words go to the search as typed, and nowhere else.
    at.button(key="fs_continue").click().run()
    assert at.header[0].value == "Where you live"
    at.button(key="fs_continue").click().run()
    at.radio(key="fs_mode").set_value("online_only")
    at.button(key="fs_continue").click().run()
    at.radio(key="fs_transition").set_value("none")
    at.button(key="fs_continue").click().run()
    at.button(key="fs_continue").click().run()
    at.button(key="fs_search").click().run()
    (sent,) = fake.requests("POST", "/match")
    assert sent["needs"] == ["autis"]


def test_understood_words_can_be_removed_before_searching():
    at, fake = to_needs_step()
    at.text_input(key="fs_words").input("anxity, hates loud places").run()
    shown = [m.value for m in at.markdown]
    assert "- Anxiety (from \u201canxity\u201d)" in shown
    at.button(key="fs_drop_anxity").click().run()
    assert at.text_input(key="fs_words").value == "hates loud places"
    assert "- Anxiety (from \u201canxity\u201d)" not in [m.value for m in at.markdown]
    at.button(key="fs_continue").click().run()
    assert at.header[0].value == "Where you live"


def test_ticked_needs_survive_going_back_and_forward():
    at, _ = to_needs_step()
    at.checkbox(key="fs_needs_hearing_impairment").check().run()
    at.button(key="fs_continue").click().run()
    at.button(key="fs_back").click().run()
    assert at.checkbox(key="fs_needs_hearing_impairment").value is True
    assert at.session_state["fs_needs"] == ["hearing_impairment"]


def test_removing_a_word_keeps_the_others():
    assert questionnaire.without_word("anxity, loud places; ADHD", "loud places") == \
        "anxity, ADHD"
    assert questionnaire.without_word("a, b", "c") == "a, b"
