"""Streamlit pieces of the guidance pages and of the guidance block on results and plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from client import ApiClient, ApiError
from guidance import (
    COMPLAIN_PAGE,
    EHC_PARENT_PAGE,
    EHC_YOUNG_PERSON_PAGE,
    NOT_ADVICE,
    Section,
    guidance_page_for,
    quality_lines,
)

__all__ = ["council_details", "show_sections", "guidance_block", "quality_block"]


def council_details(client: ApiClient) -> dict | None:
    """The council's details (``GET /council``, fetched once per session); ``None``, with a
    note on the page, when the API cannot give them: the guidance still reads without them."""
    if "_council" not in st.session_state:
        try:
            st.session_state["_council"] = client.council()
        except ApiError as exc:
            st.warning(f"The council's contact details could not be loaded: {exc.message}",
                       icon=":material/warning:")
            return None
    return st.session_state["_council"]


def show_sections(sections: Sequence[Section]) -> None:
    """Each section as a heading and its text, then the "not legal advice" note."""
    for title, text in sections:
        st.subheader(title)
        st.markdown(text)
    st.caption(NOT_ADVICE)


def guidance_block(links: Sequence[Mapping] | None, who: str | None = None) -> None:
    """The guidance the family's words call for (``POST /match``'s ``guidance``), then a short
    "Disagree with a decision?" line that is always there."""
    for link in links or []:
        page, label = guidance_page_for(link["page"], who)
        with st.container(border=True):
            st.markdown(link["reason"])
            st.page_link(page, label=label, icon=":material/menu_book:")
    shown = {link["page"] for link in links or []}
    if "complain_or_appeal" not in shown:
        st.page_link(COMPLAIN_PAGE, label="Disagree with a decision? Complain, appeal or get "
                     "free advice", icon=":material/gavel:")
    if "ehc_assessment" not in shown:
        page = EHC_YOUNG_PERSON_PAGE if who == "young_person" else EHC_PARENT_PAGE
        st.page_link(page, label="How to ask for an EHC needs assessment",
                     icon=":material/menu_book:")


def quality_block(detail: Mapping | None, council: Mapping | None) -> None:
    """A card's inspection, accreditation, outcome and out-of-area lines, when it has any."""
    lines = quality_lines(detail, council["name"] if council else None)
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
