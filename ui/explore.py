""""Explore with a family" (SENCos): every filter in one form, the factor breakdown, and a
side-by-side comparison of 2 to 4 services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from content import Labels, split_words, spoken, understood_lines
from facts import comparison_frame, contributions_frame, results_frame
from needs_picker import ONE_BY_ONE, needs_checkboxes

__all__ = ["NO_MOVE", "KEYS", "filters_form", "profile_from", "show_results", "compare"]

NO_MOVE = "none"
#: The form's widget keys (kept across pages with ``components.keep_answers``).
KEYS = ("ex_age", "ex_ehcp", "ex_needs", "ex_words", "ex_about", "ex_postcode", "ex_mode",
         "ex_minutes", "ex_transition", "ex_free", "ex_categories", "ex_when", "ex_access",
         "ex_delivery", "ex_language", "ex_limit")


def filters_form(labels: Labels) -> bool:
    """Draw the one-form filter panel; True when "Find services" was pressed."""
    def fmt(vocab: str):
        return lambda v: labels.of(vocab, v)

    with st.form("ex_form"):
        a, b, c = st.columns(3)
        a.number_input("Age in years (0 to 25)", min_value=0, max_value=25, value=None, step=1,
                       key="ex_age", placeholder="Required")
        a.checkbox("Has an EHC plan", key="ex_ehcp")
        a.text_input("Postcode or district", key="ex_postcode", max_chars=16,
                     placeholder="For example N7 8JN or N7")
        a.selectbox("Transition", [NO_MOVE, *labels.options("transitions")], key="ex_transition",
                    format_func=lambda v: "None" if v == NO_MOVE else labels.of("transitions", v))
        with b:
            needs_checkboxes("ex_needs", labels.vocab["needs"], "Needs", in_form=True)
        b.text_input("Other needs, in the family's words", key="ex_words",
                     placeholder="Separate with commas")
        b.text_area("About the child or young person (no names)", key="ex_about", height=100,
                    max_chars=5000)
        c.selectbox("Travel", labels.options("travel_modes"), index=None, key="ex_mode",
                    format_func=fmt("travel_modes"), placeholder="Any way")
        c.number_input("Longest journey, minutes each way", min_value=5, max_value=240,
                       value=45, step=5, key="ex_minutes")
        c.number_input("How many results", min_value=1, max_value=50, value=15, key="ex_limit")
        d, e, f = st.columns(3)
        d.multiselect("Types of service", labels.options("categories"), key="ex_categories",
                      format_func=fmt("categories"), placeholder="Any type", **ONE_BY_ONE)
        d.checkbox("Free services only", key="ex_free")
        e.multiselect("When", labels.options("when"), key="ex_when", format_func=fmt("when"),
                      placeholder="Any time", **ONE_BY_ONE)
        e.multiselect("How it is delivered", labels.options("delivery"), key="ex_delivery",
                      format_func=fmt("delivery"), placeholder="Any way", **ONE_BY_ONE)
        f.multiselect("Accessibility", labels.options("accessibility"), key="ex_access",
                      format_func=fmt("accessibility"), placeholder="No particular needs",
                      **ONE_BY_ONE)
        f.text_input("Language other than English", key="ex_language", max_chars=60)
        return st.form_submit_button("Find services", type="primary")


def profile_from(state: Mapping[str, Any], labels: Labels) -> tuple[dict | None, list[str]]:
    """The profile for ``POST /match`` from the form's values, or the problems to fix first.

    >>> profile_from({"ex_age": None}, None)
    (None, ['Enter the age in years, from 0 to 25'])
    """
    if state.get("ex_age") is None:
        return None, ["Enter the age in years, from 0 to 25"]
    travel: dict[str, Any] = {}
    if state.get("ex_mode"):
        travel["mode"] = state["ex_mode"]
        if state["ex_mode"] != "online_only" and state.get("ex_minutes"):
            travel["max_minutes"] = float(state["ex_minutes"])
    transition = state.get("ex_transition")
    profile = {
        "who": "senco",
        "age": int(state["ex_age"]),
        "has_ehcp": bool(state.get("ex_ehcp")),
        "needs": [spoken(labels.need(n)) for n in state.get("ex_needs") or []]
                 + split_words(state.get("ex_words") or ""),
        "about": str(state.get("ex_about") or "").strip(),
        "postcode": str(state.get("ex_postcode") or "").strip() or None,
        "travel": travel,
        "transition": None if transition in (None, NO_MOVE) else transition,
        "preferences": {
            "free_only": bool(state.get("ex_free")),
            "categories": list(state.get("ex_categories") or []),
            "when": list(state.get("ex_when") or []),
            "accessibility": list(state.get("ex_access") or []),
            "delivery": list(state.get("ex_delivery") or []),
            "language": str(state.get("ex_language") or "").strip() or None,
        },
        "limit": int(state.get("ex_limit") or 15),
    }
    return profile, []


def show_results(answer: Mapping, labels: Labels) -> None:
    """The overview table, then each result's reasons and factor breakdown."""
    results = answer["results"]
    st.markdown(f"**{len(results)}** services shown; {answer.get('candidates', 0)} fitted every "
                f"rule and {answer.get('excluded', 0)} were left out.")
    if answer.get("unrecognised_needs"):
        st.markdown("Words not recognised (still searched with): "
                    + ", ".join(answer["unrecognised_needs"]))
    if read := understood_lines(answer.get("understood") or []):
        st.markdown("**Read from the family's words** (change the words above to correct "
                    "it)\n\n" + "\n".join(f"- {x}" for x in read))
    st.table(results_frame(results, labels).set_index("Rank"))
    for rank, r in enumerate(results, start=1):
        with st.expander(f"{rank}. {r['name']}: score {float(r['score']):.3f}"):
            st.markdown("\n".join(f"- {x}" for x in r["reasons"]))
            frame = contributions_frame(r)
            if frame.empty:
                st.caption("No breakdown was returned for this service.")
                continue
            st.table(frame.set_index("Factor"))
            st.bar_chart(frame, x="Factor", y="Points", horizontal=True, height=220)
            st.caption("The bar chart shows the same points as the table above.")


def compare(answer: Mapping, labels: Labels, details: Mapping) -> None:
    """Choose 2 to 4 services and see them side by side."""
    results = {r["service_id"]: r for r in answer["results"]}
    chosen = st.multiselect("Services to compare (2 to 4)", list(results), key="ex_compare",
                            format_func=lambda sid: results[sid]["name"], max_selections=4,
                            placeholder="Choose 2 to 4 services", **ONE_BY_ONE)
    if len(chosen) < 2:
        st.info("Choose 2 to 4 services to compare them side by side.")
        return
    st.table(comparison_frame([results[s] for s in chosen], details, labels))
