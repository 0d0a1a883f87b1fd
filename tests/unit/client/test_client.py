"""The market-data client against the real API served over HTTP (uvicorn on a free port) from a DuckDB file."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import polars
import pyarrow as pa
import pytest
import uvicorn
from pydantic import SecretStr

from scalar_ray.client import AsyncMarketDataClient, ClientError, MarketDataClient
from scalar_ray.core.backoff import Backoff
from scalar_ray.core.window import Window
from scalar_ray.feed import InMemoryChangeFeed, change_events
from scalar_ray.marketdata import MarketData
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.parsing import FetchContext
from scalar_ray.serving.api import build_api
from scalar_ray.warehouse import DuckDBWarehouse
from tests.conftest import FIXTURES
from tests.integration.conftest import free_port
from tests.unit.serving.fixtures import platform
from tests.unit.spine_helpers import NOW, observations

KEY = "client-key-0123456789abcdef"
PRICE = "jao/auctions/IF1-FR-GB/auction_price"
OFFERED = "jao/auctions/IF1-FR-GB/offered_capacity"
START, END = datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 23, tzinfo=UTC)  # 26 Oct in Paris
FAST = Backoff(0.01, 0.05)
FEED = InMemoryChangeFeed()


class Flaky:
    """ASGI middleware: the first ``failures`` requests answer 503 with Retry-After: 0 (a replica restarting)."""

    def __init__(self, app: Any, failures: int) -> None:
        self.app, self.failures, self.seen = app, failures, 0

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] == "http":
            self.seen += 1
            if self.seen <= self.failures:
                await send({"type": "http.response.start", "status": 503, "headers": [(b"retry-after", b"0")]})
                await send({"type": "http.response.body", "body": b'{"error": {"code": "busy", "message": "busy"}}'})
                return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flaky]]:
    folder = tmp_path_factory.mktemp("client")
    warehouse = DuckDBWarehouse(folder / "market.duckdb")
    raw = (FIXTURES / "providers" / "jao" / "auctionapi_getauctions_IF1-FR-GB_dst_long_2025-10-26.json").read_bytes()
    asked = Window(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
    warehouse.write(parse_jao(raw, FetchContext("jao", "auctions", asked, datetime(2025, 10, 25, 10, tzinfo=UTC), "")))
    market = MarketData(warehouse)
    api = build_api(platform(folder).backend, [SecretStr(KEY)], champion_poll_s=3600, market=market, feed=FEED)
    flaky = Flaky(api, failures=0)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(flaky, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", flaky
    server.should_exit = True
    thread.join(timeout=10)
    warehouse.close()


def test_series_come_back_as_pandas_with_a_tz_aware_index_and_as_polars(served: tuple[str, Flaky]) -> None:
    url, _ = served
    with MarketDataClient(url, KEY, backoff=FAST) as client:
        answer = client.series([PRICE, OFFERED], START, END, tz="Europe/Paris")

    wide = answer.to_pandas(layout="wide")
    assert list(wide.columns) == [PRICE, OFFERED] and len(wide) == 25  # in the order asked
    assert str(wide.index.tz) == "Europe/Paris"
    assert [str(ts) for ts in wide.index[2:4]] == ["2025-10-26 02:00:00+02:00", "2025-10-26 02:00:00+01:00"]
    long = answer.to_pandas()
    assert isinstance(long.index, pd.DatetimeIndex) and len(long) == 50
    frame = answer.to_polars()
    assert isinstance(frame, polars.DataFrame) and frame.height == 50
    # The API sends the repeated ids dictionary-encoded; the client hands back plain strings.
    assert answer.table.schema.field("series_id").type == pa.string() and long["series_id"].dtype == object
    assert answer.meta["time_zone"] == "Europe/Paris" and answer.meta["series"][0]["unit"] == "EUR/MWh"


def test_aggregated_reads_carry_counts_and_pieces_join_up(served: tuple[str, Flaky]) -> None:
    url, _ = served
    with MarketDataClient(url, KEY, backoff=FAST) as client:
        daily = client.series([PRICE], START, END, tz="Europe/Paris", frequency="P1D")
        hours = list(client.iter_series([PRICE], START, END, chunk=timedelta(hours=10), tz="Europe/Paris"))

    assert daily.table["count"].to_pylist() == [25] and daily.table["expected"].to_pylist() == [25]
    assert [piece.table.num_rows for piece in hours] == [10, 10, 5]
    assert sum(piece.table.num_rows for piece in hours) == 25


def test_a_briefly_unavailable_api_is_retried_and_a_bad_request_is_raised_at_once(served: tuple[str, Flaky]) -> None:
    url, flaky = served
    flaky.seen, flaky.failures = 0, 2
    with MarketDataClient(url, KEY, backoff=FAST) as client:
        found = client.search(provider="jao")
        assert found.table.num_rows == 4 and flaky.seen == 3  # two 503s, then the answer
        with pytest.raises(ClientError) as refused:
            client.series([PRICE], START, END, frequency="PT7M")
        assert (refused.value.status, refused.value.code) == (422, "invalid_request")
        with pytest.raises(ClientError) as unknown:
            client.series(["jao/auctions/XX/price"], START, END)
        assert unknown.value.code == "unknown_series"
    with MarketDataClient(url, None, backoff=FAST) as anonymous, pytest.raises(ClientError) as unauthorised:
        anonymous.search()
    assert unauthorised.value.status == 401
    with pytest.raises(ValueError, match="no time zone"), MarketDataClient(url, KEY) as client:
        client.series([PRICE], START.replace(tzinfo=None), END)


def test_an_api_that_stays_down_fails_after_the_retries(served: tuple[str, Flaky]) -> None:
    url, flaky = served
    flaky.seen, flaky.failures = 0, 100
    with MarketDataClient(url, KEY, retries=2, backoff=FAST) as client, pytest.raises(ClientError) as failed:
        client.search()
    assert failed.value.status == 503 and flaky.seen == 3
    flaky.failures = 0
    with (
        MarketDataClient("http://127.0.0.1:9", KEY, retries=1, backoff=FAST) as nowhere,
        pytest.raises(httpx.ConnectError),
    ):
        nowhere.search()


def test_the_async_client_reads_the_same(served: tuple[str, Flaky]) -> None:
    url, _ = served

    async def read() -> tuple[int, int, int]:
        async with AsyncMarketDataClient(url, KEY, backoff=FAST) as client:
            issues = await client.issues(PRICE)
            issued_at = issues.table["issued_at"][0].as_py()
            one = await client.instance(PRICE, issued_at)
            stairs = await client.staircase([PRICE], START, END, "PT12H")
            return issues.table.num_rows, one.table.num_rows, stairs.table.num_rows

    assert asyncio.run(read()) == (1, 25, 25)


def test_the_client_follows_the_change_feed_and_resumes_after_its_last_id(served: tuple[str, Flaky]) -> None:
    url, _ = served
    start = FEED.publish(change_events(observations([0.0])))[0]
    ids = [
        FEED.publish(change_events(observations([float(n)], issued_at=NOW + timedelta(hours=n))))[0] for n in (1, 2, 3)
    ]

    with MarketDataClient(url, KEY, backoff=FAST) as client:
        first = list(client.stream(last_id=start, max_events=2))
        rest = list(client.stream(last_id=first[-1]["id"], max_events=1, area="DK1"))

    assert [change["id"] for change in first + rest] == ids
    assert [change["values"][0][1] for change in first] == [1.0, 2.0]
