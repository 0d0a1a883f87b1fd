"""The real Redis server: the operations the platform's cache uses (latest value, last N points)."""

from __future__ import annotations

import pytest
import redis

from scalar_ray.local import RedisServer

pytestmark = pytest.mark.integration


def test_server_is_a_real_redis_7(redis_client: redis.Redis) -> None:
    info = redis_client.info("server")

    assert int(str(info["redis_version"]).split(".")[0]) >= 7
    assert info["tcp_port"] > 0


def test_latest_value_and_a_bounded_window_of_points_per_series(redis_client: redis.Redis) -> None:
    series = "entsoe/A44/DK1/price"
    window = 4
    points = [(1_700_000_000 + 900 * i, 50.0 + i) for i in range(10)]

    for ts, value in points:
        with redis_client.pipeline(transaction=True) as pipe:
            pipe.hset(f"latest:{series}", mapping={"ts": ts, "value": value})
            pipe.zadd(f"points:{series}", {f"{ts}:{value}": ts})
            pipe.zremrangebyrank(f"points:{series}", 0, -window - 1)  # keep the newest `window` points
            pipe.execute()

    assert redis_client.hgetall(f"latest:{series}") == {"ts": str(points[-1][0]), "value": str(points[-1][1])}
    kept = redis_client.zrange(f"points:{series}", 0, -1)
    assert kept == [f"{ts}:{value}" for ts, value in points[-window:]]


def test_the_server_status_reports_the_version(redis_server: RedisServer) -> None:
    status = redis_server.status()

    assert status.healthy
    assert status.detail.startswith("Redis 7")
