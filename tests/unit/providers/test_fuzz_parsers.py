"""Hostile input: structure-aware mutations of every real payload give a table or a ``PayloadError``, nothing else.

Each example takes one real fixture of the provider (Volue has none public: its documented shape stands in), cuts long
lists and repeated elements down so an example stays cheap, then mutates it the way real answers go wrong: a value
replaced by a huge integer, null, a wrong type, a hostile duration (``PT0M``, ``PT30S``), a far position or date, a
long string; a field removed; the body truncated. The parser must answer with a canonical table within the row bound,
or raise ``PayloadError`` (or one of its kin, a ``ProviderError``); any other exception, or running past the time
bound, is a bug. CI runs a fixed seed at 2,000 examples per provider; ``SCALAR_RAY_FUZZ_EXAMPLES`` asks for more.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from scalar_ray.core.errors import ProviderError
from scalar_ray.core.observations import OBSERVATION_SCHEMA
from scalar_ray.providers.parsing import MAX_ROWS_PER_PAYLOAD
from tests.unit.providers.helpers import context, fixture_bytes
from tests.unit.providers.real_payloads import PARSERS, dataset_and_area, every_fixture

EXAMPLES = int(os.environ.get("SCALAR_RAY_FUZZ_EXAMPLES", "2000"))
# A hang detector, not a performance figure: a cut-down payload parses in milliseconds; a loop without end does not.
TIME_BOUND_S = 5.0
KEEP = 6  # list items and repeated XML elements kept per level

VOLUE_DOCUMENTED = json.dumps(  # the instance shape of wapi-python's tests: no real Volue answer is public
    [
        {
            "id": 1,
            "name": "pro de wnd ec00 mwh/h cet min15 f",
            "frequency": "MIN15",
            "time_zone": "CET",
            "issue_date": "2025-10-01T00:00:00+00:00",
            "tag": "Avg",
            "unit": "MWh/h",
            "points": [[1_759_276_800_000 + 900_000 * i, 1000.0 + i] for i in range(8)],
        }
    ]
).encode()

HOSTILE_JSON: list[Any] = [
    10**400,
    -(10**400),
    None,
    "",
    "x",
    "PT0M",
    "PT30S",
    "P0D",
    "PT-15M",
    float("inf"),
    float("nan"),
    "9999-12-31T23:59:59Z",
    "0000-00-00T00:00:00Z",
    "2025-02-30T00:00:00Z",
    "2025-10-26T02:30:00",
    [],
    {},
    [1, 2],
    {"a": 1},
    True,
    0,
    -1,
    999_999_999_999,
    "9" * 400,
    "A" * 10_000,
]
HOSTILE_TEXT = [
    "PT0M",
    "PT30S",
    "P0D",
    "PT1M",
    "P1Y",
    "999999999999",
    "-1",
    "0",
    "",
    "1e400",
    "NaN",
    "inf",
    "2025-13-45T00:00Z",
    "9999-12-31T23:59Z",
    "0001-01-01T00:00Z",
    "x" * 1000,
    "9" * 400,
    "A03",
    "B01",
]


@functools.cache  # read once per provider, not once per example
def seeds(provider: str) -> list[tuple[str, bytes]]:
    if provider == "volue":
        return [("documented_instances.json", VOLUE_DOCUMENTED)]
    return [(name, fixture_bytes(provider, name)) for owner, name in every_fixture() if owner == provider]


def cut(document: Any) -> Any:
    """The same structure with every list cut to its first few items (an example stays cheap)."""
    if isinstance(document, list):
        return [cut(item) for item in document[:KEEP]]
    if isinstance(document, dict):
        return {key: cut(value) for key, value in document.items()}
    return document


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(document, list):
        for index, item in enumerate(document):
            found += paths(item, (*prefix, index))
    elif isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    return found


@functools.cache
def _cut_document(payload: bytes) -> Any:
    return cut(json.loads(payload))


def mutate_json(draw: st.DrawFn, payload: bytes) -> bytes:
    document = copy.deepcopy(_cut_document(payload))  # decoded and cut once per fixture; each example mutates a copy
    for _ in range(draw(st.integers(1, 3))):
        candidates = paths(document)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(HOSTILE_JSON)))  # never share a list or dict
    return json.dumps(document).encode()


def cut_xml(text: str) -> str:
    """Repeated ``<Point>`` and ``<TimeSeries>`` elements cut to the first few."""
    for tag in ("Point", "TimeSeries"):
        seen = 0

        def keep(match: re.Match[str]) -> str:
            nonlocal seen
            seen += 1
            return match.group(0) if seen <= KEEP else ""

        text = re.sub(rf"<{tag}>.*?</{tag}>\s*", keep, text, flags=re.DOTALL)
    return text


def mutate_text(draw: st.DrawFn, payload: bytes, xml: bool) -> bytes:
    text = payload.decode("utf-8", errors="replace")
    text = cut_xml(text) if xml else "\n".join(text.splitlines()[: KEEP * 4])
    # Text nodes of XML, cells of CSV: where the values, positions, resolutions and dates live.
    pattern = re.compile(r">([^<>]+)<") if xml else re.compile(r"[^,;\n]+")
    for _ in range(draw(st.integers(1, 3))):
        spans = [match.span(1 if xml else 0) for match in pattern.finditer(text)]
        if not spans:
            break
        low, high = draw(st.sampled_from(spans))
        text = text[:low] + draw(st.sampled_from(HOSTILE_TEXT)) + text[high:]
    return text.encode()


@st.composite
def hostile(draw: st.DrawFn, provider: str) -> tuple[str, bytes]:
    name, payload = draw(st.sampled_from(seeds(provider)))
    if name.endswith(".json"):
        mutated = mutate_json(draw, payload)
    else:
        mutated = mutate_text(draw, payload, xml=name.endswith(".xml"))
    if draw(st.integers(0, 9)) == 0:  # one in ten: the body ends early too
        mutated = mutated[: draw(st.integers(0, len(mutated)))]
    return name, mutated


def parse_bounded(provider: str, name: str, payload: bytes) -> None:
    dataset, area = dataset_and_area(provider, name) if provider != "volue" else ("de_wind_ec00", "DE-LU")
    parser: Callable[..., Any] = PARSERS[provider]
    started = time.perf_counter()
    try:
        table = parser(payload, context(provider, dataset, area=area, variable="wind_forecast"))
    except ProviderError:
        pass  # typed, named refusal: what hostile input should get
    else:
        assert table.schema == OBSERVATION_SCHEMA
        assert table.num_rows <= MAX_ROWS_PER_PAYLOAD
    assert time.perf_counter() - started < TIME_BOUND_S, f"{provider}/{name}: past the time bound"


@pytest.mark.parametrize("provider", sorted(PARSERS))
def test_hostile_payloads_get_a_table_or_a_payload_error(provider: str) -> None:
    @seed(20261201)
    @settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=hostile(provider))
    def run(case: tuple[str, bytes]) -> None:
        parse_bounded(provider, *case)

    run()
