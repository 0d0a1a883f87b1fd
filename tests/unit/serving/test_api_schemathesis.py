"""Schemathesis against the forecast API's own OpenAPI document, with and without keys.

Every operation gets requests generated from the document, valid ones (positive mode) and ones that break it
(negative mode): no answer may be a 5xx, and every 4xx must be in the API's error shape. The cases are drawn from
Schemathesis's strategies with Hypothesis directly: its pytest plugin does not run on pytest 9.2 (it reads the
``_nodeid`` that pytest 9.2 removed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr

from scalar_ray.marketdata import MarketData
from scalar_ray.serving.api import build_api
from tests.unit.serving.fixtures import platform

KEY = "s" * 24
ERROR_FIELDS = {"code", "message", "hint"}  # the hint is optional (ErrorDetail)
EXAMPLES = 30  # per operation, mode and key setting: 14 operations x 2 modes x 2 settings x 30 = 1,680 cases
CALLS = {"count": 0}


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("keys", [False, True], ids=["open", "with_keys"])
def test_no_request_gets_a_5xx_and_every_4xx_is_in_the_error_shape(
    tmp_path: Path, keys: bool, mode: schemathesis.GenerationMode
) -> None:
    served = platform(tmp_path)
    market = MarketData(served.warehouse)  # the market-data routes too, over the same warehouse
    app = build_api(served.backend, [SecretStr(KEY)] if keys else None, champion_poll_s=3600, market=market)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14  # the forecast routes and the eight market-data ones
    for operation in operations:

        @seed(20261202)
        @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None, database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            for headers in ({}, {"Authorization": f"Bearer {KEY}"}):
                response = case.call(headers=headers)
                CALLS["count"] += 1
                label = f"{case.method} {case.formatted_path} {case.query}"
                assert response.status_code < 500, f"{label}: {response.text[:300]}"
                if response.status_code >= 400:
                    body = response.json()
                    assert set(body) == {"error"}, f"{label}: {response.text}"
                    assert {"code", "message"} <= set(body["error"]) <= ERROR_FIELDS, f"{label}: {response.text}"

        try:
            run()
        except Unsatisfiable:
            # Nothing to break: an operation without parameters or body has no negative cases.
            assert mode is schemathesis.GenerationMode.NEGATIVE and not list(operation.iter_parameters())
