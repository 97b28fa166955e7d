"""Outpost API import: the real Buckinghamshire page (every record accounted for, SEND needs
mapped to our canonical needs) and a hand-written Outpost page for the rarer fields."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from matcher.ingest import detect_format, read_feed, read_outpost
from matcher.vocab import load_vocabulary

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "data" / "oruk" / "outpost_services.json"
BUCKS = Path(__file__).resolve().parents[2] / "shared" / "real-samples" / "bucks-fis-outpost-api"
TODAY = dt.date(2026, 1, 1)

#: Buckinghamshire's SEND need list (send_needs.json) -> our canonical needs.
BUCKS_SEND_NEEDS = {
    "Autism": ["autism"],
    "Social, emotional and mental health difficulties": ["semh"],
    "Hearing": ["hearing_impairment"],
    "Communication and interaction": ["area:ci"],
    "Sensory and physical needs": ["area:sp"],
    "Cognition and learning": ["area:cl"],
    "Visual": ["vision_impairment"],
}
#: Outpost's suitabilities (suitabilities.json) -> canonical needs; [] = kept as raw words.
BUCKS_SUITABILITIES = {
    "Visual and/or hearing impediment": ["vision_impairment", "hearing_impairment"],
    "Older people": [],
    "Dementia": ["medical"],
    "Physical disabilities": ["physical_disability"],
    "Mental health/acquired brain injury": ["semh", "abi"],
    "Autism": ["autism"],
    "Learning difficulties": ["area:cl"],
}


def _bucks(name: str) -> Path:
    path = BUCKS / name
    if not path.exists():
        pytest.skip(f"needs the Buckinghamshire Outpost samples in {BUCKS} (../shared beside "
                    "the repo)")
    return path


@pytest.fixture(scope="module")
def bucks_page(postcode_index):
    path = _bucks("services_page1.json")
    raw = json.loads(path.read_text(encoding="utf-8"))["content"]
    records, report = read_outpost(path, id_prefix="bucks", today=TODAY)
    return raw, {r.id: r for r in records}, report


def _one(**fields) -> dict:
    base = {"id": 1, "name": "Test club", "description": "A club.", "locations": [],
            "taxonomies": [{"name": "Clubs and groups"}], "send_needs": []}
    return {**base, **fields}


# --------------------------------------------------------------------------- the SEND need lists
def test_bucks_send_need_list_is_the_one_mapped():
    labels = [n["label"] for n in json.loads(_bucks("send_needs.json").read_text("utf-8"))]
    assert labels == list(BUCKS_SEND_NEEDS)
    labels = [n["label"] for n in json.loads(_bucks("suitabilities.json").read_text("utf-8"))]
    assert labels == list(BUCKS_SUITABILITIES)


@pytest.mark.parametrize("label, needs", [*BUCKS_SEND_NEEDS.items()])
def test_each_bucks_send_need_maps_to_canonical_needs(label, needs):
    records, report = read_outpost([_one(send_needs=[{"id": 1, "name": label}])], today=TODAY)
    assert records[0].needs == needs and records[0].needs_unrecognised == []
    assert records[0].needs_raw == label
    assert all(load_vocabulary().is_known(n) for n in needs)


@pytest.mark.parametrize("label, needs", [*BUCKS_SUITABILITIES.items()])
def test_each_suitability_maps_or_is_kept_and_reported(label, needs):
    records, report = read_outpost([_one(suitabilities=[{"id": 1, "name": label}])],
                                   today=TODAY)
    r = records[0]
    assert r.needs == needs
    if not needs:
        assert r.needs_unrecognised == [label] and r.needs_raw == label
        assert report.unmapped_terms == {f"needs: {label}": 1}
        assert report.warnings[0].problem == f"needs word(s) not recognised: {label}"


# --------------------------------------------------------------------------- the real page
def test_every_bucks_record_is_accounted_for(bucks_page):
    raw, records, report = bucks_page
    assert detect_format(json.loads(_bucks("services_page1.json").read_text("utf-8"))) == \
        "outpost"
    assert report.rows_read == len(raw) == 20
    assert report.rejected == 0 and not report.problems
    assert sorted(records) == sorted(f"bucks:{s['id']}" for s in raw)
    assert report.accepted == [f"bucks:{s['id']}" for s in raw]   # feed order


def test_bucks_send_needs_become_canonical_needs(bucks_page):
    raw, records, _ = bucks_page
    with_needs = 0
    for s in raw:
        expected: list[str] = []
        for n in s["send_needs"]:
            expected += [x for x in BUCKS_SEND_NEEDS[n["name"]] if x not in expected]
        r = records[f"bucks:{s['id']}"]
        assert r.needs[:len(expected)] == expected, s["name"]
        assert set(r.needs) - set(expected) <= {"all_send"}       # from a "SEND" taxonomy
        with_needs += bool(expected)
    assert with_needs == 6


def test_bucks_brownies_fields(bucks_page):
    r = bucks_page[1]["bucks:1"]
    assert r.name == "12th Aylesbury Brownies"
    # The feed's min_age/max_age say 5 to 11; the description's "girls aged 7 to 10" lies
    # inside and narrows it, so the words are believed and the listing's ages are kept.
    assert (r.min_age, r.max_age) == (7, 10)
    (used,) = [f for f in r.facts if f["used"] and f["field"] == "min_age"]
    assert used["listing"] == {"min_age": 5, "max_age": 11} and used["conflict"]
    assert (r.postcode, r.latitude, r.longitude) == ("HP21 7JF", 51.811001, -0.790659)
    assert r.address == "St Joseph's Catholic Infant School, Hazell Avenue, Aylesbury"
    assert r.categories == ["leisure"]
    assert r.needs == ["autism", "hearing_impairment", "area:sp", "vision_impairment"]
    assert r.when == ["weekdays"]                       # Monday 10:00-17:00
    assert r.delivery == ["in_person"]
    assert r.last_reviewed == dt.date(2021, 1, 13)
    assert r.source == "outpost"


def test_bucks_placeholder_locations(bucks_page):
    records = bucks_page[1]
    aba = records["bucks:7"]            # city "Nationwide", point [0, 0], no postcode
    # Nationwide, but the record does not say how it is delivered: unknown, not "online".
    assert aba.service_area == ["national"] and aba.delivery == []
    assert aba.postcode is None and aba.latitude is None
    assert records["bucks:29"].service_area == []       # city "Online": not national


def test_bucks_categories_and_accessibility(bucks_page):
    raw, records, report = bucks_page
    assert records["bucks:8"].categories == ["leisure", "education"]   # Abbey View Primary
    assert records["bucks:10"].accessibility == ["wheelchair"]
    assert "accessibility: Accessible toilet facilities" in report.unmapped_terms
    guessed = [w for w in report.warnings if w.column == "categories"]
    assert [w.row for w in guessed] == [6]              # 627 Transfer has no taxonomy
    assert all(r.categories for r in records.values())


def test_bucks_single_service_file(postcode_index):
    records, report = read_outpost(_bucks("service_1.json"), id_prefix="bucks", today=TODAY)
    assert [r.id for r in records] == ["bucks:1"] and report.rows_read == 1
    assert records[0].needs == ["autism", "hearing_impairment", "area:sp", "vision_impairment"]


# --------------------------------------------------------------------------- hand-written Outpost
@pytest.fixture(scope="module")
def outpost(postcode_index):
    records, report = read_feed(FIXTURE, today=TODAY)
    return {r.id: r for r in records}, report


def test_outpost_fixture_accounting(outpost):
    records, report = outpost
    assert report.format == "outpost" and report.rows_read == 5
    # Hidden and discarded services are kept as inactive (never suggested), not dropped.
    assert sorted(records) == [f"outpost:{n}" for n in (101, 102, 103, 104, 105)]
    assert not report.problems
    inactive = {r.id for r in records.values() if r.status == "inactive"}
    assert inactive == {"outpost:103", "outpost:104"}
    reasons = {(p.row, p.column): p.problem for p in report.warnings
               if p.column in ("visible_to", "discarded_at")}
    assert reasons == {
        (3, "visible_to"): "the service stopped being listed on 2020-01-01, so it is kept as "
                           "inactive and not suggested to families",
        (4, "discarded_at"): "the feed marks this service as removed (discarded), so it is "
                             "kept as inactive and not suggested to families",
    }


def test_outpost_age_bands_free_referral_and_taxonomy_needs(outpost):
    r = outpost[0]["outpost:101"]
    assert (r.min_age, r.max_age) == (0, 2)                 # under_2 + 2
    assert (r.cost, r.referral) == ("free", ["self"])
    assert r.needs == ["area:sp", "autism", "all_send"]     # send_needs, suitabilities, taxonomy
    assert r.needs_raw == "Sensory and physical needs;Autism;Activities for SEND"
    assert r.when == ["weekends"] and r.categories == ["leisure"]
    assert r.accessibility == ["wheelchair"]                # "Partial wheelchair access" is not
    assert (r.phone, r.email) == ("020 7946 0202", "play@tinytots.example")


def test_outpost_online_paid_professional_referral(outpost):
    r = outpost[0]["outpost:102"]
    assert (r.min_age, r.max_age) == (8, None)              # age_band_8_plus
    assert r.delivery == ["online"] and r.postcode is None  # "online via Zoom" placeholder
    assert (r.cost, r.cost_details) == ("paid", "Per term: £30 per term")
    assert r.referral == ["professional"]
    assert (r.url, r.email) == ("https://homework.example", "help@homework.example")
    assert r.needs == ["medical"] and r.needs_unrecognised == []     # "Dementia"
    assert r.categories == ["education"]


def test_outpost_evening_local_offer_and_bad_coordinates(outpost):
    records, report = outpost
    r = records["outpost:105"]
    assert r.when == ["weekdays", "evenings"]               # Tuesday 18:00-20:00
    assert r.max_age == 25
    assert r.description.endswith("SEND local offer: We welcome young people with autism and "
                                  "ADHD.")
    # The point is in the Peak District, not at N7 8JN: the postcode's centre is used.
    assert r.postcode == "N7 8JN" and r.latitude == pytest.approx(51.55022, abs=1e-4)
    assert r.last_reviewed is None                          # 2030 is in the future
    row5 = {w.column for w in report.warnings if w.row == 5}
    assert row5 == {"updated_at", "locations[0].latitude"}


def test_cli_imports_outpost_by_format_and_by_content(tmp_path, capsys, postcode_index):
    from matcher.cli import main
    from matcher.store import Store

    db = f"sqlite:///{tmp_path / 'd.sqlite'}"
    path = str(_bucks("services_page1.json"))
    assert main(["import", path, "--format", "outpost", "--json", "--database-url", db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows_read"], out["added"], out["rejected"]) == (20, 20, 0)
    assert main(["import", path, "--json", "--database-url", db]) == 0     # detected again
    assert json.loads(capsys.readouterr().out)["unchanged"] == 20
    with Store.open(db) as store:
        assert store.get_service("outpost:1").name == "12th Aylesbury Brownies"
