"""Find support: a short questionnaire for parents and young people, then suggestions."""

from __future__ import annotations

import streamlit as st

import components as c
import guidance_view as gv
import questionnaire as q
from client import ApiError, get_client
from content import understood_lines

st.set_page_config(page_title="Find support", page_icon=":material/search:")
client = get_client()
labels = c.get_labels(client)
q.init_state()


def search() -> None:
    """Ask the API for suggestions with the answers given; show its problems if any."""
    try:
        profile = q.build_profile(q.answers(), labels)
        st.session_state.fs_result = client.match(profile, explain="full")
    except ApiError as exc:
        st.session_state.fs_api_error = exc
        return
    q.go_to("results")


st.title("Find support")
if st.session_state.fs_step != "results":
    if exc := st.session_state.pop("fs_api_error", None):
        c.api_error(exc)
    q.render_step(client, labels, on_search=search)
    c.sendiass_notice(client)
    st.stop()

answer = st.session_state.fs_result
results = answer["results"]
left, right, _ = st.columns([1, 1, 2])
left.button("Change your answers", key="fs_edit", on_click=q.go_to, args=(len(q.STEPS) - 1,))
right.button("Start again", key="fs_restart", on_click=q.reset)
understood = ", ".join(n["label"] for n in answer["understood_needs"]) or "none"
st.markdown(f"We found **{len(results)}** suggestions. Needs we understood: {understood}.")
if answer["unrecognised_needs"]:
    st.markdown("Words we did not recognise (we still searched with them): "
                + ", ".join(f"\u201c{w}\u201d" for w in answer["unrecognised_needs"]) + ".")
if read := understood_lines(answer.get("understood") or []):
    st.markdown("**What we understood from your words**\n\n" + "\n".join(f"- {x}" for x in read))
    st.button("Not right? Change your words", key="fs_fix_words", on_click=q.go_to,
              args=(q.STEPS.index("needs"), True),
              help="Go back to the question about needs, change your words, then search again.")
c.sendiass_notice(client)
gv.guidance_block(answer.get("guidance"), st.session_state.get("fs_who"))
if not results:
    st.info("No service fits all your answers. Try a longer journey, fewer preferences, or see "
            "why others were left out below.", icon=":material/info:")
c.results_map(results)
details = c.fetch_details(client, [r["service_id"] for r in results])
needs = [n["need"] for n in answer["understood_needs"]]
for rank, result in enumerate(results, start=1):
    c.result_card(rank, result, details[result["service_id"]], labels, needs, client)
c.why_not_others(answer.get("not_suggested"))
c.shortlist_panel(labels, c.sendiass_text(client))
