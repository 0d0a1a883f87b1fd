"""Acceptance (a) and (b): everything published reaches the warehouse exactly once, even when actors are killed."""

from __future__ import annotations

from collections import Counter

import pytest
import ray

from scalar_ray.local.process import wait_until

pytestmark = pytest.mark.integration


def test_everything_published_is_in_the_warehouse_exactly_once(start_spine) -> None:  # type: ignore[no-untyped-def]
    platform = start_spine(
        SCALAR_ACQUISITION__DATASETS="entsoe/A44,entsoe/A65-actual,elia/ods134,energinet/Forecasts_5Min",
        SCALAR_ACQUISITION__AREAS="DK1,DK2,BE",
        SCALAR_ACQUISITION__INITIAL_HISTORY="P2D",
    )

    assert platform.settled(), platform.describe()

    published = platform.published_keys(["entsoe", "elia", "energinet"])
    stored = platform.stored_keys()
    assert len(published) > 1000
    assert Counter(stored).most_common(1)[0][1] == 1  # no key twice
    assert set(stored) == published
    replicas = platform.replicas()
    assert sum(replica.rows_written for replica in replicas) >= len(published)
    assert all(replica.dead_lettered == 0 for replica in replicas)


def test_killing_an_ingestion_and_an_acquisition_actor_mid_stream_loses_and_duplicates_nothing(  # type: ignore[no-untyped-def]
    start_spine,
) -> None:
    platform = start_spine(
        SCALAR_ACQUISITION__DATASETS=",".join(
            f"entsoe/{d}" for d in ("A44", "A65-actual", "A65-forecast", "A75", "A69-dayahead", "A85", "A86")
        ),
        SCALAR_ACQUISITION__AREAS="DK1,DK2,SE3,SE4",
        SCALAR_ACQUISITION__INITIAL_HISTORY="P4D",
    )
    namespace = platform.settings.ray.namespace
    assert wait_until(lambda: platform.tasks_run()[0] >= 4, 120), platform.describe()
    done, total = platform.tasks_run()
    assert done < total, "the stream ended before the actors could be killed; give it more work"

    ray.kill(ray.get_actor("ingestion-0", namespace=namespace), no_restart=False)
    ray.kill(ray.get_actor("acquisition-entsoe", namespace=namespace), no_restart=False)

    assert platform.settled(), platform.describe()
    restarts = {actor.name: actor.restarts for actor in platform.status().actors}
    assert restarts["ingestion-0"] >= 1
    assert restarts["acquisition-entsoe"] >= 1
    published = platform.published_keys(["entsoe"])
    stored = platform.stored_keys()
    assert Counter(stored).most_common(1)[0][1] == 1
    assert set(stored) == published
    assert platform.tasks_run() == (total, total)  # the restarted actor resumed every task from its cursors
