"""``POST /import`` (admin): upload a Local Offer CSV; answers with the validation report."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from matcher.api.deps import ApiConfigDep, StoreDep, get_resources
from matcher.api.middleware import too_large_message
from matcher.api.schemas import ImportRefused, ImportResult, Message
from matcher.api.security import AdminUser
from matcher.errors import DataImportError

__all__ = ["router"]

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
