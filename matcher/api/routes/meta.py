"""``GET /health`` (liveness), ``GET /health/ready`` (readiness) and ``GET /version``."""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from matcher.api.deps import get_resources
from matcher.api.schemas import Health, Readiness, VersionInfo

__all__ = ["router", "config_version"]

router = APIRouter(tags=["meta"])


def config_version() -> str:
    """12 hex digits of the SHA-256 of the match configuration in use."""
    from matcher.engine.config import dump_config, load_config

    text = json.dumps(dump_config(load_config()), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@router.get("/health", operation_id="health", summary="Is the service up and its database reachable",
            response_model=Health, responses={503: {"model": Health}})
def health(request: Request) -> dict | JSONResponse:
    """200 ``{"status": "ok", "services": N}``; 503 ``{"status": "unavailable", "detail": ...}``
    when the database cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    from matcher.errors import MatcherError

    try:
        n = get_resources(request).store.count_services()
    except (MatcherError, SQLAlchemyError, OSError) as exc:
        return JSONResponse(status_code=503, content={
            "status": "unavailable", "services": None,
            "detail": f"The database cannot be read ({type(exc).__name__}). Check "
                      "MATCHER_DATABASE_URL and that the database is running."})
    return {"status": "ok", "services": n}


@router.get("/health/ready", operation_id="ready",
            summary="Can the server take requests and keep what they write",
            response_model=Readiness, responses={503: {"model": Readiness}})
def ready(request: Request) -> dict | JSONResponse:
    """200 ``{"status": "ready"}`` when the store is there, writable and at this program's
    schema revision; 503 ``{"status": "unavailable", "detail": ..., "problems": [...]}`` when
    the store is missing (a SQLite file deleted or replaced), cannot be written (read-only
    file, folder, file system or database), cannot be read, or is at another schema revision.
    A load balancer should send traffic only to ready servers. It never writes."""
    from matcher.store.schema import head_revision

    problems = get_resources(request).check_store()
    if problems:
        return JSONResponse(status_code=503, content={
            "status": "unavailable", "detail": " ".join(problems), "problems": problems,
            "schema_revision": None})
    return {"status": "ready", "detail": None, "problems": [],
            "schema_revision": head_revision()}


@router.get("/version", operation_id="version", summary="Code, data and configuration versions",
            response_model=VersionInfo)
def version(request: Request) -> dict:
    """``code``: package version; ``data``: the directory's data version; ``config``: hash of
    the match configuration; ``schema_version``: the database schema."""
    from matcher import __version__

    store = get_resources(request).store
    return {"code": __version__, "data": store.data_version(), "config": config_version(),
            "schema_version": store.schema_version(), "api": "1"}
