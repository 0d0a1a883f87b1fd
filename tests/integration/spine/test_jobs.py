"""Ray Data jobs on the real local Ray: a backfill into the warehouse and a topic replay, both repeatable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
import ray

from actors.warehouse import ensure_warehouse_actor
from jobs.backfill import run as run_backfill
from jobs.datasink import WarehouseDatasink
from jobs.replay import replay
from scalar_ray.acquisition.backfill import BackfillItem, plan_backfill
from scalar_ray.broker.topics import acquisition_topic
from scalar_ray.composition import acquisition_tasks
from scalar_ray.config import load_settings
from scalar_ray.core.window import Window
from scalar_ray.warehouse.remote import RemoteWarehouse
from tests.unit.spine_helpers import observations

pytestmark = pytest.mark.integration


def test_a_backfill_writes_every_window_once_and_reports_the_failed_ones(spine_environment: dict[str, str]) -> None:
    settings = load_settings(
        {
            **spine_environment,
            # Provider-stamped vintages (document times): a re-fetch of a past day gives the same keys.
            "SCALAR_ACQUISITION__DATASETS": "entsoe/A44,entsoe/A65-actual",
            "SCALAR_ACQUISITION__AREAS": "DK1,DK2",
        }
    )
    ensure_warehouse_actor(settings)
    warehouse = RemoteWarehouse(settings.ray.namespace)
    tasks = acquisition_tasks(settings, "entsoe")
    # Days that are complete and published (the last one is still being revised at first).
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    items = plan_backfill(tasks, Window(end - timedelta(days=3), end))
    broken = BackfillItem("entsoe", "A44", "DK1", end, end - timedelta(days=1))

    first = run_backfill(settings, [*items, broken], concurrency=2)
    stored = warehouse.count()
    again = run_backfill(settings, items, concurrency=2)

    assert len(items) == 16  # 2 datasets x 2 areas x 4 pieces: three UTC days cut at the local midnights
    assert first.done == first.total == 17
    assert list(first.errors) == [broken.name]
    assert sum(first.rows.values()) == stored == first.written
    assert stored >= 4 * 3 * 92  # at least 3 days of quarter-hours per series and area
    assert warehouse.count() == stored  # the second run merged onto the first
    assert again.errors == {}
    staging = "select table_name from information_schema.tables where table_name like 'bulk_%'"
    assert warehouse.query(staging)["table_name"].to_pylist() == ["bulk_chunks"]  # both loads merged and dropped


def test_a_replay_reloads_a_topic_into_the_warehouse(start_spine) -> None:  # type: ignore[no-untyped-def]
    platform = start_spine(SCALAR_ACQUISITION__DATASETS="elia/ods134")
    assert platform.settled(), platform.describe()
    stored = platform.warehouse.count()
    platform.warehouse.compact(datetime(2100, 1, 1, tzinfo=UTC))  # empty the warehouse
    assert platform.warehouse.count() == 0

    summary = replay(platform.settings, acquisition_topic(platform.settings.broker.tenant, "elia"), None, None)

    assert summary["rejected"] == 0
    assert platform.warehouse.count() == stored == summary["written"]


def test_the_datasink_loads_every_row_of_blocks_gathered_past_a_chunk_once(spine_environment: dict[str, str]) -> None:
    settings = load_settings(spine_environment)
    ensure_warehouse_actor(settings)
    warehouse = RemoteWarehouse(settings.ray.namespace)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # Small blocks (windows of 5 series x 960 quarter-hours) and one bigger than a chunk of 50,000 rows: each task
    # gathers its blocks and stages slices of them, each slice under a name of its own (tests/unit/test_content_digest).
    values = [float(point) for point in range(960)]
    areas = ("DK1", "DK2", "NO1", "NO2", "SE3")
    small = [
        pa.concat_tables(observations(values, start + timedelta(days=10 * day), area=area) for area in areas)
        for day in range(30)
    ]
    blocks = [*small[:15], pa.concat_tables(small[15:]).combine_chunks()]
    rows = sum(block.num_rows for block in blocks)
    sink = WarehouseDatasink(settings, job_id="gathered", rows_per_write=50_000)

    ray.data.from_arrow(blocks).write_datasink(sink)

    assert warehouse.count() == rows == sink.rows_written
