"""The StarRocks adapter against the protocol double: redirect, labels and every documented Stream Load status."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.core.errors import WarehouseError
from scalar_ray.ingestion.batcher import FlushPolicy
from scalar_ray.ingestion.worker import IngestionWorker
from scalar_ray.warehouse.starrocks import StarRocksWarehouse
from scalar_ray.warehouse.stream_load import StreamLoadClient
from tests.doubles.starrocks import StarRocksDouble
from tests.integration.warehouse.conftest import double_settings
from tests.integration.warehouse.test_contract import batch
from tests.unit.spine_helpers import HOUR, NOW, envelope, observations

pytestmark = pytest.mark.integration

ISSUED = datetime(2025, 10, 25, 11, tzinfo=UTC)
DEAD_LETTERS = "persistent://scalar/acquisition/dead-letter"


@pytest.fixture
def database() -> str:
    return f"p{uuid.uuid4().hex[:8]}"


@pytest.fixture
def warehouse(starrocks_double: StarRocksDouble, database: str) -> Iterator[StarRocksWarehouse]:
    adapter = StarRocksWarehouse(double_settings(starrocks_double, database))
    yield adapter
    adapter.close()


def loads_of(double: StarRocksDouble, label_part: str) -> list[str]:
    return [load.status for load in double.loads if label_part in load.label]


def test_loads_follow_the_fe_redirect_with_credentials_and_expect_100_continue(
    warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble
) -> None:
    warehouse.write(batch([1.0, 2.0], ISSUED), batch_id="b1")

    mine = [load for load in starrocks_double.loads if load.label.endswith("_b1")]
    assert {load.table for load in mine} == {"series", "observations"}
    assert all(load.authorized_user == "root" and load.expect_header == "100-continue" for load in mine)
    assert warehouse.count() == 2


def test_the_tables_follow_starrocks_primary_key_rules_and_are_partitioned_by_day(
    warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble, database: str
) -> None:
    warehouse.ensure_schema()

    assert starrocks_double.tables[(database, "observations")] == ["series_id", "ts", "issued_at"]
    ddl = next(s for s in starrocks_double.statements if f"{database}.observations" in s)
    assert "PARTITION BY" in ddl.upper()
    assert "DATE_TRUNC('DAY', TS)" in ddl.upper().replace('"', "'")


def test_a_retried_batch_carries_the_same_label_and_is_not_loaded_twice(
    warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble
) -> None:
    rows = batch([1.0, 2.0, 3.0], ISSUED)

    warehouse.write(rows, batch_id="retry")
    warehouse.write(rows, batch_id="retry")

    assert loads_of(starrocks_double, "observations_retry") == ["Success", "Label Already Exists"]
    assert warehouse.count() == 3


def test_publish_timeout_counts_as_loaded(warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble) -> None:
    warehouse.ensure_schema()
    starrocks_double.faults.publish_timeout_next = 2

    result = warehouse.write(batch([1.0], ISSUED), batch_id="pt")

    assert result.rows == 1
    assert loads_of(starrocks_double, "_pt") == ["Publish Timeout", "Publish Timeout"]


def test_a_failed_load_raises_and_the_same_label_loads_on_retry(
    warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble
) -> None:
    warehouse.ensure_schema()
    starrocks_double.faults.fail_next = 1

    with pytest.raises(WarehouseError, match="Reached timeout"):
        warehouse.write(batch([1.0], ISSUED), batch_id="flaky")
    warehouse.write(batch([1.0], ISSUED), batch_id="flaky")

    assert warehouse.count() == 1


def test_a_label_still_running_is_polled_then_reported_for_a_later_retry(
    starrocks_double: StarRocksDouble, database: str
) -> None:
    settings = double_settings(starrocks_double, database)
    assert settings.password is not None
    loader = StreamLoadClient(str(settings.http_url), database, "root", settings.password, state_wait_s=1)
    adapter = StarRocksWarehouse(settings, loader)
    adapter.ensure_schema()
    starrocks_double.faults.running_labels.add("scalar_series_busy")
    try:
        with pytest.raises(WarehouseError, match="still PREPARE; retry later"):
            adapter.write(batch([1.0], ISSUED), batch_id="busy")
    finally:
        starrocks_double.faults.running_labels.clear()
    adapter.write(batch([1.0], ISSUED), batch_id="busy")

    assert adapter.count() == 1
    adapter.close()


def test_a_rejected_row_fails_the_load_and_the_error_log_is_quoted(
    warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble, database: str
) -> None:
    warehouse.ensure_schema()
    loader = StreamLoadClient(starrocks_double.http_url, database, "root", SecretStr("secret"))

    with pytest.raises(WarehouseError, match=r"error log .*_load_error_log.*Error"):
        loader.load(
            "observations",
            b"a\tnot-a-time\t2025-10-25 00:00:00\t1.0\n",
            "bad_rows",
            {"columns": "series_id,ts,issued_at,value"},
        )
    loader.close()


def test_a_wrong_password_is_a_clear_error_that_does_not_repeat_the_password(
    starrocks_double: StarRocksDouble, database: str
) -> None:
    loader = StreamLoadClient(starrocks_double.http_url, database, "root", SecretStr("hunter2"))

    with pytest.raises(WarehouseError, match="refused the user or password") as raised:
        loader.load("observations", b"", "denied", {})
    assert "hunter2" not in str(raised.value)
    loader.close()


def test_a_value_that_would_need_quoting_is_refused_before_loading(warehouse: StarRocksWarehouse) -> None:
    rows = batch([1.0], ISSUED)
    tabbed = rows.set_column(0, rows.schema.field(0), [["entsoe/A44/DK1\tprice"]])

    with pytest.raises(WarehouseError, match="plain CSV"):
        warehouse.write(tabbed)


def test_a_label_whose_earlier_job_aborted_is_loaded_again(
    warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble
) -> None:
    warehouse.ensure_schema()
    starrocks_double.faults.aborting_labels.add("scalar_observations_aborted")

    warehouse.write(batch([1.0, 2.0], ISSUED), batch_id="aborted")

    assert loads_of(starrocks_double, "observations_aborted") == ["Label Already Exists", "Success"]
    assert warehouse.count() == 2


def test_a_poison_batch_on_stream_load_is_bisected_and_only_its_bad_message_dead_lettered(
    warehouse: StarRocksWarehouse, starrocks_double: StarRocksDouble
) -> None:
    warehouse.ensure_schema()
    broker = InMemoryBroker()
    for number in range(4):
        area = "DK\t1" if number == 2 else "DK1"  # a tab in the series id cannot travel in Stream Load's plain CSV
        rows = observations([float(number)], HOUR + timedelta(hours=number), area=area)
        payload, properties = envelope(rows, fetch_id=f"f{number}").encode()
        broker.send(OutgoingMessage("persistent://scalar/acquisition/entsoe", payload, properties, "entsoe/A44/DK1"))
    worker = IngestionWorker(
        broker.source(), warehouse, None, broker, DEAD_LETTERS, FlushPolicy(max_rows=1000), wall_clock=lambda: NOW
    )

    worker.step()
    worker.step()

    assert warehouse.count() == 3
    assert [m.properties["fetch_id"] for m in broker.topics[DEAD_LETTERS]] == ["f2"]
    assert broker.backlog_of("persistent://scalar/acquisition/entsoe") == 0
    assert worker.stats.writing_blocked_since is None
