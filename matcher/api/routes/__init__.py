"""The API's routers, one module per resource."""

from __future__ import annotations

from matcher.api.routes import (
    admin_users,
    feedback,
    imports,
    match,
    meta,
    plans,
    postcodes,
    services,
    vocabularies,
)

__all__ = ["ROUTERS"]

#: Every router, in the order their routes appear in the OpenAPI document.
ROUTERS = (
    match.router,
    services.router,
    postcodes.router,
    vocabularies.router,
    feedback.router,
    plans.router,
    imports.router,
    admin_users.router,
    meta.router,
)
