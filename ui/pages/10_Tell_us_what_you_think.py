"""Tell us what you think: a comment on the Local Offer or on one service (anonymous)."""

from __future__ import annotations

import streamlit as st

import coprod_view as cv
from client import ApiError, get_client

st.set_page_config(page_title="Tell us what you think", page_icon=":material/rate_review:")
client = get_client()

st.title("Tell us what you think")
st.markdown("Tell the Local Offer team what is missing, wrong or hard to use. You do not need "
            "to give your name. Please do not write your child's name or other personal "
            "details: if you do, we take them out before anything is published. We publish "
            "comments with our answer on the **You said, we did** page.")
about = st.radio("What is your comment about?", ["local_offer", "service"], key="cp_about",
                 format_func=lambda v: {"local_offer": "The Local Offer as a whole",
                                        "service": "One service"}[v])
service_id = None
if about == "service":
    words = st.text_input("Find the service: type a word from its name", key="cp_find",
                          max_chars=100)
    if not words.strip():
        st.info("Type a word from the service's name to find it.", icon=":material/search:")
        st.stop()
    try:
        found = client.services(q=words.strip(), size=20)["items"]
    except ApiError as exc:
        st.error(exc.message, icon=":material/error:")
        st.stop()
    if not found:
        st.info("No service has that word in its name or description. Try another word.",
                icon=":material/search_off:")
        st.stop()
    names = {s["id"]: s["name"] for s in found}
    service_id = st.selectbox("Which service?", list(names), key="cp_service",
                              format_func=lambda v: names[v])
topics = cv.TOPICS_SERVICE if about == "service" else cv.TOPICS_OFFER
st.radio("What kind of comment is it?", list(topics), key=f"cp_topic_{about}",
         format_func=lambda v: topics[v])
st.text_area("Your comment", key="cp_words", max_chars=2000, height=150,
             help="At most 2,000 characters.")
st.radio("Who are you? (optional)", list(cv.WHO), key="cp_who", format_func=lambda v: cv.WHO[v])
st.text_input("An email or phone number if you would like a reply (optional; kept apart from "
              "your comment and deleted after 90 days)", key="cp_contact", max_chars=320)
if st.button("Send comment", key="cp_send", icon=":material/send:", type="primary"):
    body = cv.comment_body(about, st.session_state[f"cp_topic_{about}"],
                           st.session_state.cp_who, st.session_state.cp_words or "", service_id,
                           st.session_state.cp_contact)
    try:
        st.success(client.send_comment(body)["message"], icon=":material/check_circle:")
    except ApiError as exc:
        st.error("Your comment was not sent: " + (
            "; ".join(p.message for p in exc.problems) or exc.message), icon=":material/error:")
st.page_link("pages/11_You_said_we_did.py", label="See what families said and what we did",
             icon=":material/forum:")
