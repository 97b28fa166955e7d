"""ASGI middleware: request-body size limits, privacy-safe request logs with request ids and
metrics, security headers, access-log redaction, and the app's vocabulary for each request.

Privacy: a family's profile travels in request bodies (never logged) and a postcode may travel in
a path (``GET /postcodes/N7 8JN``) or a query string (``GET /services?q=...``). Our own request
log names the route *template* (``/postcodes/{postcode}``), never the concrete path, and
:class:`RedactAccessLog` rewrites uvicorn's access-log lines the same way and drops the client's
address.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException

__all__ = ["BodyLimitMiddleware", "RequestLogMiddleware", "RedactAccessLog", "VocabularyMiddleware",
           "SecurityHeadersMiddleware", "is_private", "API_CSP", "DOCS_CSP",
           "redact_path", "install_access_log_redaction", "too_large_message"]

log = logging.getLogger("matcher.api")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 \
        else f"{n // 1024} KB"


def too_large_message(limit: int, upload: bool) -> str:
    """The 413 ``detail``."""
    if upload:
        return (f"The request body is too large: a CSV upload may be at most {_size(limit)}. "
                "Split the file, or import it with `matcher import PATH` on the server.")
    return (f"The request body is too large: at most {_size(limit)} of JSON is accepted. "
            "Send less text (for example in 'about').")


class _TooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit. An HTTPException, so FastAPI's
    body parsing lets it through (other errors there become a 400) and it becomes a 413."""

    def __init__(self, limit: int, upload: bool):
        super().__init__(status_code=413, detail=too_large_message(limit, upload))


class VocabularyMiddleware:
    """Make the app's vocabulary the one in use while it handles a request
    (:func:`matcher.allowed.using_vocabulary`), so request bodies and parameters are checked
    against the allowed values of the vocabulary the app was created with."""

    def __init__(self, app: Any, vocabulary: Any):
        self.app = app
        self.vocabulary = vocabulary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from matcher.allowed import using_vocabulary

        with using_vocabulary(self.vocabulary):
            await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse bodies above ``json_limit`` bytes (``upload_limit`` on ``upload_paths``) with 413.

    Checks ``Content-Length`` first, then counts the bytes actually received (chunked bodies).
    """

    def __init__(self, app: Any, json_limit: int, upload_limit: int,
                 upload_paths: tuple[str, ...] = ("/import",)):
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("path", "") in self.upload_paths
        limit = self.upload_limit if upload else self.json_limit
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _send_413(send, limit, upload)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit, upload)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            if not started:
                await _send_413(send, limit, upload)


async def _send_413(send: Send, limit: int, upload: bool) -> None:
    body = json.dumps({"detail": too_large_message(limit, upload)}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RequestLogMiddleware:
    """Per request: a request id, one INFO log line, the metrics, and the ``X-Request-ID``
    response header.

    The id is the caller's ``X-Request-ID`` when it is a safe token (a load balancer's), else
    a new random one; every log record written while the request is handled carries it
    (:mod:`matcher.api.logs`). The log line holds the method, the route *template*, the
    status and the milliseconds. Nothing else: no path values, query string, body or address.
    """

    def __init__(self, app: Any, metrics: bool = True):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from matcher.api.logs import REQUEST_ID_HEADER, new_request_id, request_id_var

        sent = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                sent = value.decode("latin-1")
                break
        request_id = new_request_id(sent)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "(no route)"
            method = str(scope.get("method"))
            log.info("%s %s -> %d in %.1f ms", method, route, status, seconds * 1000,
                     extra={"method": method, "route": route, "status": status,
                            "duration_ms": round(seconds * 1000, 2), "event": "request"})
            if self.metrics:
                from matcher.api.metrics import observe_request

                observe_request(method, route, status, seconds)
            request_id_var.reset(token)


#: The Content-Security-Policy of every answer: a JSON API loads nothing and is never framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: The interactive API documentation (/docs, /redoc) loads FastAPI's Swagger UI and ReDoc
#: scripts from cdn.jsdelivr.net (ReDoc's fonts from Google Fonts) and starts them with a
#: small inline script.
DOCS_CSP = ("default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
            "style-src 'self' https://cdn.jsdelivr.net https://fonts.googleapis.com "
            "'unsafe-inline'; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "font-src https://fonts.gstatic.com; worker-src blob:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

#: Paths whose answers may hold personal data (plans, postcodes, comments, feedback, demand,
#: users, data-health and gap reports): never stored by a browser or a proxy.
PRIVATE_PREFIXES = ("/plans", "/postcodes", "/admin", "/comments", "/comment-actions",
                    "/feedback", "/demand", "/directory-tasks", "/gaps", "/import", "/match",
                    "/needs", "/health", "/metrics")


def is_private(method: str, path: str, has_key: bool) -> bool:
    """Whether an answer gets ``Cache-Control: no-store``: every write (its body was the
    caller's), every answer to a caller with an API key, and every private path."""
    if method not in ("GET", "HEAD") or has_key:
        return True
    return any(path == p or path.startswith(p + "/") or path.startswith(p + ".")
               for p in PRIVATE_PREFIXES)


class SecurityHeadersMiddleware:
    """Security headers on every answer, errors included: ``X-Content-Type-Options: nosniff``,
    a ``Content-Security-Policy`` for a JSON API (:data:`API_CSP`; the documentation pages get
    :data:`DOCS_CSP`), ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``,
    ``Cross-Origin-Resource-Policy: same-origin``, and ``Cache-Control: no-store`` on answers
    that may hold personal data (:func:`is_private`)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        has_key = any(name == b"x-api-key" for name, _ in scope.get("headers", []))
        csp = DOCS_CSP if path in DOCS_PATHS else API_CSP
        added = [(b"x-content-type-options", b"nosniff"),
                 (b"content-security-policy", csp.encode()),
                 (b"referrer-policy", b"no-referrer"),
                 (b"x-frame-options", b"DENY"),
                 (b"cross-origin-resource-policy", b"same-origin")]
        private = is_private(method, path, has_key)

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {a for a, _ in added}]
                if private:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers + added}
            await send(message)

        await self.app(scope, receive, secured_send)


_REDACTED_SEGMENTS = re.compile(r"^(/postcodes/|/plans/|/services/)[^/?]+")


def redact_path(path: str) -> str:
    """Drop the query string and replace path values that could identify someone:
    ``/postcodes/N7%208JN?x=1`` -> ``/postcodes/{postcode}``."""
    path = path.split("?", 1)[0]
    return _REDACTED_SEGMENTS.sub(lambda m: m.group(1) + "{redacted}", path)


class RedactAccessLog(logging.Filter):
    """A filter for uvicorn's ``uvicorn.access`` logger: no client address, no query string,
    no postcode or plan id in the logged path."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, redact_path(str(path)), version, status)
        return True


def install_access_log_redaction() -> None:
    """Add :class:`RedactAccessLog` to ``uvicorn.access`` (once; safe to call repeatedly)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactAccessLog) for f in logger.filters):
        logger.addFilter(RedactAccessLog())
