"""``/admin/users``: admins list, add and remove key holders from the staff page; a new key is
shown once and works at once; a removed key stops at once; no one else may do this."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from matcher.api.app import create_app
from matcher.api.deps import ApiConfig
from matcher.settings import Settings
from matcher.store.users import add_user, list_users


@pytest.fixture
def api(tmp_path) -> Iterator[SimpleNamespace]:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.sqlite'}",
                        demo_data_path=tmp_path / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0))
    store = app.state.resources.store
    keys = {"ada": add_user(store.engine, "ada", "admin"),
            "kim": add_user(store.engine, "kim", "key_worker")}
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, store=store, keys=keys)


def as_(api, who: str) -> dict[str, str]:
    return {"X-API-Key": api.keys[who]}


def test_admin_adds_a_user_whose_key_works_at_once_and_is_never_listed(api):
    r = api.client.post("/admin/users", json={"name": "cora", "role": "commissioner"},
                        headers=as_(api, "ada"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["name"], made["role"]) == ("cora", "commissioner")
    assert made["api_key"].startswith("mk_")
    assert api.client.get("/gaps", params={"districts": "N7"},
                          headers={"X-API-Key": made["api_key"]}).status_code != 401
    listed = api.client.get("/admin/users", headers=as_(api, "ada")).json()["users"]
    assert [(u["name"], u["role"]) for u in listed] == [
        ("ada", "admin"), ("cora", "commissioner"), ("kim", "key_worker")]
    assert made["api_key"] not in str(listed)


def test_a_taken_name_or_an_unknown_role_is_refused_plainly(api):
    r = api.client.post("/admin/users", json={"name": "kim", "role": "key_worker"},
                        headers=as_(api, "ada"))
    assert r.status_code == 409
    assert r.json()["detail"].startswith("There is already a user called 'kim'.")
    r = api.client.post("/admin/users", json={"name": "x", "role": "boss"},
                        headers=as_(api, "ada"))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "role"


def test_removing_a_user_revokes_their_key_and_an_admin_cannot_remove_themselves(api):
    r = api.client.delete("/admin/users/kim", headers=as_(api, "ada"))
    assert r.status_code == 204
    assert api.client.get("/plans", headers=as_(api, "kim")).status_code == 401
    r = api.client.delete("/admin/users/kim", headers=as_(api, "ada"))
    assert (r.status_code, r.json()["detail"]) == (404, "There is no user called 'kim'.")
    r = api.client.delete("/admin/users/ada", headers=as_(api, "ada"))
    assert r.status_code == 409 and "cannot remove your own key" in r.json()["detail"]
    assert [u.name for u in list_users(api.store.engine)] == ["ada"]


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("kim", 403)])
def test_only_admins_may_see_or_change_users(api, who, status):
    headers = as_(api, who) if who else {}
    assert api.client.get("/admin/users", headers=headers).status_code == status
    assert api.client.post("/admin/users", json={"name": "z", "role": "admin"},
                           headers=headers).status_code == status
    assert api.client.delete("/admin/users/ada", headers=headers).status_code == status
    assert len(list_users(api.store.engine)) == 2
