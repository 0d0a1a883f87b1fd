from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import psutil

from scalar_ray.local.process import ManagedProcess, ProcessSpec, port_is_free, wait_until


def sleeper(tmp_path: Path, name: str = "sleeper", seconds: int = 300) -> ManagedProcess:
    return ManagedProcess(
        ProcessSpec(
            name=name,
            argv=[sys.executable, "-c", f"import time; print('hello', flush=True); time.sleep({seconds})"],
            cwd=tmp_path,
            log_file=tmp_path / "logs" / f"{name}.log",
            pid_file=tmp_path / "run" / f"{name}.pid",
        )
    )


def test_start_records_the_pid_and_stop_ends_the_process(tmp_path: Path) -> None:
    process = sleeper(tmp_path)

    pid = process.start()
    assert process.pid() == pid
    assert wait_until(lambda: "hello" in (tmp_path / "logs" / "sleeper.log").read_text(), timeout_s=10)

    assert process.stop(timeout_s=10) is True
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert process.pid() is None
    assert not (tmp_path / "run" / "sleeper.pid").exists()


def test_stop_without_a_running_process_is_a_no_op(tmp_path: Path) -> None:
    assert sleeper(tmp_path).stop() is False


def test_a_recycled_pid_is_not_mistaken_for_our_process(tmp_path: Path) -> None:
    process = sleeper(tmp_path)
    (tmp_path / "run").mkdir()
    # Our own pid, but with another start time: as if the service died and its pid was reused.
    record = {"pid": psutil.Process().pid, "create_time": psutil.Process().create_time() - 1000}
    (tmp_path / "run" / "sleeper.pid").write_text(json.dumps(record))

    assert process.pid() is None
    assert not (tmp_path / "run" / "sleeper.pid").exists()


def test_a_process_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    stubborn = ManagedProcess(
        ProcessSpec(
            name="stubborn",
            argv=[
                sys.executable,
                "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True);"
                " time.sleep(300)",
            ],
            cwd=tmp_path,
            log_file=tmp_path / "stubborn.log",
            pid_file=tmp_path / "stubborn.pid",
        )
    )
    pid = stubborn.start()
    assert wait_until(lambda: "ready" in (tmp_path / "stubborn.log").read_text(), timeout_s=10)

    started = time.monotonic()
    assert stubborn.stop(timeout_s=1) is True

    assert time.monotonic() - started < 10
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_port_is_free_sees_a_listening_socket() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_is_free(port) is False
    assert port_is_free(port) is True


def test_wait_until_stops_early_when_giving_up() -> None:
    started = time.monotonic()

    assert wait_until(lambda: False, timeout_s=30, interval_s=0.01, give_up=lambda: True) is False
    assert time.monotonic() - started < 5


# A parent with two children; on SIGTERM each child appends to the record whether the other is still alive.
TREE = """
import os, signal, subprocess, sys, time
if len(sys.argv) > 1:
    role, record, other = sys.argv[1], sys.argv[2], sys.argv[3]
    def on_term(*_):
        alive = os.path.exists(other)
        with open(record, "a") as out:
            out.write(f"{role} stopped while the other was {'alive' if alive else 'gone'}\\n")
        os.remove(role_file)
        sys.exit(0)
    role_file = os.path.join(os.path.dirname(record), role)
    open(role_file, "w").close()
    signal.signal(signal.SIGTERM, on_term)
    time.sleep(300)
else:
    folder = os.getcwd()
    record = os.path.join(folder, "record")
    children = [
        subprocess.Popen([sys.executable, __file__, role, record, os.path.join(folder, other)])
        for role, other in (("first", "second"), ("second", "first"))
    ]
    print("ready", flush=True)
    for child in children:
        child.wait()
"""


def tree(tmp_path: Path) -> ManagedProcess:
    script = tmp_path / "tree.py"
    script.write_text(TREE)
    return ManagedProcess(
        ProcessSpec("tree", [sys.executable, str(script)], tmp_path, tmp_path / "tree.log", tmp_path / "tree.pid")
    )


def role_of(process: psutil.Process) -> str:
    return process.cmdline()[2] if len(process.cmdline()) > 2 else "parent"  # argv[1] is the role


def test_stages_stop_the_processes_in_their_order(tmp_path: Path) -> None:
    process = tree(tmp_path)
    process.start()
    assert wait_until(lambda: (tmp_path / "first").exists() and (tmp_path / "second").exists(), timeout_s=10)

    assert process.stop(timeout_s=5, stages=[lambda p: role_of(p) == "second", lambda p: role_of(p) == "first"])

    assert (tmp_path / "record").read_text().splitlines() == [
        "second stopped while the other was alive",
        "first stopped while the other was gone",
    ]
    assert process.pid() is None


def test_a_stage_that_ignores_sigterm_is_killed_and_the_next_stage_follows(tmp_path: Path) -> None:
    process = tree(tmp_path)
    pid = process.start()
    assert wait_until(lambda: (tmp_path / "first").exists() and (tmp_path / "second").exists(), timeout_s=10)
    stubborn = next(p for p in psutil.Process(pid).children() if role_of(p) == "first")
    stubborn.suspend()  # a stopped process cannot act on SIGTERM

    assert process.stop(timeout_s=1, stages=[lambda p: role_of(p) == "first"])

    assert not psutil.pid_exists(stubborn.pid) or stubborn.status() == psutil.STATUS_ZOMBIE
    assert (tmp_path / "record").read_text().splitlines() == ["second stopped while the other was alive"]
