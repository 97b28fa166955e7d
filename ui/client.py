"""The UI's only way to the matcher: a small HTTP client for the API (httpx).

Nothing here knows how matching works; it sends what the person typed and hands back the
API's JSON answers as plain dicts. Every failure becomes an :class:`ApiError` whose ``message``
is a plain-English sentence fit to show, and whose ``problems`` (for a 422) lists each field
the API complained about.

The base address comes from ``MATCHER_API_URL`` (default ``http://127.0.0.1:8000``). Pages get
the client with :func:`get_client`, which keeps one per browser session; tests put an
``ApiClient`` built on an ``httpx.MockTransport`` into ``st.session_state[SESSION_KEY]``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "DEFAULT_API_URL",
    "SESSION_KEY",
    "ApiError",
    "Problem",
    "ApiClient",
    "api_url",
    "get_client",
]

DEFAULT_API_URL = "http://127.0.0.1:8000"
#: Where :func:`get_client` keeps the session's client in ``st.session_state``.
SESSION_KEY = "_api_client"


@dataclass(frozen=True)
class Problem:
    """One thing the API said was wrong with what was sent (a 422 item)."""

    field: str
    message: str
    type: str = ""
    suggestions: tuple[str, ...] = ()


@dataclass
class ApiError(Exception):
    """The API could not be reached, or answered with an error.

    ``status`` is the HTTP status (0 when the API could not be reached), ``message`` one
    sentence to show, ``problems`` the field problems of a 422, ``suggestions`` close
    postcodes for a postcode that was not found, ``report`` the validation report of an
    import that was refused.
    """

    status: int
    message: str
    problems: list[Problem] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    report: dict | None = None

    def __str__(self) -> str:
        return self.message


def api_url() -> str:
    """The API's base address: ``MATCHER_API_URL`` or :data:`DEFAULT_API_URL`."""
    return (os.environ.get("MATCHER_API_URL") or DEFAULT_API_URL).strip().rstrip("/")


def _error_from(response: httpx.Response) -> ApiError:
    """Turn an error answer into an :class:`ApiError` with the API's own words."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        problems = [Problem(field=str(p.get("field", "")), message=str(p.get("message", "")),
                            type=str(p.get("type", "")),
                            suggestions=tuple(p.get("suggestions") or ()))
                    for p in detail if isinstance(p, dict)]
        message = problems[0].message if len(problems) == 1 else (
            "Some answers need changing: " + "; ".join(p.message for p in problems))
        return ApiError(response.status_code, message, problems)
    if isinstance(detail, str) and detail:
        suggestions = list(body.get("suggestions") or []) if isinstance(body, dict) else []
        return ApiError(response.status_code, detail, suggestions=suggestions)
    return ApiError(response.status_code,
                    f"The matching service answered with an error ({response.status_code}). "
                    "Try again in a minute; if it keeps happening, tell the Local Offer team.")


class ApiClient:
    """Typed calls to the matcher API. Every method returns the JSON answer as a dict (or list).

    >>> c = ApiClient("http://api.test", transport=httpx.MockTransport(
    ...     lambda request: httpx.Response(200, json={"status": "ok"})))
    >>> c.health()["status"]
    'ok'
    """

    def __init__(self, base_url: str | None = None, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 30.0) -> None:
        self.base_url = (base_url or api_url()).rstrip("/")
        # A random token of this browser session (one client per session): the API counts one
        # session's feedback on a service once. It says nothing about who is using the app.
        self.session_token = secrets.token_urlsafe(16)
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout,
                                  headers={"Accept": "application/json"})

    # ----------------------------------------------------------------- plumbing
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The API's response; :class:`ApiError` (status 0) when it cannot be reached."""
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, f"The matching service at {self.base_url} could not be reached "
                              f"({type(exc).__name__}). Check that it is running (matcher run "
                              "starts it) and try again.") from exc

    def _call(self, method: str, path: str, *, api_key: str | None = None,
              **kwargs: Any) -> Any:
        headers = {"X-API-Key": api_key} if api_key else None
        response = self._request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise _error_from(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # ----------------------------------------------------------------- public routes
    def health(self) -> dict:
        """``GET /health``."""
        return self._call("GET", "/health")

    def vocabularies(self) -> dict:
        """``GET /vocabularies``: needs, areas and the closed vocabularies with labels."""
        return self._call("GET", "/vocabularies")

    def normalise(self, words: list[str]) -> dict:
        """``POST /needs/normalise``: ``{"needs", "matches", "unrecognised"}``."""
        return self._call("POST", "/needs/normalise", json={"words": words})

    def postcode(self, text: str) -> dict:
        """``GET /postcodes/{pc}``; a malformed postcode is an ``ApiError`` with status 422,
        one that is not current a 404 with ``suggestions``."""
        return self._call("GET", f"/postcodes/{quote(text.strip(), safe='')}")

    def council(self) -> dict:
        """``GET /council``: the council's name, area and contacts (SEND team, complaints,
        SENDIASS, mediation)."""
        return self._call("GET", "/council")

    def match(self, profile: dict, *, explain: str = "full") -> dict:
        """``POST /match`` with the profile (contract section 2) and ``explain``."""
        return self._call("POST", "/match", json={**profile, "explain": explain})

    def service(self, service_id: str) -> dict:
        """``GET /services/{id}``: everything stored about one service."""
        return self._call("GET", f"/services/{quote(service_id, safe='')}")

    def services(self, **params: Any) -> dict:
        """``GET /services`` with filters (``category``, ``need``, ``age``, ``q``, ``page``,
        ``size``)."""
        return self._call("GET", "/services",
                          params={k: v for k, v in params.items() if v is not None})

    def feedback(self, service_id: str, kind: str) -> dict:
        """``POST /feedback``: ``kind`` is ``helpful``, ``not_helpful`` or ``out_of_date``."""
        return self._call("POST", "/feedback", json={"service_id": service_id, "kind": kind,
                                                      "session": self.session_token})

    # ----------------------------------------------------------------- key workers' plans
    def list_plans(self, api_key: str) -> list[dict]:
        """``GET /plans``: the key worker's plans, most recently changed first."""
        return self._call("GET", "/plans", api_key=api_key)["plans"]

    def get_plan(self, api_key: str, plan_id: str) -> dict:
        """``GET /plans/{id}``."""
        return self._call("GET", f"/plans/{quote(plan_id, safe='')}", api_key=api_key)

    def create_plan(self, api_key: str, content: dict) -> dict:
        """``POST /plans``: returns the stored plan (with ``id``)."""
        return self._call("POST", "/plans", api_key=api_key, json=content)

    def replace_plan(self, api_key: str, plan_id: str, content: dict) -> dict:
        """``PUT /plans/{id}``."""
        return self._call("PUT", f"/plans/{quote(plan_id, safe='')}", api_key=api_key,
                          json=content)

    def delete_plan(self, api_key: str, plan_id: str) -> None:
        """``DELETE /plans/{id}``."""
        self._call("DELETE", f"/plans/{quote(plan_id, safe='')}", api_key=api_key)

    # ----------------------------------------------------------------- commissioners
    def gaps(self, api_key: str, **params: Any) -> dict:
        """``GET /gaps`` (commissioner or admin role): ``districts`` (e.g. ``"N1,N7"``) or
        ``around`` with ``radius_km``, and optionally ``level``, ``mode``, ``need``, ``band``,
        ``status``, ``limit``, ``offset``. Parameters that are ``None`` are not sent."""
        return self._call("GET", "/gaps", api_key=api_key,
                          params={k: v for k, v in params.items() if v is not None})

    # ----------------------------------------------------------------- co-production
    def send_comment(self, comment: dict) -> dict:
        """``POST /comments``: a comment on a service or on the Local Offer (anonymous)."""
        return self._call("POST", "/comments", json=comment)

    def you_said_we_did(self, **params: Any) -> dict:
        """``GET /you-said-we-did`` (``theme``, ``since``, ``until``): published comments."""
        return self._call("GET", "/you-said-we-did",
                          params={k: v for k, v in params.items() if v is not None})

    def you_said_we_did_csv(self, **params: Any) -> str:
        """``GET /you-said-we-did/annual.csv`` (``year`` or ``since``/``until``)."""
        return self._text("/you-said-we-did/annual.csv", None,
                          {k: v for k, v in params.items() if v is not None})

    def service_check(self, service_id: str) -> dict:
        """``GET /services/{id}/check``: last checked, and whether a check is pending."""
        return self._call("GET", f"/services/{quote(service_id, safe='')}/check")

    def comment_queue(self, api_key: str, status: str = "new") -> dict:
        """``GET /comments`` (editor or admin): comments to moderate and the themes."""
        return self._call("GET", "/comments", api_key=api_key, params={"status": status})

    def moderate(self, api_key: str, comment_id: int, changes: dict) -> dict:
        """``PATCH /comments/{id}``: theme, remove, edited_words, response, decision."""
        return self._call("PATCH", f"/comments/{int(comment_id)}", api_key=api_key,
                          json=changes)

    def add_action(self, api_key: str, comment_id: int, action: dict) -> dict:
        """``POST /comments/{id}/actions``: description, status, reason, service_ids."""
        return self._call("POST", f"/comments/{int(comment_id)}/actions", api_key=api_key,
                          json=action)

    def directory_tasks(self, api_key: str, status: str = "open") -> dict:
        """``GET /directory-tasks`` (editor or admin)."""
        return self._call("GET", "/directory-tasks", api_key=api_key, params={"status": status})

    def close_task(self, api_key: str, task_id: int, note: str = "") -> None:
        """``POST /directory-tasks/{id}/done``."""
        self._call("POST", f"/directory-tasks/{int(task_id)}/done", api_key=api_key,
                   json={"note": note})

    def demand(self, api_key: str, **params: Any) -> dict:
        """``GET /demand`` (commissioner or admin): rounded demand cells, small ones hidden."""
        return self._call("GET", "/demand", api_key=api_key,
                          params={k: v for k, v in params.items() if v is not None})

    def _text(self, path: str, api_key: str | None, params: dict | None = None) -> str:
        headers = {"Accept": "text/csv", **({"X-API-Key": api_key} if api_key else {})}
        response = self._request("GET", path, headers=headers, params=params)
        if response.status_code >= 400:
            raise _error_from(response)
        return response.text

    # ----------------------------------------------------------------- directory team (admin)
    def data_health(self, api_key: str, *, limit: int | None = None) -> dict:
        """``GET /admin/data-health`` (admin role): per field how many records state it, read
        it from their words or leave it unknown; conflicts; the records to fix first."""
        return self._call("GET", "/admin/data-health", api_key=api_key,
                          params={"limit": limit} if limit is not None else None)

    def list_users(self, api_key: str) -> list[dict]:
        """``GET /admin/users`` (admin role): names, roles and when made (never keys)."""
        return self._call("GET", "/admin/users", api_key=api_key)["users"]

    def create_user(self, api_key: str, name: str, role: str) -> dict:
        """``POST /admin/users`` (admin role): the new user with their key (shown once)."""
        return self._call("POST", "/admin/users", api_key=api_key,
                          json={"name": name, "role": role})

    def remove_user(self, api_key: str, name: str) -> None:
        """``DELETE /admin/users/{name}`` (admin role): their key stops working at once."""
        self._call("DELETE", f"/admin/users/{quote(name, safe='')}", api_key=api_key)

    def import_file(self, api_key: str, filename: str, data: bytes, strict: bool = False) -> dict:
        """``POST /import`` (admin role): a Local Offer CSV; the answer is the import report.
        A refused file raises :class:`ApiError` whose ``report`` holds the validation report."""
        response = self._request("POST", "/import", headers={"X-API-Key": api_key},
                                 params={"strict": str(strict).lower()},
                                 files={"file": (filename, data, "text/csv")})
        if response.status_code >= 400:
            error = _error_from(response)
            try:
                error.report = (response.json() or {}).get("report")
            except ValueError:
                error.report = None
            raise error
        return response.json()

    def import_feed(self, api_key: str, url: str, strict: bool = False) -> dict:
        """``POST /import/feed`` (admin role): the API reads the Open Referral UK or Outpost
        feed at ``url`` and imports it; the answer is the import report. A refused feed raises
        :class:`ApiError` whose ``report`` holds the validation report (when there is one).
        A large feed takes a while, so this call waits up to 10 minutes."""
        response = self._request("POST", "/import/feed", headers={"X-API-Key": api_key},
                                 json={"url": url, "strict": strict}, timeout=600.0)
        if response.status_code >= 400:
            error = _error_from(response)
            try:
                error.report = (response.json() or {}).get("report")
            except ValueError:
                error.report = None
            raise error
        return response.json()

    def data_health_csv(self, api_key: str) -> str:
        """``GET /admin/data-health.csv`` (admin role): every record to fix, as CSV text."""
        return self._text("/admin/data-health.csv", api_key)


def get_client() -> ApiClient:
    """The browser session's client (made on first use from ``MATCHER_API_URL``)."""
    import streamlit as st

    client = st.session_state.get(SESSION_KEY)
    if client is None:
        client = ApiClient()
        st.session_state[SESSION_KEY] = client
    return client
