"""One source for every allowed value: the vocabulary file.

A value added to a closed list of a copy of ``data/vocabulary.yaml`` (a category
``befriending`` and a ``when`` value ``bank_holidays``) reaches, with no code change,

1. the engine: a column of its feature arrays, and a match that prefers it;
2. the API: the OpenAPI schema's ``enum``, ``GET /vocabularies``, a ``POST /match`` and a
   ``GET /services`` that use it (accepted), and a misspelt one rejected with a 422 that lists
   the allowed values;
3. the UI: the choices of the "Explore with a family" form (read from ``GET /vocabularies``),
   and a search sent with the new value.

The last tests check that no module keeps its own list of allowed values.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from matcher.allowed import closed_values, vocabulary_at
from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.engine.pipeline import Matcher
from matcher.services import ServiceRecord, records_to_frame
from matcher.settings import REPO_ROOT, Settings
from matcher.store import Store
from matcher.vocab import CONTRACT_VALUES, DEFAULT_VOCABULARY_PATH, Vocabulary, load_vocabulary

NEW_CATEGORY, NEW_CATEGORY_LABEL = "befriending", "Befriending and mentoring"
NEW_WHEN, NEW_WHEN_LABEL = "bank_holidays", "Bank holidays"


def _add_value(text: str, section: str, value: str, label: str) -> str:
    """Put ``value: label`` first in the top-level mapping ``section`` of the YAML text."""
    out, n = re.subn(rf"^{section}:\n", f"{section}:\n  {value}: {label}\n", text, count=1,
                     flags=re.MULTILINE)
    assert n == 1, f"no top-level '{section}:' in the vocabulary file"
    return out


@pytest.fixture
def vocab_file(tmp_path: Path) -> Path:
    """A copy of data/vocabulary.yaml with one more category and one more ``when`` value."""
    text = DEFAULT_VOCABULARY_PATH.read_text(encoding="utf-8")
    text = _add_value(text, "categories", NEW_CATEGORY, NEW_CATEGORY_LABEL)
    text = _add_value(text, "when", NEW_WHEN, NEW_WHEN_LABEL)
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def vocab(vocab_file: Path) -> Vocabulary:
    return load_vocabulary(vocab_file)


def _records() -> list[ServiceRecord]:
    """Two services alike but for their category and when they run."""
    common = {"organisation": "Test Org", "needs_raw": "all SEND", "needs": ["all_send"],
              "min_age": 5, "max_age": 18, "delivery": ["in_person"], "cost": "free",
              "referral": ["self"]}
    return [
        ServiceRecord(id="S-1", name="Friendship Buddies",
                      description="A volunteer meets your child each week for an outing.",
                      categories=[NEW_CATEGORY], when=[NEW_WHEN], **common),
        ServiceRecord(id="S-2", name="Saturday Club",
                      description="Games and activities for children with SEND.",
                      categories=["leisure"], when=["weekends"], **common),
    ]


# --------------------------------------------------------------------------- 1. engine
def test_the_added_values_are_in_the_vocabulary(vocab):
    assert vocab.categories[NEW_CATEGORY] == NEW_CATEGORY_LABEL
    assert vocab.when[NEW_WHEN] == NEW_WHEN_LABEL
    # Nothing of the file's own lists was lost on the way.
    default = load_vocabulary()
    for name, values in closed_values(default).items():
        assert set(values) <= set(getattr(vocab, name)), name


def test_engine_feature_arrays_have_a_column_for_the_new_values(vocab, postcode_index):
    m = Matcher.from_frame(records_to_frame(_records()), vocab=vocab, gazetteer=postcode_index)
    table = m.table
    assert table.closed["categories"] == tuple(vocab.categories)
    assert table.cats.shape[1] == len(vocab.categories)
    assert table.cats[:, table.col("categories", NEW_CATEGORY)].tolist() == [True, False]
    assert table.when[:, table.col("when", NEW_WHEN)].tolist() == [True, False]
    # The contract's own columns are still read right after the new first column.
    assert table.cats[:, table.col("categories", "leisure")].tolist() == [False, True]


@pytest.mark.parametrize(("preferences", "reason"), [
    ({"categories": [NEW_CATEGORY]}, "It is befriending and mentoring, as you asked"),
    ({"when": [NEW_WHEN]}, "Runs bank holidays, as you asked"),
])
def test_a_match_prefers_the_new_value(vocab, postcode_index, preferences, reason):
    m = Matcher.from_frame(records_to_frame(_records()), vocab=vocab, gazetteer=postcode_index)
    out = m.match({"age": 10, "preferences": preferences}, explain="full")
    assert [r.service_id for r in out.results] == ["S-1", "S-2"]
    assert out.results[0].score > out.results[1].score
    labels = [c.label for c in out.results[0].explanation.contributions]
    assert any(reason in label for label in labels), labels


def test_a_matcher_on_the_standard_vocabulary_rejects_the_value(postcode_index):
    records = [r for r in _records() if r.id == "S-2"]
    m = Matcher.from_frame(records_to_frame(records), vocab=load_vocabulary(),
                           gazetteer=postcode_index)
    with pytest.raises(ValidationError) as caught:
        m.match({"age": 10, "preferences": {"categories": [NEW_CATEGORY]}})
    message = caught.value.errors()[0]["msg"]
    assert message.startswith(f"'{NEW_CATEGORY}' is not a category; use one of: education, ")


# --------------------------------------------------------------------------- 2. API
def _settings(tmp_path: Path, vocabulary: Path | None) -> Settings:
    extra = {"vocabulary_path": vocabulary} if vocabulary is not None else {}
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'vocab.sqlite'}",
                    demo_data_path=tmp_path / "absent.csv", **extra)


@pytest.fixture
def api(tmp_path: Path, vocab_file: Path, postcode_index):
    """The app started on the changed vocabulary file, with the two services stored."""
    settings = _settings(tmp_path, vocab_file)
    with Store.open(settings.database_url) as store:
        store.upsert_services(_records())
    app = create_app(settings, ApiConfig(refresh_seconds=0, models_dir=tmp_path / "models"))
    with TestClient(app) as client:
        yield client


def test_settings_name_the_vocabulary_file(vocab_file, monkeypatch):
    monkeypatch.delenv("MATCHER_VOCABULARY", raising=False)
    assert Settings().vocabulary_path == REPO_ROOT / "data" / "vocabulary.yaml"
    monkeypatch.setenv("MATCHER_VOCABULARY", str(vocab_file))
    assert Settings().vocabulary_path == vocab_file
    assert vocabulary_at(vocab_file).categories[NEW_CATEGORY] == NEW_CATEGORY_LABEL


def test_openapi_schema_lists_the_new_values(api):
    schema = api.get("/openapi.json").json()
    parts = schema["components"]["schemas"]
    categories = parts["Preferences"]["properties"]["categories"]["items"]["enum"]
    when = parts["Preferences"]["properties"]["when"]["items"]["enum"]
    assert NEW_CATEGORY in categories and "leisure" in categories
    assert NEW_WHEN in when and "weekends" in when
    (param,) = [p for p in schema["paths"]["/services"]["get"]["parameters"]
                if p["name"] == "category"]
    assert NEW_CATEGORY in param["schema"]["anyOf"][0]["enum"]


def test_vocabularies_route_lists_the_new_values(api):
    body = api.get("/vocabularies").json()
    assert body["categories"][NEW_CATEGORY] == NEW_CATEGORY_LABEL
    assert body["when"][NEW_WHEN] == NEW_WHEN_LABEL


def test_a_request_with_the_new_value_is_accepted(api):
    r = api.post("/match", json={"age": 10, "preferences": {"categories": [NEW_CATEGORY],
                                                            "when": [NEW_WHEN]}})
    assert r.status_code == 200, r.text
    assert [x["service_id"] for x in r.json()["results"]] == ["S-1", "S-2"]
    r = api.get("/services", params={"category": NEW_CATEGORY})
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["items"]] == ["S-1"]


def test_an_unknown_value_is_a_clear_422(api):
    r = api.post("/match", json={"age": 10, "preferences": {"categories": ["befriend"]}})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["field"] == "preferences.categories[0]"
    assert problem["type"] == "literal_error"
    assert problem["message"].startswith("preferences.categories[0] must be one of "
                                         "'befriending', 'education', ")
    assert problem["message"].endswith(" or 'other'")
    r = api.get("/services", params={"category": "befriend"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "category"
    assert "'befriending'" in r.json()["detail"][0]["message"]


def test_an_app_on_the_standard_vocabulary_does_not_know_the_value(tmp_path):
    app = create_app(_settings(tmp_path, None), ApiConfig(refresh_seconds=0))
    with TestClient(app) as client:
        assert client.get("/services", params={"category": NEW_CATEGORY}).status_code == 422
        schema = client.get("/openapi.json").json()
    enum = schema["components"]["schemas"]["Preferences"]["properties"]["categories"]
    assert NEW_CATEGORY not in enum["items"]["enum"]


# --------------------------------------------------------------------------- 3. UI
def test_ui_choices_come_from_the_vocabulary(api):
    """The "Explore with a family" page, talking to the real API started on the changed file,
    offers the new values and sends them."""
    from streamlit.testing.v1 import AppTest
    from ui_fake_api import HOME, SESSION_KEY, ApiClient

    sent: list[dict] = []

    def forward(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/match":
            sent.append(json.loads(request.content))
        r = api.request(request.method, request.url.path, params=request.url.params,
                        content=request.content, headers=dict(request.headers))
        return httpx.Response(r.status_code, headers={"content-type": r.headers.get(
            "content-type", "application/json")}, content=r.content)

    at = AppTest.from_file(HOME, default_timeout=60)
    at.session_state[SESSION_KEY] = ApiClient("http://testserver",
                                              transport=httpx.MockTransport(forward))
    at.run()
    at.switch_page("pages/2_Explore_with_a_family.py").run()
    assert not at.exception, [e.value for e in at.exception]
    categories = at.multiselect(key="ex_categories")
    assert NEW_CATEGORY_LABEL in categories.options
    assert NEW_WHEN_LABEL in at.multiselect(key="ex_when").options

    at.number_input(key="ex_age").set_value(10)
    categories.select(NEW_CATEGORY)
    at.multiselect(key="ex_when").select(NEW_WHEN)
    at.button[0].click().run()  # "Find services"
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert sent[-1]["preferences"]["categories"] == [NEW_CATEGORY]
    assert sent[-1]["preferences"]["when"] == [NEW_WHEN]
    assert list(at.table[0].value["Service"])[:1] == ["Friendship Buddies"]


# --------------------------------------------------------------------------- no copies
_SOURCES = sorted([*(REPO_ROOT / "matcher").rglob("*.py"), *(REPO_ROOT / "ui").rglob("*.py")])
_VOCAB_MODULE = REPO_ROOT / "matcher" / "vocab.py"


def _copies(tree: ast.AST) -> list[tuple[int, str, list[str]]]:
    """Literal lists of allowed values in a module: a tuple, list or set of strings (so also
    ``Literal[...]`` and argparse ``choices``), or an ``a|b|c`` regex, holding four or more
    values of one closed list (every value, for a list shorter than that). Smaller groups
    (the remote ways of delivery, the categories of one outcome) are rules, not copies, and
    tables of wording keyed by values are dicts, not counted."""
    lists = {name: set(values) for name, values in CONTRACT_VALUES.items()}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            if not node.elts or not all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                        for e in node.elts):
                continue
            words = {e.value for e in node.elts}  # type: ignore[attr-defined]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "|" in node.value:
            words = set(re.findall(r"\w+", node.value))
        else:
            continue
        for name, values in lists.items():
            hit = sorted(words & values)
            if len(hit) >= min(4, len(values)):
                found.append((node.lineno, name, hit))
    return sorted(found)


def test_no_module_keeps_its_own_list_of_allowed_values():
    copies = {}
    for path in _SOURCES:
        if path == _VOCAB_MODULE:
            continue
        hits = _copies(ast.parse(path.read_text(encoding="utf-8")))
        if hits:
            copies[str(path.relative_to(REPO_ROOT))] = hits
    assert copies == {}, ("these modules list allowed values themselves; read them from the "
                          f"vocabulary (matcher.allowed / GET /vocabularies) instead: {copies}")


def test_contract_values_are_only_the_vocabulary_guard():
    users = [str(p.relative_to(REPO_ROOT)) for p in _SOURCES
             if p != _VOCAB_MODULE and "CONTRACT_VALUES" in p.read_text(encoding="utf-8")]
    assert users == []


def test_the_copy_finder_finds_copies():
    """The checks above can fail: the old copies are found."""
    old = '''
Category = Query(pattern=r"^(education|health|social_care|short_breaks|leisure)$")
TRAVEL_MODES = ("walk", "public_transport", "car", "travel_assistance")
when: list[Literal["weekdays", "evenings", "weekends", "school_holidays", "term_time"]]
COST = ["free", "paid", "free_for_some"]
REMOTE = ("online", "phone", "home_visit")
'''
    assert [(line, name) for line, name, _ in _copies(ast.parse(old))] == [
        (2, "categories"), (3, "travel_modes"), (4, "when"), (5, "cost")]
