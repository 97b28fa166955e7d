"""The council's own details, in one file: ``data/council.toml`` (``MATCHER_COUNCIL``).

The Local Offer must tell families how to request an EHC needs assessment and how to complain,
go to mediation or appeal, with independent advice (SEND Regulations 2014 Schedule 2; SEND Code
of Practice 2015 chapter 4). Those routes are the same in law everywhere, but the contacts are
each council's: its name and area, its SEND team, its complaints route, its SENDIASS and the
mediation service it commissions. :func:`load_council` reads and checks them; the API checks
the file when it starts (:func:`matcher.api.app.create_app`) and serves it as ``GET /council``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from matcher.errors import ConfigError
from matcher.resources import data_path

__all__ = ["Contact", "Council", "default_council_path", "load_council", "parse_council"]

_EMAIL = re.compile(r"^[^@\s<>(),;:]+@[^@\s<>(),;:]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"(?i)^https?://[^\s/?#]+\.[a-z]{2,}(:\d+)?([/?#]\S*)?$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,}[0-9]$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


class Contact(BaseModel):
    """One team or service people can reach: a name and at least one way to contact it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2)
    phone: str = ""
    email: str = ""
    url: str = ""
    hours: str = ""

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        if v and not _PHONE.fullmatch(v.strip()):
            raise ValueError("is not a phone number (digits and spaces, e.g. 020 7946 0310)")
        return v.strip()

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if v and not _EMAIL.fullmatch(v.strip()):
            raise ValueError("is not one e-mail address (e.g. send@council.gov.uk)")
        return v.strip()

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not _URL.fullmatch(v.strip()):
            raise ValueError("is not a full web address starting https://")
        return v.strip()

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not (self.phone or self.email or self.url):
            raise ValueError("needs at least one of phone, email or url")
        return self


class Council(BaseModel):
    """The council whose Local Offer this is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2, description="short name used in sentences: 'Islington'")
    full_name: str = Field(min_length=2)
    districts: list[str] = Field(min_length=1, description="the postcode districts of its area")
    local_offer_url: str = ""
    send_team: Contact
    complaints: Contact
    sendiass: Contact
    mediation: Contact

    @field_validator("districts")
    @classmethod
    def _districts(cls, v: list[str]) -> list[str]:
        out = [d.strip().upper() for d in v]
        bad = [d for d in out if not _DISTRICT.fullmatch(d)]
        if bad:
            what = "is not a postcode district" if len(bad) == 1 else "are not postcode districts"
            raise ValueError(f"{', '.join(bad)} {what} (e.g. N7, EC1V)")
        return out

    @field_validator("local_offer_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not _URL.fullmatch(v.strip()):
            raise ValueError("is not a full web address starting https://")
        return v.strip()


def default_council_path() -> Path:
    """``data/council.toml`` in the repository (the demo council's fictional values)."""
    return data_path("council.toml")


def parse_council(data: dict, *, source: str = "council configuration") -> Council:
    """Check a mapping; every problem is listed in one :class:`ConfigError`."""
    try:
        return Council.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "is missing: add it"
            elif err["type"] in ("string_too_short", "too_short"):
                msg = "is blank or too short: write it in full"
            elif err["type"] == "extra_forbidden":
                msg = "is not a setting of this file: check the spelling or remove it"
            lines.append(f"- {where} {msg}")
        raise ConfigError(f"{source} has {len(lines)} problem(s):\n" + "\n".join(lines)) from None


def load_council(path: str | Path | None = None) -> Council:
    """Read and check the council file (default :func:`default_council_path`)."""
    p = Path(path) if path else default_council_path()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The council file {p} was not found. Copy data/council.toml and "
                          "fill in your council's details, or set MATCHER_COUNCIL.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from None
    return parse_council(data, source=str(p))
