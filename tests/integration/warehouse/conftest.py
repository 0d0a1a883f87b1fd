"""StarRocks for the warehouse tests: the protocol double always, a real StarRocks when one is configured.

A real cluster is used when ``SCALAR_TEST_STARROCKS_HTTP_URL`` (FE HTTP, e.g. http://127.0.0.1:8030) is set, with
``SCALAR_TEST_STARROCKS_MYSQL_PORT`` (9030), ``SCALAR_TEST_STARROCKS_USER`` (root) and
``SCALAR_TEST_STARROCKS_PASSWORD``; each test gets a database of its own. Without it those cases are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from scalar_ray.config.settings import StarRocksSettings
from scalar_ray.warehouse import DuckDBWarehouse, InMemoryWarehouse, Warehouse
from scalar_ray.warehouse.starrocks import StarRocksWarehouse
from tests.doubles.starrocks import StarRocksDouble


@pytest.fixture(scope="session")
def starrocks_double() -> Iterator[StarRocksDouble]:
    with StarRocksDouble() as double:
        yield double


def double_settings(double: StarRocksDouble, database: str = "scalar") -> StarRocksSettings:
    """Adapter settings pointing at the double; a database of its own keeps tests apart."""
    return StarRocksSettings(
        http_url=double.http_url,
        mysql_host="127.0.0.1",
        mysql_port=double.mysql_port,
        user=double.user,
        password=SecretStr(double.password),
        database=database,
    )


def real_starrocks_settings(database: str) -> StarRocksSettings:
    """Settings for the configured real StarRocks, or skip."""
    http_url = os.environ.get("SCALAR_TEST_STARROCKS_HTTP_URL")
    if not http_url:
        pytest.skip("no real StarRocks configured (set SCALAR_TEST_STARROCKS_HTTP_URL to run against one)")
    return StarRocksSettings(
        http_url=http_url,
        mysql_host=urlsplit(http_url).hostname or "127.0.0.1",
        mysql_port=int(os.environ.get("SCALAR_TEST_STARROCKS_MYSQL_PORT", "9030")),
        user=os.environ.get("SCALAR_TEST_STARROCKS_USER", "root"),
        password=SecretStr(os.environ.get("SCALAR_TEST_STARROCKS_PASSWORD", "")),
        database=database,
        replication_num=1,
    )


@pytest.fixture(params=["memory", "duckdb", "starrocks-double", "starrocks"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """Each adapter in turn: the fake, a real DuckDB file, the StarRocks double, a real StarRocks if configured."""
    adapter: Warehouse
    if request.param == "memory":
        adapter = InMemoryWarehouse()
    elif request.param == "duckdb":
        adapter = DuckDBWarehouse(tmp_path / "w.duckdb")
    elif request.param == "starrocks-double":
        double = request.getfixturevalue("starrocks_double")
        adapter = StarRocksWarehouse(double_settings(double, database=f"c{uuid.uuid4().hex[:8]}"))
    else:
        adapter = StarRocksWarehouse(real_starrocks_settings(f"scalar_test_{uuid.uuid4().hex[:8]}"))
    yield adapter
    adapter.close()
