"""What every parser does with a raw payload: decode it, and turn any surprise into a ``PayloadError``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from scalar_ray.core.errors import PayloadError
from scalar_ray.providers.parsing import FetchContext, ObservationBuilder

__all__ = ["DatasetReader", "decode_json", "parse_json_by_dataset", "payload_error", "reading"]

DatasetReader = Callable[[Any, ObservationBuilder], None]


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
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise payload_error(context, f"unexpected payload shape: {type(exc).__name__}: {exc}") from exc
