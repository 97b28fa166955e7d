"""The "Staff" page (AppTest, API faked): an admin key opens it; people with keys are listed
(never their keys); a new key is shown once; a key is removed only after confirming; a CSV is
imported and its report shown row by row."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_fake_api import ADMIN_KEY, KEY_WORKER_KEY, FakeApi, open_page, run

import admin_view

PAGE = "pages/9_Staff.py"


@pytest.fixture
def app() -> tuple[AppTest, FakeApi]:
    return open_page(PAGE)


def signed_in(at: AppTest, key: str = ADMIN_KEY) -> AppTest:
    at.text_input(key="api_key_admin").input(key)
    return run(at)


def test_the_page_needs_an_admin_key(app):
    at, fake = app
    assert at.text_input(key="api_key_admin").proto.type == at.text_input(key="api_key_admin").proto.PASSWORD
    assert [i.value for i in at.info] == [
        "This page is for the directory team: enter an admin API key."]
    signed_in(at, KEY_WORKER_KEY)
    assert "needs an admin API key; yours is for another role" in at.error[0].value
    assert "ad_add" not in [b.key for b in at.button]


def test_people_are_listed_and_a_new_key_is_shown_once(app):
    at, fake = app
    signed_in(at)
    table = at.dataframe[0].value
    assert list(table["Name"]) == ["ada", "kim"]
    assert list(table["Can do"])[1] == "Key worker: their own transition plans"
    at.text_input(key="ad_name").input("sam")
    at.selectbox(key="ad_role").select("commissioner")
    at.button(key="ad_add").click()
    run(at)
    assert fake.requests("POST", "/admin/users") == [{"name": "sam", "role": "commissioner"}]
    assert "Made a key for **sam** (Commissioner)" in at.success[0].value
    assert "it cannot be shown again" in at.success[0].value
    assert [c.value for c in at.code] == ["mk_new_sam"]
    at.button(key="ad_hide").click()
    run(at)
    assert [c.value for c in at.code] == []
    assert list(at.dataframe[0].value["Name"]) == ["ada", "kim", "sam"]


def test_a_missing_name_or_role_and_a_taken_name_are_explained(app):
    at, fake = app
    signed_in(at)
    at.button(key="ad_add").click()
    run(at)
    assert at.error[0].value == ("**There is a problem**\n\n- Enter a name for the new key "
                                 "holder, for example alex.key-worker\n- Choose what the key "
                                 "lets them do")
    at.text_input(key="ad_name").input("kim")
    at.selectbox(key="ad_role").select("key_worker")
    at.button(key="ad_add").click()
    run(at)
    assert "There is already a user called 'kim'." in at.error[0].value


def test_a_key_is_removed_only_after_confirming(app):
    at, fake = app
    signed_in(at)
    at.selectbox(key="ad_remove_who").select("kim")
    run(at)
    at.button(key="ad_remove").click()
    run(at)
    assert "**Remove kim?** Their key stops working at once" in at.warning[0].value
    at.button(key="ad_remove_no").click()
    run(at)
    assert "kim" in fake.users and not at.warning
    at.button(key="ad_remove").click()
    run(at)
    at.button(key="ad_remove_yes").click()
    run(at)
    assert "kim" not in fake.users
    assert [s.value for s in at.success] == ["Removed kim. Their key no longer works."]


def test_import_report_lists_every_rejected_row_with_its_fix():
    report = {"rows_read": 3, "accepted": 2, "added": 1, "updated": 0, "unchanged": 1,
              "rejected": 1, "services": 7, "imported": True,
              "problems": [{"row": 3, "column": "min_age", "value": "ten",
                            "problem": "not a number", "fix": "Write it in figures"}]}
    assert admin_view.report_summary(report) == (
        "Read 3 rows: 2 imported (1 new, 0 changed, 1 unchanged), 1 rejected. The directory "
        "now holds 7 services.")
    frame = admin_view.report_frame(report["problems"])
    assert frame.to_dict("records") == [{"Row": 3, "Column": "min_age", "Value": "ten",
                                         "Problem": "not a number",
                                         "How to fix it": "Write it in figures"}]
    refused = {"rows_read": 0, "rejected": 0, "imported": False}
    assert admin_view.report_summary(refused).startswith("Nothing was imported.")


def test_importing_without_a_file_says_what_to_do(app):
    at, fake = app
    signed_in(at)
    at.button(key="ad_import").click()
    run(at)
    assert "Choose a CSV file to import" in at.error[0].value
    assert fake.requests("POST", "/import") == []


def test_the_client_uploads_the_file_and_returns_the_report_or_the_refusal():
    import httpx

    from client import ApiClient, ApiError

    fake = FakeApi()
    client = ApiClient("http://api.test", transport=httpx.MockTransport(fake))
    report = client.import_file(ADMIN_KEY, "offer.csv", b"id,name,min_age\nA,B,ten\n",
                                strict=True)
    assert report["rejected"] == 1 and report["problems"][0]["column"] == "min_age"
    assert fake.uploads[0][0] == "offer.csv" and fake.uploads[0][2] == "true"
    assert b"A,B,ten" in fake.uploads[0][1]
    with pytest.raises(ApiError) as refused:
        client.import_file(ADMIN_KEY, "x.csv", b"unusable")
    assert refused.value.status == 422 and refused.value.report["fatal"] is True
    assert refused.value.message == "Nothing was imported from x.csv: it has no header row."


def test_a_feed_is_imported_by_its_address_and_its_report_shown(app):
    at, fake = app
    signed_in(at)
    at.button(key="ad_import_feed").click()
    run(at)
    assert "Enter the feed's address" in at.error[0].value
    assert fake.requests("POST", "/import/feed") == []
    at.text_input(key="ad_feed_url").input("directory.example.org/api/services")
    at.button(key="ad_import_feed").click()
    run(at)
    assert "is not a web address" in at.error[0].value
    at.text_input(key="ad_feed_url").input("https://offline.example.org/api/services")
    at.button(key="ad_import_feed").click()
    run(at)
    assert "Could not reach https://offline.example.org/api/services" in at.error[0].value
    at.text_input(key="ad_feed_url").input("https://directory.example.org/api/services")
    at.checkbox(key="ad_feed_strict").check()
    at.button(key="ad_import_feed").click()
    run(at)
    assert fake.requests("POST", "/import/feed")[-1] == {
        "url": "https://directory.example.org/api/services", "strict": True}
    assert not at.error
    assert any(m.value.startswith("Read 4 rows: 3 imported (3 new, 0 changed, 0 unchanged), "
                                  "1 rejected.") for m in at.markdown)
    report = at.dataframe[-1].value
    assert list(report["Problem"]) == ["adults only"] and list(report["Row"]) == [2]
