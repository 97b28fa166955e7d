"""Unmet demand (commissioners): searches that found little, and comments that something is
missing; to read beside the supply-based gaps."""

from __future__ import annotations

import streamlit as st

import coprod_view as cv
from api_key import api_key_input, needed
from client import get_client

st.set_page_config(page_title="Unmet demand", page_icon=":material/trending_up:", layout="wide")
client = get_client()

st.title("Unmet demand")
st.markdown("For commissioners, beside **Gaps in provision** (where no service is in reach): "
            "how often families searched for a need, age and area and found little that fits, "
            "and what families tell us is missing. Only counts are kept: no search, profile or "
            "postcode is stored.")
key = api_key_input("commissioner", "demand")
if not key:
    st.info(needed("commissioner"), icon=":material/key:")
    st.stop()
cv.show_demand(client, key)
st.page_link("pages/4_Gaps_in_provision.py", label="Gaps in provision: where no service is in "
             "reach", icon=":material/map:")
