"""Keep and share: after a search the answers live in the page's address, so a reload, a
bookmark or a shared link opened in a fresh browser gives the same search; the results can be
narrowed without redoing the questionnaire."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

from streamlit.testing.v1 import AppTest
from ui_fake_api import UI_DIR, FakeApi, install, open_page

import questionnaire
from content import Labels
from ui_fake_api import VOCAB

PAGE = "pages/1_Find_support.py"
LABELS = Labels(VOCAB)


def searched() -> tuple[AppTest, FakeApi]:
    at, fake = open_page(PAGE)
    for key, value in (("fs_who", "parent"),):
        at.radio(key=key).set_value(value)
    at.button(key="fs_continue").click().run()
    at.text_input(key="fs_age").input("10")
    at.radio(key="fs_ehcp").set_value("no")
    at.button(key="fs_continue").click().run()
    at.checkbox(key="fs_needs_autism").check().run()
    at.text_input(key="fs_words").input("anxity, likes water")
    at.button(key="fs_continue").click().run()
    at.text_input(key="fs_postcode").input("N7 8JN").run()
    at.button(key="fs_continue").click().run()
    at.radio(key="fs_mode").set_value("walk")
    at.selectbox(key="fs_minutes").set_value(20)
    at.button(key="fs_continue").click().run()
    at.radio(key="fs_transition").set_value("none")
    at.button(key="fs_continue").click().run()
    at.button(key="fs_continue").click().run()
    at.button(key="fs_search").click().run()
    assert not at.exception
    return at, fake


def fresh_browser(params: dict[str, str]) -> tuple[AppTest, FakeApi]:
    """The page opened straight from a link, in a new session."""
    # The app's entry point first (so its pages are registered, as in a browser), then the
    # page with the link's parameters, in one new session.
    at = AppTest.from_file(str(UI_DIR / "Home.py"), default_timeout=30)
    fake = install(at)
    at.run()
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at, fake


def cards(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("### ")]


def test_the_address_holds_the_answers_after_a_search():
    at, _ = searched()
    params = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert params == {"who": "parent", "age": "10", "ehcp": "no", "needs": "autism",
                      "words": "anxity, likes water", "postcode": "N7 8JN", "travel": "walk",
                      "minutes": "20", "move": "none"}


def test_a_shared_link_gives_the_same_search_and_results_in_a_fresh_browser():
    at, fake = searched()
    params = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    again, fake2 = fresh_browser(params)
    assert fake2.requests("POST", "/match") == fake.requests("POST", "/match")
    assert cards(again) == cards(at) and cards(again)
    assert again.header[0].value == "Your suggestions"
    assert "Keep or share these results" in [h.value for h in again.header]
    assert any(m.value.startswith("The address of this page holds your answers")
               for m in again.markdown)


def test_a_damaged_link_is_said_to_be_damaged_and_nothing_is_guessed():
    at, fake = fresh_browser({"who": "parent", "age": "10", "ehcp": "no", "needs": "autism,zzz",
                              "travel": "walk", "minutes": "20", "move": "none",
                              "colour": "red"})
    problem = at.error[0].value
    assert "Part of the link could not be read (needs, colour)" in problem
    assert at.header[0].value == "Check your answers"
    assert fake.requests("POST", "/match") == []
    assert at.session_state["fs_needs"] == ["autism"]


def test_a_link_missing_an_answer_opens_that_step_with_its_error():
    at, fake = fresh_browser({"who": "parent", "needs": "autism"})
    assert at.header[0].value == "About your child"
    assert "Enter your child's age in years" in at.error[0].value
    assert fake.requests("POST", "/match") == []


def test_narrowing_the_results_searches_again_with_the_other_answers_kept():
    at, fake = searched()
    at.checkbox(key="fs_free").check()
    at.multiselect(key="fs_delivery").select("online")
    at.selectbox(key="fs_minutes").set_value(45)
    at.button(key="FormSubmitter:fs_narrow-Show results").click().run()
    first, second = fake.requests("POST", "/match")
    assert second["preferences"]["free_only"] is True
    assert second["preferences"]["delivery"] == ["online"]
    assert second["travel"] == {"mode": "walk", "max_minutes": 45}
    assert {k: v for k, v in second.items() if k not in ("preferences", "travel")} == \
        {k: v for k, v in first.items() if k not in ("preferences", "travel")}
    assert at.query_params["free"] in ("yes", ["yes"])


def test_start_again_clears_the_address():
    at, _ = searched()
    at.button(key="fs_restart").click().run()
    assert not dict(at.query_params)


def test_query_round_trip_keeps_every_answer():
    a = {"fs_who": "young_person", "fs_age": "17", "fs_ehcp": "yes",
         "fs_needs": ["autism", "adhd"], "fs_words": "likes trains, deaf", "fs_postcode": "N7",
         "fs_mode": "public_transport", "fs_minutes": 45, "fs_transition": "secondary_to_post16",
         "fs_free": True, "fs_when": ["weekends", "evenings"], "fs_access": ["quiet_space"],
         "fs_delivery": ["online"], "fs_language": "Turkish"}
    back, bad = questionnaire.from_query(questionnaire.to_query(a), LABELS)
    assert bad == [] and back == a
