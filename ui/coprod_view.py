"""Co-production pages: the comment form, "You said, we did", the editors' queue and the
commissioners' demand table.

Every piece of text a person wrote (a comment, a response, an action) is shown through
:func:`plain`, which escapes Markdown, so a comment holding ``<script>``, a link or an image is
shown as the characters typed and never run or loaded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd
import streamlit as st

from api_key import needed
from client import ApiClient, ApiError

__all__ = ["plain", "TOPICS_OFFER", "TOPICS_SERVICE", "WHO", "ACTION_STATUS", "comment_body",
           "comment_block", "printable_page", "EDITORS_ONLY", "key_problem", "demand_frame",
           "show_demand", "check_note", "periods"]

#: What a comment on the Local Offer can be about (the law's headings, reg.56).
TOPICS_OFFER = {"missing": "Something is missing", "content": "What the Local Offer says",
                "accessibility": "How easy the information is to find and use",
                "how_it_works": "How the Local Offer works", "other": "Something else"}
#: What a comment on one service can be about.
TOPICS_SERVICE = {"out_of_date": "It is out of date", "wrong": "Something in it is wrong",
                  "helpful": "It was helpful", "not_helpful": "It was not helpful",
                  "other": "Something else"}
WHO = {"not_said": "I would rather not say", "parent": "A parent or carer",
       "young_person": "A young person", "practitioner": "Someone who works with families",
       "other": "Someone else"}
ACTION_STATUS = {"planned": "Planned", "done": "Done", "not_possible": "Not possible"}
EDITORS_ONLY = needed("editor")

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def plain(text: str | None) -> str:
    """``text`` with every Markdown (and Streamlit directive) character escaped, so it shows
    exactly as typed. Line breaks are kept."""
    if not text:
        return ""
    return "  \n".join(_MD_SPECIAL.sub(r"\\\1", line) for line in str(text).splitlines())


def comment_body(about: str, topic: str, who: str, words: str, service_id: str | None,
                 contact: str | None) -> dict:
    """The JSON of ``POST /comments`` from the form's answers."""
    body = {"about": about, "topic": topic, "who": who, "words": words.strip()}
    if about == "service" and service_id:
        body["service_id"] = service_id.strip()
    if contact and contact.strip():
        body["contact"] = contact.strip()
    return body


def _action_line(a: Mapping) -> str:
    status = ACTION_STATUS.get(a.get("status", ""), a.get("status", ""))
    line = f"- **{status}**: {plain(a.get('description'))}"
    if a.get("reason"):
        line += f" ({plain(a['reason'])})"
    return line


def comment_block(c: Mapping) -> None:
    """One published comment with the council's response and actions."""
    with st.container(border=True):
        what = c.get("topic_label") or c.get("topic")
        theme = f" · {plain(c['theme'])}" if c.get("theme") else ""
        st.markdown(f"**{plain(what)}**{theme} · received {plain(c.get('received'))}")
        st.markdown("**You said:** " + plain(c.get("comment")))
        st.markdown("**We said:** " + plain(c.get("response")))
        actions = c.get("actions") or []
        if actions:
            st.markdown("**We did:**\n\n" + "\n".join(_action_line(a) for a in actions))


def printable_page(comments: Sequence[Mapping], title: str) -> str:
    """A printable web page of published comments for the annual report (all text escaped)."""
    rows = []
    for c in comments:
        acts = "".join(
            f"<li>{escape(ACTION_STATUS.get(a['status'], a['status']))}: "
            f"{escape(a['description'])}"
            + (f" ({escape(a['reason'])})" if a.get("reason") else "") + "</li>"
            for a in c.get("actions") or [])
        rows.append(
            f"<section><h2>{escape(c.get('topic_label') or '')}"
            f"{' · ' + escape(c['theme']) if c.get('theme') else ''}</h2>"
            f"<p><small>Received {escape(c.get('received') or '')}</small></p>"
            f"<p><strong>You said:</strong> {escape(c.get('comment') or '')}</p>"
            f"<p><strong>We said:</strong> {escape(c.get('response') or '')}</p>"
            + (f"<p><strong>We did:</strong></p><ul>{acts}</ul>" if acts else "")
            + "</section>")
    body = "\n".join(rows) or "<p>No comments were published in this period.</p>"
    return ("<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>body{{font-family:sans-serif;"
            "max-width:48em;margin:2em auto;line-height:1.5}section{border-top:1px solid #555;"
            "padding:.5em 0}@media print{section{break-inside:avoid}}</style>\n</head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n")


def key_problem(exc: ApiError, who: str) -> str:
    """What to show for a failed staff call."""
    if exc.status == 401:
        return f"That API key was not recognised. {who}"
    if exc.status == 403:
        return f"{who} Yours is for another role; ask your administrator."
    return exc.message


# --------------------------------------------------------------------------- demand
def demand_frame(cells: Sequence[Mapping]) -> pd.DataFrame:
    """Demand cells as a table a commissioner reads."""
    return pd.DataFrame([{"Need": c.get("need_label") or c.get("need"),
                          "Age band": c.get("band_label") or c.get("band"), "District": c.get("district"),
                          "Searches that found little": c.get("searches")} for c in cells],
                        columns=["Need", "Age band", "District", "Searches that found little"])


def show_demand(client: ApiClient, api_key: str) -> None:
    """The demand section of the commissioners' page: demand beside the supply-based gaps,
    and comments saying something is missing, per theme."""
    st.subheader("Unmet demand: searches that found little")
    try:
        answer = client.demand(api_key)
    except ApiError as exc:
        st.error(key_problem(exc, "This page is for commissioners: enter a commissioner's API "
                                  "key."), icon=":material/error:")
        return
    for note in answer.get("notes") or []:
        st.caption(note)
    if answer["cells"]:
        st.dataframe(demand_frame(answer["cells"]), hide_index=True, key="cp_demand")
    else:
        st.markdown("No need, age band and district has enough searches to show yet.")
    st.subheader("Families say something is missing")
    missing = answer.get("missing_by_theme") or []
    if missing:
        st.dataframe(pd.DataFrame([{"Theme": m["theme"], "Comments": m["comments"]}
                                   for m in missing]), hide_index=True, key="cp_missing")
    else:
        st.markdown("No comments say something is missing yet.")


def periods(today: dt.date, years: int = 4) -> dict[str, tuple[dt.date, dt.date]]:
    """The periods a reader can choose: the last 12 months, then whole calendar years.

    >>> list(periods(dt.date(2026, 3, 1), 2))
    ['The last 12 months', '2026', '2025']
    """
    out = {"The last 12 months": (today - dt.timedelta(days=365), today)}
    for year in range(today.year, today.year - years, -1):
        out[str(year)] = (dt.date(year, 1, 1), min(dt.date(year, 12, 31), today))
    return out


def check_note(client: ApiClient, service_id: str) -> None:
    """Under a service: "A check is pending" when families reported it out of date or wrong
    and the directory team has not checked it yet (nothing when the API cannot say)."""
    try:
        check = client.service_check(service_id)
    except ApiError:
        return
    if check.get("check_pending"):
        st.markdown("*Someone told us this may be out of date or wrong: the Local Offer team "
                    "is checking it.*")
