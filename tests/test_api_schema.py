"""Property-based test of the API against its own OpenAPI document (schemathesis): for a
bounded number of generated requests per operation, no answer is a 5xx, every status code is
documented, and every body matches the documented schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from csv_support import TWO_SERVICES_CSV as CSV

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from matcher.api import create_app  # noqa: E402
from matcher.api.deps import ApiConfig  # noqa: E402
from matcher.ingest import run_import  # noqa: E402
from matcher.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, postcode_index):
    tmp: Path = tmp_path_factory.mktemp("api-schema")
    app = create_app(Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'schema.sqlite'}",
                              demo_data_path=tmp / "absent.csv"),
                     ApiConfig(refresh_seconds=60))
    run_import(CSV, store=app.state.resources.store, progress=False)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


#: Every operation of the API, as (method, path).
OPERATIONS = [
    ("POST", "/match"), ("GET", "/services"), ("GET", "/services/{service_id}"),
    ("GET", "/postcodes/{postcode}"), ("GET", "/vocabularies"), ("POST", "/needs/normalise"),
    ("POST", "/feedback"), ("GET", "/feedback/summary"), ("POST", "/plans"), ("GET", "/plans"),
    ("GET", "/plans/{plan_id}"), ("PUT", "/plans/{plan_id}"), ("DELETE", "/plans/{plan_id}"),
    ("POST", "/import"), ("POST", "/import/feed"), ("GET", "/health"), ("GET", "/health/ready"),
    ("GET", "/version"), ("GET", "/gaps"),
    ("GET", "/oruk/services"), ("GET", "/oruk/services/{service_id}"),
    ("GET", "/admin/data-health"), ("GET", "/admin/data-health.csv"),
    ("GET", "/oruk/"), ("GET", "/oruk/service_at_locations"),
    ("GET", "/oruk/service_at_locations/{sal_id}"), ("GET", "/oruk/taxonomies"),
    ("GET", "/oruk/taxonomies/{taxonomy_id}"), ("GET", "/oruk/taxonomy_terms"),
    ("GET", "/oruk/taxonomy_terms/{term_id}"),
    ("GET", "/council"),
    ("POST", "/comments"), ("GET", "/comments"), ("GET", "/comments/{comment_id}"),
    ("PATCH", "/comments/{comment_id}"), ("POST", "/comments/{comment_id}/actions"),
    ("PATCH", "/comment-actions/{action_id}"), ("GET", "/you-said-we-did"),
    ("GET", "/you-said-we-did/annual.csv"), ("GET", "/services/{service_id}/check"),
    ("GET", "/directory-tasks"), ("POST", "/directory-tasks/{task_id}/done"),
    ("GET", "/demand"),
    ("GET", "/admin/users"), ("POST", "/admin/users"), ("DELETE", "/admin/users/{name}"),
]


def test_operations_list_is_complete(api_schema):
    found = sorted((op.ok().method.upper(), op.ok().path)
                   for op in api_schema.get_all_operations())
    assert found == sorted(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_api_conforms_to_its_schema(api_schema, method, path):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                       response_schema_conformance])

    check()
