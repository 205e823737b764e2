"""Every endpoint against its own OpenAPI schema (schemathesis, stateless, bounded examples):
no 5xx, every response matches its documented schema, content type and status codes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app
from service.paths import schedules_dir

KEY = "conformance-curator-key-0123456789"
EXAMPLES = 12  # per operation
# Conformance, not speed: a first backtest summary of a fingerprint computes the whole backtest
# (seconds, more on a loaded machine); the client's default 10 s read timeout would fail it.
TIMEOUT = 300.0
# What the contract promises. Not `positive_data_acceptance`: a schema-valid request can still
# be refused with a documented 422 when its content is wrong (an unknown jurisdiction, a
# string that is no molecule); that refusal is itself checked against the schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

_db = service_database_url(Path(tempfile.mkdtemp(prefix="aw-conformance-")), "c.db")
APP = create_app(
    service_settings(
        _db,
        schedules_dir=schedules_dir(),
        curator_api_keys=[KEY],
        rate_limit_batch="",
        rate_limit_import="",
    )
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    with TestClient(APP):  # the lifespan: migrate, load the registry, build the index
        yield


def test_every_route_is_in_the_schema() -> None:
    paths = {label.split(" ", 1)[1] for label in OPERATIONS}
    assert {"/check", "/check/batch", "/substances", "/lag", "/health", "/registry/export"} <= paths


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_conforms(label: str) -> None:
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"X-API-Key": KEY}, checks=CHECKS, timeout=TIMEOUT)

    run()
