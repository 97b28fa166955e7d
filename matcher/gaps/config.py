"""Typed, bounded settings of the gap analysis: the ``[gaps]`` table of the match config.

Every threshold of :mod:`matcher.gaps` lives here with its bounds, so a bad value is refused
when the file is read, with one message listing every problem (as
:mod:`matcher.engine.config` does for the engine's own settings).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.errors import ConfigError
from matcher.resources import data_path

__all__ = [
    "AgeBand",
    "GapsConfig",
    "SERVE_LEVELS",
    "default_gaps_config_path",
    "load_gaps_config",
    "parse_gaps_config",
]

#: How a service can say it serves a need (see ``serves`` in :class:`GapsConfig`).
SERVE_LEVELS = ("stated", "broader", "area", "all_send", "text", "unstated")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgeBand(_Strict):
    """One phase or age band: ages ``min_age``..``max_age`` inclusive, and its travel limit."""

    label: str = Field(min_length=1, max_length=60)
    min_age: int = Field(ge=0, le=25)
    max_age: int = Field(ge=0, le=25)
    max_minutes: float = Field(gt=0, le=240)

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.min_age > self.max_age:
            raise ValueError(f"min_age {self.min_age} is above max_age {self.max_age}")
        return self


class GapsConfig(_Strict):
    """Settings of :func:`matcher.gaps.analyse_gaps` (see ``[gaps]`` in data/match_config.toml)."""

    level: Literal["sector", "district"] = "sector"
    # A travel mode of the engine's travel model ([travel.modes] of the match configuration,
    # one per travel mode of the vocabulary but online_only); checked when the analysis runs.
    mode: str = Field("public_transport", min_length=1, max_length=40)
    serves: list[Literal["stated", "broader", "area", "all_send", "text", "unstated"]] = Field(
        default_factory=lambda: ["stated", "broader", "area"], min_length=1)
    include_ehcp_required: bool = True
    remote_unstated_area: Literal["near_venue", "everywhere", "nowhere"] = "near_venue"
    thin_max: int = Field(1, ge=1, le=10)
    near_time_factor: float = Field(1.25, ge=1.0, le=3.0)
    near_age_years: int = Field(1, ge=0, le=5)
    near_area_km: float = Field(3.0, ge=0, le=50)
    near_miss_limit: int = Field(5, ge=0, le=50)
    suppress_below: int = Field(10, ge=1, le=1000)
    bands: dict[str, AgeBand] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> GapsConfig:
        bad = [b for b in self.bands if not b.replace("_", "").isalnum() or not b.islower()]
        if bad:
            raise ValueError(f"band names must be lower-case words joined by _, not {bad}")
        return self


def default_gaps_config_path() -> Path:
    """``data/match_config.toml`` at the repository root (its ``[gaps]`` table)."""
    return data_path("match_config.toml")


def _fallback_path() -> Path:
    return data_path("gaps_config.toml")


def parse_gaps_config(data: dict, source: str = "[gaps] configuration") -> GapsConfig:
    """Validate the ``[gaps]`` mapping; raise :class:`ConfigError` listing every problem."""
    try:
        return GapsConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source} has {exc.error_count()} problem(s):"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "gaps"
            lines.append(f"  - gaps.{where}: {err['msg']} (got {err.get('input')!r})")
        lines.append("Fix these values and load the file again.")
        raise ConfigError("\n".join(lines)) from None


@lru_cache(maxsize=8)
def load_gaps_config(path: str | Path | None = None) -> GapsConfig:
    """Read the ``[gaps]`` table of a TOML file.

    With no ``path``: ``data/match_config.toml`` when it has a ``[gaps]`` table, else
    ``data/gaps_config.toml`` (where the table lives until the engine's config accepts it).
    """
    candidates = [Path(path)] if path else [default_gaps_config_path(), _fallback_path()]
    for p in candidates:
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if path:
                raise ConfigError(f"Configuration file {p} not found.") from None
            continue
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p} is not valid TOML: {exc}") from None
        if "gaps" in data:
            return parse_gaps_config(data["gaps"], source=str(p))
        if path:
            raise ConfigError(f"{p} has no [gaps] table. Add one (see data/match_config.toml).")
    raise ConfigError("No [gaps] table found in data/match_config.toml or data/gaps_config.toml. "
                      "Add the [gaps] section to data/match_config.toml.")
