"""Bidding zones and control areas: EIC code, the short name used in series ids, market time zone, country.

Every provider names zones its own way (ENTSO-E by EIC, JAO ``DE``/``D1``, Nord Pool ``SE3``); series ids always
use the short names here, so one series means one zone whatever the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["AREAS", "Area", "area_by_code", "area_by_code_or_none", "area_by_eic", "short_name_for_eic"]


@dataclass(frozen=True)
class Area:
    """One bidding zone or control area."""

    code: str
    eic: str
    timezone: str
    country: str

    @property
    def zone(self) -> ZoneInfo:
        """The market's local time zone (delivery days are local days)."""
        return ZoneInfo(self.timezone)


AREAS: tuple[Area, ...] = (
    Area("DK1", "10YDK-1--------W", "Europe/Copenhagen", "DK"),
    Area("DK2", "10YDK-2--------M", "Europe/Copenhagen", "DK"),
    Area("SE1", "10Y1001A1001A44P", "Europe/Stockholm", "SE"),
    Area("SE2", "10Y1001A1001A45N", "Europe/Stockholm", "SE"),
    Area("SE3", "10Y1001A1001A46L", "Europe/Stockholm", "SE"),
    Area("SE4", "10Y1001A1001A47J", "Europe/Stockholm", "SE"),
    Area("NO1", "10YNO-1--------2", "Europe/Oslo", "NO"),
    Area("NO2", "10YNO-2--------T", "Europe/Oslo", "NO"),
    Area("NO3", "10YNO-3--------J", "Europe/Oslo", "NO"),
    Area("NO4", "10YNO-4--------9", "Europe/Oslo", "NO"),
    Area("NO5", "10Y1001A1001A48H", "Europe/Oslo", "NO"),
    Area("FI", "10YFI-1--------U", "Europe/Helsinki", "FI"),
    Area("EE", "10Y1001A1001A39I", "Europe/Tallinn", "EE"),
    Area("LV", "10YLV-1001A00074", "Europe/Riga", "LV"),
    Area("LT", "10YLT-1001A0008Q", "Europe/Vilnius", "LT"),
    Area("DE-LU", "10Y1001A1001A82H", "Europe/Berlin", "DE"),
    Area("DE", "10Y1001A1001A83F", "Europe/Berlin", "DE"),
    Area("NL", "10YNL----------L", "Europe/Amsterdam", "NL"),
    Area("BE", "10YBE----------2", "Europe/Brussels", "BE"),
    Area("FR", "10YFR-RTE------C", "Europe/Paris", "FR"),
    Area("ES", "10YES-REE------0", "Europe/Madrid", "ES"),
    Area("PT", "10YPT-REN------W", "Europe/Lisbon", "PT"),
    Area("AT", "10YAT-APG------L", "Europe/Vienna", "AT"),
    Area("CH", "10YCH-SWISSGRIDZ", "Europe/Zurich", "CH"),
    Area("CZ", "10YCZ-CEPS-----N", "Europe/Prague", "CZ"),
    Area("PL", "10YPL-AREA-----S", "Europe/Warsaw", "PL"),
    Area("GB", "10YGB----------A", "Europe/London", "GB"),
)

_BY_EIC = {area.eic: area for area in AREAS}
_BY_CODE = {area.code: area for area in AREAS}


def area_by_eic(eic: str) -> Area | None:
    """The area with this EIC code, if known."""
    return _BY_EIC.get(eic.strip())


def area_by_code(code: str) -> Area:
    """The area with this short name; unknown names raise ``KeyError`` naming the known ones."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown area '{code}'; known: {', '.join(sorted(_BY_CODE))}") from None


def area_by_code_or_none(code: str) -> Area | None:
    """The area with this short name, or None."""
    return _BY_CODE.get(code)


def short_name_for_eic(eic: str) -> str:
    """The short name of a known EIC, else the EIC itself: an unknown zone is still data, never an error."""
    area = area_by_eic(eic)
    return area.code if area else eic.strip()
