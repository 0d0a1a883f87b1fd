"""Cursors re-derived from the warehouse when an acquisition actor's own state is gone.

Cursors and the spool live under ``<data_dir>/acquisition`` (on AKS a ReadWriteMany volume that outlives any node).
Where that folder is lost anyway (a node's local disk, a volume restored empty), a restarted actor would fall back to
each dataset's look-back and leave a hole behind any outage longer than it. The warehouse knows where each series'
stored data ends: a task without a cursor gets one ending at the *earliest* last interval among the series of its
provider, dataset and area. Earliest, because several tasks can share a dataset key and an area (ENTSO-E's actual
load and its day-ahead forecast, whose series reach into the future): re-fetching a little of a sibling's data is
harmless (writes are idempotent), a gap is not; a series that stopped long ago only reaches back ``max_catch_up``.
The lost spool's messages are re-fetched the same way: the spool holds a suffix of the stream, never a middle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.acquisition.cursors import Cursor, CursorStore
from scalar_ray.acquisition.service import AcquisitionTask

__all__ = ["recover_cursors"]

logger = logging.getLogger(__name__)


def recover_cursors(store: CursorStore, tasks: Sequence[AcquisitionTask], catalogue: pa.Table) -> dict[str, Cursor]:
    """Store a cursor for every task that has none and whose data the warehouse holds; return those stored.

    ``catalogue`` is the warehouse's (``Warehouse.catalogue()``). Each recovered cursor is due at once: its
    ``last_run`` is the data's end, so the schedule's next run is already past.
    """
    recovered: dict[str, Cursor] = {}
    for task in tasks:
        if store.get(task.name) is not None:
            continue
        ends = _series_ends(catalogue, task)
        if not ends:
            continue
        covered_until = min(ends)
        cursor = Cursor(covered_until=covered_until, last_run=covered_until, runs=0)
        store.put(task.name, cursor)
        recovered[task.name] = cursor
    if recovered:
        logger.warning(
            "%d acquisition cursor(s) were missing and are re-derived from the warehouse (%s)",
            len(recovered),
            ", ".join(f"{name} from {cursor.covered_until:%Y-%m-%dT%H:%MZ}" for name, cursor in recovered.items()),
        )
    return recovered


def _series_ends(catalogue: pa.Table, task: AcquisitionTask) -> list[datetime]:
    spec = task.spec
    mine = catalogue.filter(
        pc.and_(
            pc.and_(pc.equal(catalogue["provider"], spec.provider), pc.equal(catalogue["dataset"], spec.key)),
            pc.equal(catalogue["area"], task.area),
        )
    )
    return [end for end in mine["last_ts"].to_pylist() if end is not None]
