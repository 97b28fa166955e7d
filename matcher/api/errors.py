"""Error answers: validation problems in plain English, and the library's errors as HTTP.

422 body (stable; see :mod:`matcher.api.schemas`)::

    {"detail": [{"field": "age", "message": "age must be between 0 and 25",
                 "type": "less_than_equal"}]}

``field`` is a dotted path into the JSON body (``travel.max_minutes``, ``needs[2]``), the name of
a query or path parameter (``size``, ``postcode``), or ``body`` for the body as a whole.
``message`` always starts with the field's name. Nothing a family sent is logged, and only a
postcode is ever quoted back (in its own error).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from matcher.errors import (
    PostcodeError,
    PostcodeNotFoundError,
    ProfileError,
    StoreUnavailableError,
)

__all__ = [
    "field_name",
    "plain_message",
    "problems_from_errors",
    "postcode_problem",
    "openapi_bounds",
    "install_error_handlers",
    "STORE_UNAVAILABLE",
    "SERVER_ERROR",
]

#: The ``detail`` of a 503 when the store cannot keep a write or answer a read. The reason (a
#: file gone, read-only, another schema revision) is logged and shown by GET /health/ready,
#: not told to every caller.
STORE_UNAVAILABLE = (
    "The store cannot keep changes or answer right now, so nothing was saved. Try again in a "
    "few minutes; if it goes on, tell the service's operators (GET /health/ready says why)."
)
#: The ``detail`` of any other unexpected error (500).
SERVER_ERROR = (
    "Something went wrong on our side and the request was not completed. Try again; if it "
    "goes on, tell the service's operators."
)

log = logging.getLogger("matcher.api")

_SOURCES = {"body", "query", "path", "header", "cookie"}


def field_name(loc: Sequence[str | int]) -> str:
    """``("body", "travel", "max_minutes")`` -> ``"travel.max_minutes"``; ``("query", "size")``
    -> ``"size"``; ``("body", "needs", 2)`` -> ``"needs[2]"``; ``("body",)`` -> ``"body"``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if not parts or (source == "body" and all(isinstance(p, int) for p in parts)):
            return "body"
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "body"


def _bare_path(loc: Sequence[str | int]) -> str:
    """Dotted path without list indices or the source: key into :func:`openapi_bounds`."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts)


_LIMIT_KEYS = {"minimum": "ge", "exclusiveMinimum": "gt", "maximum": "le",
               "exclusiveMaximum": "lt"}


def openapi_bounds(schema: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Numeric bounds of every parameter and JSON body field, read from an OpenAPI document:
    ``{"/match": {"age": {"ge": 0, "le": 25}, "travel.max_minutes": {"gt": 0, "le": 240}},
    "/services": {"size": {"ge": 1, "le": 100}, ...}}`` (list indices left out of the paths).

    Pydantic reports only the end of a range that was crossed; with this a message can give
    both ends ("age must be between 0 and 25").
    """
    components = schema.get("components", {}).get("schemas", {})

    def resolve(node: Any) -> dict[str, Any]:
        for _ in range(20):
            if not isinstance(node, dict) or "$ref" not in node:
                break
            node = components.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        return node if isinstance(node, dict) else {}

    def walk(node: Any, prefix: str, out: dict[str, dict[str, float]], depth: int) -> None:
        node = resolve(node)
        if depth > 12 or not node:
            return
        limits = {_LIMIT_KEYS[k]: v for k, v in node.items()
                  if k in _LIMIT_KEYS and isinstance(v, int | float)}
        if limits and prefix:
            out.setdefault(prefix, {}).update(limits)
        for key in ("anyOf", "oneOf", "allOf"):
            for member in node.get(key, []):
                walk(member, prefix, out, depth + 1)
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{prefix}.{name}" if prefix else name, out, depth + 1)
        if "items" in node:
            walk(node["items"], prefix, out, depth + 1)

    table: dict[str, dict[str, dict[str, float]]] = {}
    for path, operations in schema.get("paths", {}).items():
        out = table.setdefault(path, {})
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for param in operation.get("parameters", []):
                walk(param.get("schema", {}), str(param.get("name", "")), out, 0)
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                walk(media.get("schema", {}), "", out, 0)
    return table


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _range_message(field: str, bounds: dict[str, Any]) -> str:
    low = (f"at least {_num(bounds['ge'])}" if "ge" in bounds
           else f"more than {_num(bounds['gt'])}" if "gt" in bounds else None)
    high = (f"at most {_num(bounds['le'])}" if "le" in bounds
            else f"less than {_num(bounds['lt'])}" if "lt" in bounds else None)
    if "ge" in bounds and "le" in bounds:
        return f"{field} must be between {_num(bounds['ge'])} and {_num(bounds['le'])}"
    if low and high:
        return f"{field} must be {low} and {high}"
    return f"{field} must be {low or high}"


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def plain_message(err: dict[str, Any], field: str,
                  bounds: dict[str, dict[str, float]] | None = None) -> str:
    """One pydantic/FastAPI error as a plain-English sentence starting with ``field``."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "a JSON body is required" if field == "body" else f"{field} is required"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        known = dict((bounds or {}).get(_bare_path(err.get("loc", ())), {}))
        short = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le",
                 "less_than": "lt"}[kind]
        for key in ("ge", "gt", "le", "lt"):
            if key in ctx:
                known.setdefault(key, ctx[key])
        known.setdefault(short, ctx.get(short))
        return _range_message(field, {k: v for k, v in known.items() if v is not None})
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return (f"{field} must be a whole number written without quotes, for example 7 "
                "(not true, false or \"7\")")
    if kind in ("float_parsing", "float_type", "finite_number", "decimal_parsing"):
        return f"{field} must be a number written without quotes, for example 30"
    if kind in ("bool_parsing", "bool_type"):
        return f"{field} must be true or false, without quotes"
    if kind in ("string_type", "string_sub_type"):
        return f"{field} must be text (a string in double quotes)"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return f"{field} must not be empty" if n == 1 else \
            f"{field} must be at least {_plural(n, 'character')} long"
    if kind == "string_too_long":
        return f"{field} must be at most {_plural(ctx.get('max_length'), 'character')} long"
    if kind == "too_long":
        return f"{field} may have at most {_plural(ctx.get('max_length'), 'item')}"
    if kind == "too_short":
        return f"{field} must have at least {_plural(ctx.get('min_length'), 'item')}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"{field} must be a list, e.g. [\"...\"]"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{field} must be a JSON object ({{...}})"
    if kind in ("literal_error", "enum"):
        return f"{field} must be one of {ctx.get('expected', 'the allowed values')}"
    if kind == "extra_forbidden":
        return f"{field} is not a field we accept: remove it or check its spelling"
    if kind in ("date_parsing", "date_type", "date_from_datetime_parsing",
                "date_from_datetime_inexact"):
        return f"{field} must be a date written YYYY-MM-DD"
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return f"{field} must be a date and time written YYYY-MM-DDTHH:MM:SS"
    if kind == "json_invalid":
        why = ctx.get("error")
        return "body is not valid JSON" + (f" ({why})" if why else "")
    if kind in ("value_error", "assertion_error"):
        msg = str(err.get("msg", "")).removeprefix("Value error, ").removeprefix(
            "Assertion failed, ")
        last = field.rsplit(".", 1)[-1].split("[", 1)[0]
        return msg if msg.startswith((field, last)) else f"{field}: {msg}"
    msg = str(err.get("msg", "is not valid"))
    return f"{field}: {msg[:1].lower()}{msg[1:]}"


def problems_from_errors(errors: Sequence[dict[str, Any]],
                         bounds: dict[str, dict[str, float]] | None = None) -> list[dict]:
    """The ``detail`` list of a 422 from pydantic/FastAPI errors (inputs are never copied)."""
    out: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for err in errors:
        loc = tuple(err.get("loc", ()))
        field = field_name(loc)
        message = plain_message(err, field, bounds)
        if (field, message) in seen:
            continue
        seen.add((field, message))
        out.append({"field": field, "message": message, "type": str(err.get("type", ""))})
    return out


def postcode_problem(exc: PostcodeError, field: str = "postcode") -> dict:
    """A :class:`PostcodeError` as one 422 ``detail`` item (with suggestions, if any)."""
    kind = "postcode_not_found" if isinstance(exc, PostcodeNotFoundError) else "postcode_format"
    item: dict[str, Any] = {"field": field, "message": f"{field}: {exc}", "type": kind}
    if exc.suggestions:
        item["suggestions"] = list(exc.suggestions)
    return item


def install_error_handlers(app: FastAPI) -> None:
    """Register the 422 handlers (validation, postcodes, profiles) on ``app``."""
    bounds_table: dict[str, dict[str, dict[str, float]]] = {}

    def bounds_for(request: Request) -> dict[str, dict[str, float]]:
        if not bounds_table:
            bounds_table.update(openapi_bounds(app.openapi()))
        return bounds_table.get(_route_path(request), {})

    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = problems_from_errors(exc.errors(), bounds_for(request))
        log.debug("422 on %s: %s", _route_path(request), [p["field"] for p in problems])
        return JSONResponse(status_code=422, content={"detail": problems})

    async def on_postcode(request: Request, exc: PostcodeError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [postcode_problem(exc)]})

    async def on_profile(request: Request, exc: ProfileError) -> JSONResponse:
        field = exc.field or "body"
        message = str(exc) if str(exc).startswith(field) else f"{field}: {exc}"
        return JSONResponse(status_code=422, content={
            "detail": [{"field": field, "message": message, "type": "profile"}]})

    async def on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The reason names no person: a file path, a revision, the database's own message.
        log.error("503 on %s %s: the store is unavailable: %s", request.method,
                  _route_path(request), exc)
        return JSONResponse(status_code=503, content={"detail": STORE_UNAVAILABLE},
                            headers={"Retry-After": "30"})

    async def on_server_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=500, content={"detail": SERVER_ERROR})

    from sqlalchemy.exc import SQLAlchemyError

    app.add_exception_handler(StoreUnavailableError, on_store_unavailable)
    app.add_exception_handler(SQLAlchemyError, on_store_unavailable)
    # Anything else: still JSON, never Starlette's plain-text "Internal Server Error".
    app.add_exception_handler(Exception, on_server_error)
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(PostcodeError, on_postcode)  # type: ignore[arg-type]
    app.add_exception_handler(ProfileError, on_profile)  # type: ignore[arg-type]


def _route_path(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "?")
