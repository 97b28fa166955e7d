"""The matcher cache: built off the request path, swapped in whole, never stalling a request."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from fastapi import HTTPException

from matcher.api.deps import NOT_READY, Directory, DirectoryCache
from matcher.services import ServiceRecord
from matcher.store import Store


def _record(i: int, name: str = "Club") -> ServiceRecord:
    return ServiceRecord(id=f"S-{i:03d}", name=f"{name} {i}", description="A club.",
                         categories=["leisure"])


class GatedCache(DirectoryCache):
    """A cache whose builds wait for the test to open a gate (no engine: the records only)."""

    def __init__(self, store: Store, tmp: Path, **kw):
        super().__init__(store, tmp / "models", refresh_seconds=0, **kw)
        self.gate = threading.Event()
        self.started = threading.Event()
        self.fail = False

    def _build_in_use(self, version: int) -> Directory:
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        if self.fail:
            raise RuntimeError("build broke")
        records = self.store.list_services()
        return Directory(version=self.store.data_version(), records=records, matcher=None,
                         counter=version)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path / 'd.sqlite'}") as s:
        yield s


def test_requests_during_a_rebuild_get_the_old_directory(store: Store, tmp_path: Path) -> None:
    store.upsert_services([_record(1)])
    cache = GatedCache(store, tmp_path)
    cache.gate.set()
    first = cache.refresh(timeout=30)
    assert first is not None and [r.id for r in first.records] == ["S-001"]

    cache.gate.clear()
    cache.started.clear()
    store.upsert_services([_record(2)])
    served = cache.get()              # sees the new version, starts a build, does not wait
    assert served is first
    assert cache.started.wait(10) and cache.building
    assert cache.get() is first       # still the old one while the build runs
    assert cache.status()["ready"] is True and cache.status()["building"] is True

    cache.gate.set()
    new = cache.refresh(timeout=30)
    assert new is not None and new is not first
    assert [r.id for r in new.records] == ["S-001", "S-002"]
    assert new.counter == store.directory_version() and new.version == store.data_version()
    assert cache.get() is new


def test_not_ready_until_the_first_build(store: Store, tmp_path: Path) -> None:
    store.upsert_services([_record(1)])
    cache = GatedCache(store, tmp_path, start_wait_seconds=0)
    assert not cache.ready
    cache.start()
    assert cache.started.wait(10)
    with pytest.raises(HTTPException) as caught:
        cache.get()
    assert caught.value.status_code == 503 and caught.value.detail == NOT_READY
    assert caught.value.headers == {"Retry-After": "5"}
    assert cache.status() == {"ready": False, "building": True, "version": None,
                              "data_version": None, "error": None}
    cache.gate.set()
    assert cache.refresh(timeout=30) is not None and cache.ready
    assert [r.id for r in cache.get().records] == ["S-001"]


def test_a_failed_rebuild_keeps_the_old_directory(store: Store, tmp_path: Path) -> None:
    store.upsert_services([_record(1)])
    cache = GatedCache(store, tmp_path)
    cache.gate.set()
    first = cache.refresh(timeout=30)
    cache.fail = True
    store.upsert_services([_record(2)])
    with pytest.raises(RuntimeError, match="build broke"):
        cache.refresh(timeout=30)
    assert cache.get() is first and cache.status()["error"] == "build broke"
    # The next version is built once the cause is gone.
    cache.fail = False
    store.upsert_services([_record(3)])
    assert [r.id for r in cache.refresh(timeout=30).records] == ["S-001", "S-002", "S-003"]
    assert cache.status()["error"] is None


def test_an_unchanged_version_reads_no_rows(store: Store, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The version check is the one-row counter: nothing is listed or hashed while it stays."""
    store.upsert_services([_record(i) for i in range(1, 50)])
    cache = GatedCache(store, tmp_path)
    cache.gate.set()
    first = cache.refresh(timeout=30)
    listed: list[int] = []
    original = store.list_services
    monkeypatch.setattr(store, "list_services", lambda: listed.append(1) or original())
    for _ in range(20):
        assert cache.get() is first
    store.upsert_services([_record(i) for i in range(1, 50)])   # the same content: no change
    assert cache.get() is first and listed == [] and cache.builds == 1


def test_real_matcher_is_swapped_in_after_an_import(store: Store, tmp_path: Path) -> None:
    """The real build (engine and all) in the background thread, then a swap."""
    from matcher.ingest import run_import

    demo = Path(__file__).resolve().parents[1] / "data" / "demo" / "islington_local_offer.csv"
    if not demo.is_file():
        pytest.skip("needs the demo Local Offer file")
    cache = DirectoryCache(store, tmp_path / "models", refresh_seconds=60)
    cache.start()
    empty = cache.refresh(timeout=120)
    assert empty is not None and empty.matcher is None
    run_import(demo, store=store, progress=False)
    assert cache.get() is empty           # within refresh_seconds: no check yet
    cache.invalidate()
    assert cache.get() is empty           # checked: the build starts, the old one answers
    built = cache.refresh(timeout=300)
    assert built is not None and built.matcher is not None
    assert built.matcher.table.n == len(built.records) > 100
    assert built.version == store.data_version()


def test_a_start_reads_only_the_records_that_changed(store: Store, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """What a service's words say about needs is read once per version of the record and
    stored: a second start reads none, a rebuild after an edit reads only the edited one, and
    the matcher built from stored readings equals one built by reading everything."""
    import numpy as np

    import matcher.engine.features as features
    from matcher.engine.pipeline import Matcher
    from matcher.services import records_to_frame

    records = [ServiceRecord(id="A", name="Autism club", description="For autistic children.",
                             categories=["leisure"]),
               ServiceRecord(id="B", name="Swim", description="Not suitable for PMLD. Fun.",
                             categories=["leisure"]),
               ServiceRecord(id="C", name="Talk", description="Speech and language help.",
                             categories=["health"])]
    store.upsert_services(records)
    read: list[str] = []
    real = features.read_needs

    def counting(name, description, vocab):
        read.append(name)
        return real(name, description, vocab)

    monkeypatch.setattr(features, "read_needs", counting)

    def start() -> Directory:
        cache = DirectoryCache(store, tmp_path / "models", refresh_seconds=60)
        cache.start()
        built = cache.refresh(timeout=120)
        assert built is not None and built.matcher is not None
        return built

    first = start()
    assert sorted(read) == ["Autism club", "Swim", "Talk"]
    read.clear()
    second = start()
    assert read == []
    store.upsert_services([dataclasses.replace(records[1], description="For deaf children.")])
    read.clear()
    third = start()
    assert read == ["Swim"]
    fresh = Matcher.from_frame(records_to_frame(store.list_services()))
    for built in (third,):
        table = built.matcher.table
        assert np.array_equal(table.need_strength, fresh.table.need_strength)
        assert np.array_equal(table.need_excluded, fresh.table.need_excluded)
    assert np.array_equal(first.matcher.table.need_excluded, second.matcher.table.need_excluded)
    assert first.matcher.table.need_excluded.any()   # "Not suitable for PMLD" was read


def test_a_large_directory_is_prepared_in_a_child_process(store: Store, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With prepare_apart_from reached, the records' words are read and the text index fitted
    in a child process: this process reads no record's words and puts no text together, and
    its matcher equals one built entirely here."""
    import numpy as np

    import matcher.engine.features as features
    import matcher.engine.pipeline as pipeline
    from matcher.engine.pipeline import Matcher
    from matcher.services import records_to_frame

    records = [ServiceRecord(id=f"S{i}", name=f"Club {i}",
                             description=["For autistic children.", "Not suitable for PMLD.",
                                          "Speech and language therapy."][i % 3],
                             categories=["leisure"]) for i in range(12)]
    store.upsert_services(records)
    calls: list[str] = []
    monkeypatch.setattr(features, "read_needs",
                        lambda *a: calls.append("read") or (_ for _ in ()).throw(AssertionError))
    monkeypatch.setattr(pipeline, "text_fields",
                        lambda *a: calls.append("texts") or (_ for _ in ()).throw(AssertionError))
    from matcher.allowed import vocabulary_in_use

    cache = DirectoryCache(store, tmp_path / "models", refresh_seconds=60,
                           vocab=vocabulary_in_use(), prepare_apart_from=10)
    cache.start()
    built = cache.refresh(timeout=300)
    assert cache.error is None and built is not None and built.matcher is not None
    assert calls == []
    assert (tmp_path / "models" / "text_index.joblib").is_file()
    monkeypatch.undo()
    here = Matcher.from_frame(records_to_frame(store.list_services()))
    assert np.array_equal(built.matcher.table.need_strength, here.table.need_strength)
    assert np.array_equal(built.matcher.table.need_excluded, here.table.need_excluded)
    profile = {"age": 8, "needs": ["autism"], "about": "speech therapy"}
    assert [r.service_id for r in built.matcher.match(profile).results] == \
        [r.service_id for r in here.match(profile).results]


def test_readiness_and_requests_before_the_first_build(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the API: while the first matcher is built, readiness fails saying so and a
    match gets a 503 with Retry-After at once; once built, readiness reports the version."""
    import time

    from fastapi.testclient import TestClient

    from matcher.api import create_app
    from matcher.api.deps import EMPTY_DIRECTORY, ApiConfig
    from matcher.settings import Settings

    gate = threading.Event()
    real = DirectoryCache._build_in_use

    def gated(self, version):
        assert gate.wait(60), "the test never opened the gate"
        return real(self, version)

    monkeypatch.setattr(DirectoryCache, "_build_in_use", gated)
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.sqlite'}",
                        demo_data_path=tmp_path / "absent.csv")
    with TestClient(create_app(settings, ApiConfig(start_wait_seconds=0))) as client:
        r = client.get("/health/ready")
        assert r.status_code == 503 and "still being built" in r.json()["detail"]
        r = client.post("/match", json={"age": 8})
        assert r.status_code == 503 and r.json()["detail"] == NOT_READY
        assert r.headers["retry-after"] == "5"
        gate.set()
        deadline = time.monotonic() + 60
        while (r := client.get("/health/ready")).status_code != 200 and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.status_code == 200 and r.json()["directory_version"] == 0
        r = client.post("/match", json={"age": 8})
        assert r.status_code == 503 and r.json()["detail"] == EMPTY_DIRECTORY
