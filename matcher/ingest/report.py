"""What an import found: problems (a record rejected), warnings (kept), and what each field gave.

Shared by every reader (:mod:`matcher.ingest`): the CSV template's report numbers rows as a
spreadsheet does; a JSON feed's (:class:`FeedReport`) numbers records in feed order.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic.dataclasses import dataclass as pydantic_dataclass

__all__ = ["FEED_ROW_CONVENTION", "ROW_CONVENTION", "FeedReport", "ImportReport", "ImportSummary",
           "Problem", "short_value"]

#: How records are numbered in a feed's report (the CSV's spreadsheet rows do not apply).
FEED_ROW_CONVENTION = (
    "Records are numbered in feed order: the first service of the file (or of the first page) "
    "is record 1."
)


def _listed(name: str) -> Any:
    return lambda r: bool(getattr(r, name))


#: The fields counted in every import report: name -> "does this record state it?".
REPORTED_FIELDS: dict[str, Any] = {
    "categories": lambda r: any(c != "other" for c in r.categories),
    "min_age": lambda r: r.min_age is not None,
    "max_age": lambda r: r.max_age is not None,
    "needs": lambda r: bool(r.needs),
    "audience": _listed("audience"),
    "location": lambda r: r.latitude is not None,
    "delivery": _listed("delivery"),
    "cost": lambda r: r.cost is not None,
    "service_area": _listed("service_area"),
    "referral": _listed("referral"),
    "when": _listed("when"),
    "accessibility": _listed("accessibility"),
    "languages": _listed("languages"),
    "organisation": _listed("organisation"),
    "contact": lambda r: bool(r.url or r.phone or r.email),
    "last_reviewed": lambda r: r.last_reviewed is not None,
}


def short_value(value: Any) -> str:
    """A value as report text, at most 200 characters."""
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


@pydantic_dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where (row, column), what value, what is wrong, and how
    to fix it. ``row`` follows the spreadsheet convention of the module docstring; ``line`` is
    the text-editor line where the row starts."""

    row: int
    column: str
    value: str
    problem: str
    fix: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (what :func:`dataclasses.asdict` gives, made directly: an import
        turns every problem and warning into one)."""
        return {"row": self.row, "column": self.column, "value": self.value,
                "problem": self.problem, "fix": self.fix, "line": self.line}


ROW_CONVENTION = (
    "Rows are numbered as a spreadsheet shows them: row 1 is the first line of the file "
    "(the header, unless comment lines come first) and the first service is the row after it."
)


@dataclass
class ImportReport:
    """Everything found while reading one file.

    ``problems`` are errors (each rejects its row; a problem on the header row means the file
    as a whole could not be read: see ``fatal``), ``warnings`` never reject anything.
    """

    source: str = "<text>"
    header_row: int = 1
    rows_read: int = 0
    accepted: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    fatal: bool = False
    #: field -> {"given": records that state it, "unknown": records that leave it unknown}
    fields: dict[str, dict[str, int]] = field(default_factory=dict)

    def count_fields(self, records: Iterable[Any]) -> None:
        """Fill :attr:`fields` from the accepted records (see :data:`REPORTED_FIELDS`)."""
        self.fields = {}
        self.add_field_counts(records)

    def add_field_counts(self, records: Iterable[Any]) -> None:
        """Add more accepted records to :attr:`fields` (for records read in batches)."""
        counts = self.fields or {name: {"given": 0, "unknown": 0} for name in REPORTED_FIELDS}
        for record in records:
            for name, known in REPORTED_FIELDS.items():
                counts[name]["given" if known(record) else "unknown"] += 1
        self.fields = counts

    @property
    def rejected_rows(self) -> list[int]:
        """Rows rejected because of at least one problem, in file order."""
        return sorted({p.row for p in self.problems if p.row > self.header_row})

    @property
    def rejected(self) -> int:
        """How many rows were rejected."""
        return len(self.rejected_rows)

    @property
    def ok(self) -> bool:
        """True when there is no problem at all (warnings allowed)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "accepted": len(self.accepted),
            "accepted_ids": list(self.accepted),
            "rejected": self.rejected,
            "rejected_rows": self.rejected_rows,
            "fatal": self.fatal,
            "row_numbering": ROW_CONVENTION,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
            "fields": {k: dict(v) for k, v in self.fields.items()},
        }

    def format_fields(self) -> str:
        """What the accepted records gave, field by field ("" when nothing was counted)."""
        if not self.fields:
            return ""
        out = ["What the accepted records say, field by field (unknown: not stated, shown to "
               "families as 'not stated'):", f"  {'field':<16}{'given':>8}{'unknown':>9}"]
        for name, c in self.fields.items():
            out.append(f"  {name:<16}{c['given']:>8}{c['unknown']:>9}")
        return "\n".join(out)

    def format_text(self) -> str:
        """A readable report: counts, what each field gave, then one table of problems and
        one of warnings."""
        lines = [
            f"{self.source}: {self.rows_read} rows read, {len(self.accepted)} accepted, "
            f"{self.rejected} rejected."
        ]
        if self.fields:
            lines += ["", self.format_fields()]
        if self.problems:
            lines += ["", f"Problems ({len(self.problems)}; a row with a problem is not imported):"]
            lines.append(_format_table(self.problems))
        if self.warnings:
            lines += ["", f"Warnings ({len(self.warnings)}; these rows were still imported):"]
            lines.append(_format_table(self.warnings))
        if self.problems or self.warnings:
            lines += ["", ROW_CONVENTION]
        return "\n".join(lines)


@dataclass
class ImportSummary:
    """What :func:`run_import` did."""

    source: str
    database: str
    rows_read: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    problems: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    report: ImportReport | None = field(default=None, repr=False)

    @property
    def accepted(self) -> int:
        """Rows that passed validation (added + updated + unchanged)."""
        return self.added + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the CLI's ``--json`` output)."""
        return {
            "source": self.source,
            "database": self.database,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "fields": {k: dict(v) for k, v in self.report.fields.items()} if self.report else {},
            **({"format": self.report.format,
                "unmapped_terms": dict(sorted(self.report.unmapped_terms.items()))}
               if isinstance(self.report, FeedReport) else {}),
            "imported": True,
        }

    def format_text(self) -> str:
        """One summary line, then the report's tables when there is anything to show."""
        head = (
            f"Imported {self.source} into {self.database}: {self.rows_read} rows read; "
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected."
        )
        if self.report is None or (not self.report.problems and not self.report.warnings):
            return head
        details = self.report.format_text().split("\n", 1)
        return head + ("\n" + details[1] if len(details) > 1 else "")


def _format_table(items: Sequence[Problem]) -> str:
    headers = ("row", "column", "value", "what is wrong", "how to fix it")
    widths = (7, 14, 20, 38, 44)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for p in items:
        row = str(p.row) if p.line in (None, p.row) else f"{p.row} (line {p.line})"
        value = p.value.replace("\r", " ").replace("\n", " ")
        if len(value) > widths[2]:
            value = value[: widths[2] - 3] + "..."
        cells = [
            [row], [p.column or "-"], [value or "(blank)"],
            textwrap.wrap(p.problem, widths[3]) or [""],
            textwrap.wrap(p.fix, widths[4]) or [""],
        ]
        height = max(len(c) for c in cells)
        for i in range(height):
            parts = [(c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True)]
            out.append("  ".join(parts).rstrip())
    return "\n".join(out)




@dataclass
class FeedReport(ImportReport):
    """The CSV importer's :class:`ImportReport`, for a JSON feed.

    ``row`` in every problem is the record's position in the feed (1 = the first service) and
    ``column`` the field, as a JSON path (``service_at_locations[0].location``). Adds the
    feed's ``format`` and ``unmapped_terms``: every taxonomy term, need or accessibility word
    the matcher could not use, with how many services carry it.
    """

    header_row: int = 0
    format: str = "oruk"
    unmapped_terms: dict[str, int] = field(default_factory=dict)

    def note_unmapped(self, kind: str, words: Iterable[str]) -> None:
        """Count terms of one kind ("taxonomy", "needs", "accessibility"...) not used."""
        for word in words:
            key = f"{kind}: {word}"
            self.unmapped_terms[key] = self.unmapped_terms.get(key, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the CSV report's keys plus ``format`` and ``unmapped_terms``."""
        d = super().to_dict()
        d["row_numbering"] = FEED_ROW_CONVENTION
        d["format"] = self.format
        d["unmapped_terms"] = dict(sorted(self.unmapped_terms.items()))
        return d

    def format_text(self) -> str:
        """Counts, the tables of problems and warnings, then the terms not used."""
        body = super().format_text().replace(ROW_CONVENTION, FEED_ROW_CONVENTION)
        head, _, rest = body.partition("\n")
        head = (f"{self.source} ({self.format}): {self.rows_read} services read, "
                f"{len(self.accepted)} accepted, {self.rejected} rejected.")
        lines = [head + ("\n" + rest if rest else "")]
        if self.unmapped_terms:
            terms = ", ".join(f"{k} ({n})" for k, n in sorted(self.unmapped_terms.items()))
            lines += ["", "Terms the matcher could not use (kept in this report; the services "
                          f"were still imported): {terms}."]
        return "\n".join(lines)


