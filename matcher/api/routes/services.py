"""``GET /services`` (filtered, paged) and ``GET /services/{service_id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from matcher.allowed import Category as CategoryValue
from matcher.api.deps import DirectoryDep, StoreDep, VocabularyDep
from matcher.api.schemas import Message, ServiceDetail, ServicePage
from matcher.engine.beliefs import service_beliefs
from matcher.services import ServiceRecord

__all__ = ["router", "not_found_message", "filter_services"]

router = APIRouter(tags=["services"])

Category = Annotated[
    CategoryValue | None,
    Query(description="only services in this category: a categories value of the vocabulary "
                      "(GET /vocabularies), e.g. leisure"),
]


def not_found_message(service_id: str) -> str:
    """The ``detail`` of a 404 for a service id."""
    return f"No service with id '{service_id}'."


def filter_services(records: list[ServiceRecord], *, category: str | None = None,
                    needs: set[str] | None = None, age: int | None = None,
                    q: str | None = None) -> list[ServiceRecord]:
    """The records that pass every given filter, in their given order.

    ``needs``: canonical ids (and broad areas ``area:x``) of which a service must list at least
    one, or say ``all_send``. ``age``: inside the service's range (an unstated end is open).
    ``q``: case-insensitive words, each found in the name, organisation or description.
    """
    words = q.lower().split() if q else []
    out = []
    for r in records:
        if category and category not in r.categories:
            continue
        if needs is not None and not (needs & set(r.needs) or "all_send" in r.needs):
            continue
        if age is not None and ((r.min_age is not None and age < r.min_age)
                                or (r.max_age is not None and age > r.max_age)):
            continue
        if words:
            text = f"{r.name}\n{r.organisation}\n{r.description}".lower()
            if not all(w in text for w in words):
                continue
        out.append(r)
    return out


@router.get(
    "/services",
    operation_id="list_services",
    summary="List the directory's services, filtered and paged",
    response_model=ServicePage,
)
def list_services(
    directory: DirectoryDep,
    vocab: VocabularyDep,
    category: Category = None,
    need: Annotated[str | None, Query(max_length=200, description="a need in anyone's words, "
                                      "e.g. 'autism' or 'ASD'")] = None,
    age: Annotated[int | None, Query(ge=0, le=25, description="child's age in years")] = None,
    q: Annotated[str | None, Query(max_length=200, description="words in the name, "
                                   "organisation or description")] = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="page number, from 1")] = 1,
    size: Annotated[int, Query(ge=1, le=100, description="services per page, at most 100")] = 20,
) -> dict:
    """Services ordered by id. ``need`` is normalised like a family's words: a service matches
    when it lists that need, its broad area, or all SEND. A need word we do not recognise is a
    422 naming the field ``need``."""
    wanted: set[str] | None = None
    if need is not None and need.strip():
        from fastapi.exceptions import RequestValidationError

        found = vocab.normalise([need.strip()])
        if not found.needs:
            raise RequestValidationError([{
                "type": "value_error", "loc": ("query", "need"),
                "msg": "need is not a need we recognise: try another word, or see "
                       "GET /vocabularies for the needs we know"}])
        wanted = set()
        for nid in found.needs:
            wanted.add(nid)
            if nid in vocab.needs:
                wanted.update(f"area:{a}" for a in vocab.needs[nid].areas)
    items = filter_services(directory.records, category=category, needs=wanted, age=age, q=q)
    start = (page - 1) * size
    return {"total": len(items), "page": page, "size": size,
            "items": [r.to_dict() for r in items[start:start + size]]}


@router.get(
    "/services/{service_id}",
    operation_id="get_service",
    summary="Everything stored about one service",
    response_model=ServiceDetail,
    responses={404: {"model": Message, "description": "no service with this id"}},
)
def get_service(service_id: str, store: StoreDep, vocab: VocabularyDep) -> dict:
    """The service's normalised record, the facts read from its words (each with its quote)
    and what the engine believes about it: effective ages, audience, needs, delivery, cost,
    each marked stated / read / suggested / unknown. 404 ``"No service with id 'X'."`` when
    there is none."""
    record = store.get_service(service_id)
    if record is None:
        raise HTTPException(status_code=404, detail=not_found_message(service_id))
    return {**record.to_dict(), "beliefs": service_beliefs(record, vocab)}
