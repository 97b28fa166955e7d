"""A family's profile (contract section 2), validated with plain-English messages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from matcher.allowed import Accessibility, Category, Delivery, Transition, TravelMode, When

__all__ = ["Profile", "Travel", "Preferences", "TravelMode", "Transition"]

# Travel modes, transitions and the preferences' values are checked against the vocabulary
# (data/vocabulary.yaml, see matcher.allowed): validate with
# ``Profile.model_validate(data, context={"vocabulary": vocab})`` to use a given one.


class Travel(BaseModel):
    """How the family can travel, and for how long each way."""

    model_config = ConfigDict(extra="forbid")

    mode: TravelMode | None = Field(
        None, description="how the family travels: a travel_modes value of the vocabulary"
    )
    max_minutes: float | None = Field(
        None, gt=0, le=240, strict=True,
        description="longest acceptable journey each way, in minutes"
    )


class Preferences(BaseModel):
    """Optional wishes. Only ``free_only`` is a hard rule; the rest raise or lower the score."""

    model_config = ConfigDict(extra="forbid")

    free_only: bool = Field(False, strict=True)
    categories: list[Category] = Field(default_factory=list, max_length=20)
    when: list[When] = Field(default_factory=list, max_length=10)
    accessibility: list[Accessibility] = Field(default_factory=list, max_length=10)
    delivery: list[Delivery] = Field(default_factory=list, max_length=10)
    language: str | None = Field(None, max_length=60)


class Profile(BaseModel):
    """What a family tells us. Only ``age`` is required."""

    model_config = ConfigDict(extra="forbid")

    # Strict: JSON numbers only, so `true` or "7" is refused rather than read as 1 or 7.
    age: int = Field(..., ge=0, le=25, strict=True, description="the child's or young person's age in years, 0 to 25")
    needs: list[str] = Field(default_factory=list, max_length=30,
                             description="needs in the family's own words, misspellings welcome")
    about: str = Field("", max_length=5000, description="free text from the family or practitioner")
    postcode: str | None = Field(None, max_length=16, description="full GB postcode or district")
    travel: Travel = Field(default_factory=Travel)
    transition: Transition | None = None
    has_ehcp: bool = Field(False, strict=True)
    preferences: Preferences = Field(default_factory=Preferences)
    limit: int = Field(10, ge=1, le=50, strict=True, description="how many results, at most 50")
    who: Literal["parent", "young_person", "senco", "key_worker"] | None = Field(
        None, description="who is asking: a parent or carer, the young person, a SENCo or a key worker")

    @field_validator("needs")
    @classmethod
    def _strip_needs(cls, v: list[str]) -> list[str]:
        out = [s.strip() for s in v if s and s.strip()]
        if any(len(s) > 200 for s in out):
            raise ValueError("each need must be at most 200 characters")
        return out

    @field_validator("postcode")
    @classmethod
    def _blank_postcode(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None

    @field_validator("has_ehcp", mode="before")
    @classmethod
    def _null_ehcp(cls, v: object) -> object:
        return False if v is None else v
