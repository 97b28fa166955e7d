"""The field layer every reader maps its format onto.

A reader (CSV template, ORUK 3.0, ORUK v1, Outpost) only turns its own shape into a
:class:`RawRecord`: the service's fields as the record states them, ``None`` (or an empty list)
where it states nothing, its venues (:class:`Place`), taxonomy terms (:class:`Term`),
schedules (:class:`Schedule`) and audience tags, and the problems and warnings found on the
way. The shared rules (:mod:`matcher.ingest.rules`) then check venues against the gazetteer,
map words onto the vocabulary and build the :class:`~matcher.services.ServiceRecord`.

Unknown stays unknown: ``delivery``, ``cost``, ``service_area``, ``referral`` and ``when`` are
only filled from what the record says; nothing here has a default that claims a fact.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import MISSING, field, fields
from typing import Any

from pydantic.dataclasses import dataclass as pydantic_dataclass

from matcher.ingest.report import Problem, short_value

__all__ = ["Place", "RawRecord", "Schedule", "Term"]

_CONFIG = {"arbitrary_types_allowed": True}


@pydantic_dataclass
class Term:
    """One taxonomy term or audience tag attached to a service."""

    text: str        # what people read ("Clubs and groups")
    value: str       # the term's code, else its text
    taxonomy: str    # the taxonomy's name ("send-matcher:when", "SEND needs", "audience"...)
    column: str      # where in the record, for the report


@pydantic_dataclass
class Schedule:
    """What a record says about when a service runs."""

    days: set[str] = field(default_factory=set)      # "MO".."SU"
    opens: int | None = None                          # minutes after midnight
    closes: int | None = None
    texts: list[str] = field(default_factory=list)    # descriptions, notes


@pydantic_dataclass
class Place:
    """One location of a service, before its postcode is checked."""

    column: str
    postcode: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    virtual: bool = False
    postal: bool = False      # an address to write to, not a venue to attend
    accessibility: list[str] = field(default_factory=list)


@pydantic_dataclass(config=_CONFIG)
class RawRecord:
    """One record of any format, mapped onto the service template's fields.

    Fields mirror :class:`~matcher.services.ServiceRecord`; ``None`` means the record does not
    say. ``problems`` reject the record; ``warnings`` never do.
    """

    row: int
    source: str = "csv"
    id: str = ""
    name: str = ""
    description: str = ""
    organisation: str = ""
    #: The provider's words about itself (read for who it serves; not kept on the record).
    organisation_description: str = ""
    categories: list[str] = field(default_factory=list)
    needs_raw: str = ""
    needs: list[str] = field(default_factory=list)
    needs_unrecognised: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    min_age: int | None = None
    max_age: int | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    service_area: list[str] = field(default_factory=list)
    delivery: list[str] = field(default_factory=list)
    cost: str | None = None
    cost_details: str = ""
    when: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    referral: list[str] = field(default_factory=list)
    ehcp_required: bool = False
    transitions: list[str] = field(default_factory=list)
    url: str = ""
    phone: str = ""
    email: str = ""
    last_reviewed: dt.date | None = None
    status: str = "active"
    ratings: list[dict] = field(default_factory=list)
    accreditations: list[str] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    outside_area: bool = False
    used_by_local_families: bool = False
    places: list[Place] = field(default_factory=list)
    tags: list[Term] = field(default_factory=list)
    ours: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @classmethod
    def blank(cls, row: int, source: str) -> RawRecord:
        """``RawRecord(row=row, source=source)``: the same record, made without pydantic
        checking every default again (readers make one per record of a feed)."""
        if type(row) is not int or type(source) is not str:
            return cls(row=row, source=source)
        record = object.__new__(cls)
        values = record.__dict__
        for name, default, factory in _blank_fields():
            values[name] = factory() if factory is not None else default
        values["row"], values["source"] = row, source
        return record

    def set(self, **values: Any) -> None:
        """Set several fields at once."""
        for name, value in values.items():
            setattr(self, name, value)

    def problem(self, column: str, value: Any, problem: str, fix: str) -> None:
        """Record an error: the record will not be imported."""
        self.problems.append(Problem(self.row, column, short_value(value), problem, fix))

    def warn(self, column: str, value: Any, problem: str, fix: str) -> None:
        """Record a warning: the record is still imported."""
        self.warnings.append(Problem(self.row, column, short_value(value), problem, fix))

    def record_fields(self) -> dict[str, Any]:
        """The values of the fields a :class:`~matcher.services.ServiceRecord` has."""
        return {name: getattr(self, name) for name in _record_field_names()}


@functools.cache
def _blank_fields() -> tuple[tuple[str, Any, Any], ...]:
    """``(name, default, default factory or None)`` of every field of :class:`RawRecord`."""
    return tuple((f.name, None if f.default is MISSING else f.default,
                  None if f.default_factory is MISSING else f.default_factory)
                 for f in fields(RawRecord))


@functools.cache
def _record_field_names() -> tuple[str, ...]:
    """The fields of :class:`RawRecord` that :class:`~matcher.services.ServiceRecord` has too."""
    from matcher.services import ServiceRecord

    names = ServiceRecord.__dataclass_fields__
    return tuple(f.name for f in fields(RawRecord) if f.name in names)
