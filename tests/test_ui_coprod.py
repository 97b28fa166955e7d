"""The co-production pages (AppTest) over the real API in process: a parent's comment, the
editor's queue, "You said, we did", the commissioners' demand; user text shown as text."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest
from csv_support import HEADER
from ui_fake_api import HOME, run

from client import SESSION_KEY, ApiClient
import coprod_view as cv

from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.coprod.config import CoprodConfig
from matcher.ingest import run_import
from matcher.settings import Settings
from matcher.store.users import add_user

CSV = HEADER + (
    'S-001,Sensory Swim,Leisure,"Swimming for autistic children.",leisure,autism,5,16,E5 0RF,,,'
    'in_person,free,,weekends,sensory_friendly,,self,no,,,,,2025-06-01\n')
SCRIPT = "<script>alert('x')</script> **bold** [link](http://evil.example) :red[red] $x$"


@pytest.fixture
def live(tmp_path: Path, postcode_index):
    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'u.db'}",
                              demo_data_path=tmp_path / "absent.csv"), ApiConfig(refresh_seconds=0))
    app.state.coprod_config = CoprodConfig(anonymous_write_rate="1000/minute")
    store = app.state.resources.store
    run_import(CSV, store=store, progress=False)
    editor = add_user(store.engine, "eve", "editor")
    with TestClient(app) as http:
        def forward(request: httpx.Request) -> httpx.Response:
            r = http.request(request.method, request.url.path, params=request.url.params,
                             content=request.content, headers=dict(request.headers))
            return httpx.Response(r.status_code, headers=r.headers, content=r.content)

        yield forward, editor


def page(forward, path: str) -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=30)
    at.session_state[SESSION_KEY] = ApiClient("http://api.test",
                                              transport=httpx.MockTransport(forward))
    at.run()
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_plain_escapes_markdown_and_directives():
    assert cv.plain("a *b* [c](d) <e> :red[f] $g$") == (
        r"a \*b\* \[c\]\(d\) \<e\> \:red\[f\] \$g\$")
    assert cv.plain(None) == ""
    assert cv.plain("one\ntwo") == "one  \ntwo"


def test_parent_comment_editor_publishes_and_public_page_shows_it_as_text(live):
    forward, editor = live
    at = page(forward, "pages/10_Tell_us_what_you_think.py")
    at.radio(key="cp_topic_local_offer").set_value("missing")
    at.text_area(key="cp_words").input("My son Leo Park needs a quiet youth club. " + SCRIPT)
    at.radio(key="cp_who").set_value("parent")
    at.button(key="cp_send").click()
    run(at)
    assert [s.value for s in at.success] and not at.error

    ed = page(forward, "pages/12_Comments_to_review.py")
    assert [i.value for i in ed.info] == [cv.EDITORS_ONLY]
    ed.text_input(key="api_key_editor").input(editor)
    run(ed)
    shown = [m.value for m in ed.markdown]
    assert any(cv.plain(SCRIPT) in m for m in shown)          # escaped, not rendered
    cid = ed.selectbox(key="ed_pick").value
    ed.selectbox(key=f"ed_theme_{cid}").set_value("Leisure and activities")
    ed.text_area(key=f"ed_remove_{cid}").input("Leo Park")
    ed.text_area(key=f"ed_response_{cid}").input("We are starting a quiet youth club.")
    ed.button(key=f"ed_save_{cid}").click()
    run(ed)
    assert any("\\[removed\\]" in m.value and "Leo" not in m.value for m in ed.markdown
               if m.value.startswith("**What will be published"))
    ed.text_input(key=f"ed_act_{cid}").input("Quiet club on Tuesdays")
    ed.selectbox(key=f"ed_status_{cid}").set_value("planned")
    ed.button(key=f"ed_addact_{cid}").click()
    run(ed)
    ed.button(key=f"ed_pub_{cid}").click()
    run(ed)
    assert f"Comment #{cid} is published." in [s.value for s in ed.success]

    pub = page(forward, "pages/11_You_said_we_did.py")
    text = "\n".join(m.value for m in pub.markdown)
    assert "Leo" not in text
    assert cv.plain("We are starting a quiet youth club.") in text
    assert cv.plain("Quiet club on Tuesdays") in text
    assert cv.plain(SCRIPT) in text and "<script>" not in text


def test_unmet_demand_page_shows_rounded_cells_and_missing_comments(live, tmp_path):
    forward, _editor = live
    # Seven poorly served searches (nothing fits a 20-year-old here) and one comment.
    http = ApiClient("http://api.test", transport=httpx.MockTransport(forward))
    for _ in range(7):
        http.match({"age": 20, "needs": ["deaf"], "postcode": "N7 8JN"}, explain="brief")
    http.send_comment({"about": "local_offer", "topic": "missing", "words": "No deaf club"})
    at = page(forward, "pages/13_Unmet_demand.py")
    assert at.info and not at.dataframe
    from matcher.store import Store

    with Store.open(f"sqlite:///{tmp_path / 'u.db'}") as store:
        key = add_user(store.engine, "cora", "commissioner")
    at.text_input(key="api_key_commissioner").input(key)
    run(at)
    demand, missing = (d.value for d in at.dataframe)
    assert demand.to_dict("records") == [{"Need": "Hearing impairment (deaf)",
                                          "Age band": "Young adult (19-25)",
                                          "District": "N7", "Searches that found little": 5}]
    assert missing.to_dict("records") == [{"Theme": "Not yet themed", "Comments": 1}]


def test_a_reported_service_says_a_check_is_pending(live, monkeypatch):
    forward, _editor = live
    http = ApiClient("http://api.test", transport=httpx.MockTransport(forward))
    shown: list[str] = []
    monkeypatch.setattr(cv.st, "markdown", lambda text, *a, **k: shown.append(text))
    cv.check_note(http, "S-001")
    assert shown == []                                   # nothing reported yet
    http.feedback("S-001", "out_of_date")
    cv.check_note(http, "S-001")
    cv.check_note(http, "NOPE")                          # unknown service: nothing shown
    assert shown == ["*Someone told us this may be out of date or wrong: the Local Offer team "
                     "is checking it.*"]
