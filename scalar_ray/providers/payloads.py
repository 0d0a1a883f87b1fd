"""What every parser does with a raw payload: decode it, and turn any surprise into a ``PayloadError``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from scalar_ray.core.errors import PayloadError, ProviderError
from scalar_ray.providers.parsing import MAX_ROWS_PER_PAYLOAD, FetchContext, ObservationBuilder

__all__ = [
    "DatasetReader",
    "Parser",
    "decode_json",
    "parse_json_by_dataset",
    "payload_error",
    "payload_parser",
    "reading",
]

DatasetReader = Callable[[Any, ObservationBuilder], None]
Parser = Callable[[bytes, FetchContext], pa.Table]

# What a payload of the wrong shape raises anywhere in a parser: a missing field or item, a wrong type, an unreadable
# or out-of-range value (a 400-digit integer overflows float(), a year 9999 date plus a day overflows datetime), a
# column Arrow cannot hold, nesting too deep.
_SHAPE_ERRORS = (
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    pa.ArrowException,
    RecursionError,
)
_LONGEST_DETAIL = 300  # a hostile value can be megabytes long: the error names it, it does not carry it


def payload_parser(parse: Parser) -> Parser:
    """The boundary of a provider parser: a payload gives a canonical table or a ``PayloadError``, never another error.

    Whatever the parser did not foresee, the shape errors above become a ``PayloadError`` naming the provider, dataset
    and window; the row count is checked against ``MAX_ROWS_PER_PAYLOAD`` here as well as while building.
    """

    @functools.wraps(parse)
    def guarded(payload: bytes, context: FetchContext) -> pa.Table:
        try:
            table = parse(payload, context)
        except ProviderError:
            raise
        except _SHAPE_ERRORS as exc:
            raise payload_error(context, f"unexpected payload shape: {_detail(exc)}") from exc
        if table.num_rows > MAX_ROWS_PER_PAYLOAD:
            raise payload_error(context, f"{table.num_rows:,} rows, more than the {MAX_ROWS_PER_PAYLOAD:,} allowed")
        return table

    return guarded


def _detail(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _LONGEST_DETAIL else f"{text[:_LONGEST_DETAIL]}… ({len(text):,} characters)"


def parse_json_by_dataset(
    payload: bytes, context: FetchContext, readers: Mapping[str, DatasetReader], provider_name: str
) -> pa.Table:
    """Decode a JSON answer and hand it to the reader of ``context.dataset``; any surprise is a ``PayloadError``."""
    reader = readers.get(context.dataset)
    if reader is None:
        raise payload_error(context, f"unknown {provider_name} dataset; known: {', '.join(sorted(readers))}")
    document = decode_json(payload, context)
    builder = ObservationBuilder(context)
    with reading(context):
        reader(document, builder)
    return builder.build()


def payload_error(context: FetchContext, problem: str) -> PayloadError:
    """A ``PayloadError`` naming the provider, dataset and window of ``context``."""
    return PayloadError(context.provider, context.dataset, str(context.window), problem)


def decode_json(payload: bytes, context: FetchContext) -> Any:
    """The decoded JSON document, or a ``PayloadError`` for a truncated or non-JSON body."""
    try:
        return json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise payload_error(context, f"malformed JSON: {exc}") from exc


@contextmanager
def reading(context: FetchContext) -> Iterator[None]:
    """Inside the block, a missing field, a wrong type or an unreadable value is a ``PayloadError``."""
    try:
        yield
    except _SHAPE_ERRORS as exc:
        raise payload_error(context, f"unexpected payload shape: {_detail(exc)}") from exc
