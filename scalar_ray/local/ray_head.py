"""A local Ray head node with its dashboard.

It runs as ``ray start --head --block`` so that stopping our process tree stops exactly this cluster (``ray stop``
would stop every Ray cluster on the machine). It stops in ``ray stop``'s order, though: the raylet first (it ends its
workers), then the other Ray processes, the GCS last, which leaves none of them waiting on a part already gone.

Ray's GCS listens on every interface, so the head always runs with token authentication (``RAY_AUTH_MODE=token``):
the token is the ``SCALAR_RAY__AUTH_TOKEN`` setting or Ray's own ``~/.ray/auth_token``, which the Ray CLI, the
dashboard login and ``ray.init`` pick up by themselves.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import psutil
from pydantic import SecretStr

from scalar_ray.config.settings import Settings
from scalar_ray.local.process import ProcessSpec, StopStage
from scalar_ray.local.service import ProcessService, find_executable
from scalar_ray.serving.runtime import LOCAL_SERVE_PROCESS_ENVIRONMENT

__all__ = ["RayHead", "default_ray_token_path", "ray_auth_token", "use_ray_token"]


def use_ray_token(settings: Settings) -> None:
    """Put the cluster's token in this process's environment, before ray is imported (it reads it at import)."""
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN"] = ray_auth_token(settings).get_secret_value()


def default_ray_token_path() -> Path:
    """Where Ray looks for its token when none is given (``ray get-auth-token`` prints it)."""
    return Path.home() / ".ray" / "auth_token"


def ray_auth_token(settings: Settings) -> SecretStr:
    """The token of the local head: the setting, else Ray's default token file, created (0600) if missing."""
    if settings.ray.auth_token is not None:
        return settings.ray.auth_token
    path = default_ray_token_path()
    if not path.is_file() or not path.read_text(encoding="utf-8").strip():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return SecretStr(path.read_text(encoding="utf-8").strip())


def _is_launcher(process: psutil.Process) -> bool:
    """The ``ray start --block`` process itself, which goes last (it exits once its children have)."""
    return "start" in process.cmdline()[1:3]


class RayHead(ProcessService):
    """The local Ray head: GCS, raylet and dashboard on 127.0.0.1."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("ray", settings.data_dir, settings.local.start_timeout_s)
        self.settings = settings

    @property
    def address(self) -> str:
        """The GCS address drivers connect to (``ray.init(address=...)``)."""
        return f"127.0.0.1:{self.settings.ray.gcs_port}"

    @property
    def dashboard_url(self) -> str:
        """Where the Ray dashboard answers."""
        return f"http://{self.settings.ray.dashboard_host}:{self.settings.ray.dashboard_port}"

    # `ray stop` gives its three stages 16 s together; a local head owes nothing to anyone at `down`.
    stop_timeout_s = 5.0

    def stop_stages(self) -> Sequence[StopStage]:
        """``ray stop``'s order (ray.autoscaler._private.constants.RAY_PROCESSES): raylet, the rest, GCS, launcher."""
        return (
            lambda process: process.name() == "raylet",
            lambda process: process.name() != "gcs_server" and not _is_launcher(process),
            lambda process: process.name() == "gcs_server",
        )

    def ports(self) -> list[tuple[int, str]]:
        """GCS, dashboard, Ray Client and agent ports, and the two that Serve's HAProxy binds once the API is up."""
        ray = self.settings.ray
        return [
            (ray.gcs_port, "SCALAR_RAY__GCS_PORT"),
            (ray.dashboard_port, "SCALAR_RAY__DASHBOARD_PORT"),
            (ray.client_server_port, "SCALAR_RAY__CLIENT_SERVER_PORT"),
            (ray.dashboard_agent_port, "SCALAR_RAY__DASHBOARD_AGENT_PORT"),
            (ray.haproxy_metrics_port, "SCALAR_RAY__HAPROXY_METRICS_PORT"),
            (ray.haproxy_stats_port, "SCALAR_RAY__HAPROXY_STATS_PORT"),
        ]

    def endpoint(self) -> str:
        """GCS address and dashboard URL."""
        return f"ray://{self.address} (dashboard {self.dashboard_url})"

    def prepare(self) -> ProcessSpec:
        """The `ray start` command line of this interpreter's Ray."""
        interpreter_bin = Path(sys.executable).parent
        ray_cli = interpreter_bin / "ray"
        executable = ray_cli if ray_cli.is_file() else find_executable("ray", self.name, "run `make setup`")
        ray = self.settings.ray
        argv = [
            str(executable),
            "start",
            "--head",
            "--block",
            "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
            f"--port={ray.gcs_port}",
            "--include-dashboard=true",
            f"--dashboard-host={ray.dashboard_host}",
            f"--dashboard-port={ray.dashboard_port}",
            f"--ray-client-server-port={ray.client_server_port}",
            f"--dashboard-agent-listen-port={ray.dashboard_agent_port}",
            f"--temp-dir={ray.temp_dir}",
        ]
        if ray.num_cpus is not None:
            argv.append(f"--num-cpus={ray.num_cpus}")
        environment = {
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token",
            # Passed through the environment, never the command line (which `ps` shows to every user).
            "RAY_AUTH_TOKEN": ray_auth_token(self.settings).get_secret_value(),
            # Draining on SIGTERM protects Serve traffic during a KubeRay upgrade; a local `down` wants it gone.
            "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
            # Jobs load their settings in the head's directory: give them the data folder `local up` resolved.
            "SCALAR_LOCAL__DATA_DIR": str(self.settings.data_dir),
            # The forecast API's Serve processes: HAProxy, direct-ingress replicas, short drains (serving.runtime).
            **LOCAL_SERVE_PROCESS_ENVIRONMENT,
            # Serve's HAProxy binds these on every interface (Serve's defaults are fixed: two heads would clash).
            "RAY_SERVE_HAPROXY_METRICS_PORT": str(ray.haproxy_metrics_port),
            "RAY_SERVE_HAPROXY_STATS_PORT": str(ray.haproxy_stats_port),
            # `ray job submit -- python …` runs through the head's shell: make that the platform's interpreter
            # even when the CLI was started without activating the virtual environment.
            "PATH": os.pathsep.join([str(interpreter_bin), os.environ.get("PATH", "")]),
        }
        return ProcessSpec(self.name, argv, self.data_dir, self.log_file, self._process.spec.pid_file, env=environment)

    def probe(self) -> tuple[bool, str]:
        """Ready once the dashboard answers and the node's dashboard agent, which runs submitted jobs, is up.

        The dashboard answers seconds before the agent registers; a `ray job submit` in between is refused.
        """
        headers = {"Authorization": f"Bearer {ray_auth_token(self.settings).get_secret_value()}"}
        agent_url = f"http://127.0.0.1:{self.settings.ray.dashboard_agent_port}/api/healthz"
        try:
            response = httpx.get(f"{self.dashboard_url}/api/version", timeout=3, headers=headers)
            response.raise_for_status()
            version = response.json().get("ray_version", "?")
            httpx.get(agent_url, timeout=3, headers=headers).raise_for_status()
        except (httpx.HTTPError, ValueError) as exc:
            return False, f"dashboard or its agent not answering: {type(exc).__name__}"
        return True, f"Ray {version}, dashboard {self.dashboard_url}"
