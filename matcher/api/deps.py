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
from dataclasses import dataclass, field
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
                                 "(records' words read, text index fitted) in a child process "
                                 "before each build, not in the server's; None: never")
    import_wait_seconds: float = Field(600.0, ge=0, le=86400,
                                       description="how long POST /import waits for the new "
                                                   "matcher before answering (other requests "
                                                   "are answered from the old one meanwhile)")


@dataclass(frozen=True)
class Directory:
    """The service directory at one data version, and the matcher built on it."""

    version: str
    records: list[ServiceRecord]
    matcher: Matcher | None   # None when the directory is empty
    by_id: dict[str, ServiceRecord] = field(default_factory=dict)
    #: The store's version counter (:meth:`~matcher.store.Store.directory_version`) it was
    #: built at.
    counter: int = -1


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


class DirectoryCache:
    """Holds the :class:`Directory` for the store's current version; rebuilds it off the
    request path.

    The store's version counter (:meth:`~matcher.store.Store.directory_version`, one row) is
    read at most every ``refresh_seconds`` (so an import by another worker is picked up within
    that time) and at once after :meth:`invalidate`. A newer version starts a build in a
    background thread; requests keep being answered from the directory already built until
    the new one is swapped in (one assignment). The text index is saved under ``models_dir``
    and reused when its corpus is unchanged.

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
            if self.store.directory_version() == directory.counter:
                break

    def _prepared(self, vocab: Vocabulary) -> bool:
        """True when every active service has a current reading and the saved text index is
        the current version's: nothing is left for :meth:`_prepare_apart` to do."""
        from matcher.api.prepare import data_key
        from matcher.engine.config import load_config
        from matcher.engine.features import reading_key
        from matcher.engine.pipeline import saved_index_key

        key = reading_key(vocab)
        if key is None:
            return False
        wanted = data_key(self.store.data_version(), vocab, load_config())
        return saved_index_key(self.models_dir) == wanted and \
            self.store.count_readings(key) >= self.store.count_active()

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

    def _prepare_apart_once(self, vocab: Vocabulary) -> None:
        """:meth:`_prepare_apart`, one process at a time per models folder: the workers of
        one machine start together and would otherwise each read every record and fit the
        same text index at once (N times the CPU, and none ready until all are done). The
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
                if not self._prepared(vocab):
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

        started = time.perf_counter()
        self.models_dir.mkdir(parents=True, exist_ok=True)
        if self.prepare_apart_from is not None and \
                self.store.count_services() >= self.prepare_apart_from and \
                not self._prepared(vocabulary_in_use() if self.vocab is None else self.vocab):
            self._prepare_apart_once(vocabulary_in_use() if self.vocab is None else self.vocab)
        fingerprint = self.store.data_version()
        records = self.store.list_services()
        matcher = None
        if records:
            from matcher.services import records_to_frame

            vocab = self.vocab or vocabulary_in_use()
            cfg = load_config()
            matcher = Matcher.from_frame(records_to_frame(records), vocab=vocab, cfg=cfg,
                                         models_dir=self.models_dir,
                                         readings=stored_readings(self.store, records, vocab),
                                         data_key=data_key(fingerprint, vocab, cfg))
        log.info("matcher built for directory version %s: %d services in %.0f ms", version,
                 len(records), (time.perf_counter() - started) * 1000)
        return Directory(version=fingerprint, records=records, matcher=matcher,
                         by_id={r.id: r for r in records}, counter=version)


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
