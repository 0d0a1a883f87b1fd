"""Peer libraries as referees: where a maintained library parses the same real payloads, its answer and ours agree
value by value and timestamp by timestamp in UTC. A difference is fixed, or written down here with its reason.

entsoe-py (pinned in constraints.txt) is the referee for ENTSO-E XML: every real ENTSO-E fixture that one of its
parsers reads is compared. pynordpool and jao-py referee the Nord Pool portal and the JAO Publication Tool in
test_referees_nordpool_jao.py. wapi-python would referee Volue, but no real Volue answer is public to compare on.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from entsoe import parsers as entsoe_py
from entsoe.mappings import PSRTYPE_MAPPINGS

from scalar_ray.providers.entsoe_parser import PSR_TYPES, parse_entsoe
from tests.unit.providers.helpers import context, fixture_bytes

# entsoe-py reads XML with BeautifulSoup's HTML parser; bs4 warns about that, which is the referee's business.
pytestmark = pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")

Pairs = list[tuple[datetime, float]]


def ours(name: str, dataset: str) -> dict[str, Pairs]:
    table: pa.Table = parse_entsoe(fixture_bytes("entsoe", name), context("entsoe", dataset))
    found: dict[str, Pairs] = {}
    for row in table.select(["series_id", "ts", "value"]).to_pylist():
        found.setdefault(row["series_id"], []).append((row["ts"], row["value"]))
    return {series: sorted(pairs) for series, pairs in found.items()}


def theirs(answer: pd.Series | pd.DataFrame) -> dict[str, Pairs]:
    """entsoe-py's Series or DataFrame as sorted (UTC time, value) pairs per column; its NaN padding dropped."""
    frame = answer.to_frame("value") if isinstance(answer, pd.Series) else answer
    assert str(frame.index.tz) == "UTC"  # entsoe-py's parsers index in UTC; compared as such
    return {
        str(column): sorted((ts.to_pydatetime(), float(value)) for ts, value in frame[column].dropna().items())
        for column in frame.columns
    }


def psr_column(variable_prefix: str) -> Callable[[str], str]:
    """entsoe-py names a generation column by psrType (``Wind Onshore``); we suffix the variable (``_wind_onshore``)."""
    names = {PSRTYPE_MAPPINGS[code]: suffix for code, suffix in PSR_TYPES.items() if code in PSRTYPE_MAPPINGS}
    return lambda column: f"{variable_prefix}_{names[column]}"


def prices(xml: str) -> pd.DataFrame:
    """entsoe-py's prices, one column per resolution it found (``15min``, ``60min``)."""
    return pd.DataFrame({resolution: found for resolution, found in entsoe_py.parse_prices(xml).items() if len(found)})


def loads(process_type: str) -> Callable[[str], pd.DataFrame]:
    return functools.partial(entsoe_py.parse_loads, process_type=process_type)


def only(series_id: str) -> Callable[[str], str]:
    """A referee answer with one column: it is this series."""
    return lambda _: series_id


CASES: list[Any] = [
    pytest.param(*case, id=case_id)
    for case_id, *case in [
        ("A44_prices_FR", "A44_dayahead_prices_FR.xml", "A44", prices, only("entsoe/A44/FR/price")),
        (
            "A44_prices_DE-LU_15_and_60_minutes",
            "A44_dayahead_prices_DE-LU_2021_15min_and_60min_sequences.xml",
            "A44",
            prices,
            {"15min": "entsoe/A44/DE-LU/price_seq2", "60min": "entsoe/A44/DE-LU/price"}.__getitem__,
        ),
        ("A65_actual_load", "A65_actual_load_DK1.xml", "A65", loads("A16"), only("entsoe/A65/DK1/load")),
        ("A65_load_forecast", "A65_load_forecast_DK2.xml", "A65", loads("A01"), only("entsoe/A65/DK2/load_da")),
        (
            "A65_load_forecast_15_minutes",
            "A65_dayahead_load_forecast_A01_2020.xml",
            "A65",
            loads("A01"),
            only("entsoe/A65/NL/load_da"),
        ),
        (
            "A75_generation_per_type",
            "A75_actual_generation_per_type_SE4.xml",
            "A75",
            entsoe_py.parse_generation,
            psr_column("entsoe/A75/SE4/generation"),
        ),
        (
            "A69_wind_solar_forecast",
            "A69_wind_solar_forecast_FI_dayahead.xml",
            "A69",
            entsoe_py.parse_generation,
            lambda column: psr_column("entsoe/A69/FI/generation_forecast")(column) + "_da",
        ),
        (
            "A71_generation_forecast",
            "A71_generation_forecast_SE3.xml",
            "A71",
            entsoe_py.parse_generation,
            only("entsoe/A71/SE3/generation_forecast_da"),
        ),
        (
            "A11_physical_flows",
            "A11_physical_flows_DK1_GB.xml",
            "A11",
            entsoe_py.parse_crossborder_flows,
            only("entsoe/A11/DK1>GB/physical_flow"),
        ),
    ]
]


@pytest.mark.parametrize(("name", "dataset", "referee", "series_of"), CASES)
def test_entsoe_py_reads_the_same_values_at_the_same_utc_times(
    name: str, dataset: str, referee: Callable[[str], Any], series_of: Callable[[str], str]
) -> None:
    expected = {
        series_of(column): pairs for column, pairs in theirs(referee(fixture_bytes("entsoe", name).decode())).items()
    }

    found = ours(name, dataset)

    assert set(found) == set(expected)
    for series, pairs in expected.items():
        assert found[series] == pairs, series
    assert sum(len(pairs) for pairs in found.values()) > 0


def test_scheduled_exchanges_of_two_contract_types_are_two_series_where_entsoe_py_mixes_them() -> None:
    # A known difference, on our side fixed: this real A09 answer holds the total schedule (contract A05) for four
    # days and the daily one (A01) for two of them. entsoe-py's parse_crossborder_flows returns all 144 values in one
    # Series with two values for each of 48 hours; we used to keep one of each pair silently, and now keep two
    # series (`scheduled_exchange` for the daily contract the catalogue asks for, `scheduled_exchange_total`).
    referee = theirs(
        entsoe_py.parse_crossborder_flows(fixture_bytes("entsoe", "A09_scheduled_exchange_DK2_SE4.xml").decode())
    )

    found = ours("A09_scheduled_exchange_DK2_SE4.xml", "A09")

    assert max(Counter(ts for ts, _ in referee["value"]).values()) == 2  # the peer's duplicate timestamps
    assert (
        sorted(found["entsoe/A09/DK2>SE4/scheduled_exchange"] + found["entsoe/A09/DK2>SE4/scheduled_exchange_total"])
        == referee["value"]
    )
    assert len(found["entsoe/A09/DK2>SE4/scheduled_exchange"]) == 48
    assert len(found["entsoe/A09/DK2>SE4/scheduled_exchange_total"]) == 96
