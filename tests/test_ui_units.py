"""The UI's pure parts: the API client, questions, dates, grouping, tables and downloads; and
the rule that ui/ reaches the matcher only over HTTP."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

import ast
import csv
import datetime as dt
import io
from pathlib import Path

import httpx
import pytest
import yaml
from ui_fake_api import SERVICES, UI_DIR, VOCAB, FakeApi

import client as ui_client
import content
import export
import facts
import planning
import questionnaire
from client import ApiClient, ApiError

LABELS = content.Labels(VOCAB)
TODAY = dt.date(2026, 11, 1)
CONTRACT_CATEGORIES = {"education", "health", "social_care", "short_breaks", "leisure",
                       "support_advice", "training_employment", "travel", "transition",
                       "assessment"}


def fake_client(fake: FakeApi | None = None) -> ApiClient:
    return ApiClient("http://api.test", transport=httpx.MockTransport(fake or FakeApi()))


def a_result(sid: str = "T-1", **kw) -> dict:
    s = SERVICES[sid]
    base = {"service_id": sid, "name": s["name"], "score": 0.8, "reasons": ["R1", "R2"],
            "organisation": s["organisation"], "categories": s["categories"],
            "travel_minutes": 12.4, "distance_km": 1.83, "min_age": s["min_age"],
            "max_age": s["max_age"], "cost": s["cost"], "latitude": s["latitude"],
            "longitude": s["longitude"], "last_reviewed": s["last_reviewed"],
            "explanation": None}
    base.update(kw)
    return base


# --------------------------------------------------------------------------- boundaries
def test_ui_never_imports_the_matcher_package():
    """ui/ talks to the engine over HTTP only (design.md: api -> ui over HTTP)."""
    offenders = []
    for path in UI_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "matcher"]
    assert offenders == []


def test_every_ui_module_declares_its_public_names():
    for name in ("client", "content", "components", "explore", "export", "plan_view",
                 "planning", "questionnaire", "facts"):
        tree = ast.parse((UI_DIR / f"{name}.py").read_text(encoding="utf-8"))
        declared = [n for n in tree.body if isinstance(n, ast.Assign)
                    and any(getattr(t, "id", "") == "__all__" for t in n.targets)]
        assert declared, f"ui/{name}.py has no __all__"
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        defined |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name)}
        defined |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)
                    and isinstance(n.target, ast.Name)}
        missing = set(ast.literal_eval(declared[0].value)) - defined
        assert not missing, f"ui/{name}.py exports undefined {missing}"


# --------------------------------------------------------------------------- client
def test_client_returns_the_api_answers():
    fake = FakeApi()
    c = fake_client(fake)
    assert c.health()["status"] == "ok"
    assert c.postcode("n7 8jn")["postcode"] == "N7 8JN"
    assert c.service("T-2")["name"] == "Moving Up Club"
    assert c.normalise(["autisim", "zzz"])["unrecognised"] == ["zzz"]
    assert c.feedback("T-1", "helpful")["kind"] == "helpful"
    assert c.match({"age": 9}, explain="brief")["results"][0]["explanation"] is None
    assert fake.requests("POST", "/match") == [{"age": 9, "explain": "brief"}]


def test_client_quotes_path_parts():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    c = ApiClient("http://api.test", transport=httpx.MockTransport(handler))
    c.postcode(" N7 8JN ")
    c.service("A/B?1")
    assert seen == ["/postcodes/N7%208JN", "/services/A%2FB%3F1"]


def test_client_errors_carry_the_apis_own_words():
    c = fake_client()
    with pytest.raises(ApiError) as not_found:
        c.postcode("N7 9ZZ")
    assert not_found.value.status == 404
    assert not_found.value.suggestions == ["N7 9BZ"]
    assert str(not_found.value).startswith("'N7 9ZZ' is not a current postcode.")
    with pytest.raises(ApiError) as invalid:
        c.match({"age": 30})
    assert invalid.value.status == 422
    assert invalid.value.problems == [ui_client.Problem("age", "age must be between 0 and 25",
                                                        "less_than_equal")]
    assert invalid.value.message == "age must be between 0 and 25"


def test_client_sends_the_api_key_only_for_plans():
    fake = FakeApi()
    c = fake_client(fake)
    with pytest.raises(ApiError) as unknown:
        c.list_plans("wrong")
    assert (unknown.value.status, unknown.value.message) == (401, "Missing or unknown API key.")
    from ui_fake_api import KEY_WORKER_KEY

    made = c.create_plan(KEY_WORKER_KEY, {"label": "A1"})
    assert c.get_plan(KEY_WORKER_KEY, made["id"])["label"] == "A1"
    assert c.replace_plan(KEY_WORKER_KEY, made["id"], {"label": "A2"})["label"] == "A2"
    assert [p["label"] for p in c.list_plans(KEY_WORKER_KEY)] == ["A2"]


def test_client_says_when_the_api_cannot_be_reached(monkeypatch):
    monkeypatch.setenv("MATCHER_API_URL", "http://127.0.0.1:9/ ")
    assert ui_client.api_url() == "http://127.0.0.1:9"
    with pytest.raises(ApiError) as down:
        fake_client(FakeApi(down=True)).health()
    assert down.value.status == 0
    assert "could not be reached (ConnectError)" in down.value.message
    assert "matcher run" in down.value.message


def test_client_error_without_a_detail_is_still_plain():
    c = ApiClient("http://api.test", transport=httpx.MockTransport(
        lambda r: httpx.Response(500, text="boom")))
    with pytest.raises(ApiError) as err:
        c.health()
    assert err.value.message.startswith("The matching service answered with an error (500).")


# --------------------------------------------------------------------------- content
def test_questions_file_uses_only_known_categories_and_needs():
    from matcher.vocab import load_vocabulary  # tests may read the vocabulary; ui/ may not

    questions = yaml.safe_load(content.QUESTIONS_PATH.read_text(encoding="utf-8"))
    assert set(questions["category"]) <= CONTRACT_CATEGORIES
    assert set(questions["need"]) <= set(load_vocabulary().needs)
    for pool in [questions["general"], *questions["category"].values(),
                 *questions["need"].values()]:
        assert pool and all(isinstance(q, str) and q.endswith("?") for q in pool)


def test_questions_come_from_needs_then_categories_without_repeats():
    got = content.questions_for(["leisure", "health"], ["autism", "anxiety"], n=3)
    q = content.load_questions()
    assert got == [q["need"]["autism"][0], q["need"]["anxiety"][0], q["category"]["leisure"][0]]
    assert len(set(content.questions_for(["leisure"], [], n=6))) == 6
    assert content.questions_for([], [], n=2) == q["general"][:2]


def test_sendiass_line():
    assert content.sendiass_line(None) == content.SENDIASS_FALLBACK
    line = content.sendiass_line(SERVICES["T-6"])
    assert line.startswith("Waymark SENDIASS is free, confidential and impartial.")
    assert line.endswith("Contact: 020 7946 0400, advice@waymark.example, "
                         "https://t-6.example.")


@pytest.mark.parametrize(("lo", "hi", "text"), [
    (5, 16, "Ages 5 to 16"), (18, None, "Ages 18 and over"), (None, 4, "Up to age 4"),
    (None, None, "Ages not stated")])
def test_age_range(lo, hi, text):
    assert content.age_range(lo, hi) == text


def test_last_checked_warns_in_words_when_old():
    assert content.last_checked_text("2026-06-01", TODAY) == "1 June 2026"
    assert content.last_checked_text("2025-06-01", TODAY) == (
        "1 June 2025 (over a year ago: details may have changed)")
    assert content.last_checked_text(None).startswith("Not known")


# --------------------------------------------------------------------------- questionnaire
def answers(**kw) -> dict:
    base = {"fs_who": "parent", "fs_age": "10", "fs_ehcp": "no", "fs_needs": ["autism"],
            "fs_words": "anxity, loud places", "fs_postcode": " N7 8JN ",
            "fs_mode": "public_transport", "fs_minutes": 30, "fs_transition": "none",
            "fs_free": True, "fs_when": ["weekends"], "fs_access": ["quiet_space"],
            "fs_language": "Turkish"}
    base.update(kw)
    return base


def test_build_profile_matches_the_contract():
    assert questionnaire.build_profile(answers(), LABELS) == {
        "who": "parent", "age": 10, "has_ehcp": False,
        "needs": ["autism", "anxity", "loud places"], "postcode": "N7 8JN",
        "travel": {"mode": "public_transport", "max_minutes": 30}, "transition": None,
        "preferences": {"free_only": True, "when": ["weekends"],
                        "accessibility": ["quiet_space"], "delivery": [],
                        "language": "Turkish"},
        "limit": 10}
    online = questionnaire.build_profile(answers(fs_mode="online_only", fs_who="professional",
                                                 fs_postcode=""), LABELS)
    assert online["travel"] == {"mode": "online_only"}
    assert online["who"] == "senco" and online["postcode"] is None


def test_every_step_but_preferences_and_check_can_stop_you():
    empty: dict = {}
    stops = {s for s in questionnaire.STEPS if questionnaire.validate(s, empty)}
    assert stops == {"who", "child", "needs", "travel", "transition"}
    for s in questionnaire.STEPS:
        assert questionnaire.validate(s, answers()) == {}


def test_summary_rows_point_back_to_their_steps():
    rows = questionnaire.summary_rows(answers(), LABELS)
    assert [(i, q) for i, q, _ in rows] == [
        (0, "Who is asking"), (1, "Child's age"), (1, "EHC plan"), (2, "Needs"),
        (3, "Postcode"), (4, "Travel"), (5, "Move coming up"), (6, "Preferences")]
    assert rows[7][2] == ("Free services only; Weekends; Quiet space to take a break; "
                          "Language: Turkish")


# --------------------------------------------------------------------------- planning
@pytest.mark.parametrize(("move", "ehcp", "expected"), [
    ("y6_y7", True, [dt.date(2027, 2, 15)]),
    ("reception", True, [dt.date(2027, 2, 15)]),
    ("y6_y7", False, [dt.date(2026, 10, 31), dt.date(2027, 3, 1)]),
    ("reception", False, [dt.date(2027, 1, 15), dt.date(2027, 4, 16)]),
    ("y11_post16", True, [dt.date(2027, 3, 31), dt.date(2027, 5, 31)]),
    ("y11_post16", False, [dt.date(2027, 5, 31)]),
    ("post16_move", True, [dt.date(2027, 4, 1), dt.date(2027, 5, 31)]),
    ("y9_pfa", True, []),
    ("nursery", True, []),
])
def test_key_dates(move, ehcp, expected):
    assert [d for _, d in planning.key_dates(move, 2027, ehcp)] == expected


def test_key_dates_reject_an_unknown_move():
    with pytest.raises(ValueError, match="Unknown move 'y12'"):
        planning.key_dates("y12", 2027, True)


def test_default_move_year_turns_over_in_september():
    assert planning.default_move_year(dt.date(2026, 8, 31)) == 2026
    assert planning.default_move_year(dt.date(2026, 9, 1)) == 2027


def test_grouping_by_need_and_by_outcome():
    def with_need(sid, need, level="exact"):
        contrib = {"component": "need", "value": 1, "weight": 1, "points": 1, "label": "x",
                   "inputs": {"need": need, "level": level}}
        return a_result(sid, explanation={"base": 0, "contributions": [contrib], "total": 1})

    results = [with_need("T-1", "autism"), with_need("T-2", "autism", "all_send"),
               with_need("T-3", "anxiety"), a_result("T-5"), with_need("T-4", "autism")]
    groups = planning.group_by_need(results, LABELS)
    assert {k: [r["service_id"] for r in v] for k, v in groups.items()} == {
        "Autism": ["T-1", "T-4"], "Anxiety": ["T-3"], "Open to any SEND": ["T-2"],
        "Other suggestions": ["T-5"]}
    outcomes = planning.group_by_outcome(results)
    assert {k: [r["service_id"] for r in v] for k, v in outcomes.items()} == {
        "Employment and further or higher education": ["T-2", "T-5"],
        "Independent living": ["T-2"],
        "Friends, relationships and community": ["T-1", "T-4"],
        "Being as healthy as possible": ["T-3"]}


def test_plan_content_is_what_the_api_takes():
    body = planning.plan_content(" JB ", "y11_post16", {"age": 16}, {"T-1": "note"},
                                 [{"action": " Call ", "due": dt.date(2027, 1, 2)},
                                  {"action": "  ", "due": None},
                                  {"action": "Visit", "due": "2027-02-03", "done": True}])
    assert body == {"label": "JB", "profile": {"age": 16}, "transition": "secondary_to_post16",
                    "move": "y11_post16", "move_year": None,
                    "services": [{"service_id": "T-1", "note": "note", "reasons": []}],
                    "next_steps": [{"action": "Call", "due": "2027-01-02", "owner": "",
                                    "done": False},
                                   {"action": "Visit", "due": "2027-02-03", "owner": "",
                                    "done": True}]}
    from matcher.plans import PlanContent  # the API's own model accepts it

    PlanContent.model_validate(body | {"profile": {"age": 16}})
    assert planning.move_for("secondary_to_post16").id == "y11_post16"


# --------------------------------------------------------------------------- tables, exports
def test_service_facts_and_contributions():
    got = facts.service_facts(a_result("T-5"), SERVICES["T-5"], LABELS, TODAY)
    assert list(got) == list(facts.FACT_NAMES)
    assert got["Travel"] == "About 12 minutes (1.8 km)"
    assert got["How to get it"] == "Through an EHC plan (only with an EHC plan)"
    assert got["Contact"] == ("Phone: 020 7946 0001; Website: https://t-5.example; "
                                "Address: 1 Test Road, London, N7 8JN")
    assert got["Last checked"] == "1 June 2026"
    frame = facts.contributions_frame({"explanation": {"base": 0, "total": 0.5, "contributions": [
        {"component": "need", "value": 1, "weight": 0.5, "points": 0.5, "label": "L"}]}})
    assert frame.to_dict("records") == [{"Factor": "Need", "What it means": "L", "Value": 1.0,
                                         "Weight": 0.5, "Points": 0.5}]
    assert facts.contributions_frame({"explanation": None}).empty


def test_shortlist_csv_has_one_row_per_service():
    items = [{"result": a_result("T-1", reasons=["Near you", "Free, for ages 5 to 16"]),
              "detail": SERVICES["T-1"], "questions": ["Q1?", "Q2?"]},
             {"result": a_result("T-3"), "detail": SERVICES["T-3"], "questions": []}]
    data = export.shortlist_csv(items, LABELS)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["Service"] for r in rows] == ["Saturday Sensory Swim", "Calm Minds Group"]
    assert rows[0]["Why suggested"] == "Near you | Free, for ages 5 to 16"
    assert rows[0]["Questions you could ask"] == "Q1? | Q2?"
    assert rows[1]["How to get it"] == "Your GP needs to refer you"


def test_printable_pages_escape_what_they_show():
    nasty = a_result("T-1", name="<script>alert(1)</script>", reasons=["a < b & c"])
    page = export.shortlist_html([{"result": nasty, "detail": {}, "questions": ["Why?"]}],
                                 LABELS, "Call SENDIASS", TODAY)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<li>a &lt; b &amp; c</li>" in page
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in page
    assert "Made on 1 November 2026." in page and "Call SENDIASS" in page
    assert '<button type="button" onclick="window.print()">Print</button>' in page
    assert ".noprint { display: none; }" in page  # the button is not printed
    plan = {"label": "JB<1>", "transition": "secondary_to_post16",
            "profile": {"age": 16, "needs": ["autism"], "has_ehcp": True},
            "services": [{"service_id": "T-1", "note": "ask <quiet>",
                          "reasons": ["For ages 5 to 16 <ok>"]}],
            "next_steps": [{"action": "Call", "due": "2027-03-31", "owner": "SENCo",
                            "done": False}]}
    html = export.plan_html(plan, {"T-1": SERVICES["T-1"]}, LABELS,
                            [("EHC plan amended", dt.date(2027, 3, 31))], "SENDIASS", TODAY)
    assert "Transition plan: JB&lt;1&gt;" in html and "ask &lt;quiet&gt;" in html
    assert "<strong>31 March 2027</strong>: EHC plan amended" in html
    assert "Move: Year 11 to post-16 (sixth form, college or training)" in html
    assert "<td>Call</td><td>31 March 2027</td><td>SENCo</td><td>To do</td>" in html
    assert "<li>For ages 5 to 16 &lt;ok&gt;</li>" in html  # why it was suggested
    assert "1 Test Road, London, N7 8JN" in html  # the address


def test_ruff_config_for_ui_extends_the_project():
    text = (UI_DIR / "ruff.toml").read_text(encoding="utf-8")
    assert 'extend = "../pyproject.toml"' in text
    assert Path(UI_DIR / ".streamlit" / "config.toml").is_file()


def test_glossary_spells_out_short_forms_once_a_page():
    seen: set[str] = set()
    first = content.explain_terms("Free with a Short Breaks Passport or DCT package", seen)
    assert first.startswith("Free with a Short Breaks Passport (the council's card")
    assert "DCT package (support arranged by the Disabled Children's Team" in first
    assert content.explain_terms("For children with SLD or PMLD", seen) == (
        "For children with SLD (severe learning difficulties) or PMLD (profound and multiple "
        "learning difficulties)")
    assert content.explain_terms("Also SLD", seen) == "Also SLD"
    # Already spelt out next to it: left alone.
    assert content.explain_terms("Severe learning difficulties (SLD)", set()) == \
        "Severe learning difficulties (SLD)"
    # Not inside other words.
    assert content.explain_terms("SENDIASS and SEND", set()).count("(") == 2


def test_card_facts_give_each_fact_once():
    result = a_result("T-1", reasons=["About 12 minutes' walk (1.0 km)", "Free"],
                      travel_minutes=12.0, distance_km=1.0, cost="free")
    detail = dict(SERVICES["T-1"], cost_details="")
    shown = facts.card_facts(result, detail, LABELS, TODAY)
    assert "Travel" not in shown and "Cost" not in shown and "Contact" not in shown
    unknown = facts.card_facts(a_result("T-1", reasons=["R"], cost=None), {}, LABELS, TODAY)
    assert unknown["Cost"] == "Not stated: ask whether there is a charge"


def test_a_card_quotes_who_the_record_says_it_does_not_take():
    detail = dict(SERVICES["T-1"], facts=[
        {"field": "excludes", "value": ["under_5"], "quote": "not suitable for under 5s"},
        {"field": "min_age", "value": 5, "quote": "not suitable for under 5s"},
        {"field": "excludes", "value": ["members_of_the_public"],
         "quote": "not open to members of the public"}])
    shown = facts.card_facts(a_result("T-1", reasons=["R"]), detail, LABELS, TODAY)
    assert shown["Who it does not take"] == ('Says: "not suitable for under 5s"; '
                                             'Says: "not open to members of the public"')
    # nothing said, nothing shown on the card (the table keeps the column, empty)
    plain = facts.card_facts(a_result("T-1", reasons=["R"]), SERVICES["T-1"], LABELS, TODAY)
    assert "Who it does not take" not in plain
    assert facts.service_facts(a_result("T-1"), SERVICES["T-1"], LABELS, TODAY)[
        "Who it does not take"] == ""


def test_one_travel_figure_per_service_in_tables_and_facts():
    r = a_result("T-1", reasons=["About 41 minutes' walk (2.6 km): longer than the 30 minutes "
                                 "you said"], travel_minutes=42.0, distance_km=2.5)
    assert facts.travel_figure(r) == "About 41 minutes' walk (2.6 km)"
    assert facts.results_frame([r], LABELS)["Travel"].tolist() == [
        "About 41 minutes' walk (2.6 km)"]
    assert facts.service_facts(r, {}, LABELS, TODAY)["Travel"] == \
        "About 41 minutes' walk (2.6 km)"


def test_schools_of_the_stage_being_left_are_not_shown_and_are_named():
    answer = {"results": [
        {"name": "Hill Primary", "categories": ["education"], "max_age": 11},
        {"name": "Moving Up Club", "categories": ["transition", "education"], "max_age": 11},
        {"name": "Park Secondary", "categories": ["education"], "max_age": 16},
        {"name": "No Ages School", "categories": ["education"], "max_age": None}]}
    kept, note = planning.without_stage_left(answer, "primary_to_secondary")
    assert [r["name"] for r in kept["results"]] == ["Moving Up Club", "Park Secondary",
                                                    "No Ages School"]
    assert note == "Not shown, as schools or settings of the stage being left: Hill Primary."
    kept, note = planning.without_stage_left(answer, "secondary_to_post16")
    assert [r["name"] for r in kept["results"]] == ["Moving Up Club", "No Ages School"]
    assert planning.without_stage_left(answer, None) == (answer, "")
