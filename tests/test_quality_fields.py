"""Quality, outcomes and out-of-area provision on a record (matcher.quality): read from the CSV
template, ORUK 3.0 and ORUK v1, published in the ORUK export and by ``GET /services/{id}``,
and never used to remove or reorder a service."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from engine_support import POSTCODES, property_directory
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.engine.pipeline import Matcher
from matcher.ingest import COLUMNS, read_feed, read_oruk, read_service_csv
from matcher.oruk.export import service_to_oruk
from matcher.quality import QUALITY_COLUMNS, area_note, outcome_text, rating_text
from matcher.services import ServiceRecord, records_to_frame
from matcher.vocab import load_vocabulary

TODAY = dt.date(2026, 11, 22)
HEAD = "id,name,description,categories," + ",".join(QUALITY_COLUMNS)


def _csv(*rows: str) -> str:
    return HEAD + "\n" + "\n".join(rows) + "\n"


def test_template_keeps_every_contract_column_first_and_in_order():
    contract = ("id", "name", "organisation", "description", "categories", "needs", "min_age",
                "max_age", "postcode", "address", "service_area", "delivery", "cost",
                "cost_details", "when", "accessibility", "languages", "referral",
                "ehcp_required", "transitions", "url", "phone", "email", "last_reviewed")
    assert COLUMNS[:len(contract)] == contract
    assert COLUMNS[len(contract):] == QUALITY_COLUMNS


def test_csv_reads_ratings_accreditations_outcomes_and_area(postcode_index):
    text = _csv(
        'S1,Hill School,A special school.,education,Ofsted;cqc,Good;Outstanding,'
        '2024-03-12;2023-01-05,https://reports.example/1;,Quality mark A;Quality mark B,'
        '"9 of 11 leavers went to college, 2 to work.",2025,yes,yes',
        "S2,Club,A club.,leisure,,,,,,,,,",
    )
    records, report = read_service_csv(text, today=TODAY)
    assert report.problems == [] and [r.id for r in records] == ["S1", "S2"]
    s1, s2 = records
    assert s1.ratings == [
        {"body": "Ofsted", "rating": "Good", "date": "2024-03-12",
         "url": "https://reports.example/1"},
        {"body": "CQC", "rating": "Outstanding", "date": "2023-01-05", "url": ""}]
    assert s1.accreditations == ["Quality mark A", "Quality mark B"]
    assert s1.outcomes == [{"text": "9 of 11 leavers went to college, 2 to work.",
                            "year": 2025}]
    assert (s1.outside_area, s1.used_by_local_families) == (True, True)
    assert (s2.ratings, s2.accreditations, s2.outcomes, s2.outside_area) == ([], [], [], False)


def test_a_file_without_the_new_columns_still_imports(postcode_index):
    records, report = read_service_csv("id,name,description,categories\nS1,A,B,leisure\n",
                                       today=TODAY)
    assert report.problems == [] and records[0].ratings == [] and not records[0].outside_area


@pytest.mark.parametrize(("cells", "column", "words"), [
    ("Ofsted,Good,,,,,,,", "rating_date", "without its date"),
    ("Ofsted,Good,12/03/2024,,,,,,", "rating_date", "YYYY-MM-DD"),
    ("Ofsted,Good,2030-01-01,,,,,,", "rating_date", "in the future"),
    ("Ofsted;CQC,Good,2024-03-12,,,,,,", "rating", "2 inspection bodies but 1 rating"),
    ("Ofsted,Good,2024-03-12,reports.example/1,,,,,", "rating_url", "full web address"),
    (",,,,,All went to college.,,,", "outcomes_year", "without their year"),
    (",,,,,All went to college.,25,,", "outcomes_year", "a year such as 2025"),
    (",,,,,,2025,,", "outcomes", "outcomes is blank"),
    (",,,,,,,maybe,", "outside_area", "yes or no"),
    (",,,,,,,,sometimes", "used_by_local_families", "yes or no"),
])
def test_bad_cells_are_reported_and_good_rows_kept(cells, column, words, postcode_index):
    records, report = read_service_csv(_csv(f"S1,A,B,leisure,{cells}",
                                            "S2,Good row,B,leisure,,,,,,,,,"), today=TODAY)
    assert [r.id for r in records] == ["S2"]
    assert [(p.row, p.column) for p in report.problems] == [(2, column)]
    assert words in report.problems[0].problem
    assert report.problems[0].fix


def _oruk_doc(**extra) -> dict:
    return {"id": "6f3bb0b6-8a3c-4f52-9f2a-9d4a3c1e5b11", "name": "Hill School",
            "description": "A special school for pupils aged 11 to 16.", "status": "active",
            "minimum_age": 11, "maximum_age": 16, **extra}


def test_oruk3_native_accreditations_are_read(postcode_index):
    records, _ = read_oruk([_oruk_doc(accreditations="Quality mark A; Quality mark B")],
                           today=TODAY)
    assert records[0].accreditations == ["Quality mark A", "Quality mark B"]


def test_oruk_v1_accreditations_are_read(postcode_index):
    item = {"id": "a1b2c3d4-0000-4000-8000-000000000001", "name": "Riverside Youth Club",
            "description": "<p>A youth club for young people aged 11 to 19.</p>",
            "status": "active", "accreditations": "Youth quality mark (bronze)",
            "pc_targetAudience": [{"id": "1", "audienceType": "Young People "}],
            "attending_type": "Venue"}
    records, report = read_feed([item], today=TODAY)
    assert records[0].source == "oruk1"
    assert records[0].accreditations == ["Youth quality mark (bronze)"]


def test_outpost_local_offer_answer_about_outcomes_is_read(postcode_index):
    item = {"id": 41, "name": "Little Acorns Playgroup", "description": "A playgroup.",
            "min_age": 2, "max_age": 4, "taxonomies": [{"name": "Childcare"}],
            "local_offer": {"description": "We welcome children with SEND.", "survey_answers": [
                {"question": "Which outcomes do you work towards for children with SEND?",
                 "answer": "Children settle, make friends and get ready for school."},
                {"question": "How do you involve parents?", "answer": "Weekly chats."},
                {"question": "What outcomes do you aim for?", "answer": ""}]}}
    records, report = read_feed({"content": [item], "totalPages": 1, "number": 1},
                                fmt="outpost", today=TODAY)
    assert report.rejected == 0
    assert records[0].outcomes == [{"text": "What it aims to achieve: Children settle, make "
                                            "friends and get ready for school.", "year": None}]
    assert records[0].ratings == [] and records[0].accreditations == []


def _rated(record: ServiceRecord) -> ServiceRecord:
    return dataclasses.replace(
        record,
        ratings=[{"body": "Ofsted", "rating": "Requires improvement", "date": "2025-02-04",
                  "url": "https://reports.example/r"}],
        accreditations=["Quality mark A"],
        outcomes=[{"text": "Most leavers went on to college; two to work.", "year": 2025}],
        outside_area=True, used_by_local_families=True)


def test_export_publishes_the_fields_and_reads_them_back(postcode_index):
    record = _rated(ServiceRecord(id="S-1", name="Hill School",
                                  description="A special school.", categories=["education"]))
    doc = service_to_oruk(record)
    assert doc["accreditations"] == "Quality mark A"
    names = {a["taxonomy_term"]["taxonomy"]: a["taxonomy_term"]["name"]
             for a in doc["attributes"]}
    assert names["send-matcher:ratings"] == "Ofsted: Requires improvement (4 February 2025)"
    assert names["send-matcher:outcomes"].startswith("In the provider's words (2025): Most")
    assert "send-matcher:outside_area" in names and "send-matcher:used_by_local_families" in names
    back, report = read_oruk([doc], id_prefix="", today=TODAY)
    assert report.rejected == 0
    for name in ("ratings", "accreditations", "outcomes", "outside_area",
                 "used_by_local_families"):
        assert getattr(back[0], name) == getattr(record, name), name


def test_sentences_carry_source_date_and_year():
    assert rating_text({"body": "CQC", "rating": "Good", "date": "2023-09-20"}) == \
        "CQC: Good (20 September 2023)"
    assert outcome_text({"text": "All stayed in education.", "year": 2024}) == \
        "In the provider's words (2024): All stayed in education."
    assert area_note(True, True, "Islington") == "Outside Islington: used by Islington families"
    assert area_note(False, False, "Islington") is None


# --------------------------------------------------------------------------- never hides
@pytest.fixture(scope="module")
def directory(postcode_index) -> list[ServiceRecord]:
    return property_directory(postcode_index, load_vocabulary())


@pytest.fixture(scope="module")
def plain_matcher(directory, postcode_index) -> Matcher:
    return Matcher.from_frame(records_to_frame(directory), gazetteer=postcode_index)


GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not yet rated"]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(age=st.integers(0, 25), postcode=st.sampled_from(POSTCODES[:12]),
       needs=st.lists(st.sampled_from(["autism", "adhd", "deaf", "dyslexia", "anxiety"]),
                      max_size=2),
       grades=st.lists(st.sampled_from(GRADES), min_size=40, max_size=40),
       outside=st.lists(st.booleans(), min_size=40, max_size=40))
def test_a_rating_or_out_of_area_flag_never_removes_or_moves_a_service(
        directory, plain_matcher, postcode_index, age, postcode, needs, grades, outside):
    rated = [dataclasses.replace(
        r, ratings=[{"body": "Ofsted", "rating": grades[i % 40], "date": "2024-01-01",
                     "url": ""}],
        outside_area=outside[i % 40], used_by_local_families=outside[i % 40])
        for i, r in enumerate(directory)]
    rated_matcher = Matcher.from_frame(records_to_frame(rated), gazetteer=postcode_index)
    profile = {"age": age, "postcode": postcode, "needs": needs, "limit": 50}
    before = plain_matcher.match(profile, explain="full")
    after = rated_matcher.match(profile, explain="full")
    assert [(r.service_id, r.score, r.reasons) for r in after.results] == \
        [(r.service_id, r.score, r.reasons) for r in before.results]
    assert [n.service_id for n in after.not_suggested] == \
        [n.service_id for n in before.not_suggested]
