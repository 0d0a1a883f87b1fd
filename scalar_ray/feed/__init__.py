"""The change feed: committed changes pushed to subscribers (see ``feed.base``); Redis streams in ``feed.redis``."""

from scalar_ray.feed.base import (
    MAX_VALUES_PER_EVENT,
    BestEffortFeed,
    ChangeEvent,
    ChangeFeed,
    FeedRead,
    InMemoryChangeFeed,
    change_events,
)

__all__ = [
    "MAX_VALUES_PER_EVENT",
    "BestEffortFeed",
    "ChangeEvent",
    "ChangeFeed",
    "FeedRead",
    "InMemoryChangeFeed",
    "change_events",
]
