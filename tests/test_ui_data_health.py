"""The "Directory health" page (AppTest, API faked) and its pure helpers."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_fake_api import (open_page, ADMIN_KEY, COMMISSIONER_KEY, DATA_HEALTH, DATA_HEALTH_CSV,
                         FakeApi, run)

import health_view as hv

PAGE = "pages/5_Directory_health.py"


@pytest.fixture
def app() -> tuple[AppTest, FakeApi]:
    return open_page(PAGE)


def enter(at: AppTest, key: str) -> AppTest:
    at.text_input(key="api_key_admin").input(key)
    return run(at)


def frame(at: AppTest, first: str, last: str):
    """The table whose first and last columns are these (AppTest does not expose a
    dataframe's key)."""
    (found,) = [d.value for d in at.dataframe
                if (d.value.columns[0], d.value.columns[-1]) == (first, last)]
    return found


def test_without_a_key_the_page_asks_for_one_and_stops(app):
    at, fake = app
    key = at.text_input(key="api_key_admin")
    assert key.proto.type == key.proto.PASSWORD
    assert key.label == "Your API key (admin)"
    assert [i.value for i in at.info] == [hv.ADMINS_ONLY]
    assert fake.requests("GET", "/admin/data-health") == []
    assert len(at.dataframe) == 0


def test_an_admin_sees_the_fields_the_records_to_fix_and_the_conflicts(app):
    at, fake = app
    enter(at, ADMIN_KEY)
    assert len(fake.requests("GET", "/admin/data-health")) == 1
    assert len(fake.requests("GET", "/admin/data-health.csv")) == 1
    assert [e.value for e in at.error] == []
    assert [s.value for s in at.header] == [
        "6 active records checked on 1 November 2026; 2 to fix"]
    headings = [m.value for m in at.markdown if m.value.startswith("###")]
    assert headings == ["### How complete each field is", "### Records to fix first",
                        "### Records with no age and no needs",
                        "### Conflicts between the words and the fields"]
    captions = [c.value for c in at.caption]
    assert all(c.startswith("Table: ") for c in captions)
    assert len(captions) == len(at.dataframe)  # every table has a caption

    fields = frame(at, "Field", "Unknown (%)")
    assert list(fields.columns) == ["Field", "Stated", "Stated (%)", "Read from the description",
                                    "Read from the description (%)", "Unknown", "Unknown (%)"]
    ages = fields.iloc[0].tolist()
    assert ages == ["Youngest age", 4, 66.7, 1, 16.7, 1, 16.7]

    fix = frame(at, "Order", "What to add")
    assert list(fix["ID"]) == ["T-9", "T-1"] and list(fix["Score"]) == [65, 15]
    assert fix["What to add"][0].startswith("1. Say which ages the service is for")
    assert "2. Say which needs" in fix["What to add"][0]

    conflicts = frame(at, "ID", "Their words")
    assert conflicts.iloc[0].tolist() == [
        "T-1", "Saturday Sensory Swim", "Ages", "5 to 16", "5 to 11",
        "\u201cchildren aged 5 to 11\u201d (from the description)"]
    assert list(frame(at, "ID", "Organisation")["ID"]) == ["T-9"]
    assert "1 inactive record (withdrawn or paused, never suggested to families) are left out." \
        in [m.value for m in at.markdown]


def test_the_csv_download_holds_the_apis_csv(app):
    at, _ = app
    enter(at, ADMIN_KEY)
    (download,) = at.get("download_button")
    assert download.proto.label == "Download every record to fix (CSV for providers)"
    assert at.session_state["dh_csv"] == DATA_HEALTH_CSV


def test_check_again_asks_the_api_again(app):
    at, fake = app
    enter(at, ADMIN_KEY)
    at.button(key="dh_refresh").click()
    run(at)
    assert len(fake.requests("GET", "/admin/data-health")) == 2


@pytest.mark.parametrize(("key", "start"), [
    (COMMISSIONER_KEY, hv.ADMINS_ONLY + " Yours is for another role"),
    ("nonsense", "That API key was not recognised. " + hv.ADMINS_ONLY),
])
def test_a_key_that_is_not_an_admins_is_explained(app, key, start):
    at, _ = app
    enter(at, key)
    (error,) = [e.value for e in at.error]
    assert error.startswith("**There is a problem**\n\n- " + start)
    assert len(at.dataframe) == 0 and len(at.get("download_button")) == 0


def test_helpers_lay_out_the_answer():
    weights = hv.weights_frame(DATA_HEALTH)
    assert list(weights["Points"]) == [40, 25, 15]
    assert weights["What is missing or wrong"][0] == "No age at all"
    assert hv.summary_line({**DATA_HEALTH, "to_fix_total": 0}).endswith("none to fix")
    assert hv.to_fix_frame({"to_fix": []}).empty
