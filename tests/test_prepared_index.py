"""The prepared index (matcher/engine/snapshot.py): a built table written once per directory
version and mapped, not rebuilt, by the server; answers from it equal answers from a build."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from matcher.api.deps import DirectoryCache
from matcher.engine.config import load_config
from matcher.engine.pipeline import Matcher
from matcher.engine.snapshot import (
    PreparedTable,
    load_prepared,
    prepared_folder,
    remove_old_prepared,
    write_prepared,
)
from matcher.services import ServiceRecord, records_to_frame
from matcher.store import Store

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "islington_local_offer.csv"


@pytest.fixture(scope="module")
def demo_records() -> list[ServiceRecord]:
    from matcher.ingest import read_service_csv

    if not DEMO.is_file():
        pytest.skip("needs the demo Local Offer file")
    records, _ = read_service_csv(DEMO, progress=False)
    return records


@pytest.fixture(scope="module")
def built(demo_records: list[ServiceRecord]) -> Matcher:
    return Matcher.from_frame(records_to_frame(demo_records))


def _same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def test_answers_from_the_mapped_index_equal_answers_from_a_build(
        built: Matcher, demo_records: list[ServiceRecord], tmp_path: Path) -> None:
    from matcher.bench import bench_profiles

    cfg = built.cfg
    folder = write_prepared(built.table, cfg, tmp_path / "p")
    mapped = Matcher(load_prepared(folder, cfg), built.vocab, built.gazetteer, cfg)
    assert isinstance(mapped.table, PreparedTable)
    profiles = bench_profiles(demo_records, 40, np.random.default_rng(3))
    profiles += [{"age": 9, "needs": ["autism"], "about": "Polish speaking club",
                  "preferences": {"language": "Polish"}},
                 {"age": 12, "needs": [], "about": "sign language",
                  "preferences": {"language": "BSL"}}]
    for profile in profiles:
        for explain in ("brief", "full"):
            a = built.match(profile, explain=explain).to_dict(full=True)
            b = mapped.match(profile, explain=explain).to_dict(full=True)
            assert json.dumps(a, sort_keys=True, default=str) == \
                json.dumps(b, sort_keys=True, default=str), profile


def test_the_mapped_table_reads_its_arrays_from_the_files(
        built: Matcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.engine.snapshot as snapshot

    monkeypatch.setattr(snapshot, "MAPPED_BYTES", 1)   # the demo is small: map every array
    folder = write_prepared(built.table, built.cfg, tmp_path / "p")
    table = load_prepared(folder, built.cfg)
    # Large arrays are views of read-only mappings of the folder's .npy files.
    for name in ("need_strength", "lat", "id_rank"):
        arr = getattr(table, name)
        assert not arr.flags.writeable
        assert isinstance(arr.base, np.memmap), name
    assert isinstance(table.text_index.matrix_.data.base, np.memmap)
    # Every service's fields come back as the build's, value for value.
    assert len(table.records) == len(built.table.records) == table.n
    for row in (0, 1, table.n // 2, table.n - 1):
        a, b = built.table.records[row], table.records[row]
        assert a.keys() == b.keys()
        assert all(_same(a[k], b[k]) for k in a), row
    # So does the frame (for the gap analysis), made on first use.
    assert list(table.frame.columns) == list(built.table.frame.columns)
    for column in ("name", "needs", "facts", "min_age"):
        assert all(_same(x, y) for x, y in zip(table.frame[column].tolist(),
                                               built.table.frame[column].tolist(), strict=True))
    assert np.array_equal(table.mentions("polish"), built.table.mentions("polish"))
    with pytest.raises(IndexError, match="not in a table"):
        table.records[table.n]


def test_a_folder_is_written_once_and_never_seen_half_written(built: Matcher,
                                                              tmp_path: Path) -> None:
    folder = tmp_path / "p"
    write_prepared(built.table, built.cfg, folder)
    stamp = (folder / "done.json").stat().st_mtime_ns
    write_prepared(built.table, built.cfg, folder)   # there already: left as it is
    assert (folder / "done.json").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == ["p"]


def test_a_failed_write_leaves_nothing(built: Matcher, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.engine.snapshot as snapshot

    def broken(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "_frame_to_arrow", broken)
    with pytest.raises(OSError, match="disk full"):
        write_prepared(built.table, built.cfg, tmp_path / "p")
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_old_versions_are_removed_newer_ones_kept(tmp_path: Path) -> None:
    import os

    root = tmp_path / "prepared"
    old, served, newer = root / "a-x", root / "b-x", root / "c-x"
    for i, path in enumerate((old, served, newer)):
        path.mkdir(parents=True)
        os.utime(path, (1000 + i, 1000 + i))
    assert remove_old_prepared(tmp_path, served) == 1
    assert not old.exists() and served.exists() and newer.exists()


# --------------------------------------------------------------------------- the server's cache
def _small_directory() -> list[ServiceRecord]:
    return [ServiceRecord(id=f"S{i:02d}", name=f"Club {i}",
                          description=["For autistic children.", "Not suitable for PMLD.",
                                       "Speech and language therapy."][i % 3],
                          categories=["leisure"], languages=["Polish"] if i % 4 == 0 else [])
            for i in range(12)]


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path / 'd.sqlite'}") as s:
        yield s


def test_a_large_directory_is_mapped_and_its_records_read_only_when_listed(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At prepare_apart_from, a child process writes the prepared index; the server maps it,
    reads no record to build, and reads the records only when a route lists them."""
    from matcher.allowed import vocabulary_in_use

    store.upsert_services(_small_directory())
    reads: list[int] = []
    real = Store.list_services

    def counting(self: Store):
        reads.append(1)
        return real(self)

    monkeypatch.setattr(Store, "list_services", counting)
    cache = DirectoryCache(store, tmp_path / "models", refresh_seconds=60,
                           vocab=vocabulary_in_use(), prepare_apart_from=10)
    cache.start()
    directory = cache.refresh(timeout=300)
    assert cache.error is None and directory is not None and directory.matcher is not None
    assert isinstance(directory.matcher.table, PreparedTable)
    assert reads == [] and directory.size == 12
    assert [r.id for r in directory.records] == [f"S{i:02d}" for i in range(12)]
    assert reads == [1] and "S03" in directory.by_id
    here = Matcher.from_frame(records_to_frame(real(store)))
    profile = {"age": 8, "needs": ["autism"], "about": "speech therapy",
               "preferences": {"language": "Polish"}}
    assert directory.matcher.match(profile, explain="full").to_dict(full=True) == \
        here.match(profile, explain="full").to_dict(full=True)


def test_a_new_version_replaces_the_old_folder(store: Store, tmp_path: Path) -> None:
    """Each version is prepared once; once the new one is served, the old one is deleted."""
    import dataclasses

    from matcher.allowed import vocabulary_in_use

    records = _small_directory()
    store.upsert_services(records)
    cache = DirectoryCache(store, tmp_path / "models", refresh_seconds=60,
                           vocab=vocabulary_in_use())
    cache.start()
    first = cache.refresh(timeout=300)
    assert first is not None and first.matcher is not None
    root = tmp_path / "models" / "prepared"
    before = [p for p in root.iterdir() if p.is_dir()]
    assert len(before) == 1
    store.upsert_services([dataclasses.replace(records[0], description="For deaf children.")])
    cache.invalidate()
    second = cache.refresh(timeout=300)
    assert second is not None and second.counter > first.counter
    del first   # the old directory is let go; its folder goes once no request holds it
    deadline = time.monotonic() + 60
    while len(after := [p for p in root.iterdir() if p.is_dir()]) > 1 and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(after) == 1 and after != before
    # A second server starting on the same version maps the folder written by the first.
    other = DirectoryCache(store, tmp_path / "models", refresh_seconds=60,
                           vocab=vocabulary_in_use())
    other.start()
    mapped = other.refresh(timeout=300)
    assert mapped is not None and isinstance(mapped.matcher.table, PreparedTable)


def test_a_broken_folder_is_rebuilt_not_served(store: Store, tmp_path: Path) -> None:
    from matcher.allowed import vocabulary_in_use
    from matcher.api.prepare import data_key

    store.upsert_services(_small_directory())
    vocab = vocabulary_in_use()
    cfg = load_config()
    folder = prepared_folder(tmp_path / "models",
                             data_key(store.data_version(), vocab, cfg))
    folder.mkdir(parents=True)
    (folder / "done.json").write_text(json.dumps({"format": 1}))
    (folder / "table.pickle").write_bytes(b"not a pickle")
    cache = DirectoryCache(store, tmp_path / "models", refresh_seconds=60, vocab=vocab)
    cache.start()
    directory = cache.refresh(timeout=300)
    assert cache.error is None and directory is not None and directory.matcher is not None
    assert directory.matcher.table.n == 12
    # Written again, whole, for the next start.
    assert isinstance(load_prepared(folder, cfg), PreparedTable)


def test_an_import_succeeds_when_its_index_cannot_be_written(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    import matcher.api.prepare as prepare
    from matcher.allowed import vocabulary_in_use

    store.upsert_services(_small_directory())

    def broken(*_a, **_k):
        raise OSError("read-only file system")

    monkeypatch.setattr(prepare, "prepare_directory", broken)
    prepare.prepare_after_write(store, tmp_path / "models", vocabulary_in_use())
    assert "could not be written" in caplog.text


def test_an_import_writes_the_prepared_index_the_server_then_maps(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`matcher import` / `matcher sync` prepare a large directory's new version after their
    write (here with the size threshold lowered); a server then maps it without building."""
    from matcher.allowed import vocabulary_in_use
    from matcher.cli import _prepare_for_servers
    from matcher.settings import get_settings

    store.upsert_services(_small_directory())
    monkeypatch.setenv("MATCHER_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    try:
        _prepare_for_servers(str(store.engine.url), threshold=100, nice=0)   # too small
        assert not (tmp_path / "models" / "prepared").exists()
        _prepare_for_servers(str(store.engine.url), threshold=10, nice=0)
    finally:
        get_settings.cache_clear()
    written = [p for p in (tmp_path / "models" / "prepared").iterdir() if p.is_dir()]
    assert len(written) == 1 and (written[0] / "done.json").is_file()
    cache = DirectoryCache(store, tmp_path / "models", refresh_seconds=60,
                           vocab=vocabulary_in_use(), prepare_apart_from=10)
    monkeypatch.setattr(DirectoryCache, "_prepare_apart",
                        lambda self: pytest.fail("the import had prepared it already"))
    cache.start()
    directory = cache.refresh(timeout=300)
    assert directory is not None and isinstance(directory.matcher.table, PreparedTable)
