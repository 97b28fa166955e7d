"""The process's settings: one typed object read from ``MATCHER_*`` variables and ``.env``.

:func:`get_settings` reads them once per process (tests change the environment and call
``get_settings.cache_clear()``). Nothing is read at import time. Values come, highest first,
from: arguments given to :class:`Settings` (tests), environment variables, a ``.env`` file in
the current folder (``MATCHER_ENV_FILE`` names another one), then the defaults below. A blank
variable counts as unset.

An invalid value stops the process before it serves anything: :func:`get_settings` raises
:class:`~matcher.errors.ConfigError` naming every variable that is wrong, what it holds and
what is allowed (``matcher serve`` prints it and exits with status 2).

README.md has the same list as a table (tests/test_settings.py checks that they agree).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from matcher.errors import ConfigError
from matcher.resources import data_path

__all__ = ["Settings", "get_settings", "load_settings", "env_names", "REPO_ROOT", "APP_NAME"]

APP_NAME = "send-matcher"
#: The folder that holds ``matcher/``: the repository in a source checkout, ``site-packages``
#: when installed. The product finds its own files through :mod:`matcher.resources`, not this.
REPO_ROOT = Path(__file__).resolve().parents[1]

_PREFIX = "MATCHER_"


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / APP_NAME


class Settings(BaseSettings):
    """Everything configurable about the server process. Other modules may add fields."""

    model_config = SettingsConfigDict(
        env_prefix=_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        validate_default=True,
    )

    # ------------------------------------------------------------------ where things are
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="folder of the default SQLite file and the saved text index "
                    "(default: $XDG_DATA_HOME/send-matcher, else ~/.local/share/send-matcher)")
    database_url: str = Field(
        "", description="SQLAlchemy URL of the store: sqlite:///PATH or "
                        "postgresql+psycopg://USER:PASSWORD@HOST/DB (default: "
                        "sqlite:///<data dir>/matcher.sqlite)")
    demo_data_path: Path = Field(
        default_factory=lambda: data_path("demo", "islington_local_offer.csv"),
        validation_alias="MATCHER_DEMO_DATA",
        description="the Local Offer CSV `matcher run` imports into an empty store "
                    "(default: the fictional demo shipped with the package)")
    vocabulary_path: Path = Field(
        default_factory=lambda: data_path("vocabulary.yaml"),
        validation_alias="MATCHER_VOCABULARY",
        description="the vocabulary: needs and every closed list's allowed values "
                    "(default: the one shipped with the package)")
    council_path: Path = Field(
        default_factory=lambda: data_path("council.toml"),
        validation_alias="MATCHER_COUNCIL",
        description="the council's name, area, contacts, complaints and SENDIASS details "
                    "(default: the demo council's fictional values)")
    coprod_config: Path | None = Field(
        None, description="the co-production settings file (default: the one shipped with the "
                          "package); read by matcher/coprod/config.py")
    cache_dir: Path | None = Field(
        None, description="where the postcode index is cached (default: "
                          "$XDG_CACHE_HOME/send-matcher, else ~/.cache/send-matcher); read "
                          "by matcher/geo/postcodes.py")
    models_dir: Path | None = Field(
        None, description="where the text index is saved (default: <data dir>/models)")

    # ------------------------------------------------------------------ the HTTP layer
    max_json_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024,
                                description="largest JSON request body accepted, in bytes")
    max_upload_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024,
                                  description="largest CSV upload POST /import accepts, in bytes")
    refresh_seconds: float = Field(5.0, ge=0, le=3600,
                                   description="how often a server checks whether another "
                                               "process changed the directory (0: every request)")
    worker_start_seconds: int = Field(
        60, ge=5, le=600,
        description="with `matcher serve --workers N`: how long a worker may take to start or to "
                    "answer the supervisor's health check before it is restarted")
    trusted_proxies: str = Field(
        "", description="the load balancers or proxies whose X-Forwarded-For (and "
                        "X-Forwarded-Proto) headers are believed, comma-separated addresses or "
                        "networks (`10.0.0.5`, `10.0.0.0/24`; `*`: any). Empty: none, so a "
                        "request's client is the address that connected")
    ui_port: int = Field(8501, ge=1, le=65535,
                         description="port of the Streamlit app started by `matcher run`")

    # ------------------------------------------------------------------ operations
    log_format: Literal["json", "text"] = Field(
        "json", description="`json`: one JSON object a line (for a log collector); `text`: "
                            "plain lines for a terminal")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="the lowest level logged")
    metrics: bool = Field(True, description="serve Prometheus metrics at GET /metrics "
                                            "(`false` to switch off)")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        import ipaddress

        items = [x.strip() for x in value.split(",") if x.strip()]
        for item in items:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"'{item}' is not an IP address or network: list the load balancers' "
                    "addresses, comma-separated, e.g. 10.0.0.5,10.0.1.0/24 (or * for any)"
                ) from None
        return ",".join(items)

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        # Frozen model: fill in what depends on another field once, here.
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser())
        if not self.database_url.strip():
            object.__setattr__(self, "database_url",
                               f"sqlite:///{self.data_dir / 'matcher.sqlite'}")
        for name in ("demo_data_path", "vocabulary_path", "council_path", "coprod_config",
                     "cache_dir", "models_dir"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value).expanduser())
        return self


def env_names() -> dict[str, str]:
    """Field name -> the environment variable it is read from."""
    out: dict[str, str] = {}
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        out[name] = alias if isinstance(alias, str) else _PREFIX + name.upper()
    return out


def describe_error(exc: ValidationError) -> str:
    """A :class:`ValidationError` of :class:`Settings` as plain English naming each variable."""
    names = env_names()
    lines = [f"The settings have {exc.error_count()} problem(s), so the server did not start:"]
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        # The location is the field's name, or the variable itself for aliased fields.
        var = names.get(field) or next((v for v in names.values() if v.lower() == field.lower()),
                                       field.upper())
        message = str(err["msg"])
        if err["type"] == "bool_parsing":
            message = "it should be true or false"
        elif message.startswith("Input should"):
            message = "it should" + message[len("Input should"):]
        lines.append(f"  - {var} is {err.get('input')!r}: {message}.")
    lines.append("Fix these variables (in the environment or .env) and start again; "
                 "README.md lists every setting and its allowed values.")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings now; an invalid value raises :class:`ConfigError` naming it."""
    env_file = os.environ.get("MATCHER_ENV_FILE", "").strip() or ".env"
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(describe_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment (and ``.env``) on first call.

    Call ``get_settings.cache_clear()`` after changing the environment (tests do).
    """
    return load_settings()
