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


@dataclass(frozen=True)
class Directory:
    """The service directory at one data version, and the matcher built on it."""

    version: str
    records: list[ServiceRecord]
    matcher: Matcher | None   # None when the directory is empty
    by_id: dict[str, ServiceRecord] = field(default_factory=dict)


class DirectoryCache:
    """Holds the :class:`Directory` for the store's current data version.

    The store's :meth:`~matcher.store.Store.data_version` is checked at most every
    ``refresh_seconds`` (so an import by another worker is picked up within that time) and at
    once after :meth:`invalidate` (called by this process's own imports). A new version
    rebuilds the matcher; the text index is saved under ``models_dir`` and reused when its
    corpus is unchanged.
    """

    def __init__(self, store: Store, models_dir: Path, refresh_seconds: float = 5.0,
                 vocab: Vocabulary | None = None):
        self.store = store
        self.vocab = vocab  # the app's vocabulary: the matcher's closed lists and needs
        self.models_dir = Path(models_dir)
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._current: Directory | None = None
        self._checked_at = float("-inf")

    def invalidate(self) -> None:
        """Check the data version on the next :meth:`get`."""
        self._checked_at = float("-inf")

    def get(self) -> Directory:
        """The directory at the store's current version, rebuilding the matcher if it changed."""
        now = time.monotonic()
        current = self._current
        if current is not None and now - self._checked_at < self.refresh_seconds:
            return current
        with self._lock:
            version = self.store.data_version()
            self._checked_at = time.monotonic()
            if self._current is None or self._current.version != version:
                self._current = self._build(version)
            return self._current

    def _build(self, version: str) -> Directory:
        started = time.perf_counter()
        records = self.store.list_services()
        matcher = None
        if records:
            from matcher.services import records_to_frame

            self.models_dir.mkdir(parents=True, exist_ok=True)
            matcher = Matcher.from_frame(records_to_frame(records), vocab=self.vocab,
                                         models_dir=self.models_dir)
        log.info("matcher built for data version %s: %d services in %.0f ms", version,
                 len(records), (time.perf_counter() - started) * 1000)
        return Directory(version=version, records=records, matcher=matcher,
                         by_id={r.id: r for r in records})


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
                    self._cache = DirectoryCache(store, models, self.config.refresh_seconds,
                                                 vocab=self.vocabulary)
        return self._cache

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
