"""Streamlit pieces shared by the pages: labels, SENDIASS notice, cards, map, shortlist.

Every input has a visible label and a key; messages say what happened in words (never by
colour alone); the API's reasons are shown exactly as it wrote them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlencode

import streamlit as st

from client import ApiClient, ApiError
from content import Labels, explain_terms, questions_for, sendiass_line, tel_link
from export import shortlist_csv, shortlist_html, shortlist_mailto
from facts import card_facts
from guidance_view import council_details, quality_block
from needs_picker import ONE_BY_ONE

__all__ = [
    "get_labels",
    "sendiass_text",
    "sendiass_notice",
    "error_summary",
    "api_error",
    "fetch_details",
    "results_map",
    "home_point",
    "result_card",
    "contact_markdown",
    "why_not_others",
    "shortlist_panel",
    "toggle_shortlist",
    "send_feedback",
    "keep_answers",
    "focus_heading",
    "page_style",
    "understood_needs",
    "share_note",
    "narrow_results",
]

_FEEDBACK = {"helpful": "Thank you: we have noted that this was helpful.",
             "not_helpful": "Thank you: we have noted that this was not helpful.",
             "out_of_date": "Thank you: we will ask the provider to check their details."}


def keep_answers(keys: tuple[str, ...], store: str) -> None:
    """Keep widgets' values for the whole browser session.

    Streamlit forgets a widget's value when the widget is not drawn (another step or page).
    Call this first on every run of a page: it remembers each value under
    ``st.session_state[store]`` and puts back any that Streamlit forgot.
    """
    saved = st.session_state.setdefault(store, {})
    for key in keys:
        if key in st.session_state:
            saved[key] = st.session_state[key]
            st.session_state[key] = st.session_state[key]
        elif key in saved:
            st.session_state[key] = saved[key]


_FOCUS_SCRIPT = (
    "<script>(() => { const want = WANT; let n = 0; const go = () => {"
    " const hs = [...document.querySelectorAll('h1, h2, h3')]"
    ".filter(h => h.textContent.trim() === want);"
    " if (!hs.length) { if (n++ < 40) setTimeout(go, 50); return; }"
    " const h = hs[hs.length - 1]; h.setAttribute('tabindex', '-1');"
    " h.focus({preventScroll: true}); h.scrollIntoView({block: 'start'}); };"
    " setTimeout(go, 30); })(); /* COUNT */</script>")


_PAGE_STYLE = """<style>
/* Heading link icons are hidden: they were tab stops with no visible purpose. */
[data-testid="stHeaderActionElements"] { display: none !important; }
/* Helper text in the body text colour (Streamlit's default grey is close to 4.5:1). */
[data-testid="stCaptionContainer"] { color: #0b0c0c; opacity: 1; }
</style>"""


def page_style() -> None:
    """Styles every page uses: no stray tab stops on headings, helper text in full contrast."""
    st.html(_PAGE_STYLE)


def focus_heading(text: str) -> None:
    """Move the keyboard focus to the heading that says ``text`` and scroll it to the top, so
    a new step or the results are where the eye and the screen reader are (the button just
    pressed may be far down the page, or gone).

    The script finds the heading by its words, makes it focusable by script only
    (``tabindex=-1``, so it is no extra tab stop) and focuses it, which a screen reader
    announces. A counter makes each call a new element, so the script runs every time.
    """
    count = st.session_state.get("_focus_count", 0) + 1
    st.session_state["_focus_count"] = count
    script = _FOCUS_SCRIPT.replace("WANT", json.dumps(text)).replace("COUNT", str(count))
    st.html(script, unsafe_allow_javascript=True)


def understood_needs(answer: Mapping) -> None:
    """What the search understood of the family's needs, and the words it did not recognise.

    This is the one place the results page says so; it reads only the answer of
    ``POST /match``.
    """
    understood = ", ".join(n["label"] for n in answer.get("understood_needs") or []) or "none"
    st.markdown(f"Needs we understood: {understood}.")
    if answer.get("unrecognised_needs"):
        st.markdown("Words we did not recognise (we still searched with them): "
                    + ", ".join(f"\u201c{w}\u201d" for w in answer["unrecognised_needs"])
                    + ".")


def share_note() -> None:
    """Say that the page's address holds the answers, and offer it to copy or e-mail."""
    url = _page_url()
    st.header("Keep or share these results", anchor=False)
    st.markdown(
        "The address of this page holds your answers, so "
        "you can bookmark it, come back to it or send it to someone, and get the same "
        "suggestions (they can change when the directory is updated). It holds only what you "
        "chose and typed on these pages, including your postcode if you gave one: no name. "
        "Nothing about you is stored on our side.")
    if url:
        body = urlencode({"subject": "SEND support suggestions",
                          "body": f"Suggestions from the Local Offer: {url}"},
                         quote_via=_quote)
        st.markdown(f"[E-mail this link](mailto:?{body})")
        st.code(url, language=None, wrap_lines=True)
        st.caption("The link above, to copy: select it, or use the copy button beside it.")


def _quote(text: str, safe: str = "", encoding: str | None = None,
           errors: str | None = None) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _page_url() -> str:
    """The address of this page as the browser sees it, with the current query parameters."""
    try:
        base = str(st.context.url or "").split("?", 1)[0]
    except Exception:  # noqa: BLE001  (no browser behind the page, as in tests)
        base = ""
    query = urlencode(st.query_params.to_dict())
    return f"{base}?{query}" if base and query else ""


def narrow_results(labels: Labels, on_change: Callable[[], None]) -> None:
    """Filters on the results page (free only, when, journey, how it is delivered) that search
    again with the other answers unchanged."""
    with st.expander("Narrow these results"), st.form("fs_narrow", border=False):
        st.checkbox("Only show services that are free (a service that does not say what it "
                    "costs is still shown, marked \u201ccost not stated\u201d)", key="fs_free")
        st.multiselect("When can you go?", labels.options("when"),
                       format_func=lambda v: labels.of("when", v), key="fs_when",
                       placeholder="Any time", **ONE_BY_ONE)
        if st.session_state.get("fs_mode") not in (None, "online_only"):
            st.selectbox("Longest journey, each way", [10, 15, 20, 30, 45, 60, 90],
                         format_func=lambda m: f"Up to {m} minutes", key="fs_minutes")
        st.multiselect("How can it be given?", labels.options("delivery"),
                       format_func=lambda v: labels.of("delivery", v), key="fs_delivery",
                       placeholder="Any way", **ONE_BY_ONE)
        st.form_submit_button("Show results", type="primary", on_click=on_change)


def get_labels(client: ApiClient) -> Labels:
    """The vocabularies' labels (fetched once per session). Stops the page with a clear
    message when the API cannot be reached."""
    if "_labels" not in st.session_state:
        try:
            st.session_state["_labels"] = Labels(client.vocabularies())
        except ApiError as exc:
            st.error(exc.message)
            st.stop()
    return st.session_state["_labels"]


def sendiass_text(client: ApiClient) -> str:
    """The sentence about the local SENDIASS (the directory's own entry when it has one)."""
    if "_sendiass" not in st.session_state:
        detail = None
        try:
            page = client.services(category="support_advice", q="SENDIASS", size=1)
            if page["items"]:
                detail = client.service(page["items"][0]["id"])
        except ApiError:
            detail = None  # the generic sentence still tells families where to turn
        st.session_state["_sendiass"] = sendiass_line(detail)
    return st.session_state["_sendiass"]


def sendiass_notice(client: ApiClient) -> None:
    """Always-visible line about free, impartial SEND advice."""
    st.info(f"**Free, impartial advice.** {sendiass_text(client)}")


def error_summary(messages: Sequence[str]) -> None:
    """GOV.UK-style error summary: "There is a problem" and each message."""
    if messages:
        st.error("**There is a problem**\n\n" + "\n".join(f"- {m}" for m in messages))


def api_error(exc: ApiError) -> None:
    """Show an API error: its field problems as an error summary, else its sentence."""
    error_summary([p.message for p in exc.problems] or [exc.message])


def fetch_details(client: ApiClient, ids: Sequence[str]) -> dict[str, dict]:
    """Each service's full record (``GET /services/{id}``), remembered for the session."""
    cache = st.session_state.setdefault("_details", {})
    for sid in ids:
        if sid not in cache:
            try:
                cache[sid] = client.service(sid)
            except ApiError:
                cache[sid] = {}
    return {sid: cache[sid] for sid in ids}


def home_point(client: ApiClient, postcode: str | None) -> tuple[float, float] | None:
    """Where the family's postcode is (for the home marker), remembered for the session."""
    text = str(postcode or "").strip()
    if not text:
        return None
    cache = st.session_state.setdefault("_home_points", {})
    if text not in cache:
        try:
            found = client.postcode(text)
            cache[text] = (float(found["latitude"]), float(found["longitude"]))
        except (ApiError, KeyError, TypeError, ValueError):
            cache[text] = None
    return cache[text]


def results_map(results: Sequence[Mapping], home: tuple[float, float] | None = None) -> None:
    """A street map of the results that have a place, numbered as in the list, with the
    family's home; or, when the council has switched maps off, a sentence saying the list has
    every address."""
    from map_view import map_html, tile_settings

    places = [(str(i), float(r["latitude"]), float(r["longitude"]))
              for i, r in enumerate(results, start=1)
              if r.get("latitude") is not None and r.get("longitude") is not None]
    tiles = tile_settings()
    if not places:
        st.caption("None of these services has a venue to show on a map.")
        return
    if tiles is None:
        st.caption("The map is switched off here. Each suggestion below gives its address "
                   "and a link for directions.")
        return
    st.html(map_html(places, home, tiles))
    st.caption(f"{len(places)} of {len(results)} services have a venue on the map; the numbers "
               "match the list" + ("; \u201cHome\u201d is your postcode" if home else "")
               + ". Online, phone and home-visit services are not on the map. Your browser "
               "fetches the streets from the map's tile server.")


def toggle_shortlist(item: Mapping) -> None:
    """Add a service to the shortlist, or take it off when it is there."""
    shortlist = st.session_state.setdefault("shortlist", {})
    sid = item["result"]["service_id"]
    if sid in shortlist:
        del shortlist[sid]
    else:
        shortlist[sid] = dict(item)


def send_feedback(client: ApiClient, service_id: str, kind: str) -> None:
    """``POST /feedback`` and remember the answer to show on the card."""
    try:
        client.feedback(service_id, kind)
        st.session_state[f"fb_msg_{service_id}"] = _FEEDBACK[kind]
    except ApiError as exc:
        st.session_state[f"fb_msg_{service_id}"] = f"Your feedback was not sent: {exc.message}"


def contact_markdown(detail: Mapping, result: Mapping) -> str:
    """Phone (tap to call), e-mail, website and directions, as Markdown links."""
    parts = []
    if detail.get("phone"):
        parts.append("Phone " + tel_link(str(detail["phone"])))
    if detail.get("email"):
        parts.append(f"[E-mail {detail['email']}](mailto:{detail['email']})")
    if detail.get("url"):
        parts.append(f"[Website]({detail['url']})")
    lat, lon = result.get("latitude"), result.get("longitude")
    where = ", ".join(x for x in (detail.get("address"), detail.get("postcode")) if x)
    if lat is not None and lon is not None:
        parts.append(f"[Directions to {where or 'the venue'}]"
                     f"(https://www.openstreetmap.org/directions?to={lat}%2C{lon})")
    elif where:
        parts.append(f"Address: {where}")
    return " \u00b7 ".join(parts) or "No contact details given: ask SENDIASS or the council."


def result_card(rank: int, result: Mapping, detail: Mapping, labels: Labels, needs: Sequence[str],
                client: ApiClient, prefix: str = "card", seen: set[str] | None = None) -> None:
    """One suggestion, compact: name, the API's reasons (short forms spelt out the first time
    the page uses them, from the glossary), the facts the reasons do not already give, contact
    links, then the shortlist button; questions and feedback fold away."""
    sid = result["service_id"]
    seen = set() if seen is None else seen
    questions = questions_for(result.get("categories") or [], needs)
    with st.container(border=True, key=f"{prefix}_box_{sid}"):
        st.markdown(f"### {rank}. {result['name']}")
        if result.get("organisation") and result["organisation"] != result["name"]:
            st.caption(result["organisation"])
        st.markdown("**Why we suggest it**\n\n"
                    + "\n".join(f"- {explain_terms(r, seen)}" for r in result["reasons"]))
        facts = card_facts(result, detail, labels)
        st.markdown("\n".join(f"- **{k}:** {explain_terms(v, seen)}" for k, v in facts.items()))
        quality_block(detail, council_details(client))  # ratings, outcomes, out of area
        from coprod_view import check_note  # a pending check, from families' reports

        check_note(client, sid)
        st.markdown(contact_markdown(detail, result))
        in_list = sid in st.session_state.get("shortlist", {})
        item = {"result": dict(result), "detail": dict(detail), "questions": questions}
        st.button("Remove from shortlist" if in_list else "Add to shortlist",
                  key=f"{prefix}_sl_{sid}", on_click=toggle_shortlist, args=(item,),
                  help=f"{'Remove' if in_list else 'Add'} {result['name']}")
        with st.expander("Questions you could ask"):
            st.markdown("\n".join(f"- {q}" for q in questions))
        with st.expander("Was this helpful?"):
            for kind, text in (("helpful", "Yes, helpful"), ("not_helpful", "No, not helpful"),
                               ("out_of_date", "Report out of date")):
                st.button(text, key=f"{prefix}_fb_{kind}_{sid}", on_click=send_feedback,
                          args=(client, sid, kind), help=f"{text}: {result['name']}")
        if msg := st.session_state.get(f"fb_msg_{sid}"):
            st.markdown(f"*{msg}*")


def why_not_others(not_suggested: Sequence[Mapping] | None, limit: int = 40) -> None:
    """The "Why not others?" expander: services left out, with the API's reasons."""
    items = list(not_suggested or [])
    with st.expander(f"Why not others? ({len(items)} services left out)"):
        if not items:
            st.markdown("No services were left out.")
            return
        near = [x for x in items if x.get("status") == "near_miss"]
        rest = [x for x in items if x.get("status") != "near_miss"]
        st.markdown("These services did not fit one or more of your answers. "
                    "Nearly fitting ones come first.")
        lines = [f"- **{x['name']}**: {'; '.join(x['reasons'])}" for x in (near + rest)[:limit]]
        st.markdown("\n".join(lines))
        if len(items) > limit:
            st.caption(f"And {len(items) - limit} more, which fit less well.")


def shortlist_panel(labels: Labels, sendiass: str, prefix: str = "sl") -> None:
    """The shortlist with remove buttons and CSV / printable page downloads."""
    items = list(st.session_state.get("shortlist", {}).values())
    st.header(f"Your shortlist ({len(items)})", anchor=False)
    if not items:
        st.markdown("Nothing yet. Use **Add to shortlist** on a suggestion to keep it here.")
        return
    for item in items:
        r = item["result"]
        left, right = st.columns([5, 2], vertical_alignment="center")
        left.markdown(f"- **{r['name']}**")
        right.button("Remove", key=f"{prefix}_rm_{r['service_id']}", on_click=toggle_shortlist,
                     args=(item,), help=f"Remove {r['name']} from your shortlist")
    a, b = st.columns(2)
    a.download_button("Download shortlist (CSV)", shortlist_csv(items, labels),
                      file_name="shortlist.csv", mime="text/csv", key=f"{prefix}_csv",
                      on_click="ignore")
    b.download_button("Download printable shortlist (web page)",
                      shortlist_html(items, labels, sendiass), file_name="shortlist.html",
                      mime="text/html", key=f"{prefix}_html", on_click="ignore")
    st.markdown(f"[E-mail the shortlist]({shortlist_mailto(items, _page_url())}) (opens your "
                "e-mail program with the list written in; you choose who to send it to). "
                "To print, open the printable shortlist and use your browser's Print.")
