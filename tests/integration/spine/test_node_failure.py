"""A worker node killed mid-stream on a three-node Ray cluster: nothing lost or duplicated, every actor back on the
nodes left (the scenario runs in its own process: tests/integration/spine/multinode.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from scalar_ray.config import Settings
from scalar_ray.local import RedisServer
from scalar_ray.local.pulsar import PulsarStandalone
from scalar_ray.simulator import SimulatorServer
from tests.conftest import PROJECT_ROOT
from tests.integration.providers.conftest import simulator_environment

LIVE = "energinet/PowerSystemRightNow,energinet/Forecasts_5Min,elia/ods134"


def test_a_lost_worker_node_loses_nothing_and_its_actors_come_back_elsewhere(
    service_settings: Settings,
    pulsar_broker: PulsarStandalone,
    redis_server: RedisServer,
    simulator: SimulatorServer,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:8]
    ray_temp = tempfile.mkdtemp(prefix="rn-", dir="/tmp")  # short: Ray's socket paths have a length limit
    environment = {
        **os.environ,
        **simulator_environment(simulator.base_url),
        "SCALAR_BROKER__SERVICE_URL": service_settings.broker.service_url,
        "SCALAR_BROKER__ADMIN_URL": str(service_settings.broker.admin_url),
        "SCALAR_BROKER__TENANT": f"n{run}",
        "SCALAR_CACHE__URL": str(service_settings.cache.url),
        "SCALAR_LOCAL__DATA_DIR": str(tmp_path / "data"),
        "SCALAR_RAY__NAMESPACE": f"nodes-{run}",
        "SCALAR_INGESTION__REPLICAS": "2",
        "SCALAR_ACQUISITION__POLL_INTERVAL_S": "0.5",
        "SCALAR_ACQUISITION__DATASETS": LIVE,
        # Its own Ray temp folder: the cluster's address file and sockets stay apart from every other Ray here.
        "RAY_TMPDIR": ray_temp,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "tests.integration.spine.multinode"],
            env=environment,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            errors="replace",  # the C++ clients' logs carry raw bytes
            timeout=900,
            check=False,
        )
    finally:
        shutil.rmtree(ray_temp, ignore_errors=True)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    assert finished.returncode == 0 and lines, finished.stderr[-4000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    print({key: value for key, value in result.items() if key != "describe"})  # the figures, with -rP

    assert result["nodes_used"] >= 2, result  # the actors were spread: the lost node held some of them
    assert result["lost"], result
    assert result["recovered"] and all(result["after"].values()), result  # all back, none on the dead node
    assert result["settled"], result["describe"]
    assert result["stored"] == result["unique"], result  # nothing twice
    assert result["missing"] == 0 and result["published"] > 0, result  # nothing lost
