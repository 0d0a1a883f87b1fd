"""A synthetic but realistic European power market: every value is a pure function of (seed, series, time).

Weather is value noise on 6-hour knots, so wind ramps and cloud cover are smooth and the same everywhere it is
asked for. Solar follows a clear-sky curve by latitude, season and hour; load follows daily and weekly profiles,
a winter bump and the country's public holidays; prices follow a merit order on residual load, with rare spikes
and negative prices when renewables exceed demand. Forecasts are the truth plus an error that grows with the
horizon, so later issues are better than earlier ones, as real ones are.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays

from scalar_ray.core.areas import area_by_code_or_none

__all__ = ["SyntheticMarket"]

_KNOT = timedelta(hours=6)
# Rough installed capacities (MW) and mean loads per zone; unknown zones get a generic mid-size zone.
_ZONES: dict[str, tuple[float, float, float, float]] = {
    # area: (wind MW, solar MW, mean load MW, latitude)
    "DK1": (4300, 2500, 2300, 56.0),
    "DK2": (1500, 900, 1600, 55.6),
    "SE1": (2000, 50, 1100, 66.0),
    "SE2": (5000, 100, 1800, 63.0),
    "SE3": (5000, 1200, 9000, 59.3),
    "SE4": (2000, 600, 2600, 55.7),
    "NO1": (200, 100, 4000, 60.0),
    "NO2": (800, 50, 4200, 58.5),
    "NO3": (1500, 20, 3000, 63.4),
    "NO4": (1400, 10, 2200, 69.0),
    "NO5": (50, 10, 2000, 60.4),
    "FI": (7000, 1200, 9500, 62.0),
    "EE": (600, 900, 950, 59.0),
    "LV": (150, 300, 800, 57.0),
    "LT": (1500, 1400, 1400, 55.0),
    "DE-LU": (70000, 85000, 56000, 51.0),
    "NL": (11000, 24000, 13000, 52.2),
    "BE": (5000, 9000, 9500, 50.8),
    "FR": (23000, 20000, 52000, 46.5),
}
_GENERIC = (3000.0, 2000.0, 5000.0, 52.0)


class SyntheticMarket:
    """Deterministic market series; ``seed`` picks the weather."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        # Prices, flows and imbalances all call the same base series at the same moments: compute each once.
        self._memo: dict[tuple[object, ...], float] = {}

    # Building blocks -------------------------------------------------------------------------------------------
    def noise(self, *keys: object) -> float:
        """A uniform number in [0, 1) fixed by the keys."""
        return _noise(self.seed, keys)

    def _remember(self, key: tuple[object, ...], compute: Callable[[], float]) -> float:
        if key not in self._memo:
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = compute()
        return self._memo[key]

    def smooth(self, name: str, area: str, ts: datetime) -> float:
        """Smooth value noise in [0, 1): cosine interpolation between 6-hourly knots."""
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        position = (ts - epoch) / _KNOT
        knot = math.floor(position)
        weight = (1 - math.cos(math.pi * (position - knot))) / 2
        return (1 - weight) * self.noise(name, area, knot) + weight * self.noise(name, area, knot + 1)

    # Physical series -------------------------------------------------------------------------------------------
    def wind(self, area: str, ts: datetime, offshore: bool = False) -> float:
        """Wind generation (MW): a weather-driven capacity factor, higher in winter and offshore."""
        return self._remember(("wind", area, ts, offshore), lambda: self._wind(area, ts, offshore))

    def _wind(self, area: str, ts: datetime, offshore: bool) -> float:
        capacity = _zone(area)[0] * (0.4 if offshore else (0.6 if area.startswith("DK") else 1.0))
        season = 1.0 + 0.25 * math.cos(2 * math.pi * (ts.timetuple().tm_yday - 15) / 365)
        speed = self.smooth("wind", area, ts) * 0.8 + self.smooth("gust", area, ts + timedelta(hours=3)) * 0.2
        factor = max(0.0, min(1.0, float(speed**1.6) * 0.85 * season * (1.15 if offshore else 1.0)))
        return round(capacity * factor, 2)

    def solar(self, area: str, ts: datetime) -> float:
        """Solar generation (MW): clear-sky by latitude, day of year and hour, times cloud cover."""
        return self._remember(("solar", area, ts), lambda: self._solar(area, ts))

    def _solar(self, area: str, ts: datetime) -> float:
        capacity, latitude = _zone(area)[1], _zone(area)[3]
        day = ts.timetuple().tm_yday
        declination = 23.44 * math.sin(2 * math.pi * (284 + day) / 365)
        solar_hour = ts.hour + ts.minute / 60 + 1.0  # Central European longitudes: solar noon near 11:00 UTC
        hour_angle = 15 * (solar_hour - 12)
        lat, dec, ha = map(math.radians, (latitude, declination, hour_angle))
        elevation = math.sin(lat) * math.sin(dec) + math.cos(lat) * math.cos(dec) * math.cos(ha)
        if elevation <= 0:
            return 0.0
        clouds = 0.35 + 0.65 * (1 - self.smooth("cloud", area, ts))
        return round(capacity * float(elevation**1.2) * clouds * 0.85, 2)

    def load(self, area: str, ts: datetime) -> float:
        """Total load (MW): daily and weekly profile, winter heating, holidays."""
        return self._remember(("load", area, ts), lambda: self._load(area, ts))

    def _load(self, area: str, ts: datetime) -> float:
        mean = _zone(area)[2]
        known = area_by_code_or_none(area)
        local = ts.astimezone(known.zone) if known else ts
        hour = local.hour + local.minute / 60
        daily = (
            0.82
            + 0.12 * math.sin(math.pi * (hour - 6) / 12) * (1 if 6 <= hour <= 22 else 0.3)
            + 0.06 * (1 if 17 <= hour <= 20 else 0)
        )
        weekend = local.weekday() >= 5 or _is_holiday(known.country if known else "", local.date())
        winter = 1.0 + 0.18 * math.cos(2 * math.pi * (ts.timetuple().tm_yday - 20) / 365)
        wobble = 0.97 + 0.06 * self.smooth("temperature", area, ts)
        return round(mean * daily * (0.86 if weekend else 1.0) * winter * wobble, 2)

    # Market series ---------------------------------------------------------------------------------------------
    def price(self, area: str, ts: datetime) -> float:
        """Day-ahead price (EUR/MWh) from residual load, with spikes and negative hours."""
        return self._remember(("price", area, ts), lambda: self._price(area, ts))

    def _price(self, area: str, ts: datetime) -> float:
        residual = self.load(area, ts) - self.wind(area, ts) - self.solar(area, ts)
        share = residual / max(_zone(area)[2], 1.0)
        fuel = 55 + 15 * math.cos(2 * math.pi * (ts.timetuple().tm_yday - 30) / 365)
        price = fuel * (0.25 + 1.1 * max(share, -0.5)) + 30 * max(0.0, share - 0.8) ** 2
        if share < 0.05:
            price = min(price, -5 - 40 * (0.05 - share))  # renewables beyond demand: negative prices
        spike = self.noise("spike", area, ts.date(), ts.hour)
        if spike > 0.995:
            price *= 3 + 10 * (spike - 0.995) * 200  # a rare scarcity hour
        return round(price, 2)

    def imbalance_price(self, area: str, ts: datetime) -> float:
        """Imbalance price: the day-ahead price pushed by the system's imbalance direction."""
        direction = self.imbalance_volume(area, ts)
        return round(self.price(area, ts) + 0.08 * direction + 25 * (self.noise("imb", area, ts) - 0.5), 2)

    def imbalance_volume(self, area: str, ts: datetime) -> float:
        """System imbalance (MW, positive = long): forecast errors of wind and load."""
        mean = _zone(area)[2]
        return round(mean * 0.08 * (self.smooth("imbalance", area, ts) - 0.5) * 2, 2)

    def flow(self, source: str, target: str, ts: datetime) -> float:
        """Physical flow source → target (MW, never negative): exports follow the price difference."""
        spread = self.price(target, ts) - self.price(source, ts)
        capacity = self.capacity(source, target, ts)
        return round(max(0.0, min(capacity, capacity * math.tanh(spread / 25))), 2)

    def capacity(self, source: str, target: str, ts: datetime) -> float:
        """Transfer capacity source → target (MW), with maintenance days."""
        base = 600 + 1400 * self.noise("capacity", source, target)
        outage = self.noise("outage", source, target, ts.date()) > 0.97
        return round(base * (0.3 if outage else 1.0), 0)

    def forecast(self, truth: float, issued_at: datetime, ts: datetime, *keys: object) -> float:
        """A forecast of ``truth`` issued at ``issued_at``: error grows with the horizon (about 4 % a day)."""
        horizon_h = max(0.0, (ts - issued_at).total_seconds() / 3600)
        error = (self.noise("forecast-error", *keys, ts, issued_at.date(), issued_at.hour) - 0.5) * 2
        return round(truth * (1 + error * min(0.35, 0.02 + 0.0017 * horizon_h)), 2)


_MEMO_LIMIT = 2_000_000  # about 200 MB at most; cleared, not evicted one by one


@lru_cache(maxsize=2**20)
def _noise(seed: int, keys: tuple[object, ...]) -> float:
    digest = hashlib.blake2b(repr((seed, *keys)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@lru_cache(maxsize=64)
def _country_holidays(country: str) -> holidays.HolidayBase | None:
    if country not in holidays.list_supported_countries():
        return None
    return holidays.country_holidays(country)


def _is_holiday(country: str, day: date) -> bool:
    calendar = _country_holidays(country) if country else None
    return bool(calendar and day in calendar)


def _zone(area: str) -> tuple[float, float, float, float]:
    return _ZONES.get(area, _GENERIC)
