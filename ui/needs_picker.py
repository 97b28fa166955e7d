"""The needs picker: grouped checkboxes in everyday words, used on every page that asks for
needs.

A checkbox is ticked only by the person's own click or key press, so a need is never added by
a search box guessing (no "select all", no "select N matches"). The chosen need ids are kept
under one session key (for example ``fs_needs``); each checkbox's key is that key plus
``_<need id>``. Groups and wording come from ``needs_groups.yaml``; a need of the vocabulary
missing from that file still appears, under the last group, with its own label.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import streamlit as st
import yaml

__all__ = ["ONE_BY_ONE", "GROUPS_PATH", "load_groups", "need_groups", "choice_text", "needs_checkboxes"]

#: Keyword arguments for every ``st.multiselect`` of the app: no bulk "Select all" or "Select N
#: matches" option (Streamlit adds one at the top of the list), so pressing Enter after typing
#: part of a word picks at most the one option highlighted, never several at once.
ONE_BY_ONE: dict = ({"select_all": False}
                    if "select_all" in inspect.signature(st.multiselect).parameters else {})

GROUPS_PATH = Path(__file__).resolve().parent / "needs_groups.yaml"


@lru_cache(maxsize=2)
def load_groups(path: Path = GROUPS_PATH) -> tuple[dict, ...]:
    """The groups file as ``({"title", "needs": {id: {"label", "hint"}}}, ...)``."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return tuple({"title": g["title"], "needs": dict(g.get("needs") or {})}
                 for g in data.get("groups") or [])


def need_groups(vocab_needs: Sequence[Mapping],
                groups: Sequence[Mapping] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(group title, [(need id, checkbox text), ...]), ...]`` for the vocabulary's needs.

    Needs the groups file does not know go to the last group with their vocabulary label;
    ids in the file that the vocabulary does not have are left out.

    >>> g = [{"title": "Learning", "needs": {"dyslexia": {"label": "Dyslexia",
    ...                                                   "hint": "reading and spelling"}}},
    ...      {"title": "Something else", "needs": {}}]
    >>> need_groups([{"id": "dyslexia", "label": "Dyslexia"}, {"id": "x", "label": "X need"}], g)
    [('Learning', [('dyslexia', 'Dyslexia: reading and spelling')]), ('Something else', [('x', 'X need')])]
    """
    groups = load_groups() if groups is None else groups
    known = {n["id"]: n["label"] for n in vocab_needs}
    out: list[tuple[str, list[tuple[str, str]]]] = []
    placed: set[str] = set()
    for g in groups:
        items = []
        for nid, words in g["needs"].items():
            if nid in known and nid not in placed:
                items.append((nid, choice_text(words or {}, known[nid])))
                placed.add(nid)
        out.append((g["title"], items))
    rest = [(nid, label) for nid, label in known.items() if nid not in placed]
    if rest:
        if not out:
            out.append(("Something else", []))
        out[-1][1].extend(rest)
    return [(title, items) for title, items in out if items]


def choice_text(words: Mapping, fallback: str) -> str:
    """A checkbox's text: the everyday label, then what it means when there is a hint."""
    label = words.get("label") or fallback
    return f"{label}: {words['hint']}" if words.get("hint") else label


def _sync(store: str, nid: str) -> None:
    chosen = list(st.session_state.get(store) or [])
    if st.session_state.get(f"{store}_{nid}"):
        if nid not in chosen:
            chosen.append(nid)
    elif nid in chosen:
        chosen.remove(nid)
    st.session_state[store] = chosen


def needs_checkboxes(store: str, vocab_needs: Sequence[Mapping], question: str,
                     in_form: bool = False) -> None:
    """Draw the grouped checkboxes under ``question``; the chosen ids go to ``store``.

    Inside a form (``in_form``), where a checkbox cannot call back, the ids are read from the
    checkboxes when the form is sent, and a checkbox Streamlit has forgotten (after a visit to
    another page) is ticked again from ``store``.

    Each group is an expander, so the whole list fits a phone screen; a line above the
    groups names every need chosen, so nothing chosen is hidden in a closed group.
    """
    groups = need_groups(vocab_needs)
    if in_form:
        ids = [nid for _, items in groups for nid, _ in items]
        before = list(st.session_state.get(store) or [])
        if any(f"{store}_{nid}" in st.session_state for nid in ids):
            st.session_state[store] = [n for n in before if st.session_state.get(f"{store}_{n}")]
            st.session_state[store] += [n for n in ids if st.session_state.get(f"{store}_{n}")
                                        and n not in st.session_state[store]]
    chosen = list(st.session_state.get(store) or [])
    st.markdown(f"**{question}**")
    st.caption("Open a group and tick all that apply. You can also describe needs in your own "
               "words below.")
    texts = {nid: text.split(":", 1)[0] for _, items in groups for nid, text in items}
    st.markdown("You have chosen: " + (", ".join(texts[n] for n in chosen if n in texts)
                                       or "nothing yet") + ".")
    for title, items in groups:
        with st.expander(title):
            for nid, text in items:
                key = f"{store}_{nid}"
                if in_form:
                    st.session_state.setdefault(key, nid in chosen)
                    st.checkbox(text, key=key)
                else:
                    st.session_state[key] = nid in chosen
                    st.checkbox(text, key=key, on_change=_sync, args=(store, nid))
