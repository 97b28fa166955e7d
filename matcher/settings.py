"""Settings read from the environment, once per process, through :func:`get_settings`.

Nothing is built at import time. Tests change the environment and then call
``get_settings.cache_clear()`` so the next :func:`get_settings` call reads it again.

Environment variables:

``MATCHER_DATABASE_URL``
    SQLAlchemy URL of the service directory (``sqlite:///...`` or ``postgresql+psycopg://...``).
    Default: ``sqlite:///<data dir>/matcher.sqlite``.
``MATCHER_DATA_DIR``
    Where the default SQLite file and other per-user data live. Default:
    ``$XDG_DATA_HOME/send-matcher``, else ``~/.local/share/send-matcher``.
``MATCHER_DEMO_DATA``
    The demo Local Offer CSV. Default: ``data/demo/islington_local_offer.csv`` in the repository.
``MATCHER_VOCABULARY``
    The needs vocabulary and closed lists (:mod:`matcher.vocab`). Default:
    ``data/vocabulary.yaml`` in the repository.
``MATCHER_COUNCIL``
    The council's own details (:mod:`matcher.council`). Default: ``data/council.toml`` in the
    repository (the demo council's fictional values).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Settings", "get_settings", "REPO_ROOT", "APP_NAME"]

APP_NAME = "send-matcher"
#: The repository (or installed source tree) root: the folder that holds ``matcher/``.
REPO_ROOT = Path(__file__).resolve().parents[1]


def _env(environ: Mapping[str, str], name: str) -> str | None:
    """The variable's value, or ``None`` when it is unset or blank."""
    value = environ.get(name, "").strip()
    return value or None


def _default_data_dir(environ: Mapping[str, str]) -> Path:
    explicit = _env(environ, "MATCHER_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = _env(environ, "XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / APP_NAME


class Settings(BaseModel):
    """Everything configurable about the process. Other modules may add fields."""

    model_config = ConfigDict(frozen=True)

    data_dir: Path = Field(description="per-user data folder (default SQLite file lives here)")
    database_url: str = Field(description="SQLAlchemy URL of the service directory")
    demo_data_path: Path = Field(description="the demo Local Offer CSV")
    vocabulary_path: Path = Field(
        default=REPO_ROOT / "data" / "vocabulary.yaml",
        description="the vocabulary file: needs and every closed list's allowed values")
    council_path: Path = Field(
        default=REPO_ROOT / "data" / "council.toml",
        description="the council's name, area, contacts, complaints and SENDIASS details")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        data_dir = _default_data_dir(env)
        database_url = _env(env, "MATCHER_DATABASE_URL") or f"sqlite:///{data_dir / 'matcher.sqlite'}"
        demo = _env(env, "MATCHER_DEMO_DATA")
        demo_path = (
            Path(demo).expanduser()
            if demo
            else REPO_ROOT / "data" / "demo" / "islington_local_offer.csv"
        )
        vocabulary = _env(env, "MATCHER_VOCABULARY")
        vocabulary_path = (Path(vocabulary).expanduser() if vocabulary
                           else REPO_ROOT / "data" / "vocabulary.yaml")
        council = _env(env, "MATCHER_COUNCIL")
        extra = {"council_path": Path(council).expanduser()} if council else {}
        return cls(data_dir=data_dir, database_url=database_url, demo_data_path=demo_path,
                   vocabulary_path=vocabulary_path, **extra)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first call.

    Call ``get_settings.cache_clear()`` after changing the environment (tests do).
    """
    return Settings.from_env()
