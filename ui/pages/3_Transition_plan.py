"""Transition plan (key workers): a young person's move, services, key dates, next steps."""

from __future__ import annotations

import streamlit as st

import components as c
import guidance_view as gv
import plan_view as pv
from api_key import needed
from client import get_client

st.set_page_config(page_title="Transition plan", page_icon=":material/event_note:")
c.page_style()
client = get_client()
labels = c.get_labels(client)

st.title("Transition plan", anchor=False)
st.markdown("For key workers planning a move with a young person and their family: the "
            "services that fit, the dates that apply, and the next steps. Use initials or your "
            "case reference, never a name.")
api_key = pv.api_key_input()
if not api_key:
    st.info(needed("key_worker") + " With it you can open and save your plans.",
            icon=":material/key:")
    st.stop()
plans = pv.load_plans(client, api_key)
pv.plan_picker(plans, client, api_key, labels)
c.error_summary(st.session_state.get("tp_problems") or [])
pv.details_form(labels)
pv.find_services(client, labels)
details = pv.chosen_services(client)
dates = pv.key_dates_panel()
pv.next_steps_panel()
pv.save_and_export(client, api_key, labels, c.sendiass_text(client), details, dates)
gv.guidance_block(None)  # the EHC route with its phase-transfer dates; complaints and appeals
pv.delete_panel(client, api_key)
c.sendiass_notice(client)
