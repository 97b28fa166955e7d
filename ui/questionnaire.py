"""The "Find support" questionnaire: one topic per step, Back, and "Check your answers".

GOV.UK patterns: one question (topic) a page, a back button, an error summary at the top of a
step ("There is a problem") and the same message beside the field, a check-your-answers page
with "Change" links, and nothing asked twice. Answers live in widget state under the ``fs_``
keys of :data:`FIELDS`; :func:`init_state` keeps them when their step (or the page) is not on
screen.

Pure parts (:func:`validate`, :func:`build_profile`, :func:`summary_rows`) take a plain dict of
answers and are tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from client import ApiClient, ApiError
from components import focus_heading, keep_answers
from content import Labels, split_words, spoken
from needs_picker import ONE_BY_ONE, needs_checkboxes

__all__ = [
    "STEPS",
    "FIELDS",
    "WHO",
    "MINUTES",
    "init_state",
    "answers",
    "own_words",
    "without_word",
    "validate",
    "build_profile",
    "summary_rows",
    "check_postcode",
    "QUERY",
    "to_query",
    "from_query",
    "render_step",
    "go_to",
    "reset",
]

#: Step ids in order; the last is "Check your answers".
STEPS = ["who", "child", "needs", "postcode", "travel", "transition", "preferences", "check"]

#: Widget keys on each step.
FIELDS: dict[str, tuple[str, ...]] = {
    "who": ("fs_who",),
    "child": ("fs_age", "fs_ehcp"),
    "needs": ("fs_needs", "fs_words"),
    "postcode": ("fs_postcode",),
    "travel": ("fs_mode", "fs_minutes"),
    "transition": ("fs_transition",),
    "preferences": ("fs_free", "fs_when", "fs_access", "fs_language", "fs_delivery"),
    "check": (),
}
_ALL = tuple(k for keys in FIELDS.values() for k in keys)

#: Who is asking, and what the API is told (``Profile.who``).
WHO = {"parent": "A parent or carer", "young_person": "A young person, asking for myself",
       "professional": "A professional (for example a SENCo or key worker)"}
_WHO_API = {"parent": "parent", "young_person": "young_person", "professional": "senco"}
EHCP = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
MINUTES = [10, 15, 20, 30, 45, 60, 90]
NO_MOVE = "none"


# --------------------------------------------------------------------------- state
def init_state() -> None:
    """Set the questionnaire's defaults once, and keep answers of steps not on screen."""
    keep_answers(_ALL, "fs_saved")
    st.session_state.setdefault("fs_step", 0)
    st.session_state.setdefault("fs_errors", {})
    st.session_state.setdefault("fs_return", False)
    st.session_state.setdefault("fs_pc_check", None)


def answers() -> dict[str, Any]:
    """Every answer given so far, by widget key (absent ones as ``None``)."""
    return {k: st.session_state.get(k) for k in _ALL}


def go_to(step: int | str, returning: bool = False) -> None:
    """Move to a step (an index, or ``"results"``); ``returning`` comes back to the check page.
    The new step's heading takes the keyboard focus."""
    st.session_state.fs_focus = True
    st.session_state.fs_step = step
    st.session_state.fs_return = returning
    st.session_state.fs_errors = {}


def reset() -> None:
    """Forget every answer and start again."""
    for key in (*_ALL, "fs_step", "fs_errors", "fs_return", "fs_pc_check", "fs_result",
                "fs_saved"):
        st.session_state.pop(key, None)
    for key in [k for k in st.session_state if str(k).startswith("fs_needs_")]:
        del st.session_state[key]
    st.query_params.clear()


# --------------------------------------------------------------------------- pure rules
def _you(a: Mapping[str, Any], child: str, me: str) -> str:
    return me if a.get("fs_who") == "young_person" else child


def validate(step: str, a: Mapping[str, Any], pc_check: Mapping | None = None) -> dict[str, str]:
    """Problems with one step's answers, by widget key (empty when all is well).

    >>> validate("child", {"fs_age": "27", "fs_ehcp": "no"})
    {'fs_age': 'Age must be a whole number from 0 to 25'}
    """
    errors: dict[str, str] = {}
    if step == "who" and not a.get("fs_who"):
        errors["fs_who"] = "Select who is asking"
    elif step == "child":
        age = str(a.get("fs_age") or "").strip()
        if not age:
            errors["fs_age"] = _you(a, "Enter your child's age in years, for example 9",
                                    "Enter your age in years, for example 17")
        elif not age.isdigit() or not 0 <= int(age) <= 25:
            errors["fs_age"] = "Age must be a whole number from 0 to 25"
        if not a.get("fs_ehcp"):
            errors["fs_ehcp"] = "Select whether there is an EHC plan, or 'Not sure'"
    elif step == "needs" and not a.get("fs_needs") and not own_words(a):
        errors["fs_needs"] = ("Choose at least one need, or describe them in your own words. "
                              "If you are waiting for an assessment, choose 'Awaiting "
                              "assessment or diagnosis'")
    elif step == "postcode":
        text = str(a.get("fs_postcode") or "").strip()
        if text and pc_check and pc_check.get("text") == text and not pc_check.get("ok"):
            errors["fs_postcode"] = pc_check["message"]
    elif step == "travel":
        if not a.get("fs_mode"):
            errors["fs_mode"] = "Select how you would usually travel"
        elif a.get("fs_mode") != "online_only" and not a.get("fs_minutes"):
            errors["fs_minutes"] = "Select the longest journey that would work for you"
    elif step == "transition" and not a.get("fs_transition"):
        errors["fs_transition"] = "Select the move coming up, or 'No move coming up'"
    elif step == "preferences" and len(str(a.get("fs_language") or "")) > 60:
        errors["fs_language"] = "Language must be 60 characters or fewer"
    return errors


def own_words(a: Mapping[str, Any]) -> list[str]:
    """The needs typed in the family's own words."""
    return split_words(a.get("fs_words") or "")


def without_word(text: str, word: str) -> str:
    """The typed words with one of them taken out (the family removed what we understood).

    >>> without_word("anxity, loud places; ADHD", "loud places")
    'anxity, ADHD'
    """
    return ", ".join(w for w in split_words(text) if w != word)


def build_profile(a: Mapping[str, Any], labels: Labels, limit: int = 10) -> dict[str, Any]:
    """The family's profile (contract section 2) from the answers.

    Chosen needs are sent by their labels (the words a parent would use), free words as typed.
    """
    travel: dict[str, Any] = {}
    if a.get("fs_mode"):
        travel["mode"] = a["fs_mode"]
        if a["fs_mode"] != "online_only" and a.get("fs_minutes"):
            travel["max_minutes"] = int(a["fs_minutes"])
    language = str(a.get("fs_language") or "").strip()
    transition = a.get("fs_transition")
    return {
        "who": _WHO_API.get(a.get("fs_who") or ""),
        "age": int(str(a.get("fs_age")).strip()),
        "has_ehcp": a.get("fs_ehcp") == "yes",
        "needs": [spoken(labels.need(n)) for n in a.get("fs_needs") or []] + own_words(a),
        "postcode": str(a.get("fs_postcode") or "").strip() or None,
        "travel": travel,
        "transition": None if transition in (None, NO_MOVE) else transition,
        "preferences": {"free_only": bool(a.get("fs_free")),
                        "when": list(a.get("fs_when") or []),
                        "accessibility": list(a.get("fs_access") or []),
                        "delivery": list(a.get("fs_delivery") or []),
                        "language": language or None},
        "limit": limit,
    }


def summary_rows(a: Mapping[str, Any], labels: Labels) -> list[tuple[int, str, str]]:
    """``(step index, question, answer)`` rows for "Check your answers"."""
    yp = a.get("fs_who") == "young_person"
    needs = [labels.need(n) for n in a.get("fs_needs") or []] + own_words(a)
    mode = a.get("fs_mode")
    travel = labels.of("travel_modes", mode) if mode else "Not given"
    if mode and mode != "online_only" and a.get("fs_minutes"):
        travel += f", up to {a['fs_minutes']} minutes each way"
    prefs = [x for x in (
        "Free services only" if a.get("fs_free") else "",
        labels.many("when", a.get("fs_when") or []),
        labels.many("accessibility", a.get("fs_access") or []),
        labels.many("delivery", a.get("fs_delivery") or []),
        f"Language: {a['fs_language']}" if a.get("fs_language") else "") if x]
    transition = a.get("fs_transition")
    return [
        (0, "Who is asking", WHO.get(a.get("fs_who") or "", "Not given")),
        (1, "Age" if yp else "Child's age", f"{a.get('fs_age') or 'Not given'}"),
        (1, "EHC plan", EHCP.get(a.get("fs_ehcp") or "", "Not given")),
        (2, "Needs", ", ".join(needs) or "Not given"),
        (3, "Postcode", str(a.get("fs_postcode") or "").strip() or "Not given"),
        (4, "Travel", travel),
        (5, "Move coming up", "No move coming up" if transition == NO_MOVE
         else labels.of("transitions", transition) if transition else "Not given"),
        (6, "Preferences", "; ".join(prefs) or "None"),
    ]


def check_postcode(client: ApiClient, text: str) -> dict[str, Any]:
    """Ask the API where a postcode is: ``{"text", "ok", "message"}``."""
    text = text.strip()
    try:
        found = client.postcode(text)
    except ApiError as exc:
        if exc.status in (404, 422):
            return {"text": text, "ok": False, "message": exc.message}
        raise
    what = {"postcode": "", "sector": " (the centre of that postcode sector)",
            "district": " (the centre of that postcode area)"}[found["kind"]]
    return {"text": text, "ok": True, "message": f"We found {found['postcode']}{what}."}


# --------------------------------------------------------------------------- the page address
#: Query parameter: widget key. The answers live in the page's address after a search, so a
#: reload, a bookmark or a shared link brings the same results back. Only what the family
#: chose or typed goes there; nothing is stored on the server.
QUERY: dict[str, str] = {"who": "fs_who", "age": "fs_age", "ehcp": "fs_ehcp",
                         "needs": "fs_needs", "words": "fs_words", "postcode": "fs_postcode",
                         "travel": "fs_mode", "minutes": "fs_minutes", "move": "fs_transition",
                         "free": "fs_free", "when": "fs_when", "access": "fs_access",
                         "delivery": "fs_delivery", "language": "fs_language"}
_LISTS = {"fs_needs", "fs_when", "fs_access", "fs_delivery"}


def to_query(a: Mapping[str, Any]) -> dict[str, str]:
    """The answers as query parameters (lists joined with commas, empty answers left out).

    >>> to_query({"fs_who": "parent", "fs_age": "10", "fs_needs": ["autism", "adhd"],
    ...           "fs_free": True, "fs_minutes": 30, "fs_words": ""})
    {'who': 'parent', 'age': '10', 'needs': 'autism,adhd', 'minutes': '30', 'free': 'yes'}
    """
    out: dict[str, str] = {}
    for name, key in QUERY.items():
        value = a.get(key)
        if key in _LISTS:
            value = ",".join(value or [])
        elif key == "fs_free":
            value = "yes" if value else ""
        value = str(value).strip() if value is not None else ""
        if value:
            out[name] = value
    return out


def from_query(params: Mapping[str, str], labels: Labels) -> tuple[dict[str, Any], list[str]]:
    """Answers read back from query parameters, and the parameters that could not be used
    (unknown names or values), so a damaged link is said to be damaged, never guessed at."""
    allowed: dict[str, set] = {
        "fs_who": set(WHO), "fs_ehcp": set(EHCP), "fs_needs": set(labels.needs),
        "fs_mode": set(labels.options("travel_modes")), "fs_minutes": {str(m) for m in MINUTES},
        "fs_transition": {NO_MOVE, *labels.options("transitions")},
        "fs_when": set(labels.options("when")), "fs_access": set(labels.options("accessibility")),
        "fs_delivery": set(labels.options("delivery")), "fs_free": {"yes"}}
    a: dict[str, Any] = {}
    bad: list[str] = []
    for name, raw in params.items():
        key = QUERY.get(name)
        text = str(raw).strip()
        if key is None:
            bad.append(name)
            continue
        if key in _LISTS:
            values = [v for v in text.split(",") if v]
            good = [v for v in values if v in allowed[key]]
            bad += [name] if len(good) < len(values) else []
            a[key] = good
        elif key in allowed and text not in allowed[key]:
            bad.append(name)
        elif key == "fs_minutes":
            a[key] = int(text)
        elif key == "fs_free":
            a[key] = True
        else:
            a[key] = text[:200]
    return a, bad


# --------------------------------------------------------------------------- callbacks
def _on_postcode(client: ApiClient) -> None:
    text = str(st.session_state.get("fs_postcode") or "").strip()
    try:
        st.session_state.fs_pc_check = check_postcode(client, text) if text else None
    except ApiError as exc:
        st.session_state.fs_pc_check = {"text": text, "ok": False, "message": exc.message}


def _continue(client: ApiClient) -> None:
    step = STEPS[st.session_state.fs_step]
    if step == "postcode":
        text = str(st.session_state.get("fs_postcode") or "").strip()
        check = st.session_state.fs_pc_check
        if text and (not check or check.get("text") != text):
            _on_postcode(client)
    errors = validate(step, answers(), st.session_state.fs_pc_check)
    st.session_state.fs_errors = errors
    if not errors:
        nxt = len(STEPS) - 1 if st.session_state.fs_return else st.session_state.fs_step + 1
        go_to(nxt, returning=False)


def _back() -> None:
    go_to(max(0, st.session_state.fs_step - 1))


# --------------------------------------------------------------------------- drawing
def _field_error(key: str) -> None:
    msg = st.session_state.fs_errors.get(key)
    if msg:
        st.markdown(f":red[**Error:** {msg}]")


def _error_summary() -> None:
    errors = st.session_state.fs_errors
    if errors:
        st.error("**There is a problem**\n\n" + "\n".join(f"- {m}" for m in errors.values()))


def _step_who(labels: Labels, client: ApiClient) -> None:
    _field_error("fs_who")
    st.radio("Who is asking?", list(WHO), format_func=WHO.get, index=None, key="fs_who")


def _step_child(labels: Labels, client: ApiClient) -> None:
    a = answers()
    _field_error("fs_age")
    st.text_input(_you(a, "How old is your child?", "How old are you?"), key="fs_age",
                  max_chars=2, placeholder="Age in years, for example 9")
    _field_error("fs_ehcp")
    st.radio(_you(a, "Does your child have an EHC plan (education, health and care plan)?",
                  "Do you have an EHC plan (education, health and care plan)?"),
             list(EHCP), format_func=EHCP.get, index=None, key="fs_ehcp", horizontal=True)


def _drop_word(word: str) -> None:
    st.session_state.fs_words = without_word(st.session_state.get("fs_words") or "", word)


def _step_needs(labels: Labels, client: ApiClient) -> None:
    a = answers()
    _field_error("fs_needs")
    needs_checkboxes("fs_needs", labels.vocab["needs"],
                     _you(a, "What needs or conditions does your child have?",
                          "What needs or conditions do you have?"))
    st.text_input("Something else, in your own words (optional)", key="fs_words",
                  placeholder="For example: finds loud places hard, dyslexic",
                  help="Separate different things with commas. Spelling does not matter.")
    words = own_words(answers())
    if not words:
        return
    cache = st.session_state.setdefault("fs_norm_cache", {})
    key = "\n".join(words)
    if key not in cache:
        try:
            cache[key] = client.normalise(words[:30])
        except ApiError as exc:
            st.warning(exc.message)
            return
    found = cache[key]
    by_text: dict[str, list[str]] = {}
    for m in found["matches"]:
        if m["label"] not in by_text.setdefault(m["text"], []):
            by_text[m["text"]].append(m["label"])
    if by_text:
        st.markdown("**What we understood from your words.** We will search for these. "
                    "Remove any we got wrong.")
        for text, needs in by_text.items():
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.markdown(f"- {', '.join(needs)} (from \u201c{text}\u201d)")
            right.button("Remove", key=f"fs_drop_{text}", on_click=_drop_word, args=(text,),
                         help=f"Do not search for \u201c{text}\u201d")
    if found["unrecognised"]:
        st.info("We did not recognise: " + ", ".join(f"\u201c{w}\u201d"
                                                    for w in found["unrecognised"])
                + ". We will still search with these words.")


def _step_postcode(labels: Labels, client: ApiClient) -> None:
    _field_error("fs_postcode")
    st.text_input("What is your postcode? (optional)", key="fs_postcode", max_chars=16,
                  on_change=_on_postcode, args=(client,),
                  help="For example N7 8JN. You can give just the first part, like N7. "
                       "We use it only to work out travel times; it is not stored.")
    check = st.session_state.fs_pc_check
    text = str(st.session_state.get("fs_postcode") or "").strip()
    if check and check.get("text") == text and check["ok"]:
        st.success(check["message"])
    elif not text:
        st.caption("Leave this blank if you would rather not say. We then cannot work out "
                   "travel times.")


def _step_travel(labels: Labels, client: ApiClient) -> None:
    a = answers()
    _field_error("fs_mode")
    st.radio(_you(a, "How would your child usually get there?", "How would you usually get "
                  "there?"), labels.options("travel_modes"),
             format_func=lambda v: labels.of("travel_modes", v), index=None, key="fs_mode")
    _field_error("fs_minutes")
    st.selectbox("What is the longest journey that would work, each way?", MINUTES,
                 format_func=lambda m: f"Up to {m} minutes", index=None, key="fs_minutes",
                 placeholder="Choose a time",
                 help="Not needed if you chose online or phone only.")


def _step_transition(labels: Labels, client: ApiClient) -> None:
    a = answers()
    options = [NO_MOVE, *labels.options("transitions")]
    _field_error("fs_transition")
    st.radio(_you(a, "Is your child moving on to something new in the next year?",
                  "Are you moving on to something new in the next year?"), options,
             format_func=lambda v: "No move coming up" if v == NO_MOVE
             else labels.of("transitions", v), index=None, key="fs_transition")


def _step_preferences(labels: Labels, client: ApiClient) -> None:
    st.checkbox("Only show services that are free", key="fs_free")
    st.multiselect("When can you go? (optional)", labels.options("when"),
                   format_func=lambda v: labels.of("when", v), key="fs_when",
                   placeholder="Any time", **ONE_BY_ONE)
    st.multiselect("Does the place need to be accessible in a particular way? (optional)",
                   labels.options("accessibility"),
                   format_func=lambda v: labels.of("accessibility", v), key="fs_access",
                   placeholder="No particular needs", **ONE_BY_ONE)
    _field_error("fs_language")
    st.text_input("A language other than English you would like (optional)", key="fs_language",
                  max_chars=60, placeholder="For example Turkish")


def _step_check(labels: Labels, client: ApiClient) -> None:
    for index, question, answer in summary_rows(answers(), labels):
        left, mid, right = st.columns([2, 3, 2], vertical_alignment="center")
        left.markdown(f"**{question}**")
        mid.markdown(answer)
        right.button(f"Change {spoken(question)}",
                     key=f"fs_change_{question}", on_click=go_to, args=(index, True))


_TITLES: dict[str, tuple[str, str]] = {  # step: (heading for a parent, heading for a young person)
    "who": ("Before we start", "Before we start"),
    "child": ("About your child", "About you"),
    "needs": ("Needs", "Needs"),
    "postcode": ("Where you live", "Where you live"),
    "travel": ("Getting there", "Getting there"),
    "transition": ("What is coming up", "What is coming up"),
    "preferences": ("Anything else that matters", "Anything else that matters"),
    "check": ("Check your answers", "Check your answers"),
}
_DRAW: dict[str, Callable[[Labels, ApiClient], None]] = {
    "who": _step_who, "child": _step_child, "needs": _step_needs, "postcode": _step_postcode,
    "travel": _step_travel, "transition": _step_transition, "preferences": _step_preferences,
    "check": _step_check,
}


def render_step(client: ApiClient, labels: Labels, on_search: Callable[[], None]) -> None:
    """Draw the current step with its error summary and buttons; ``on_search`` runs the match."""
    index = st.session_state.fs_step
    step = STEPS[index]
    title = _TITLES[step][1 if answers().get("fs_who") == "young_person" else 0]
    if index > 0:
        st.button("Back", key="fs_back", on_click=_back, type="tertiary", help="Go back to the previous question")
    st.markdown(f"Step {index + 1} of {len(STEPS)}")
    _error_summary()
    st.header(title, anchor=False)
    if st.session_state.pop("fs_focus", False):
        focus_heading(title)
    _DRAW[step](labels, client)
    if step == "check":
        st.button("Search for support", key="fs_search", type="primary", on_click=on_search)
    else:
        st.button("Continue", key="fs_continue", type="primary", on_click=_continue,
                  args=(client,))
