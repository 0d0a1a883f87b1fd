"""One back-off policy for every retry loop: exponential, capped, with or without full jitter (tenacity's waits).

Loops that retry inside one call use it as tenacity's ``wait``; loops that reschedule (a task's next run, a blocked
write, a disabled cache) ask it for the delay after their n-th consecutive failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from tenacity import RetryCallState
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential

__all__ = ["Backoff"]


@dataclass(frozen=True)
class _Attempt:
    """What tenacity's exponential waits read of a retry: the attempt number (1 = after the first failure)."""

    attempt_number: int


@dataclass(frozen=True)
class Backoff:
    """``initial_s · 2^(n-1)`` after the n-th failure in a row, at most ``maximum_s``, or a uniform draw below it.

    Full jitter (``jitter=True``) keeps many clients of one provider from retrying in step.
    """

    initial_s: float
    maximum_s: float
    jitter: bool = False
    wait: wait_base = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.maximum_s:
            raise ValueError(f"back-off needs 0 < initial ({self.initial_s}) <= maximum ({self.maximum_s})")
        kind = wait_random_exponential if self.jitter else wait_exponential
        object.__setattr__(self, "wait", kind(multiplier=self.initial_s, max=self.maximum_s))

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (0 when there was none)."""
        if failures <= 0:
            return 0.0
        return float(self.wait(cast("RetryCallState", _Attempt(failures))))
