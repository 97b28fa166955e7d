""""Directory health" (the directory team, admin key): the answer of
``GET /admin/data-health`` laid out as tables, and the CSV of ``GET /admin/data-health.csv``
to send to providers.

The checks are the API's (:mod:`matcher.data_health`); this module only lays them out.
Every table has a heading and a caption saying what its rows are; nothing rests on colour.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from api_key import api_key_input as shared_key_input
from api_key import needed
from client import ApiClient, ApiError

__all__ = [
    "ADMINS_ONLY",
    "MAX_TO_FIX",
    "api_key_input",
    "key_problem",
    "fetch",
    "summary_line",
    "fields_frame",
    "no_age_no_needs_frame",
    "to_fix_frame",
    "conflicts_frame",
    "weights_frame",
    "show_answer",
]

ADMINS_ONLY = needed("admin")
#: The most records to fix listed on the page (the CSV has them all).
MAX_TO_FIX = 200

_REASONS = {
    "no_ages": "No age at all",
    "one_age_bound": "Only the youngest or only the oldest age",
    "no_needs": "No needs",
    "needs_unrecognised": "Needs we did not recognise",
    "conflict": "Each conflict between the words and the fields",
    "no_location": "In person, but no place on a map",
    "no_delivery": "Not said how it is delivered",
    "no_audience": "Not said who it is for",
    "no_cost": "No cost",
    "no_contact": "No phone, email or website",
    "stale": "Not checked for over a year (or no date)",
    "from_text": "Each detail read from the description (to confirm)",
}


def _reset_answer() -> None:
    for key in ("dh_result", "dh_csv", "dh_problems"):
        st.session_state.pop(key, None)


def api_key_input() -> str:
    """The admin's API key (:func:`api_key.api_key_input`); a new key forgets the report
    got with the old one."""
    return shared_key_input("admin", "health", on_change=_reset_answer)


def key_problem(exc: ApiError) -> list[str]:
    """What to show for a failed call: the admin message for 401 and 403, else the API's
    own words."""
    if exc.status == 401:
        return ["That API key was not recognised. " + ADMINS_ONLY]
    if exc.status == 403:
        return [ADMINS_ONLY + " Yours is for another role; ask your administrator."]
    return [p.message for p in exc.problems] or [exc.message]


def fetch(client: ApiClient, api_key: str) -> None:
    """Ask the API for the report and the CSV; keep them (``dh_result``, ``dh_csv``) or what
    went wrong (``dh_problems``)."""
    try:
        st.session_state.dh_result = client.data_health(api_key, limit=MAX_TO_FIX)
        st.session_state.dh_csv = client.data_health_csv(api_key)
        st.session_state.dh_problems = []
    except ApiError as exc:
        st.session_state.pop("dh_result", None)
        st.session_state.pop("dh_csv", None)
        st.session_state.dh_problems = key_problem(exc)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_line(answer: Mapping) -> str:
    """E.g. ``"6 active records checked on 1 November 2026; 2 to fix"``.

    >>> summary_line({"active": 1, "to_fix_total": 0, "today": "2026-11-01"})
    '1 active record checked on 1 November 2026; none to fix'
    """
    day = pd.Timestamp(str(answer.get("today")))
    fix = int(answer.get("to_fix_total") or 0)
    records = _plural(int(answer.get("active") or 0), "active record")
    to_fix = f"{fix:,} to fix" if fix else "none to fix"
    return f"{records} checked on {day.day} {day:%B %Y}; {to_fix}"


def fields_frame(answer: Mapping) -> pd.DataFrame:
    """One row per field: how many records state it, had it read from their words, or leave
    it unknown, as numbers and percentages.

    >>> fields_frame({"fields": [{"label": "Cost", "structured": 1, "from_text": 1,
    ...     "unknown": 2, "structured_share": 0.25, "from_text_share": 0.25,
    ...     "unknown_share": 0.5}]}).to_dict("records")[0]["Unknown (%)"]
    50.0
    """
    rows = [{"Field": f["label"],
             "Stated": int(f["structured"]), "Stated (%)": round(100 * f["structured_share"], 1),
             "Read from the description": int(f["from_text"]),
             "Read from the description (%)": round(100 * f["from_text_share"], 1),
             "Unknown": int(f["unknown"]), "Unknown (%)": round(100 * f["unknown_share"], 1)}
            for f in answer.get("fields") or []]
    return pd.DataFrame(rows, columns=["Field", "Stated", "Stated (%)",
                                       "Read from the description",
                                       "Read from the description (%)", "Unknown",
                                       "Unknown (%)"])


def no_age_no_needs_frame(answer: Mapping) -> pd.DataFrame:
    """The records with no age and no needs at all."""
    rows = [{"ID": r["id"], "Service": r["name"], "Organisation": r.get("organisation") or ""}
            for r in answer.get("no_age_no_needs") or []]
    return pd.DataFrame(rows, columns=["ID", "Service", "Organisation"])


def to_fix_frame(answer: Mapping) -> pd.DataFrame:
    """The records to fix, highest score first, with what to add (numbered)."""
    rows = [{"Order": i, "Score": int(r["score"]), "ID": r["id"], "Service": r["name"],
             "Organisation": r.get("organisation") or "",
             "Contact": r.get("email") or r.get("phone") or r.get("url") or "",
             "What to add": " ".join(f"{n}. {t}" for n, t in
                                     enumerate(r.get("what_to_add") or [], 1))}
            for i, r in enumerate(answer.get("to_fix") or [], 1)]
    return pd.DataFrame(rows, columns=["Order", "Score", "ID", "Service", "Organisation",
                                       "Contact", "What to add"])


def conflicts_frame(answer: Mapping) -> pd.DataFrame:
    """The conflicts, with the record's own words."""
    rows = [{"ID": c["id"], "Service": c["name"], "About": c["label"],
             "The listing says": c["structured"], "The words say": c["text"],
             "Their words": f"\u201c{c['quote']}\u201d (from the "
                            f"{c.get('source') or 'description'})"}
            for c in answer.get("conflicts") or []]
    return pd.DataFrame(rows, columns=["ID", "Service", "About", "The listing says",
                                       "The words say", "Their words"])


def weights_frame(answer: Mapping) -> pd.DataFrame:
    """How the score is worked out: the points of each reason, most first."""
    weights = dict(answer.get("weights") or {})
    rows = [{"What is missing or wrong": _REASONS.get(k, k.replace("_", " ").capitalize()),
             "Points": int(v)} for k, v in sorted(weights.items(), key=lambda kv: -kv[1])]
    return pd.DataFrame(rows, columns=["What is missing or wrong", "Points"])


def show_answer(answer: Mapping, csv_text: str | None) -> None:
    """The summary, the field table, the records to fix (with the CSV), the records with no
    age and no needs, and the conflicts."""
    st.header(summary_line(answer), anchor=False)
    if int(answer.get("inactive") or 0):
        st.markdown(f"{_plural(int(answer['inactive']), 'inactive record')} (withdrawn or "
                    "paused, never suggested to families) are left out.")
    if not int(answer.get("active") or 0):
        st.info("The directory holds no active service. Import a Local Offer first.")
        return

    st.markdown("### How complete each field is")
    st.caption("Table: for each field, how many active records state it, how many had it read "
               "from their own description when they were imported, and how many leave it "
               "unknown, with the share of all active records.")
    st.dataframe(fields_frame(answer), hide_index=True, key="dh_fields", column_config={
        c: st.column_config.NumberColumn(c, format="%.0f%%")
        for c in ("Stated (%)", "Read from the description (%)", "Unknown (%)")})

    st.markdown("### Records to fix first")
    total = int(answer.get("to_fix_total") or 0)
    fix = to_fix_frame(answer)
    if fix.empty:
        st.info("No record needs fixing.")
    else:
        st.markdown("Fixing these would most improve matching. The **score** adds up points "
                    "for what each record is missing: the higher it is, the sooner to fix.")
        with st.expander("How the score is worked out"):
            st.caption("Table: the points added to a record's score for each thing missing "
                       "or wrong.")
            st.dataframe(weights_frame(answer), hide_index=True, key="dh_weights")
        shown = (f"Table: the first {len(fix):,} of {total:,} records to fix"
                 if total > len(fix) else f"Table: the {_plural(total, 'record')} to fix")
        st.caption(shown + ", highest score first, with what to add in words a provider "
                   "understands.")
        st.dataframe(fix, hide_index=True, key="dh_to_fix")
        if csv_text:
            st.download_button("Download every record to fix (CSV for providers)",
                               csv_text.encode("utf-8-sig"), file_name="data-health.csv",
                               mime="text/csv", key="dh_csv_download", on_click="ignore")

    st.markdown("### Records with no age and no needs")
    none = no_age_no_needs_frame(answer)
    if none.empty:
        st.markdown("Every active record gives an age or a need.")
    else:
        st.markdown(f"{_plural(len(none), 'record')} give no age and no needs at all, so they "
                    "are offered to every family and cannot be matched to a need.")
        st.caption("Table: the records with no age and no needs.")
        st.dataframe(none, hide_index=True, key="dh_no_age_no_needs")

    st.markdown("### Conflicts between the words and the fields")
    conflicts = conflicts_frame(answer)
    if conflicts.empty:
        st.markdown("No record's description contradicts its fields.")
    else:
        st.markdown(f"{_plural(len(conflicts), 'conflict')}: the record's own words say one "
                    "thing for certain and its field says another. Matching uses the field, "
                    "so check which is right.")
        st.caption("Table: each conflict, with what the listing says, what the words say and "
                   "the words themselves.")
        st.dataframe(conflicts, hide_index=True, key="dh_conflicts")
