"""Gaps in provision (commissioners): where, for which needs and ages, no service is in reach."""

from __future__ import annotations

import streamlit as st

import components as c
import coprod_view as cv
import gaps_view as gv
from client import get_client

st.set_page_config(page_title="Gaps in provision", page_icon=":material/grid_on:",
                   layout="wide")
c.page_style()
client = get_client()
labels = c.get_labels(client)
c.keep_answers(gv.KEYS, "gp_saved")

st.title("Gaps in provision", anchor=False)
st.markdown("For commissioners: for each small area, need and age band, how many services in "
            "the Local Offer a child could reach in a reasonable journey. Gaps (none) and "
            "thin provision (very few) are listed with the services that nearly fit.")
api_key = gv.api_key_input()
if not api_key:
    st.info(gv.COMMISSIONERS_ONLY, icon=":material/key:")
    st.stop()
if gv.filters_form(labels):
    gv.submit(client, api_key)
c.error_summary(st.session_state.get("gp_problems") or [])
answer = st.session_state.get("gp_result")
if answer is None:
    st.info("Enter postcode districts or a postcode above (or neither, for the council's own "
            "area) and choose **Show gaps**.")
    st.stop()
gv.show_answer(client, answer, labels)
# Demand beside supply: what families searched for and did not find, and what they say is
# missing (counts only, small ones never shown).
cv.show_demand(client, api_key)
