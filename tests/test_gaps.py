"""Gap analysis: hand-computed small cases, removing a service, suppression, near misses.

The little world (public transport: 8 min + km x 1.3 / 14.8 km/h, so 45 min is 7.02 km and
1.25 x 45 min is 9.15 km; 75 min is 12.7 km):

* areas A "T1 1" at (51.5, -0.10) and B "T1 2" 3.47 km east, both in district T1;
  C "T2 1" 22.2 km north of A, in district T2;
* S1 autism, 5-10, venue at A, no service area (so open to all);
* S2 ADHD, 11-15, venue at C, service area T2;
* S3 autism, 11-18, online only, service area T1, no venue;
* S4 ADHD, 5-10, venue 8.0 km north of A (50.2 min: over 45, within 1.25 x 45);
* S5 all SEND, 5-10, venue at C, service area T2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matcher.engine.config import load_config
from matcher.engine.scorers import travel_minutes
from matcher.errors import MatcherError
from matcher.gaps import (
    AreaSet,
    GapServices,
    analyse_gaps,
    km_within_minutes,
    load_gaps_config,
    parse_gaps_config,
)
from matcher.gaps.report import attach_demand, output_frame, summarise, suppress, write_outputs
from matcher.services import ServiceRecord, records_to_frame

KM_PER_DEG_LAT = 111.195  # on the sphere of matcher.geo.distance
LAT0, LON0 = 51.5, -0.10
LON_B = LON0 + 3.47 / (KM_PER_DEG_LAT * np.cos(np.radians(LAT0)))
LAT_C = LAT0 + 22.2 / KM_PER_DEG_LAT
LAT_S4 = LAT0 + 8.0 / KM_PER_DEG_LAT

BANDS = {
    "primary": {"label": "Primary (5-10)", "min_age": 5, "max_age": 10, "max_minutes": 45},
    "secondary": {"label": "Secondary (11-15)", "min_age": 11, "max_age": 15, "max_minutes": 75},
}


def _cfg(**changes) -> object:
    base = load_gaps_config().model_dump()
    # The hand-computed world counts services open to any SEND (S5) as serving every need.
    base.update({"bands": BANDS, "near_area_km": 3.0,
                 "serves": ["stated", "broader", "area", "all_send"], **changes})
    return parse_gaps_config(base)


def _areas() -> AreaSet:
    return AreaSet(
        "sector",
        np.array(["T1 1", "T1 2", "T2 1"], dtype=object),
        np.array(["T1", "T1", "T2"], dtype=object),
        np.array([LAT0, LAT0, LAT_C]),
        np.array([LON0, LON_B, LON0]),
        np.array([100, 100, 100]),
    )


def _record(sid: str, needs: list[str], lo: int, hi: int, lat: float | None, lon: float | None,
            area: list[str], delivery: list[str], **kw) -> ServiceRecord:
    return ServiceRecord(id=sid, name=f"Service {sid}", description="A local service.",
                         categories=kw.pop("categories", ["health"]), needs=needs,
                         min_age=lo, max_age=hi, latitude=lat, longitude=lon,
                         service_area=area, delivery=delivery, **kw)


def _world() -> list[ServiceRecord]:
    return [
        _record("S1", ["autism"], 5, 10, LAT0, LON0, [], ["in_person"]),
        _record("S2", ["adhd"], 11, 15, LAT_C, LON0, ["T2"], ["in_person"]),
        _record("S3", ["autism"], 11, 18, None, None, ["T1"], ["online"]),
        _record("S4", ["adhd"], 5, 10, LAT_S4, LON0, [], ["in_person"]),
        _record("S5", ["all_send"], 5, 10, LAT_C, LON0, ["T2"], ["in_person"]),
    ]


def _services(records: list[ServiceRecord], cfg=None) -> GapServices:
    return GapServices.from_frame(records_to_frame(records), gaps=cfg or _cfg())


def _run(records=None, cfg=None, **kw):
    cfg = cfg or _cfg()
    kw.setdefault("needs", ["autism", "adhd"])
    return analyse_gaps(_areas(), _services(records or _world(), cfg), gaps=cfg, **kw)


def _cell(report, area: str, need: str, band: str) -> pd.Series:
    c = report.cells
    row = c[(c["area"] == area) & (c["need"] == need) & (c["band"] == band)]
    assert len(row) == 1
    return row.iloc[0]


def _near(report, area: str, need: str, band: str) -> dict[str, str]:
    nm = report.near_misses
    rows = nm[(nm["area"] == area) & (nm["need"] == need) & (nm["band"] == band)]
    return dict(zip(rows["service_id"], rows["criterion"], strict=True))


def test_world_geometry_is_what_the_docstring_says():
    cfg = load_config()
    km_b = 3.47
    assert km_within_minutes(45, "public_transport", cfg) == pytest.approx(7.015, abs=0.01)
    assert float(travel_minutes(np.array([km_b]), "public_transport", cfg)[0]) < 45
    assert 45 < float(travel_minutes(np.array([8.0]), "public_transport", cfg)[0]) < 56.25
    # travel_minutes(km_within_minutes(t)) == t: the index radius inverts the engine's model
    for t in (20.0, 45.0, 75.0):
        km = km_within_minutes(t, "public_transport", cfg)
        assert float(travel_minutes(np.array([km]), "public_transport", cfg)[0]) == pytest.approx(t)


@pytest.mark.parametrize(("area", "need", "band", "count", "status"), [
    ("T1 1", "autism", "primary", 1, "thin"),     # S1 at the area
    ("T1 2", "autism", "primary", 1, "thin"),     # S1 26 min away
    ("T2 1", "autism", "primary", 1, "thin"),     # S5 (all SEND) at the area
    ("T1 1", "adhd", "primary", 0, "gap"),        # S4 is 50 min away
    ("T1 2", "adhd", "primary", 0, "gap"),
    ("T2 1", "adhd", "primary", 1, "thin"),       # S5 (S2 is 11-15)
    ("T1 1", "autism", "secondary", 1, "thin"),   # S3 online for T1
    ("T1 2", "autism", "secondary", 1, "thin"),
    ("T2 1", "autism", "secondary", 0, "gap"),    # S3 does not cover T2; S5 is 5-10
    ("T1 1", "adhd", "secondary", 0, "gap"),      # S2 is 125 min away; S4 is 5-10
    ("T2 1", "adhd", "secondary", 1, "thin"),     # S2
])
def test_hand_computed_counts(area, need, band, count, status):
    report = _run()
    cell = _cell(report, area, need, band)
    assert cell["services"] == count
    assert cell["status"] == status
    assert cell["general_services"] == 0   # all_send counts, so nothing is set beside it


def test_by_default_a_service_open_to_any_send_is_shown_beside_the_count_not_in_it():
    assert "all_send" not in load_gaps_config().serves
    cfg = _cfg(serves=list(load_gaps_config().serves))
    report = _run(cfg=cfg)
    cell = _cell(report, "T2 1", "autism", "primary")   # only S5 (all SEND) reaches it
    assert (cell["services"], cell["status"], cell["general_services"]) == (0, "gap", 1)
    cell = _cell(report, "T1 1", "autism", "primary")   # S1 names autism; S5 is out of reach
    assert (cell["services"], cell["status"], cell["general_services"]) == (1, "thin", 0)
    cell = _cell(report, "T2 1", "adhd", "secondary")   # S2 names ADHD; S5 is 5-10
    assert (cell["services"], cell["general_services"]) == (1, 0)


def test_every_cell_is_there_once():
    report = _run()
    assert len(report.cells) == 3 * 2 * 2
    assert not report.cells.duplicated(["area", "need", "band"]).any()


def test_two_services_make_a_cell_ok_and_thin_max_moves_the_line():
    extra = _record("S6", ["autism"], 0, 25, LAT0, LON0, [], ["in_person"])
    report = _run(_world() + [extra])
    assert _cell(report, "T1 1", "autism", "primary")["services"] == 2
    assert _cell(report, "T1 1", "autism", "primary")["status"] == "ok"
    report = _run(_world() + [extra], cfg=_cfg(thin_max=2))
    assert _cell(report, "T1 1", "autism", "primary")["status"] == "thin"


def test_removing_the_only_service_makes_a_gap():
    services = _services(_world())
    cfg = _cfg()
    before = analyse_gaps(_areas(), services, needs=["autism"], gaps=cfg)
    after = analyse_gaps(_areas(), services.without({"S1"}), needs=["autism"], gaps=cfg)
    assert _cell(before, "T1 1", "autism", "primary")["status"] == "thin"
    assert _cell(after, "T1 1", "autism", "primary")["status"] == "gap"
    assert _cell(after, "T1 1", "autism", "primary")["services"] == 0
    # S3 (online, T1, ages 11-18) is one year too old: the near miss of the new gap.
    assert _near(after, "T1 1", "autism", "primary") == {"S3": "age"}


def test_near_misses_time_and_age():
    report = _run()
    assert _near(report, "T1 1", "adhd", "primary") == {"S4": "time"}
    assert _near(report, "T1 2", "adhd", "primary") == {"S4": "time"}
    # Secondary ADHD at T1 1: S4 is reachable (50 min < 75) but ages 5-10 end a year early.
    assert _near(report, "T1 1", "adhd", "secondary") == {"S4": "age"}
    # Secondary autism at T2 1: S5 is at the area but 5-10.
    assert _near(report, "T2 1", "autism", "secondary") == {"S5": "age"}
    nm = report.near_misses
    s4 = nm[(nm["area"] == "T1 1") & (nm["band"] == "primary")].iloc[0]
    assert s4["minutes"] == pytest.approx(50.2, abs=0.2)
    assert report.cells.loc[report.cells["status"] != "gap", "near_misses"].eq(0).all()


def test_near_misses_only_within_the_margins():
    # 1.1 x the limit: S4's 50 min is beyond 49.5, so no near miss is left.
    report = _run(cfg=_cfg(near_time_factor=1.1))
    assert _near(report, "T1 1", "adhd", "primary") == {}
    # Ages must match exactly: S4 is no longer an age near miss.
    report = _run(cfg=_cfg(near_age_years=0))
    assert _near(report, "T1 1", "adhd", "secondary") == {}


def test_near_miss_just_outside_the_service_area():
    # S6: autism 5-10 at B, but only for district T9: reachable, wrong area.
    s6 = _record("S6", ["autism"], 5, 10, LAT0, LON_B, ["T9"], ["in_person"])
    services = _services(_world() + [s6]).without({"S1"})
    report = analyse_gaps(_areas(), services, needs=["autism"], gaps=_cfg())
    assert _cell(report, "T1 1", "autism", "primary")["status"] == "gap"
    assert _near(report, "T1 1", "autism", "primary") == {"S6": "area", "S3": "age"}


def test_remote_near_miss_for_a_neighbouring_district():
    centroids = {"T1": (LAT0, LON0), "T2": (LAT_C, LON0)}
    far = _run(district_centroids=centroids)
    near = _run(cfg=_cfg(near_area_km=30), district_centroids=centroids)
    assert _near(far, "T2 1", "autism", "secondary") == {"S5": "age"}
    assert _near(near, "T2 1", "autism", "secondary") == {"S5": "age", "S3": "area"}


def test_near_miss_limit():
    report = _run(cfg=_cfg(near_miss_limit=1), district_centroids={
        "T1": (LAT0, LON0), "T2": (LAT_C, LON0)})
    counts = report.near_misses.groupby(["area", "need", "band"]).size()
    assert counts.max() == 1


def test_remote_services_reach_only_their_service_area():
    report = _run()
    # S3 is online for T1: counted in T1 1 and T1 2, not in T2 1, whatever the distance.
    assert _cell(report, "T1 2", "autism", "secondary")["services"] == 1
    assert _cell(report, "T2 1", "autism", "secondary")["services"] == 0
    national = _record("S9", ["autism"], 11, 18, None, None, ["national"], ["phone"])
    report = _run(_world() + [national])
    assert _cell(report, "T2 1", "autism", "secondary")["services"] == 1
    assert _cell(report, "T1 1", "autism", "secondary")["services"] == 2


def test_remote_service_without_service_area_follows_the_config():
    nowhere = _record("S7", ["autism"], 11, 18, LAT_C, LON0, [], ["online"])
    records = _world() + [nowhere]
    near_venue = _run(records)
    assert _cell(near_venue, "T2 1", "autism", "secondary")["services"] == 1   # local to C
    assert _cell(near_venue, "T1 1", "autism", "secondary")["services"] == 1   # S3 only
    everywhere = _run(records, cfg=_cfg(remote_unstated_area="everywhere"))
    assert _cell(everywhere, "T1 1", "autism", "secondary")["services"] == 2
    not_counted = _run(records, cfg=_cfg(remote_unstated_area="nowhere"))
    assert _cell(not_counted, "T2 1", "autism", "secondary")["services"] == 0


def test_serve_levels():
    area_only = _record("S8", ["area:ci"], 5, 10, LAT_C, LON0, [], ["in_person"])
    records = [r for r in _world() if r.id != "S5"] + [area_only]
    with_area = _run(records)
    assert _cell(with_area, "T2 1", "autism", "primary")["services"] == 1  # autism is in C&I
    assert _cell(with_area, "T2 1", "adhd", "primary")["services"] == 0    # ADHD is SEMH
    stated_only = _run(records, cfg=_cfg(serves=["stated"]))
    assert _cell(stated_only, "T2 1", "autism", "primary")["services"] == 0
    no_blanket = _run(cfg=_cfg(serves=["stated"]))
    assert _cell(no_blanket, "T2 1", "adhd", "primary")["services"] == 0   # S5 is all SEND
    # The analysis's levels decide, whatever levels the directory was built with.
    built_default = _services(records)
    report = analyse_gaps(_areas(), built_default, needs=["autism"], gaps=_cfg(serves=["stated"]))
    assert _cell(report, "T2 1", "autism", "primary")["services"] == 0


def test_a_need_the_description_rules_out_is_not_served():
    s = _record("S5", ["all_send"], 5, 10, LAT_C, LON0, ["T2"], ["in_person"])
    s.description = "Open to all SEND. We are not able to support autistic children."
    records = [r for r in _world() if r.id != "S5"] + [s]
    report = _run(records)
    assert _cell(report, "T2 1", "autism", "primary")["services"] == 0
    assert _cell(report, "T2 1", "adhd", "primary")["services"] == 1


def test_ehcp_required_services_can_be_left_out():
    s = _record("S1", ["autism"], 5, 10, LAT0, LON0, [], ["in_person"], ehcp_required=True)
    records = [s] + _world()[1:]
    assert _cell(_run(records), "T1 1", "autism", "primary")["services"] == 1
    report = _run(records, cfg=_cfg(include_ehcp_required=False))
    assert _cell(report, "T1 1", "autism", "primary")["services"] == 0


def test_mode_minutes_and_category_overrides():
    walk = _run(mode="walk")  # 3.47 km on foot is 56 min: S1 no longer reaches B
    assert _cell(walk, "T1 2", "autism", "primary")["services"] == 0
    short = _run(minutes=10)  # 10 min by public transport is 0.38 km
    assert _cell(short, "T1 2", "autism", "primary")["services"] == 0
    assert _cell(short, "T1 1", "autism", "primary")["services"] == 1
    assert set(short.cells["max_minutes"]) == {10.0}
    other = _run(categories=["leisure"])
    assert other.cells["services"].eq(0).all()
    with pytest.raises(MatcherError, match="Unknown category"):
        _run(categories=["swimming"])


def test_broad_areas_as_columns():
    report = analyse_gaps(_areas(), _services(_world()), by="area", gaps=_cfg())
    assert set(report.cells["need"].astype(str)) == {"area:ci", "area:cl", "area:semh", "area:sp"}
    # Autism (C&I) at T1 1 primary: S1. SEMH (ADHD) at T1 1 primary: nothing within 45 min.
    assert _cell(report, "T1 1", "area:ci", "primary")["services"] == 1
    assert _cell(report, "T1 1", "area:semh", "primary")["status"] == "gap"


def test_bad_arguments_are_refused_in_plain_english():
    with pytest.raises(MatcherError, match="Unknown age band"):
        _run(bands=["toddlers"])
    with pytest.raises(MatcherError, match="Unknown need"):
        _run(needs=["unicorns"])
    with pytest.raises(MatcherError, match="Unknown travel mode"):
        _run(mode="teleport")


def test_suppress():
    assert suppress(pd.Series([0, 1, 9, 10, 11, None])).tolist() == [
        "<10", "<10", "<10", "10", "11", ""]
    assert suppress(np.array([4.0, 5.0]), below=5).tolist() == ["<5", "5"]


def test_demand_is_suppressed_in_every_output(tmp_path):
    report = _run()
    demand = pd.DataFrame({
        "area": ["T1 1", "T1 2", "T1 1", "T2 1"],
        "need": ["adhd", "adhd", "adhd", "autism"],
        "band": ["primary", "primary", "secondary", "secondary"],
        "children": [25, 9, 12, 3],
    })
    attach_demand(report, demand)
    out = output_frame(report)
    shown = out.set_index(["area", "need", "band"])["children"]
    assert shown[("T1 1", "adhd", "primary")] == "25"
    assert shown[("T1 2", "adhd", "primary")] == "<10"
    assert shown[("T2 1", "autism", "secondary")] == "<10"
    # Ranked by children in the gap; suppressed gaps get no rank and come after.
    ranked = out.dropna(subset=["priority"])
    assert ranked[["area", "need", "band"]].values.tolist() == [
        ["T1 1", "adhd", "primary"], ["T1 1", "adhd", "secondary"]]
    assert out.iloc[0]["area"] == "T1 1" and out.iloc[0]["priority"] == 1
    # Totals add up only shown cells and are suppressed themselves.
    summary = summarise(report).set_index(["need", "band"])
    assert summary.loc[("adhd", "primary"), "children_in_gaps"] == "25"
    assert summary.loc[("adhd", "primary"), "suppressed_gap_cells"] == 1
    assert summary.loc[("autism", "secondary"), "children_in_gaps"] == "<10"
    paths = write_outputs(report, tmp_path / "gaps.csv")
    written = pd.read_csv(paths[0], dtype=str, keep_default_na=False)
    numbers = pd.to_numeric(written["children"], errors="coerce").dropna()
    assert (numbers >= 10).all()
    assert "9" not in written["children"].tolist() and "3" not in written["children"].tolist()
    assert (written["children"] == "<10").sum() == 2


def test_output_files_and_near_miss_summary(tmp_path):
    report = _run()
    paths = write_outputs(report, tmp_path / "out" / "gaps.csv")
    cells = pd.read_csv(paths[0], keep_default_na=False)
    near = pd.read_csv(paths[1])
    assert len(cells) == len(report.cells)
    row = cells[(cells["area"] == "T1 1") & (cells["need"] == "adhd")
                & (cells["band"] == "primary")].iloc[0]
    assert row["status"] == "gap"
    assert row["near_miss_services"] == "S4 Service S4 (50 min, limit 45)"
    assert set(near["criterion"]) <= {"time", "age", "area"}
    # Parquet beside the CSV, same cells (pyarrow comes with streamlit).
    pytest.importorskip("pyarrow", reason="Parquet output needs pyarrow")
    parquet = pd.read_parquet(tmp_path / "out" / "gaps.parquet")
    assert len(parquet) == len(cells) and list(parquet.columns) == list(cells.columns)


def test_config_is_bounded_and_lists_every_problem():
    base = load_gaps_config().model_dump()
    bad = {**base, "near_time_factor": 0.5, "serves": ["psychic"], "suppress_below": 0}
    with pytest.raises(MatcherError) as err:
        parse_gaps_config(bad)
    text = str(err.value)
    assert "near_time_factor" in text and "serves" in text and "suppress_below" in text
    bands = {**base, "bands": {"odd": {"label": "x", "min_age": 9, "max_age": 3,
                                       "max_minutes": 45}}}
    with pytest.raises(MatcherError, match="above max_age"):
        parse_gaps_config(bands)


def test_default_config_matches_the_domain_brief():
    cfg = load_gaps_config()
    assert cfg.bands["primary"].max_minutes == 45
    assert cfg.bands["secondary"].max_minutes == 75
    assert cfg.mode == "public_transport"
    assert cfg.suppress_below == 10
    assert [(b.min_age, b.max_age) for b in cfg.bands.values()] == [
        (0, 4), (5, 10), (11, 15), (16, 18), (19, 25)]
