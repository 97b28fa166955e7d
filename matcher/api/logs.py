"""Structured logs: one JSON object a line, each carrying the request id of the request it
belongs to.

Privacy: the request log names the route *template* (``/postcodes/{postcode}``), never the
concrete path or query string, and never a body; no family's profile, postcode or free text is
logged anywhere (tests/test_api_operations.py sends all three and searches every log line).
The client's address is not logged either.

``matcher serve`` passes :func:`log_config` to uvicorn, so its own loggers (``uvicorn.error``;
the access log is replaced by our request log) use the same format.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

__all__ = ["REQUEST_ID_HEADER", "current_request_id", "new_request_id", "request_id_var",
           "JsonFormatter", "RequestIdFilter", "log_config", "LOG_FIELDS"]

#: The response header carrying the request id (also read from the request, when well formed).
REQUEST_ID_HEADER = "X-Request-ID"

request_id_var: ContextVar[str | None] = ContextVar("matcher_request_id", default=None)

# An id sent by a load balancer or client is kept only if it cannot smuggle anything into a
# log line or a header: letters, digits and . _ : - only, at most 64 characters.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

#: Extra attributes a log call may pass (``log.info(..., extra={...})``) that are written out;
#: anything else given as ``extra`` is dropped, so nothing reaches the log by accident.
LOG_FIELDS = ("method", "route", "status", "duration_ms", "results", "candidates", "services",
              "data_version", "event")


def new_request_id(sent: str | None = None) -> str:
    """``sent`` when it is a safe id, else a new random one (32 hex digits)."""
    if sent and _SAFE_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being handled in this context, if any."""
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or ``None`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name in LOG_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None) or request_id_var.get()
        return f"{line} [request {rid}]" if rid else line


def log_config(fmt: str = "json", level: str = "info",
               stream: Any = "ext://sys.stderr") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` mapping: our loggers and uvicorn's, one format.

    SQLAlchemy's logger is held at WARNING whatever ``level`` says: at INFO it would write
    every statement's parameters (a saved plan's profile among them).
    """
    formatter = "json" if fmt == "json" else "text"
    handler = {"class": "logging.StreamHandler", "stream": stream,
               "formatter": formatter, "filters": ["request_id"]}
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            "matcher": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            # Our request log (matcher.api, one line a request) replaces uvicorn's access log.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "sqlalchemy": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        },
    }
