"""Small pieces of the API layer: error wording, log redaction, retention dates, exports."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from matcher.api.errors import field_name, plain_message, problems_from_errors
from matcher.api.middleware import RedactAccessLog, redact_path, too_large_message
from matcher.api.security import forbidden_message, require_role
from matcher.plans import PlanContent, default_retention
from matcher.store.users import hash_key


@pytest.mark.parametrize(("loc", "name"), [
    (("body", "age"), "age"),
    (("body", "travel", "max_minutes"), "travel.max_minutes"),
    (("body", "needs", 2), "needs[2]"),
    (("body", "services", 0, "service_id"), "services[0].service_id"),
    (("query", "size"), "size"),
    (("path", "postcode"), "postcode"),
    (("body",), "body"),
    (("body", 12), "body"),
])
def test_field_name(loc, name):
    assert field_name(loc) == name


def test_range_messages_use_both_bounds_when_known():
    err = {"type": "less_than_equal", "loc": ("body", "age"), "ctx": {"le": 25}}
    assert plain_message(err, "age") == "age must be at most 25"
    bounds = {"age": {"ge": 0, "le": 25}}
    assert plain_message(err, "age", bounds) == "age must be between 0 and 25"
    err = {"type": "greater_than", "loc": ("body", "x"), "ctx": {"gt": 0.0}}
    assert plain_message(err, "x", {"x": {"gt": 0.0, "le": 240.0}}) == \
        "x must be more than 0 and at most 240"


def test_unknown_error_types_still_name_the_field():
    err = {"type": "url_parsing", "loc": ("body", "url"), "msg": "Input should be a valid URL"}
    assert plain_message(err, "url") == "url: input should be a valid URL"


def test_problems_never_copy_the_input():
    errors = [{"type": "int_parsing", "loc": ("body", "age"), "msg": "bad",
               "input": "N7 8JN my secret"}]
    out = problems_from_errors(errors)
    assert out == [{"field": "age", "message": "age must be a whole number written without "
                                               'quotes, for example 7 (not true, false or "7")',
                    "type": "int_parsing"}]
    assert "secret" not in repr(out)


@pytest.mark.parametrize(("path", "expected"), [
    ("/postcodes/N7%208JN", "/postcodes/{redacted}"),
    ("/services?q=autism&age=10", "/services"),
    ("/plans/abc123", "/plans/{redacted}"),
    ("/match", "/match"),
])
def test_redact_path(path, expected):
    assert redact_path(path) == expected


def test_access_log_filter_drops_address_and_postcode():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("10.1.2.3:5555", "GET",
                                                           "/postcodes/E5%209DQ?x=1", "1.1", 200),
                               None)
    assert RedactAccessLog().filter(record) is True
    line = record.getMessage()
    assert line == '- - "GET /postcodes/{redacted} HTTP/1.1" 200'


@pytest.mark.parametrize(("today", "expected"), [
    (dt.date(2025, 3, 15), dt.date(2026, 3, 15)),
    (dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
    (dt.date(2025, 12, 31), dt.date(2026, 12, 31)),
])
def test_default_retention_is_twelve_months(today, expected):
    assert default_retention(today) == expected


def test_plan_retain_until_cannot_be_in_the_past():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="retain_until must be today or a later date"):
        PlanContent(label="A", retain_until=dt.date.today() - dt.timedelta(days=1))
    assert PlanContent(label=" A1 ").label == "A1"


def test_messages():
    assert forbidden_message(("admin",)) == "This needs the admin role."
    assert forbidden_message(("commissioner", "admin")) == \
        "This needs the commissioner or admin role."
    assert too_large_message(64 * 1024, False).startswith("The request body is too large: at "
                                                          "most 64 KB of JSON")
    assert "5 MB" in too_large_message(5 * 1024 * 1024, True)
    with pytest.raises(ValueError):
        require_role()


def test_key_hash_is_sha256_hex():
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_public_surface():
    import matcher.api as api

    assert api.__all__ == ["create_app"]
    from matcher.api import app, deps, errors, middleware, schemas, security, serve

    for module in (app, deps, errors, middleware, schemas, security, serve):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
