"""One back-off for every retry loop, and the service loop that backs off failing steps."""

from __future__ import annotations

import threading

import pytest

from scalar_ray.core.backoff import Backoff
from scalar_ray.service_loop import ServiceLoop


def test_the_delay_doubles_from_the_first_failure_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 5.0)

    assert [backoff.delay(n) for n in range(7)] == [0.0, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_full_jitter_stays_below_the_exponential_ceiling() -> None:
    backoff = Backoff(1.0, 8.0, jitter=True)

    draws = [backoff.delay(4) for _ in range(200)]

    assert all(0.0 <= draw <= 8.0 for draw in draws)
    assert len(set(draws)) > 100  # spread out, not one value


@pytest.mark.parametrize(("initial", "maximum"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_a_back_off_that_cannot_grow_is_refused(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="back-off needs"):
        Backoff(initial, maximum)


def test_a_failing_step_backs_off_and_a_good_one_resets_the_count() -> None:
    outcomes = iter([RuntimeError("nonsense"), RuntimeError("nonsense"), RuntimeError("nonsense"), False, True])
    pauses: list[float] = []
    done = threading.Event()

    def step() -> bool:
        outcome = next(outcomes, None)
        if outcome is None:
            done.set()
            return True
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    loop = ServiceLoop("test", step, idle_s=0.5, sleep=pauses.append)
    assert done.wait(10)
    loop.stop(timeout_s=5)

    # Three failures in a row back off 0.5, 1, 2 s; a step with nothing to do waits the idle time; work, no wait.
    assert pauses == [0.5, 1.0, 2.0, 0.5]
    assert loop.failures_in_row == 0
    assert loop.last_error == "RuntimeError: nonsense"
