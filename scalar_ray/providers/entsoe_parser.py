"""ENTSO-E Transparency Platform documents (IEC 62325 XML) → canonical rows. Pure: no I/O.

Handles every document family the platform acquires (``Publication_MarketDocument``, ``GL_MarketDocument``,
``Balancing_MarketDocument``), ZIP-wrapped answers (balancing data), sparse ``curveType`` A03 periods (omitted
positions repeat the previous value), several classification sequences (DE-LU 60- and 15-minute day-ahead prices),
and ``Acknowledgement_MarketDocument`` answers: "no data" is an empty table, "too many instances" asks the
caller to split the window.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

import pyarrow as pa
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from scalar_ray.core.areas import area_by_code_or_none, short_name_for_eic
from scalar_ray.core.durations import Duration, add_duration, parse_duration
from scalar_ray.core.errors import WindowTooLargeError
from scalar_ray.core.utc import parse_utc
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder
from scalar_ray.providers.payloads import payload_error, payload_parser

__all__ = ["DOCUMENT_VARIABLES", "PSR_TYPES", "parse_entsoe"]

# A request spans a year at most: a Period longer than a year of minutes, or of a thousand calendar steps, is no
# real answer (a hostile one could otherwise ask for billions of rows or loop for hours).
_MAX_POSITIONS = 366 * 24 * 60
_MAX_CALENDAR_POSITIONS = 1000
# Unpacked size of one ZIP member: a year of generation per unit is tens of megabytes; a ZIP bomb is gigabytes.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
# The methods zipfile unpacks (ENTSO-E uses deflate); bit 0 of the flags marks an encrypted member.
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_ENCRYPTED = 0x1

# documentType → base variable of its series.
DOCUMENT_VARIABLES = {
    "A44": "price",
    "A65": "load",
    "A75": "generation",
    "A69": "generation_forecast",
    "A71": "generation_forecast",
    "A11": "physical_flow",
    "A09": "scheduled_exchange",
    "A61": "capacity",
    "A84": "activation_price",
    "A85": "imbalance_price",
    "A86": "imbalance_volume",
    "A81": "reserve",
}

# mktPSRType.psrType → production type, as the Transparency Platform names them.
PSR_TYPES = {
    "A03": "mixed",
    "A04": "generation",
    "A05": "load",
    "B01": "biomass",
    "B02": "lignite",
    "B03": "coal_gas",
    "B04": "gas",
    "B05": "hard_coal",
    "B06": "oil",
    "B07": "oil_shale",
    "B08": "peat",
    "B09": "geothermal",
    "B10": "hydro_pumped_storage",
    "B11": "hydro_run_of_river",
    "B12": "hydro_reservoir",
    "B13": "marine",
    "B14": "nuclear",
    "B15": "other_renewable",
    "B16": "solar",
    "B17": "waste",
    "B18": "wind_offshore",
    "B19": "wind_onshore",
    "B20": "other",
    "B25": "energy_storage",
}

# process.processType → suffix: forecasts by horizon; balancing products by name; realised values none.
_PROCESS_SUFFIX = {
    "A01": "_da",
    "A40": "_id",
    "A18": "_current",
    "A31": "_wa",
    "A32": "_ma",
    "A33": "_ya",
    "A51": "_afrr",
    "A47": "_mfrr",
    "A52": "_fcr",
    "A46": "_rr",
    "A60": "_mfrr_scheduled",
    "A61": "_mfrr_direct",
}
_DIRECTION_SUFFIX = {"A01": "_up", "A02": "_down"}
# contract_MarketAgreement.type → suffix: one answer may hold a daily and a total schedule for the same hours
# (A09 without a contract type asked). Daily (A01), what the catalogue asks for, keeps the bare name.
_CONTRACT_SUFFIX = {
    "A02": "_weekly",
    "A03": "_monthly",
    "A04": "_yearly",
    "A05": "_total",
    "A06": "_long_term",
    "A07": "_intraday",
    "A13": "_hourly",
}
_IMBALANCE_CATEGORY_SUFFIX = {"A04": "_long", "A05": "_short"}
_UNITS = {"MAW": "MW", "MWH": "MWh", "KWH": "kWh", "MWT": "MW"}
_VALUE_TAGS = (
    "price.amount",
    "quantity",
    "activation_Price.amount",
    "imbalance_Price.amount",
    "procurement_Price.amount",
)
_NO_DATA_REASONS = ("999", "B11")


@payload_parser
def parse_entsoe(payload: bytes, context: FetchContext) -> pa.Table:
    """Parse one ENTSO-E answer (an XML document, or a ZIP of them) into the canonical table."""
    builder = ObservationBuilder(context)
    for document in _documents(payload, context):
        _parse_document(document, builder, context)
    return builder.build()


def _name(info: zipfile.ZipInfo) -> str:
    return info.filename


def _unpacked(archive: zipfile.ZipFile, info: zipfile.ZipInfo, context: FetchContext) -> bytes:
    """One member's bytes, refused past ``MAX_MEMBER_BYTES`` (read with a limit: a header can understate the size)."""
    if info.compress_type not in _ZIP_METHODS or info.flag_bits & _ENCRYPTED:
        raise payload_error(
            context, f"ZIP member '{info.filename}' is encrypted or packed with method {info.compress_type}"
        )
    if info.file_size > MAX_MEMBER_BYTES:
        raise payload_error(
            context, f"ZIP member '{info.filename}' unpacks to {info.file_size:,} bytes; at most {MAX_MEMBER_BYTES:,}"
        )
    with archive.open(info) as member:
        data = member.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise payload_error(context, f"ZIP member '{info.filename}' unpacks to more than {MAX_MEMBER_BYTES:,} bytes")
    return data


def _documents(payload: bytes, context: FetchContext) -> Iterator[Element]:
    if payload[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                members = [_unpacked(archive, info, context) for info in sorted(archive.infolist(), key=_name)]
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise payload_error(context, f"unreadable ZIP answer: {type(exc).__name__}: {exc}") from exc
        for member in members:
            yield _xml(member, context)
        return
    yield _xml(payload, context)


def _xml(payload: bytes, context: FetchContext) -> Element:
    try:
        root: Element = ElementTree.fromstring(payload)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise payload_error(context, f"malformed XML: {exc}") from exc
    return root


def _parse_document(root: Element, builder: ObservationBuilder, context: FetchContext) -> None:
    kind = _local(root.tag)
    if kind == "Acknowledgement_MarketDocument":
        _acknowledgement(root, context)
        return
    if not kind.endswith("MarketDocument"):
        raise payload_error(context, f"unexpected document '{kind}'")
    document_type = _text(root, "type") or context.dataset
    base = DOCUMENT_VARIABLES.get(document_type)
    if base is None:
        raise payload_error(context, f"document type '{document_type}' is not one the platform acquires")
    created = _text(root, "createdDateTime")
    if created is None:
        raise payload_error(context, "document has no createdDateTime")
    document = _Document(
        base=base,
        process=_PROCESS_SUFFIX.get(_text(root, "process.processType") or "", ""),
        issued_at=parse_utc(created),
        # Balancing documents name their area once, for the whole document.
        area=_text(root, "area_Domain.mRID") or _text(root, "controlArea_Domain.mRID"),
    )
    for series in _children(root, "TimeSeries"):
        _parse_series(series, document, builder, context)


@dataclass(frozen=True)
class _Document:
    """What every TimeSeries of a document shares."""

    base: str
    process: str
    issued_at: datetime
    area: str | None


def _parse_series(series: Element, document: _Document, builder: ObservationBuilder, context: FetchContext) -> None:
    area, consumption = _area(series, document.area, context)
    base, process, issued_at = document.base, document.process, document.issued_at
    known = area_by_code_or_none(area)
    zone = known.zone if known else None
    variable = base + _series_qualifiers(series) + ("_consumption" if consumption else "") + process
    unit_for = _units(series)
    sparse = _text(series, "curveType") == "A03"
    for period in _children(series, "Period"):
        interval = _child(period, "timeInterval")
        start_text, end_text = _text(interval, "start"), _text(interval, "end")
        resolution_text = _text(period, "resolution")
        if interval is None or start_text is None or end_text is None or resolution_text is None:
            raise payload_error(context, "a Period lacks its timeInterval or resolution")
        try:
            start, end, step = parse_utc(start_text), parse_utc(end_text), parse_duration(resolution_text)
        except ValueError as exc:
            raise payload_error(context, str(exc)) from exc
        count = _position_count(start, end, step, zone)
        # Imbalance prices may give two points per position, one per price category (long and short).
        for category, points in _points(period, context).items():
            for tag, variable_suffix in _value_columns(points):
                values = {position: entry[tag] for position, entry in points.items() if tag in entry}
                for position, value in _positions(values, count, sparse):
                    builder.add(
                        area=area,
                        variable=variable + variable_suffix + _IMBALANCE_CATEGORY_SUFFIX.get(category, ""),
                        ts=add_duration(start, step, position - 1, zone),
                        value=value,
                        issued_at=issued_at,
                        unit=unit_for(tag),
                        resolution=resolution_text,
                    )


def _points(period: Element, context: FetchContext) -> dict[str, dict[int, dict[str, float]]]:
    """The period's values by price category (``""`` when none), then by position, then by value tag."""
    points: dict[str, dict[int, dict[str, float]]] = {}
    for point in _children(period, "Point"):
        position_text = _text(point, "position")
        try:
            position = int(position_text or "")
            entry = {tag: float(text) for tag in _VALUE_TAGS if (text := _text(point, tag)) is not None}
        except ValueError as exc:
            raise payload_error(context, f"non-numeric position or value at position {position_text}: {exc}") from exc
        points.setdefault(_text(point, "imbalance_Price.category") or "", {})[position] = entry
    return points


def _value_columns(points: dict[int, dict[str, float]]) -> list[tuple[str, str]]:
    """Which value tags the points carry; with more than one (reserves: quantity and price) each gets a suffix."""
    tags = [tag for tag in _VALUE_TAGS if any(tag in values for values in points.values())]
    if len(tags) <= 1:
        return [(tag, "") for tag in tags]
    return [(tag, "_price" if "rice" in tag else "_quantity") for tag in tags]


def _positions(values: dict[int, float], count: int, sparse: bool) -> Iterator[tuple[int, float]]:
    """(position, value) for every position; A03 curves repeat the last value over omitted positions."""
    outside = [position for position in values if not 1 <= position <= count]
    if outside:
        raise ValueError(f"position {min(outside, key=abs)} outside the Period's {count} positions")
    if not sparse:
        yield from sorted(values.items())
        return
    last: float | None = None
    for position in range(1, count + 1):
        last = values.get(position, last)
        if last is not None:
            yield position, last


def _position_count(start: datetime, end: datetime, step: Duration, zone: ZoneInfo | None) -> int:
    """How many positions the Period holds; a Period longer than any real answer is refused (``ValueError``)."""
    fixed = step.clock_step()
    if fixed is not None:
        count = max(0, math.ceil((end - start) / fixed))
        if count > _MAX_POSITIONS:
            raise ValueError(f"a Period of {count:,} positions of {step}; at most {_MAX_POSITIONS:,}")
        return count
    count, cursor = 0, start
    while cursor < end:  # days, months, years: calendar steps, 23 to 25 hours a day across DST
        count += 1
        if count > _MAX_CALENDAR_POSITIONS:
            raise ValueError(f"a Period of more than {_MAX_CALENDAR_POSITIONS:,} positions of {step}")
        cursor = add_duration(start, step, count, zone)
    return count


def _area(series: Element, document_area: str | None, context: FetchContext) -> tuple[str, bool]:
    """The series' area short name, and whether it is consumption (A75 out-of-zone series)."""
    inner, outer = _text(series, "in_Domain.mRID"), _text(series, "out_Domain.mRID")
    if inner and outer:
        if inner == outer:
            return short_name_for_eic(inner), False
        return f"{short_name_for_eic(outer)}>{short_name_for_eic(inner)}", False
    for tag in (
        "inBiddingZone_Domain.mRID",
        "area_Domain.mRID",
        "controlArea_Domain.mRID",
        "acquiring_Domain.mRID",
        "biddingZone_Domain.mRID",
    ):
        if eic := _text(series, tag):
            return short_name_for_eic(eic), False
    if eic := _text(series, "outBiddingZone_Domain.mRID"):
        # Load documents name their zone as "out"; generation documents use "out" for consumption (pumping).
        return short_name_for_eic(eic), context.dataset in ("A75", "A69", "A71")
    if document_area:
        return short_name_for_eic(document_area), False
    if context.area:
        return context.area, False
    raise payload_error(context, "a TimeSeries names no domain")


def _series_qualifiers(series: Element) -> str:
    suffix = ""
    # Generation documents nest <MktPSRType><psrType>; balancing documents use a flat mktPSRType.psrType.
    if psr := _text(_child(series, "MktPSRType"), "psrType") or _text(series, "mktPSRType.psrType"):
        suffix += "_" + PSR_TYPES.get(psr, psr.lower())
    suffix += _DIRECTION_SUFFIX.get(_text(series, "flowDirection.direction") or "", "")
    suffix += _CONTRACT_SUFFIX.get(_text(series, "contract_MarketAgreement.type") or "", "")
    sequence = _text(series, "classificationSequence_AttributeInstanceComponent.position")
    if sequence and sequence != "1":
        suffix += f"_seq{sequence}"
    return suffix


def _units(series: Element) -> Callable[[str], str]:
    quantity_unit = _UNITS.get(_text(series, "quantity_Measure_Unit.name") or "MAW", "MW")
    currency = _text(series, "currency_Unit.name") or "EUR"
    price_unit = _UNITS.get(_text(series, "price_Measure_Unit.name") or "MWH", "MWh")

    def unit_for(tag: str) -> str:
        return f"{currency}/{price_unit}" if "rice" in tag else quantity_unit

    return unit_for


def _acknowledgement(root: Element, context: FetchContext) -> None:
    reason = _child(root, "Reason")
    code, text = _text(reason, "code") or "", _text(reason, "text") or ""
    if "exceeds the allowed maximum" in text:
        raise WindowTooLargeError(context.provider, context.dataset, str(context.window), text)
    if code not in _NO_DATA_REASONS:
        raise payload_error(context, f"acknowledgement {code}: {text}")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element | None, name: str) -> Iterator[Element]:
    if element is None:
        return
    for child in element:
        if _local(child.tag) == name:
            yield child


def _child(element: Element | None, name: str) -> Element | None:
    return next(_children(element, name), None)


def _text(element: Element | None, name: str) -> str | None:
    child = _child(element, name)
    if child is None:
        return None
    return child.text.strip() if child.text and child.text.strip() else None
