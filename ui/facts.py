"""Facts and tables made from the API's answers (pure: no Streamlit, no HTTP).

``result`` is one item of ``POST /match``'s ``results``; ``detail`` is ``GET /services/{id}``.
Nothing here scores or ranks: the numbers are the API's, only laid out for people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd

from content import Labels, age_range, contact_lines, last_checked_text, travel_text
from guidance import quality_facts

__all__ = [
    "FACT_NAMES",
    "service_facts",
    "card_facts",
    "refusals_text",
    "travel_figure",
    "COST_UNKNOWN",
    "contributions_frame",
    "results_frame",
    "comparison_frame",
    "shortlist_frame",
]

#: Said when a record does not give its cost (never taken to mean free).
COST_UNKNOWN = "Not stated: ask whether there is a charge"

#: The facts a card shows, in order.
FACT_NAMES = ("Travel", "Ages", "Cost", "When", "How to get it", "Who it does not take",
              "Contact", "Last checked")


def service_facts(result: Mapping, detail: Mapping | None, labels: Labels,
                  today: dt.date | None = None) -> dict[str, str]:
    """The card's facts, in :data:`FACT_NAMES` order, each as plain text."""
    d = detail or {}
    cost = labels.of("cost", result["cost"]) if result.get("cost") else COST_UNKNOWN
    if d.get("cost_details"):
        cost += f": {d['cost_details']}"
    how = labels.many("referral", d.get("referral") or []) or "Ask the service how to start"
    if d.get("ehcp_required"):
        how += " (only with an EHC plan)"
    travel = travel_figure(result)
    delivery = [x for x in d.get("delivery") or [] if x != "in_person"]
    if delivery:
        travel += f". Also: {labels.many('delivery', delivery).lower()}"
    return {
        "Travel": travel,
        "Ages": age_range(result.get("min_age"), result.get("max_age")),
        "Cost": cost,
        "When": labels.many("when", d.get("when") or []) or "Not stated",
        "How to get it": how,
        "Who it does not take": refusals_text(d),
        "Contact": "; ".join(contact_lines(d)) or "Not given",
        "Last checked": last_checked_text(result.get("last_reviewed"), today),
    }


def refusals_text(detail: Mapping) -> str:
    """What the record's own words say it does not take, quoted ("" when they say nothing):
    the reading step's ``excludes`` facts (``GET /services/{id}``).

    >>> refusals_text({"facts": [{"field": "excludes", "quote": "not suitable for under 5s"}]})
    'Says: "not suitable for under 5s"'
    """
    quotes = [str(f.get("quote") or "") for f in detail.get("facts") or []
              if f.get("field") == "excludes"]
    return "; ".join(f'Says: "{q}"' for q in dict.fromkeys(q for q in quotes if q))


def _says_travel(reason: str) -> bool:
    return reason.startswith("About ") and "minute" in reason


def _says_cost(reason: str) -> bool:
    return reason == "Free" or reason.startswith(("Free for some families", "There is a charge"))


def card_facts(result: Mapping, detail: Mapping | None, labels: Labels,
               today: dt.date | None = None) -> dict[str, str]:
    """The facts a result card adds to its reasons: each fact once.

    Travel is left out when a reason already gives the journey (the reason's figure is the
    one shown), cost when a reason already gives it with its details; contact details are
    drawn as links by the card, so they are left out here too.
    """
    facts = service_facts(result, detail, labels, today)
    reasons = list(result.get("reasons") or [])
    details = str((detail or {}).get("cost_details") or "").strip()
    delivery = list((detail or {}).get("delivery") or [])
    known = result.get("travel_minutes") is not None or result.get("distance_km") is not None
    if any(_says_travel(r) for r in reasons) or not known:
        del facts["Travel"]
        if [x for x in delivery if x != "in_person"]:
            facts = {"How it is given": labels.many("delivery", delivery), **facts}
    if any(_says_cost(r) and (not details or details in r) for r in reasons):
        del facts["Cost"]
    del facts["Contact"]
    if not facts["Who it does not take"]:
        del facts["Who it does not take"]
    return facts


def travel_figure(result: Mapping) -> str:
    """One journey figure for a service: the one its reasons give when they give one (so a
    table and the reasons beside it never show two different times), else the result's own.

    >>> travel_figure({"reasons": ["About 41 minutes' walk (2.6 km)"], "travel_minutes": 42,
    ...                "distance_km": 2.5})
    "About 41 minutes' walk (2.6 km)"
    >>> travel_figure({"reasons": [], "travel_minutes": 42, "distance_km": 2.5})
    'About 42 minutes (2.5 km)'
    """
    said = next((r for r in result.get("reasons") or [] if _says_travel(r)), None)
    if said:
        return said.split(":", 1)[0]
    return travel_text(result.get("travel_minutes"), result.get("distance_km"))


def contributions_frame(result: Mapping) -> pd.DataFrame:
    """One row per factor of a result's score (needs ``explain=full``): what it is, the
    API's own label, the factor's value (0 to 1), its weight and the points it adds."""
    explanation = result.get("explanation") or {}
    rows = [{"Factor": c["component"].replace("_", " ").capitalize(),
             "What it means": c["label"],
             "Value": round(float(c["value"]), 3),
             "Weight": round(float(c["weight"]), 3),
             "Points": round(float(c["points"]), 3)}
            for c in explanation.get("contributions") or []]
    frame = pd.DataFrame(rows, columns=["Factor", "What it means", "Value", "Weight", "Points"])
    return frame


def results_frame(results: Sequence[Mapping], labels: Labels) -> pd.DataFrame:
    """A one-line-per-service overview of the results, in rank order."""
    rows = [{"Rank": i, "Service": r["name"], "Score": round(float(r["score"]), 3),
             "Travel": travel_figure(r),
             "Ages": age_range(r.get("min_age"), r.get("max_age")),
             "Cost": labels.of("cost", r["cost"]) if r.get("cost") else "Not stated",
             "Type": labels.many("categories", r.get("categories") or [])}
            for i, r in enumerate(results, start=1)]
    return pd.DataFrame(rows, columns=["Rank", "Service", "Score", "Travel", "Ages", "Cost",
                                       "Type"])


def comparison_frame(chosen: Sequence[Mapping], details: Mapping[str, Mapping],
                     labels: Labels) -> pd.DataFrame:
    """Side-by-side comparison: one column per chosen service, one row per question.

    Rows: score, each factor's points (the API's contributions), the reasons, then the facts.
    """
    columns: dict[str, dict[str, str]] = {}
    components: list[str] = []
    for r in chosen:
        for c in (r.get("explanation") or {}).get("contributions") or []:
            if c["component"] not in components:
                components.append(c["component"])
    for r in chosen:
        d = details.get(r["service_id"]) or {}
        col: dict[str, str] = {"Score": f"{float(r['score']):.3f}"}
        points = {c["component"]: c for c in (r.get("explanation") or {}).get("contributions")
                  or []}
        for comp in components:
            c = points.get(comp)
            col[f"Points: {comp.replace('_', ' ')}"] = (
                f"{float(c['points']):.3f} ({c['label']})" if c else "0 (not scored)")
        col["Why suggested"] = " / ".join(r.get("reasons") or [])
        col["Type"] = labels.many("categories", r.get("categories") or [])
        col.update(service_facts(r, d, labels))
        col["Accessibility"] = labels.many("accessibility", d.get("accessibility") or []) \
            or "Not stated"
        col["Languages"] = ", ".join(d.get("languages") or []) or "Not stated"
        col.update(quality_facts(d))  # inspection with its date, outcomes with their year
        name = r["name"]
        while name in columns:  # two services can share a name
            name += " "
        columns[name] = col
    return pd.DataFrame(columns)


def shortlist_frame(items: Sequence[Mapping], labels: Labels) -> pd.DataFrame:
    """The shortlist as rows (for the CSV download): name, reasons, facts, questions."""
    rows = []
    for item in items:
        r, d = item["result"], item.get("detail") or {}
        facts = service_facts(r, d, labels)
        rows.append({"Service": r["name"], "Organisation": r.get("organisation", ""),
                     "Why suggested": " | ".join(r.get("reasons") or []), **facts,
                     "Questions you could ask": " | ".join(item.get("questions") or []),
                     "Service id": r["service_id"]})
    return pd.DataFrame(rows, columns=["Service", "Organisation", "Why suggested", *FACT_NAMES,
                                       "Questions you could ask", "Service id"])
