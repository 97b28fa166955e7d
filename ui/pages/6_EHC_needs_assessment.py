"""Asking for an EHC needs assessment: the steps and time limits, for parents and carers."""

from __future__ import annotations

import streamlit as st

import components as c
import guidance as g
import guidance_view as gv
from client import get_client

st.set_page_config(page_title="Asking for an EHC needs assessment",
                   page_icon=":material/menu_book:")
client = get_client()
council = gv.council_details(client)

st.title("Asking for an EHC needs assessment")
st.markdown("For parents and carers. How special educational needs are noticed, what SEN "
            "support is, how to ask the council for an Education, Health and Care (EHC) needs "
            "assessment, and how long each step should take.")
st.page_link(g.EHC_YOUNG_PERSON_PAGE, label="Are you a young person aged 16 to 25? Read the "
             "version written for you", icon=":material/person:")
gv.show_sections(g.ehc_sections(council))
st.page_link(g.COMPLAIN_PAGE, label="Complain, appeal or get advice", icon=":material/gavel:")
c.sendiass_notice(client)
