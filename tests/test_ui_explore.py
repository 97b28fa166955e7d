"""The "Explore with a family" page and the start page (AppTest, API faked)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_fake_api import HOME, FakeApi, install, open_page

PAGE = "pages/2_Explore_with_a_family.py"


@pytest.fixture
def app() -> tuple[AppTest, FakeApi]:
    return open_page(PAGE)


def search(at: AppTest) -> AppTest:
    at.button[0].click().run()  # the form's "Find services"
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_home_links_every_page_and_says_where_to_get_advice():
    at = AppTest.from_file(HOME, default_timeout=30)
    install(at)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Find SEND support near you"
    links = [link.proto.page for link in at.get("page_link")]
    assert links == ["Find_support", "Explore_with_a_family", "Transition_plan",
                     "Gaps_in_provision", "Directory_health", "Staff", "EHC_needs_assessment",
                     "Complain_or_appeal", "Tell_us_what_you_think",
                     "You_said_we_did", "Comments_to_review", "Unmet_demand"]
    assert any("Waymark SENDIASS" in i.value for i in at.info)
    assert "The directory holds 6 services." in [c.value for c in at.caption]


def test_nothing_is_searched_until_the_form_is_sent(app):
    at, fake = app
    assert [i.value for i in at.info][0].startswith("Set the filters above")
    assert fake.requests("POST", "/match") == []


def test_age_is_required(app):
    at, fake = app
    search(at)
    assert [e.value for e in at.error] == [
        "**There is a problem**\n\n- Enter the age in years, from 0 to 25"]
    assert fake.requests("POST", "/match") == []


def test_every_filter_goes_to_the_api_at_once(app):
    at, fake = app
    at.number_input(key="ex_age").set_value(15)
    at.checkbox(key="ex_ehcp").check()
    at.checkbox(key="ex_needs_autism").check()
    at.checkbox(key="ex_needs_hearing_impairment").check()
    at.text_input(key="ex_words").input("tics")
    at.text_area(key="ex_about").input("Likes music.")
    at.text_input(key="ex_postcode").input("N7")
    at.selectbox(key="ex_mode").select("walk")
    at.number_input(key="ex_minutes").set_value(20)
    at.selectbox(key="ex_transition").select("secondary_to_post16")
    at.checkbox(key="ex_free").check()
    at.multiselect(key="ex_categories").select("leisure")
    at.multiselect(key="ex_when").select("weekends")
    at.multiselect(key="ex_delivery").select("in_person")
    at.multiselect(key="ex_access").select("quiet_space")
    at.text_input(key="ex_language").input("Turkish")
    at.number_input(key="ex_limit").set_value(5)
    search(at)
    (sent,) = fake.requests("POST", "/match")
    assert sent == {
        "who": "senco", "age": 15, "has_ehcp": True,
        "needs": ["autism", "hearing impairment (deaf)", "tics"], "about": "Likes music.",
        "postcode": "N7", "travel": {"mode": "walk", "max_minutes": 20.0},
        "transition": "secondary_to_post16",
        "preferences": {"free_only": True, "categories": ["leisure"], "when": ["weekends"],
                        "accessibility": ["quiet_space"], "delivery": ["in_person"],
                        "language": "Turkish"},
        "limit": 5, "explain": "full"}


def test_results_show_the_factor_breakdown(app):
    at, _ = app
    at.number_input(key="ex_age").set_value(10)
    at.checkbox(key="ex_needs_autism").check()
    search(at)
    overview = at.table[0].value
    assert list(overview["Service"])[:2] == ["Saturday Sensory Swim", "Moving Up Club"]
    first = [e for e in at.expander if e.label.startswith("1. Saturday Sensory Swim")][0]
    assert first.label == "1. Saturday Sensory Swim: score 0.900"
    breakdown = first.table[0].value
    assert list(breakdown.index) == ["Need", "Travel", "Freshness"]
    assert list(breakdown["What it means"]) == ["Supports autism", "About 10 minutes",
                                                "Details checked June 2026"]
    assert list(breakdown["Points"]) == [0.3, 0.16, 0.1]
    assert "The bar chart shows the same points as the table above." in [
        c.value for c in first.caption]


def test_compare_needs_two_to_four_services(app):
    at, _ = app
    at.number_input(key="ex_age").set_value(10)
    at.checkbox(key="ex_needs_autism").check()
    search(at)
    compare = at.multiselect(key="ex_compare")
    compare.select("T-1").run()
    assert "Choose 2 to 4 services to compare them side by side." in [i.value for i in at.info]
    at.multiselect(key="ex_compare").select("T-3").run()
    table = at.table[-1].value
    assert list(table.columns) == ["Saturday Sensory Swim", "Calm Minds Group"]
    assert table.loc["Score", "Saturday Sensory Swim"] == "0.900"
    assert table.loc["How to get it", "Calm Minds Group"] == "Your GP needs to refer you"
    assert table.loc["Accessibility", "Saturday Sensory Swim"] == "Sensory-friendly"
    assert table.loc["Points: need", "Saturday Sensory Swim"] == "0.300 (Supports autism)"
    assert table.loc["Points: need", "Calm Minds Group"] == "0 (not scored)"


def test_api_validation_problems_are_listed(app):
    at, _ = app
    at.number_input(key="ex_age").set_value(10)
    at.text_input(key="ex_postcode").input("XX")
    search(at)
    assert [e.value for e in at.error] == [
        "**There is a problem**\n\n- postcode: 'XX' is not a postcode. A UK postcode looks "
        "like N7 8JN."]


def test_filters_and_results_survive_a_visit_to_another_page(app):
    at, _ = app
    at.number_input(key="ex_age").set_value(12)
    at.text_input(key="ex_postcode").input("N7")
    search(at)
    at.switch_page("Home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.number_input(key="ex_age").value == 12
    assert at.text_input(key="ex_postcode").value == "N7"
    assert list(at.table[0].value["Service"])[0] == "Saturday Sensory Swim"


def test_results_say_what_the_familys_words_were_read_as(app):
    at, fake = app
    fake.extra_understood = [
        {"words": "born at 27 weeks", "as": "Premature birth (born early)", "kind": "need",
         "id": "prematurity"},
        {"words": "a break", "as": "a short break", "kind": "ask", "id": "short_breaks"},
        {"words": "friends", "as": "something to do for fun", "kind": "help", "id": "leisure"}]
    at.number_input(key="ex_age").set_value(3)
    at.text_area(key="ex_about").input("born at 27 weeks, no friends yet, we need a break")
    search(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "**Read from the family's words** (change the words above to correct it)" in text
    assert "- \u201cborn at 27 weeks\u201d: we read this as premature birth (born early)" in text
    assert "- \u201ca break\u201d: we read this as asking for a short break" in text
    assert "- \u201cfriends\u201d: we took this as a sign that something to do for fun may help" \
        in text
