"""JSON answers of Elia, Energinet, Nord Pool, JAO, Meteologica and Volue, filled from the synthetic market.

Each function takes the request's parameters and returns the body the real API would send, in its field names.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scalar_ray.core.areas import area_by_code_or_none
from scalar_ray.core.utc import local_day_window, parse_utc
from scalar_ray.simulator.grid import day_ahead_step, intervals, resolution_of, step_of
from scalar_ray.simulator.market import SyntheticMarket

__all__ = ["ElspotCutover", "Feeds"]

_COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_CET = ZoneInfo("Europe/Oslo")
_PARIS = ZoneInfo("Europe/Paris")  # JAO names products by CET/CEST wall-clock hours
ElspotCutover = datetime(2025, 9, 30, 22, tzinfo=UTC)  # Elspotprices ends, DayAheadPrices begins
# Neighbours per zone for capacities and exchanges.
_NEIGHBOURS = {
    "DK1": ["DK2", "SE3", "NO2", "DE-LU", "NL"],
    "DK2": ["DK1", "SE4", "DE-LU"],
    "SE3": ["SE2", "SE4", "NO1", "FI", "DK1"],
    "SE4": ["SE3", "DK2", "DE-LU", "LT"],
    "FI": ["SE1", "SE3", "EE", "NO4"],
    "EE": ["FI", "LV"],
    "LV": ["EE", "LT"],
    "LT": ["LV", "SE4", "PL"],
}
_JAO_BORDERS = {
    "core": [
        "AT_DE",
        "DE_AT",
        "DE_NL",
        "NL_DE",
        "BE_FR",
        "FR_BE",
        "DE_FR",
        "FR_DE",
        "BE_NL",
        "NL_BE",
        "DE_PL",
        "PL_DE",
        "CZ_DE",
        "DE_CZ",
    ],
    "nordic": ["DK1_SE3", "SE3_DK1", "DK2_SE4", "SE4_DK2", "SE3_FI", "FI_SE3", "SE4_LT", "LT_SE4"],
}
_JAO_AREA = {"DE": "DE-LU"}


def _jao_product(ts: datetime) -> dict[str, str]:
    """JAO's name and wall-clock label of the hourly product starting at ``ts``: ``B03DST`` is the repeated hour."""
    local = ts.astimezone(_PARIS)
    repeated = local.fold == 1
    return {
        "productIdentification": f"B{local.hour + 1:02d}{'DST' if repeated else ''}".ljust(10, "-"),
        "productHour": f"{local.hour:02d}:00-{local.hour + 1:02d}:00{'*' if repeated else ''}",
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Month archives kept by the simulator (each ~100 KB): every content's last two months.
_ARCHIVES_KEPT = 128


class Feeds:
    """The JSON providers' answers."""

    def __init__(self, market: SyntheticMarket, now: Callable[[], datetime]) -> None:
        self.market = market
        self.now = now
        self._archives: dict[tuple[tuple[str, str], tuple[datetime, ...]], bytes] = {}

    # Elia ------------------------------------------------------------------------------------------------------
    def elia_export(self, dataset: str, where: str) -> list[dict[str, Any]]:
        """``/catalog/datasets/{id}/exports/json`` rows between the ``where`` clause's two dates."""
        start, end = (parse_utc(text) for text in re.findall(r"date'([^']+)'", where)[:2])
        step = step_of(resolution_of("elia", dataset))
        m, now = self.market, self.now()
        rows = []
        for ts in intervals(start, min(end, now + timedelta(days=7)), step):
            base: dict[str, Any] = {"datetime": ts.isoformat(), "resolutioncode": resolution_of("elia", dataset)}
            measured = ts < now
            if dataset in ("ods134", "ods047", "ods161", "ods162", "ods169", "ods136"):
                if not measured:
                    continue
                volume = m.imbalance_volume("BE", ts)
                rows.append(
                    base
                    | {
                        "qualitystatus": "Validated" if ts < now - timedelta(days=1) else "NotValidated",
                        "systemimbalance": volume,
                        "ace": round(volume * 0.1, 3),
                        "alpha": 0.0,
                        "marginalincrementalprice": round(m.price("BE", ts) + 30, 2),
                        "marginaldecrementalprice": round(m.price("BE", ts) - 30, 2),
                        "imbalanceprice": m.imbalance_price("BE", ts),
                    }
                )
            elif dataset == "ods147":
                if measured:
                    for product in ("aFRR", "mFRR"):
                        rows.append(
                            base
                            | {
                                "product": product,
                                "activatedvolume": abs(m.imbalance_volume("BE", ts)) / 2,
                                "price": round(m.price("BE", ts) + (12 if product == "aFRR" else 25), 2),
                            }
                        )
            elif dataset == "ods201":
                if measured:
                    for fuel, value in (
                        ("Nuclear", 3900.0),
                        ("Fossil Gas", round(m.load("BE", ts) * 0.25, 2)),
                        ("Wind Onshore", m.wind("BE", ts)),
                        ("Solar", m.solar("BE", ts)),
                    ):
                        rows.append(base | {"fueltypeentsoe": fuel, "generatedpower": value})
            elif dataset in ("ods001", "ods002", "ods003"):
                truth = m.load("BE", ts)
                rows.append(
                    base
                    | {
                        "totalload": truth if measured else None,
                        "mostrecentforecast": m.forecast(truth, ts - timedelta(hours=1), ts, "BE", "load"),
                        "dayaheadforecast": m.forecast(truth, ts - timedelta(hours=30), ts, "BE", "load"),
                    }
                )
            else:  # wind and solar: ods031, ods086, ods032, ods087
                truth = m.wind("BE", ts) if dataset in ("ods031", "ods086") else m.solar("BE", ts)
                rows.append(
                    base
                    | {
                        "measured": truth if measured else None,
                        "monitoredcapacity": 5000.0,
                        "mostrecentforecast": m.forecast(truth, ts - timedelta(hours=1), ts, "BE", dataset),
                        "dayahead11hforecast": m.forecast(truth, ts - timedelta(hours=30), ts, "BE", dataset),
                    }
                )
        return rows

    # Energinet -------------------------------------------------------------------------------------------------
    def energinet_dataset(self, dataset: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``/dataset/{name}`` with Danish-local ``start``/``end``, a PriceArea filter and limit/offset paging."""
        start = datetime.fromisoformat(params["start"]).replace(tzinfo=_COPENHAGEN).astimezone(UTC)
        end = datetime.fromisoformat(params["end"]).replace(tzinfo=_COPENHAGEN).astimezone(UTC)
        areas = json.loads(params["filter"])["PriceArea"] if params.get("filter") else ["DK1", "DK2"]
        m, now = self.market, self.now()
        records: list[dict[str, Any]] = []
        step = step_of(resolution_of("energinet", dataset))
        horizon = now + (timedelta(days=2) if dataset in ("Forecasts_5Min", "DayAheadPrices") else timedelta(0))
        for ts in intervals(start, min(end, horizon), step):
            stamps = {
                "UTC": ts.strftime("%Y-%m-%dT%H:%M:%S"),
                "DK": ts.astimezone(_COPENHAGEN).strftime("%Y-%m-%dT%H:%M:%S"),
            }
            if dataset == "PowerSystemRightNow":
                load = m.load("DK1", ts) + m.load("DK2", ts)
                records.append(
                    {
                        "Minutes1UTC": stamps["UTC"],
                        "Minutes1DK": stamps["DK"],
                        "OffshoreWindPower": m.wind("DK1", ts, True) + m.wind("DK2", ts, True),
                        "OnshoreWindPower": m.wind("DK1", ts) + m.wind("DK2", ts),
                        "SolarPower": m.solar("DK1", ts) + m.solar("DK2", ts),
                        "Consumption": round(load, 2),
                        "CO2Emission": round(120 + 60 * m.smooth("co2", "DK", ts), 1),
                    }
                )
                continue
            for area in areas:
                if dataset == "ElectricityProdex5MinRealtime":
                    records.append(
                        {
                            "Minutes5UTC": stamps["UTC"],
                            "Minutes5DK": stamps["DK"],
                            "PriceArea": area,
                            "OffshoreWindPower": m.wind(area, ts, True),
                            "OnshoreWindPower": m.wind(area, ts),
                            "SolarPower": m.solar(area, ts),
                            "ProductionGe100MW": round(m.load(area, ts) * 0.3, 2),
                            "ExchangeGermany": m.flow("DE-LU", area, ts) - m.flow(area, "DE-LU", ts),
                        }
                    )
                elif dataset == "Forecasts_5Min":
                    # The latest run before the interval, but never a run that has not happened yet.
                    issued = min(ts - timedelta(minutes=10), now.replace(second=0, microsecond=0))
                    for kind, truth in (
                        ("Offshore Wind", m.wind(area, ts, True)),
                        ("Onshore Wind", m.wind(area, ts)),
                        ("Solar", m.solar(area, ts)),
                    ):
                        records.append(
                            {
                                "Minutes5UTC": stamps["UTC"],
                                "Minutes5DK": stamps["DK"],
                                "PriceArea": area,
                                "ForecastType": kind,
                                "TimestampUTC": _iso(issued)[:-1],
                                "TimestampDK": "",
                                "ForecastDayAhead": m.forecast(truth, ts - timedelta(hours=30), ts, area, kind),
                                "Forecast5Hour": m.forecast(truth, ts - timedelta(hours=5), ts, area, kind),
                                "Forecast1Hour": m.forecast(truth, ts - timedelta(hours=1), ts, area, kind),
                                "ForecastCurrent": m.forecast(truth, issued, ts, area, kind),
                            }
                        )
                elif dataset == "DayAheadPrices" and ts >= ElspotCutover:
                    price = m.price(area, ts)
                    records.append(
                        {
                            "TimeUTC": stamps["UTC"],
                            "TimeDK": stamps["DK"],
                            "PriceArea": area,
                            "DayAheadPriceEUR": price,
                            "DayAheadPriceDKK": round(price * 7.46, 2),
                        }
                    )
                elif dataset == "Elspotprices" and ts < ElspotCutover:
                    price = m.price(area, ts)
                    records.append(
                        {
                            "HourUTC": stamps["UTC"],
                            "HourDK": stamps["DK"],
                            "PriceArea": area,
                            "SpotPriceEUR": price,
                            "SpotPriceDKK": round(price * 7.46, 2),
                        }
                    )
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100)) or len(records)
        return {"total": len(records), "limit": limit, "dataset": dataset, "records": records[offset : offset + limit]}

    # Nord Pool -------------------------------------------------------------------------------------------------
    def nordpool_data_api(self, path: str, params: Mapping[str, str]) -> tuple[int, Any]:
        """Data API v2 answers for one CET delivery day; 204 once the day is not published yet."""
        day = date.fromisoformat(params["date"])
        start, end = local_day_window(day, "Europe/Oslo")
        if start > self.now() + timedelta(hours=12):
            return 204, None
        updated = _iso(start - timedelta(hours=11))
        answers = []
        for name in params["areas"].split(","):
            area = "DE-LU" if name == "GER" else name
            entry: dict[str, Any] = {
                "deliveryArea": name,
                "status": "Final",
                "deliveryDateCET": params["date"],
                "updatedAt": updated,
                "market": "DayAhead",
            }
            if path == "Auction/Prices/ByAreas":
                step = day_ahead_step(start)
                entry |= {
                    "unit": "EUR/MWh",
                    "currency": "EUR",
                    "prices": [
                        {
                            "price": self.market.price(area, ts),
                            "deliveryStart": _iso(ts),
                            "deliveryEnd": _iso(ts + step),
                        }
                        for ts in intervals(start, end, step)
                    ],
                }
            elif path == "Auction/Capacities/ByAreas":
                entry |= {
                    "unit": "MW",
                    "capacities": [self._capacities(area, ts) for ts in intervals(start, end, timedelta(minutes=15))],
                }
            elif path == "PowerSystem/Exchanges/ByAreas":
                entry |= {
                    "unit": "MW",
                    "exchanges": [
                        self._exchanges(area, ts)
                        for ts in intervals(start, min(end, self.now()), timedelta(minutes=15))
                    ],
                }
            else:  # Intraday/ContractStatistics/ByAreas
                entry |= {
                    "priceUnit": "EUR/MWh",
                    "volumeUnit": "MW",
                    "contracts": self._contracts(area, start, min(end, self.now())),
                }
            answers.append(entry)
        return 200, answers

    def nordpool_portal(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``DayAheadPriceIndices`` for one CET day; ``version: 0`` and no entries until published."""
        day = date.fromisoformat(params["date"])
        start, end = local_day_window(day, "Europe/Oslo")
        minutes = int(params.get("resolutionInMinutes", 60))
        names = params["indexNames"].split(",")
        document = {
            "deliveryDateCET": params["date"],
            "version": 0,
            "updatedAt": _iso(start - timedelta(hours=11)),
            "market": "DayAhead",
            "indexNames": names,
            "currency": "EUR",
            "resolutionInMinutes": minutes,
            "areaStates": [],
            "multiIndexEntries": [],
        }
        if not self._portal_published(start):
            return document
        document |= {
            "version": 1,
            "areaStates": [{"state": "Final", "areas": names}],
            "multiIndexEntries": self._portal_entries(names, start, end, timedelta(minutes=minutes)),
        }
        return document

    def nordpool_day_ahead_prices(self, params: Mapping[str, str]) -> dict[str, Any] | None:
        """``DayAheadPrices`` for one CET day and its delivery areas; ``None`` (HTTP 204) until published.

        Quarter-hours from 2025-10-01 (the market's switch to 15-minute products), hours before.
        """
        day = date.fromisoformat(params["date"])
        start, end = local_day_window(day, "Europe/Oslo")
        if not self._portal_published(start):
            return None
        areas = params["deliveryArea"].split(",")
        step = timedelta(minutes=15) if start >= ElspotCutover else timedelta(hours=1)
        return {
            "deliveryDateCET": params["date"],
            "version": 1,
            "updatedAt": _iso(start - timedelta(hours=11)),
            "deliveryAreas": areas,
            "market": "DayAhead",
            "multiAreaEntries": self._portal_entries(areas, start, end, step),
            "blockPriceAggregates": [],
            "currency": params.get("currency", "EUR"),
            "exchangeRate": 1,
            "areaStates": [{"state": "Final", "areas": areas}],
            "areaAverages": [],
        }

    def _portal_published(self, start: datetime) -> bool:
        """The portal shows a CET day from noon the day before (the auction's results), not earlier."""
        return start <= self.now() + timedelta(hours=12)

    def _portal_entries(
        self, names: list[str], start: datetime, end: datetime, step: timedelta
    ) -> list[dict[str, Any]]:
        """The portal's entries for ``[start, end)``: each period's UTC bounds and a price per area or index."""
        return [
            {
                "deliveryStart": _iso(ts),
                "deliveryEnd": _iso(ts + step),
                "entryPerArea": {name: self._index_price(name, ts, step) for name in names},
            }
            for ts in intervals(start, end, step)
        ]

    def _index_price(self, name: str, ts: datetime, step: timedelta) -> float:
        area = "DK1" if name in ("SYS", "SYSTEM") else name
        quarters = [ts + timedelta(minutes=15 * i) for i in range(max(1, int(step.total_seconds() // 900)))]
        return round(sum(self.market.price(area, q) for q in quarters) / len(quarters), 2)

    def _capacities(self, area: str, ts: datetime) -> dict[str, Any]:
        imports = [{"area": n, "capacity": self.market.capacity(n, area, ts)} for n in _NEIGHBOURS.get(area, [])]
        exports = [{"area": n, "capacity": self.market.capacity(area, n, ts)} for n in _NEIGHBOURS.get(area, [])]
        return {
            "importsByConnection": imports,
            "exportsByConnection": exports,
            "deliveryStart": _iso(ts),
            "deliveryEnd": _iso(ts + timedelta(minutes=15)),
            "totalImport": sum(c["capacity"] for c in imports),
            "totalExport": sum(c["capacity"] for c in exports),
        }

    def _exchanges(self, area: str, ts: datetime) -> dict[str, Any]:
        connections: list[dict[str, Any]] = [
            {"area": n, "import": self.market.flow(n, area, ts), "export": self.market.flow(area, n, ts)}
            for n in _NEIGHBOURS.get(area, [])
        ]
        net = round(sum(c["export"] - c["import"] for c in connections), 2)
        return {
            "byConnections": connections,
            "totalNetPosition": -net,
            "deliveryStart": _iso(ts),
            "deliveryEnd": _iso(ts + timedelta(minutes=15)),
        }

    def _contracts(self, area: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        contracts = []
        for product, step in (("QH", timedelta(minutes=15)), ("PH", timedelta(hours=1))):
            for ts in intervals(start, end, step):
                price = self.market.forecast(self.market.price(area, ts), ts - timedelta(hours=1), ts, area, product)
                volume = round(50 + 400 * self.market.noise("volume", area, product, ts), 1)
                contracts.append(
                    {
                        "contractName": f"{product}-{ts.strftime('%Y%m%d-%H%M')}",
                        "contractId": f"{product}{ts:%H%M}",
                        "deliveryStart": _iso(ts),
                        "deliveryEnd": _iso(ts + step),
                        "isLocalContract": False,
                        "averagePrice": price,
                        "highPrice": round(price + 20, 2),
                        "lowPrice": round(price - 25, 2),
                        "closePrice": price,
                        "volume": volume,
                        "buyVolume": volume,
                        "sellVolume": volume,
                    }
                )
        return contracts

    # JAO -------------------------------------------------------------------------------------------------------
    def jao_publication(self, region: str, dataset: str, params: Mapping[str, str]) -> dict[str, Any]:
        """A Publication Tool dataset: one row per interval, one ``border_<FROM>_<TO>`` column per direction."""
        start, end = parse_utc(params["FromUtc"]), parse_utc(params["ToUtc"])
        rows = []
        for number, ts in enumerate(intervals(start, min(end, self.now() + timedelta(days=2)), day_ahead_step(start))):
            row: dict[str, Any] = {"id": number + 1, "dateTimeUtc": _iso(ts)}
            for border in _JAO_BORDERS.get(region, []):
                source, target = (_JAO_AREA.get(part, part) for part in border.split("_"))
                capacity = self.market.capacity(source, target, ts)
                row[f"border_{border}"] = {
                    "maxExchanges": capacity,
                    "maxBorderFlow": capacity,
                    "atc": round(capacity * 0.8),
                    "shadowAuctionATC": round(capacity * 0.5),
                    "scheduledExchanges": self.market.flow(source, target, ts),
                }[dataset]
            rows.append(row)
        return {"data": rows, "rejected": False, "messages": None, "totalRows": len(rows)}

    def jao_auctions(self, params: Mapping[str, str]) -> tuple[int, Any]:
        """Daily explicit auctions of a corridor; 400 "No Data found" when there are none.

        As JAO answers: a product per CET/CEST wall-clock hour (no ``B03`` on the short day, ``B03DST``
        ``02:00-03:00*`` after ``B03`` on the long day), in no particular order.
        """
        corridor = params["corridor"]
        first, last = date.fromisoformat(params["fromdate"]), date.fromisoformat(params["todate"])
        auctions = []
        day = first
        while day <= last:
            start, end = local_day_window(day, "Europe/Paris")
            # Daily auction results are published at noon the day before delivery, not earlier.
            if start - timedelta(hours=12) <= self.now():
                results = [
                    {
                        **_jao_product(ts),
                        "corridorCode": corridor,
                        "offeredCapacity": 1000.0,
                        "requestedCapacity": round(1000 + 3000 * self.market.noise("bids", corridor, ts), 0),
                        "allocatedCapacity": 1000.0,
                        "auctionPrice": round(2 * self.market.noise("auction", corridor, ts), 2),
                    }
                    for ts in intervals(start, end, timedelta(hours=1))
                ]
                results.sort(key=lambda result: self.market.noise("order", corridor, result["productHour"], day))
                auctions.append(
                    {
                        "identification": f"{corridor}-D-DAILY-{day:%y%m%d}-01",
                        "horizonName": "Daily",
                        "corridorCode": corridor,
                        "cancelled": False,
                        "lastDataUpdate": _iso(start - timedelta(hours=12)),
                        "marketPeriodStart": _iso(start),
                        "marketPeriodStop": _iso(end),
                        "results": results,
                    }
                )
            day += timedelta(days=1)
        if not auctions:
            return 400, {"status": 400, "message": "No Data found"}
        return 200, auctions

    # Meteologica -----------------------------------------------------------------------------------------------
    def meteologica_issue(self, content: tuple[str, str], issued_at: datetime, hours: int) -> dict[str, Any]:
        """One issue of a content: rows from the issue time on, local wall-clock plus explicit UTC offsets."""
        kind, area = content
        known = area_by_code_or_none(area)
        zone = known.zone if known else ZoneInfo("UTC")
        truth = {
            "wind_power_forecast": self.market.wind,
            "solar_power_forecast": self.market.solar,
            "demand_forecast": self.market.load,
        }[kind]
        rows = []
        step = step_of(resolution_of("meteologica", kind))
        for ts in intervals(issued_at, issued_at + timedelta(hours=hours), step):
            value = self.market.forecast(truth(area, ts), issued_at, ts, area, kind)
            local, local_end = ts.astimezone(zone), (ts + step).astimezone(zone)
            rows.append(
                {
                    "From yyyy-mm-dd hh:mm": local.strftime("%Y-%m-%d %H:%M"),
                    "To yyyy-mm-dd hh:mm": local_end.strftime("%Y-%m-%d %H:%M"),
                    "UTC offset from (UTC+/-hhmm)": "UTC" + local.strftime("%z"),
                    "UTC offset to (UTC+/-hhmm)": "UTC" + local_end.strftime("%z"),
                    "forecast": f"{value:.1f}",
                    "perc10": f"{value * 0.85:.1f}",
                    "perc90": f"{value * 1.15:.1f}",
                }
            )
        return {
            "content_name": f"{area} {kind}",
            "unit": "MW",
            "timezone": str(zone),
            "data": rows,
            "issue_date": issued_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "update_id": issued_at.strftime("%Y%m%d%H%M"),
        }

    def meteologica_archive(self, content: tuple[str, str], year: int, month: int) -> bytes:
        """A month's archive: a ZIP with one JSON per issue of that month (daily at 00:00 UTC, 48 hours ahead)."""
        issues = []
        issued = datetime(year, month, 1, tzinfo=UTC)
        while issued.month == month and issued < self.now():
            issues.append(issued)
            issued += timedelta(days=1)
        # The same issues always give the same archive (the market is seeded): a backfill asks for a month once per
        # day it covers, and building it is the slow part.
        key = (content, tuple(issues))
        if key not in self._archives:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for moment in issues:
                    issue = self.meteologica_issue(content, moment, 48)
                    archive.writestr(f"{issue['update_id']}.json", json.dumps(issue))
            self._archives[key] = buffer.getvalue()
            while len(self._archives) > _ARCHIVES_KEPT:
                self._archives.pop(next(iter(self._archives)))
        return self._archives[key]

    # Volue -----------------------------------------------------------------------------------------------------
    def volue_instances(self, curve: tuple[str, str], params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Instances issued daily at 06:00 UTC in the issue range, with their points in the data range."""
        kind, area = curve
        truth: Callable[[datetime], float] = {
            "wnd": lambda ts: self.market.wind(area, ts),
            "spv": lambda ts: self.market.solar(area, ts),
            "con": lambda ts: self.market.load(area, ts),
        }[kind]
        issue_from, issue_to = parse_utc(params["issue_date_from"]), parse_utc(params["issue_date_to"])
        data_from, data_to = parse_utc(params["data_from"]), parse_utc(params["data_to"])
        instances = []
        for issued in intervals(
            issue_from.replace(hour=6, minute=0, second=0) - timedelta(days=1),
            min(issue_to, self.now()),
            timedelta(days=1),
        ):
            if issued < issue_from:
                continue
            points = [
                [int(ts.timestamp() * 1000), self.market.forecast(truth(ts), issued, ts, area, kind)]
                for ts in intervals(
                    max(data_from, issued), min(data_to, issued + timedelta(days=15)), timedelta(minutes=15)
                )
            ]
            instances.append(
                {
                    "id": 1,
                    "frequency": "MIN15",
                    "time_zone": "CET",
                    "issue_date": _iso(issued),
                    "unit": "MW",
                    "points": points,
                }
            )
        return instances
