"""``POST /import`` (admin): upload a Local Offer CSV; ``POST /import/feed`` (admin): read a
live Open Referral UK or Outpost feed at the address the admin gives. Both answer with the
validation report.

The feed import is the only route that reaches another server, and only the address typed by
the admin (its pages and, for a list without details, each service's own address under it):
nothing else on the request path touches the network."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from matcher.api.deps import ApiConfigDep, StoreDep, get_resources
from matcher.api.middleware import too_large_message
from matcher.api.schemas import ImportRefused, ImportResult, Message
from matcher.api.security import AdminUser
from matcher.errors import DataImportError

__all__ = ["FeedImport", "router"]

router = APIRouter(tags=["import"])
log = logging.getLogger("matcher.api")


@router.post(
    "/import",
    operation_id="import_services",
    summary="Import a Local Offer CSV (admin)",
    response_model=ImportResult,
    responses={
        401: {"model": Message}, 403: {"model": Message},
        413: {"model": Message, "description": "the file is too large"},
        422: {"model": ImportRefused,
              "description": "nothing imported: the file is unusable, or strict mode found "
                             "problems (the report lists them)"},
    },
)
def import_services(
    request: Request,
    store: StoreDep,
    config: ApiConfigDep,
    user: AdminUser,
    file: Annotated[UploadFile, File(description="CSV in the contract's service template")],
    strict: Annotated[bool, Query(description="import nothing if any row has a problem")] = False,
) -> dict | JSONResponse:
    """Good rows are added or updated in one transaction; rows with problems are rejected and
    listed (row, column, value, problem, fix). Services already stored but absent from the file
    are kept. The new matcher is built in the background while other requests are answered
    from the old one; this answer comes once it is in use (or after ``import_wait_seconds``)."""
    from matcher.ingest import run_import

    data = file.file.read(config.max_upload_bytes + 1)
    if len(data) > config.max_upload_bytes:
        return JSONResponse(status_code=413,
                            content={"detail": too_large_message(config.max_upload_bytes, True)})
    source = file.filename or "upload.csv"
    try:
        summary = run_import(data, strict=strict, store=store, progress=False)
    except DataImportError as exc:
        report = exc.report.to_dict() if exc.report is not None else None
        if report is not None:
            report["source"] = source
        message = str(exc).replace("<bytes>", source)
        return JSONResponse(status_code=422, content={"detail": message, "report": report})
    finally:
        get_resources(request).cache.invalidate()
    try:
        get_resources(request).cache.refresh(timeout=config.import_wait_seconds)
    except Exception:  # noqa: BLE001 - the import is stored; the old matcher stays in use
        log.exception("the matcher could not be rebuilt after an import")
    answer = summary.to_dict()
    answer.pop("database", None)
    answer["source"] = source
    answer["data_version"] = store.data_version()
    answer["services"] = store.count_services()
    return answer


class FeedImport(BaseModel):
    """The feed to read: its ``/services`` endpoint or its API root."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"url": "https://directory.example.org/api/services", "strict": False}]})

    url: str = Field(..., min_length=1, max_length=2000,
                     description="the feed's /services endpoint (or its API root), http or https")
    strict: bool = Field(False, description="import nothing if any service has a problem")


def feed_address_problem(url: str) -> str | None:
    """Why ``url`` cannot be read as a feed's address, or ``None`` when it can.

    >>> feed_address_problem("https://directory.example.org/api/services") is None
    True
    >>> feed_address_problem("file:///etc/passwd")
    "'file:///etc/passwd' is not a web address: give the feed's address starting with https:// (or http://), e.g. https://directory.example.org/api/services."
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (f"'{url.strip()}' is not a web address: give the feed's address starting with "
                "https:// (or http://), e.g. https://directory.example.org/api/services.")
    if parts.username or parts.password:
        return ("Give the feed's address without a user name or password in it: this import "
                "reads open feeds only.")
    return None


@router.post(
    "/import/feed",
    operation_id="import_feed",
    summary="Import a live Open Referral UK or Outpost feed by its address (admin)",
    response_model=ImportResult,
    responses={
        401: {"model": Message}, 403: {"model": Message},
        422: {"model": ImportRefused,
              "description": "nothing imported: the address is not a web address, the feed "
                             "could not be read, or strict mode found problems"},
    },
)
def import_feed(request: Request, store: StoreDep, user: AdminUser,
                body: FeedImport) -> dict | JSONResponse:
    """The server reads the feed at ``url`` page by page (only that address, when an admin
    asks), then imports it exactly as ``matcher import --url URL`` does: good services added
    or updated in one transaction, problems listed, services absent from the feed kept."""
    from matcher.ingest import run_import

    url = body.url.strip()
    if problem := feed_address_problem(url):
        raise HTTPException(status_code=422, detail=[{"field": "url", "message": problem,
                                                      "type": "url_scheme"}])
    try:
        summary = run_import(None, strict=body.strict, store=store, progress=False,
                             fmt="auto", url=url)
    except DataImportError as exc:
        report = exc.report.to_dict() if exc.report is not None else None
        if report is not None:
            report["source"] = url
        return JSONResponse(status_code=422, content={"detail": str(exc), "report": report})
    finally:
        get_resources(request).cache.invalidate()
    answer = summary.to_dict()
    answer.pop("database", None)
    answer["source"] = url
    answer["data_version"] = store.data_version()
    answer["services"] = store.count_services()
    return answer
