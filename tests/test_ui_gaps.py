"""The "Gaps in provision" page (AppTest, API faked) and its pure helpers."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_fake_api import open_page, COMMISSIONER_KEY, COUNCIL, GAP_CELLS, KEY_WORKER_KEY, FakeApi, run

import gaps_view as gv
from client import ApiError, Problem

PAGE = "pages/4_Gaps_in_provision.py"


@pytest.fixture
def app() -> tuple[AppTest, FakeApi]:
    return open_page(PAGE)


def show(at: AppTest, key: str = COMMISSIONER_KEY, districts: str = "N1, n7",
         band: str | None = None) -> AppTest:
    at.text_input(key="api_key_commissioner").input(key)
    run(at)
    at.text_input(key="gp_districts").input(districts)
    if band:
        at.selectbox(key="gp_band").select(band)
    at.button[0].click()  # the form's "Show gaps"
    return run(at)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# ------------------------------------------------------------------ the page
def test_without_a_key_the_page_asks_for_one_and_stops(app):
    at, fake = app
    key = at.text_input(key="api_key_commissioner")
    assert key.proto.type == key.proto.PASSWORD
    assert key.label == "Your API key (commissioner)"
    assert [i.value for i in at.info] == [gv.COMMISSIONERS_ONLY]
    assert "gp_districts" not in [t.key for t in at.text_input]
    assert fake.gap_queries == []


def test_gaps_are_summarised_charted_mapped_and_tabled(app):
    at, fake = app
    show(at, band="primary")
    (sent,) = fake.gap_queries
    assert sent == {"districts": "N1,N7", "level": "sector", "band": "primary",
                    "mode": "public_transport", "limit": "1000"}
    assert errors(at) == []
    assert [s.value for s in at.header] == ["2 gaps and 0 thin cells in 3 areas"]
    assert gv.SUPPRESSION_NOTE in [m.value for m in at.markdown]
    assert "under 10 are suppressed" in gv.SUPPRESSION_NOTE
    assert len(at.get("vega_lite_chart")) == 1
    assert len(at.get("deck_gl_json_chart")) == 1
    (table,) = at.dataframe
    frame = table.value
    assert list(frame["Area"]) == ["N7 8", "N1 1"]
    assert list(frame["Status"]) == ["Gap: no service"] * 2
    assert list(frame["Near misses"]) == [
        "Saturday Sensory Swim (a 52-minute journey, just over the limit)",
        "Moving Up Club (for ages 10 to 11, just outside the band)"]
    # Both areas with gaps were placed on the map through GET /postcodes.
    assert len(fake.requests("GET", "/postcodes/N7 8")) == 1
    assert len(fake.requests("GET", "/postcodes/N1 1")) == 1
    assert "2 of 2 areas with gaps are on the map" in " ".join(c.value for c in at.caption)


def test_csv_download_holds_the_table(app):
    at, _ = app
    show(at)
    (download,) = at.get("download_button")
    assert download.proto.label == "Download the table (CSV)"
    assert len(at.dataframe[0].value) == len(GAP_CELLS)
    csv = gv.gaps_csv(at.dataframe[0].value).decode("utf-8-sig").splitlines()
    assert csv[0] == ("Area,District,Need,Age band,Status,Services,Open to any SEND,"
                      "Longest journey (minutes),"
                      "Near misses")
    assert csv[-1] == "N7 9,N7,ADHD,Secondary (11-15),Thin: few services,1,0,75,"


@pytest.mark.parametrize(("key", "start"), [
    (KEY_WORKER_KEY, gv.COMMISSIONERS_ONLY + " Yours is for another role"),
    ("nonsense", "That API key was not recognised. " + gv.COMMISSIONERS_ONLY),
])
def test_a_key_that_is_not_a_commissioners_is_explained(app, key, start):
    at, _ = app
    show(at, key=key)
    (error,) = errors(at)
    assert error.startswith("**There is a problem**\n\n- " + start)
    assert len(at.dataframe) == 0 and len(at.get("download_button")) == 0


def test_an_unknown_district_shows_the_apis_message(app):
    at, _ = app
    show(at, districts="N7, ZZ9")
    assert errors(at) == ["**There is a problem**\n\n- districts: 'ZZ9' is not a postcode "
                          "district. Give districts such as N7 or EC1V."]
    assert len(at.dataframe) == 0


def test_areas_are_required_before_asking_the_api(app, monkeypatch):
    monkeypatch.setitem(COUNCIL, "districts", [])   # the council gives no districts
    at, fake = app
    show(at, districts="")
    assert errors(at) == ["**There is a problem**\n\n- Enter postcode districts (for example "
                          "N1,N7) or a postcode to search around."]
    assert fake.gap_queries == []


def test_around_a_postcode_sends_the_radius(app):
    at, fake = app
    at.text_input(key="api_key_commissioner").input(COMMISSIONER_KEY)
    run(at)
    at.text_input(key="gp_around").input("N7 8JN")
    at.number_input(key="gp_radius").set_value(2.5)
    at.radio(key="gp_level").set_value("district")
    at.selectbox(key="gp_need").select("autism")
    at.button[0].click()
    run(at)
    (sent,) = fake.gap_queries
    assert sent["around"] == "N7 8JN" and sent["radius_km"] == "2.5"
    assert sent["level"] == "district" and sent["need"] == "autism" and "districts" not in sent
    assert [s.value for s in at.header] == ["2 gaps and 0 thin cells in 3 areas"]


# ------------------------------------------------------------------ pure helpers
def test_key_problem_keeps_the_apis_words_for_other_errors():
    bad = ApiError(422, "x", [Problem("around", "around: 'Q' is not a postcode.")])
    assert gv.key_problem(bad) == ["around: 'Q' is not a postcode."]
    assert gv.key_problem(ApiError(503, "The directory is empty.")) == [
        "The directory is empty."]


def test_both_districts_and_a_postcode_is_refused():
    params, problems = gv.gaps_params({"gp_districts": "N7", "gp_around": "N7 8JN"})
    assert params is None
    assert problems == ["Enter postcode districts or a postcode to search around, not both."]


def test_heatmap_counts_gap_bands_per_area_and_need():
    heat = gv.heatmap_frame({"results": GAP_CELLS})
    got = {(r.Area, r.Need): (r.Gaps, r.Thin, r.Label) for r in heat.itertuples()}
    assert got == {("N7 8", "Autism"): (2, 0, "2"), ("N1 1", "ADHD"): (1, 0, "1"),
                   ("N7 9", "ADHD"): (0, 1, "0")}
    spec = gv.heatmap_chart(heat).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rect", "text"]  # a number is written on every coloured square


def test_summary_line_uses_singulars():
    assert gv.summary_line({"gaps": 12, "thin": 30, "areas": 54}) == \
        "12 gaps and 30 thin cells in 54 areas"
    assert gv.summary_line({"gaps": 1, "thin": 1, "areas": 1}) == \
        "1 gap and 1 thin cell in 1 area"


def test_demand_and_missing_comments_are_shown_beside_the_gaps(app):
    at, fake = app
    fake.demand = {"cells": [{"need": "autism", "need_label": "Autism", "band": "primary",
                              "band_label": "Primary (5-10)", "district": "N7",
                              "searches": 10}],
                   "missing_by_theme": [{"theme": "Short breaks", "comments": 5}], "notes": []}
    show(at)
    assert errors(at) == []
    gaps_table, demand, missing = (d.value for d in at.dataframe)
    assert len(gaps_table) == len(GAP_CELLS)
    assert demand.to_dict("records") == [{"Need": "Autism", "Age band": "Primary (5-10)",
                                          "District": "N7", "Searches that found little": 10}]
    assert missing.to_dict("records") == [{"Theme": "Short breaks", "Comments": 5}]
    assert "Unmet demand: searches that found little" in [s.value for s in at.subheader]


def test_with_no_area_given_the_councils_own_districts_are_analysed(app, monkeypatch):
    monkeypatch.setitem(COUNCIL, "districts", ["N1", "N7"])
    at, fake = app
    at.text_input(key="api_key_commissioner").input(COMMISSIONER_KEY)
    run(at)
    at.button[0].click()
    run(at)
    (sent,) = fake.gap_queries
    assert sent["districts"] == "N1,N7"   # the council's districts (GET /council)
    assert errors(at) == []
