""""Gaps in provision" (commissioners): the filters, the answer of ``GET /gaps`` as a tidy
table, a heatmap of area x need, a map of the areas with gaps and a CSV download.

The analysis is the API's: this module only lays its answer out. Counts are of *services*
(shown exactly); the API serves no count of children.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from api_key import api_key_input as shared_key_input
from api_key import needed
from client import ApiClient, ApiError
from content import Labels

__all__ = [
    "KEYS",
    "BANDS",
    "travel_modes",
    "ALL",
    "MAX_CELLS",
    "MAX_MAP_AREAS",
    "COMMISSIONERS_ONLY",
    "SUPPRESSION_NOTE",
    "api_key_input",
    "filters_form",
    "gaps_params",
    "key_problem",
    "fetch_gaps",
    "council_districts",
    "submit",
    "summary_line",
    "cells_frame",
    "heatmap_frame",
    "heatmap_chart",
    "gaps_csv",
    "near_miss_text",
    "gaps_map",
    "show_answer",
]

#: The form's widget keys (kept across pages with ``components.keep_answers``).
KEYS = ("gp_districts", "gp_around", "gp_radius", "gp_level", "gp_need", "gp_band",
        "gp_mode")
#: The age bands of the gap analysis (``[gaps.bands]`` in data/gaps_config.toml), in order.
BANDS = {"early_years": "Early years (0-4)", "primary": "Primary (5-10)",
         "secondary": "Secondary (11-15)", "post16": "Post-16 (16-18)",
         "adult": "Young adult (19-25)"}
#: The "no filter" choice of a select box.
ALL = "all"
#: The most cells asked for at once (the API's own ceiling).
MAX_CELLS = 1000
#: The most areas looked up for the map (one ``GET /postcodes`` each, remembered).
MAX_MAP_AREAS = 80

COMMISSIONERS_ONLY = needed("commissioner")
SUPPRESSION_NOTE = (
    "The numbers here are counts of services, shown exactly. No count of children is shown: "
    "in the files an analyst makes with `matcher gaps`, counts of children under 10 are "
    "suppressed (shown as \"<10\") so that no child can be identified.")
_STATUS = {"gap": "Gap: no service", "thin": "Thin: few services", "ok": "Enough services"}
_COLUMNS = ["Area", "District", "Need", "Age band", "Status", "Services", "Open to any SEND",
            "Longest journey (minutes)", "Near misses"]


def _reset_answer() -> None:
    st.session_state.pop("gp_result", None)
    st.session_state.pop("gp_problems", None)


def api_key_input() -> str:
    """The commissioner's API key (:func:`api_key.api_key_input`); a new key forgets the
    answer got with the old one."""
    return shared_key_input("commissioner", "gaps", on_change=_reset_answer)


def travel_modes(labels: Labels) -> list[str]:
    """The travel modes ``GET /gaps`` accepts: the vocabulary's (``GET /vocabularies``), but
    not ``online_only`` (a gap analysis is about journeys).

    >>> travel_modes(Labels({"travel_modes": {"walk": "Walking", "online_only": "Online"}}))
    ['walk']
    """
    return [m for m in labels.options("travel_modes") if m != "online_only"]


def filters_form(labels: Labels) -> bool:
    """Draw the filters; True when "Show gaps" was pressed."""
    needs = [ALL, *(n["id"] for n in labels.vocab.get("needs") or [])]
    with st.form("gp_form"):
        a, b, c = st.columns(3)
        a.text_input("Postcode districts, separated by commas", key="gp_districts",
                     max_chars=400, placeholder="For example N1,N7",
                     help="Leave this and the postcode empty to look at the whole council "
                          "area.")
        a.text_input("Or a postcode to search around", key="gp_around", max_chars=16,
                     placeholder="For example N7 8JN")
        st.session_state.setdefault("gp_radius", 5.0)  # kept by keep_answers, so no value=
        a.number_input("Distance around the postcode, km", min_value=0.5, max_value=50.0,
                       step=0.5, key="gp_radius")
        b.radio("Size of area", ["sector", "district"], key="gp_level", horizontal=True,
                format_func=lambda v: {"sector": "Postcode sector (e.g. N7 8)",
                                       "district": "Postcode district (e.g. N7)"}[v])
        b.selectbox("Need", needs, key="gp_need",
                    format_func=lambda v: "All needs" if v == ALL else labels.need(v))
        c.selectbox("Age band", [ALL, *BANDS], key="gp_band",
                    format_func=lambda v: "All age bands" if v == ALL else BANDS[v])
        modes = travel_modes(labels)
        if "public_transport" in modes:  # the default; kept by keep_answers, so no index=
            st.session_state.setdefault("gp_mode", "public_transport")
        c.selectbox("Travel", modes, key="gp_mode",
                    format_func=lambda v: labels.of("travel_modes", v))
        return st.form_submit_button("Show gaps", type="primary")


def gaps_params(state: Mapping[str, Any], council_districts: Sequence[str] = ()
                ) -> tuple[dict | None, list[str]]:
    """The query of ``GET /gaps`` from the form's values, or ``None`` and what to fix.
    With neither districts nor a postcode, the council's own districts are analysed.

    >>> gaps_params({"gp_districts": " n1, N7 ", "gp_level": "district", "gp_need": "all"})[0]
    {'districts': 'N1,N7', 'level': 'district', 'limit': 1000}
    >>> gaps_params({}, ["N1", "N19"])[0]
    {'districts': 'N1,N19', 'limit': 1000}
    >>> gaps_params({})[1]
    ['Enter postcode districts (for example N1,N7) or a postcode to search around.']
    """
    districts = ",".join(d.strip().upper() for d in str(state.get("gp_districts") or "")
                         .split(",") if d.strip())
    around = str(state.get("gp_around") or "").strip()
    if not districts and not around:
        districts = ",".join(council_districts)
    if not districts and not around:
        return None, ["Enter postcode districts (for example N1,N7) or a postcode to search "
                      "around."]
    if districts and around:
        return None, ["Enter postcode districts or a postcode to search around, not both."]
    params: dict[str, Any] = {"districts": districts} if districts else {
        "around": around, "radius_km": float(state.get("gp_radius") or 5.0)}
    for key, name in (("gp_level", "level"), ("gp_need", "need"), ("gp_band", "band"),
                      ("gp_mode", "mode")):
        value = state.get(key)
        if value and value != ALL:
            params[name] = value
    params["limit"] = MAX_CELLS
    return params, []


def key_problem(exc: ApiError) -> list[str]:
    """What to show for a failed ``GET /gaps``: the commissioner message for 401 and 403,
    else the API's own words (each field problem of a 422)."""
    if exc.status == 401:
        return ["That API key was not recognised. " + COMMISSIONERS_ONLY]
    if exc.status == 403:
        return [COMMISSIONERS_ONLY + " Yours is for another role; ask your administrator."]
    return [p.message for p in exc.problems] or [exc.message]


def fetch_gaps(client: ApiClient, api_key: str, params: dict) -> None:
    """Ask the API; keep its answer (``gp_result``) or what went wrong (``gp_problems``)."""
    try:
        st.session_state.gp_result = client.gaps(api_key, **params)
        st.session_state.gp_problems = []
    except ApiError as exc:
        st.session_state.pop("gp_result", None)
        st.session_state.gp_problems = key_problem(exc)


def council_districts(client: ApiClient) -> list[str]:
    """The council's postcode districts (``GET /council``); none when the API cannot say."""
    try:
        return [str(d) for d in client.council().get("districts") or []]
    except ApiError:
        return []


def submit(client: ApiClient, api_key: str) -> None:
    """"Show gaps" was pressed: check the form, then ask the API (or keep what to fix)."""
    params, problems = gaps_params(st.session_state, council_districts(client))
    if params is None:
        st.session_state.pop("gp_result", None)
        st.session_state.gp_problems = problems
        return
    fetch_gaps(client, api_key, params)


def summary_line(answer: Mapping) -> str:
    """ "12 gaps and 30 thin cells in 54 areas", with singulars where they fit.

    >>> summary_line({"gaps": 1, "thin": 0, "areas": 1})
    '1 gap and 0 thin cells in 1 area'
    """
    gaps, thin, areas = int(answer["gaps"]), int(answer["thin"]), int(answer["areas"])
    return (f"{gaps} gap{'' if gaps == 1 else 's'} and {thin} thin "
            f"cell{'' if thin == 1 else 's'} in {areas} area{'' if areas == 1 else 's'}")


def near_miss_text(nm: Mapping) -> str:
    """One near miss in words: the service and the one thing it misses by a little.

    >>> near_miss_text({"name": "Swim Club", "criterion": "time", "minutes": 52.4})
    'Swim Club (a 52-minute journey, just over the limit)'
    """
    why = {"time": (f"a {nm['minutes']:.0f}-minute journey, just over the limit"
                    if nm.get("minutes") is not None else "just too far"),
           "age": f"for ages {nm.get('min_age')} to {nm.get('max_age')}, just outside the band",
           "area": "serves a nearby area only"}.get(nm.get("criterion"), "nearly fits")
    return f"{nm['name']} ({why})"


def cells_frame(answer: Mapping) -> pd.DataFrame:
    """One row per cell of the answer (gaps first, as the API sent them), in words."""
    rows = [{"Area": c["area"], "District": c["district"], "Need": c["need_label"],
             "Age band": BANDS.get(c["band"]) or c["band"].replace("_", " ").capitalize(),
             "Status": _STATUS.get(c["status"], c["status"]), "Services": int(c["services"]),
             "Open to any SEND": int(c.get("general_services") or 0),
             "Longest journey (minutes)": round(float(c["max_minutes"])),
             "Near misses": "; ".join(near_miss_text(n) for n in c.get("near_misses") or [])
             or ("None found" if c["status"] == "gap" else "")}
            for c in answer.get("results") or []]
    return pd.DataFrame(rows, columns=_COLUMNS)


def heatmap_frame(answer: Mapping) -> pd.DataFrame:
    """Area x need: how many age bands have a gap and how many are thin (one row per pair
    that has either), in the order the areas and needs first appear."""
    rows = [{"Area": c["area"], "Need": c["need_label"], "gap": c["status"] == "gap",
             "thin": c["status"] == "thin"} for c in answer.get("results") or []]
    if not rows:
        return pd.DataFrame(columns=["Area", "Need", "Gaps", "Thin", "Label"])
    frame = pd.DataFrame(rows).groupby(["Area", "Need"], sort=False, as_index=False).agg(
        Gaps=("gap", "sum"), Thin=("thin", "sum"))
    frame["Gaps"] = frame["Gaps"].astype(int)
    frame["Thin"] = frame["Thin"].astype(int)
    frame["Label"] = frame["Gaps"].astype(str)
    return frame


def heatmap_chart(frame: pd.DataFrame):
    """An altair heatmap of :func:`heatmap_frame`: the colour and the number written in each
    square both give the age bands with a gap, so nothing rests on colour alone."""
    import altair as alt

    top = max(int(frame["Gaps"].max()) if len(frame) else 1, 1)
    areas, needs = list(dict.fromkeys(frame["Area"])), list(dict.fromkeys(frame["Need"]))
    base = alt.Chart(frame).encode(
        x=alt.X("Need:N", sort=needs, title="Need", axis=alt.Axis(labelAngle=-40,
                                                                  labelLimit=180)),
        y=alt.Y("Area:N", sort=areas, title="Area"),
        tooltip=["Area", "Need", alt.Tooltip("Gaps", title="Age bands with a gap"),
                 alt.Tooltip("Thin", title="Age bands with few services")])
    squares = base.mark_rect(stroke="white").encode(color=alt.Color(
        "Gaps:Q", title="Age bands with a gap", scale=alt.Scale(scheme="blues",
                                                                 domain=[0, top])))
    numbers = base.mark_text(fontSize=13, fontWeight="bold").encode(
        text="Label:N",
        color=alt.condition(f"datum.Gaps > {top / 2}", alt.value("white"), alt.value("#0b0c0c")))
    return (squares + numbers).properties(height=max(120, 26 * len(areas)))


def gaps_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV (UTF-8 with a byte order mark, so spreadsheets read it right)."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def _places(client: ApiClient, areas: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each area's centre (``GET /postcodes/{area}``), remembered for the session; areas the
    API cannot place are left out."""
    cache = st.session_state.setdefault("_gap_places", {})
    for area in areas:
        if area not in cache:
            try:
                found = client.postcode(area)
                cache[area] = (float(found["latitude"]), float(found["longitude"]))
            except ApiError:
                cache[area] = None
    return {a: cache[a] for a in areas if cache.get(a)}


def gaps_map(client: ApiClient, heat: pd.DataFrame) -> None:
    """A map of the areas with at least one gap: a dot per area, larger for more gaps,
    labelled with the area's code and its number of gaps."""
    import pydeck as pdk

    per_area = heat.groupby("Area", sort=False, as_index=False)[["Gaps", "Thin"]].sum()
    per_area = per_area[per_area["Gaps"] > 0].sort_values("Gaps", ascending=False,
                                                          kind="stable")
    if per_area.empty:
        st.caption("No area has a gap, so there is nothing to map.")
        return
    shown = per_area.head(MAX_MAP_AREAS)
    places = _places(client, list(shown["Area"]))
    shown = shown[shown["Area"].isin(list(places))].copy()
    if shown.empty:
        st.caption("The areas with gaps could not be placed on a map.")
        return
    shown["lat"] = [places[a][0] for a in shown["Area"]]
    shown["lon"] = [places[a][1] for a in shown["Area"]]
    shown["radius"] = 150 + 120 * shown["Gaps"]
    shown["label"] = [f"{a}: {g}" for a, g in zip(shown["Area"], shown["Gaps"], strict=True)]
    view = pdk.ViewState(latitude=float(shown.lat.mean()), longitude=float(shown.lon.mean()),
                         zoom=11)
    dots = pdk.Layer("ScatterplotLayer", shown, get_position=["lon", "lat"],
                     get_radius="radius", get_fill_color=[29, 112, 184, 140], pickable=True)
    words = pdk.Layer("TextLayer", shown, get_position=["lon", "lat"], get_text="label",
                      get_size=14, get_color=[11, 12, 12], get_alignment_baseline="'center'")
    st.pydeck_chart(pdk.Deck(layers=[dots, words], initial_view_state=view, map_style=None,
                             tooltip={"text": "{Area}: {Gaps} gaps, {Thin} thin"}),
                    height=380, key="gaps_map",
                    alt=f"Map of {len(shown)} areas with gaps; each is labelled with its code "
                        "and its number of gaps.")
    st.caption(f"{len(shown)} of {len(per_area)} areas with gaps are on the map, each labelled "
               "with its code and the number of age bands x needs with a gap; bigger dots "
               "have more gaps.")


def show_answer(client: ApiClient, answer: Mapping, labels: Labels | None = None) -> None:
    """The summary, the heatmap, the map, the table with near misses and the CSV download."""
    st.header(summary_line(answer), anchor=False)
    mode = str(answer.get("mode") or "")
    travel = labels.of("travel_modes", mode) if labels is not None and mode else \
        mode.replace("_", " ")
    st.markdown(f"Areas are postcode {answer.get('level', 'sector')}s; travel: {travel.lower()}. "
                "A **gap** is an area, need and age band with no service a child could reach "
                "in time; a **thin** one has only one or very few.")
    st.markdown(SUPPRESSION_NOTE)
    for note in answer.get("notes") or []:
        st.markdown(f"- {note}")
    cells = cells_frame(answer)
    if cells.empty:
        st.info("No gaps or thin provision in these areas for the needs and ages chosen.")
        return
    if int(answer.get("total") or 0) > len(cells):
        st.warning(f"Showing the first {len(cells)} of {answer['total']} cells (gaps first). "
                   "Choose fewer areas or one need to see them all.")
    heat = heatmap_frame(answer)
    st.markdown("### Gaps by area and need")
    st.altair_chart(heatmap_chart(heat), width="stretch", key="gaps_heatmap",
                    alt=f"Heatmap of {heat['Area'].nunique()} areas by {heat['Need'].nunique()} "
                        "needs; each square gives the number of age bands with a gap.")
    st.caption("The number in each square is how many age bands have no service; darker "
               "squares have more. A 0 means provision is thin there but not missing. The "
               "table below has the same figures.")
    st.markdown("### Where the gaps are")
    gaps_map(client, heat)
    st.markdown("### Every gap and thin cell, with near misses")
    st.caption("Services: those that name the need (or the wider need or area it belongs to). "
               "Open to any SEND: services open to every child with SEND that do not name "
               "the need, such as information lines; they are shown beside the count, not in "
               "it, so that they do not hide a gap.")
    st.dataframe(cells, hide_index=True, key="gaps_table")
    st.download_button("Download the table (CSV)", gaps_csv(cells), file_name="gaps.csv",
                       mime="text/csv", key="gp_csv", on_click="ignore")
