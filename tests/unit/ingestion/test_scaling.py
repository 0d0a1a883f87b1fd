"""The autoscaler's policy: the backlog held past a threshold moves the replicas one at a time, within bounds."""

from __future__ import annotations

import pytest

from scalar_ray.config import load_settings
from scalar_ray.core.errors import InvalidConfigurationError
from scalar_ray.ingestion.scaling import BacklogScaler, ScalingPolicy

POLICY = ScalingPolicy(
    min_replicas=1, max_replicas=3, scale_up_backlog=100, scale_down_backlog=5, sustain_s=10, cooldown_s=30
)


def replay(scaler: BacklogScaler, readings: list[tuple[float, int | None]]) -> list[int]:
    """The replica count after each (time, backlog) reading."""
    return [scaler.observe(backlog, now).replicas for now, backlog in readings]


def test_a_backlog_held_high_adds_one_replica_per_cooldown_up_to_the_most() -> None:
    scaler = BacklogScaler(POLICY, replicas=1, now=0)

    counts = replay(scaler, [(t, 5_000) for t in range(0, 200, 5)])

    assert counts[:2] == [1, 1]  # 0 s and 5 s: not held for 10 s yet
    assert counts[2] == 2  # held 10 s
    assert counts.index(3) * 5 >= 10 + 30  # the next one after the cooldown, and after holding high again
    assert max(counts) == 3 and counts[-1] == 3  # never past the most


def test_a_short_burst_changes_nothing() -> None:
    scaler = BacklogScaler(POLICY, replicas=1, now=0)

    counts = replay(scaler, [(0, 5_000), (5, 5_000), (8, 50), (12, 5_000), (17, 5_000)])

    assert counts == [1, 1, 1, 1, 1]  # the dip at 8 s restarted the clock


def test_a_drained_backlog_removes_replicas_down_to_the_fewest() -> None:
    scaler = BacklogScaler(POLICY, replicas=3, now=0)

    counts = replay(scaler, [(t, 0) for t in range(0, 300, 5)])

    assert counts[2] == 2 and 1 in counts
    assert min(counts) == 1 and counts[-1] == 1


def test_an_unknown_backlog_keeps_the_replicas_and_restarts_the_clock() -> None:
    scaler = BacklogScaler(POLICY, replicas=2, now=0)

    counts = replay(scaler, [(0, 5_000), (6, None), (11, 5_000), (16, 5_000)])

    assert counts == [2, 2, 2, 2]
    assert scaler.observe(None, 30).reason == "backlog unknown: replicas kept"


def test_blocked_writes_add_no_replica() -> None:
    scaler = BacklogScaler(POLICY, replicas=1, now=0)
    scaler.observe(5_000, 0, writes_blocked=True)

    decision = scaler.observe(5_000, 20, writes_blocked=True)

    assert decision.replicas == 1 and "refuses writes" in decision.reason
    assert scaler.observe(5_000, 25).replicas == 2  # unblocked, still high: now it helps


def test_a_count_outside_the_bounds_is_brought_back_at_once() -> None:
    assert BacklogScaler(POLICY, replicas=0, now=0).observe(0, 0).replicas == 1
    assert BacklogScaler(POLICY, replicas=7, now=0).observe(5_000, 0).replicas == 3


def test_the_platforms_policy_comes_from_the_ingestion_settings() -> None:
    settings = load_settings({"SCALAR_INGESTION__REPLICAS": "2", "SCALAR_INGESTION__MAX_REPLICAS": "6"})

    policy = ScalingPolicy.from_settings(settings.ingestion)

    assert (policy.min_replicas, policy.max_replicas) == (2, 6) and settings.ingestion.autoscaled
    assert not load_settings({}).ingestion.autoscaled  # no max_replicas: the replicas stay as configured


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        pytest.param({"SCALAR_INGESTION__REPLICAS": "3", "SCALAR_INGESTION__MAX_REPLICAS": "2"}, "below", id="max"),
        pytest.param(
            {"SCALAR_INGESTION__SCALE_UP_BACKLOG": "10", "SCALAR_INGESTION__SCALE_DOWN_BACKLOG": "10"},
            "must be below",
            id="thresholds",
        ),
    ],
)
def test_incoherent_scaling_settings_are_refused(variables: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidConfigurationError, match=message):
        load_settings(variables)
