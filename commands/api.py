"""`scalar-ray serve`: deploy the forecast API (Ray Serve) on the platform's cluster, stop it, or print its config.

The deployment outlives the command: Serve's controller is detached, as the platform's actors are.
"""

from __future__ import annotations

import argparse
from typing import Any

from scalar_ray.config import Settings
from scalar_ray.local.ray_head import use_ray_token

__all__ = ["add_serve_command", "deploy_api"]

EXIT_OK = 0


def add_serve_command(commands: Any) -> None:
    """Register the command on the CLI's subparsers."""
    serve = commands.add_parser(
        "serve", help="deploy the forecast HTTP API (Ray Serve) on the cluster; updates a running one in place"
    )
    action = serve.add_mutually_exclusive_group()
    action.add_argument("--stop", action="store_true", help="remove the API from the cluster")
    action.add_argument(
        "--config", action="store_true", help="print the Serve config YAML (for `serve deploy` and a RayService)"
    )
    serve.set_defaults(handler=_serve)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.config:
        from serve.config import serve_config_yaml

        print(serve_config_yaml(settings), end="")
        return EXIT_OK
    use_ray_token(settings)
    from actors.cluster import connect

    connect(settings)
    if args.stop:
        from ray import serve

        from serve.app import APP_NAME

        serve.delete(APP_NAME)
        print(f"forecast API ({APP_NAME}) removed")
        return EXIT_OK
    url = deploy_api(settings)
    auth = "bearer API keys required" if settings.serve.api_keys else "no authentication (loopback only)"
    print(f"forecast API at {url}: OpenAPI docs {url}/docs, models {url}/v1/models; {auth}")
    return EXIT_OK


def deploy_api(settings: Settings) -> str:
    """Deploy on the connected cluster (the warehouse actor first, for DuckDB); the API's URL once it is ready."""
    from actors.warehouse import ensure_warehouse_actor
    from serve.app import deploy

    if settings.warehouse.kind == "duckdb":
        ensure_warehouse_actor(settings)  # the file's one owner; the API reads through it
    url: str = deploy(settings)
    return url
