"""The application factory. Nothing is built at import time.

Run it with ``matcher serve`` (uvicorn, factory mode) or ``uvicorn --factory
matcher.api.app:create_app``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from matcher.api.deps import ApiConfig, AppResources
from matcher.api.errors import install_error_handlers
from matcher.api.middleware import (
    BodyLimitMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
    VocabularyMiddleware,
    install_access_log_redaction,
)
from matcher.api.routes import ROUTERS
from matcher.api.schemas import Message
from matcher.errors import StoreUnavailableError
from matcher.settings import Settings

__all__ = ["create_app", "DESCRIPTION"]

DESCRIPTION = """\
Find the Local Offer services that fit a child or young person with special educational needs
and disabilities (SEND), and say why in plain English.

**Errors.** 401, 403, 404, 500 and 503 answer `{"detail": "<plain sentence>"}`. A write
(plan, feedback, comment, import, user) that the store could not keep answers 503, never 201:
the store is missing, read-only, at another schema revision, or not answering; `GET
/health/ready` says which. 413 answers
`{"detail": "The request body is too large: ..."}` (JSON bodies: 64 KB; CSV uploads: 5 MB by
default). 422 answers every problem at once:
`{"detail": [{"field": "age", "message": "age must be between 0 and 25", "type": "less_than_equal"}]}`
where `field` is a dotted path into the body (`travel.max_minutes`, `needs[2]`) or a parameter
name, `message` is plain English starting with the field, and `type` a stable code.

**Roles.** Public: match, services, postcodes, vocabularies, needs, feedback, council. Send an
`X-API-Key` header (made with `matcher users add NAME --role ROLE`) for plans (`key_worker`,
own plans only), feedback summaries (`commissioner` or `admin`), imports and data health
(`admin`).

**Privacy.** Nothing of a family's profile is logged. Feedback stores only the service id,
the kind and the hour. Plans carry a pseudonymous label and are deleted after their retention
date (12 months by default).
"""

_COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": Message, "description": "the request body is too large"},
    429: {"model": Message, "description": "too many requests (or wrong API keys) from this "
                                           "client; see Retry-After"},
    503: {"model": Message, "description": "the store cannot keep changes or answer now; "
                                           "nothing was saved (GET /health/ready says why)"},
}


def _openapi_with_vocabulary(app: FastAPI, resources: AppResources) -> None:
    """Generate the OpenAPI schema (once, cached by FastAPI) with the app's vocabulary in use,
    so its ``enum`` lists are the allowed values of that vocabulary, also when ``app.openapi()``
    is called outside a request."""
    from matcher.allowed import using_vocabulary

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        with using_vocabulary(resources.vocabulary):
            return generate()

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, config: ApiConfig | None = None) -> FastAPI:
    """Build the FastAPI application.

    ``settings`` default to :func:`matcher.settings.get_settings` (read from the environment
    now, not at import); ``config`` holds the HTTP limits (:class:`ApiConfig`). The store is
    opened and the matcher built lazily, on the first request that needs them.

    The vocabulary (``settings.vocabulary_path``) is read now: request bodies and parameters
    are checked against its allowed values, and the OpenAPI schema lists them as ``enum``.
    """
    from matcher import __version__
    from matcher.api.schemas import ValidationProblem

    if settings is None:
        from matcher.settings import get_settings

        settings = get_settings()
    if config is None:
        config = ApiConfig(max_json_bytes=settings.max_json_bytes,
                           max_upload_bytes=settings.max_upload_bytes,
                           refresh_seconds=settings.refresh_seconds,
                           models_dir=settings.models_dir)
    resources = AppResources(settings, config)
    from matcher.council import load_council

    council = load_council(settings.council_path)   # a bad file stops the start, saying why

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # The store is checked before the first request: a start against a missing,
        # unwritable or wrong-schema store stops here, saying why, rather than serving.
        problems = resources.check_store()
        if problems:
            resources.close()
            raise StoreUnavailableError("The store is not ready: " + " ".join(problems))
        yield
        resources.close()

    app = FastAPI(
        title="SEND Local Offer matcher",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={422: {"model": ValidationProblem,
                         "description": "the request is not valid: every problem is listed"}},
    )
    app.state.resources = resources
    app.state.council = council
    for router in ROUTERS:
        app.include_router(router, responses=_COMMON_RESPONSES)
    # Commissioners' gaps and the Open Referral UK feed (both import the API's dependencies).
    from matcher.gaps.api import gaps_router
    from matcher.oruk.routes import oruk_router

    app.include_router(gaps_router, responses=_COMMON_RESPONSES)
    app.include_router(oruk_router, responses=_COMMON_RESPONSES)
    # Data health for the directory team (admin).
    from matcher.api.routes.data_health import router as data_health_router

    app.include_router(data_health_router, responses=_COMMON_RESPONSES)
    # The council's own details, for the guidance pages (GET /council).
    from matcher.api.routes.council import router as council_router

    app.include_router(council_router, responses=_COMMON_RESPONSES)
    # Co-production: comments, "You said, we did", directory tasks, demand.
    from matcher.api.routes.coprod import router as coprod_router

    app.include_router(coprod_router, responses=_COMMON_RESPONSES)
    if settings.metrics:
        _add_metrics_route(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, json_limit=resources.config.max_json_bytes,
                       upload_limit=resources.config.max_upload_bytes)
    # Outermost, so every layer inside (and the tasks they start) sees the app's vocabulary.
    app.add_middleware(VocabularyMiddleware, vocabulary=resources.vocabulary)
    _openapi_with_vocabulary(app, resources)
    _outermost(app, metrics=settings.metrics)
    install_access_log_redaction()
    return app


def _outermost(app: FastAPI, metrics: bool) -> None:
    """Put the request log (request id, metrics) and the security headers outside Starlette's
    own error layer, so that they also see the 500 it answers for an unexpected error."""
    build = app.build_middleware_stack

    def build_middleware_stack() -> Any:
        return SecurityHeadersMiddleware(RequestLogMiddleware(build(), metrics=metrics))

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def _add_metrics_route(app: FastAPI) -> None:
    """``GET /metrics``: Prometheus' text format (see :mod:`matcher.api.metrics`)."""
    from fastapi import Response

    from matcher.api.metrics import CONTENT_TYPE, render

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(render(), media_type=CONTENT_TYPE)
