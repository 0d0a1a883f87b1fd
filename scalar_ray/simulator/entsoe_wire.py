"""ENTSO-E documents as the Transparency Platform writes them, filled from the synthetic market."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from scalar_ray.core.areas import area_by_code, area_by_eic
from scalar_ray.simulator.grid import day_ahead_step, delivery_days, intervals
from scalar_ray.simulator.market import SyntheticMarket

__all__ = ["entsoe_document"]

_NAMESPACES = {
    "Publication_MarketDocument": "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3",
    "GL_MarketDocument": "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0",
    "Balancing_MarketDocument": "urn:iec62325.351:tc57wg16:451-6:balancingdocument:4:1",
}
_STEP = timedelta(minutes=15)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


class _Series:
    """One TimeSeries: its header elements, its value tag, and how to compute a value."""

    def __init__(
        self,
        header: str,
        tag: str,
        value: Callable[[datetime], float],
        step: Callable[[datetime], timedelta],
        sparse: bool = False,
    ) -> None:
        self.header, self.tag, self.value, self.step, self.sparse = header, tag, value, step, sparse


_Described = tuple[str, list[_Series], str, Callable[[datetime], datetime]]


def entsoe_document(market: SyntheticMarket, params: Mapping[str, str], now: datetime) -> tuple[int, str]:
    """(HTTP status, XML body) for one Transparency Platform query."""
    document_type = params.get("documentType", "")
    try:
        start = datetime.strptime(params["periodStart"] + "+0000", "%Y%m%d%H%M%z")
        end = datetime.strptime(params["periodEnd"] + "+0000", "%Y%m%d%H%M%z")
        area, series, root, created = _describe(market, document_type, params, now)
    except (KeyError, ValueError) as exc:
        return 400, _acknowledgement("999", f"Invalid request: {exc}")
    # Like the real platform: whole local delivery days, up to two days ahead (day-ahead results, forecasts).
    # A day appears once its document exists: day-ahead results after the auction, actuals as they are measured.
    days = [
        d
        for d in delivery_days(start, end, area_by_code(area).timezone)
        if d[1] < now + timedelta(days=2) and created(d[2]) <= now
    ]
    if not days:
        return 200, _acknowledgement("999", "No matching data found for Data item ENTSO-E simulator")
    body = []
    for index, (_, day_start, day_end) in enumerate(days):
        for number, entry in enumerate(series):
            step = entry.step(day_start)
            points = []
            previous = None
            for position, ts in enumerate(intervals(day_start, day_end, step), start=1):
                value = entry.value(ts)
                if entry.sparse and value == previous and position > 1:
                    continue  # curveType A03: a repeated value is omitted
                previous = value
                points.append(f"<Point><position>{position}</position><{entry.tag}>{value}</{entry.tag}></Point>")
            resolution = f"PT{int(step.total_seconds() // 60)}M"
            body.append(
                f"<TimeSeries><mRID>{index * len(series) + number + 1}</mRID>{entry.header}"
                f"<curveType>{'A03' if entry.sparse else 'A01'}</curveType><Period><timeInterval>"
                f"<start>{_stamp(day_start)}</start><end>{_stamp(day_end)}</end></timeInterval>"
                f"<resolution>{resolution}</resolution>{''.join(points)}</Period></TimeSeries>"
            )
    process = f"<process.processType>{params['processType']}</process.processType>" if "processType" in params else ""
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{_NAMESPACES[root]}"><mRID>sim</mRID>'
        f"<revisionNumber>1</revisionNumber><type>{document_type}</type>{process}"
        f"<createdDateTime>{created(days[-1][2]).strftime('%Y-%m-%dT%H:%M:%SZ')}</createdDateTime>"
        f"{''.join(body)}</{root}>"
    )
    return 200, document


def _describe(
    market: SyntheticMarket, document_type: str, params: Mapping[str, str], now: datetime
) -> tuple[str, list[_Series], str, Callable[[datetime], datetime]]:
    """(area, series, root element, createdDateTime given the last day's end) of a query."""
    builders = {
        "A44": _day_ahead_prices,
        "A11": _flows,
        "A09": _flows,
        "A65": _load,
        "A75": _generation,
        "A69": _generation,
        "A85": _balancing,
        "A86": _balancing,
        "A84": _balancing,
    }
    if document_type not in builders:
        raise ValueError(f"documentType '{document_type}' is not simulated")
    return builders[document_type](market, document_type, params, now)


def _quarter_hours(_: datetime) -> timedelta:
    return _STEP


def _published_after(now: datetime) -> Callable[[datetime], datetime]:
    """Actuals are published an hour after the day's last interval (or now, for today)."""
    return lambda day_end: min(now, day_end + timedelta(hours=1))


def _day_ahead_prices(market: SyntheticMarket, _: str, params: Mapping[str, str], now: datetime) -> _Described:
    area = _area(params["in_Domain"])
    header = _domain_pair(params["in_Domain"], params["in_Domain"]) + _price_units()

    def price(ts: datetime) -> float:
        return market.price(area, ts)

    # SDAC results are published around 12:45 CET the day before delivery.
    return (
        area,
        [_Series(header, "price.amount", price, day_ahead_step)],
        "Publication_MarketDocument",
        (lambda day_end: day_end - timedelta(days=1, hours=11)),
    )


def _flows(market: SyntheticMarket, document_type: str, params: Mapping[str, str], now: datetime) -> _Described:
    source, target = _area(params["out_Domain"]), _area(params["in_Domain"])

    def flow(ts: datetime) -> float:
        physical = market.flow(source, target, ts)
        if document_type == "A11":
            return physical
        return market.forecast(physical, ts.replace(hour=11) - timedelta(days=1), ts, source, target)  # scheduled

    header = _domain_pair(params["in_Domain"], params["out_Domain"]) + _quantity_unit()
    return (
        source,
        [_Series(header, "quantity", flow, _quarter_hours)],
        "Publication_MarketDocument",
        _published_after(now),
    )


def _load(market: SyntheticMarket, _: str, params: Mapping[str, str], now: datetime) -> _Described:
    eic = params["outBiddingZone_Domain"]
    area = _area(eic)
    day_ahead = params.get("processType") == "A01"

    def load(ts: datetime) -> float:
        truth = market.load(area, ts)
        return market.forecast(truth, ts - timedelta(hours=36), ts, area, "load") if day_ahead else truth

    header = f'<outBiddingZone_Domain.mRID codingScheme="A01">{eic}</outBiddingZone_Domain.mRID>' + _quantity_unit()
    created = (lambda day_end: day_end - timedelta(days=1, hours=14)) if day_ahead else _published_after(now)
    return area, [_Series(header, "quantity", load, _quarter_hours)], "GL_MarketDocument", created


def _generation(market: SyntheticMarket, document_type: str, params: Mapping[str, str], now: datetime) -> _Described:
    area = _area(params["in_Domain"])
    domain = f'<inBiddingZone_Domain.mRID codingScheme="A01">{params["in_Domain"]}</inBiddingZone_Domain.mRID>'
    truths: dict[str, Callable[[datetime], float]] = {
        "B19": lambda ts: market.wind(area, ts),
        "B16": lambda ts: market.solar(area, ts),
    }
    if area.startswith("DK"):
        truths["B18"] = lambda ts: market.wind(area, ts, offshore=True)
    lead = timedelta(hours=30) if params.get("processType") == "A01" else timedelta(hours=4)
    series = []
    for psr, truth in truths.items():

        def value(ts: datetime, truth: Callable[[datetime], float] = truth, psr: str = psr) -> float:
            return truth(ts) if document_type == "A75" else market.forecast(truth(ts), ts - lead, ts, area, psr)

        series.append(_Series(domain + _psr(psr) + _quantity_unit(), "quantity", value, _quarter_hours))
    if document_type == "A75":

        def gas(ts: datetime) -> float:
            residual = market.load(area, ts) - market.wind(area, ts) - market.solar(area, ts)
            return round(max(0.0, residual) * 0.2, -2)  # steps of 100 MW: repeats, sent as a sparse A03 curve

        series.append(_Series(domain + _psr("B04") + _quantity_unit(), "quantity", gas, _quarter_hours, sparse=True))
        return area, series, "GL_MarketDocument", _published_after(now)
    return area, series, "GL_MarketDocument", lambda day_end: day_end - timedelta(days=1) - lead


def _balancing(market: SyntheticMarket, document_type: str, params: Mapping[str, str], now: datetime) -> _Described:
    eic = params["controlArea_Domain"]
    area = _area(eic)
    domain = f'<area_Domain.mRID codingScheme="A01">{eic}</area_Domain.mRID>'

    def imbalance_price(ts: datetime) -> float:
        return market.imbalance_price(area, ts)

    def shortage(ts: datetime) -> float:
        return max(0.0, -market.imbalance_volume(area, ts))

    def surplus(ts: datetime) -> float:
        return max(0.0, market.imbalance_volume(area, ts))

    def upward_price(ts: datetime) -> float:
        return round(market.price(area, ts) + 18, 2)

    def downward_price(ts: datetime) -> float:
        return round(market.price(area, ts) - 18, 2)

    if document_type == "A85":
        series = [_Series(domain + _price_units(), "imbalance_Price.amount", imbalance_price, _quarter_hours)]
    elif document_type == "A86":
        series = [
            _Series(domain + _direction("A01") + _quantity_unit(), "quantity", shortage, _quarter_hours),
            _Series(domain + _direction("A02") + _quantity_unit(), "quantity", surplus, _quarter_hours),
        ]
    else:
        series = [
            _Series(
                domain + _direction("A01") + _price_units(), "activation_Price.amount", upward_price, _quarter_hours
            ),
            _Series(
                domain + _direction("A02") + _price_units(), "activation_Price.amount", downward_price, _quarter_hours
            ),
        ]
    return area, series, "Balancing_MarketDocument", _published_after(now)


def _area(eic: str) -> str:
    known = area_by_eic(eic)
    if known is None:
        raise ValueError(f"unknown domain {eic}")
    return known.code


def _domain_pair(inner: str, outer: str) -> str:
    return (
        f'<in_Domain.mRID codingScheme="A01">{inner}</in_Domain.mRID>'
        f'<out_Domain.mRID codingScheme="A01">{outer}</out_Domain.mRID>'
    )


def _price_units() -> str:
    return "<currency_Unit.name>EUR</currency_Unit.name><price_Measure_Unit.name>MWH</price_Measure_Unit.name>"


def _quantity_unit() -> str:
    return "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"


def _psr(code: str) -> str:
    return f"<MktPSRType><psrType>{code}</psrType></MktPSRType>"


def _direction(code: str) -> str:
    return f"<flowDirection.direction>{code}</flowDirection.direction>"


def _acknowledgement(code: str, text: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Acknowledgement_MarketDocument><mRID>sim</mRID>'
        f"<Reason><code>{code}</code><text>{escape(text)}</text></Reason></Acknowledgement_MarketDocument>"
    )
