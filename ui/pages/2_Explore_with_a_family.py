"""Explore with a family (SENCos): all filters at once, factor breakdown, comparison."""

from __future__ import annotations

import streamlit as st

import components as c
import explore
from client import ApiError, get_client
from planning import without_stage_left

st.set_page_config(page_title="Explore with a family", page_icon=":material/tune:",
                   layout="wide")
c.page_style()
client = get_client()
labels = c.get_labels(client)
c.keep_answers(explore.KEYS, "ex_saved")

st.title("Explore with a family", anchor=False)
st.markdown("For SENCos and other professionals working with a family. Set every filter at "
            "once; each result shows how its score was made up, and you can compare services "
            "side by side.")
if explore.filters_form(labels):
    profile, problems = explore.profile_from(st.session_state, labels)
    st.session_state.ex_problems = problems
    if profile is not None:
        try:
            st.session_state.ex_result = client.match(profile, explain="full")
        except ApiError as exc:
            st.session_state.ex_problems = [p.message for p in exc.problems] or [exc.message]
            st.session_state.pop("ex_result", None)
c.error_summary(st.session_state.get("ex_problems") or [])
answer = st.session_state.get("ex_result")
if answer is None:
    st.info("Set the filters above and choose **Find services**. Only the age is required.")
    c.sendiass_notice(client)
    st.stop()

answer, left_note = without_stage_left(answer, st.session_state.get("ex_transition"))
if left_note:
    st.markdown(left_note)
results_tab, compare_tab, why_tab = st.tabs(["Results and scores", "Compare side by side",
                                             "Why not others?"])
with results_tab:
    explore.show_results(answer, labels)
with compare_tab:
    details = c.fetch_details(client, [r["service_id"] for r in answer["results"]])
    explore.compare(answer, labels, details)
with why_tab:
    c.why_not_others(answer.get("not_suggested"), limit=100)
c.sendiass_notice(client)
