"""``matcher bench import``: the synthetic feed, the benchmark's report at a tiny size, and the
streamed reading of a JSON list file (the same records and report as parsing it whole)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.errors import DataImportError
from matcher.ingest import jsonstream, read_feed
from matcher.ingest.bench import ImportBenchReport, run_import_bench, synthetic_feed
from matcher.ingest.fields import RawRecord
from matcher.ingest.jsonstream import NotStreamable, array_elements

TODAY = dt.date(2026, 1, 1)


def test_synthetic_feed_is_seeded_and_has_both_shapes(postcode_index):
    feed = synthetic_feed(80, "mixed", seed=5)
    assert feed == synthetic_feed(80, "mixed", seed=5)
    assert feed != synthetic_feed(80, "mixed", seed=6)
    full = [r for r in feed if "service_at_locations" in r]
    v1 = [r for r in feed if "pc_targetAudience" in r]
    assert full and v1 and len(full) + len(v1) == 80
    assert len({r["id"] for r in feed}) == 80
    postcodes = [a["postal_code"] for r in full for sal in r["service_at_locations"]
                 for a in sal["location"].get("addresses", [])]
    assert postcodes and all(postcode_index.lookup(pc).kind == "postcode" for pc in postcodes)
    assert any("<li>" in r["description"] and "&amp;" in r["description"] for r in v1)
    assert {t["audienceType"] for r in v1 for t in r["pc_targetAudience"]} & {
        "Autism", "Sensory Impaired>Visually Impaired ", "Parents>Grandparents", "Carers "}
    assert all("pc_targetAudience" not in r for r in synthetic_feed(20, "oruk", seed=1))
    assert all("pc_targetAudience" in r for r in synthetic_feed(20, "oruk1", seed=1))


def test_bench_import_at_a_tiny_size(postcode_index, tmp_path: Path):
    report = run_import_bench(200, "mixed", seed=3, workdir=tmp_path)
    assert isinstance(report, ImportBenchReport)
    assert (report.records, report.rows_read, report.accepted, report.rejected) == (200, 200,
                                                                                    200, 0)
    assert report.stored == report.added == 200
    assert report.detected_format == "oruk1"   # the v1 reader reads the ORUK 3.0 records too
    assert report.seconds > 0 and report.records_per_s > 0
    assert report.peak_rss_mib >= report.start_rss_mib > 0
    assert set(report.phases) == {"parse", "gazetteer", "map", "write"}
    out = report.to_dict()
    assert {"seconds", "records_per_s", "peak_rss_mib", "accepted", "rejected", "phases",
            "within_budget", "budget"} <= set(out)
    json.dumps(out)
    assert "200 synthetic records" in report.format_text()
    assert list(tmp_path.iterdir()) == []       # the feed and the database are removed


def test_cli_bench_import_json(postcode_index, capsys):
    assert main(["bench", "import", "--records", "40", "--format", "oruk", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["records"], out["accepted"], out["rejected"]) == (40, 40, 0)
    assert out["format"] == "oruk" and out["detected_format"] == "oruk"


# --------------------------------------------------------------------------- streamed reading
def _read(source, fmt: str = "auto"):
    records, report = read_feed(source, fmt=fmt, today=TODAY, source_name="feed")
    return [dataclasses.asdict(r) for r in records], report.to_dict()


@pytest.mark.parametrize("fmt", ["mixed", "oruk"])
def test_a_list_file_read_as_a_stream_gives_what_parsing_it_whole_gives(
        postcode_index, tmp_path: Path, monkeypatch, fmt):
    feed = synthetic_feed(60, fmt, seed=9)
    feed[7] = "not a service"
    path = tmp_path / "feed.json"
    path.write_text("\ufeff \n" + json.dumps(feed, indent=1) + "\n", encoding="utf-8")
    monkeypatch.setattr(jsonstream, "CHUNK", 257)     # many chunk boundaries
    assert _read(path) == _read(feed)
    pages = [{"contents": feed[:25]}, {"contents": feed[25:]}]
    path.write_text(json.dumps(pages), encoding="utf-8")
    assert _read(path) == _read(pages)


def test_a_broken_list_file_gives_the_usual_error(postcode_index, tmp_path: Path):
    text = json.dumps(synthetic_feed(10, "oruk", seed=2))
    for name, body in (("cut.json", text[: len(text) // 2]), ("tail.json", text + " x"),
                       ("comma.json", text[:-1] + ",]")):
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        with pytest.raises(DataImportError, match="is not valid JSON"):
            read_feed(path)


def test_array_elements(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(jsonstream, "CHUNK", 3)
    path = tmp_path / "a.json"
    path.write_text(' [12345, "a,b]", {"x": [1, 2]}, -7.5e3 ,null,true] \n', encoding="utf-8")
    assert list(array_elements(path)) == [12345, "a,b]", {"x": [1, 2]}, -7.5e3, None, True]
    path.write_text("[]", encoding="utf-8")
    assert list(array_elements(path)) == []
    for bad in ('{"a": 1}', "[1, 2", "[1 2]", "[1,]", "[1] [2]", ""):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(NotStreamable):
            list(array_elements(path))
    path.write_bytes(b'["caf\xe9"]')
    with pytest.raises(NotStreamable):
        list(array_elements(path))


def test_blank_raw_record_is_the_validated_one():
    assert RawRecord.blank(4, "oruk") == RawRecord(row=4, source="oruk")
    a, b = RawRecord.blank(1, "oruk"), RawRecord.blank(1, "oruk")
    assert a.places is not b.places and a.ours is not b.ours
