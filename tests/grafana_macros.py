"""Grafana's MySQL data source macros and variables, expanded as Grafana expands them before a query is sent.

From Grafana's MySQL documentation: ``$__timeFilter(column)`` becomes
``column BETWEEN FROM_UNIXTIME(from) AND FROM_UNIXTIME(to)``; a multi-value variable in ``IN ($var)`` becomes its
values quoted and comma-separated; a single value is substituted as it is.
"""

from __future__ import annotations

import re

__all__ = ["expand"]

_TIME_FILTER = re.compile(r"\$__timeFilter\(([^)]+)\)")


def expand(sql: str, zones: list[str], tz: str, start_epoch_s: int, end_epoch_s: int) -> str:
    """``sql`` as Grafana sends it for the selected zones, time zone and range."""
    expanded = _TIME_FILTER.sub(
        lambda match: f"{match.group(1)} BETWEEN FROM_UNIXTIME({start_epoch_s}) AND FROM_UNIXTIME({end_epoch_s})", sql
    )
    return expanded.replace("$zone", ",".join(f"'{zone}'" for zone in zones)).replace("$tz", tz)
