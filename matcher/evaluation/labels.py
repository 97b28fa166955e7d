"""``matcher evaluate-labels``: what the importer and the reading step make of real records,
against labels a person wrote by reading them.

The labels (``tests/data/labels/*.jsonl``, one record a line: ``source``, ``id``,
``min_age``, ``max_age``, ``ages_stated``, ``audience``, ``adults_only``, ``for_parents``,
``needs``, ``all_send``, ``excludes``, ``threshold``, ``residency``) hold ids and labels only;
the records are read from the real samples in ``../shared`` and imported as any feed is.

Figures (each ``precision``, ``recall``, and the counts behind them):

* ``ages``: per age bound (youngest, oldest). A bound the import gives is correct when the label
  gives the same bound; precision = correct / bounds given, recall = correct / bounds labelled.
* ``adults_only``: a record the matching engine keeps from a child as a service for the child
  (a minimum age of 18 or more, or a fact of the reading step saying it is for parents and
  carers, so that it is shown to a family only as for the parent) against the label
  ``adults_only`` (which includes services for parents: the person served is an adult);
  ``for_parents``: the audience ``parents_carers`` against the label.
* Labelling convention for ages: a label's ages are those of the person a service is for. For
  a service for parents the label gives the parent's (18 and over), while the import gives the
  ages of their children (families are matched on the child's age): unlike things, so the age
  bounds of records labelled ``for_parents`` are not compared (their number is reported).
  Ages are also split by where the import got them: read from the record's words (a fact of
  the reading step filled them) or from the feed's own fields (which win where present).
* ``excludes``: facts of the reading step saying who a service does not take, against the
  label's exclusions (precision has no meaning when neither side has any: reported as such).
  A label's exclusion is what a person reads, in the reading step's values where they have one
  (a need's id, ``under_N``, ``over_N``, ``non_residents``) and in plain words where they have
  none (``anorexia`` against "mild eating disorders (not anorexia)"): those the reading step
  cannot give count against its recall. ``excludes_engine``: the needs the matching engine
  takes a record's words to turn away (``Vocabulary.find_in_text``, what "why not" and the
  need score use), against the label's exclusions that are needs.
  A label gives, beside each exclusion, the record's words that state it
  (``excludes_quotes``): an exclusion read as a group or circumstance in plain words
  ("members_of_the_public") is right when its quote and the label's give the same statement
  (most of the shorter quote's words are in the other); one read as a need, an age bound or
  non-residents must give the labelled value.
* A label line may give only some facts (e.g. ``source``, ``id`` and ``excludes``, for a record
  read for its exclusions only): a fact it does not give is not scored for that record.
* ``needs``: canonical needs of the record against the label's needs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SAMPLES", "Score", "evaluate_labels", "load_labels"]

#: source -> (path under ../shared, id prefix the import gives)
SAMPLES: dict[str, tuple[str, str]] = {
    "north-lincs": ("real-samples/north-lincs-oruk-v1/services.json", "oruk"),
    "bucks": ("real-samples/bucks-fis-outpost-api/services_page1.json", "outpost"),
}


@dataclass
class Score:
    """Counts behind a precision and a recall."""

    true_pos: int = 0
    predicted: int = 0
    labelled: int = 0
    errors: list[str] = field(default_factory=list)   # given but wrong
    misses: list[str] = field(default_factory=list)   # labelled but not given

    @property
    def precision(self) -> float | None:
        return None if self.predicted == 0 else self.true_pos / self.predicted

    @property
    def recall(self) -> float | None:
        return None if self.labelled == 0 else self.true_pos / self.labelled

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {"precision": r(self.precision), "recall": r(self.recall),
                "correct": self.true_pos, "given": self.predicted, "labelled": self.labelled,
                "errors": self.errors[:20], "misses": self.misses[:20]}


def load_labels(folder: str | Path) -> list[dict[str, Any]]:
    """Every label line of every ``*.jsonl`` in ``folder``, each with ``_file`` (the file's
    stem) added."""
    out: list[dict[str, Any]] = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append({**json.loads(line), "_file": path.stem})
    return out


def _records(shared: Path, today: dt.date) -> dict[tuple[str, str], Any]:
    from matcher.ingest import read_feed

    out: dict[tuple[str, str], Any] = {}
    for source, (rel, prefix) in SAMPLES.items():
        path = shared / rel
        if not path.exists():
            raise FileNotFoundError(f"The real sample {path} is missing: give --shared, the "
                                    "folder that holds real-samples/.")
        records, _ = read_feed(path, today=today, id_prefix=prefix)
        for r in records:
            out[(source, r.id.split(":", 1)[1])] = r
    return out


def _adults_only(record: Any) -> bool:
    """Whether the matching engine keeps ``record`` from a child as a service for the child:
    a minimum age of 18 or more, or its words say it is for parents and carers (a fact of the
    reading step that filled its audience: then it is shown to a family as for the parent)."""
    if record.min_age is not None and record.min_age >= 18:
        return True
    return any(f.get("field") == "for_parents" and f.get("used") for f in record.facts)


#: Facts of the reading step that give a record its ages.
_AGE_FACTS = ("min_age", "max_age", "child_ages", "adults_only")


def _for_parents(record: Any) -> bool:
    return "parents_carers" in record.audience


def _engine_excluded(record: Any) -> set[str]:
    from matcher.vocab import load_vocabulary

    return set(load_vocabulary().find_in_text(f"{record.name}. {record.description}").excluded)


def _score(pairs: list[tuple[dict[str, Any], Any]]) -> dict[str, Any]:
    from matcher.vocab import load_vocabulary

    need_ids = set(load_vocabulary().needs)
    ages, adults, parents, excludes, needs = Score(), Score(), Score(), Score(), Score()
    engine_ex = Score()
    by_origin = {"words": Score(), "fields": Score()}
    parents_ages = 0
    for label, record in pairs:
        if "min_age" not in label and "max_age" not in label:
            pass   # ages not labelled for this record
        elif label.get("for_parents"):
            # The label gives the parent's own age (18 and over); the import gives the
            # ages of the children the parents care for. Unlike things: not compared.
            parents_ages += sum(label.get(b) is not None for b in ("min_age", "max_age"))
        else:
            read = any(f.get("used") and f.get("field") in _AGE_FACTS for f in record.facts)
            origin = by_origin["words" if read else "fields"]
            for bound in ("min_age", "max_age"):
                given, truth = getattr(record, bound), label.get(bound)
                ages.labelled += truth is not None
                if given is not None:
                    ages.predicted += 1
                    origin.predicted += 1
                    if given == truth:
                        ages.true_pos += 1
                        origin.true_pos += 1
                    else:
                        said = next((f["quote"] for f in record.facts if f.get("used")
                                     and f.get("field") in _AGE_FACTS), None)
                        where = f" (read from '{said}')" if said else " (the feed's field)"
                        ages.errors.append(f"{record.id} {bound}: gave {given}{where}, "
                                           f"label {truth}")
                        origin.errors.append(ages.errors[-1])
                elif truth is not None:
                    ages.misses.append(f"{record.id} {bound}: gave none, label {truth}")
        for score, given, truth in (
                (adults, _adults_only(record), bool(label.get("adults_only"))),
                (parents, _for_parents(record), bool(label.get("for_parents")))):
            if ("adults_only" if score is adults else "for_parents") not in label:
                continue
            score.predicted += given
            score.labelled += truth
            score.true_pos += given and truth
            if given and not truth:
                score.errors.append(f"{record.id}: gave True, label False")
            elif truth and not given:
                score.misses.append(f"{record.id}: gave False, label True")
        if "excludes" in label:
            _excludes(label, record, excludes, engine_ex, need_ids)
        if "needs" not in label and "all_send" not in label:
            continue
        truth_needs = set(label.get("needs") or []) | ({"all_send"} if label.get("all_send")
                                                       else set())
        given_needs = {n for n in record.needs if not n.startswith("area:")}
        needs.predicted += len(given_needs)
        needs.labelled += len(truth_needs)
        needs.true_pos += len(given_needs & truth_needs)
        needs.errors += [f"{record.id}: gave need {n}" for n in sorted(given_needs - truth_needs)]
        needs.misses += [f"{record.id}: missed need {n}" for n in sorted(truth_needs - given_needs)]
    full = sum("min_age" in label or "max_age" in label for label, _ in pairs)
    return {"records": full, "exclusions_only": len(pairs) - full, "ages": ages.to_dict(),
            "ages_given_by": {k: v.to_dict() for k, v in by_origin.items()},
            "adults_only": adults.to_dict(),
            "for_parents": parents.to_dict(), "excludes": excludes.to_dict(),
            "excludes_engine": engine_ex.to_dict(),
            "read_for_exclusions": sum("excludes" in label for label, _ in pairs),
            "needs": needs.to_dict(), "parents_age_bounds_not_compared": parents_ages}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def _same_statement(quote: str, labelled: str) -> bool:
    """Whether two quotes give the same statement of a record: most of the shorter one's words
    (three letters or more) are in the other."""
    a, b = _words(quote), _words(labelled)
    return bool(a and b) and len(a & b) >= 0.6 * min(len(a), len(b))


def _is_reading_value(value: str, need_ids: set[str]) -> bool:
    """A value from the reading step's own set (a need, an age bound, non-residents), as
    opposed to a group or circumstance in plain words."""
    return value in need_ids or value == "non_residents" or bool(_AGE_VALUE.fullmatch(value))


_AGE_VALUE = re.compile(r"(?:under|over)_\d+")


def _excludes(label: dict[str, Any], record: Any, excludes: Score, engine: Score,
              need_ids: set[str]) -> None:
    said = [(str(v), str(f.get("quote") or "")) for f in record.facts
            if f.get("field") == "excludes"
            for v in (f["value"] if isinstance(f["value"], list) else [f["value"]])]
    said = list(dict.fromkeys(said))
    truth = list(label.get("excludes") or [])
    quotes = list(label.get("excludes_quotes") or [])
    quotes += [""] * (len(truth) - len(quotes))
    # A read exclusion is right when it gives the labelled value, or, for a group or
    # circumstance in plain words, when it quotes the statement the label quotes.
    left = list(zip(truth, quotes, strict=True))
    right = 0
    for value, quote in said:
        hit = next((t for t in left if t[0] == value or (
            not _is_reading_value(value, need_ids) and t[1] and _same_statement(quote, t[1]))),
            None)
        if hit is None:
            excludes.errors.append(f"{record.id}: gave exclusion {value} ({quote!r})")
        else:
            left.remove(hit)
            right += 1
    excludes.predicted += len(said)
    excludes.labelled += len(truth)
    excludes.true_pos += right
    excludes.misses += [f"{record.id}: missed exclusion {v}" for v, _ in left]
    given, wanted = _engine_excluded(record), set(truth) & need_ids
    engine.predicted += len(given)
    engine.labelled += len(wanted)
    engine.true_pos += len(given & wanted)
    engine.errors += [f"{record.id}: gave exclusion {v}" for v in sorted(given - wanted)]
    engine.misses += [f"{record.id}: missed exclusion {v}" for v in sorted(wanted - given)]


def evaluate_labels(labels_dir: str | Path, shared: str | Path,
                    today: dt.date | None = None) -> dict[str, Any]:
    """Precision and recall of each fact over the labelled records (see module docstring):
    over every label file together (the top-level figures) and for each file (``files``)."""
    labels = load_labels(labels_dir)
    records = _records(Path(shared), today or dt.date.today())
    missing: list[str] = []
    pairs: list[tuple[dict[str, Any], Any]] = []
    for label in labels:
        record = records.get((label["source"], str(label["id"])))
        if record is None:
            missing.append(f"{label['source']}:{label['id']}")
        else:
            pairs.append((label, record))
    result = {**_score(pairs), "missing": missing}
    result["files"] = {name: _score([p for p in pairs if p[0]["_file"] == name])
                       for name in dict.fromkeys(label["_file"] for label in labels)}
    return result


def format_text(result: dict[str, Any]) -> str:
    """The figures as small tables: every file together, then each file."""
    def pct(x: float | None) -> str:
        return "  n/a" if x is None else f"{x:5.3f}"

    def table(title: str, r: dict[str, Any]) -> list[str]:
        extra = (f" (and {r['exclusions_only']} read for their exclusions only)"
                 if r.get("exclusions_only") else "")
        lines = [f"{title}: {r['records']} labelled real records{extra}",
                 f"{'fact':<15} {'precision':>9} {'recall':>7} {'correct':>8} {'given':>6} "
                 f"{'labelled':>9}"]
        for name in ("ages", "adults_only", "for_parents", "excludes", "excludes_engine",
                     "needs"):
            s = r[name]
            lines.append(f"{name:<15} {pct(s['precision']):>9} {pct(s['recall']):>7} "
                         f"{s['correct']:>8} {s['given']:>6} {s['labelled']:>9}")
        for origin, s in r.get("ages_given_by", {}).items():
            what = "read from words" if origin == "words" else "from the feed's fields"
            lines.append(f"  ages {what}: precision {pct(s['precision']).strip()} "
                         f"({s['correct']} of {s['given']} bounds given)")
        if r.get("read_for_exclusions"):
            lines.append(f"  exclusions: {r['read_for_exclusions']} records labelled for them; "
                         f"{r['excludes']['labelled']} exclusions labelled, "
                         f"{r['excludes']['given']} read ({r['excludes_engine']['given']} by "
                         "the engine's need reading)")
        if r.get("parents_age_bounds_not_compared"):
            lines.append(f"(ages: {r['parents_age_bounds_not_compared']} labelled bounds of "
                         "services for parents not compared: the label gives the parent's age)")
        return lines

    lines = table("All label files", result)
    for name, r in result.get("files", {}).items():
        lines += ["", *table(name, r)]
    if result.get("missing"):
        lines += ["", f"{len(result['missing'])} labelled records not found in the samples"]
    return "\n".join(lines)
