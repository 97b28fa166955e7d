"""The engine's use of what the reading step read: threshold services are not "open to any
SEND", ages the words only suggest move the score and are said, and ``GET /services/{id}``
shows what the engine believes about a service and where each belief comes from.

The records are written here (fictional services at real postcodes), with their structured
fields left empty as real feeds leave them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from csv_support import HEADER
from fastapi.testclient import TestClient

from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.engine.pipeline import Matcher
from matcher.ingest import read_service_csv, run_import
from matcher.services import records_to_frame
from matcher.settings import Settings


def _row(sid: str, name: str, description: str, category: str = "social_care") -> str:
    desc = description.replace('"', '""')
    return f'{sid},{name},Fictional Org,"{desc}",{category},,,,E5 0RF,,,,,,,,,,,,,,,2026-01-01'


RECORDS = [
    _row("T-1", "Disabled Children's Social Work Team",
         "Social workers for children with disabilities who have severe and complex needs."),
    _row("T-2", "Open Door Play Scheme",
         "Holiday play for children with disabilities and additional needs.", "leisure"),
    _row("T-3", "Teen Chat Group",
         "A relaxed chat group, popular with teenagers.", "leisure"),
    _row("T-4", "Youth Club",
         "A youth club for young people aged 11 to 18 with additional needs.", "leisure"),
]
CSV = HEADER + "\n".join(RECORDS) + "\n"


@pytest.fixture(scope="module")
def matcher(postcode_index, tmp_path_factory) -> Matcher:
    path = tmp_path_factory.mktemp("read") / "services.csv"
    path.write_text(CSV, encoding="utf-8")
    records, report = read_service_csv(path)
    assert report.rejected == 0
    return Matcher.from_frame(records_to_frame(records))


def _reasons(matcher: Matcher, sid: str, **profile) -> list[str]:
    out = matcher.match({"limit": 10, **profile}, explain="full")
    for r in [*out.results, *(out.not_suggested or [])]:
        if r.service_id == sid:
            return r.reasons
    raise AssertionError(f"{sid} neither suggested nor explained")


def test_a_threshold_service_is_not_open_to_any_send(matcher):
    """'children with disabilities' alone reads as any SEND; 'severe and complex' takes that
    back, and the reason quotes the threshold so the family can check it fits."""
    row = list(matcher.table.ids).index("T-1")
    open_row = list(matcher.table.ids).index("T-2")
    assert matcher.table.threshold[row] and not matcher.table.all_send[row]
    assert matcher.table.all_send[open_row] and not matcher.table.threshold[open_row]
    reasons = _reasons(matcher, "T-1", age=9, needs=["anxiety"])
    assert "Open to children and young people with any SEND" not in reasons
    assert any(r.startswith("It says 'severe and complex'") for r in reasons)
    assert "Open to children and young people with any SEND" in _reasons(
        matcher, "T-2", age=9, needs=["anxiety"])


def test_ages_the_words_only_suggest_move_the_score_and_are_said(matcher):
    row = list(matcher.table.ids).index("T-3")
    facts = matcher.table.records[row]["facts"]
    likely = [f for f in facts if f["field"] in ("min_age", "max_age")]
    # "popular with teenagers" suggests ages without stating them: likely, never certain.
    assert likely and all(f["confidence"] == "likely" for f in likely), facts
    assert matcher.table.min_age[row] != matcher.table.min_age[row]      # NaN: not a rule
    young = _reasons(matcher, "T-3", age=8, needs=["autism"])
    fits = _reasons(matcher, "T-3", age=15, needs=["autism"])
    assert any(r.startswith("Age range not stated, but the description suggests ages 13 to 19")
               and ", but your child is 8" in r for r in young)
    assert any("suggests ages 13 to 19" in r and "; your child is 15" in r for r in fits)
    # Still suggested to the 8-year-old (a suggestion is not a rule), but lower.
    score = {r.service_id: r.score for r in matcher.match(
        {"age": 8, "needs": ["autism"], "limit": 10}).results}
    score_fit = {r.service_id: r.score for r in matcher.match(
        {"age": 15, "needs": ["autism"], "limit": 10}).results}
    assert "T-3" in score and score["T-3"] < score_fit["T-3"]


@pytest.fixture(scope="module")
def client(tmp_path_factory, postcode_index):
    tmp: Path = tmp_path_factory.mktemp("beliefs")
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'api.sqlite'}",
                        demo_data_path=tmp / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0))
    run_import(CSV, store=app.state.resources.store, progress=False)
    with TestClient(app) as c:
        yield c


def test_service_detail_shows_beliefs_with_their_origin(client):
    body = client.get("/services/T-4").json()
    ages = body["beliefs"]["ages"]
    assert (ages["min_age"], ages["max_age"], ages["from"]) == (11, 18, "read")
    assert ages["quote"] and ages["quote"] in body["description"]
    assert body["beliefs"]["open_to_any_send"] is True
    assert body["beliefs"]["cost"] == {"value": None, "from": "unknown"}
    assert body["status"] == "active"
    assert all({"field", "value", "quote", "source", "confidence"} <= f.keys()
               for f in body["facts"])
    threshold = client.get("/services/T-1").json()["beliefs"]
    assert threshold["open_to_any_send"] is False
    assert threshold["threshold"] == "severe and complex"
    assert client.get("/services/NOPE").status_code == 404


def test_the_threshold_reason_quotes_the_threshold_not_a_referral_before_it(postcode_index,
                                                                             tmp_path):
    """A referral rule is a threshold fact too, but not one that closes a service to any SEND:
    the reason quotes the words that do ("only for children with autism"), not the referral
    rule read before them."""
    path = tmp_path / "services.csv"
    path.write_text(HEADER + _row(
        "T-9", "Referral Team", "By referral only. This group is only for children with "
        "autism.") + "\n", encoding="utf-8")
    records, _ = read_service_csv(path)
    facts = [f for f in records[0].facts if f["field"] == "threshold"]
    assert [f["value"] for f in facts][:1] == ["referral_required"]
    m = Matcher.from_frame(records_to_frame(records))
    assert m.table.threshold[0]
    reasons = _reasons(m, "T-9", age=9, needs=["autism"])
    assert any(r.startswith("It says 'is only for children with autism'")
               for r in reasons)
    assert not any(r.startswith("It says 'By referral only'") for r in reasons)


def test_service_detail_shows_the_listing_ages_the_words_narrowed(postcode_index, tmp_path):
    """A listing of 5 to 16 whose words say "for children aged 8 to 12": the engine believes
    the words, says so, and still shows what the listing said."""
    row = _row("T-10", "Drama Club", "A drama club for children aged 8 to 12.", "leisure")
    cells = row.split(",")
    cells[6], cells[7] = "5", "16"   # min_age, max_age
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'api.sqlite'}",
                        demo_data_path=tmp_path / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0))
    (tmp_path / "s.csv").write_text(HEADER + ",".join(cells) + "\n", encoding="utf-8")
    run_import(tmp_path / "s.csv", store=app.state.resources.store, progress=False)
    with TestClient(app) as c:
        body = c.get("/services/T-10").json()
    ages = body["beliefs"]["ages"]
    assert (ages["min_age"], ages["max_age"], ages["from"]) == (8, 12, "read")
    assert ages["quote"] == "children aged 8 to 12"
    (conflict,) = body["beliefs"]["conflicts"]
    assert conflict["listing"] == {"min_age": 5, "max_age": 16}
