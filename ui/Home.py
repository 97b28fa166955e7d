"""SEND Local Offer matcher: the start page. Run with ``streamlit run ui/Home.py``."""

from __future__ import annotations

import streamlit as st

import components as c
from client import ApiError, get_client

st.set_page_config(page_title="Find SEND support near you", page_icon=":material/diversity_1:")
c.page_style()
client = get_client()

st.title("Find SEND support near you", anchor=False)
st.markdown(
    "Suggestions from the Local Offer for children and young people aged 0 to 25 with special "
    "educational needs and disabilities (SEND). Each suggestion says why it was chosen. "
    "It gives advice only: it does not decide what anyone is entitled to."
)
st.page_link("pages/1_Find_support.py", label="Find support: answer a few questions "
             "(parents, carers and young people)")
st.page_link("pages/2_Explore_with_a_family.py", label="Explore with a family: all filters "
             "and a side-by-side comparison (SENCos)")
st.page_link("pages/3_Transition_plan.py", label="Transition plan: plan a move with dates "
             "and next steps (key workers, needs an API key)")
st.page_link("pages/4_Gaps_in_provision.py", label="Gaps in provision: where families cannot "
             "reach a service that fits (commissioners, needs an API key)")
st.page_link("pages/5_Directory_health.py", label="Directory health: what the records leave "
             "out and what to ask providers to fix (directory team, needs an admin API key)")
st.page_link("pages/9_Staff.py", label="Staff: who holds an API key, and importing the "
             "directory with its report (directory team, needs an admin API key)")
st.page_link("pages/6_EHC_needs_assessment.py", label="Asking for an EHC needs assessment: "
             "the steps and time limits (parents and carers; young people have their own page)")
st.page_link("pages/8_Complain_or_appeal.py", label="Complain, appeal or get free advice")
st.page_link("pages/10_Tell_us_what_you_think.py", label="Tell us what you think: what is "
             "missing, wrong or hard to use")
st.page_link("pages/11_You_said_we_did.py", label="You said, we did: comments, our answers "
             "and what we did")
st.page_link("pages/12_Comments_to_review.py", label="Comments to review: the Local Offer "
             "team's queue (needs an editor API key)")
st.page_link("pages/13_Unmet_demand.py", label="Unmet demand: searches that found little, "
             "beside the gaps (commissioners, needs an API key)")
c.sendiass_notice(client)
st.header("Your privacy", anchor=False)
st.markdown(
    "- We do not ask for names. Your answers are used for your search and are not stored.\n"
    "- Feedback buttons send which service it was about, the kind of feedback and a random "
    "number for this visit (so one visit counts once).\n"
    "- Comments are read by the Local Offer team; names and contact details are taken out "
    "before anything is published.\n"
    "- Key workers' plans use a made-up label (initials or a case reference) and are deleted "
    "after 12 months at the latest."
)
try:
    health = client.health()
    st.caption(f"The directory holds {health.get('services') or 0} services.")
except ApiError as exc:
    st.error(exc.message)
