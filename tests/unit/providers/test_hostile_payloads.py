"""The hostile payloads that once crashed or hung a parser, each now a named ``PayloadError`` (one test per finding).

Each case is a real fixture with one value changed, as the structure-aware fuzzing (test_fuzz_parsers.py) found them:
before the parser boundary (``payload_parser``) and the ENTSO-E Period bounds they raised ``OverflowError``,
``ArrowTypeError``, ``AttributeError`` or ``NotImplementedError``, looped without end, or built a billion rows.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest

from scalar_ray.core.errors import PayloadError
from scalar_ray.providers.elia_parser import parse_elia
from scalar_ray.providers.energinet_parser import parse_energinet
from scalar_ray.providers.entsoe_parser import MAX_MEMBER_BYTES, parse_entsoe
from scalar_ray.providers.jao_parser import parse_jao
from scalar_ray.providers.meteologica_parser import parse_meteologica
from scalar_ray.providers.nordpool_parser import parse_nordpool
from tests.unit.providers.helpers import context, fixture_bytes

FR_PRICES = fixture_bytes("entsoe", "A44_dayahead_prices_FR.xml")


def with_first(payload: bytes, old: bytes, new: bytes) -> bytes:
    assert old in payload
    return payload.replace(old, new, 1)


def test_a_400_digit_integer_is_a_payload_error_not_an_overflow() -> None:
    records = json.loads(fixture_bytes("energinet", "ElectricityProdex5MinRealtime_DK.json"))
    records["records"][0]["OffshoreWindPower"] = 10**400

    with pytest.raises(PayloadError, match="OverflowError") as refused:
        parse_energinet(json.dumps(records).encode(), context("energinet", "ElectricityProdex5MinRealtime"))
    assert len(str(refused.value)) < 600  # the error names the problem; it does not carry the 400 digits


def test_a_number_where_a_name_belongs_is_a_payload_error_not_an_arrow_type_error() -> None:
    document = json.loads(fixture_bytes("elia", "ods201_records_generation_by_fuel.json"))
    document["results"][0]["resolutioncode"] = 7

    with pytest.raises(PayloadError, match="unexpected payload shape"):
        parse_elia(json.dumps(document).encode(), context("elia", "ods201"))


def test_a_non_string_utc_offset_is_a_payload_error_not_an_attribute_error() -> None:
    document = json.loads(fixture_bytes("meteologica", "doc_excerpt_contents_data_response_content4226.json"))
    document["data"][0]["UTC offset from (UTC+/-hhmm)"] = -600

    with pytest.raises(PayloadError):
        parse_meteologica(json.dumps(document).encode(), context("meteologica", "wind_power_forecast", area="US48"))


@pytest.mark.parametrize("resolution", [b"PT0M", b"PT0S", b"P0D", b"PT-15M", b"PT"], ids=lambda text: text.decode())
def test_a_zero_or_negative_resolution_is_refused_instead_of_looping(resolution: bytes) -> None:
    payload = with_first(FR_PRICES, b"PT60M", resolution)

    with pytest.raises(PayloadError):
        parse_entsoe(payload, context("entsoe", "A44"))


def test_a_far_position_on_a_sparse_curve_is_refused_instead_of_building_a_billion_rows() -> None:
    payload = with_first(FR_PRICES, b"<position>4</position>", b"<position>999999999999</position>")
    payload = with_first(payload, b"<curveType>A01</curveType>", b"<curveType>A03</curveType>")

    started = time.perf_counter()
    with pytest.raises(PayloadError, match="position 999999999999 outside the Period's 24 positions"):
        parse_entsoe(payload, context("entsoe", "A44"))
    assert time.perf_counter() - started < 5  # refused up front (it used to build rows until memory ran out)


def test_a_period_of_thousands_of_years_is_refused_up_front() -> None:
    payload = FR_PRICES.replace(b"<start>2023-05-06T22:00Z</start>", b"<start>0001-01-01T00:00Z</start>")

    with pytest.raises(PayloadError, match="positions of PT60M; at most"):
        parse_entsoe(payload, context("entsoe", "A44"))


def test_a_zip_with_a_compression_method_zipfile_lacks_is_a_payload_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("answer.xml", FR_PRICES)
    raw = bytearray(buffer.getvalue())
    # The method field of the local header (offset 8) and of the central directory entry (offset 10): 99 is AES.
    raw[8:10] = (99).to_bytes(2, "little")
    central = raw.index(b"PK\x01\x02")
    raw[central + 10 : central + 12] = (99).to_bytes(2, "little")

    with pytest.raises(PayloadError, match="packed with method 99"):
        parse_entsoe(bytes(raw), context("entsoe", "A44"))


def test_a_zip_member_that_unpacks_past_the_cap_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.xml", b"<" + b" " * (MAX_MEMBER_BYTES + 1))  # 256 MB of spaces: about 250 kB zipped

    with pytest.raises(PayloadError, match="unpacks to"):
        parse_entsoe(buffer.getvalue(), context("entsoe", "A44"))


@pytest.mark.parametrize(
    ("parse", "provider", "name", "dataset"),
    [
        (parse_nordpool, "nordpool", "dataportal_DayAheadPrices_SE3_2024-11-05.json", "DayAheadPrices"),
        (parse_jao, "jao", "auctionapi_getauctions_IF1-FR-GB.json", "auctions"),
    ],
    ids=["nordpool", "jao"],
)
def test_a_list_where_an_object_belongs_is_a_payload_error(parse, provider: str, name: str, dataset: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(fixture_bytes(provider, name))
    if isinstance(document, list):
        document[0] = [document[0]]
    else:
        document["multiAreaEntries"][0] = [1, 2]

    with pytest.raises(PayloadError):
        parse(json.dumps(document).encode(), context(provider, dataset))
