"""An acquisition actor whose state folder is gone (a lost node's disk: cursors and spool) restarts on real Ray,
Pulsar and a DuckDB file with cursors re-derived from the warehouse, and the stream stays exactly once."""

from __future__ import annotations

import json
import shutil

import ray

from actors.supervisor import start_platform
from scalar_ray.composition import state_dir
from scalar_ray.local.process import wait_until
from scalar_ray.operations import acquisition_actor_name
from scalar_ray.status import AcquisitionStatus

DATASET = "elia/ods134"


def test_cursors_lost_with_the_state_folder_are_re_derived_from_the_warehouse(start_spine) -> None:  # type: ignore[no-untyped-def]
    platform = start_spine(SCALAR_ACQUISITION__DATASETS=DATASET)
    assert platform.settled(), platform.describe()
    settings, namespace = platform.settings, platform.settings.ray.namespace
    cursor_file = state_dir(settings) / "cursors" / "elia.json"
    before = json.loads(cursor_file.read_text(encoding="utf-8"))
    assert platform.acquisition("elia").cursors_recovered == 0

    ray.kill(ray.get_actor(acquisition_actor_name("elia"), namespace=namespace), no_restart=True)
    shutil.rmtree(state_dir(settings))  # the node and its disk are gone
    start_platform(settings)  # the supervisor starts the missing actor again (elsewhere, on a cluster)

    def recovered() -> int | None:
        report = platform.status().reports(AcquisitionStatus).get(acquisition_actor_name("elia"))
        return report.detail.cursors_recovered if report and isinstance(report.detail, AcquisitionStatus) else None

    assert wait_until(lambda: recovered() == len(before), 60), (recovered(), platform.describe())
    # Where each recovered cursor ends (the earliest stored end of its series) is unit-tested with the fetch it makes.
    assert platform.settled(), platform.describe()
    published = platform.published_keys(["elia"])  # first: a window published meanwhile is then only extra rows
    stored = platform.stored_keys()
    assert len(stored) == len(set(stored))  # nothing twice
    assert published <= set(stored)  # nothing lost: every key published is stored
