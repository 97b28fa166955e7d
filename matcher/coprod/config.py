"""Limits and thresholds of co-production: typed, bounded, read from TOML.

The defaults are in :class:`CoprodConfig`; ``data/coproduction.toml`` (or the file named by
``MATCHER_COPROD_CONFIG``) may override any of them.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from matcher.errors import ConfigError
from matcher.resources import data_path

__all__ = ["CoprodConfig", "load_coprod_config", "get_coprod_config", "DEFAULT_PATH"]

DEFAULT_PATH = data_path("coproduction.toml")


def _check_rate(value: str) -> str:
    from limits import parse

    try:
        parse(value)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a rate such as '10/minute' or '100 per hour'"
                         ) from exc
    return value


class CoprodConfig(BaseModel):
    """Everything configurable about comments, feedback and demand."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- rate limits, per client address (the `limits` library's notation)
    anonymous_write_rate: str = Field(
        "20/minute", description="comments and feedback one client may send")
    failed_key_rate: str = Field(
        "10/minute", description="wrong or unknown API keys one client may try")
    # --- comments
    max_words_chars: int = Field(2000, ge=50, le=20_000,
                                 description="longest comment accepted (characters)")
    contact_days: int = Field(90, ge=1, le=730,
                              description="days a contact address is kept, then deleted")
    themes: list[str] = Field(
        default_factory=lambda: [
            "Information and advice", "Education and schools", "Health and therapies",
            "Social care and short breaks", "Leisure and activities",
            "Preparing for adulthood", "Travel and transport",
            "Website and accessibility", "Something missing", "Other"],
        min_length=1)
    # --- feedback
    session_days: int = Field(7, ge=1, le=90,
                              description="days a session's 'already counted' mark is kept")
    # --- demand
    demand_threshold: float = Field(
        0.45, ge=0.0, le=1.0,
        description="a search whose best score is below this counts as poorly served")
    demand_min_count: int = Field(5, ge=1, le=1000,
                                  description="demand cells under this are never shown")
    demand_round_to: int = Field(5, ge=1, le=100,
                                 description="shown demand counts are rounded to this")
    demand_rate: str = Field(
        "30/hour", description="searches one client may add to demand (more are not counted)")

    _rates = field_validator("anonymous_write_rate", "failed_key_rate", "demand_rate")(
        classmethod(lambda cls, v: _check_rate(v)))


def load_coprod_config(path: str | Path | None = None) -> CoprodConfig:
    """The configuration in ``path`` (default: ``MATCHER_COPROD_CONFIG`` or
    ``data/coproduction.toml``; defaults only when that file does not exist)."""
    chosen = Path(path or os.environ.get("MATCHER_COPROD_CONFIG", "").strip() or DEFAULT_PATH)
    if not chosen.is_file():
        if path is not None or os.environ.get("MATCHER_COPROD_CONFIG", "").strip():
            raise ConfigError(f"The co-production settings file {chosen} does not exist. "
                              "Fix the path, or unset MATCHER_COPROD_CONFIG for the defaults.")
        return CoprodConfig()
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen} is not valid TOML: {exc}.") from exc
    try:
        return CoprodConfig.model_validate(data.get("coproduction", data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{chosen} has settings that are not allowed: {problems}.") from exc


@lru_cache(maxsize=1)
def get_coprod_config() -> CoprodConfig:
    """The process-wide configuration (``get_coprod_config.cache_clear()`` re-reads it)."""
    return load_coprod_config()
