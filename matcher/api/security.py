"""API keys and roles.

Public routes (match, services, postcodes, vocabularies, needs, feedback) need no key. The
others need an ``X-API-Key`` header holding a key made with
``matcher users add NAME --role ROLE``; only the key's SHA-256 hash is stored, and it is
compared in constant time (:func:`matcher.store.users.authenticate`).

Answers: 401 ``"Missing or unknown API key."`` when there is no key or it is not known;
403 ``"This needs the admin role."`` (or ``"This needs the commissioner or admin role."``)
when the key is known but its role may not use the route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from matcher.api.deps import StoreDep
from matcher.store.users import ApiUser, authenticate

__all__ = [
    "API_KEY_HEADER",
    "UNAUTHORISED",
    "api_key_header",
    "get_current_user",
    "require_role",
    "forbidden_message",
    "CurrentUser",
    "AdminUser",
    "KeyWorkerUser",
    "CommissionerUser",
    "EditorUser",
]

API_KEY_HEADER = "X-API-Key"
#: The ``detail`` of every 401.
UNAUTHORISED = "Missing or unknown API key."

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="APIKey",
    description="An API key made with `matcher users add NAME --role ROLE` (shown once).",
)


def get_current_user(
    request: Request, store: StoreDep,
    key: Annotated[str | None, Security(api_key_header)] = None,
) -> ApiUser:
    """The caller, from their API key; 401 when the key is missing or unknown, 429 (with
    Retry-After) once a client has sent too many wrong keys (:mod:`matcher.api.ratelimit`)."""
    from matcher.api.ratelimit import client_id, get_rate_limits, too_many

    limits, who = get_rate_limits(request), client_id(request)
    if not limits.allowed(limits.failed_keys, "key", who):
        raise too_many(limits.retry_after(limits.failed_keys, "key", who))
    user = authenticate(store.engine, key.strip()) if key and key.strip() else None
    if user is None:
        if key and key.strip():
            limits.hit(limits.failed_keys, "key", who)
        raise HTTPException(status_code=401, detail=UNAUTHORISED,
                            headers={"WWW-Authenticate": API_KEY_HEADER})
    return user


CurrentUser = Annotated[ApiUser, Depends(get_current_user)]


def forbidden_message(roles: tuple[str, ...]) -> str:
    """``"This needs the admin role."`` / ``"This needs the commissioner or admin role."``"""
    return f"This needs the {' or '.join(roles)} role."


def require_role(*roles: str) -> Callable[[ApiUser], ApiUser]:
    """A dependency that lets through callers holding one of ``roles``; 403 for the others."""
    if not roles:
        raise ValueError("require_role needs at least one role")
    message = forbidden_message(roles)

    def _check(user: CurrentUser) -> ApiUser:
        if user.role not in roles:
            raise HTTPException(status_code=403, detail=message)
        return user

    _check.__name__ = f"require_{'_or_'.join(roles)}"
    return _check


AdminUser = Annotated[ApiUser, Depends(require_role("admin"))]
KeyWorkerUser = Annotated[ApiUser, Depends(require_role("key_worker"))]
CommissionerUser = Annotated[ApiUser, Depends(require_role("commissioner", "admin"))]
#: Council staff who moderate comments and keep the directory ("You said, we did").
EditorUser = Annotated[ApiUser, Depends(require_role("editor", "admin"))]
