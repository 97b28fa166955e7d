"""Staff (the council's Local Offer team, admin key): API keys and imports."""

from __future__ import annotations

import streamlit as st

import admin_view as av
import components as c
from api_key import needed
from client import get_client

st.set_page_config(page_title="Staff: keys and imports", page_icon=":material/admin_panel_settings:")
c.page_style()
client = get_client()

st.title("Staff: keys and imports", anchor=False)
st.markdown("For the council's Local Offer team: who holds an API key and what it lets them "
            "do, and importing the directory with its report. See also "
            "[Directory health](/Directory_health) for what the records leave out.")
api_key = av.api_key_input()
if not api_key:
    st.info(needed("admin"), icon=":material/key:")
    st.stop()
if av.users_panel(client, api_key):
    av.import_panel(client, api_key)
