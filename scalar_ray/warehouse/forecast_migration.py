"""Moving forecasts stored the old way (as observation series) into the forecasts table, when a DuckDB file opens.

Before the forecasts table, an issue was stored as canonical observations of provider ``scalar``: one series per
target and quantile, ``scalar/<family>/<zone>/<target variable>_q10|_q50|…|_mean``, the issue time as
``issued_at``. Those rows become forecast rows: the quantile series turn into columns, the target variable into the
target's series id (``targets`` maps it, from the forecast families), and the model version, which the old layout
did not keep, is recorded as ``unknown``. Series that no configured family names stay where they are.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from scalar_ray.core.forecasts import FORECAST_SCHEMA
from scalar_ray.warehouse.duckdb_layout import transaction

__all__ = ["LEGACY_MODEL_VERSION", "migrate_forecast_series"]

logger = logging.getLogger(__name__)

LEGACY_MODEL_VERSION = "unknown"
_QUANTILES = [field.name for field in FORECAST_SCHEMA if field.name.startswith("q")]


def migrate_forecast_series(connection: duckdb.DuckDBPyConnection, targets: Mapping[tuple[str, str, str], str]) -> int:
    """Move every old-layout forecast series that ``targets`` resolves; the rows moved (0 when there is nothing).

    ``targets`` maps (family, zone, target variable) to the target's series id. One transaction: the file holds the
    old layout or the new one, never half of each.
    """
    # The series catalogue is small and every stored series has its row there: no scan of the observations on open.
    legacy = connection.execute("select count(*) from series where provider = 'scalar'").fetchall()
    if not legacy or not legacy[0][0]:
        return 0
    names = pa.table(
        {
            "family": [key[0] for key in targets],
            "zone": [key[1] for key in targets],
            "variable": [key[2] for key in targets],
            "target": list(targets.values()),
        },
        schema=pa.schema([(name, pa.string()) for name in ("family", "zone", "variable", "target")]),
    )
    pivot = ", ".join(f"max(value) filter (where part = '{column}') as {column}" for column in _QUANTILES)
    with transaction(connection, {"forecast_targets": names}):
        connection.execute(
            """create temporary table legacy_forecasts as
                select series_id, split_part(series_id, '/', 2) as family, split_part(series_id, '/', 3) as zone,
                       regexp_extract(split_part(series_id, '/', 4), '^(.+)_(mean|q[0-9]{2})$', 1) as variable,
                       regexp_extract(split_part(series_id, '/', 4), '^(.+)_(mean|q[0-9]{2})$', 2) as part,
                       ts, issued_at, value
                from observations o where series_id like 'scalar/%'
                  and exists (select 1 from forecast_targets t where t.family = split_part(o.series_id, '/', 2)
                              and t.zone = split_part(o.series_id, '/', 3)
                              and t.variable = regexp_extract(split_part(o.series_id, '/', 4),
                                                              '^(.+)_(mean|q[0-9]{2})$', 1))"""
        )
        moved = connection.execute(
            f"""insert or replace into forecasts (family, zone, model_version, target, issued_at, ts, mean,
                                                  {", ".join(_QUANTILES)})
                select l.family, l.zone, '{LEGACY_MODEL_VERSION}', t.target, l.issued_at, l.ts,
                       max(value) filter (where part = 'mean') as mean, {pivot}
                from legacy_forecasts l join forecast_targets t using (family, zone, variable)
                group by l.family, l.zone, t.target, l.issued_at, l.ts
                having mean is not null"""  # noqa: S608 - our own column names
        ).fetchall()
        connection.execute("delete from observations where series_id in (select series_id from legacy_forecasts)")
        connection.execute("delete from series where series_id in (select series_id from legacy_forecasts)")
        connection.execute("drop table legacy_forecasts")
    count = int(moved[0][0]) if moved else 0
    logger.info("moved %d forecast rows from old-layout observation series into the forecasts table", count)
    return count
