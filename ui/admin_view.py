"""The "Staff" page's parts (admin key): the people who hold API keys, and importing a Local
Offer file or a live feed (by its address) with its report. Directory health has its own
page.

A new key is shown once, in a box to copy, with a sentence saying it cannot be shown again.
Removing a person asks first, naming them. An import's report lists every rejected row with
what to fix; nothing is hidden behind colour.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from api_key import api_key_input as shared_key_input
from client import ApiClient, ApiError
from components import error_summary

__all__ = ["ROLES", "STRICT_FILE", "STRICT_FEED", "page_words", "api_key_input", "users_panel", "import_panel", "report_frame",
           "report_summary"]

#: The tick boxes of strict imports (the importer's messages name them).
STRICT_FILE = "Import nothing if any row has a problem"
STRICT_FEED = "Import nothing if any service has a problem"

#: The roles a key can carry, and what each lets its holder do.
ROLES = {
    "key_worker": "Key worker: their own transition plans",
    "commissioner": "Commissioner: gaps in provision and feedback summaries",
    "admin": "Admin: everything here, imports and directory health",
}


def _forget() -> None:
    for key in ("ad_new_key", "ad_users", "ad_report", "ad_problems"):
        st.session_state.pop(key, None)


def api_key_input() -> str:
    """The admin's API key (:func:`api_key.api_key_input`); a new key forgets what the old one
    showed."""
    return shared_key_input("admin", "staff", on_change=_forget)


def _problem(exc: ApiError) -> list[str]:
    if exc.status == 401:
        return ["That API key was not recognised. This page needs an admin API key."]
    if exc.status == 403:
        return ["This page needs an admin API key; yours is for another role. Ask your "
                "administrator."]
    return [p.message for p in exc.problems] or [exc.message]


def _add(client: ApiClient, api_key: str) -> None:
    name = str(st.session_state.get("ad_name") or "").strip()
    role = st.session_state.get("ad_role")
    problems = []
    if not name:
        problems.append("Enter a name for the new key holder, for example alex.key-worker")
    if not role:
        problems.append("Choose what the key lets them do")
    if problems:
        st.session_state.ad_problems = problems
        return
    try:
        made = client.create_user(api_key, name, role)
    except ApiError as exc:
        st.session_state.ad_problems = _problem(exc)
        return
    st.session_state.ad_problems = []
    st.session_state.ad_new_key = made
    st.session_state.ad_name = ""
    st.session_state.ad_role = None


def _remove(client: ApiClient, api_key: str, name: str) -> None:
    try:
        client.remove_user(api_key, name)
    except ApiError as exc:
        st.session_state.ad_problems = _problem(exc)
        return
    st.session_state.ad_problems = []
    st.session_state.ad_removed = f"Removed {name}. Their key no longer works."
    st.session_state.pop("ad_confirm", None)


def users_panel(client: ApiClient, api_key: str) -> bool:
    """Who holds a key, adding one (key shown once) and removing one (after confirming).
    False when the key cannot be used here (the page then stops)."""
    try:
        users = client.list_users(api_key)
    except ApiError as exc:
        error_summary(_problem(exc))
        return False
    error_summary(st.session_state.get("ad_problems") or [])
    st.header("People with API keys", anchor=False)
    if msg := st.session_state.pop("ad_removed", None):
        st.success(msg)
    if made := st.session_state.get("ad_new_key"):
        st.success(f"Made a key for **{made['name']}** ({ROLES[made['role']].split(':')[0]}). "
                   "Copy it now and give it to them safely: it cannot be shown again.")
        st.code(made["api_key"], language=None)
        st.button("I have copied it: hide the key", key="ad_hide",
                  on_click=lambda: st.session_state.pop("ad_new_key", None))
    frame = pd.DataFrame([{"Name": u["name"], "Can do": ROLES.get(u["role"], u["role"]),
                           "Made on": str(u.get("created_at") or "")[:10]} for u in users],
                         columns=["Name", "Can do", "Made on"])
    st.dataframe(frame, hide_index=True, width="stretch")
    st.caption(f"{len(users)} people hold a key. Keys themselves are never shown again.")
    st.subheader("Give someone a key", anchor=False)
    left, right = st.columns(2)
    left.text_input("Name or team", key="ad_name", max_chars=100,
                    placeholder="For example alex.key-worker")
    right.selectbox("What the key lets them do", list(ROLES), format_func=ROLES.get,
                    index=None, key="ad_role", placeholder="Choose a role")
    st.button("Make a key", key="ad_add", type="primary", on_click=_add, args=(client, api_key))
    st.subheader("Take a key away", anchor=False)
    names = [u["name"] for u in users]
    who = st.selectbox("Whose key to remove", names, index=None, key="ad_remove_who",
                       placeholder="Choose a person")
    if who and st.session_state.get("ad_confirm") == who:
        st.warning(f"**Remove {who}?** Their key stops working at once; this cannot be undone "
                   "(you can give them a new key later).")
        yes, no = st.columns(2)
        yes.button(f"Yes, remove {who}", key="ad_remove_yes", type="primary",
                   on_click=_remove, args=(client, api_key, who))
        no.button("No, keep them", key="ad_remove_no",
                  on_click=lambda: st.session_state.pop("ad_confirm", None))
    else:
        st.button("Remove this key", key="ad_remove", disabled=not who,
                  on_click=lambda: st.session_state.update(ad_confirm=who))
    return True


def report_summary(report: Mapping) -> str:
    """One sentence on what an import did.

    >>> report_summary({"rows_read": 10, "accepted": 8, "added": 5, "updated": 2,
    ...                 "unchanged": 1, "rejected": 2, "services": 40, "imported": True})
    'Read 10 rows: 8 imported (5 new, 2 changed, 1 unchanged), 2 rejected. The directory now holds 40 services.'
    """
    if not report.get("imported", True):
        return (f"Nothing was imported. Read {report.get('rows_read', 0)} rows; "
                f"{report.get('rejected', 0)} have problems (listed below).")
    return (f"Read {report['rows_read']} rows: {report['accepted']} imported "
            f"({report['added']} new, {report['updated']} changed, {report['unchanged']} "
            f"unchanged), {report['rejected']} rejected. The directory now holds "
            f"{report['services']} services.")


def report_frame(items: list[Mapping]) -> pd.DataFrame:
    """The problems (or warnings) of an import, one row each, as a spreadsheet shows them."""
    return pd.DataFrame([{"Row": p.get("row"), "Column": p.get("column"), "Value":
                          p.get("value"), "Problem": p.get("problem"), "How to fix it":
                          p.get("fix")} for p in items],
                        columns=["Row", "Column", "Value", "Problem", "How to fix it"])


def page_words(message: str, box: str) -> str:
    """The importer names the command line's ``--strict``; on this page it is a tick box.

    >>> page_words("Import without --strict to load the good services only.", "Strict")
    'Import with "Strict" unticked to load the good services only.'
    """
    return message.replace("without --strict", f'with "{box}" unticked')


def _import(client: ApiClient, api_key: str) -> None:
    upload = st.session_state.get("ad_file")
    if upload is None:
        st.session_state.ad_problems = ["Choose a CSV file to import"]
        return
    try:
        st.session_state.ad_report = client.import_file(
            api_key, upload.name, upload.getvalue(), bool(st.session_state.get("ad_strict")))
        st.session_state.ad_problems = []
    except ApiError as exc:
        st.session_state.ad_problems = [page_words(exc.message, STRICT_FILE)]
        st.session_state.ad_report = ({**exc.report, "imported": False} if exc.report
                                      else None)


def _import_feed(client: ApiClient, api_key: str) -> None:
    url = str(st.session_state.get("ad_feed_url") or "").strip()
    if not url:
        st.session_state.ad_problems = ["Enter the feed's address, for example "
                                        "https://directory.example.org/api/services"]
        return
    try:
        st.session_state.ad_report = client.import_feed(
            api_key, url, bool(st.session_state.get("ad_feed_strict")))
        st.session_state.ad_problems = []
    except ApiError as exc:
        st.session_state.ad_problems = ([p.message for p in exc.problems]
                                        or [page_words(exc.message, STRICT_FEED)])
        st.session_state.ad_report = ({**exc.report, "imported": False} if exc.report
                                      else None)


def import_panel(client: ApiClient, api_key: str) -> None:
    """Import a Local Offer CSV, or a live feed by its address, and show the report."""
    st.header("Import the directory", anchor=False)
    st.markdown("Good records are added or updated; records with problems are listed with how "
                "to fix them; services already in the directory but not in the import are "
                "kept.")
    st.subheader("From a CSV file", anchor=False)
    st.markdown("A CSV in the service template (see the README).")
    st.file_uploader("Local Offer CSV file", type=["csv"], key="ad_file")
    st.checkbox(STRICT_FILE, key="ad_strict")
    st.button("Import the file", key="ad_import", type="primary", on_click=_import,
              args=(client, api_key))
    st.subheader("From a live feed", anchor=False)
    st.markdown("An Open Referral UK or Outpost directory's `/services` address. The server "
                "reads that address only, now, once. To keep a directory in step with a feed "
                "every night, use the command line: `matcher sync URL`.")
    st.text_input("The feed's address", key="ad_feed_url", max_chars=2000,
                  placeholder="For example https://directory.example.org/api/services")
    st.checkbox(STRICT_FEED, key="ad_feed_strict")
    st.button("Import from the feed", key="ad_import_feed", type="primary",
              on_click=_import_feed, args=(client, api_key))
    report = st.session_state.get("ad_report")
    if not report:
        return
    st.subheader("Import report", anchor=False)
    st.markdown(report_summary(report))
    problems = list(report.get("problems") or [])
    warnings = list(report.get("warnings") or [])
    if problems:
        st.markdown(f"**Rows rejected: {len(problems)} problems**")
        st.dataframe(report_frame(problems), hide_index=True, width="stretch")
    if warnings:
        st.markdown(f"**Warnings (imported, worth checking): {len(warnings)}**")
        st.dataframe(report_frame(warnings), hide_index=True, width="stretch")
