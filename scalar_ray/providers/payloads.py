"""What every parser does with a raw payload: decode it, and turn any surprise into a ``PayloadError``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from scalar_ray.errors import PayloadError
from scalar_ray.providers.canonical import FetchContext

__all__ = ["decode_json", "payload_error", "reading"]


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
