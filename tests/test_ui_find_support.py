"""The "Find support" page (AppTest, API faked with httpx.MockTransport): the questionnaire's
steps, its validation messages, Back and "Check your answers", then results with the API's
reasons, the shortlist, feedback and "Why not others?"."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_fake_api import HOME, FakeApi, install, open_page

PAGE = "pages/1_Find_support.py"


@pytest.fixture
def app() -> tuple[AppTest, FakeApi]:
    return open_page(PAGE)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def step(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("Step "))


def forward(at: AppTest) -> AppTest:
    at.button(key="fs_continue").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def answer_all(at: AppTest, *, words: str = "") -> None:
    """Answer every step as a parent of a 10-year-old autistic child in N7 8JN."""
    at.radio(key="fs_who").set_value("parent")
    forward(at)
    at.text_input(key="fs_age").input("10")
    at.radio(key="fs_ehcp").set_value("no")
    forward(at)
    at.checkbox(key="fs_needs_autism").check()
    if words:
        at.text_input(key="fs_words").input(words)
    forward(at)
    at.text_input(key="fs_postcode").input("N7 8JN").run()
    forward(at)
    at.radio(key="fs_mode").set_value("public_transport")
    at.selectbox(key="fs_minutes").set_value(30)
    forward(at)
    at.radio(key="fs_transition").set_value("primary_to_secondary")
    forward(at)
    forward(at)  # preferences are optional


def test_first_step_asks_who_and_needs_an_answer(app):
    at, _ = app
    assert step(at) == "Step 1 of 8"
    assert [r.label for r in at.radio] == ["Who is asking?"]
    assert "fs_back" not in [b.key for b in at.button]  # no Back on the first step
    forward(at)
    assert step(at) == "Step 1 of 8"
    assert errors(at) == ["**There is a problem**\n\n- Select who is asking"]
    assert any("**Error:** Select who is asking" in m.value for m in at.markdown)


@pytest.mark.parametrize(("age", "message"), [
    ("", "Enter your child's age in years, for example 9"),
    ("27", "Age must be a whole number from 0 to 25"),
    ("9y", "Age must be a whole number from 0 to 25"),
])
def test_age_is_checked(app, age, message):
    at, _ = app
    at.radio(key="fs_who").set_value("parent")
    forward(at)
    at.text_input(key="fs_age").input(age)
    at.radio(key="fs_ehcp").set_value("no")
    forward(at)
    assert step(at) == "Step 2 of 8"
    assert errors(at) == [f"**There is a problem**\n\n- {message}"]


def test_young_person_is_asked_about_themselves(app):
    at, _ = app
    at.radio(key="fs_who").set_value("young_person")
    forward(at)
    assert at.header[0].value == "About you"
    assert at.text_input(key="fs_age").label == "How old are you?"
    forward(at)
    assert "Enter your age in years, for example 17" in errors(at)[0]


def test_needs_step_shows_what_was_understood_and_what_was_not(app):
    at, fake = app
    at.radio(key="fs_who").set_value("parent")
    forward(at)
    at.text_input(key="fs_age").input("10")
    at.radio(key="fs_ehcp").set_value("not_sure")
    forward(at)
    forward(at)
    assert "Choose at least one need" in errors(at)[0]
    at.text_input(key="fs_words").input("anxity, hates loud places").run()
    assert "- Anxiety (from \u201canxity\u201d)" in [m.value for m in at.markdown]
    assert any("We did not recognise: \u201chates loud places\u201d" in i.value for i in at.info)
    assert fake.requests("POST", "/needs/normalise") == [
        {"words": ["anxity", "hates loud places"]}]
    forward(at)
    assert step(at) == "Step 4 of 8"


def test_postcode_is_checked_as_typed_and_on_continue(app):
    at, _ = app
    at.radio(key="fs_who").set_value("parent")
    forward(at)
    at.text_input(key="fs_age").input("9")
    at.radio(key="fs_ehcp").set_value("yes")
    forward(at)
    at.checkbox(key="fs_needs_adhd").check()
    forward(at)
    at.text_input(key="fs_postcode").input("N7 9ZZ").run()
    forward(at)
    assert step(at) == "Step 4 of 8"
    assert "'N7 9ZZ' is not a current postcode" in errors(at)[0]
    assert "Did you mean N7 9BZ?" in errors(at)[0]
    at.text_input(key="fs_postcode").input("banana").run()
    forward(at)
    assert "'banana' is not a postcode. A UK postcode looks like N7 8JN." in errors(at)[0]
    at.text_input(key="fs_postcode").input("n78jn").run()
    assert [s.value for s in at.success] == ["We found N7 8JN."]
    forward(at)
    assert step(at) == "Step 5 of 8"


def test_travel_needs_a_time_unless_online_only(app):
    at, _ = app
    at.radio(key="fs_who").set_value("professional")
    forward(at)
    at.text_input(key="fs_age").input("12")
    at.radio(key="fs_ehcp").set_value("no")
    forward(at)
    at.checkbox(key="fs_needs_autism").check()
    forward(at)
    forward(at)  # no postcode: allowed
    forward(at)
    assert "Select how you would usually travel" in errors(at)[0]
    at.radio(key="fs_mode").set_value("car")
    forward(at)
    assert "Select the longest journey that would work for you" in errors(at)[0]
    at.radio(key="fs_mode").set_value("online_only")
    forward(at)
    assert step(at) == "Step 6 of 8"


def test_back_keeps_answers_and_change_returns_to_check(app):
    at, _ = app
    answer_all(at)
    assert at.header[0].value == "Check your answers"
    shown = [m.value for m in at.markdown]
    for expected in ("A parent or carer", "10", "Autism", "N7 8JN",
                     "Bus, train or Tube, up to 30 minutes each way",
                     "Moving to secondary school"):
        assert expected in shown
    at.button(key="fs_back").click().run()
    assert at.header[0].value == "Anything else that matters"
    at.button(key="fs_back").click().run()
    at.button(key="fs_back").click().run()
    assert at.radio(key="fs_mode").value == "public_transport"  # kept while away
    assert at.selectbox(key="fs_minutes").value == 30
    for _ in range(3):
        forward(at)
    assert at.header[0].value == "Check your answers"
    at.button(key="fs_change_Child's age").click().run()
    assert step(at) == "Step 2 of 8"
    assert at.text_input(key="fs_age").value == "10"
    at.text_input(key="fs_age").input("11")
    forward(at)
    assert at.header[0].value == "Check your answers"  # straight back, not to step 3
    assert "11" in [m.value for m in at.markdown]


def test_search_sends_the_profile_and_shows_reasons_verbatim(app):
    at, fake = app
    answer_all(at, words="anxity")
    at.button(key="fs_search").click().run()
    assert not at.exception
    (sent,) = fake.requests("POST", "/match")
    assert sent == {
        "who": "parent", "age": 10, "has_ehcp": False, "needs": ["autism", "anxity"],
        "postcode": "N7 8JN", "travel": {"mode": "public_transport", "max_minutes": 30},
        "transition": "primary_to_secondary",
        "preferences": {"free_only": False, "when": [], "accessibility": [], "delivery": [],
                        "language": None},
        "limit": 10, "explain": "full"}
    text = "\n".join(m.value for m in at.markdown)
    assert "We found **4** suggestions." in text
    assert "### 1. Saturday Sensory Swim" in text
    assert "- Supports autism: you mentioned autism" in text  # the API's words, unchanged
    # Each fact once: the journey and cost are in the reasons, so not repeated as facts
    # (except the cost's details, which the reason does not give).
    assert "- About 10 minutes by bus" in text
    first_card = text.split("### 1. ")[1].split("### 2. ")[0]
    assert "**Travel:**" not in first_card and first_card.count("minutes") == 1
    assert "- **How it is given:** Online" in text  # the online service says so, once
    assert "- **Cost:** Free: Carers go free" in text
    # Tap to call, and directions to the venue.
    assert "Phone [020 7946 0001](tel:+442079460001)" in text
    assert "[Directions to 1 Test Road, London, N7 8JN](https://www.openstreetmap.org/" \
           "directions?to=51.55%2C-0.113)" in text
    assert "- **How to get it:** You can contact them yourself" in text
    assert "- **Last checked:** 1 June 2026" in text
    assert "Questions you could ask" in [e.label for e in at.expander]
    assert any("Waymark SENDIASS is free, confidential and impartial" in i.value for i in at.info)
    # The map is switched off in these tests: the page says the list has every address.
    assert "The map is switched off here." in " ".join(c.value for c in at.caption)


def test_the_map_shows_streets_home_and_numbers_matching_the_list(app, monkeypatch):
    monkeypatch.setenv("MATCHER_MAP_TILES", "http://tiles.test/{z}/{x}/{y}.png")
    monkeypatch.setenv("MATCHER_MAP_ATTRIBUTION", "Tiles from the test server")
    at, _ = app
    answer_all(at)
    at.button(key="fs_search").click().run()
    (html,) = [h.proto.body for h in at.get("html") if "<figure" in h.proto.body]
    assert "background-image:url(http://tiles.test/" in html and ">Home</span>" in html
    # Three results have a venue: markers 1, 2 and 4 (3 is online), as numbered in the list.
    assert [n for n in ("1", "2", "3", "4") if f">{n}</span>" in html] == ["1", "2", "4"]
    assert "Tiles from the test server" in html
    assert 'aria-label="Map of 3 suggested services, numbered as in the list, and your home."' \
        in html
    captions = " ".join(c.value for c in at.caption)
    assert "3 of 4 services have a venue on the map" in captions and "Home" in captions


def test_why_not_others_lists_services_left_out_with_reasons(app):
    at, _ = app
    answer_all(at)
    at.button(key="fs_search").click().run()
    (why,) = [e for e in at.expander if e.label.startswith("Why not others?")]
    assert why.label == "Why not others? (2 services left out)"
    body = "\n".join(m.value for m in why.markdown)
    assert "**Deaf Youth Club**: For ages 11 to 19, but your child is 10" in body


def test_shortlist_add_remove_and_downloads(app):
    at, _ = app
    answer_all(at)
    at.button(key="fs_search").click().run()
    assert "Your shortlist (0)" in [s.value for s in at.header]
    at.button(key="card_sl_T-1").click().run()
    assert "Your shortlist (1)" in [s.value for s in at.header]
    assert at.button(key="card_sl_T-1").label == "Remove from shortlist"
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["Download shortlist (CSV)", "Download printable shortlist (web page)"]
    (mail,) = [m.value for m in at.markdown if m.value.startswith("[E-mail the shortlist]")]
    assert "(mailto:?subject=Our%20shortlist%20of%20SEND%20support&body=" in mail
    assert "Saturday%20Sensory%20Swim" in mail and "020%207946%200001" in mail
    at.button(key="sl_rm_T-1").click().run()
    assert "Your shortlist (0)" in [s.value for s in at.header]
    assert at.button(key="card_sl_T-1").label == "Add to shortlist"


def test_feedback_buttons_post_feedback(app):
    at, fake = app
    answer_all(at)
    at.button(key="fs_search").click().run()
    at.button(key="card_fb_out_of_date_T-2").click().run()
    at.button(key="card_fb_helpful_T-1").click().run()
    assert [{k: v for k, v in f.items() if k != "session"} for f in fake.feedback] == [
        {"service_id": "T-2", "kind": "out_of_date"}, {"service_id": "T-1", "kind": "helpful"}]
    # One random token per browser session, so the API counts a session's feedback once.
    assert len({f["session"] for f in fake.feedback}) == 1
    text = [m.value for m in at.markdown]
    assert "*Thank you: we will ask the provider to check their details.*" in text
    assert "*Thank you: we have noted that this was helpful.*" in text


def test_api_problems_are_shown_at_the_check_step(app):
    at, fake = app
    answer_all(at)
    fake.empty = True
    at.button(key="fs_search").click().run()
    assert at.header[0].value == "Check your answers"
    assert errors(at) == ["**There is a problem**\n\n- The directory is empty: import a Local "
                          "Offer first."]


def test_start_again_forgets_the_answers(app):
    at, _ = app
    answer_all(at)
    at.button(key="fs_search").click().run()
    at.button(key="fs_restart").click().run()
    assert step(at) == "Step 1 of 8"
    assert at.radio(key="fs_who").value is None


def test_api_down_is_said_plainly():
    at = AppTest.from_file(HOME, default_timeout=30)
    install(at, FakeApi(down=True))
    at.run()
    at.switch_page(PAGE).run()
    (message,) = [e.value for e in at.error]
    assert message.startswith("The matching service at http://api.test could not be reached")
    assert "matcher run" in message


def test_answers_and_results_survive_a_visit_to_another_page(app):
    at, _ = app
    answer_all(at)
    at.button(key="fs_search").click().run()
    at.switch_page("Home.py").run()
    assert at.title[0].value == "Find SEND support near you"
    at.switch_page(PAGE).run()
    assert "### 1. Saturday Sensory Swim" in [m.value for m in at.markdown]
    at.button(key="fs_edit").click().run()
    assert at.header[0].value == "Check your answers"
    shown = [m.value for m in at.markdown]
    assert "N7 8JN" in shown and "A parent or carer" in shown and "10" in shown


def test_results_say_what_the_words_were_read_as_and_offer_a_way_to_change_them(app):
    at, fake = app
    fake.extra_understood = [
        {"words": "hates loud noise", "as": "Sensory processing difficulties", "kind": "need",
         "id": "sensory_processing"},
        {"words": "after school", "kind": "situation", "id": "education",
         "as": "when or where things happen, not a request for a school, nursery or college "
               "place"},
        {"words": "money worries", "as": "help with money and benefits", "kind": "ask",
         "id": "support_advice"}]
    answer_all(at, words="hates loud noise")
    at.button(key="fs_search").click().run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "**What we understood from your words**" in text
    assert "- \u201chates loud noise\u201d: we read this as sensory processing difficulties" in text
    assert ("- \u201cafter school\u201d: we read this as when or where things happen, not a "
            "request for a school, nursery or college place") in text
    assert "- \u201cmoney worries\u201d: we read this as asking for help with money and benefits" \
        in text
    assert "\u201cautism\u201d: we read this" not in text  # chosen from the list: not repeated
    at.button(key="fs_fix_words").click().run()
    assert step(at) == "Step 3 of 8"
    assert at.text_input(key="fs_words").value == "hates loud noise"
    forward(at)
    assert at.header[0].value == "Check your answers"  # back to search again


def test_results_without_anything_read_from_words_show_no_understood_block(app):
    at, _ = app
    answer_all(at)
    at.button(key="fs_search").click().run()
    text = "\n".join(m.value for m in at.markdown)
    assert "What we understood from your words" not in text
    assert "fs_fix_words" not in [b.key for b in at.button]
