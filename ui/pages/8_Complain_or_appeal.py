"""Complain, appeal or get advice: who to talk to first, the council, SENDIASS, mediation and
the SEND Tribunal, each with what it is for and when."""

from __future__ import annotations

import streamlit as st

import guidance as g
import guidance_view as gv
from client import get_client

st.set_page_config(page_title="Complain, appeal or get advice", page_icon=":material/gavel:")
client = get_client()
council = gv.council_details(client)

st.title("Complain, appeal or get advice")
st.markdown("If you disagree with a school, a service or the council about support for "
            "special educational needs, here is who can help, and in what order. You do not "
            "have to do this alone: the advice below is free.")
gv.show_sections(g.complain_sections(council))
st.page_link(g.EHC_PARENT_PAGE, label="Asking for an EHC needs assessment: the steps and time "
             "limits", icon=":material/menu_book:")
