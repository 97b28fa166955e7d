"""The CSV importer: every problem reported by row and column, good rows imported, one
transaction per import (even when the process is killed)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event

import matcher.store.directory as store_mod
from matcher.cli import main
from matcher.errors import DataImportError
from matcher.ingest import (
    COLUMNS,
    ImportReport,
    read_service_csv,
    run_import,
)
from matcher.ingest.csv_template import PROGRESS_MIN_ROWS
from matcher.store import Store

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "data" / "services_sample.csv"
SHARED = Path(__file__).resolve().parents[2] / "shared"
DEV_SERVICES = SHARED / "eval" / "dev" / "services.csv"
REPO = HERE.parent
TODAY = dt.date(2025, 6, 1)


def _rows() -> list[list[str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _to_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _col(name: str) -> int:
    return COLUMNS.index(name)


def _where(report: ImportReport) -> set[tuple[int, str]]:
    return {(p.row, p.column) for p in report.problems}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'matcher.sqlite'}"


# --------------------------------------------------------------------------- the sample file
def test_sample_reads_cleanly_and_normalises() -> None:
    records, report = read_service_csv(SAMPLE, today=TODAY)
    assert report.problems == []
    assert report.rows_read == 10
    assert report.accepted == [f"T-{i:03d}" for i in range(1, 11)]
    by_id = {r.id: r for r in records}
    swim = by_id["T-001"]
    assert swim.needs_raw == "autism;sensory processing"
    assert "autism" in swim.needs
    assert swim.postcode == "E9 6FH"
    assert swim.latitude == pytest.approx(51.5469, abs=1e-3)
    assert swim.longitude == pytest.approx(-0.0440, abs=1e-3)
    assert swim.last_reviewed == dt.date(2024, 5, 1)
    assert swim.service_area == ["E5", "E8", "E9"]
    line = by_id["T-002"]
    assert line.postcode is None and line.latitude is None
    assert line.languages == ["English", "Turkish"]
    assert line.service_area == ["national"]
    assert line.url == "https://talktogether.example"
    assert by_id["T-003"].ehcp_required is True
    assert by_id["T-005"].delivery == ["in_person"]  # blank delivery, postcode given
    assert by_id["T-009"].delivery == ["online"]  # blank delivery, no postcode
    assert by_id["T-009"].ehcp_required is False and by_id["T-009"].last_reviewed is None
    assert by_id["T-007"].languages == ["BSL", "English"]


# --------------------------------------------------------------------------- damaged copy
def _damaged() -> tuple[str, list[str]]:
    """The sample with one fault in each of rows 2-10, then ten good copies (rows 11-21)."""
    rows = _rows()
    header, data = rows[0], rows[1:]
    good_copies = []
    for r in data:
        copy = list(r)
        copy[_col("id")] = "G" + r[_col("id")][1:]
        good_copies.append(copy)
    bad = [list(r) for r in data]
    bad[0][_col("min_age")] = "five"  # row 2
    bad[1][_col("min_age")], bad[1][_col("max_age")] = "12", "5"  # row 3
    bad[2][_col("max_age")] = "30"  # row 4
    bad[3][_col("postcode")] = "ZZ1 1ZZ"  # row 5: well formed, does not exist
    bad[4][_col("postcode")] = "E5 8A"  # row 6: malformed
    bad[5][_col("name")] = ""  # row 7
    bad[6][_col("categories")] = "leisur"  # row 8
    bad[7][_col("last_reviewed")] = "31/12/2024"  # row 9
    text = _to_text([header] + bad[:8])
    # row 10: an opening quote that is never closed
    broken = list(bad[8])
    broken[_col("name")] = '"Online Coding Club'
    text += ",".join(broken) + "\n"
    text += _to_text([bad[9]] + good_copies)  # row 11 (T-010) and rows 12-21
    expected_ok = ["T-010"] + [r[_col("id")] for r in good_copies]
    return text, expected_ok


EXPECTED_DAMAGE = {
    (2, "min_age"), (3, "min_age"), (4, "max_age"), (5, "postcode"), (6, "postcode"),
    (7, "name"), (8, "categories"), (9, "last_reviewed"), (10, "name"),
}


def test_damaged_file_reports_every_problem_and_keeps_good_rows() -> None:
    text, expected_ok = _damaged()
    records, report = read_service_csv(text, today=TODAY)
    assert _where(report) == EXPECTED_DAMAGE
    assert report.accepted == expected_ok
    assert [r.id for r in records] == expected_ok
    assert report.rejected_rows == list(range(2, 11))
    assert report.rows_read == 20
    by_where = {(p.row, p.column): p for p in report.problems}
    assert "whole number" in by_where[2, "min_age"].problem
    assert "greater than max_age" in by_where[3, "min_age"].problem
    assert by_where[4, "max_age"].value == "30" and "0-25" in by_where[4, "max_age"].problem
    assert "ZZ1 1ZZ" in by_where[5, "postcode"].problem
    assert "not shaped like a GB postcode" in by_where[6, "postcode"].problem
    assert "required" in by_where[7, "name"].problem
    assert "Did you mean 'leisure'?" in by_where[8, "categories"].fix
    assert "2024-12-31" in by_where[9, "last_reviewed"].fix
    assert "never closed" in by_where[10, "name"].problem
    assert by_where[10, "name"].line == 10
    for p in report.problems:
        assert p.problem and p.fix


def test_damaged_file_through_the_cli(db_url: str, tmp_path: Path, capsys) -> None:
    text, expected_ok = _damaged()
    path = tmp_path / "damaged.csv"
    path.write_text(text, encoding="utf-8")
    # The good rows are imported; exit 1 still tells a script that some rows were rejected.
    assert main(["import", str(path), "--json", "--database-url", db_url]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["added"], out["updated"], out["unchanged"], out["rejected"]) == (11, 0, 0, 9)
    assert {(p["row"], p["column"]) for p in out["problems"]} == EXPECTED_DAMAGE
    with Store.open(db_url) as s:
        assert sorted(r.id for r in s.list_services()) == sorted(expected_ok)
    assert main(["import", str(path), "--database-url", db_url]) == 1
    shown = capsys.readouterr().out
    assert "0 added, 0 updated, 11 unchanged, 9 rejected" in shown
    assert "Did you mean 'leisure'?" in shown and "row" in shown


def test_report_text_and_dict() -> None:
    text, _ = _damaged()
    _, report = read_service_csv(text, today=TODAY)
    shown = report.format_text()
    for head in ("row", "column", "value", "what is wrong", "how to fix it"):
        assert head in shown
    assert "spreadsheet" in shown and "ZZ1 1ZZ" in shown
    d = json.loads(json.dumps(report.to_dict()))
    assert d["rejected"] == 9 and d["rows_read"] == 20
    assert {(p["row"], p["column"]) for p in d["problems"]} == EXPECTED_DAMAGE


# --------------------------------------------------------------------------- broken quotes
def test_unclosed_quote_on_last_row() -> None:
    rows = _rows()
    text = _to_text(rows[:4]) + ",".join(['T-099', '"Unfinished'] + rows[4][2:]) + "\n"
    records, report = read_service_csv(text, today=TODAY)
    assert [r.id for r in records] == ["T-001", "T-002", "T-003"]
    assert _where(report) == {(5, "name")}


def test_text_after_closing_quote() -> None:
    rows = _rows()
    line = rows[1][:]
    line[_col("name")] = '"Riverside" Sensory Swim'
    text = _to_text(rows[:1]) + ",".join(line[:3]) + ',"x",' + ",".join(line[4:]) + "\n"
    text += _to_text(rows[2:4])
    records, report = read_service_csv(text, today=TODAY)
    assert [r.id for r in records] == ["T-002", "T-003"]
    assert _where(report) == {(2, "name")}
    assert "followed by more text" in report.problems[0].problem
    assert report.problems[0].value.startswith('"Riverside" Sensory Swim')


def test_legitimate_line_breaks_in_a_cell() -> None:
    rows = _rows()
    rows[1][_col("description")] = "First line.\nSecond line, with a comma.\nThird."
    rows[2][_col("max_age")] = "99"
    records, report = read_service_csv(_to_text(rows), today=TODAY)
    assert "First line.\nSecond line" in records[0].description
    assert len(records) == 9
    (problem,) = report.problems
    assert (problem.row, problem.column, problem.line) == (3, "max_age", 5)


# --------------------------------------------------------------------------- header handling
def test_header_case_spaces_and_unknown_columns() -> None:
    rows = _rows()
    header = [f"  {h.upper()} " if i % 2 else h.title() for i, h in enumerate(rows[0])]
    header.append("Internal Notes")
    data = [r + ["staff only"] for r in rows[1:]]
    records, report = read_service_csv(_to_text([header] + data), today=TODAY)
    assert report.problems == []
    assert len(records) == 10
    notes = [w for w in report.warnings if w.row == 1]
    assert len(notes) == 1 and notes[0].column == "Internal Notes"
    assert "ignored" in notes[0].problem


def test_missing_required_column_is_a_clear_file_error(tmp_path: Path, db_url: str, capsys) -> None:
    rows = _rows()
    drop = _col("description")
    text = _to_text([r[:drop] + r[drop + 1:] for r in rows])
    records, report = read_service_csv(text, today=TODAY)
    assert records == [] and report.fatal
    assert [(p.row, p.column) for p in report.problems] == [(1, "description")]
    assert "required column 'description' is missing" in report.problems[0].problem
    path = tmp_path / "nodesc.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataImportError, match="description") as info:
        run_import(path, database_url=db_url)
    assert isinstance(info.value.report, ImportReport)
    assert main(["import", str(path), "--database-url", db_url]) == 1
    err = capsys.readouterr().err
    assert "description" in err and "Nothing was imported" in err


def test_misspelt_required_header_gets_a_rename_hint() -> None:
    rows = _rows()
    rows[0][_col("categories")] = "catagories"
    _, report = read_service_csv(_to_text(rows), today=TODAY)
    (problem,) = report.problems
    assert problem.column == "categories" and "Rename the column 'catagories'" in problem.fix


def test_bom_and_comment_lines_shift_row_numbers() -> None:
    rows = _rows()
    rows[1][_col("max_age")] = "26"
    text = "\ufeff# Local Offer export\r\n# contact: data team\r\n" + _to_text(rows[:3])
    text = text.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    records, report = read_service_csv(text.encode("utf-8"), today=TODAY)
    assert [r.id for r in records] == ["T-002"]
    assert _where(report) == {(4, "max_age")}


def test_a_rejected_row_never_takes_its_id() -> None:
    rows = _rows()
    header, first = rows[0], rows[1]
    bad = first[:]
    bad[_col("min_age")] = "old"           # row 2: rejected for its age
    copy = first[:]                        # row 3: the same id, good: imported
    again = first[:]                       # row 4: a repeat of the imported row 3
    again[_col("name")] = "Another name"
    records, report = read_service_csv(_to_text([header, bad, copy, again]), today=TODAY)
    assert [r.id for r in records] == [first[_col("id")]]
    assert records[0].name == first[_col("name")]
    assert report.rejected_rows == [2, 4]
    reasons = {(p.row, p.column): p.problem for p in report.problems}
    assert (2, "min_age") in reasons and (2, "id") not in reasons
    assert reasons[(4, "id")] == f"id {first[_col('id')]} is already used on row 3"


def test_not_utf8_is_refused_with_the_line(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.raises(DataImportError, match=r"not UTF-8 .*line 2"):
        read_service_csv(path)
    assert main(["import", str(path), "--database-url", db_url]) == 2


# --------------------------------------------------------------------------- row rules
def test_more_row_rules() -> None:
    rows = _rows()
    rows.append(rows[2][:])  # row 12: a good copy of T-002 (row 3, damaged below, is rejected)
    rows[2][_col("delivery")] = "in person;zoom"
    rows[3][_col("service_area")] = "Hackney;E8"
    rows[4][_col("postcode")] = "E5"  # a district is not a venue
    rows[5][_col("ehcp_required")] = "maybe"
    rows[6][_col("email")] = "not an email"
    rows[7][_col("url")] = "ftp://x.example"
    rows[8][_col("cost")] = "free;paid"
    rows[9][_col("last_reviewed")] = "2999-01-01"
    rows[10][_col("needs")] = "autism;wibblitis"
    surplus = ["T-777"] + rows[1][1:] + ["one cell too many"]  # row 13: 25 cells
    text = _to_text(rows + [surplus])
    records, report = read_service_csv(text, today=TODAY)
    assert _where(report) == {
        (3, "delivery"), (4, "service_area"), (5, "postcode"), (6, "ehcp_required"),
        (7, "email"), (8, "url"), (9, "cost"), (10, "last_reviewed"), (13, ""),
    }
    by_where = {(p.row, p.column): p for p in report.problems}
    assert "full postcode" in by_where[5, "postcode"].problem
    assert by_where[3, "delivery"].value == "zoom"  # "in person" itself was accepted
    assert "cells" in by_where[13, ""].problem
    # rows 2 and 11 survive, and row 12: the rejected row 3 did not take the id T-002; row 11
    # keeps the unknown need as a warning
    assert [r.id for r in records] == ["T-001", "T-010", "T-002"]
    assert report.accepted == ["T-001", "T-010", "T-002"]
    assert records[1].needs_unrecognised == ["wibblitis"] and "autism" in records[1].needs
    assert any(w.row == 11 and w.column == "needs" for w in report.warnings)
    assert "future" in by_where[10, "last_reviewed"].problem


# --------------------------------------------------------------------------- run_import
def test_strict_imports_nothing(tmp_path: Path, db_url: str, capsys) -> None:
    with Store.open(db_url) as s:
        s.upsert_services(read_service_csv(SAMPLE, today=TODAY)[0][:3])
    rows = _rows()
    for r in rows[1:]:
        r[_col("id")] = "N" + r[_col("id")][1:]
    rows[5][_col("max_age")] = "40"
    path = tmp_path / "one_bad.csv"
    path.write_text(_to_text(rows), encoding="utf-8")
    with pytest.raises(DataImportError, match="strict") as info:
        run_import(path, strict=True, database_url=db_url)
    assert _where(info.value.report) == {(6, "max_age")}
    assert main(["import", str(path), "--strict", "--json", "--database-url", db_url]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] is False and out["added"] == 0 and out["rejected"] == 1
    assert out["problems"][0]["row"] == 6
    with Store.open(db_url) as s:
        assert [r.id for r in s.list_services()] == ["T-001", "T-002", "T-003"]
    summary = run_import(path, database_url=db_url)  # not strict: the 9 good rows go in
    assert (summary.added, summary.rejected) == (9, 1)


def test_failure_half_way_through_import_changes_nothing(tmp_path: Path, db_url: str,
                                                         monkeypatch) -> None:
    run_import(SAMPLE, database_url=db_url)
    rows = _rows()
    for r in rows[1:]:
        r[_col("id")] = "N" + r[_col("id")][1:]
    path = tmp_path / "more.csv"
    path.write_text(_to_text(rows), encoding="utf-8")
    store = Store.open(db_url)
    before, version = store.list_services(), store.data_version()
    monkeypatch.setattr(store_mod, "WRITE_BATCH", 3)
    seen = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def boom(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SERVICES"):
            seen.append(1)
            if len(seen) == 3:
                raise OSError("simulated crash")

    with pytest.raises(OSError, match="simulated crash"):
        run_import(path, store=store)
    assert len(seen) == 3
    event.remove(store.engine, "before_cursor_execute", boom)
    assert store.list_services() == before and store.data_version() == version
    store.close()


@pytest.mark.skipif(not DEV_SERVICES.is_file(),
                    reason=f"the shared dev set is absent ({DEV_SERVICES} not found)")
def test_dev_services_import_then_unchanged_then_one_updated(tmp_path: Path, db_url: str,
                                                             capsys) -> None:
    def run(path: Path) -> dict:
        assert main(["import", str(path), "--json", "--database-url", db_url]) == 0
        return json.loads(capsys.readouterr().out)

    first = run(DEV_SERVICES)
    assert (first["added"], first["updated"], first["unchanged"], first["rejected"]) == (148, 0, 0, 0)
    assert first["problems"] == []
    second = run(DEV_SERVICES)
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 148)
    with DEV_SERVICES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[7][_col("name")] += " (renamed)"
    changed = tmp_path / "changed.csv"
    changed.write_text(_to_text(rows), encoding="utf-8")
    third = run(changed)
    assert (third["added"], third["updated"], third["unchanged"]) == (0, 1, 147)
    with Store.open(db_url) as s:
        assert s.count_services() == 148
        assert s.get_service(rows[7][0]).name.endswith("(renamed)")
        with_pc = [r for r in s.list_services() if r.postcode]
        assert len(with_pc) == 120 and all(r.latitude is not None for r in with_pc)


# --------------------------------------------------------------------------- big files
def _big_text(n: int, prefix: str = "K") -> str:
    """n rows made from the sample rows with new ids."""
    rows = _rows()
    header, data = rows[0], rows[1:]
    out = [header]
    for i in range(n):
        r = list(data[i % len(data)])
        r[_col("id")] = f"{prefix}-{i:05d}"
        out.append(r)
    return _to_text(out)


def test_progress_bar_for_big_files(capsys) -> None:
    big = _big_text(PROGRESS_MIN_ROWS + 1)
    records, report = read_service_csv(big, progress=True, today=TODAY)
    assert len(records) == PROGRESS_MIN_ROWS + 1 and report.problems == []
    err = capsys.readouterr().err
    assert "Checking rows" in err and "5001" in err
    read_service_csv(_big_text(50), progress=True, today=TODAY)
    assert "Checking rows" not in capsys.readouterr().err
    read_service_csv(big, progress=False, today=TODAY)
    assert "Checking rows" not in capsys.readouterr().err


_KILL_SCRIPT = """
import sys, time
from sqlalchemy import event
from sqlalchemy.engine import Engine

inserts = 0

@event.listens_for(Engine, "before_cursor_execute")
def pause_inside_transaction(conn, cursor, statement, params, context, executemany):
    global inserts
    if statement.lstrip().upper().startswith("INSERT INTO SERVICES"):
        inserts += 1
        if inserts == 3:  # two batches written, transaction open: now wait to be killed
            sys.stderr.write("INSIDE-TRANSACTION\\n")
            sys.stderr.flush()
            time.sleep(120)

from matcher.cli import main
sys.exit(main(["import", sys.argv[1], "--database-url", sys.argv[2]]))
"""


def test_killed_import_leaves_previous_directory(tmp_path: Path, db_url: str) -> None:
    run_import(SAMPLE, database_url=db_url, today=TODAY)
    with Store.open(db_url) as s:
        before, version = s.list_services(), s.data_version()
    assert len(before) == 10
    big = tmp_path / "big.csv"
    big.write_text(_big_text(20_000), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(big), db_url],
        cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        seen = []
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "INSIDE-TRANSACTION" in line:
                break
        assert seen and "INSIDE-TRANSACTION" in seen[-1], "".join(seen)[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    with Store.open(db_url) as s:
        assert s.count_services() == 10
        assert s.list_services() == before
        assert s.data_version() == version
        # and the store still works: a normal import goes through afterwards
        assert s.upsert_services(read_service_csv(_big_text(30), today=TODAY)[0]) == (30, 0, 0)


def test_warnings_do_not_reject() -> None:
    rows = _rows()
    rows[1][_col("postcode")] = ""  # T-001: in person only, no postcode
    rows[2][_col("service_area")] = "E8;ZZ9"  # T-002: a district that does not exist
    records, report = read_service_csv(_to_text(rows), today=TODAY)
    assert report.problems == [] and len(records) == 10
    assert {(w.row, w.column) for w in report.warnings} == {(2, "postcode"), (3, "service_area")}
    assert records[1].service_area == ["E8", "ZZ9"]


def test_nul_character_rejects_only_its_row() -> None:
    rows = _rows()
    text = _to_text(rows[:2]) + "T-050,Bad\x00Name,Org,Desc,leisure" + "," * 19 + "\n"
    text += _to_text(rows[2:4])
    records, report = read_service_csv(text, today=TODAY)
    assert [r.id for r in records] == ["T-001", "T-002", "T-003"]
    assert _where(report) == {(3, "name")} and "NUL" in report.problems[0].problem


def test_semicolon_separated_file_is_explained() -> None:
    rows = _rows()
    text = "\n".join(";".join(c.replace(";", ",") for c in r) for r in rows[:3]) + "\n"
    records, report = read_service_csv(text, today=TODAY)
    assert records == [] and report.fatal
    (problem,) = report.problems
    assert "semicolons" in problem.problem and "Comma delimited" in problem.fix
