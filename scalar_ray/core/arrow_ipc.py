"""Tables as Arrow IPC streams: what a message's payload and a cached forecast issue are."""

from __future__ import annotations

import pyarrow as pa
from pyarrow import ipc

__all__ = ["from_ipc", "to_ipc"]


def to_ipc(table: pa.Table, schema: pa.Schema | None = None) -> bytes:
    """``table`` as one IPC stream, cast to ``schema`` first when one is given."""
    schema = schema or table.schema
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, schema) as writer:  # type: ignore[no-untyped-call]  # untyped in stubs
        writer.write_table(table.cast(schema))
    payload: bytes = sink.getvalue().to_pybytes()
    return payload


def from_ipc(payload: bytes) -> pa.Table:
    """The table an IPC stream holds; ``pa.ArrowInvalid`` when it is not one."""
    table: pa.Table = ipc.open_stream(payload).read_all()  # type: ignore[no-untyped-call]  # untyped in stubs
    return table
