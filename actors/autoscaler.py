"""The ingestion autoscaler: a detached actor that moves the replicas with the subscription's backlog.

A thin shell over ``BacklogScaler`` (the policy, pure): every ``scale_interval_s`` it reads the backlog from Pulsar's
admin API and whether a replica's writes are blocked, asks the policy, and starts the next replica or stops the last
one (a planned stop: the replica writes what it holds and leaves the subscription, so its unacknowledged messages go
to the others). The replicas it finds running are its starting count, so a restarted autoscaler carries on.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from actors.ingestion import start_ingestion_replica
from scalar_ray.config.settings import Settings
from scalar_ray.ingestion.scaling import BacklogScaler, ScalingDecision, ScalingPolicy
from scalar_ray.operations import AUTOSCALER_ACTOR, ingestion_actor_name, ingestion_backlog
from scalar_ray.service_loop import ServiceLoop, report
from scalar_ray.status import ActorReport, AutoscalerStatus, IngestionStatus
from scalar_ray.telemetry.setup import configure

logger = logging.getLogger(__name__)

_STATUS_TIMEOUT_S = 5.0
_STOP_TIMEOUT_S = 60.0


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=2)  # type: ignore[call-overload]  # Ray's stub lacks max_concurrency
class AutoscalerActor:
    """Reads the backlog, decides, starts or stops one replica; ``status`` answers between rounds."""

    def __init__(self, settings: Settings) -> None:
        logging.basicConfig(level=settings.telemetry.log_level)
        self._settings = settings
        self._telemetry = configure(settings.telemetry, AUTOSCALER_ACTOR)
        self._policy = ScalingPolicy.from_settings(settings.ingestion)
        self._scaler = BacklogScaler(self._policy, len(self._running()), time.monotonic())
        self._backlog: int | None = None
        self._decision = ScalingDecision(self._scaler.replicas, "starting")
        self._changes = 0
        self._changed_at: datetime | None = None
        self._loop = ServiceLoop(AUTOSCALER_ACTOR, self._round, idle_s=settings.ingestion.scale_interval_s)

    def _round(self) -> bool:
        running = self._running()
        self._scaler.replicas = len(running)  # what runs, not what was asked: a replica may have been stopped
        self._backlog = ingestion_backlog(self._settings)
        decision = self._scaler.observe(self._backlog, time.monotonic(), writes_blocked=self._blocked(running))
        self._decision = decision
        if decision.changes(len(running)):
            logger.info("ingestion replicas %d -> %d: %s", len(running), decision.replicas, decision.reason)
            # Counted before it is applied: a start that fails (the name of a replica killed a moment ago not yet
            # free) fails the round, and the next round counts what runs and decides again.
            self._changes += 1
            self._changed_at = datetime.now(UTC)
            self._apply(len(running), decision.replicas)
        return False  # wait the interval before the next read

    def _running(self) -> list[Any]:
        """The replicas' handles, ingestion-0 upwards, up to the first name not taken."""
        found = []
        for replica in range(self._policy.max_replicas + 1):
            try:
                found.append(ray.get_actor(ingestion_actor_name(replica), namespace=self._settings.ray.namespace))
            except ValueError:
                break
        return found

    def _blocked(self, running: list[Any]) -> bool:
        """Whether a replica's warehouse writes are blocked (then more replicas would not help)."""
        for handle in running:
            with contextlib.suppress(RayActorError, GetTimeoutError):
                detail = ray.get(handle.status.remote(), timeout=_STATUS_TIMEOUT_S).detail
                if isinstance(detail, IngestionStatus) and detail.writing_blocked_since is not None:
                    return True
        return False

    def _apply(self, current: int, wanted: int) -> None:
        for replica in range(current, wanted):
            start_ingestion_replica(self._settings, replica)
        for replica in range(current - 1, wanted - 1, -1):  # the highest first: ingestion-0 reports the backlog
            self._stop_replica(ingestion_actor_name(replica))

    def _stop_replica(self, name: str) -> None:
        """A planned stop, then the kill, which follows whatever the stop did.

        A stop that fails (the replica's last write refused, the replica dying) must not leave a replica running
        without its loop, holding its messages unacknowledged: killed anyway, it leaves the subscription, and the
        broker gives its unacknowledged messages to the others, so nothing is lost.
        """
        try:
            handle = ray.get_actor(name, namespace=self._settings.ray.namespace)
        except ValueError:
            return  # gone already
        try:
            ray.get(handle.stop.remote(), timeout=_STOP_TIMEOUT_S)
        except (RayActorError, GetTimeoutError) as exc:
            logger.warning("%s: no planned stop (%s: dead or stuck); killed", name, type(exc).__name__)
        except Exception:  # the stop's own failure (a RayTaskError wrapping whatever it raised)
            logger.exception("%s: its planned stop failed; killed, its unacknowledged messages redelivered", name)
        finally:
            ray.kill(handle, no_restart=True)

    def status(self) -> ActorReport:
        """The replicas and their bounds, the backlog last read, the last decision."""
        detail = AutoscalerStatus(
            replicas=self._scaler.replicas,
            min_replicas=self._policy.min_replicas,
            max_replicas=self._policy.max_replicas,
            backlog=self._backlog,
            decision=self._decision.reason,
            changes=self._changes,
            changed_at=self._changed_at,
        )
        return report(detail, self._loop, self._telemetry)

    def stop(self) -> None:
        """Finish the current round and stop (the replicas stay as they are)."""
        self._loop.stop(timeout_s=_STOP_TIMEOUT_S)

    def __repr__(self) -> str:
        return f"AutoscalerActor({self._scaler.replicas} replicas)"
