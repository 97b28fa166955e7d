"""You said, we did: published comments with the council's responses and actions."""

from __future__ import annotations

import datetime as dt

import streamlit as st

import coprod_view as cv
from client import ApiError, get_client

st.set_page_config(page_title="You said, we did", page_icon=":material/forum:")
client = get_client()

st.title("You said, we did")
st.markdown("What families, young people and practitioners told us about the Local Offer, our "
            "answer, and what we did. Personal details are taken out before a comment is "
            "published.")
try:
    themes = client.you_said_we_did(until="1900-01-01")["themes"]
except ApiError as exc:
    st.error(exc.message, icon=":material/error:")
    st.stop()
left, right = st.columns(2)
theme = left.selectbox("Theme", ["All themes", *themes], key="ys_theme")
periods = cv.periods(dt.date.today())
label = right.selectbox("Published in", list(periods), key="ys_period")
since, until = periods[label]
params = {"theme": None if theme == "All themes" else theme, "since": since.isoformat(),
          "until": until.isoformat()}
try:
    comments = client.you_said_we_did(**params)["comments"]
except ApiError as exc:
    st.error(exc.message, icon=":material/error:")
    st.stop()
st.subheader(f"{len(comments)} published comment{'s' if len(comments) != 1 else ''}")
if not comments:
    st.markdown("No comments were published for this theme and period.")
for c in comments:
    cv.comment_block(c)
st.subheader("Annual review")
st.markdown("For the Local Offer annual report: every comment published in the period above "
            "with our answers and actions.")
a, b = st.columns(2)
try:
    csv_text = client.you_said_we_did_csv(since=since.isoformat(), until=until.isoformat())
except ApiError as exc:
    st.error(exc.message, icon=":material/error:")
    st.stop()
a.download_button("Download the annual review (CSV)", csv_text, key="ys_csv",
                  file_name=f"you-said-we-did-{since}-to-{until}.csv", mime="text/csv",
                  on_click="ignore", icon=":material/download:")
b.download_button("Download a printable page", cv.printable_page(
    comments, f"You said, we did: {since:%d %B %Y} to {until:%d %B %Y}"), key="ys_html",
    file_name=f"you-said-we-did-{since}-to-{until}.html", mime="text/html",
    on_click="ignore", icon=":material/print:")
st.page_link("pages/10_Tell_us_what_you_think.py", label="Tell us what you think",
             icon=":material/rate_review:")
