"""The "Transition plan" page's parts (key workers).

The API key is typed into a password field and kept only in this browser session. A plan has
a pseudonymous label, a move, a profile, chosen services with notes, and dated next steps;
it is saved and reopened through ``/plans`` and can be downloaded as a printable page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import streamlit as st

from api_key import api_key_input as shared_key_input
from client import ApiClient, ApiError
from components import error_summary, fetch_details, keep_answers
from content import Labels, split_words, spoken
from export import plan_html
from needs_picker import needs_checkboxes
from planning import (
    MOVES,
    default_move_year,
    for_plan,
    group_by_need,
    group_by_outcome,
    key_dates,
    move_for,
    move_name,
    plan_content,
)

__all__ = [
    "api_key_input",
    "load_plans",
    "plan_picker",
    "open_plan",
    "new_plan",
    "details_form",
    "profile_from",
    "find_services",
    "chosen_services",
    "key_dates_panel",
    "next_steps_panel",
    "save_and_export",
    "delete_panel",
]

_FIELDS = ("tp_label", "tp_move", "tp_year", "tp_age", "tp_ehcp", "tp_needs", "tp_words",
           "tp_postcode", "tp_about")
NEW = "__new__"


# --------------------------------------------------------------------------- key and plans
def api_key_input() -> str:
    """The key worker's API key (:func:`api_key.api_key_input`)."""
    keep_answers(_FIELDS, "tp_fields")  # the plan's answers survive visits to other pages
    return shared_key_input("key_worker", "plan")


def load_plans(client: ApiClient, api_key: str) -> list[dict]:
    """Your saved plans; stops the page with a clear message when the key does not work."""
    try:
        return client.list_plans(api_key)
    except ApiError as exc:
        if exc.status == 401:
            error_summary(["That API key was not recognised. Check you copied all of it, or "
                           "ask your administrator for a new one."])
        elif exc.status == 403:
            error_summary(["This key cannot use plans: plans are for the key worker role. "
                           "Ask your administrator for a key worker key."])
        else:
            error_summary([exc.message])
        st.stop()


def new_plan() -> None:
    """Clear the editor for a new plan.

    The fields are set to empty values rather than forgotten, so that the browser shows them
    empty too (a forgotten widget value would be sent back by the page).
    """
    st.session_state.update({"tp_label": "", "tp_move": None, "tp_year": default_move_year(),
                             "tp_age": None, "tp_ehcp": False, "tp_needs": [], "tp_words": "",
                             "tp_postcode": "", "tp_about": ""})
    for key in ("tp_plan_id", "tp_services", "tp_steps", "tp_result", "tp_saved",
                "tp_problems", "tp_reasons", "tp_confirm_delete"):
        st.session_state.pop(key, None)
    for key in [k for k in st.session_state if str(k).startswith(("tp_note_", "tp_done_"))]:
        del st.session_state[key]


def open_plan(client: ApiClient, api_key: str, plan_id: str, labels: Labels) -> None:
    """Load a saved plan into the editor."""
    try:
        plan = client.get_plan(api_key, plan_id)
    except ApiError as exc:
        st.session_state.tp_problems = [exc.message]
        return
    new_plan()
    profile = plan.get("profile") or {}
    move = MOVES.get(plan.get("move") or "") or move_for(plan.get("transition"))
    by_word = {spoken(label): nid for nid, label in labels.needs.items()}
    words = profile.get("needs") or []
    st.session_state.update({
        "tp_plan_id": plan["id"], "tp_label": plan["label"],
        "tp_move": move.id if move else None,
        "tp_year": plan.get("move_year") or _year_of(plan),
        "tp_age": profile.get("age"), "tp_ehcp": bool(profile.get("has_ehcp")),
        "tp_needs": [by_word[w] for w in words if w in by_word],
        "tp_words": ", ".join(w for w in words if w not in by_word),
        "tp_postcode": profile.get("postcode") or "", "tp_about": profile.get("about") or "",
        "tp_services": {s["service_id"]: s.get("note") or "" for s in plan["services"]},
        "tp_reasons": {s["service_id"]: list(s.get("reasons") or []) for s in plan["services"]},
        "tp_steps": [{"uid": i, "action": s["action"], "due": s.get("due"),
                      "owner": s.get("owner") or "", "done": bool(s.get("done"))}
                     for i, s in enumerate(plan["next_steps"])],
        "tp_saved": f"Opened plan {plan['label']}. It will be deleted after "
                    f"{plan['retain_until']} unless you delete it sooner.",
    })


def _year_of(plan: Mapping) -> int:
    """The move's year, read back from the statutory dates saved in the plan."""
    for step in plan.get("next_steps") or []:
        if step.get("due") and "(statutory)" in step["action"]:
            return dt.date.fromisoformat(str(step["due"])).year
    return default_move_year()


def plan_picker(plans: list[dict], client: ApiClient, api_key: str, labels: Labels) -> None:
    """Choose a saved plan to open, or start a new one."""
    names = {p["id"]: f"{p['label']} ({move_name(p)}"
             + (f", {p['move_year']})" if p.get("move_year") else ")") for p in plans}
    left, mid, right = st.columns([4, 1, 1], vertical_alignment="bottom")
    choice = left.selectbox("Open a saved plan", [NEW, *names], key="tp_pick",
                            format_func=lambda v: "Choose a plan" if v == NEW else names[v])
    mid.button("Open plan", key="tp_open", disabled=choice == NEW,
               on_click=open_plan, args=(client, api_key, choice, labels))
    right.button("New plan", key="tp_new", on_click=new_plan)
    if msg := st.session_state.get("tp_saved"):
        st.success(msg)


def _delete(client: ApiClient, api_key: str) -> None:
    state = st.session_state
    label = state.get("tp_label") or "the plan"
    try:
        client.delete_plan(api_key, state.tp_plan_id)
    except ApiError as exc:
        state.tp_problems = [exc.message]
        return
    new_plan()
    state.tp_pick = NEW
    state.tp_saved = f"Deleted plan {label}. It cannot be opened again."


def delete_panel(client: ApiClient, api_key: str) -> None:
    """Delete the open plan, after a confirmation that names it."""
    state = st.session_state
    if not state.get("tp_plan_id"):
        return
    if not state.get("tp_confirm_delete"):
        st.button("Delete this plan", key="tp_delete",
                  on_click=lambda: state.update(tp_confirm_delete=True))
        return
    st.warning(f"**Delete plan {state.get('tp_label')}?** It is deleted for good: it cannot "
               "be opened again. Download the printable plan first if you need a copy.")
    yes, no = st.columns(2)
    yes.button(f"Yes, delete plan {state.get('tp_label')}", key="tp_delete_yes",
               type="primary", on_click=_delete, args=(client, api_key))
    no.button("No, keep it", key="tp_delete_no",
              on_click=lambda: state.update(tp_confirm_delete=False))


# --------------------------------------------------------------------------- the plan
def details_form(labels: Labels) -> None:
    """Label, move, year and the young person's profile."""
    st.header("About the plan", anchor=False)
    st.session_state.setdefault("tp_year", default_move_year())
    a, b = st.columns(2)
    a.text_input("Label (initials or your case reference, never a name)", key="tp_label",
                 max_chars=80)
    a.selectbox("The move ahead", list(MOVES), index=None, key="tp_move",
                format_func=lambda m: MOVES[m].label, placeholder="Choose the transition")
    a.number_input("Year of the move (the September it happens)", min_value=2000,
                   max_value=2100, step=1, key="tp_year")
    b.number_input("Age in years", min_value=0, max_value=25, value=None, step=1, key="tp_age")
    b.checkbox("Has an EHC plan", key="tp_ehcp")
    b.text_input("Postcode or district (optional)", key="tp_postcode", max_chars=16)
    needs_checkboxes("tp_needs", labels.vocab["needs"], "Needs")
    st.text_input("Other needs, in your words (optional)", key="tp_words")
    st.text_area("Notes (no names; also used to find services)", key="tp_about", max_chars=5000)


def profile_from(state: Mapping[str, Any], labels: Labels) -> dict | None:
    """The young person's profile from the editor, or None when no age is given."""
    if state.get("tp_age") is None:
        return None
    move = MOVES.get(state.get("tp_move") or "")
    return {"who": "key_worker", "age": int(state["tp_age"]),
            "has_ehcp": bool(state.get("tp_ehcp")),
            "needs": [spoken(labels.need(n)) for n in state.get("tp_needs") or []]
                     + split_words(state.get("tp_words") or ""),
            "postcode": str(state.get("tp_postcode") or "").strip() or None,
            "about": str(state.get("tp_about") or "").strip(),
            "transition": move.transition if move else None, "limit": 20}


def _toggle(sid: str, reasons: list[str] | None = None) -> None:
    chosen = st.session_state.setdefault("tp_services", {})
    why = st.session_state.setdefault("tp_reasons", {})
    if sid in chosen:
        del chosen[sid]
        why.pop(sid, None)
        st.session_state.pop(f"tp_note_{sid}", None)
    else:
        chosen[sid] = ""
        why[sid] = list(reasons or [])


def _search(client: ApiClient, labels: Labels) -> None:
    profile = profile_from(st.session_state, labels)
    if profile is None:
        st.session_state.tp_problems = ["Enter the age before finding services"]
        return
    try:
        st.session_state.tp_result = client.match(profile, explain="full")
        st.session_state.tp_problems = []
    except ApiError as exc:
        st.session_state.tp_problems = [p.message for p in exc.problems] or [exc.message]


def find_services(client: ApiClient, labels: Labels) -> None:
    """Match services for the plan and show them by need and by adulthood outcome."""
    st.button("Find services for this plan", key="tp_find", on_click=_search,
              args=(client, labels))
    answer = st.session_state.get("tp_result")
    if not answer:
        return
    chosen = st.session_state.setdefault("tp_services", {})
    results, notes = for_plan(answer["results"], st.session_state.get("tp_move"),
                              bool(st.session_state.get("tp_ehcp")))
    for note in notes:
        st.markdown(note)
    by_need, by_outcome = st.tabs(["Grouped by need", "Grouped by preparing-for-adulthood "
                                                      "outcome"])
    for tab, groups, tag in ((by_need, group_by_need(results, labels), "n"),
                             (by_outcome, group_by_outcome(results), "o")):
        with tab:
            if tag == "o":
                st.caption("By the type of service; a service can serve more than one outcome.")
            for g, (group, results) in enumerate(groups.items()):
                st.markdown(f"**{group}**")
                for r in results:
                    sid = r["service_id"]
                    left, right = st.columns([3, 2], vertical_alignment="center")
                    left.markdown(f"- **{r['name']}**: {'; '.join(r['reasons'][:2])}")
                    right.button("Remove from plan" if sid in chosen else "Add to plan",
                                 key=f"tp_{tag}{g}_{sid}",
                                 on_click=_toggle, args=(sid, r.get("reasons") or []),
                                 help=f"{'Remove' if sid in chosen else 'Add'} {r['name']}")


def _keep_note(sid: str) -> None:
    st.session_state.tp_services[sid] = st.session_state.get(f"tp_note_{sid}", "")


def chosen_services(client: ApiClient) -> dict[str, dict]:
    """The services chosen for the plan, each with a note; returns their details."""
    st.header("Services in the plan", anchor=False)
    chosen = st.session_state.setdefault("tp_services", {})
    details = fetch_details(client, list(chosen))
    if not chosen:
        st.markdown("None yet: find services above and choose **Add to plan**.")
    for sid, note in chosen.items():
        st.session_state.setdefault(f"tp_note_{sid}", note)
        name = details.get(sid, {}).get("name") or sid
        st.text_input(f"Note about {name}", key=f"tp_note_{sid}", max_chars=2000,
                      on_change=_keep_note, args=(sid,))
    return details


def _add_dates(dates: list[tuple[str, dt.date]]) -> None:
    steps = st.session_state.setdefault("tp_steps", [])
    have = {(s["action"], str(s.get("due"))) for s in steps}
    for what, day in dates:
        if (what, day.isoformat()) not in have:
            steps.append({"uid": _uid(), "action": what, "due": day.isoformat(), "done": False})
    steps.sort(key=lambda s: s.get("due") or "9999")


def _uid() -> int:
    st.session_state["tp_uid"] = st.session_state.get("tp_uid", 1000) + 1
    return st.session_state["tp_uid"]


def key_dates_panel() -> list[tuple[str, dt.date]]:
    """The statutory and national dates for the chosen move."""
    st.header("Key dates", anchor=False)
    move = st.session_state.get("tp_move")
    if not move:
        st.markdown("Choose the move ahead to see the dates that apply.")
        return []
    dates = key_dates(move, int(st.session_state.tp_year), bool(st.session_state.get("tp_ehcp")))
    if not dates:
        st.markdown("No fixed national dates apply to this move. Agree dates with the family "
                    "and the setting.")
        return []
    st.markdown("\n".join(f"- **{d.strftime('%d %B %Y')}**: {what}" for what, d in dates))
    st.button("Add these dates to the next steps", key="tp_add_dates", on_click=_add_dates,
              args=(dates,))
    return dates


def _add_step() -> None:
    action = str(st.session_state.get("tp_new_action") or "").strip()
    if not action:
        st.session_state.tp_problems = ["Enter what needs doing before adding a next step"]
        return
    due = st.session_state.get("tp_new_due")
    owner = str(st.session_state.get("tp_new_owner") or "").strip()
    st.session_state.setdefault("tp_steps", []).append(
        {"uid": _uid(), "action": action, "due": due.isoformat() if due else None,
         "owner": owner, "done": False})
    st.session_state.tp_new_action = ""
    st.session_state.tp_new_due = None
    st.session_state.tp_new_owner = ""
    st.session_state.tp_problems = []


def _remove_step(uid: int) -> None:
    st.session_state.tp_steps = [s for s in st.session_state.tp_steps if s["uid"] != uid]


def _keep_done(uid: int) -> None:
    for s in st.session_state.tp_steps:
        if s["uid"] == uid:
            s["done"] = bool(st.session_state.get(f"tp_done_{uid}"))


def next_steps_panel() -> None:
    """Dated next steps: tick when done, remove, add."""
    st.header("Next steps", anchor=False)
    steps = st.session_state.setdefault("tp_steps", [])
    if not steps:
        st.markdown("None yet.")
    for s in steps:
        due = (f"By {dt.date.fromisoformat(s['due']).strftime('%d %B %Y')}" if s.get("due")
               else "No date set")
        st.session_state.setdefault(f"tp_done_{s['uid']}", s["done"])
        who = f" ({s['owner']})" if s.get("owner") else ""
        left, right = st.columns([5, 1], vertical_alignment="top")
        left.checkbox(f"{due}{who}: {s['action']}", key=f"tp_done_{s['uid']}",
                      on_change=_keep_done, args=(s["uid"],))
        right.button("Remove", key=f"tp_rm_{s['uid']}", on_click=_remove_step, args=(s["uid"],),
                     help=f"Remove the step: {s['action']}")
    a, b = st.columns([3, 2], vertical_alignment="bottom")
    a.text_input("New next step", key="tp_new_action", max_chars=500)
    b.text_input("Who will do it (optional)", key="tp_new_owner", max_chars=100,
                 placeholder="For example: key worker, SENCo, parent")
    c, d = st.columns([3, 2], vertical_alignment="bottom")
    c.date_input("By (optional)", value=None, key="tp_new_due", format="DD/MM/YYYY")
    d.button("Add next step", key="tp_add_step", on_click=_add_step)


def _save(client: ApiClient, api_key: str, labels: Labels) -> None:
    state = st.session_state
    if not str(state.get("tp_label") or "").strip():
        state.tp_problems = ["Enter a label: initials or your case reference, never a name"]
        return
    content = plan_content(state.tp_label, state.get("tp_move"), profile_from(state, labels),
                           state.get("tp_services", {}), state.get("tp_steps", []),
                           state.get("tp_year"), state.get("tp_reasons"))
    try:
        plan = (client.replace_plan(api_key, state.tp_plan_id, content) if state.get("tp_plan_id")
                else client.create_plan(api_key, content))
    except ApiError as exc:
        state.tp_problems = [p.message for p in exc.problems] or [exc.message]
        return
    state.tp_plan_id = plan["id"]
    state.tp_problems = []
    state.tp_saved = (f"Saved plan {plan['label']}. It will be deleted after "
                      f"{plan['retain_until']} unless you delete it sooner.")


def _safe(label: str) -> str:
    """A file-name-safe form of a label."""
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-") or "draft"


def save_and_export(client: ApiClient, api_key: str, labels: Labels, sendiass: str,
                    details: Mapping[str, Mapping], dates: list[tuple[str, dt.date]]) -> None:
    """Save (create or replace) the plan, and download it as a printable page."""
    state = st.session_state
    content = plan_content(str(state.get("tp_label") or ""), state.get("tp_move"),
                           profile_from(state, labels), state.get("tp_services", {}),
                           state.get("tp_steps", []), state.get("tp_year"),
                           state.get("tp_reasons"))
    left, right = st.columns(2)
    left.button("Save plan", key="tp_save", type="primary", on_click=_save,
                args=(client, api_key, labels))
    right.download_button("Download printable plan (web page)",
                          plan_html(content, details, labels, dates, sendiass),
                          file_name=f"plan-{_safe(content['label'])}.html", mime="text/html",
                          key="tp_export", on_click="ignore")
