"""``/plans``: key workers' plans. Each key worker sees only their own; another's plan is a 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response

from matcher.api.deps import StoreDep
from matcher.api.schemas import Message, Plan, PlanContent, PlanList
from matcher.api.security import KeyWorkerUser
from matcher.plans import (
    create_plan,
    delete_plan,
    get_plan,
    list_plans,
    purge_expired,
    replace_plan,
)
from matcher.store import Store

__all__ = ["router", "plan_not_found"]


def _purge(store: StoreDep) -> Store:
    """Delete plans past their retention date before any plan is read or written."""
    purge_expired(store.engine)
    return store


PurgedStore = Annotated[Store, Depends(_purge)]

router = APIRouter(
    prefix="/plans",
    tags=["plans"],
    responses={401: {"model": Message, "description": "missing or unknown API key"},
               403: {"model": Message, "description": "the key's role is not key_worker"}},
)


def plan_not_found(plan_id: str) -> str:
    """The ``detail`` of a 404 for a plan (also for someone else's plan)."""
    return f"No plan with id '{plan_id}'."


def _not_found(plan_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=plan_not_found(plan_id))


_NOT_FOUND = {404: {"model": Message, "description": "no plan with this id is yours"}}


@router.post("", operation_id="create_plan", summary="Create a plan", status_code=201,
             response_model=Plan)
def create(body: PlanContent, user: KeyWorkerUser, store: PurgedStore) -> Plan:
    """A new plan owned by the caller. ``retain_until`` defaults to 12 months from today (the
    latest allowed); the plan is deleted after that date."""
    return create_plan(store.engine, user.name, body)


@router.get("", operation_id="list_plans", summary="The caller's plans", response_model=PlanList)
def list_(user: KeyWorkerUser, store: PurgedStore) -> dict:
    """Every plan of the caller, most recently changed first."""
    return {"plans": list_plans(store.engine, user.name)}


@router.get("/{plan_id}", operation_id="get_plan", summary="One of the caller's plans",
            response_model=Plan, responses=_NOT_FOUND)
def get(plan_id: str, user: KeyWorkerUser, store: PurgedStore) -> Plan:
    """404 ``"No plan with id 'X'."`` when there is none, or it is someone else's."""
    plan = get_plan(store.engine, user.name, plan_id)
    if plan is None:
        raise _not_found(plan_id)
    return plan


@router.put("/{plan_id}", operation_id="replace_plan", summary="Replace one of the caller's plans",
            response_model=Plan, responses=_NOT_FOUND)
def replace(plan_id: str, body: PlanContent, user: KeyWorkerUser, store: PurgedStore) -> Plan:
    """Replace the plan's content. The retention date changes only when ``retain_until`` is
    given."""
    plan = replace_plan(store.engine, user.name, plan_id, body)
    if plan is None:
        raise _not_found(plan_id)
    return plan


@router.delete("/{plan_id}", operation_id="delete_plan", summary="Delete one of the caller's plans",
               status_code=204, response_class=Response, responses=_NOT_FOUND)
def delete(plan_id: str, user: KeyWorkerUser, store: PurgedStore) -> Response:
    """Delete the plan now."""
    if not delete_plan(store.engine, user.name, plan_id):
        raise _not_found(plan_id)
    return Response(status_code=204)
