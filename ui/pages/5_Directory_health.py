"""Directory health (the directory team): how complete the Local Offer is, and what to fix."""

from __future__ import annotations

import streamlit as st

import components as c
import health_view as hv
from client import get_client

st.set_page_config(page_title="Directory health", page_icon=":material/fact_check:",
                   layout="wide")
c.page_style()
client = get_client()

st.title("Directory health", anchor=False)
st.markdown("For the directory team: how complete the Local Offer's records are, field by "
            "field; the records that give no age and no needs; where a record's description "
            "contradicts its fields; and the records whose fixing would most improve matching, "
            "with what to ask each provider to add. Download them as a CSV to send to "
            "providers.")
api_key = hv.api_key_input()
if not api_key:
    st.info(hv.ADMINS_ONLY, icon=":material/key:")
    st.stop()
if st.button("Check the directory again", key="dh_refresh") or (
        "dh_result" not in st.session_state and "dh_problems" not in st.session_state):
    hv.fetch(client, api_key)
problems = st.session_state.get("dh_problems") or []
if problems:
    c.error_summary(problems)
    st.stop()
hv.show_answer(st.session_state["dh_result"], st.session_state.get("dh_csv"))
