"""The "Transition plan" page (AppTest, API faked): the API key, saving, reopening, the
statutory dates, grouping by need and by preparing-for-adulthood outcome, the export."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_fake_api import COMMISSIONER_KEY, KEY_WORKER_KEY, VOCAB, FakeApi, open_page, run

import export
import planning
from content import Labels

PAGE = "pages/3_Transition_plan.py"


@pytest.fixture
def app() -> tuple[AppTest, FakeApi]:
    return open_page(PAGE)


def signed_in(at: AppTest) -> AppTest:
    at.text_input(key="api_key_key_worker").input(KEY_WORKER_KEY)
    return run(at)


def fill_plan(at: AppTest) -> None:
    at.text_input(key="tp_label").input("JB-014")
    at.selectbox(key="tp_move").select("y11_post16")
    at.number_input(key="tp_year").set_value(2028)  # not the default year, to test reopening
    at.number_input(key="tp_age").set_value(16)
    at.checkbox(key="tp_ehcp").check()
    at.checkbox(key="tp_needs_autism").check()
    run(at)


def test_key_is_asked_for_in_a_password_field(app):
    at, fake = app
    assert at.text_input(key="api_key_key_worker").proto.type == at.text_input(key="api_key_key_worker").proto.PASSWORD
    assert [i.value for i in at.info] == ["This page is for key workers: enter a key worker API key. With it you can open and save your plans."]
    assert fake.requests("GET", "/plans") == []


@pytest.mark.parametrize(("key", "message"), [
    ("nonsense", "That API key was not recognised."),
    (COMMISSIONER_KEY, "This key cannot use plans: plans are for the key worker role."),
])
def test_a_key_that_cannot_use_plans_is_explained(app, key, message):
    at, _ = app
    at.text_input(key="api_key_key_worker").input(key)
    run(at)
    (error,) = [e.value for e in at.error]
    assert error.startswith("**There is a problem**\n\n- " + message)
    assert "tp_label" not in [t.key for t in at.text_input]


def test_key_dates_follow_the_statutory_deadlines(app):
    at, _ = app
    signed_in(at)
    at.selectbox(key="tp_move").select("y6_y7")
    at.number_input(key="tp_year").set_value(2027)
    at.checkbox(key="tp_ehcp").check()
    run(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "**15 February 2027**: EHC plan amended, naming the new school or setting " \
        "(statutory)" in text
    at.checkbox(key="tp_ehcp").uncheck()
    run(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "15 February" not in text
    assert "**31 October 2026**: Apply for a secondary school place" in text
    at.selectbox(key="tp_move").select("y11_post16")
    at.checkbox(key="tp_ehcp").check()
    run(at)
    assert "**31 March 2027**: EHC plan amended, naming the post-16 setting (statutory)" in \
        "\n".join(m.value for m in at.markdown)


def test_services_are_grouped_by_need_and_by_outcome(app):
    at, fake = app
    signed_in(at)
    fill_plan(at)
    at.button(key="tp_find").click()
    run(at)
    (sent,) = fake.requests("POST", "/match")
    assert sent["who"] == "key_worker" and sent["transition"] == "secondary_to_post16"
    assert sent["age"] == 16 and sent["has_ehcp"] is True and sent["needs"] == ["autism"]
    by_need, by_outcome = at.tabs
    assert [m.value for m in by_need.markdown if m.value.startswith("**")] == [
        "**Autism**", "**Open to any SEND**", "**Other suggestions**"]
    outcomes = [m.value for m in by_outcome.markdown if m.value.startswith("**")]
    # Nothing at 16 serves independent living here, so that outcome is left out.
    assert outcomes == ["**Employment and further or higher education**",
                        "**Friends, relationships and community**",
                        "**Being as healthy as possible**"]


def test_plan_is_saved_and_reopened(app):
    at, fake = app
    signed_in(at)
    fill_plan(at)
    at.button(key="tp_find").click()
    run(at)
    at.button(key="tp_n0_T-1").click()  # add Saturday Sensory Swim (the Autism group)
    run(at)
    at.text_input(key="tp_note_T-1").input("Ask about quiet sessions")
    run(at)
    at.button(key="tp_add_dates").click()
    run(at)
    at.text_input(key="tp_new_action").input("Visit the college open day")
    at.text_input(key="tp_new_owner").input("SENCo")
    at.button(key="tp_add_step").click()
    run(at)
    at.button(key="tp_save").click()
    run(at)
    assert [s.value for s in at.success] == [
        "Saved plan JB-014. It will be deleted after 2027-11-01 unless you delete it sooner."]
    (saved,) = fake.plans.values()
    assert saved["label"] == "JB-014" and saved["transition"] == "secondary_to_post16"
    assert saved["services"] == [{"service_id": "T-1", "note": "Ask about quiet sessions",
                                  "reasons": ["Supports autism: you mentioned autism",
                                              "For ages 5 to 16; your child is 16",
                                              "About 10 minutes by bus", "Free"]}]
    assert (saved["move"], saved["move_year"]) == ("y11_post16", 2028)
    assert [(s["action"][:40], s["due"], s["owner"]) for s in saved["next_steps"]] == [
        ("EHC plan amended, naming the post-16 set", "2028-03-31", ""),
        ("Post-16 transport policy published: appl", "2028-05-31", ""),
        ("Visit the college open day", None, "SENCo")]
    assert saved["profile"]["age"] == 16

    # Start afresh, then reopen the saved plan from the list.
    at.button(key="tp_new").click()
    run(at)
    assert at.text_input(key="tp_label").value == ""
    at.selectbox(key="tp_pick").select("P-1")
    run(at)
    at.button(key="tp_open").click()
    run(at)
    assert at.text_input(key="tp_label").value == "JB-014"
    assert at.selectbox(key="tp_move").value == "y11_post16"
    assert at.number_input(key="tp_year").value == 2028
    assert at.number_input(key="tp_age").value == 16
    assert at.checkbox(key="tp_needs_autism").value is True
    assert at.session_state["tp_needs"] == ["autism"]
    assert at.text_input(key="tp_note_T-1").value == "Ask about quiet sessions"
    assert "Opened plan JB-014." in at.success[0].value

    # Saving again replaces the same plan.
    at.checkbox(key=f"tp_done_{at.session_state['tp_steps'][2]['uid']}").check()
    run(at)
    at.button(key="tp_save").click()
    run(at)
    assert len(fake.plans) == 1
    assert fake.requests("PUT", "/plans/P-1")[0]["next_steps"][2]["done"] is True


def test_label_must_be_given_and_must_not_identify(app):
    at, fake = app
    signed_in(at)
    at.button(key="tp_save").click()
    run(at)
    assert "Enter a label: initials or your case reference, never a name" in at.error[0].value
    at.text_input(key="tp_label").input("jo@example.org")
    at.button(key="tp_save").click()
    run(at)
    assert "label must not contain an e-mail address" in at.error[0].value
    assert fake.plans == {}


def test_plan_can_be_downloaded_as_a_page(app):
    at, _ = app
    signed_in(at)
    fill_plan(at)
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["Download printable plan (web page)"]


def test_key_and_plan_survive_a_visit_to_another_page(app):
    at, _ = app
    signed_in(at)
    fill_plan(at)
    at.switch_page("Home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.text_input(key="api_key_key_worker").value == KEY_WORKER_KEY
    assert at.text_input(key="tp_label").value == "JB-014"
    assert at.number_input(key="tp_age").value == 16


def test_a_plan_is_deleted_only_after_confirming(app):
    at, fake = app
    signed_in(at)
    fill_plan(at)
    at.button(key="tp_save").click()
    run(at)
    assert "tp_delete" in [b.key for b in at.button]
    at.button(key="tp_delete").click()
    run(at)
    assert "**Delete plan JB-014?** It is deleted for good" in at.warning[0].value
    at.button(key="tp_delete_no").click()
    run(at)
    assert len(fake.plans) == 1 and not at.warning
    at.button(key="tp_delete").click()
    run(at)
    assert at.button(key="tp_delete_yes").label == "Yes, delete plan JB-014"
    at.button(key="tp_delete_yes").click()
    run(at)
    assert fake.plans == {}
    assert [s.value for s in at.success] == ["Deleted plan JB-014. It cannot be opened again."]
    assert at.text_input(key="tp_label").value == ""
    assert "tp_delete" not in [b.key for b in at.button]  # nothing open to delete


def test_a_move_has_one_name_in_the_list_the_form_and_the_printout(app):
    at, fake = app
    signed_in(at)
    fill_plan(at)
    at.selectbox(key="tp_move").select("post16_move")
    run(at)
    at.button(key="tp_save").click()
    run(at)
    at.button(key="tp_new").click()
    run(at)
    name = "Moving between post-16 settings"
    assert at.selectbox(key="tp_pick").options[1] == f"JB-014 ({name}, 2028)"
    at.selectbox(key="tp_pick").select("P-1")
    run(at)
    at.button(key="tp_open").click()
    run(at)
    assert at.selectbox(key="tp_move").value == "post16_move"
    assert at.selectbox(key="tp_move").format_func("post16_move") == name
    (saved,) = fake.plans.values()
    html = export.plan_html(saved, {}, Labels(VOCAB), [], "SENDIASS")
    assert f"Move: {name}, September 2028" in html


def test_services_of_the_stage_being_left_and_assessment_requests_are_left_out():
    results = [{"name": "Hill School (11 to 16)", "categories": ["education"], "max_age": 16},
               {"name": "Hill Sixth Form", "categories": ["education"], "max_age": 19},
               {"name": "Request an EHC Needs Assessment", "categories": ["assessment"],
                "max_age": 25},
               {"name": "Youth Club", "categories": ["leisure"], "max_age": 16}]
    kept, notes = planning.for_plan(results, "y11_post16", has_ehcp=True)
    assert [r["name"] for r in kept] == ["Hill Sixth Form", "Youth Club"]
    assert notes == [
        "Left out because they are schools or settings of the stage being left: "
        "Hill School (11 to 16).",
        "Left out because the young person already has an EHC plan: "
        "Request an EHC Needs Assessment."]
    kept, notes = planning.for_plan(results, "y9_pfa", has_ehcp=False)
    assert len(kept) == 4 and notes == []
