"""The API key field of the pages for staff: one helper, so every page asks for a key the same
way (a password field with the same label, help and keeping).

A key is kept for the browser tab only (in Streamlit's session, never in the page address or
on disk) and per role: a commissioner's key typed on "Gaps in provision" is already there on
"Unmet demand", an admin's on "Staff" is there on "Directory health".
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

__all__ = ["ROLES", "label", "help_text", "needed", "widget_key", "api_key_input"]

#: The roles a page can ask for, in the words the pages use.
ROLES = {"key_worker": "key worker", "commissioner": "commissioner", "admin": "admin",
         "editor": "editor"}
_FOR = {"key_worker": "key workers", "commissioner": "commissioners",
        "admin": "the directory team", "editor": "the Local Offer team"}
_ALSO = {"editor": " An admin key works here too."}


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"Unknown role '{role}': use one of {', '.join(ROLES)}.")
    return role


def label(role: str) -> str:
    """The field's label.

    >>> label("key_worker")
    'Your API key (key worker)'
    """
    return f"Your API key ({ROLES[_role(role)]})"


def help_text(role: str) -> str:
    """Where the key comes from, and how long it is kept.

    >>> help_text("commissioner")  # doctest: +NORMALIZE_WHITESPACE
    'Your administrator makes one on the Staff page (or with: matcher users add NAME --role
    commissioner). It is kept only while this browser tab is open.'
    """
    if _role(role) == "admin":
        made = ("The first admin key is made on the command line: matcher users add NAME "
                "--role admin; more can be made on the Staff page.")
    else:
        made = (f"Your administrator makes one on the Staff page (or with: matcher users add "
                f"NAME --role {role}).")
    return f"{made}{_ALSO.get(role, '')} It is kept only while this browser tab is open."


def needed(role: str) -> str:
    """What the page says before a key is given.

    >>> needed("admin")
    'This page is for the directory team: enter an admin API key.'
    """
    name = ROLES[_role(role)] + (" or admin" if role == "editor" else "")
    article = "an" if name[0] in "aeiou" else "a"
    return f"This page is for {_FOR[role]}: enter {article} {name} API key."


def widget_key(role: str) -> str:
    """The session key of the field (the same on every page asking for ``role``)."""
    return f"api_key_{_role(role)}"


def api_key_input(role: str, page: str, on_change: Callable[[], None] | None = None) -> str:
    """Draw the key field for ``role`` and return the key typed (stripped; ``""`` if none).

    ``page`` names the calling page; ``on_change`` runs when the key this page sees differs
    from the one it saw last (typed here, or changed on another page), so a page can drop
    answers it fetched with the old key.
    """
    widget, memory = widget_key(role), f"_api_key_{role}"
    # The key lives under ``memory``: Streamlit forgets (or blanks) a widget's value on a
    # page that did not draw it, so the field is filled from there on every run.
    if memory in st.session_state:
        st.session_state[widget] = st.session_state[memory]
    value = str(st.session_state.get(widget) or "").strip()
    seen = f"_api_key_seen_{page}"
    if st.session_state.get(seen, "") != value:
        st.session_state[seen] = value
        if on_change is not None:
            on_change()
    st.text_input(label(role), type="password", key=widget, help=help_text(role),
                  on_change=_remember, args=(widget, memory))
    return value


def _remember(widget: str, memory: str) -> None:
    """A key was typed: keep it for the session (a callback, so before the page runs)."""
    st.session_state[memory] = str(st.session_state.get(widget) or "").strip()
