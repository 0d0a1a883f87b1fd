"""How many ingestion replicas the backlog calls for: a pure policy, fed the backlog and the time.

One replica more while the ingestion subscription's backlog stays above ``scale_up_backlog`` for ``sustain_s``, one
fewer while it stays at or under ``scale_down_backlog`` as long, never outside ``[min_replicas, max_replicas]``, and
no change within ``cooldown_s`` of the last (a new replica needs time to take its share before the backlog says
whether it helped). One step at a time: the KeyShared subscription re-spreads the key ranges at every change, so
steps are cheap but not free.

Replicas held up by the warehouse (it refuses writes) are not given company: the backlog then grows because the
warehouse is down, and more replicas would only hold more messages unacknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalar_ray.config.settings import IngestionSettings

__all__ = ["BacklogScaler", "ScalingDecision", "ScalingPolicy"]


@dataclass(frozen=True)
class ScalingPolicy:
    """The thresholds and bounds (``IngestionSettings`` holds them for the platform)."""

    min_replicas: int
    max_replicas: int
    scale_up_backlog: int
    scale_down_backlog: int
    sustain_s: float
    cooldown_s: float

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> ScalingPolicy:
        """The platform's policy: from ``replicas`` up to ``max_replicas``."""
        return cls(
            settings.replicas,
            settings.max_replicas or settings.replicas,
            settings.scale_up_backlog,
            settings.scale_down_backlog,
            settings.scale_sustain_s,
            settings.scale_cooldown_s,
        )


@dataclass(frozen=True)
class ScalingDecision:
    """The replicas wanted now, and why (for the status and the log)."""

    replicas: int
    reason: str

    def changes(self, current: int) -> bool:
        """Whether acting on it starts or stops a replica."""
        return self.replicas != current


class BacklogScaler:
    """Remembers since when the backlog has been high or low, and when the replicas last changed."""

    def __init__(self, policy: ScalingPolicy, replicas: int, now: float) -> None:
        self.policy = policy
        self.replicas = replicas
        self._high_since: float | None = None
        self._low_since: float | None = None
        self._changed_at = now - policy.cooldown_s  # the first decision may act at once

    def observe(self, backlog: int | None, now: float, *, writes_blocked: bool = False) -> ScalingDecision:
        """The decision for a backlog read at ``now`` (None: the broker did not answer); the count it gives is kept."""
        policy = self.policy
        bounded = min(max(self.replicas, policy.min_replicas), policy.max_replicas)
        if bounded != self.replicas:
            bounds = f"{policy.min_replicas}-{policy.max_replicas}"
            return self._change(bounded, now, f"{self.replicas} replicas is outside {bounds}")
        if backlog is None:
            self._high_since = self._low_since = None
            return ScalingDecision(self.replicas, "backlog unknown: replicas kept")
        self._high_since = _since(self._high_since, now) if backlog > policy.scale_up_backlog else None
        self._low_since = _since(self._low_since, now) if backlog <= policy.scale_down_backlog else None
        if now - self._changed_at < policy.cooldown_s:
            return ScalingDecision(self.replicas, f"backlog {backlog}: cooling down after the last change")
        if _held(self._high_since, now, policy.sustain_s):
            return self._grow(backlog, now, writes_blocked=writes_blocked)
        if _held(self._low_since, now, policy.sustain_s) and self.replicas > policy.min_replicas:
            return self._change(self.replicas - 1, now, f"backlog {backlog} at most {policy.scale_down_backlog}")
        return ScalingDecision(self.replicas, f"backlog {backlog}: replicas kept")

    def _grow(self, backlog: int, now: float, *, writes_blocked: bool) -> ScalingDecision:
        policy = self.policy
        if writes_blocked:
            return ScalingDecision(self.replicas, f"backlog {backlog}: the warehouse refuses writes, replicas kept")
        if self.replicas >= policy.max_replicas:
            return ScalingDecision(self.replicas, f"backlog {backlog}: at the most replicas ({policy.max_replicas})")
        return self._change(self.replicas + 1, now, f"backlog {backlog} above {policy.scale_up_backlog}")

    def _change(self, replicas: int, now: float, reason: str) -> ScalingDecision:
        self.replicas = replicas
        self._changed_at = now
        self._high_since = self._low_since = None  # the next change needs the backlog to hold again
        return ScalingDecision(replicas, reason)


def _since(started: float | None, now: float) -> float:
    return now if started is None else started


def _held(since: float | None, now: float, sustain_s: float) -> bool:
    return since is not None and now - since >= sustain_s
