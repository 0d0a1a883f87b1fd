"""A real Redis server (Debian's ``redis-server``) on loopback, for the platform's real-time cache."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

from scalar_ray.config.settings import Settings
from scalar_ray.local.process import ProcessSpec
from scalar_ray.local.service import ProcessService, find_executable, loopback_port

__all__ = ["RedisServer"]


class RedisServer(ProcessService):
    """redis-server on the port of ``SCALAR_CACHE__URL``, data under the local data directory."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("redis", settings.data_dir, settings.local.start_timeout_s)
        self.settings = settings
        self.port = loopback_port(settings.cache.url, "SCALAR_CACHE__URL")
        self.root = settings.data_dir / "redis"

    def ports(self) -> list[tuple[int, str]]:
        """The Redis port."""
        return [(self.port, "SCALAR_CACHE__URL")]

    def endpoint(self) -> str:
        """The cache URL (without credentials)."""
        parts = urlsplit(self.settings.cache.url)
        return f"{parts.scheme}://127.0.0.1:{self.port}"

    def prepare(self) -> ProcessSpec:
        """Write redis.conf (the password goes there, never on the command line) and return the command."""
        executable = find_executable(
            self.settings.local.redis_server,
            self.name,
            "run `make setup` (apt-get install redis-server) or set SCALAR_LOCAL__REDIS_SERVER",
        )
        self.root.mkdir(parents=True, exist_ok=True)
        conf = self.root / "redis.conf"
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            "protected-mode yes",
            "daemonize no",
            f"dir {self.root}",
            'logfile ""',
            # A cache: a snapshot now and then is enough to warm a restart; losing it loses nothing.
            "save 300 100",
            "appendonly no",
        ]
        if self.settings.cache.password is not None:
            lines.append(f"requirepass {self.settings.cache.password.get_secret_value()}")
        conf.touch(mode=0o600)
        conf.chmod(0o600)
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ProcessSpec(
            self.name, [str(executable), str(conf)], self.root, self.log_file, self._process.spec.pid_file
        )

    def probe(self) -> tuple[bool, str]:
        """PING, then the server's version."""
        password = self.settings.cache.password
        client = redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_timeout=2,
            socket_connect_timeout=2,
            password=password.get_secret_value() if password else None,
        )
        try:
            client.ping()
            version = client.info("server").get("redis_version", "?")
        except redis.RedisError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        finally:
            client.close()
        return True, f"Redis {version}"
