"""Co-production's small parts: redaction, settings, demand keys, the CSV export's cells."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher.coprod.comments import _csv_cell
from matcher.coprod.config import CoprodConfig, load_coprod_config
from matcher.coprod.demand import NO_DISTRICT, NO_NEED, band_for_age, demand_keys, district_of
from matcher.coprod.redact import REMOVED, personal_details, redact
from matcher.errors import ConfigError
from matcher.gaps.config import load_gaps_config


@pytest.mark.parametrize("text", [
    "email me at jo.bloggs+send@example.co.uk please",
    "Contact: A.N.Other@example.org.",
    "mum's address is sam_o'neill@example.com",
])
def test_emails_are_removed(text):
    assert "@" not in redact(text) and REMOVED in redact(text)


@pytest.mark.parametrize("text", [
    "ring 07700 900123 after six", "call (020) 7946 0123", "my number is +44 7700 900 123",
    "phone 01632-960-111 today",
])
def test_phone_numbers_are_removed(text):
    out = redact(text)
    assert sum(ch.isdigit() for ch in out) <= 1, out


@pytest.mark.parametrize("text", ["we live at N7 8JN", "postcode n78jn", "near EC1V 2NX now"])
def test_postcodes_are_removed_but_districts_kept(text):
    assert REMOVED in redact(text)
    assert redact("we live in N7") == "we live in N7"


def test_numbers_that_are_not_phones_stay():
    text = "She is 14, in Year 9, and waited 18 months (since 2024)."
    assert redact(text) == text and personal_details(text) == []


def test_marked_phrases_go_whatever_their_case_and_only_as_whole_words():
    text = "Tom and tom's friend Tomas went; TOM BAKER too."
    assert redact(text, ["tom", "Tom Baker"]) == (
        f"{REMOVED} and {REMOVED}'s friend Tomas went; {REMOVED} too.")
    assert redact("St. Mary's School is great", ["St. Mary's"]) == f"{REMOVED} School is great"


def test_settings_are_checked(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="is not a rate"):
        CoprodConfig(anonymous_write_rate="lots")
    bad = tmp_path / "c.toml"
    bad.write_text("[coproduction]\ndemand_min_count = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="demand_min_count"):
        load_coprod_config(bad)
    monkeypatch.setenv("MATCHER_COPROD_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_coprod_config()
    monkeypatch.delenv("MATCHER_COPROD_CONFIG")
    assert load_coprod_config().demand_min_count == 5


def test_demand_keys_hold_codes_band_district_and_month_only():
    bands = load_gaps_config().bands
    keys = demand_keys(["autism", "adhd", "autism"], 9, "n7 8jn", bands, dt.date(2026, 3, 9))
    assert keys == [("autism", "primary", "N7", "2026-03"), ("adhd", "primary", "N7", "2026-03")]
    assert demand_keys([], 30, None, bands, dt.date(2026, 3, 9)) == [
        (NO_NEED, "other", NO_DISTRICT, "2026-03")]
    assert district_of("not a postcode") == NO_DISTRICT and district_of("EC1V") == "EC1V"
    assert band_for_age(16, bands) == "post16"


@pytest.mark.parametrize(("value", "cell"), [("=HYPERLINK(1)", "'=HYPERLINK(1)"),
                                             ("+1", "'+1"), ("-2", "'-2"), ("@x", "'@x"),
                                             ("fine", "fine")])
def test_csv_cells_never_start_a_formula(value, cell):
    assert _csv_cell(value) == cell
