"""Real council feeds imported whole: North Lincolnshire's ORUK v1 feed (Open Place) and
Buckinghamshire's Outpost page, read from ../shared (skipped, saying why, when it is absent).
Nothing of either is copied into the project."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.ingest import detect_format, read_feed
from matcher.ingest.oruk1 import audience_tags
from matcher.ingest.text import clean_text
from matcher.store import Store
from matcher.vocab import load_vocabulary

SHARED = Path(__file__).resolve().parents[2] / "shared"
NORTH_LINCS = SHARED / "real-samples" / "north-lincs-oruk-v1" / "services.json"
TODAY = dt.date(2026, 12, 7)
_TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>")

needs_sample = pytest.mark.skipif(
    not NORTH_LINCS.exists(),
    reason=f"the real North Lincolnshire sample is not at {NORTH_LINCS} (../shared is absent)")


@pytest.fixture(scope="module")
def north_lincs(postcode_index):
    raw = json.loads(NORTH_LINCS.read_text(encoding="utf-8"))
    records, report = read_feed(raw, today=TODAY)
    return raw, {r.id: r for r in records}, report


@needs_sample
def test_the_feed_is_recognised_as_oruk_version_1(north_lincs):
    raw, _, report = north_lincs
    assert detect_format(raw) == "oruk1" and report.format == "oruk1"


@needs_sample
def test_at_least_995_per_cent_imported_and_only_id_name_repeats_rejected(north_lincs):
    raw, records, report = north_lincs
    assert report.rows_read == len(raw)
    assert len(records) / len(raw) >= 0.995
    assert len(records) + report.rejected == len(raw)
    for p in report.problems:
        assert p.column in ("id", "name") and p.fix
        assert ("no id" in p.problem or "no name" in p.problem or "already used" in p.problem)


@needs_sample
def test_no_description_holds_html(north_lincs):
    raw, records, _ = north_lincs
    assert sum(bool(_TAG.search(s["description"])) for s in raw) > 100   # the feed is HTML
    for r in records.values():
        assert not _TAG.search(r.description), r.id
        assert "&amp;" not in r.description and "&nbsp;" not in r.description
    # Lists survive as list items.
    assert sum("\n- " in r.description for r in records.values()) > 20


def _read_from_words(record, field):
    """The values of ``field`` the reading step filled, each with the words it quotes."""
    out = []
    for f in record.facts:
        if f["field"] == field and f["used"]:
            text = {"name": record.name, "description": record.description}.get(f["source"], "")
            assert f["quote"] and f["quote"] in text, (record.id, f)   # verbatim, traceable
            out.append(f["value"])
    return out


@needs_sample
def test_delivery_is_known_only_where_the_record_states_it(north_lincs):
    raw, records, _ = north_lincs
    stated = {"venue": "in_person", "phone": "phone", "online": "online",
              "home visit": "home_visit"}
    for s in raw:
        r = records[f"oruk:{s['id']}"]
        said = stated.get(s.get("attending_type", "").strip().lower())
        if said:
            assert r.delivery == [said], (s["name"], s.get("attending_type"))
        else:
            # No field: known only from the record's own words, each value quoted.
            assert r.delivery == list(dict.fromkeys(_read_from_words(r, "delivery"))), s["name"]
    assert sum(not r.delivery for r in records.values()) > len(records) / 2


@needs_sample
def test_every_audience_tag_is_mapped_or_listed(north_lincs):
    raw, records, report = north_lincs
    vocab = load_vocabulary()
    unmapped = {k.split(": ", 1)[1] for k in report.unmapped_terms if k.startswith("audience: ")}
    seen = 0
    for s in raw:
        r = records[f"oruk:{s['id']}"]
        for tag in audience_tags(s):
            seen += 1
            parts = [p for p in re.split(r"\s*>\s*|/", tag.text) if p.strip()]
            mapped = any(vocab.audience_of(p) in r.audience for p in parts) or any(
                set(vocab.normalise(p).needs) & set(r.needs) for p in parts)
            assert mapped or tag.text in unmapped, tag.text
    assert seen > 100
    autism = [r for r in records.values() if "autism" in r.needs]
    # each from a tag it carries, or from the words saying who it is for (quoted)
    assert autism and all(r.needs_raw or any(f["used"] and f["field"] == "needs"
                                             for f in r.facts) for r in autism)


@needs_sample
def test_no_record_has_invented_ages_or_cost(north_lincs):
    raw, records, report = north_lincs
    # The list payload has no age, cost or area fields: each is unknown unless the record's
    # own words (or its organisation's words about itself) state it, and then it is kept
    # with the quote it came from.
    organisation_words = {f"oruk:{s['id']}": clean_text((s.get("organization") or {}).get(
        "description") or "") for s in raw}
    for r in records.values():
        read = [f for f in r.facts if f["used"] and f["field"] in
                ("min_age", "max_age", "child_ages", "adults_only")]
        if r.min_age is not None or r.max_age is not None:
            assert read, r.id
            assert all(f["quote"] in (organisation_words[r.id] if f["source"] == "organisation"
                                      else r.name + "\n" + r.description) for f in read), r.id
        if r.cost is not None:
            assert r.cost in _read_from_words(r, "cost"), r.id
        assert r.service_area == []
    assert sum(r.min_age is None and r.max_age is None for r in records.values()) > len(records) / 2
    assert report.fields["min_age"]["given"] < len(records) / 2
    assert report.fields["needs"]["given"] > 0


@needs_sample
def test_cli_imports_the_whole_feed_and_reports_fields(tmp_path, capsys, postcode_index):
    url = f"sqlite:///{tmp_path / 'nl.sqlite'}"
    assert main(["import", str(NORTH_LINCS), "--database-url", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rejected"] == 0 and out["accepted"] == out["rows_read"]
    assert out["fields"]["delivery"]["unknown"] > 0
    # the tags that map to nothing are listed in the JSON summary too
    assert out["format"] == "oruk1"
    assert any(k.startswith("audience: ") for k in out["unmapped_terms"])
    with Store.open(url) as store:
        assert store.count_services() == out["accepted"]


def test_clean_text_keeps_paragraphs_lists_and_decodes_entities():
    html = ("<p>Fish &amp; chips&nbsp;on Fridays.</p><p><strong>We offer:</strong></p>"
            "<ul><li>a quiet room</li><li>support<br>for parents</li></ul>"
            "<script>alert('x')</script><p>Call <a href='tel:1'>us</a>.</p>")
    assert clean_text(html) == ("Fish & chips on Fridays.\n\nWe offer:\n\n- a quiet room\n"
                                "- support\nfor parents\n\nCall us.")
    assert clean_text("plain  text\n\n\n\nnext") == "plain text\n\nnext"
    assert clean_text("") == "" and clean_text(None) == ""
    assert clean_text("a < b and c > d") == "a < b and c > d"    # not markup: left alone
