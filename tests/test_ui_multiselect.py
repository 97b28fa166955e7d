"""No multi-choice list of the app offers a bulk "Select all" or "Select N matches" option:
typing part of a word and pressing Enter picks at most the one option highlighted."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

import re
from pathlib import Path

from ui_fake_api import open_page

UI = Path(__file__).resolve().parents[1] / "ui"


def test_every_multiselect_in_the_code_turns_the_bulk_option_off():
    calls = {p.relative_to(UI).as_posix(): re.findall(r"multiselect\((.*?)\)\n", p.read_text(
        encoding="utf-8"), flags=re.S) for p in UI.rglob("*.py")}
    found = {(path, i): "**ONE_BY_ONE" in call for path, found in calls.items()
             for i, call in enumerate(found)}
    assert len(found) >= 9
    assert [k for k, ok in found.items() if not ok] == []


def test_the_explore_page_draws_its_lists_without_the_bulk_option():
    at, _ = open_page("pages/2_Explore_with_a_family.py")
    boxes = list(at.multiselect)
    assert len(boxes) == 4
    assert [b.proto.select_all for b in boxes] == [0, 0, 0, 0]
