"""What the engine believes about one service, and why: for ``GET /services/{id}``.

A directory officer (and a test) can see, for each thing that decides who sees a service,
the value the engine works with and where it comes from: ``stated`` (a field of the record),
``read`` (the reading step filled it from the record's own words, quoted), ``suggested`` (the
words suggest it without saying it outright: it only moves the score) or ``unknown``. The
same helpers as the engine's feature builder are used, so this never disagrees with a match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matcher.engine.features import (
    AGE_FACTS,
    age_hint_of,
    age_hint_quote,
    has_threshold,
    threshold_quote,
    used_quote,
)
from matcher.services import ServiceRecord
from matcher.vocab import Vocabulary

__all__ = ["service_beliefs"]


def _how(value: Any, facts: list[dict], fields: tuple[str, ...]) -> tuple[str, str | None]:
    quote = used_quote(facts, fields)
    if quote:
        return "read", quote
    if value in (None, [], "", False):
        return "unknown", None
    return "stated", None


def service_beliefs(record: ServiceRecord, vocab: Vocabulary) -> dict[str, Any]:
    """The effective ages, audience, needs, delivery and cost of ``record``, each with where
    it comes from, and whether the service counts as open to any child with SEND."""
    facts = list(record.facts or [])
    how, quote = _how(record.min_age if record.min_age is not None else record.max_age,
                      facts, AGE_FACTS)
    ages: dict[str, Any] = {"min_age": record.min_age, "max_age": record.max_age,
                            "from": how, "quote": quote}
    if how == "unknown":
        lo, hi = age_hint_of(facts)
        if not (np.isnan(lo) and np.isnan(hi)):
            ages = {"min_age": None if np.isnan(lo) else int(lo),
                    "max_age": None if np.isnan(hi) else int(hi), "from": "suggested",
                    "quote": age_hint_quote(facts)}
    found = vocab.find_in_text(f"{record.name}. {record.description}")
    stated = list(record.needs or [])
    threshold = has_threshold(facts)
    any_send = "all_send" in stated or ("all_send" in found.mentioned and not threshold)
    out: dict[str, Any] = {
        "ages": ages,
        "audience": {"values": list(record.audience or []),
                     "from": _how(record.audience, facts, ("audience", "for_parents"))[0]},
        "needs": {"stated": stated,
                  "from_words": [n for n in found.mentioned if n not in stated],
                  "ruled_out": list(found.excluded)},
        "open_to_any_send": bool(any_send),
        "threshold": threshold_quote(facts),
        "delivery": {"values": list(record.delivery or []),
                     "from": _how(record.delivery, facts, ("delivery",))[0]},
        "cost": {"value": record.cost, "from": _how(record.cost, facts, ("cost",))[0]},
        "ehcp_required": {"value": bool(record.ehcp_required),
                          "from": _how(record.ehcp_required, facts, ("ehcp_required",))[0]},
        "conflicts": [f for f in facts if f.get("conflict")],
    }
    return out
