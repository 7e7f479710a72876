"""Property-based fuzzing of the served OpenAPI document (schemathesis) against a real server.

Whatever schemathesis generates from the document — valid or not — the server must answer
without a 5xx, with a documented status code, a JSON content type and a body matching the
documented schema. Bounded: a few examples per operation, on a file SQLite database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from postventa.config import DEMO_OPERATOR_KEY
from tests.test_server_process import running_server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    log = tmp_path_factory.mktemp("fuzzlog") / "serve.log"
    with running_server(url, log, workers=1) as (base, demo_json):
        yield base, demo_json


def _exercise(operation: Any, base: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base, headers=headers)
        assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
        case.validate_response(
            response,
            checks=(status_code_conformance, content_type_conformance, response_schema_conformance),
        )

    run()


@pytest.mark.slow
def test_no_server_errors_and_documented_answers(live_server: tuple[str, dict[str, Any]]) -> None:
    base, demo_json = live_server
    headers = {
        "Authorization": f"Bearer {demo_json['users']['seller']['access_token']}",
        "X-Postventa-Operator-Key": DEMO_OPERATOR_KEY,
    }
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        _exercise(operation, base, headers)
