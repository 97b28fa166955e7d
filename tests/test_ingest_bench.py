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
    assert set(report.phases) == {"parse", "gazetteer", "read", "write"}
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


# --------------------------------------------------------------------------- several processes
def _damaged_feed() -> list:
    """A synthetic feed with repeated ids within and across chunks (of 7), a first copy
    rejected for no name, records that are not objects, and a record with no id."""
    feed: list = synthetic_feed(60, "mixed", seed=11)
    feed[3] = dict(feed[3], name="")                     # rejected: it must not take its id
    feed[5] = dict(feed[5], id=feed[3]["id"])            # same chunk: imported
    feed[20] = dict(feed[20], id=feed[3]["id"])          # later chunk: a repeat of record 6
    feed[21] = dict(feed[21], id=feed[3]["id"], name="")  # a repeat with no name either
    feed[9] = dict(feed[9], id=feed[8]["id"])            # same chunk: a repeat of record 9
    feed[40] = dict(feed[40], id=feed[1]["id"])          # a repeat across chunks
    feed[13] = "not a service"
    feed[30] = dict(feed[30], id="")
    return feed


@pytest.mark.parametrize("workers", [2, 3])
def test_several_processes_read_a_feed_as_one_does(postcode_index, tmp_path: Path,
                                                   monkeypatch, workers):
    from matcher.ingest import parallel

    path = tmp_path / "feed.json"
    path.write_text(json.dumps(_damaged_feed()), encoding="utf-8")
    monkeypatch.setattr(parallel, "MIN_RECORDS", 10)
    monkeypatch.setattr(parallel, "CHUNK_RECORDS", 7)
    one = read_feed(path, today=TODAY, source_name="feed")
    chunks = []
    real = parallel._chunks
    monkeypatch.setattr(parallel, "_chunks",
                        lambda items, size: (chunks.append(c[0]) or c for c in real(items, size)))
    many = read_feed(path, today=TODAY, source_name="feed", workers=workers)
    assert chunks == list(range(1, 60, 7))         # handed out in chunks of 7
    assert [dataclasses.asdict(r) for r in many[0]] == [dataclasses.asdict(r) for r in one[0]]
    assert many[1].to_dict() == one[1].to_dict()
    report = one[1].to_dict()
    assert report["rejected_rows"] == [4, 10, 14, 21, 22, 31, 41]
    why = {(p["row"], p["column"]): p["problem"] for p in report["problems"]}
    assert why[(21, "id")].endswith("already used by record 6 of this feed")
    assert why[(22, "id")].endswith("already used by record 6 of this feed")
    assert why[(10, "id")].endswith("already used by record 9 of this feed")
    assert why[(41, "id")].endswith("already used by record 2 of this feed")
    assert (4, "id") not in why and (4, "name") in why
    assert len(report["accepted_ids"]) == len(set(report["accepted_ids"])) == 53


def test_a_small_feed_is_read_in_one_process(postcode_index, tmp_path: Path, monkeypatch):
    from matcher.ingest import parallel

    path = tmp_path / "feed.json"
    path.write_text(json.dumps(synthetic_feed(12, "oruk", seed=4)), encoding="utf-8")
    monkeypatch.setattr(parallel, "read_items", lambda *a, **k: pytest.fail("forked"))
    records, report = read_feed(path, today=TODAY, workers=4)
    assert len(records) == 12 and report.ok


def test_an_import_read_by_several_processes_is_stored_as_one_process_stores_it(
        postcode_index, tmp_path: Path, monkeypatch):
    from matcher.ingest import import_feed, parallel
    from matcher.store import Store

    monkeypatch.setattr(parallel, "MIN_RECORDS", 10)
    monkeypatch.setattr(parallel, "CHUNK_RECORDS", 7)
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(_damaged_feed()), encoding="utf-8")
    stored = {}
    for workers in (1, 2):
        url = f"sqlite:///{tmp_path / f'w{workers}.sqlite'}"
        summary = import_feed(path, database_url=url, today=TODAY, workers=workers)
        assert (summary.added, summary.rejected) == (53, 7)
        with Store.open(url) as store:
            stored[workers] = [dataclasses.asdict(r) for r in store.list_services()]
        # strict: the problems are found as the feed is read; nothing is stored
        strict_url = f"sqlite:///{tmp_path / f's{workers}.sqlite'}"
        with pytest.raises(DataImportError, match="strict mode"):
            import_feed(path, database_url=strict_url, today=TODAY, workers=workers,
                        strict=True)
        with Store.open(strict_url) as store:
            assert store.count_services() == 0
    assert stored[1] == stored[2] and len(stored[1]) == 53
