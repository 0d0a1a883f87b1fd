"""Provider parse throughput on the largest real fixtures, and the simulator's request rate through a real client.

Parse: rows/s of each provider's pure parser on its largest recorded payload in tests/fixtures, against a baseline of
``json.loads``/XML parsing alone on the same bytes (the floor any parser pays). Simulator: requests/s and rows/s
of day-by-day Nord Pool fetches (the most request-heavy dataset) through the real client, with no faults and with
10 % 5xx (retries cost), in the same run.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from bench.report import markdown_table, publish
from scalar_ray.config import load_settings
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.client import ClientOptions
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.elia_parser import parse_elia
from scalar_ray.providers.energinet_parser import parse_energinet
from scalar_ray.providers.entsoe_parser import parse_entsoe
from scalar_ray.providers.http import RetryPolicy
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.nordpool_parser import parse_nordpool
from scalar_ray.providers.parsing import FetchContext
from scalar_ray.simulator import FaultConfig, SimulatorServer

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "providers"
CASES = [
    ("entsoe", "A69_wind_solar_forecast_FI_dayahead.xml", "A69", parse_entsoe),
    ("entsoe", "A44_dayahead_prices_DE-LU_2021_15min_and_60min_sequences.xml", "A44", parse_entsoe),
    ("nordpool", "dataapi_v2_Intraday_ContractStatistics_ByAreas_GER.json", "IntradayStatistics", parse_nordpool),
    ("energinet", "Forecasts_5Min_DK.json", "Forecasts_5Min", parse_energinet),
    ("jao", "publicationtool_core_scheduledExchanges.json", "scheduledExchanges", parse_jao),
    ("elia", "ods201_records_generation_by_fuel.json", "ods201", parse_elia),
]
WINDOW = Window(datetime(2015, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))


def best_of(action: Any, repeat: int = 5, number: int = 20) -> float:
    """Seconds per call, best of ``repeat`` rounds of ``number`` calls (the least disturbed measurement)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            action()
        best = min(best, (time.perf_counter() - started) / number)
    return best


def parse_rows() -> list[dict[str, Any]]:
    rows = []
    for provider, name, dataset, parse in CASES:
        payload = (FIXTURES / provider / name).read_bytes()
        context = FetchContext(provider, dataset, WINDOW, datetime.now(UTC))
        table = parse(payload, context)
        seconds = best_of(lambda parse=parse, payload=payload, context=context: parse(payload, context))
        decode = ElementTree.fromstring if name.endswith(".xml") else json.loads
        floor = best_of(lambda decode=decode, payload=payload: decode(payload))
        rows.append(
            {
                "provider": provider,
                "payload": name,
                "KiB": round(len(payload) / 1024),
                "rows": table.num_rows,
                "rows/s": round(table.num_rows / seconds),
                "ms": round(seconds * 1000, 2),
                "decode-only ms (baseline)": round(floor * 1000, 2),
                "parse / decode": f"{seconds / floor:.1f}x",
            }
        )
    return rows


def simulator_rows() -> list[dict[str, Any]]:
    rows = []
    spec = load_catalogue().get("nordpool", "AuctionPrices")
    month = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    for label, faults in (("no faults", FaultConfig()), ("10 % 503", FaultConfig(rate_5xx=0.10, seed=5))):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with SimulatorServer(port, faults) as simulator:
            settings = load_settings(
                {
                    "SCALAR_PROVIDERS__NORDPOOL__BASE_URL": f"{simulator.base_url}/nordpool/api/v2",
                    "SCALAR_PROVIDERS__NORDPOOL__REQUESTS_PER_MINUTE": "100000",
                }
            )
            client = build_client(
                "nordpool",
                settings,
                ClientOptions(policy=RetryPolicy(attempts=8, backoff_initial_s=0.01, backoff_max_s=0.05)),
            )
            areas = list(spec.areas)
            started = time.perf_counter()
            total_rows = sum(client.fetch(spec, area, month).num_rows for area in areas)
            seconds = time.perf_counter() - started
            requests = client.http.stats.requests
            client.close()
        rows.append(
            {
                "case": f"Nord Pool AuctionPrices, {len(areas)} areas x 30 days, {label}",
                "requests": requests,
                "seconds": round(seconds, 2),
                "requests/s": round(requests / seconds, 1),
                "rows/s": round(total_rows / seconds),
            }
        )
    return rows


def main() -> None:
    parsing, simulated = parse_rows(), simulator_rows()
    parse_table, sim_table = markdown_table(parsing, list(parsing[0])), markdown_table(simulated, list(simulated[0]))
    print(parse_table, sim_table, sep="\n\n")
    body = (
        "Parse throughput of each provider's pure parser on its largest real payload (best of 5 rounds of 20), "
        "against decoding the same bytes alone (`json.loads` or defusedxml) as the baseline any parser pays:\n\n"
        f"{parse_table}\n\nThe simulator through the real client (one request per area and delivery day, "
        f"retries with backoff on injected 503s):\n\n{sim_table}"
    )
    publish(
        "providers",
        "Providers: parse throughput and simulator request rate",
        body,
        {"parse": parsing, "simulator": simulated},
    )


if __name__ == "__main__":
    main()
