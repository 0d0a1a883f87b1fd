"""pynordpool and jao-py as referees: each reads the same real answers as our parsers, and the two agree exactly.

- pynordpool (Nord Pool's data portal): each real portal answer in the fixtures is served by a real local HTTP server
  (aiohttp's, the library pynordpool is built on) and fetched by pynordpool's own client, which parses
  ``deliveryStart`` and ``entryPerArea`` into its entries. Its (area, UTC start, value) triples and its ``updatedAt``
  must equal our rows and vintage.
- jao-py (JAO's Publication Tool): its ``parse_base_output`` turns a real answer's rows into a frame indexed by MTU
  (Europe/Amsterdam), one column per border; every (border, UTC start, value) must equal ours.

No difference was found on any of these payloads. jao-py has no parser for the Auction API's answers (it hands them
back as JSON), so JAO auctions are checked against the values and UTC times written out in test_jao_parser.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import aiohttp
import pandas as pd
import pynordpool
import pytest
from aiohttp import web
from jao import parsers as jao_py

from scalar_ray.providers.jao_parser import JAO_PUBLICATION_VARIABLES, jao_area, parse_jao
from scalar_ray.providers.nordpool_parser import nordpool_area, parse_nordpool
from tests.unit.providers.helpers import context, fixture_bytes

Triples = set[tuple[str, datetime, float]]

CASES = [
    pytest.param("dataportal_DayAheadPrices_SE3_2024-11-05.json", "DayAheadPrices", id="prices_SE3_hourly"),
    pytest.param("dataportal_DayAheadPriceIndices_FI_15min.json", "DayAheadPriceIndices", id="indices_FI_15min"),
    pytest.param("dataportal_DayAheadPriceIndices_FI_60min.json", "DayAheadPriceIndices", id="indices_FI_60min"),
    pytest.param("dataportal_DayAheadPriceIndices_SE1-4_60min.json", "DayAheadPriceIndices", id="indices_SE1-4"),
    pytest.param("dataportal_DayAheadPriceIndices_SYSTEM_60min.json", "DayAheadPriceIndices", id="indices_SYSTEM"),
]


async def pynordpool_reads(payload: bytes, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Triples, datetime]:
    """pynordpool's entries and ``updatedAt`` for ``payload``, fetched over HTTP from a local server."""
    document = json.loads(payload)

    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=payload, content_type="application/json")

    app = web.Application()
    app.router.add_get(f"/api/{endpoint}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    monkeypatch.setattr(pynordpool, "API", f"http://127.0.0.1:{port}/api")  # its base URL is a module constant
    day = datetime.fromisoformat(document["deliveryDateCET"])
    currency = pynordpool.Currency(document["currency"])
    try:
        async with aiohttp.ClientSession() as session:
            client = pynordpool.NordPoolClient(session)
            if endpoint == "DayAheadPrices":
                data = await client.async_get_delivery_period(day, currency, document["deliveryAreas"])
            else:
                data = await client.async_get_price_indices(
                    day, currency, document["indexNames"], resolution=document["resolutionInMinutes"]
                )
    finally:
        await runner.cleanup()
    triples = {
        (nordpool_area(area), entry.start.astimezone(UTC), float(value))
        for entry in data.entries
        for area, value in entry.entry.items()
    }
    return triples, data.updated_at.astimezone(UTC)


@pytest.mark.parametrize(("name", "endpoint"), CASES)
def test_pynordpool_reads_the_same_prices_at_the_same_utc_times(
    name: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = fixture_bytes("nordpool", name)

    theirs, updated_at = asyncio.run(pynordpool_reads(payload, endpoint, monkeypatch))
    table = parse_nordpool(payload, context("nordpool", endpoint))

    rows = table.select(["area", "ts", "value", "issued_at"]).to_pylist()
    ours = {(row["area"], row["ts"], row["value"]) for row in rows}
    assert len(ours) == len(rows) == len(theirs) > 0
    assert ours == theirs
    assert {row["issued_at"] for row in rows} == {updated_at}


@pytest.mark.parametrize(
    "dataset", ["atc", "maxExchanges", "scheduledExchanges", "shadowAuctionATC"], ids=lambda dataset: dataset
)
def test_jao_py_reads_the_same_borders_at_the_same_utc_times(dataset: str) -> None:
    payload = fixture_bytes("jao", f"publicationtool_core_{dataset}.json")

    frame: pd.DataFrame = jao_py.parse_base_output(json.loads(payload)["data"])
    table = parse_jao(payload, context("jao", dataset, area="CORE"))

    assert str(frame.index.tz) == "Europe/Amsterdam"  # jao-py's MTU index; compared in UTC
    theirs = {
        (f"{jao_area(source)}>{jao_area(target)}", ts.tz_convert("UTC").to_pydatetime(), float(value))
        for column in frame.columns
        if column.startswith("border_")
        for source, target in [column.removeprefix("border_").split("_")]
        for ts, value in frame[column].dropna().items()
    }
    rows = table.select(["area", "ts", "value"]).to_pylist()
    ours = {(row["area"], row["ts"], row["value"]) for row in rows}
    assert len(ours) == len(rows) == len(theirs) > 0
    assert ours == theirs
    assert {row["variable"] for row in table.select(["variable"]).to_pylist()} == {JAO_PUBLICATION_VARIABLES[dataset]}
