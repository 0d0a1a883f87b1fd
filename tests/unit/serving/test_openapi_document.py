"""docs/openapi.json is the API's document as the code builds it: regenerate it when a route changes."""

from __future__ import annotations

import json

from scalar_ray.serving.openapi import OPENAPI_PATH, openapi_json
from tests.conftest import PROJECT_ROOT


def test_the_committed_openapi_document_is_the_generated_one() -> None:
    assert (PROJECT_ROOT / OPENAPI_PATH).read_text(encoding="utf-8") == openapi_json(), (
        "regenerate with `python -m scalar_ray.serving.openapi`"
    )


def test_the_document_describes_the_market_data_routes_with_their_formats() -> None:
    document = json.loads(openapi_json())
    values = document["paths"]["/v1/series/values"]["get"]
    parameters = {parameter["name"]: parameter for parameter in values["parameters"]}

    assert {"id", "start", "end", "as_of", "vintage", "tz", "frequency", "aggregation", "hours", "layout"} <= set(
        parameters
    )
    assert set(values["responses"]["200"]["content"]) == {
        "application/json",
        "text/csv",
        "application/vnd.apache.arrow.stream",
        "application/vnd.apache.parquet",
    }
    assert values["security"] == [{"HTTPBearer": []}]
