"""The spool and the send path under hostile conditions: nothing in the spool blocks it for good, and it is bounded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scalar_ray.broker.envelope import Envelope
from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.broker.spool import DiskSpool
from scalar_ray.composition import acquisition_service
from scalar_ray.config import load_settings
from scalar_ray.core.errors import SpoolFullError
from scalar_ray.telemetry.snapshot import ChecklistLine, checklist_lines
from tests.conftest import Captured
from tests.unit.acquisition.test_acquisition import NOW, TOPIC, FakeClient, service


def message(number: int, size: int = 100) -> OutgoingMessage:
    return OutgoingMessage(TOPIC, bytes([number % 256]) * size, {"n": str(number)}, "key")


def test_a_corrupt_file_is_set_aside_and_the_rest_still_drains(tmp_path: Path) -> None:
    spool, broker = DiskSpool(tmp_path), InMemoryBroker()
    for number in range(3):
        spool.append(message(number))
    middle = sorted(tmp_path.glob("*.msg"))[1]
    middle.write_bytes(b"{not a header")  # a disk fault, a hand edit: it used to raise on every round

    assert spool.drain(broker) == 2

    assert [m.properties["n"] for m in broker.topics[TOPIC]] == ["0", "2"]
    assert len(spool) == 0 and spool.set_aside == 1
    assert middle.with_suffix(".corrupt").exists()
    assert "unreadable" in middle.with_name(middle.stem + ".corrupt.reason").read_text()


def test_a_message_the_broker_refuses_for_good_is_set_aside_not_retried_forever(tmp_path: Path) -> None:
    spool, broker = DiskSpool(tmp_path), InMemoryBroker(max_message_bytes=1000)
    spool.append(message(0))
    spool.append(message(1, size=5000))  # MessageTooBig: no retry can send it
    spool.append(message(2))

    assert spool.drain(broker) == 2

    assert [m.properties["n"] for m in broker.topics[TOPIC]] == ["0", "2"]
    assert spool.set_aside == 1 and len(list(tmp_path.glob("*.rejected"))) == 1


def test_the_spool_refuses_past_its_limit_and_says_so_and_its_counts_survive_a_restart(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1000)
    spool.append(message(0, size=400))
    spool.append(message(1, size=400))

    with pytest.raises(SpoolFullError, match="is full"):
        spool.append(message(2, size=400))

    assert len(spool) == 2 and spool.refused_full == 1
    reopened = DiskSpool(tmp_path, max_bytes=1000)
    assert (len(reopened), reopened.bytes) == (2, spool.bytes)


def test_a_full_spool_fails_the_task_keeps_its_cursor_and_raises_the_alarm(tmp_path: Path) -> None:
    broker, client = InMemoryBroker(), FakeClient()
    acquisition = service(tmp_path, broker, client)
    acquisition._spool = DiskSpool(tmp_path / "small", max_bytes=2**16)  # a small spool for the test
    broker.available = False
    task, now = acquisition.tasks[0], NOW

    while not acquisition.status[task.name].consecutive_errors:
        acquisition.run_task(task, now)
        now += timedelta(minutes=15)

    status = acquisition.snapshot()
    assert status.spool_full and status.spooled >= 1
    assert (status.tasks[task.name].last_error or "").startswith("SpoolFullError: spool")
    assert acquisition._cursors.get(task.name).runs == status.spooled  # the refused run moved no cursor
    broker.available = True
    acquisition.run_due()
    assert not acquisition.snapshot().spool_full  # drained: the alarm clears


def test_a_window_too_big_for_one_message_is_split_by_bytes_under_the_brokers_limit(tmp_path: Path) -> None:
    broker, client = InMemoryBroker(max_message_bytes=3_000), FakeClient()
    acquisition = service(tmp_path, broker, client, max_message_bytes=2_500)

    acquisition.run_due()

    sent = [Envelope.decode(m.payload, m.properties).observations for m in broker.topics[TOPIC]]
    fetched = sum(int((window.end - window.start) / timedelta(minutes=15)) for window in client.windows)
    assert len(sent) > 1 and max(len(m.payload) for m in broker.topics[TOPIC]) <= 2_500
    assert sum(table.num_rows for table in sent) == fetched  # every row once, in order
    starts = [table["ts"][0].as_py() for table in sent]
    assert starts == sorted(starts)


def test_the_spool_fill_is_an_operator_checklist_metric_that_reads_full_as_the_alarm(
    tmp_path: Path, captured: Captured
) -> None:
    cap = {"SCALAR_ACQUISITION__SPOOL_MAX_BYTES": str(2**20)}
    settings = load_settings({"SCALAR_LOCAL__DATA_DIR": str(tmp_path), **cap})
    broker = InMemoryBroker()
    broker.available = False
    acquisition = acquisition_service(settings, "energinet", broker)  # the composition root registers the gauge

    def spool_line() -> ChecklistLine:
        return next(line for line in checklist_lines(captured.telemetry.points()) if line.title == "Spool fill")

    assert spool_line().breakdown["energinet"] == "0 %"
    for number in range(3):
        acquisition._spool.append(message(number, size=300_000))
    assert spool_line().breakdown["energinet"] == "86 %"  # 3 records of 300 kB and their headers, of 1 MiB
    with pytest.raises(SpoolFullError):
        acquisition._spool.append(message(3, size=300_000))
    assert spool_line().breakdown["energinet"] == "FULL"  # a refusal raises the alarm before the cap is reached
    assert spool_line().value == "fullest FULL"
    broker.available = True
    acquisition._spool.drain(broker)
    assert spool_line().breakdown["energinet"] == "0 %"  # drained: the alarm clears
