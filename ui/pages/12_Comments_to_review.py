"""Comments to review (the Local Offer team, editor key): theme, take out personal details,
answer, record actions and publish; and the services families reported as out of date."""

from __future__ import annotations

import streamlit as st

import coprod_view as cv
from api_key import api_key_input
from client import ApiError, get_client

st.set_page_config(page_title="Comments to review", page_icon=":material/inbox:", layout="wide")
client = get_client()

st.title("Comments to review")
st.markdown("For the Local Offer team: read each new comment, choose its theme, take out names "
            "and other personal details, write the council's answer and what you will do, "
            "then publish it on **You said, we did** (or decide not to).")
key = api_key_input("editor", "comments")
if not key:
    st.info(cv.EDITORS_ONLY, icon=":material/key:")
    st.stop()
try:
    queue = client.comment_queue(key)
    tasks = client.directory_tasks(key)["tasks"]
except ApiError as exc:
    st.error(cv.key_problem(exc, cv.EDITORS_ONLY), icon=":material/error:")
    st.stop()
if msg := st.session_state.pop("ed_msg", None):
    st.success(msg, icon=":material/check_circle:")
comments_tab, tasks_tab = st.tabs([f"New comments ({len(queue['comments'])})",
                                   f"Services to check ({len(tasks)})"])
with comments_tab:
    comments = {c["id"]: c for c in queue["comments"]}
    if not comments:
        st.markdown("No comments are waiting.")
    else:
        cid = st.selectbox("Comment", list(comments), key="ed_pick", format_func=lambda i: (
            f"#{i} · {comments[i]['topic'].replace('_', ' ')} · {comments[i]['created_on']}"))
        c = comments[cid]
        about = f"service {c['service_id']}" if c["about"] == "service" else "the Local Offer"
        st.markdown(f"**About:** {cv.plain(about)} · **from:** "
                    f"{cv.plain(cv.WHO.get(c['who'], c['who']))}")
        st.markdown("**They wrote:**  \n" + (cv.plain(c["words"]) or "*(no words)*"))
        if c.get("contact"):
            st.markdown(f"**Reply to:** {cv.plain(c['contact'])}")
        themes = queue["themes"]
        st.selectbox("Theme", themes, key=f"ed_theme_{cid}",
                     index=themes.index(c["theme"]) if c.get("theme") in themes else None,
                     placeholder="Choose a theme")
        st.text_area("Take out these words (one per line: names, schools, streets). Emails, "
                     "phone numbers and postcodes are taken out anyway.", key=f"ed_remove_{cid}")
        st.text_area("The council's answer", key=f"ed_response_{cid}", value=c.get("response")
                     or "", max_chars=5000)
        changes = {"theme": st.session_state.get(f"ed_theme_{cid}"),
                   "remove": [w.strip() for w in (st.session_state.get(f"ed_remove_{cid}")
                                                   or "").splitlines() if w.strip()],
                   "response": st.session_state.get(f"ed_response_{cid}") or None}
        changes = {k: v for k, v in changes.items() if v}
        a, b, d = st.columns(3)
        try:
            if a.button("Save and preview", key=f"ed_save_{cid}", icon=":material/preview:"):
                c = client.moderate(key, cid, changes)
            if b.button("Publish", key=f"ed_pub_{cid}", type="primary", icon=":material/public:"):
                client.moderate(key, cid, {**changes, "decision": "publish"})
                st.session_state["ed_msg"] = f"Comment #{cid} is published."
                st.rerun()
            if d.button("Do not publish", key=f"ed_no_{cid}", icon=":material/block:"):
                client.moderate(key, cid, {**changes, "decision": "not_publish"})
                st.session_state["ed_msg"] = f"Comment #{cid} will not be published."
                st.rerun()
        except ApiError as exc:
            st.error("; ".join(p.message for p in exc.problems) or exc.message,
                     icon=":material/error:")
        if c.get("published_words") is not None:
            st.markdown("**What will be published:**  \n" + cv.plain(c["published_words"]))
        st.subheader("What we did or will do")
        for act in c.get("actions") or []:
            st.markdown(cv._action_line(act))
        st.text_input("Action", key=f"ed_act_{cid}", max_chars=2000)
        st.selectbox("Status", list(cv.ACTION_STATUS), key=f"ed_status_{cid}",
                     format_func=lambda v: cv.ACTION_STATUS[v])
        st.text_input("Why it is not possible (needed for 'Not possible')",
                      key=f"ed_reason_{cid}", max_chars=2000)
        st.text_input("Services changed (their ids, separated by commas; optional)",
                      key=f"ed_services_{cid}", max_chars=500)
        if st.button("Record action", key=f"ed_addact_{cid}", icon=":material/add_task:"):
            action = {"description": st.session_state.get(f"ed_act_{cid}") or "",
                      "status": st.session_state[f"ed_status_{cid}"],
                      "reason": st.session_state.get(f"ed_reason_{cid}") or "",
                      "service_ids": [s.strip() for s in (st.session_state.get(
                          f"ed_services_{cid}") or "").split(",") if s.strip()]}
            try:
                client.add_action(key, cid, action)
                st.session_state["ed_msg"] = f"Action recorded for comment #{cid}."
                st.rerun()
            except ApiError as exc:
                st.error("; ".join(p.message for p in exc.problems) or exc.message,
                         icon=":material/error:")
with tasks_tab:
    if not tasks:
        st.markdown("No service is waiting for a check.")
    for t in tasks:
        with st.container(border=True):
            kind = "out of date" if t["kind"] == "out_of_date" else "wrong"
            st.markdown(f"**{cv.plain(t['name'] or t['service_id'])}** "
                        f"({cv.plain(t['service_id'])}): reported {kind} "
                        f"{t['reports']} time{'s' if t['reports'] != 1 else ''} since "
                        f"{t['created_on']}")
            if t.get("said"):
                st.markdown("**They wrote:** " + cv.plain(t["said"]))
            st.text_input("What you checked (optional)", key=f"ed_note_{t['id']}")
            if st.button("Mark as checked", key=f"ed_done_{t['id']}", icon=":material/done:"):
                try:
                    client.close_task(key, t["id"], st.session_state.get(f"ed_note_{t['id']}")
                                      or "")
                    st.session_state["ed_msg"] = f"{t['name'] or t['service_id']} is checked."
                    st.rerun()
                except ApiError as exc:
                    st.error(exc.message, icon=":material/error:")
