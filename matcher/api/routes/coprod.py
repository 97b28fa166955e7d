"""Co-production routes: comments, moderation, "You said, we did", directory tasks, demand.

Public (no key, rate limited per client): ``POST /comments``, ``GET /you-said-we-did``,
``GET /you-said-we-did/annual.csv``, ``GET /services/{id}/check``. Council staff (``editor`` or
``admin``): the moderation queue, responses, actions and directory tasks. Commissioners
(``commissioner`` or ``admin``): ``GET /demand``, where small counts are never shown.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from matcher.api.deps import DirectoryDep, StoreDep
from matcher.api.ratelimit import (
    CoprodConfigDep,
    client_id,
    get_rate_limits,
    limit_anonymous_writes,
)
from matcher.api.routes.services import not_found_message
from matcher.api.schemas import Message
from matcher.api.security import CommissionerUser, EditorUser
from matcher.coprod import comments as cm
from matcher.coprod.config import get_coprod_config
from matcher.coprod.demand import demand_cells, record_demand
from matcher.errors import StoreUnavailableError
from matcher.gaps.config import load_gaps_config

__all__ = ["router", "count_demand", "RECEIVED", "HONEYPOT_FIELD"]

log = logging.getLogger("matcher.api")

router = APIRouter(tags=["co-production"])

#: The message every accepted comment gets (also one caught by the honeypot).
RECEIVED = ("Thank you. The Local Offer team reads every comment. If it is published, personal "
            "details are taken out first, and the team's answer is shown with it on the "
            "'You said, we did' page.")
#: A field people never see or fill in; a form that fills it is a robot's.
HONEYPOT_FIELD = "website"

_STAFF = {401: {"model": Message}, 403: {"model": Message}}
_NOT_FOUND = {404: {"model": Message}}


# --------------------------------------------------------------------------- schemas
class CommentIn(BaseModel):
    """A comment from a parent, young person or practitioner. Anonymous: no name is asked."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"about": "local_offer", "topic": "missing", "who": "parent",
         "words": "There is no autism-friendly swimming for teenagers near us."}]})

    about: cm.About
    topic: cm.ServiceTopic | cm.OfferTopic = Field(
        description="on a service: out_of_date, wrong, helpful, not_helpful, other; on the Local "
                    "Offer: content, accessibility, missing, how_it_works, other")
    service_id: str | None = Field(None, min_length=1, max_length=200)
    who: cm.Who = "not_said"
    words: str = Field("", max_length=20_000, description="what you want to tell us")
    contact: str | None = Field(None, max_length=320,
                                description="optional: an email or phone number to reply to, "
                                            "kept apart from the comment and deleted later")
    website: str | None = Field(None, max_length=200,
                                description="leave empty (a field that robots fill in)")


class CommentReceipt(BaseModel):
    received: bool
    message: str


class ActionOut(BaseModel):
    id: int
    description: str
    status: cm.ActionStatus
    reason: str = ""
    service_ids: list[str] = []
    updated_on: dt.date


class PublishedComment(BaseModel):
    """A published comment: its redacted words, the council's response and actions."""

    id: int
    received: str = Field(description="month and year it was received")
    about: cm.About
    service_id: str | None
    topic: str
    topic_label: str
    who: str
    theme: str | None
    comment: str
    response: str
    responded_on: dt.date | None
    published_on: dt.date | None
    actions: list[ActionOut]


class YouSaidWeDid(BaseModel):
    comments: list[PublishedComment]
    themes: list[str]


class StaffComment(BaseModel):
    """A comment as council staff see it (its words until it is decided)."""

    id: int
    created_on: dt.date
    about: cm.About
    service_id: str | None
    topic: str
    who: str
    words: str
    status: Literal["new", "published", "not_published"]
    theme: str | None
    published_words: str | None
    response: str | None
    responded_on: dt.date | None
    published_on: dt.date | None
    contact: str | None
    actions: list[ActionOut]


class CommentQueue(BaseModel):
    comments: list[StaffComment]
    themes: list[str]


class Moderation(BaseModel):
    """Any of: a theme, phrases to remove, edited words, a response, a decision."""

    model_config = ConfigDict(extra="forbid")

    theme: str | None = Field(None, max_length=80)
    remove: list[str] = Field(default_factory=list, max_length=50,
                              description="phrases to take out (names, schools, streets)")
    edited_words: str | None = Field(None, max_length=20_000)
    response: str | None = Field(None, max_length=5_000)
    decision: Literal["publish", "not_publish"] | None = None


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(..., min_length=1, max_length=2_000)
    status: cm.ActionStatus
    reason: str = Field("", max_length=2_000)
    service_ids: list[str] = Field(default_factory=list, max_length=50)


class ActionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: cm.ActionStatus
    reason: str = Field("", max_length=2_000)


class Created(BaseModel):
    id: int


class ServiceCheck(BaseModel):
    service_id: str
    last_checked: dt.date | None = Field(description="the record's review day or the day the "
                                                     "directory team last checked it")
    check_pending: bool = Field(description="someone said it is out of date or wrong and the "
                                            "team has not checked it yet")
    open_reports: int


class DirectoryTask(BaseModel):
    id: int
    service_id: str
    name: str | None
    kind: Literal["out_of_date", "wrong"]
    reports: int
    status: Literal["open", "done"]
    note: str
    created_on: dt.date
    closed_on: dt.date | None
    comment_id: int | None
    said: str


class DirectoryTasks(BaseModel):
    tasks: list[DirectoryTask]


class TaskDone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2_000)


class DemandCell(BaseModel):
    need: str | None = None
    need_label: str | None = None
    band: str | None = None
    band_label: str | None = None
    district: str | None = None
    month: str | None = None
    searches: int = Field(description="rounded; cells under the minimum are never shown")


class MissingTheme(BaseModel):
    theme: str
    comments: int


class DemandAnswer(BaseModel):
    cells: list[DemandCell]
    min_count: int
    round_to: int
    threshold: float
    missing_by_theme: list[MissingTheme]
    notes: list[str]


# --------------------------------------------------------------------------- helpers
def _problem(field: str, message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=[
        {"field": field, "message": f"{field}: {message}", "type": "value_error"}])


def _bad(exc: cm.CommentError) -> HTTPException:
    return HTTPException(status_code=422, detail=[
        {"field": "body", "message": str(exc), "type": "value_error"}])


# --------------------------------------------------------------------------- public
@router.post(
    "/comments",
    operation_id="send_comment",
    summary="Comment on a service or on the Local Offer (anonymous)",
    status_code=201,
    response_model=CommentReceipt,
    responses={404: {"model": Message}, 429: {"model": Message}},
    dependencies=[Depends(limit_anonymous_writes)],
)
def send_comment(body: CommentIn, store: StoreDep, directory: DirectoryDep,
                 config: CoprodConfigDep) -> dict:
    """Stores what the comment is about, its topic, who sent it (if said), the day and the
    words; a contact address apart, deleted after ``contact_days``. Nothing is published until
    council staff have taken out personal details and written a response."""
    if body.website:  # the honeypot: answered like any other, stored nowhere
        return {"received": True, "message": RECEIVED}
    if len(body.words) > config.max_words_chars:
        raise _problem("words", f"write at most {config.max_words_chars} characters "
                                f"(this has {len(body.words)}); send the rest in another comment")
    service_topics, offer_topics = set(cm.SERVICE_TOPICS), set(cm.OFFER_TOPICS)
    if body.about == "service":
        if not body.service_id:
            raise _problem("service_id", "say which service the comment is about")
        if body.topic not in service_topics:
            raise _problem("topic", f"a comment on a service has one of these topics: "
                                    f"{', '.join(cm.SERVICE_TOPICS)}")
        if body.service_id not in directory.by_id:
            raise HTTPException(status_code=404, detail=not_found_message(body.service_id))
    elif body.topic not in offer_topics:
        raise _problem("topic", f"a comment on the Local Offer has one of these topics: "
                                f"{', '.join(cm.OFFER_TOPICS)}")
    if not body.words.strip() and body.topic in ("missing", "content", "accessibility",
                                                 "how_it_works", "other", "wrong"):
        raise _problem("words", "tell us in a few words what you mean")
    cm.purge_contacts(store.engine)
    cm.add_comment(store.engine, about=body.about, topic=body.topic, words=body.words,
                   who=body.who, service_id=body.service_id, contact=body.contact,
                   contact_days=config.contact_days)
    return {"received": True, "message": RECEIVED}


@router.get(
    "/you-said-we-did",
    operation_id="you_said_we_did",
    summary="Published comments with the council's responses and actions",
    response_model=YouSaidWeDid,
)
def you_said_we_did(
    store: StoreDep, config: CoprodConfigDep,
    theme: Annotated[str | None, Query(max_length=80)] = None,
    topic: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[dt.date | None, Query(description="published on or after (YYYY-MM-DD)")
                     ] = None,
    until: Annotated[dt.date | None, Query(description="published on or before (YYYY-MM-DD)")
                     ] = None,
) -> dict:
    """Every published comment (personal details taken out), newest first."""
    return {"comments": cm.published_comments(store.engine, theme=theme, topic=topic,
                                              since=since, until=until),
            "themes": list(config.themes)}


def _period(year: int | None, since: dt.date | None, until: dt.date | None
            ) -> tuple[dt.date, dt.date]:
    if year is not None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    until = until or dt.datetime.now(dt.UTC).date()
    if since is None:
        # The year up to ``until`` (from the first day there is, for an ``until`` in year 1).
        since = (until - dt.timedelta(days=365) if until.toordinal() > 365
                 else dt.date.min)
    return since, until


@router.get(
    "/you-said-we-did/annual.csv",
    operation_id="you_said_we_did_annual_csv",
    summary="The annual review export: published comments, responses and actions as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def annual_export(
    store: StoreDep,
    year: Annotated[int | None, Query(ge=2014, le=2100, description="a calendar year")] = None,
    since: Annotated[dt.date | None, Query()] = None,
    until: Annotated[dt.date | None, Query()] = None,
) -> Response:
    """Default period: the last 365 days. Cells starting with = + - @ are prefixed with '."""
    start, end = _period(year, since, until)
    text = cm.annual_csv(store.engine, since=start, until=end)
    name = f"you-said-we-did-{start.isoformat()}-to-{end.isoformat()}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/services/{service_id}/check",
    operation_id="service_check",
    summary="When a service was last checked and whether a check is pending",
    response_model=ServiceCheck,
    responses=_NOT_FOUND,
)
def service_check(service_id: str, store: StoreDep, directory: DirectoryDep) -> dict:
    record = directory.by_id.get(service_id)
    if record is None:
        raise HTTPException(status_code=404, detail=not_found_message(service_id))
    reviewed = record.last_reviewed
    if isinstance(reviewed, str):
        reviewed = dt.date.fromisoformat(reviewed)
    return cm.service_check(store.engine, service_id, reviewed)


# --------------------------------------------------------------------------- council staff
@router.get("/comments", operation_id="comment_queue", response_model=CommentQueue,
            summary="Comments to moderate (editor or admin)", responses=_STAFF)
def comment_queue(
    store: StoreDep, config: CoprodConfigDep, _user: EditorUser,
    status: Annotated[Literal["new", "published", "not_published", "all"], Query()] = "new",
) -> dict:
    cm.purge_contacts(store.engine)  # contact addresses past their day go before anyone looks
    return {"comments": cm.comment_queue(store.engine, status=None if status == "all" else status),
            "themes": list(config.themes)}


@router.get("/comments/{comment_id}", operation_id="get_comment", response_model=StaffComment,
            summary="One comment as staff see it (editor or admin)",
            responses={**_STAFF, **_NOT_FOUND})
def get_comment(comment_id: int, store: StoreDep, _user: EditorUser) -> dict:
    try:
        return cm.get_comment(store.engine, comment_id, staff=True)
    except cm.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


@router.patch("/comments/{comment_id}", operation_id="moderate_comment",
              response_model=StaffComment, responses={**_STAFF, **_NOT_FOUND},
              summary="Theme, redact, respond to and publish (or not) a comment (editor or admin)")
def moderate_comment(comment_id: int, body: Moderation, store: StoreDep,
                     config: CoprodConfigDep, user: EditorUser) -> dict:
    try:
        return cm.moderate(store.engine, comment_id, editor=user.name, theme=body.theme,
                           remove=body.remove, edited_words=body.edited_words,
                           response=body.response, decision=body.decision,
                           themes=list(config.themes))
    except cm.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except cm.CommentError as exc:
        raise _bad(exc) from None


@router.post("/comments/{comment_id}/actions", operation_id="add_action", status_code=201,
             response_model=Created, responses={**_STAFF, **_NOT_FOUND},
             summary="Record what the council did or will do (editor or admin)")
def add_action(comment_id: int, body: ActionIn, store: StoreDep, directory: DirectoryDep,
               _user: EditorUser) -> dict:
    unknown = [s for s in body.service_ids if s not in directory.by_id]
    if unknown:
        raise _problem("service_ids", f"no service with id {', '.join(unknown[:5])}")
    try:
        return {"id": cm.add_action(store.engine, comment_id, description=body.description,
                                    status=body.status, reason=body.reason,
                                    service_ids=body.service_ids)}
    except cm.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except cm.CommentError as exc:
        raise _bad(exc) from None


@router.patch("/comment-actions/{action_id}", operation_id="update_action", status_code=204,
              responses={**_STAFF, **_NOT_FOUND},
              summary="Change an action's status (editor or admin)")
def update_action(action_id: int, body: ActionUpdate, store: StoreDep,
                  _user: EditorUser) -> Response:
    try:
        cm.update_action(store.engine, action_id, status=body.status, reason=body.reason)
    except cm.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except cm.CommentError as exc:
        raise _bad(exc) from None
    return Response(status_code=204)


@router.get("/directory-tasks", operation_id="directory_tasks", response_model=DirectoryTasks,
            summary="Services reported out of date or wrong (editor or admin)", responses=_STAFF)
def directory_tasks(
    store: StoreDep, directory: DirectoryDep, _user: EditorUser,
    status: Annotated[Literal["open", "done", "all"], Query()] = "open",
) -> dict:
    tasks = cm.list_tasks(store.engine, status=None if status == "all" else status)
    for task in tasks:
        record = directory.by_id.get(task["service_id"])
        task["name"] = record.name if record else None
    return {"tasks": tasks}


@router.post("/directory-tasks/{task_id}/done", operation_id="close_directory_task",
             status_code=204, responses={**_STAFF, **_NOT_FOUND},
             summary="The service has been checked (editor or admin)")
def close_task(task_id: int, body: TaskDone, store: StoreDep, _user: EditorUser) -> Response:
    try:
        cm.close_task(store.engine, task_id, note=body.note)
    except cm.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    return Response(status_code=204)


# --------------------------------------------------------------------------- commissioners
@router.get("/demand", operation_id="demand", response_model=DemandAnswer, responses=_STAFF,
            summary="Searches that found little, per need x age band x district "
                    "(commissioner or admin)")
def demand(
    request: Request, store: StoreDep, config: CoprodConfigDep, _user: CommissionerUser,
    by: Annotated[str, Query(max_length=40, description="some of need, band, district, "
                                                        "month, comma-separated")
                  ] = "need,band,district",
    since: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")] = None,
    until: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")] = None,
) -> dict:
    """Counts under ``demand_min_count`` are never shown; the others are rounded to a multiple
    of ``demand_round_to``. Beside them: comments saying something is missing, per theme."""
    columns = [c.strip() for c in by.split(",") if c.strip()]
    try:
        cells = demand_cells(store.engine, min_count=config.demand_min_count,
                             round_to=config.demand_round_to, since_month=since,
                             until_month=until, by=columns)
    except ValueError:
        raise _problem("by", "use some of need, band, district, month, comma-separated"
                       ) from None
    vocab = request.app.state.resources.vocabulary
    bands = load_gaps_config().bands
    for cell in cells:
        if "band" in cell:
            band = bands.get(cell["band"])
            cell["band_label"] = band.label if band is not None else cell["band"]
        if "need" in cell:
            need = vocab.needs.get(cell["need"])
            cell["need_label"] = need.label if need is not None else cell["need"].replace("_", " ")
    return {"cells": cells, "min_count": config.demand_min_count,
            "round_to": config.demand_round_to, "threshold": config.demand_threshold,
            "missing_by_theme": cm.missing_by_theme(store.engine),
            "notes": [f"A search counts when its best result scored under "
                      f"{config.demand_threshold:g} or it found nothing. Cells with fewer than "
                      f"{config.demand_min_count} searches are not shown; the rest are rounded "
                      f"to the nearest {config.demand_round_to}."]}


# --------------------------------------------------------------------------- demand hook
def _record_demand_or_log(engine: Engine, **kwargs: Any) -> None:
    """:func:`record_demand` after the answer has gone: when the store cannot keep the count
    (not ready), the count is dropped and the log says so; the family's answer is unaffected
    and nothing was confirmed to them."""
    try:
        record_demand(engine, **kwargs)
    except StoreUnavailableError as exc:
        log.warning("A poorly served search was not counted as demand: %s", exc)


def count_demand(request: Request, background: BackgroundTasks, body: object,
                 outcome: object) -> None:
    """After a search, count it as demand (in the background) when it was poorly served and
    the client is within the demand rate. Only need codes, the age band, the postcode district
    and the month are passed on; nothing of the search is logged."""
    config = getattr(request.app.state, "coprod_config", None) or get_coprod_config()
    results = getattr(outcome, "results", [])
    best = float(results[0].score) if results else None
    if best is not None and best >= config.demand_threshold:
        return
    limits = get_rate_limits(request)
    if not limits.hit(limits.demand, "demand", client_id(request)):
        return
    needs = [n["need"] for n in getattr(outcome, "understood_needs", []) if n.get("need")]
    store = request.app.state.resources.store
    background.add_task(_record_demand_or_log, store.engine, best_score=best,
                        threshold=config.demand_threshold, needs=needs,
                        age=int(getattr(body, "age", 0)),
                        postcode=getattr(body, "postcode", None),
                        bands=load_gaps_config().bands)
