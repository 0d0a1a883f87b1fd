"""Every provider on the DST days and the 15-minute switch: rows per local day, keyed on UTC, and the requests sent.

These are the checks of the research note on provider time conventions ("Checks every parser must pass"), run through
each provider's real client against a scripted answer (httpx MockTransport), so the request a local day turns into is
checked in UTC along with the rows that come back. The expected UTC windows are written out below, not computed by the
code under test.

Real captures of DST days are tested where they exist: JAO's Auction API on both days (test_jao_parser.py) and an
ENTSO-E daily series ending on the short day (test_entsoe_parser.py). For the rest no public capture of a DST day or of
the switch was found (searched: electricitymaps-contrib's mocks, entsoe-py, jao-py, pynordpool, Home Assistant's
Nord Pool fixtures, Energi Data Service clients), so the answers here are **synthetic**, built from each provider's
documented format: the field names and shapes of the recorded fixtures beside this file, filled for the day asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from scalar_ray.config import load_settings
from scalar_ray.core.utc import local_day_window
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.client import ClientOptions
from scalar_ray.providers.clients import build_client
from scalar_ray.providers.http import RetryPolicy
from scalar_ray.providers.meteologica_parser import parse_meteologica
from tests.unit.providers.helpers import Period, a44_document, context, series, utc

SHORT, LONG = date(2026, 3, 29), date(2025, 10, 26)
# The CET/CEST day (every zone of the catalogue but Finland and the Baltics) as the research note writes it out.
CET_DAY = {
    SHORT: (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),  # 23 hours: 92 quarter-hours
    LONG: (utc(2025, 10, 25, 22), utc(2025, 10, 26, 23)),  # 25 hours: 100 quarter-hours
    date(2025, 9, 30): (utc(2025, 9, 29, 22), utc(2025, 9, 30, 22)),  # the last hourly day-ahead auction
    date(2025, 10, 1): (utc(2025, 9, 30, 22), utc(2025, 10, 1, 22)),  # the first on 15 minutes
}
QUARTERS = {SHORT: 92, LONG: 100}
HOURS = {SHORT: 23, LONG: 25}
QUARTER, HOUR = timedelta(minutes=15), timedelta(hours=1)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
CATALOGUE = load_catalogue()

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(provider: str, handler: Handler):  # type: ignore[no-untyped-def]
    options = ClientOptions(
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
        clock=lambda: NOW,
        policy=RetryPolicy(attempts=1, backoff_initial_s=0),
    )
    return build_client(provider, load_settings({}), options)


def grid(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    return [start + step * i for i in range(int((end - start) / step))]


def stamps(table, series_id: str) -> list[datetime]:  # type: ignore[no-untyped-def]
    rows = series(table, series_id)
    assert len({row["ts"] for row in rows}) == len(rows), f"{series_id}: a UTC start appears twice"
    return [row["ts"] for row in rows]


def cet_window(day: date) -> Window:
    return Window(*CET_DAY[day])


def test_the_oracle_agrees_with_the_local_day_windows_and_the_eu_counts() -> None:
    for day, (start, end) in CET_DAY.items():
        assert local_day_window(day, "Europe/Brussels") == (start, end)
        assert len(grid(start, end, QUARTER)) == QUARTERS.get(day, 96)
        assert len(grid(start, end, HOUR)) == HOURS.get(day, 24)


# ENTSO-E: periodStart/periodEnd in UTC; each Period carries its own interval and resolution.


def entsoe_answer(resolution_after_switch: bool = True) -> tuple[Handler, list[httpx.QueryParams]]:
    seen: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        start = datetime.strptime(request.url.params["periodStart"], "%Y%m%d%H%M").replace(tzinfo=UTC)
        end = datetime.strptime(request.url.params["periodEnd"], "%Y%m%d%H%M").replace(tzinfo=UTC)
        switch = CET_DAY[date(2025, 10, 1)][0]
        periods = []
        for low, high, step, name in (
            (start, min(end, switch), HOUR, "PT60M"),
            (max(start, switch), end, QUARTER, "PT15M"),
        ):
            if low < high and (resolution_after_switch or name == "PT60M"):
                points = {i + 1: float(100 * low.day + i) for i in range(int((high - low) / step))}
                periods.append(Period(_z(low), _z(high), name, points))
        return httpx.Response(200, content=a44_document(*periods, domain=request.url.params["in_Domain"]))

    return handler, seen


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


@pytest.mark.parametrize("day", [SHORT, LONG], ids=["short_day", "long_day"])
def test_entsoe_day_ahead_prices_for_a_belgian_dst_day(day: date) -> None:
    handler, seen = entsoe_answer()

    table = client_for("entsoe", handler).fetch(CATALOGUE.get("entsoe", "A44"), "BE", cet_window(day))

    start, end = CET_DAY[day]
    assert (seen[0]["periodStart"], seen[0]["periodEnd"]) == (start.strftime("%Y%m%d%H%M"), end.strftime("%Y%m%d%H%M"))
    quarters = stamps(table, "entsoe/A44/BE/price")
    assert len(quarters) == QUARTERS[day] and quarters == grid(start, end, QUARTER)
    if day == LONG:  # the two local 02:00s (00:00Z and 01:00Z) are two intervals with their own prices
        prices = {row["ts"]: row["value"] for row in series(table, "entsoe/A44/BE/price")}
        assert prices[utc(2025, 10, 26, 0)] != prices[utc(2025, 10, 26, 1)]


def test_entsoe_one_request_across_the_15_minute_switch_keeps_both_resolutions() -> None:
    handler, _ = entsoe_answer()
    window = Window(CET_DAY[date(2025, 9, 30)][0], CET_DAY[date(2025, 10, 1)][1])

    rows = series(
        client_for("entsoe", handler).fetch(CATALOGUE.get("entsoe", "A44"), "BE", window), "entsoe/A44/BE/price"
    )

    hourly = [row["ts"] for row in rows if row["resolution"] == "PT60M"]
    quarterly = [row["ts"] for row in rows if row["resolution"] == "PT15M"]
    assert hourly == grid(*CET_DAY[date(2025, 9, 30)], HOUR) and len(hourly) == 24
    assert quarterly == grid(*CET_DAY[date(2025, 10, 1)], QUARTER) and len(quarterly) == 96


# JAO Publication Tool: FromUtc/ToUtc; a range holding the 25-hour day can be refused with 400 (jao-py 455eceb).


def test_jao_publication_tool_retries_a_dst_range_refused_with_400_day_by_day() -> None:
    asked: list[tuple[str, str, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        low = datetime.fromisoformat(request.url.params["FromUtc"])
        high = datetime.fromisoformat(request.url.params["ToUtc"])
        # As jao-py met it: a range of more than one day that holds the long day is refused.
        refused = high - low > timedelta(hours=25) and low < CET_DAY[LONG][1] and high > CET_DAY[LONG][0]
        asked.append((request.url.params["FromUtc"], request.url.params["ToUtc"], 400 if refused else 200))
        if refused:
            return httpx.Response(400, json={"message": "Range is more than 2 days"})
        rows = [
            {"id": i, "dateTimeUtc": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "border_DE_FR": float(i)}
            for i, ts in enumerate(grid(low, high, QUARTER))
        ]
        return httpx.Response(200, json={"data": rows})

    days = Window(utc(2025, 10, 24, 22), CET_DAY[LONG][1])  # the Brussels days 2025-10-25 and 2025-10-26: 49 hours

    table = client_for("jao", handler).fetch(CATALOGUE.get("jao", "scheduledExchanges"), "CORE", days)

    assert asked == [
        ("2025-10-24T22:00:00.000Z", "2025-10-26T23:00:00.000Z", 400),  # two calendar days: one request
        ("2025-10-24T22:00:00.000Z", "2025-10-25T22:00:00.000Z", 200),  # then a business day each
        ("2025-10-25T22:00:00.000Z", "2025-10-26T23:00:00.000Z", 200),
    ]
    quarters = stamps(table, "jao/scheduledExchanges/DE-LU>FR/scheduled_exchange")
    assert len(quarters) == 96 + 100 and quarters == grid(days.start, days.end, QUARTER)


def test_jao_auctions_ask_for_the_cet_delivery_days_of_a_utc_window() -> None:
    asked: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append((request.url.params["fromdate"], request.url.params["todate"]))
        return httpx.Response(400, json={"message": "No Data found"})

    for day in (SHORT, LONG):
        client_for("jao", handler).fetch(CATALOGUE.get("jao", "auctions"), "IF1-FR-GB", cet_window(day))

    assert asked == [(SHORT.isoformat(), SHORT.isoformat()), (LONG.isoformat(), LONG.isoformat())]


# Nord Pool data portal: `date` is the CET delivery day for every area; each entry carries its UTC start and end.


def nordpool_answer(index: bool = False) -> tuple[Handler, list[httpx.QueryParams]]:
    seen: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        day = date.fromisoformat(request.url.params["date"])
        zone = ZoneInfo("Europe/Brussels")
        start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
        minutes = int(request.url.params.get("resolutionInMinutes", 15 if day >= date(2025, 10, 1) else 60))
        area = request.url.params.get("deliveryArea") or request.url.params["indexNames"]
        entries = [
            {
                "deliveryStart": _iso(ts),
                "deliveryEnd": _iso(ts + timedelta(minutes=minutes)),
                "entryPerArea": {area: round(40.0 + i / 8, 2)},
            }
            for i, ts in enumerate(grid(start, end, timedelta(minutes=minutes)))
        ]
        body: dict[str, object] = {
            "deliveryDateCET": day.isoformat(),
            "version": 2,
            "updatedAt": _iso(start - timedelta(hours=10)),
            "market": "DayAhead",
            "currency": "EUR",
        }
        if index:
            body |= {"indexNames": [area], "resolutionInMinutes": minutes, "multiIndexEntries": entries}
        else:
            body |= {
                "deliveryAreas": [area],
                "multiAreaEntries": entries,
                "areaStates": [{"state": "Final", "areas": [area]}],
            }
        return httpx.Response(200, json=body)

    return handler, seen


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("day", "count"),
    [(SHORT, 92), (LONG, 100), (date(2025, 10, 1), 96)],
    ids=["short_day", "long_day", "first_15_minute_day"],
)
def test_nordpool_portal_day_ahead_prices_for_se3(day: date, count: int) -> None:
    handler, seen = nordpool_answer()

    table = client_for("nordpool", handler).fetch(CATALOGUE.get("nordpool", "DayAheadPrices"), "SE3", cet_window(day))

    assert [(p["date"], p["deliveryArea"]) for p in seen] == [(day.isoformat(), "SE3")]
    quarters = stamps(table, "nordpool/DayAheadPrices/SE3/price")
    assert len(quarters) == count and quarters == grid(*CET_DAY[day], QUARTER)


def test_nordpool_portal_hourly_index_of_the_long_day_has_25_hours() -> None:
    handler, seen = nordpool_answer(index=True)

    table = client_for("nordpool", handler).fetch(
        CATALOGUE.get("nordpool", "DayAheadPriceIndices-60"), "SE3", cet_window(LONG)
    )

    assert seen[0]["resolutionInMinutes"] == "60"
    assert stamps(table, "nordpool/DayAheadPriceIndices/SE3/price") == grid(*CET_DAY[LONG], HOUR)


def test_nordpool_finland_keeps_the_cet_day_and_a_helsinki_day_asks_for_both_cet_days() -> None:
    handler, seen = nordpool_answer()
    helsinki_day = Window(utc(2025, 10, 25, 21), utc(2025, 10, 26, 22))  # 2025-10-26 in Helsinki: 25 hours too

    table = client_for("nordpool", handler).fetch(CATALOGUE.get("nordpool", "DayAheadPrices"), "FI", helsinki_day)

    assert [p["date"] for p in seen] == ["2025-10-25", "2025-10-26"]
    # Each answer is the CET day (the FI answer for 2025-10-26 starts at 22:00Z, as SE3's does); the client keeps
    # the Helsinki day's 100 quarter-hours out of the two.
    assert stamps(table, "nordpool/DayAheadPrices/FI/price") == grid(helsinki_day.start, helsinki_day.end, QUARTER)


# Energinet: `start`/`end` are Danish local time; TimeUTC is naive UTC, TimeDK naive local (02:xx twice in October).


def energinet_answer() -> tuple[Handler, list[tuple[datetime, datetime]]]:
    copenhagen = ZoneInfo("Europe/Copenhagen")
    asked: list[tuple[datetime, datetime]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        dataset = request.url.path.rsplit("/", 1)[-1]
        # The earlier reading of an ambiguous local time (fold 0): the client pads its window, so either would do.
        low, high = (
            datetime.fromisoformat(request.url.params[name]).replace(tzinfo=copenhagen).astimezone(UTC)
            for name in ("start", "end")
        )
        asked.append((low, high))
        hourly = dataset == "Elspotprices"
        records = [
            {
                ("HourUTC" if hourly else "TimeUTC"): ts.strftime("%Y-%m-%dT%H:%M:%S"),
                ("HourDK" if hourly else "TimeDK"): ts.astimezone(copenhagen).strftime("%Y-%m-%dT%H:%M:%S"),
                "PriceArea": "DK1",
                ("SpotPriceEUR" if hourly else "DayAheadPriceEUR"): 50.0 + i,
                ("SpotPriceDKK" if hourly else "DayAheadPriceDKK"): 373.0 + i,
            }
            for i, ts in enumerate(grid(low, high, HOUR if hourly else QUARTER))
            if hourly == (ts < CET_DAY[date(2025, 10, 1)][0])  # Elspotprices ends where DayAheadPrices begins
        ]
        return httpx.Response(200, json={"total": len(records), "records": records})

    return handler, asked


@pytest.mark.parametrize("day", [SHORT, LONG], ids=["short_day", "long_day"])
def test_energinet_day_ahead_prices_for_a_danish_dst_day(day: date) -> None:
    handler, asked = energinet_answer()
    window = cet_window(day)

    table = client_for("energinet", handler).fetch(CATALOGUE.get("energinet", "DayAheadPrices"), "DK1", window)

    low, high = asked[0]
    assert low <= window.start and high >= window.end  # the local-time request covers the day in UTC
    quarters = stamps(table, "energinet/DayAheadPrices/DK1/price")
    assert len(quarters) == QUARTERS[day] and quarters == grid(window.start, window.end, QUARTER)


def test_energinet_hourly_history_meets_the_15_minute_dataset_without_gap_or_overlap() -> None:
    handler, _ = energinet_answer()
    client = client_for("energinet", handler)

    hourly = client.fetch(CATALOGUE.get("energinet", "Elspotprices"), "DK1", cet_window(date(2025, 9, 30)))
    quarterly = client.fetch(CATALOGUE.get("energinet", "DayAheadPrices"), "DK1", cet_window(date(2025, 10, 1)))

    hours = stamps(hourly, "energinet/Elspotprices/DK1/price")
    quarters = stamps(quarterly, "energinet/DayAheadPrices/DK1/price")
    assert len(hours) == 24 and len(quarters) == 96
    assert hours[-1] + HOUR == quarters[0] == utc(2025, 9, 30, 22)


# Elia: ODSQL on `datetime` with UTC literals and timezone=UTC (a naive local literal is ambiguous in October).


@pytest.mark.parametrize("day", [SHORT, LONG], ids=["short_day", "long_day"])
def test_elia_quarter_hour_imbalance_for_a_belgian_dst_day(day: date) -> None:
    seen: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        records = [
            {
                "datetime": ts.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "resolutioncode": "PT15M",
                "imbalanceprice": 80.0 + i,
                "systemimbalance": -120.0 + i,
            }
            for i, ts in enumerate(grid(*CET_DAY[day], QUARTER))
        ]
        return httpx.Response(200, json=records)  # /exports/json answers a bare list

    table = client_for("elia", handler).fetch(CATALOGUE.get("elia", "ods134"), "BE", cet_window(day))

    start, end = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in CET_DAY[day])
    assert seen[0]["timezone"] == "UTC"
    assert seen[0]["where"] == f"datetime >= date'{start}' AND datetime < date'{end}'"
    for variable in ("imbalance_price", "system_imbalance"):
        assert stamps(table, f"elia/ods134/BE/{variable}") == grid(*CET_DAY[day], QUARTER)
        assert len(stamps(table, f"elia/ods134/BE/{variable}")) == QUARTERS[day]


# Volue: data_from/data_to in UTC; points are [epoch ms, value].


@pytest.mark.parametrize(
    ("day", "first_epoch_ms"), [(SHORT, 1_774_738_800_000), (LONG, 1_761_429_600_000)], ids=["short_day", "long_day"]
)
def test_volue_min15_curve_for_a_cet_dst_day(day: date, first_epoch_ms: int) -> None:
    seen: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/curves/get"):
            return httpx.Response(200, json={"id": 7, "name": request.url.params["name"]})
        seen.append(request.url.params)
        low = datetime.fromisoformat(request.url.params["data_from"])
        high = datetime.fromisoformat(request.url.params["data_to"])
        points = [[int(ts.timestamp() * 1000), 1000.0 + i] for i, ts in enumerate(grid(low, high, QUARTER))]
        instance = {"issue_date": "2025-10-25T00:00:00+00:00", "frequency": "MIN15", "unit": "MW", "points": points}
        return httpx.Response(200, json=[instance])

    table = client_for("volue", handler).fetch(CATALOGUE.get("volue", "wind_forecast_ec00"), "DK1", cet_window(day))

    start, end = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in CET_DAY[day])
    assert (seen[0]["data_from"], seen[0]["data_to"]) == (start, end)
    quarters = stamps(table, "volue/wind_forecast_ec00/DK1/wind_forecast")
    assert len(quarters) == QUARTERS[day] and quarters == grid(*CET_DAY[day], QUARTER)
    assert int(quarters[0].timestamp() * 1000) == first_epoch_ms


# Meteologica: local From/To with their UTC offsets (no capture of a DST day: built from the documented row format).


@pytest.mark.parametrize("day", [SHORT, LONG], ids=["short_day", "long_day"])
def test_meteologica_quarter_hours_of_a_danish_dst_day(day: date) -> None:
    copenhagen = ZoneInfo("Europe/Copenhagen")

    def local(moment: datetime) -> tuple[str, str]:
        there = moment.astimezone(copenhagen)
        return there.strftime("%Y-%m-%d %H:%M"), there.strftime("UTC%z")

    rows = []
    for i, ts in enumerate(grid(*CET_DAY[day], QUARTER)):
        (start, offset_from), (end, offset_to) = local(ts), local(ts + QUARTER)
        rows.append(
            {
                "From yyyy-mm-dd hh:mm": start,
                "To yyyy-mm-dd hh:mm": end,
                "UTC offset from (UTC+/-hhmm)": offset_from,
                "UTC offset to (UTC+/-hhmm)": offset_to,
                "forecast": str(500 + i),
            }
        )
    payload = json.dumps({"issue_date": "2025-10-25 06:00:00 UTC", "unit": "MW", "data": rows}).encode()

    table = parse_meteologica(payload, context("meteologica", "wind_power_forecast", cet_window(day), area="DK1"))

    quarters = stamps(table, "meteologica/wind_power_forecast/DK1/forecast")
    assert len(quarters) == QUARTERS[day] and quarters == grid(*CET_DAY[day], QUARTER)
    assert {row["resolution"] for row in series(table, "meteologica/wind_power_forecast/DK1/forecast")} == {"PT15M"}
    wall_clock = [row["From yyyy-mm-dd hh:mm"] for row in rows]
    assert len(set(wall_clock)) == len(wall_clock) - (4 if day == LONG else 0)  # 02:00-02:45 twice, told apart by UTC
