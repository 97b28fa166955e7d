"""Find support: a short questionnaire for parents and young people, then suggestions."""

from __future__ import annotations

import streamlit as st

import components as c
import guidance_view as gv
import questionnaire as q
from client import ApiError, get_client
from content import understood_lines
from planning import without_stage_left

st.set_page_config(page_title="Find support", page_icon=":material/search:")
c.page_style()
client = get_client()
labels = c.get_labels(client)
q.init_state()


def search() -> None:
    """Ask the API for suggestions with the answers given; show its problems if any. The
    answers then go into the page's address, so it can be reloaded, bookmarked and shared."""
    try:
        profile = q.build_profile(q.answers(), labels)
        st.session_state.fs_result = client.match(profile, explain="full")
    except ApiError as exc:
        st.session_state.fs_api_error = exc
        return
    st.query_params.from_dict(q.to_query(q.answers()))
    q.go_to("results")


def open_link() -> None:
    """A page address with answers (a reload, a bookmark or a shared link): put the answers
    back and search again; a step whose answers are missing or wrong is shown to be fixed."""
    found, bad = q.from_query(st.query_params.to_dict(), labels)
    st.session_state.fs_link_read = True
    if not found:
        return
    st.session_state.update(found)
    if bad:
        st.session_state.fs_link_problem = (
            "Part of the link could not be read (" + ", ".join(bad) + "). Check the answers "
            "below, then search again.")
    for index, step in enumerate(q.STEPS[:-1]):
        if q.validate(step, q.answers()):
            q.go_to(index)
            st.session_state.fs_errors = q.validate(step, q.answers())
            return
    if bad:
        q.go_to(len(q.STEPS) - 1)
        return
    search()


st.title("Find support", anchor=False)
if st.query_params and "fs_result" not in st.session_state \
        and not st.session_state.get("fs_link_read"):
    open_link()
if problem := st.session_state.pop("fs_link_problem", None):
    c.error_summary([problem])
if st.session_state.fs_step != "results":
    if exc := st.session_state.pop("fs_api_error", None):
        c.api_error(exc)
    q.render_step(client, labels, on_search=search)
    c.sendiass_notice(client)
    st.stop()

answer, left_note = without_stage_left(st.session_state.fs_result,
                                       st.session_state.get("fs_transition"))
results = answer["results"]
st.header("Your suggestions", anchor=False)
c.focus_heading("Your suggestions")
st.markdown(f"We found **{len(results)}** suggestions.")
c.understood_needs(answer)
left, right, _ = st.columns([1, 1, 2])
left.button("Change your answers", key="fs_edit", on_click=q.go_to, args=(len(q.STEPS) - 1,))
right.button("Start again", key="fs_restart", on_click=q.reset)
if read := understood_lines(answer.get("understood") or []):
    st.markdown("**What we understood from your words**\n\n" + "\n".join(f"- {x}" for x in read))
    st.button("Not right? Change your words", key="fs_fix_words", on_click=q.go_to,
              args=(q.STEPS.index("needs"), True),
              help="Go back to the question about needs, change your words, then search again.")
gv.guidance_block(answer.get("guidance"), st.session_state.get("fs_who"))
c.narrow_results(labels, on_change=search)
if left_note:
    st.markdown(left_note)
if not results:
    st.info("No service fits all your answers. Try a longer journey, fewer preferences, or see "
            "why others were left out below.")
c.results_map(results, c.home_point(client, st.session_state.get("fs_postcode")))
details = c.fetch_details(client, [r["service_id"] for r in results])
needs = [n["need"] for n in answer["understood_needs"]]
seen: set[str] = set()  # short forms already spelt out on this page
for rank, result in enumerate(results, start=1):
    c.result_card(rank, result, details[result["service_id"]], labels, needs, client, seen=seen)
c.why_not_others(answer.get("not_suggested"))
c.shortlist_panel(labels, c.sendiass_text(client))
c.share_note()
c.sendiass_notice(client)
