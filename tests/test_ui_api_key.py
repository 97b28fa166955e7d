"""The API key field of the staff pages (AppTest, API faked): one helper draws it on every page
that needs a key, with the same label and help for a role, and a key typed on one page is
there on the others that need the same role, for this browser session only."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

from pathlib import Path

import pytest
from ui_fake_api import ADMIN_KEY, COMMISSIONER_KEY, KEY_WORKER_KEY, open_page, run

import api_key

UI = Path(__file__).resolve().parents[1] / "ui"
#: Each page that needs a key, with the role it asks for.
PAGES = {"pages/3_Transition_plan.py": "key_worker", "pages/4_Gaps_in_provision.py":
         "commissioner", "pages/5_Directory_health.py": "admin", "pages/9_Staff.py": "admin",
         "pages/12_Comments_to_review.py": "editor", "pages/13_Unmet_demand.py": "commissioner"}


@pytest.mark.parametrize(("page", "role"), PAGES.items())
def test_every_page_asks_for_its_key_the_same_way(page, role):
    at, _ = open_page(page)
    (field,) = [t for t in at.text_input if t.label.startswith("Your API key")]
    assert field.key == api_key.widget_key(role)
    assert field.label == api_key.label(role) and field.help == api_key.help_text(role)
    assert field.proto.type == field.proto.PASSWORD
    assert any(i.value.startswith(api_key.needed(role)) for i in at.info)


def test_no_page_draws_its_own_key_field():
    """Only ui/api_key.py makes a password field: a page cannot drift from the others."""
    makers = sorted(p.relative_to(UI).as_posix() for p in UI.rglob("*.py")
                    if 'type="password"' in p.read_text(encoding="utf-8"))
    assert makers == ["api_key.py"]


def test_a_key_typed_on_one_page_is_there_on_the_others_of_its_role():
    at, _ = open_page("pages/4_Gaps_in_provision.py")
    at.text_input(key="api_key_commissioner").input(COMMISSIONER_KEY)
    run(at)
    at.switch_page("pages/13_Unmet_demand.py")
    run(at)
    assert at.text_input(key="api_key_commissioner").value == COMMISSIONER_KEY
    assert not at.info  # the page opened with the key: nothing asks for it again
    # A key of another role is not offered there.
    at.switch_page("pages/9_Staff.py")
    run(at)
    assert at.text_input(key="api_key_admin").value == ""


def test_a_key_changed_on_another_page_makes_a_page_forget_what_the_old_one_fetched():
    at, fake = open_page("pages/5_Directory_health.py")
    at.text_input(key="api_key_admin").input(KEY_WORKER_KEY)
    run(at)
    assert "Yours is for another role" in at.error[0].value
    at.switch_page("pages/9_Staff.py")
    run(at)
    at.text_input(key="api_key_admin").input(ADMIN_KEY)
    run(at)
    at.switch_page("pages/5_Directory_health.py")
    run(at)
    assert not at.error  # the report is fetched again with the admin's key
    assert at.text_input(key="api_key_admin").value == ADMIN_KEY


def test_an_unknown_role_is_refused_with_the_roles_to_use():
    with pytest.raises(ValueError, match="Unknown role 'boss': use one of key_worker"):
        api_key.label("boss")
