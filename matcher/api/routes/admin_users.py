"""``/admin/users`` (admin): the people who hold API keys, for the staff page.

A new user's key is in the answer of ``POST /admin/users`` and nowhere else: only its hash is
stored, so it can never be shown again. Removing a user revokes their key at once. An admin
cannot remove themselves here, so the last way in is never closed by a slip of the mouse.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from matcher.api.deps import StoreDep
from matcher.api.schemas import Message
from matcher.api.security import AdminUser
from matcher.errors import ConfigError
from matcher.store.users import add_user, list_users, remove_user

__all__ = ["router", "NewUser", "UserOut", "UserList", "CreatedUser"]

router = APIRouter(
    prefix="/admin/users", tags=["admin"],
    responses={401: {"model": Message, "description": "missing or unknown API key"},
               403: {"model": Message, "description": "the key's role is not admin"}})


class NewUser(BaseModel):
    """Who gets a key, and what it lets them do."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=100,
                      description="a name or team the council recognises, e.g. 'alex.key-worker'")
    role: Literal["key_worker", "commissioner", "admin"]


class UserOut(BaseModel):
    """A key holder (never their key)."""

    name: str
    role: str
    created_at: dt.datetime | None = None


class UserList(BaseModel):
    users: list[UserOut]


class CreatedUser(UserOut):
    """A new key holder with their key: shown this once only."""

    api_key: str = Field(..., description="send as the X-API-Key header; it cannot be shown "
                                          "again, only replaced by removing and adding the user")


@router.get("", operation_id="list_users", summary="Users and their roles (admin)",
            response_model=UserList)
def list_(user: AdminUser, store: StoreDep) -> dict:
    return {"users": [UserOut(name=u.name, role=u.role, created_at=u.created_at)
                      for u in list_users(store.engine)]}


@router.post("", operation_id="create_user", summary="Make a user and their API key (admin)",
             status_code=201, response_model=CreatedUser, responses={409: {"model": Message}})
def create(body: NewUser, user: AdminUser, store: StoreDep) -> CreatedUser:
    try:
        key = add_user(store.engine, body.name, body.role)
    except ConfigError as exc:
        raise HTTPException(status_code=409, detail=str(exc).replace(
            "matcher users remove", "Remove it first, or on the command line: "
            "matcher users remove")) from exc
    made = next(u for u in list_users(store.engine) if u.name == body.name.strip())
    return CreatedUser(name=made.name, role=made.role, created_at=made.created_at, api_key=key)


@router.delete("/{name}", operation_id="remove_user", summary="Remove a user; their key stops "
               "working (admin)", status_code=204, response_class=Response,
               responses={404: {"model": Message}, 409: {"model": Message}})
def remove(name: str, user: AdminUser, store: StoreDep) -> Response:
    if name == user.name:
        raise HTTPException(status_code=409, detail="You cannot remove your own key here: ask "
                                                    "another admin, or use the command line.")
    if not remove_user(store.engine, name):
        raise HTTPException(status_code=404, detail=f"There is no user called '{name}'.")
    return Response(status_code=204)
