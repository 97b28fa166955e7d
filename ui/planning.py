"""Transition plans for key workers: the moves, their statutory dates, and grouping of services.

Pure functions (no Streamlit, no HTTP). Dates follow the domain brief, section 3:

- a phase transfer with an EHC plan: the plan is reviewed and amended, naming the new
  setting, by **15 February** of the year of the move (SEND Regulations 2014, reg.18);
- the move from school to post-16 with an EHC plan: by **31 March** of the year of the move;
- between two post-16 settings: at least **5 months** before the move;
- without an EHC plan: apply for a secondary place by **31 October** in Year 6 (offers on
  **1 March**), for a Reception place by **15 January** (offers on **16 April**);
- ages 16-19: the council publishes its post-16 transport policy by **31 May**.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from content import Labels

__all__ = [
    "Move",
    "MOVES",
    "PFA_OUTCOMES",
    "move_for",
    "default_move_year",
    "key_dates",
    "group_by_need",
    "group_by_outcome",
    "plan_content",
    "LEAVING_MAX_AGE",
    "move_name",
    "is_setting_left",
    "is_assessment_request",
    "for_plan",
    "LEAVING_BY_TRANSITION",
    "without_stage_left",
]


@dataclass(frozen=True)
class Move:
    """A transition a key worker plans for."""

    id: str
    label: str
    transition: str          # the API's transition value
    phase_transfer: bool     # reg.18's 15 February date applies with an EHC plan


MOVES: dict[str, Move] = {m.id: m for m in (
    Move("nursery", "Starting nursery or early years", "into_early_years", False),
    Move("reception", "Starting school (Reception)", "early_years_to_primary", True),
    Move("y6_y7", "Year 6 to Year 7 (starting secondary school)", "primary_to_secondary", True),
    Move("y9_pfa", "Year 9 annual review: preparing for adulthood", "preparing_for_adulthood",
         False),
    Move("y11_post16", "Year 11 to post-16 (sixth form, college or training)",
         "secondary_to_post16", False),
    Move("post16_move", "Moving between post-16 settings", "secondary_to_post16", False),
    Move("adult", "Post-16 to adult life (18 to 25)", "preparing_for_adulthood", False),
)}

#: For each move, the oldest age of the settings being left: an education setting whose
#: oldest pupils are this age or younger is one the young person is leaving (a nursery when
#: starting school, a primary school at Year 6 to 7, an 11-16 school after Year 11).
LEAVING_MAX_AGE: dict[str, int] = {"reception": 4, "y6_y7": 11, "y11_post16": 16, "adult": 18}


#: The same rule by the API's transition value, for the family and SENCo pages.
LEAVING_BY_TRANSITION: dict[str, int] = {"early_years_to_primary": 4, "primary_to_secondary": 11,
                                         "secondary_to_post16": 16}


def without_stage_left(answer: Mapping, transition: str | None) -> tuple[dict, str]:
    """A ``POST /match`` answer without the schools and settings of the stage being left, and
    a sentence naming them ("" when none), for the family and SENCo pages.

    >>> a = {"results": [{"name": "Hill Primary", "categories": ["education"], "max_age": 11},
    ...                  {"name": "Swim", "categories": ["leisure"], "max_age": 11}]}
    >>> kept, note = without_stage_left(a, "primary_to_secondary")
    >>> [r["name"] for r in kept["results"]], note
    (['Swim'], 'Not shown, as schools or settings of the stage being left: Hill Primary.')
    """
    limit = LEAVING_BY_TRANSITION.get(transition or "")
    results = list(answer.get("results") or [])
    if limit is None:
        return dict(answer), ""
    left = [r for r in results if r.get("max_age") is not None and r["max_age"] <= limit
            and _a_setting(r)]
    kept = [r for r in results if r not in left]
    note = ("Not shown, as schools or settings of the stage being left: "
            + ", ".join(r["name"] for r in left) + ".") if left else ""
    return {**answer, "results": kept}, note


def move_name(plan: Mapping) -> str:
    """One name for a plan's move everywhere (list, form, printout): the key worker's move
    when the plan has it, else the first move with its transition.

    >>> move_name({"move": "post16_move", "transition": "secondary_to_post16"})
    'Moving between post-16 settings'
    >>> move_name({"transition": "secondary_to_post16"})
    'Year 11 to post-16 (sixth form, college or training)'
    >>> move_name({})
    'Move not set'
    """
    move = MOVES.get(plan.get("move") or "") or move_for(plan.get("transition"))
    return move.label if move else "Move not set"


def is_setting_left(result: Mapping, move_id: str | None) -> bool:
    """True when ``result`` is an education setting of the phase the young person is leaving.

    >>> is_setting_left({"categories": ["education"], "max_age": 16}, "y11_post16")
    True
    >>> is_setting_left({"categories": ["education"], "max_age": 18}, "y11_post16")
    False
    >>> is_setting_left({"categories": ["leisure"], "max_age": 16}, "y11_post16")
    False
    >>> is_setting_left({"categories": ["education", "transition"], "max_age": 16},
    ...                 "y11_post16")
    False
    """
    limit = LEAVING_MAX_AGE.get(move_id or "")
    top = result.get("max_age")
    return limit is not None and top is not None and _a_setting(result) and top <= limit


def _a_setting(result: Mapping) -> bool:
    """A school or setting (education), not a programme that helps with the move itself."""
    cats = result.get("categories") or []
    return "education" in cats and "transition" not in cats


_ASSESSMENT_REQUEST = re.compile(
    r"\b(request|requesting|ask(ing)? for|apply(ing)? for|application for)\b.{0,30}"
    r"\b(EHC|EHCP|education,? health and care)\b.{0,20}\bneeds? assessments?\b"
    r"|\bEHC ?needs assessment requests?\b|\bEHCNA\b", re.IGNORECASE)


def is_assessment_request(result: Mapping) -> bool:
    """True when a service is the way to ask for an EHC needs assessment (by its name), which
    a young person who already has an EHC plan does not need.

    >>> [is_assessment_request({"name": n}) for n in ("Request an EHC Needs Assessment",
    ...  "Applying for an education, health and care needs assessment", "EHCNA requests",
    ...  "EHCP Phase Transfer and Annual Reviews", "Parent Carer Needs Assessment")]
    [True, True, True, False, False]
    """
    return bool(_ASSESSMENT_REQUEST.search(str(result.get("name") or "")))


def for_plan(results: Sequence[Mapping], move_id: str | None,
             has_ehcp: bool) -> tuple[list[Mapping], list[str]]:
    """The results that fit a plan, and a sentence for each kind left out (names given).

    Left out: settings of the phase being left, and, for a young person with an EHC plan,
    the service for requesting an EHC needs assessment.
    """
    kept: list[Mapping] = []
    left: list[Mapping] = []
    asked: list[Mapping] = []
    for r in results:
        if is_setting_left(r, move_id):
            left.append(r)
        elif has_ehcp and is_assessment_request(r):
            asked.append(r)
        else:
            kept.append(r)
    notes = []
    if left:
        notes.append("Left out because they are schools or settings of the stage being left: "
                     + ", ".join(r["name"] for r in left) + ".")
    if asked:
        notes.append("Left out because the young person already has an EHC plan: "
                     + ", ".join(r["name"] for r in asked) + ".")
    return kept, notes


#: Preparing-for-adulthood outcomes (SEND Code of Practice ch.8) and the service categories
#: that usually serve each. A service can serve several.
PFA_OUTCOMES: dict[str, tuple[str, ...]] = {
    "Employment and further or higher education": ("education", "training_employment"),
    "Independent living": ("travel", "social_care", "transition"),
    "Friends, relationships and community": ("leisure", "short_breaks", "support_advice"),
    "Being as healthy as possible": ("health", "assessment"),
}


def move_for(transition: str | None) -> Move | None:
    """The first move whose API value is ``transition`` (for reopening a saved plan)."""
    return next((m for m in MOVES.values() if m.transition == transition), None)


def default_move_year(today: dt.date | None = None) -> int:
    """The year of the next September move: this year until the end of August, else next."""
    today = today or dt.date.today()
    return today.year if today.month < 9 else today.year + 1


def key_dates(move_id: str, move_year: int, has_ehcp: bool) -> list[tuple[str, dt.date]]:
    """The dates that apply to a move in September of ``move_year``, earliest first.

    >>> [d.isoformat() for _, d in key_dates("y6_y7", 2027, True)]
    ['2027-02-15']
    >>> [d.isoformat() for _, d in key_dates("y11_post16", 2027, True)]
    ['2027-03-31', '2027-05-31']
    """
    y = move_year
    out: list[tuple[str, dt.date]] = []
    if move_id not in MOVES:
        raise ValueError(f"Unknown move {move_id!r}: choose one of {', '.join(MOVES)}")
    if has_ehcp and MOVES[move_id].phase_transfer:
        out.append(("EHC plan amended, naming the new school or setting (statutory)",
                    dt.date(y, 2, 15)))
    if has_ehcp and move_id == "y11_post16":
        out.append(("EHC plan amended, naming the post-16 setting (statutory)",
                    dt.date(y, 3, 31)))
    if has_ehcp and move_id == "post16_move":
        out.append(("EHC plan amended, 5 months before the post-16 move (statutory)",
                    dt.date(y, 4, 1)))
    if not has_ehcp and move_id == "y6_y7":
        out += [("Apply for a secondary school place", dt.date(y - 1, 10, 31)),
                ("Secondary school offers made (national offer day)", dt.date(y, 3, 1))]
    if not has_ehcp and move_id == "reception":
        out += [("Apply for a Reception place", dt.date(y, 1, 15)),
                ("Primary school offers made (national offer day)", dt.date(y, 4, 16))]
    if move_id in ("y11_post16", "post16_move"):
        out.append(("Post-16 transport policy published: apply for help with travel",
                    dt.date(y, 5, 31)))
    return sorted(out, key=lambda x: x[1])


def _need_of(result: Mapping) -> tuple[str, str] | None:
    """``(need id, level)`` of a result's need factor, from its explanation."""
    for c in (result.get("explanation") or {}).get("contributions") or []:
        if c.get("component") == "need" and (c.get("inputs") or {}).get("need"):
            return c["inputs"]["need"], str(c["inputs"].get("level") or "")
    return None


def group_by_need(results: Sequence[Mapping], labels: Labels) -> dict[str, list[Mapping]]:
    """Results grouped under the need the API matched them on (its ``need`` factor).

    Services open to any SEND and those matched on other grounds get groups of their own,
    after the named needs. Order within a group is the API's rank order.
    """
    named: dict[str, list[Mapping]] = {}
    any_send: list[Mapping] = []
    other: list[Mapping] = []
    for r in results:
        found = _need_of(r)
        if found is None:
            other.append(r)
        elif found[1] == "all_send":
            any_send.append(r)
        else:
            named.setdefault(labels.need(found[0]), []).append(r)
    if any_send:
        named["Open to any SEND"] = any_send
    if other:
        named["Other suggestions"] = other
    return named


def group_by_outcome(results: Sequence[Mapping]) -> dict[str, list[Mapping]]:
    """Results under each preparing-for-adulthood outcome their categories serve (a result
    can be under several; outcomes with none are left out)."""
    out: dict[str, list[Mapping]] = {}
    for outcome, categories in PFA_OUTCOMES.items():
        hits = [r for r in results if set(r.get("categories") or []) & set(categories)]
        if hits:
            out[outcome] = hits
    return out


def plan_content(label: str, move_id: str | None, profile: Mapping | None,
                 services: Mapping[str, str], steps: Sequence[Mapping],
                 move_year: int | None = None,
                 reasons: Mapping[str, Sequence[str]] | None = None) -> dict:
    """The body of ``POST /plans`` / ``PUT /plans/{id}``.

    ``services`` maps chosen service ids to notes, ``reasons`` to why they were suggested;
    ``steps`` are ``{"action", "due", "owner", "done"}`` with ``due`` a date, an ISO string or
    ``None``.
    """
    move = MOVES.get(move_id or "")
    reasons = reasons or {}
    return {
        "label": label.strip(),
        "profile": dict(profile) if profile else None,
        "transition": move.transition if move else None,
        "move": move.id if move else None,
        "move_year": int(move_year) if move and move_year else None,
        "services": [{"service_id": sid, "note": note or "",
                      "reasons": [str(r)[:500] for r in (reasons.get(sid) or [])][:10]}
                     for sid, note in services.items()],
        "next_steps": [{"action": s["action"].strip(),
                        "due": (s["due"].isoformat() if isinstance(s.get("due"), dt.date)
                                else s.get("due") or None),
                        "owner": str(s.get("owner") or "").strip()[:100],
                        "done": bool(s.get("done"))}
                       for s in steps if str(s.get("action") or "").strip()],
    }
