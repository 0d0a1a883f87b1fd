"""A real Apache Pulsar standalone broker, run from the Maven Central artifacts resolved by `cluster/local/pulsar`.

No Pulsar tarball and no Docker: `mvn dependency:copy-dependencies` resolves ``pulsar-broker`` and its runtime
closure into ``lib/``, and this launcher runs ``org.apache.pulsar.PulsarStandaloneStarter`` on it with RocksDB
metadata (no ZooKeeper), one in-process bookie, no functions worker and no stream storage.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from scalar_ray.broker.admin import PulsarAdmin
from scalar_ray.config.settings import Settings
from scalar_ray.core.errors import BrokerAdminError, LocalServiceError
from scalar_ray.local.process import ProcessSpec
from scalar_ray.local.service import ProcessService, find_executable, loopback_port

__all__ = ["MIN_JAVA_MAJOR", "PulsarStandalone", "default_pulsar_home", "find_java", "java_major_version"]

_logger = logging.getLogger(__name__)

# Pulsar 4.0's broker classes are Java 17 bytecode (class-file major 61).
MIN_JAVA_MAJOR = 17
_STARTER = "org.apache.pulsar.PulsarStandaloneStarter"

# From Pulsar's bin/pulsar: the module openings Netty, BookKeeper and RocksDB need on Java 9+.
_JVM_OPENS = [
    "--add-opens",
    "java.base/java.io=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.util.zip=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.nio=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-opens",
    "java.base/sun.net=ALL-UNNAMED",
    "--add-opens",
    "java.management/sun.management=ALL-UNNAMED",
]


def default_pulsar_home() -> Path:
    """``cluster/local/pulsar`` of the checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "cluster" / "local" / "pulsar"


def java_major_version(java: Path) -> int:
    """The major version that ``java -version`` reports (8 for 1.8, 17 for 17.0.15)."""
    result = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False, timeout=30)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        raise LocalServiceError("pulsar", f"cannot read the Java version from `{java} -version`")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java(java_home: Path | None) -> Path:
    """The ``java`` to run Pulsar with: the setting, then ``JAVA_HOME``, then ``PATH``; at least Java 17."""
    fix = f"install a JDK {MIN_JAVA_MAJOR}+ (`apt-get install openjdk-17-jre-headless`) or set SCALAR_LOCAL__JAVA_HOME"
    home = java_home or (Path(os.environ["JAVA_HOME"]) if os.environ.get("JAVA_HOME") else None)
    if home is not None:
        java = home / "bin" / "java"
        if not java.is_file():
            raise LocalServiceError("pulsar", f"no java at {java}", fix)
    else:
        java = find_executable("java", "pulsar", fix)
    major = java_major_version(java)
    if major < MIN_JAVA_MAJOR:
        raise LocalServiceError("pulsar", f"{java} is Java {major}, Pulsar 4.0 needs {MIN_JAVA_MAJOR}+", fix)
    return java


def resolve_classpath(home: Path, log_file: Path) -> Path:
    """``home/lib`` with Pulsar's runtime jars, resolved from Maven Central when missing or when the pom changed."""
    lib = home / "lib"
    pom = home / "pom.xml"
    if not pom.is_file():
        raise LocalServiceError(
            "pulsar", f"no pom.xml in {home}", "set SCALAR_LOCAL__PULSAR_HOME to cluster/local/pulsar"
        )
    stamp = lib / ".pom.sha256"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest and any(lib.glob("pulsar-broker-*.jar")):
        return lib
    mvn = find_executable("mvn", "pulsar", "run `make setup`, which installs Maven and resolves Pulsar's jars")
    _logger.info("resolving Apache Pulsar's classpath from Maven Central into %s (first run: about 2 minutes)", lib)
    shutil.rmtree(lib, ignore_errors=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        result = subprocess.run(
            [
                str(mvn),
                "-B",
                "-q",
                "-s",
                str(home / "settings.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={lib}",
            ],
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        raise LocalServiceError(
            "pulsar", "Maven could not resolve Pulsar's jars", "check Maven Central access", str(log_file)
        )
    stamp.write_text(digest, encoding="utf-8")
    return lib


class PulsarStandalone(ProcessService):
    """Apache Pulsar standalone on loopback, ports taken from the broker URLs in ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("pulsar", settings.data_dir, settings.local.start_timeout_s)
        self.settings = settings
        self.broker_port = loopback_port(settings.broker.service_url, "SCALAR_BROKER__SERVICE_URL")
        self.web_port = loopback_port(settings.broker.admin_url, "SCALAR_BROKER__ADMIN_URL")
        self.home = (settings.local.pulsar_home or default_pulsar_home()).resolve()
        self.root = settings.data_dir / "pulsar"

    def ports(self) -> list[tuple[int, str]]:
        """Binary protocol and admin REST ports."""
        return [(self.broker_port, "SCALAR_BROKER__SERVICE_URL"), (self.web_port, "SCALAR_BROKER__ADMIN_URL")]

    def endpoint(self) -> str:
        """Broker and admin URLs."""
        return f"{self.settings.broker.service_url} (admin {self.settings.broker.admin_url})"

    def prepare(self) -> ProcessSpec:
        """Find Java, resolve the classpath, write the effective configuration."""
        java = find_java(self.settings.local.java_home)
        lib = resolve_classpath(self.home, self.log_file)
        conf_dir = self.root / "conf"
        tmp_dir = self.root / "tmp"  # RocksDB's JNI library is extracted here, not into a possibly noexec /tmp
        for folder in (conf_dir, tmp_dir, self.root / "data"):
            folder.mkdir(parents=True, exist_ok=True)
        (conf_dir / "standalone.conf").write_text(self._standalone_conf(), encoding="utf-8")
        shutil.copyfile(self.home / "conf" / "log4j2.xml", conf_dir / "log4j2.xml")
        # PulsarStandalone resolves conf/functions_worker.yml against its working directory even with -nfw.
        (conf_dir / "functions_worker.yml").touch()
        heap = f"{self.settings.local.pulsar_heap_mb}m"
        argv = [
            str(java),
            f"-Xms{min(self.settings.local.pulsar_heap_mb, 256)}m",
            f"-Xmx{heap}",
            f"-XX:MaxDirectMemorySize={heap}",
            f"-Djava.io.tmpdir={tmp_dir}",
            # C1 only: a local broker starts in 9 s on 11 CPU-seconds instead of 13 s on 23 (measured here).
            *(["-XX:TieredStopAtLevel=1"] if self.settings.local.pulsar_quick_start else []),
            *_JVM_OPENS,
            "-Djava.net.preferIPv4Stack=true",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "-Djute.maxbuffer=10485760",
            "-Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver",
            "-Dbookkeeper.metadata.client.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataClientDriver",
            f"-Dlog4j.configurationFile={conf_dir / 'log4j2.xml'}",
            "-Dlog4j.shutdownHookEnabled=false",
            "-cp",
            f"{conf_dir}:{lib}/*",
            _STARTER,
            "--config",
            str(conf_dir / "standalone.conf"),
            "--no-functions-worker",
            "--no-stream-storage",
            "--metadata-dir",
            str(self.root / "data" / "metadata"),
            "--bookkeeper-dir",
            str(self.root / "data" / "bookkeeper"),
        ]
        return ProcessSpec(self.name, argv, self.root, self.log_file, self._process.spec.pid_file)

    def probe(self) -> tuple[bool, str]:
        """Ask the admin API whether the broker is ready.

        Ready means: the API answers, `public/default` exists (it is created after the broker starts) and the
        broker's heartbeat health check passes.
        """
        try:
            with PulsarAdmin(self.settings.broker.admin_url, self.settings.broker.auth_token, timeout_s=5) as admin:
                version = admin.version()
                if "public/default" not in admin.namespaces("public"):
                    return False, f"Apache Pulsar {version}: creating the default namespace"
                if not admin.healthy():
                    return False, f"Apache Pulsar {version}: health check failing"
                return True, f"Apache Pulsar {version}"
        except BrokerAdminError as exc:
            return False, str(exc)

    def _standalone_conf(self) -> str:
        template = (self.home / "conf" / "standalone.conf").read_text(encoding="utf-8")
        overrides = {"brokerServicePort": str(self.broker_port), "webServicePort": str(self.web_port)}
        lines = [
            f"{key}={overrides.pop(key)}" if (key := line.split("=", 1)[0].strip()) in overrides else line
            for line in template.splitlines()
        ]
        lines += [f"{key}={value}" for key, value in overrides.items()]
        return "\n".join(lines) + "\n"
