"""The real Ray runtime: task fan-out and the detached, restartable named actors the platform is built on."""

from __future__ import annotations

import os

import pytest

from scalar_ray.local.process import wait_until

pytestmark = pytest.mark.integration


def test_tasks_fan_out_across_worker_processes(ray_cluster: None) -> None:
    import ray

    @ray.remote(num_cpus=1)
    def square(x: int) -> tuple[int, int]:
        return x * x, os.getpid()

    results = ray.get([square.remote(i) for i in range(8)])

    assert sorted(value for value, _ in results) == [i * i for i in range(8)]
    assert os.getpid() not in {pid for _, pid in results}


def test_a_detached_named_actor_is_found_by_name_and_restarted_after_a_crash(ray_cluster: None) -> None:
    import ray

    @ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
    class Counter:
        def __init__(self) -> None:
            self.count = 0

        def increment(self) -> int:
            self.count += 1
            return self.count

        def pid(self) -> int:
            return os.getpid()

    Counter.options(name="acquisition-test", lifetime="detached").remote()  # type: ignore[attr-defined]
    actor = ray.get_actor("acquisition-test")
    assert ray.get([actor.increment.remote() for _ in range(3)]) == [1, 2, 3]
    first_pid = ray.get(actor.pid.remote())

    ray.kill(actor, no_restart=False)  # a crash: Ray restarts the actor, state starts over

    assert wait_until(lambda: ray.get(ray.get_actor("acquisition-test").pid.remote()) != first_pid, timeout_s=60)
    assert ray.get(ray.get_actor("acquisition-test").increment.remote()) == 1
    ray.kill(ray.get_actor("acquisition-test"), no_restart=True)
