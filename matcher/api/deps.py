"""FastAPI dependencies: settings, the vocabulary, the store, and the matcher cached per data
version.

Nothing is built at import time. :func:`matcher.api.app.create_app` puts one
:class:`AppResources` on ``app.state.resources``; the store is opened and the matcher built
lazily, on the first request that needs them. Tests replace any of them with
``app.dependency_overrides`` (e.g. ``app.dependency_overrides[get_matcher] = lambda: fake``).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from matcher.engine.pipeline import Matcher
from matcher.errors import MatcherError, StoreUnavailableError
from matcher.services import ServiceRecord
from matcher.settings import Settings
from matcher.store import Store
from matcher.vocab import Vocabulary

__all__ = [
    "ApiConfig",
    "Directory",
    "DirectoryCache",
    "AppResources",
    "EMPTY_DIRECTORY",
    "NOT_READY",
    "get_settings",
    "get_vocabulary",
    "get_api_config",
    "get_resources",
    "get_store",
    "get_directory",
    "get_matcher",
    "SettingsDep",
    "VocabularyDep",
    "ApiConfigDep",
    "StoreDep",
    "DirectoryDep",
    "MatcherDep",
]

log = logging.getLogger("matcher.api")

#: The ``detail`` of the 503 answered while the directory holds no service.
EMPTY_DIRECTORY = (
    "The service directory is empty. Import a Local Offer CSV first: "
    "`matcher import PATH`, or POST /import with an admin API key."
)


class ApiConfig(BaseModel):
    """Limits and timings of the HTTP layer (the engine's own settings live in MatchConfig)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_json_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024,
                                description="largest JSON request body accepted (bytes)")
    max_upload_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024,
                                  description="largest CSV upload accepted by POST /import (bytes)")
    refresh_seconds: float = Field(5.0, ge=0, le=3600,
                                   description="how often to check whether another process has "
                                               "changed the directory (0: on every request)")
    models_dir: Path | None = Field(None, description="where the text index is saved; default "
                                                      "<data_dir>/models")
    start_wait_seconds: float = Field(30.0, ge=0, le=3600,
                                      description="how long a request that arrives before the "
                                                  "first matcher is built waits for it before "
                                                  "a 503 (the build itself starts at start-up)")
    prepare_apart_from: int | None = Field(
        2_000, ge=0, description="a directory of at least this many services is prepared "
                                 "(records' words read, text index fitted, the matcher built "
                                 "and written as its prepared index) in a child process, "
                                 "unless the import did it, and mapped by the server, which "
                                 "then reads the records only when a route lists them; "
                                 "None: never")
    match_concurrency: int | None = Field(
        None, ge=1, le=1024,
        description="matches computed at once by one worker; more wait their turn (a match "
                    "over a large directory holds tens of MiB of working arrays, and on N "
                    "cores more than N at once only share the same CPUs). None: the number "
                    "of CPUs")
    import_wait_seconds: float = Field(600.0, ge=0, le=86400,
                                       description="how long POST /import waits for the new "
                                                   "matcher before answering (other requests "
                                                   "are answered from the old one meanwhile)")


class Directory:
    """The service directory at one data version, and the matcher built on it.

    ``records`` (every stored service, for the routes that list or look up services) are
    either given, or read from the store by ``load_records`` the first time a route asks for
    them (a large directory's matcher is mapped from its prepared index and needs none of
    them, so a start does not pay for reading them)."""

    def __init__(self, version: str, records: list[ServiceRecord] | None = None,
                 matcher: Matcher | None = None,
                 by_id: dict[str, ServiceRecord] | None = None, counter: int = -1, *,
                 load_records: Callable[[], list[ServiceRecord]] | None = None,
                 size: int | None = None):
        if records is None and load_records is None:
            records = []
        self.version = version
        self.matcher = matcher   # None when the directory is empty
        #: The store's version counter (:meth:`~matcher.store.Store.directory_version`) it
        #: was built at.
        self.counter = counter
        self._records = records
        self._by_id = by_id
        self._load_records = load_records
        self._size = size if size is not None else (len(records) if records is not None
                                                    else None)
        self._lock = threading.Lock()

    @property
    def records(self) -> list[ServiceRecord]:
        """Every stored service (active or not), ordered by id."""
        if self._records is None:
            with self._lock:
                if self._records is None:
                    assert self._load_records is not None
                    started = time.perf_counter()
                    self._records = self._load_records()
                    log.info("directory version %s: %d records read for listing in %.0f ms",
                             self.counter, len(self._records),
                             (time.perf_counter() - started) * 1000)
        return self._records

    @property
    def by_id(self) -> dict[str, ServiceRecord]:
        """:attr:`records` by id."""
        if self._by_id is None:
            records = self.records
            with self._lock:
                if self._by_id is None:
                    self._by_id = {r.id: r for r in records}
        return self._by_id

    @property
    def size(self) -> int:
        """How many services are stored (active or not), without reading them."""
        if self._size is None:
            return len(self.records)
        return self._size


#: The ``detail`` of the 503 answered while the first matcher is still being built.
NOT_READY = ("The service directory is still being loaded after a start. Try again in a few "
             "seconds (GET /health/ready says when it is ready).")


#: How long a replaced directory may stay in use by requests before its memory is released.
RELEASE_WAIT_SECONDS = 10.0
#: The interpreter's switch interval while a matcher is built beside the requests (seconds).
BUILD_SWITCH_INTERVAL = 0.0005


def _release_freed_memory() -> None:
    """Give the memory of a replaced directory back to the system: collect its cycles, then
    ask glibc (where there is one) to return freed heap pages, so a worker's resident size
    stays flat across imports instead of keeping each old matcher's high-water mark."""
    import ctypes
    import gc
    from contextlib import suppress

    gc.collect()
    with suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


#: glibc malloc arenas a server process allocates from (``M_ARENA_MAX``), unless the
#: ``MALLOC_ARENA_MAX`` environment variable says otherwise. glibc's default (8 per core)
#: gives many of the request threads an arena of their own, each keeping the high-water mark
#: of the directory-sized working arrays of the matches it ran: at 100,000 services that
#: added several hundred MiB under 20 clients.
MALLOC_ARENAS = 2


def _limit_malloc_arenas() -> None:
    """Cap the allocator's arenas at :data:`MALLOC_ARENAS` (glibc only; else nothing)."""
    import ctypes
    import os
    from contextlib import suppress

    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(-8, MALLOC_ARENAS)   # -8: M_ARENA_MAX


class DirectoryCache:
    """Holds the :class:`Directory` for the store's current version; rebuilds it off the
    request path.

    The store's version counter (:meth:`~matcher.store.Store.directory_version`, one row) is
    read at most every ``refresh_seconds`` (so an import by another worker is picked up within
    that time) and at once after :meth:`invalidate`. A newer version starts a build in a
    background thread; requests keep being answered from the directory already built until
    the new one is swapped in (one assignment). The text index is saved under ``models_dir``
    and reused when its corpus is unchanged, and so is each version's prepared index
    (:mod:`matcher.engine.snapshot`): the built table, which this cache maps instead of
    building when it is there. For ``prepare_apart_from`` services or more it is written by a
    child process (or by the import), and the records themselves are read from the store only
    when a route lists them (:attr:`Directory.records`).

    Before the first build has finished :attr:`ready` is False; :meth:`start` begins that
    build at once (the app's start-up calls it). A request that arrives before it is ready
    waits for it at most ``start_wait_seconds``, then gets a 503 (:data:`NOT_READY`).
    """

    def __init__(self, store: Store, models_dir: Path, refresh_seconds: float = 5.0,
                 vocab: Vocabulary | None = None, start_wait_seconds: float = 30.0,
                 prepare_apart_from: int | None = None, prepare_timeout_seconds: float = 3600):
        self.store = store
        #: Directories of at least this many services are prepared in a child process
        #: (:meth:`_prepare_apart`) before each build; None: never.
        self.prepare_apart_from = prepare_apart_from
        self.prepare_timeout_seconds = prepare_timeout_seconds
        self.vocab = vocab  # the app's vocabulary: the matcher's closed lists and needs
        self.models_dir = Path(models_dir)
        self.refresh_seconds = refresh_seconds
        self.start_wait_seconds = start_wait_seconds
        self._lock = threading.Lock()
        self._built = threading.Condition(self._lock)
        self._current: Directory | None = None
        self._checked_at = float("-inf")
        self._thread: threading.Thread | None = None   # the one builder thread, once started
        self._wake = threading.Event()
        self._busy = False         # a build is asked for or running
        self._error: BaseException | None = None
        self._error_version: int | None = None
        self.builds = 0            # matchers built so far (for tests and metrics)
        self._prepared_folder: Path | None = None   # the prepared index now served

    # ------------------------------------------------------------------ state
    @property
    def ready(self) -> bool:
        """True once a directory has been built (requests never wait for a build then)."""
        return self._current is not None

    @property
    def building(self) -> bool:
        """True while a build is asked for or runs in the background."""
        return self._busy

    @property
    def current(self) -> Directory | None:
        """The directory requests are answered from now (None before the first build)."""
        return self._current

    @property
    def error(self) -> BaseException | None:
        """Why the last build failed, or None."""
        return self._error

    def status(self) -> dict[str, object]:
        """What readiness reports: ready, building, the version served and any build error."""
        current = self._current
        return {"ready": current is not None, "building": self.building,
                "version": None if current is None else current.counter,
                "data_version": None if current is None else current.version,
                "error": None if self._error is None else str(self._error)}

    # ------------------------------------------------------------------ triggering builds
    def invalidate(self) -> None:
        """Check the store's version on the next :meth:`get`."""
        self._checked_at = float("-inf")

    def start(self) -> None:
        """Read the store's version now and start building it in the background if it is
        not the one served (does not wait)."""
        self._check()

    def refresh(self, timeout: float | None = None) -> Directory | None:
        """Read the store's version now, build it if it is new, and wait (at most
        ``timeout`` seconds; ``None``: until done) for the directory of that version. For a
        caller that has just written to the store and wants its answer to reflect the write
        (the import routes); other requests meanwhile keep the old directory. Raises the
        build's error if building that version failed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wanted = self._check()
            with self._built:
                current = self._current
                if current is not None and current.counter >= wanted:
                    return current
                if self.building:
                    left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
                    if left > 0:
                        self._built.wait(left)
                elif self._error is not None and self._error_version == wanted:
                    raise self._error
            if deadline is not None and time.monotonic() >= deadline:
                return self._current

    def _check(self) -> int:
        """Read the version counter; ask for a build when it differs from the one served (a
        running build then looks again when done; a version whose build failed is not retried
        until ``get`` finds no directory at all). Returns the counter."""
        version = self.store.directory_version()
        self._checked_at = time.monotonic()
        with self._lock:
            current = self._current
            served = -1 if current is None else current.counter
            failed = self._error is not None and self._error_version == version
            if version != served and not failed:
                self._spawn()   # while a build runs, it is asked to look again when done
        return version

    def _spawn(self) -> None:
        """Ask the builder thread for a build, starting it the first time (caller holds the
        lock). One thread does every build of this cache, so its memory comes from one
        allocator arena instead of a new one per build."""
        self._busy = True
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve_builds, name="matcher-build",
                                            daemon=True)
            self._thread.start()
        self._wake.set()

    def _serve_builds(self) -> None:
        """The builder thread: wait for a request, build, and tell the waiters."""
        while True:
            self._wake.wait()
            with self._lock:
                self._wake.clear()
                self._busy = True
            try:
                self._run()
            finally:
                with self._built:
                    # Asked again while building: stay busy and go round once more.
                    if not self._wake.is_set():
                        self._busy = False
                    self._built.notify_all()

    # ------------------------------------------------------------------ serving
    def get(self) -> Directory:
        """The directory to answer from: the one built, never waiting for a newer one. Every
        ``refresh_seconds`` the store's version is read, and a newer one built in the
        background."""
        current = self._current
        if current is not None:
            if time.monotonic() - self._checked_at >= self.refresh_seconds:
                try:
                    self._check()
                except Exception:  # noqa: BLE001 - a failed check keeps the directory served
                    log.warning("could not read the directory version; serving version %s",
                                current.counter, exc_info=True)
            return current
        # Not ready yet: make sure a build runs, then wait for it for a bounded time.
        if not self.building:
            self._error = None
            self._check()
        with self._built:
            deadline = time.monotonic() + self.start_wait_seconds
            while self._current is None:
                if not self.building:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._built.wait(left)
            current = self._current
        if current is not None:
            return current
        if self._error is not None:
            raise self._error
        raise HTTPException(status_code=503, detail=NOT_READY, headers={"Retry-After": "5"})

    # ------------------------------------------------------------------ building
    def _run(self) -> None:
        """The builder thread: build the newest version, swap it in, and go again while the
        store has moved on meanwhile.

        While it builds, the interpreter hands its lock between threads every
        :data:`BUILD_SWITCH_INTERVAL` seconds instead of every 5 ms, so that a request
        thread waiting for the lock (after each NumPy operation or socket read) waits that
        much less for the builder."""
        import sys

        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, BUILD_SWITCH_INTERVAL))
        try:
            self._run_builds()
        finally:
            sys.setswitchinterval(interval)

    def _run_builds(self) -> None:
        while True:
            version: int | None = None
            try:
                version = self.store.directory_version()
                current = self._current
                if current is not None and current.counter == version:
                    break
                directory = self._build(version)
            except Exception as exc:  # noqa: BLE001 - kept for get() and refresh() to report
                log.exception("building the matcher failed; the directory served is unchanged")
                with self._built:
                    self._error = exc
                    self._error_version = version
                    self._built.notify_all()
                return
            with self._built:
                old, self._current = self._current, directory
                self._error = None
                self.builds += 1
                self._built.notify_all()
            del current
            if old is not None:
                # Requests still running on the old directory keep it a moment; once the last
                # has let go (or after a few seconds), its memory is handed back.
                gone = weakref.ref(old)
                del old
                deadline = time.monotonic() + RELEASE_WAIT_SECONDS
                while gone() is not None and time.monotonic() < deadline:
                    time.sleep(0.1)
                _release_freed_memory()
            self._remove_old_prepared()
            if self.store.directory_version() == directory.counter:
                break

    def _prepare_apart(self) -> None:
        """Run :mod:`matcher.api.prepare` in a child process for the store's current
        version: it reads and stores the records' words and fits and saves the text index,
        holding neither this process's interpreter lock nor its memory. Any failure is
        logged; the build then does that work itself."""
        import os
        import subprocess
        import sys

        vocab_path = getattr(self.vocab, "source", None)
        if vocab_path is None or not Path(str(vocab_path)).is_file():
            return
        url = self.store.engine.url.render_as_string(hide_password=False)
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "matcher.api.prepare", "--database-url", url,
                 "--models-dir", str(self.models_dir), "--vocabulary", str(vocab_path)],
                capture_output=True, text=True, timeout=self.prepare_timeout_seconds,
                env=os.environ.copy(), check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("preparing the directory in a child process failed (%s); the build "
                        "does it itself", type(exc).__name__)
            return
        if done.returncode != 0:
            log.warning("preparing the directory in a child process failed (exit code %s); "
                        "the build does it itself: %s", done.returncode,
                        done.stderr.strip()[-2000:])
            return
        log.info("directory prepared in a child process in %.0f ms",
                 (time.perf_counter() - started) * 1000)

    def _prepare_apart_once(self, folder: Path) -> None:
        """:meth:`_prepare_apart`, one process at a time per models folder: the workers of
        one machine start together and would otherwise each read every record and build the
        same prepared index at once (N times the CPU, and none ready until all are done). The
        first takes a lock on ``<models_dir>/.prepare.lock``; the others wait for it, then find
        the work done and skip it. Without ``fcntl`` (not Linux or macOS) there is no lock."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not a POSIX system
            self._prepare_apart()
            return
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with open(self.models_dir / ".prepare.lock", "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                if not (folder / "done.json").is_file():
                    self._prepare_apart()
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _build(self, version: int) -> Directory:
        if self.vocab is not None:
            from matcher.allowed import using_vocabulary

            with using_vocabulary(self.vocab):
                return self._build_in_use(version)
        return self._build_in_use(version)

    def _build_in_use(self, version: int) -> Directory:
        from matcher.allowed import vocabulary_in_use
        from matcher.api.prepare import data_key, stored_readings
        from matcher.engine.config import load_config
        from matcher.engine.snapshot import prepared_folder

        started = time.perf_counter()
        self.models_dir.mkdir(parents=True, exist_ok=True)
        vocab = self.vocab or vocabulary_in_use()
        cfg = load_config()
        fingerprint = self.store.data_version()
        size = self.store.count_services()
        if not size:
            return Directory(version=fingerprint, records=[], matcher=None, counter=version)
        key = data_key(fingerprint, vocab, cfg)
        folder = prepared_folder(self.models_dir, key)
        large = self.prepare_apart_from is not None and size >= self.prepare_apart_from
        if large and not (folder / "done.json").is_file():
            self._prepare_apart_once(folder)
        matcher = self._load_prepared(folder, vocab, cfg)
        how = "mapped from its prepared index"
        if matcher is not None and large:
            self._prepared_folder = folder
            directory = Directory(version=fingerprint, matcher=matcher, counter=version,
                                  load_records=self.store.list_services, size=size)
        else:
            records = self.store.list_services()
            if matcher is None:
                from matcher.services import records_to_frame

                how = "built"
                matcher = Matcher.from_frame(
                    records_to_frame(records), vocab=vocab, cfg=cfg, models_dir=self.models_dir,
                    readings=stored_readings(self.store, records, vocab), data_key=key)
                self._write_prepared(matcher, cfg, folder)
            self._prepared_folder = folder
            directory = Directory(version=fingerprint, records=records, matcher=matcher,
                                  counter=version)
        log.info("matcher %s for directory version %s: %d services in %.0f ms", how, version,
                 size, (time.perf_counter() - started) * 1000)
        return directory

    def _load_prepared(self, folder: Path, vocab: Vocabulary, cfg) -> Matcher | None:
        """The matcher over the prepared index at ``folder``, or None when there is none (or
        it cannot be read: then it is built, and the folder written again)."""
        from matcher.engine.snapshot import load_prepared
        from matcher.geo.postcodes import get_postcode_index

        if not (folder / "done.json").is_file():
            return None
        try:
            return Matcher(load_prepared(folder, cfg), vocab, get_postcode_index(), cfg)
        except Exception:  # noqa: BLE001 - a broken folder is rebuilt, never served
            log.warning("the prepared index could not be read; building instead",
                        exc_info=True)
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            return None

    @staticmethod
    def _write_prepared(matcher: Matcher, cfg, folder: Path) -> None:
        """Write the prepared index of a matcher built here, for the next start and the
        other workers (a failure is logged: the matcher built is served all the same)."""
        from matcher.engine.snapshot import write_prepared

        try:
            write_prepared(matcher.table, cfg, folder)
        except Exception:  # noqa: BLE001 - only the next start is slower
            log.warning("could not write the prepared index", exc_info=True)

    def _remove_old_prepared(self) -> None:
        """Delete the prepared folders of the versions before the one now served."""
        from matcher.engine.snapshot import remove_old_prepared

        folder = getattr(self, "_prepared_folder", None)
        if folder is None:
            return
        try:
            removed = remove_old_prepared(self.models_dir, folder)
        except OSError:
            log.warning("could not remove old prepared indexes", exc_info=True)
            return
        if removed:
            log.info("removed %d prepared index(es) of earlier directory versions", removed)


class AppResources:
    """Per-application state: settings, HTTP limits, the vocabulary (read from
    ``settings.vocabulary_path`` now, so a broken file stops the app at once), and the lazily
    opened store and cache."""

    def __init__(self, settings: Settings, config: ApiConfig):
        from matcher.allowed import vocabulary_at

        self.settings = settings
        self.config = config
        self.vocabulary = vocabulary_at(settings.vocabulary_path)
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._cache: DirectoryCache | None = None

    @property
    def store(self) -> Store:
        """The store (opened, and its schema brought up to date, on first use)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    try:
                        store = Store.open(self.settings.database_url)
                    except MatcherError as exc:
                        # Answered 503 {"detail": ...} by the API's error handlers.
                        raise StoreUnavailableError(str(exc)) from exc
                    self._store = store
        return self._store

    def check_store(self) -> list[str]:
        """Every reason the store cannot take writes now (empty: ready); see
        :func:`matcher.store.health.store_problems`."""
        from matcher.store.health import store_problems

        try:
            store = self.store
        except MatcherError as exc:
            return [str(exc)]
        return store_problems(store)

    @property
    def cache(self) -> DirectoryCache:
        """The matcher cache over :attr:`store`."""
        if self._cache is None:
            store = self.store
            with self._lock:
                if self._cache is None:
                    models = self.config.models_dir or self.settings.data_dir / "models"
                    self._cache = DirectoryCache(
                        store, models, self.config.refresh_seconds, vocab=self.vocabulary,
                        start_wait_seconds=self.config.start_wait_seconds,
                        prepare_apart_from=self.config.prepare_apart_from)
        return self._cache

    def start_building(self) -> None:
        """Open the store and start building the matcher in the background (the app's
        start-up calls this; it does not wait). A store that cannot be opened is logged and
        left to the requests and readiness check to report."""
        _limit_malloc_arenas()   # before the request threads start
        try:
            self.cache.start()
        except Exception:  # noqa: BLE001 - reported by readiness and by the requests
            log.exception("the store could not be read at start; the matcher is not built")

    def directory_status(self) -> dict[str, object]:
        """Whether the matcher is built (``ready``), being rebuilt (``building``), the
        version it serves and the last build error: see :meth:`DirectoryCache.status`."""
        cache = self._cache
        if cache is None:
            return {"ready": False, "building": False, "version": None, "data_version": None,
                    "error": None}
        return cache.status()

    @property
    def directory_ready(self) -> bool:
        """True once the first matcher is built; requests never pay a build after that."""
        cache = self._cache
        return cache is not None and cache.ready

    def close(self) -> None:
        """Release the store's connections."""
        if self._store is not None:
            self._store.close()


def get_resources(request: Request) -> AppResources:
    """The application's :class:`AppResources`."""
    return request.app.state.resources


def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``matcher.settings.get_settings()`` by default)."""
    return get_resources(request).settings


def get_vocabulary(request: Request) -> Vocabulary:
    """The vocabulary the app was created with (``settings.vocabulary_path``)."""
    return get_resources(request).vocabulary


def get_api_config(request: Request) -> ApiConfig:
    """The HTTP layer's limits."""
    return get_resources(request).config


def get_store(request: Request) -> Store:
    """The service directory."""
    return get_resources(request).store


def get_directory(request: Request) -> Directory:
    """The directory at its current data version (rebuilt after an import)."""
    return get_resources(request).cache.get()


DirectoryDep = Annotated[Directory, Depends(get_directory)]


def get_matcher(directory: DirectoryDep) -> Matcher:
    """The matcher for the current data version; 503 while the directory is empty."""
    if directory.matcher is None:
        raise HTTPException(status_code=503, detail=EMPTY_DIRECTORY)
    return directory.matcher


SettingsDep = Annotated[Settings, Depends(get_settings)]
VocabularyDep = Annotated[Vocabulary, Depends(get_vocabulary)]
ApiConfigDep = Annotated[ApiConfig, Depends(get_api_config)]
StoreDep = Annotated[Store, Depends(get_store)]
MatcherDep = Annotated[Matcher, Depends(get_matcher)]
