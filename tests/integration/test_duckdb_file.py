"""The embedded warehouse is a real DuckDB file: Arrow in, upserts on the primary key, data survives reconnects."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from scalar_ray.config import load_settings
from scalar_ray.local import DuckDBFile, ServiceState
from scalar_ray.local.process import wait_until

pytestmark = pytest.mark.integration

DDL = """create table observations (
    series_id varchar, ts timestamptz, value double, issued_at timestamptz,
    primary key (series_id, ts, issued_at))"""


def batch(values: list[float]) -> pa.Table:
    ts = [datetime(2025, 10, 26, hour, tzinfo=UTC) for hour in range(len(values))]
    issued = datetime(2025, 10, 25, 12, tzinfo=UTC)
    return pa.table(
        {
            "series_id": ["entsoe/A44/DK1/price"] * len(values),
            "ts": ts,
            "value": values,
            "issued_at": [issued] * len(values),
        }
    )


def test_local_up_creates_the_file_and_status_reads_it(tmp_path: Path) -> None:
    file = DuckDBFile(load_settings({"SCALAR_LOCAL__DATA_DIR": str(tmp_path)}))

    assert file.status().state is ServiceState.STOPPED
    assert file.start() is True
    assert file.start() is False

    status = file.status()
    assert status.state is ServiceState.AVAILABLE
    assert status.detail.startswith("DuckDB v")


def test_arrow_upserts_are_idempotent_and_persist(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(DDL)
        connection.register("first_batch", batch([10.0, 11.0, 12.0]))
        connection.execute("insert or replace into observations select * from first_batch")
        # The same window delivered again, one value revised in place.
        connection.register("redelivered", batch([10.0, 11.5, 12.0]))
        connection.execute("insert or replace into observations select * from redelivered")

    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute("select value from observations order by ts").fetchall()

    assert rows == [(10.0,), (11.5,), (12.0,)]


def test_status_reports_a_file_held_by_a_writer_process_as_available(tmp_path: Path) -> None:
    settings = load_settings({"SCALAR_LOCAL__DATA_DIR": str(tmp_path)})
    file = DuckDBFile(settings)
    file.start()
    ready = tmp_path / "writer-ready"
    # Another process holds the write lock, as an ingestion actor does.
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, pathlib, time; c = duckdb.connect({str(settings.duckdb_path)!r}); "
            f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)",
        ]
    )
    try:
        assert wait_until(ready.exists, timeout_s=30)
        status = file.status()
    finally:
        writer.kill()
        writer.wait()

    assert status.state is ServiceState.AVAILABLE
    assert "open by a writer" in status.detail
