"""The consumer backlog as a metric: read from Pulsar's admin API at each collection.

One process observes it (ingestion replica 0): the backlog is the subscription's, not a replica's, and two observers
would report it twice. The dead-letter topic's review subscription is observed too: its backlog is the dead letters
awaiting an operator. A partitioned topic reports one point per partition (``messaging.destination.partition.id``),
so a hot partition shows; summed by topic they are its backlog, as the checklist and the dashboard read them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.core.errors import BrokerAdminError
from scalar_ray.telemetry.instruments import observe_gauge

__all__ = ["observe_backlog"]

logger = logging.getLogger(__name__)


def observe_backlog(admin: Callable[[], PulsarAdmin], subscriptions: Sequence[tuple[str, str]]) -> Callable[[], None]:
    """Report ``scalar.pulsar.backlog`` for every (topic, subscription); a broker that does not answer reports none.

    Returns what stops the observation (OpenTelemetry cannot remove an instrument; its callback then reports nothing).
    """
    stopped = threading.Event()

    def read() -> list[tuple[float, dict[str, str]]]:
        values: list[tuple[float, dict[str, str]]] = []
        if stopped.is_set():
            return values
        with admin() as client:
            for topic, subscription in subscriptions:
                try:
                    backlog = client.backlog(topic, subscription)
                except BrokerAdminError as exc:  # a topic not created yet, or the broker away: no point this time
                    logger.debug("backlog of %s not observed: %s", topic, exc)
                    continue
                attributes = {"messaging.destination.name": topic, "messaging.consumer.group.name": subscription}
                if not backlog.partitions:
                    values.append((float(backlog.backlog), attributes))
                for index, count in backlog.partitions.items():
                    values.append((float(count), {**attributes, "messaging.destination.partition.id": str(index)}))
        return values

    observe_gauge(
        "scalar.pulsar.backlog",
        "{message}",
        "Messages waiting in each subscription (the review one: dead letters).",
        read,
    )
    return stopped.set
