"""Getting an EHC needs assessment: the same route, written for young people aged 16 to 25."""

from __future__ import annotations

import streamlit as st

import components as c
import guidance as g
import guidance_view as gv
from client import get_client

st.set_page_config(page_title="Getting an EHC needs assessment: for young people",
                   page_icon=":material/person:")
client = get_client()
council = gv.council_details(client)

st.title("Getting an EHC needs assessment: for young people")
st.markdown("For young people aged 16 to 25. If you need more help with your learning than "
            "your school or college can usually give, you can ask the council for an "
            "Education, Health and Care (EHC) needs assessment. Here is how, and how long it "
            "should take.")
st.page_link(g.EHC_PARENT_PAGE, label="The version for parents and carers",
             icon=":material/family_restroom:")
gv.show_sections(g.ehc_sections(council, young_person=True))
st.page_link(g.COMPLAIN_PAGE, label="Complain, appeal or get advice", icon=":material/gavel:")
c.sendiass_notice(client)
