"""Acquisition on fakes: windows from cursors, publish-then-cursor, the spool while the broker is away."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from scalar_ray.acquisition.cursors import Cursor, FileCursorStore, InMemoryCursorStore
from scalar_ray.acquisition.service import AcquisitionService, AcquisitionTask
from scalar_ray.broker.envelope import Envelope
from scalar_ray.broker.messaging import InMemoryBroker, OutgoingMessage
from scalar_ray.broker.spool import DiskSpool
from scalar_ray.config import load_settings
from scalar_ray.core.errors import ProviderHTTPError, RateLimitedError
from scalar_ray.core.window import Window
from scalar_ray.providers.catalogue import load_catalogue
from scalar_ray.providers.client import ProviderClient
from scalar_ray.providers.parsing import FetchContext
from tests.unit.spine_helpers import observations

NOW = datetime(2026, 11, 25, 12, 2, tzinfo=UTC)
TOPIC = "persistent://scalar/acquisition/entsoe"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class FakeClient(ProviderClient):
    """Returns 15-minute prices for whatever window it is asked, or fails while ``failing``."""

    provider = "entsoe"

    def __init__(self) -> None:
        super().__init__(load_settings({}).providers.entsoe)
        self.windows: list[Window] = []
        self.failing = False

    def fetch(self, spec, area: str, window: Window) -> pa.Table:  # type: ignore[no-untyped-def]
        if self.failing:
            raise ProviderHTTPError("entsoe", spec.id, str(window), 503, "unavailable")
        self.windows.append(window)
        count = int((window.end - window.start) / timedelta(minutes=15))
        return observations([50.0] * count, start=window.start, issued_at=NOW - timedelta(minutes=1))

    def fetch_payloads(self, spec, area: str, window: Window) -> Iterable[bytes]:  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def parse(self, payload: bytes, context: FetchContext) -> pa.Table:
        raise NotImplementedError


def service(tmp_path: Path, broker: InMemoryBroker, client: FakeClient, cursors=None, **options) -> AcquisitionService:  # type: ignore[no-untyped-def]
    spec = load_catalogue().get("entsoe", "A65-actual")
    clock = options.pop("clock", lambda: NOW)
    return AcquisitionService(
        "entsoe",
        [AcquisitionTask(spec, "DK1")],
        client,
        broker,
        TOPIC,
        cursors or InMemoryCursorStore(),
        DiskSpool(tmp_path / "spool"),
        clock=clock,
        **options,
    )


def test_a_first_run_fetches_the_lookback_publishes_it_and_stores_the_cursor(tmp_path: Path) -> None:
    broker, client, cursors = InMemoryBroker(), FakeClient(), InMemoryCursorStore()
    acquisition = service(tmp_path, broker, client, cursors)

    assert acquisition.run_due() == 1

    window = client.windows[0]
    assert window.end - window.start >= timedelta(hours=12)
    messages = broker.topics[TOPIC]
    decoded = Envelope.decode(messages[0].payload, messages[0].properties)
    assert decoded.observations.num_rows == (window.end - window.start) / timedelta(minutes=15)
    assert messages[0].key == "entsoe/A65-actual/DK1"
    cursor = cursors.get("A65-actual/DK1")
    assert cursor is not None
    assert cursor.covered_until == window.end
    assert acquisition.run_due() == 0  # not due again before its schedule says so


def test_after_downtime_the_window_reaches_back_to_where_the_data_ended(tmp_path: Path) -> None:
    broker, client, cursors = InMemoryBroker(), FakeClient(), InMemoryCursorStore()
    ended = NOW.replace(minute=0) - timedelta(days=2)
    cursors.put("A65-actual/DK1", Cursor(ended, NOW - timedelta(days=2), 3))
    acquisition = service(tmp_path, broker, client, cursors)

    acquisition.run_due()

    assert client.windows[0].start == ended


def test_catch_up_is_capped(tmp_path: Path) -> None:
    broker, client, cursors = InMemoryBroker(), FakeClient(), InMemoryCursorStore()
    cursors.put("A65-actual/DK1", Cursor(NOW - timedelta(days=40), NOW - timedelta(days=40)))
    acquisition = service(tmp_path, broker, client, cursors, max_catch_up="P7D")

    acquisition.run_due()

    assert client.windows[0].start >= NOW - timedelta(days=7, minutes=15)


def test_while_the_broker_is_away_windows_are_spooled_and_drained_in_order(tmp_path: Path) -> None:
    broker, client = InMemoryBroker(), FakeClient()
    now = [NOW]
    acquisition = service(tmp_path, broker, client, clock=lambda: now[0])
    broker.available = False

    acquisition.run_due()
    now[0] += timedelta(minutes=15)
    acquisition.run_due()
    assert TOPIC not in broker.topics
    assert acquisition.snapshot().spooled == 2

    broker.available = True
    now[0] += timedelta(minutes=1)
    acquisition.run_due()

    fetch_ids = [m.properties["fetch_id"] for m in broker.topics[TOPIC]]
    assert len(fetch_ids) == 2
    assert acquisition.snapshot().spooled == 0
    first, second = (Envelope.decode(m.payload, m.properties) for m in broker.topics[TOPIC])
    assert first.window.end < second.window.end  # fetched order kept


def test_a_failing_provider_keeps_the_cursor_and_retries_with_back_off(tmp_path: Path) -> None:
    broker, client, cursors = InMemoryBroker(), FakeClient(), InMemoryCursorStore()
    client.failing = True
    acquisition = service(tmp_path, broker, client, cursors)

    acquisition.run_due()

    status = acquisition.status["A65-actual/DK1"]
    assert status.consecutive_errors == 1
    assert "503" in (status.last_error or "")
    assert status.next_run == NOW + timedelta(seconds=30)
    assert status.last_error_at == NOW
    assert cursors.get("A65-actual/DK1") is None


def test_a_task_raising_anything_is_that_tasks_failure_and_the_providers_other_tasks_keep_running(
    tmp_path: Path,
) -> None:
    class BrokenForDK1(FakeClient):
        def fetch(self, spec, area: str, window: Window) -> pa.Table:  # type: ignore[no-untyped-def]
            if area == "DK1":
                raise RuntimeError("a bug, not a provider error")  # as an unforeseen library error would
            return super().fetch(spec, area, window)

    broker, client = InMemoryBroker(), BrokenForDK1()
    spec = load_catalogue().get("entsoe", "A65-actual")
    clock = {"now": NOW}
    acquisition = AcquisitionService(
        "entsoe",
        [AcquisitionTask(spec, "DK1"), AcquisitionTask(spec, "DK2")],
        client,
        broker,
        TOPIC,
        InMemoryCursorStore(),
        DiskSpool(tmp_path / "spool"),
        clock=lambda: clock["now"],
    )

    for _ in range(3):  # the broken task sorted first every round once wedged the other
        acquisition.run_due()
        clock["now"] += timedelta(hours=1)

    broken, healthy = acquisition.status["A65-actual/DK1"], acquisition.status["A65-actual/DK2"]
    assert broken.consecutive_errors == 3 and broken.last_error == "RuntimeError: a bug, not a provider error"
    assert broken.next_run > clock["now"] - timedelta(hours=1)  # rescheduled with back-off, not left due
    assert healthy.consecutive_errors == 0 and healthy.last_success == NOW + timedelta(hours=2)
    assert len(broker.topics[TOPIC]) >= 3


def test_a_provider_that_asks_for_a_pause_holds_all_its_tasks_for_at_most_an_hour(tmp_path: Path) -> None:
    class Banned(FakeClient):
        def fetch(self, spec, area: str, window: Window) -> pa.Table:  # type: ignore[no-untyped-def]
            self.windows.append(window)
            raise RateLimitedError("entsoe", spec.id, str(window), retry_after_s=86400)

    client = Banned()
    spec = load_catalogue().get("entsoe", "A65-actual")
    tasks = [AcquisitionTask(spec, "DK1"), AcquisitionTask(spec, "DK2")]
    acquisition = AcquisitionService(
        "entsoe", tasks, client, InMemoryBroker(), TOPIC, InMemoryCursorStore(), DiskSpool(tmp_path), clock=lambda: NOW
    )

    acquisition.run_due()

    assert len(client.windows) == 1  # the second task did not ask during the ban
    assert {status.next_run for status in acquisition.status.values()} == {NOW + timedelta(hours=1)}
    assert acquisition.status["A65-actual/DK1"].throttled == 1


def test_large_windows_are_split_over_several_messages(tmp_path: Path) -> None:
    broker, client = InMemoryBroker(), FakeClient()
    acquisition = service(tmp_path, broker, client, max_rows_per_message=10)

    acquisition.run_due()

    sizes = [Envelope.decode(m.payload, m.properties).observations.num_rows for m in broker.topics[TOPIC]]
    assert max(sizes) == 10
    assert len({m.properties["fetch_id"] for m in broker.topics[TOPIC]}) == len(sizes)


def test_the_spool_survives_a_restart_and_ignores_half_written_files(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path)
    spool.append(OutgoingMessage(TOPIC, b"one", {"a": "1"}, "k"))
    spool.append(OutgoingMessage(TOPIC, b"two\nwith newline", {"a": "2"}, "k"))
    (tmp_path / "00000000000000000099.tmp").write_bytes(b"partial")

    reopened = DiskSpool(tmp_path)
    broker = InMemoryBroker()
    assert reopened.drain(broker) == 2

    assert [m.payload for m in broker.topics[TOPIC]] == [b"one", b"two\nwith newline"]
    assert len(reopened) == 0


def test_file_cursors_survive_a_restart_and_a_damaged_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "entsoe.json"
    cursor = Cursor(datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 25, 12, tzinfo=UTC), 2)
    FileCursorStore(path).put("A44/DK1", cursor)

    assert FileCursorStore(path).get("A44/DK1") == cursor
    assert json.loads(path.read_text())["A44/DK1"]["last_run"] == "2026-11-25T12:00:00+00:00"
    path.write_text('{"A44/DK1": {"covered_until": 5, "last_run": "x"}}', encoding="utf-8")
    with pytest.raises(ValueError, match="unreadable"):
        FileCursorStore(path)

    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="unreadable"):
        FileCursorStore(path)
    assert path.with_suffix(".damaged").exists()


def test_a_rerun_sends_only_values_that_changed(tmp_path: Path) -> None:
    broker, client = InMemoryBroker(), FakeClient()
    now = [NOW]
    acquisition = service(tmp_path, broker, client, clock=lambda: now[0])
    acquisition.run_due()
    first = sum(Envelope.decode(m.payload, m.properties).observations.num_rows for m in broker.topics[TOPIC])

    first_end = client.windows[0].end
    now[0] += timedelta(minutes=15)  # the same look-back again, the same values: only the new interval goes out
    acquisition.run_due()
    sent = [Envelope.decode(m.payload, m.properties).observations for m in broker.topics[TOPIC][1:]]
    assert sum(t.num_rows for t in sent) == 1
    assert all(ts >= first_end for t in sent for ts in t["ts"].to_pylist())
    assert acquisition.status["A65-actual/DK1"].unchanged_rows >= first - 2  # the look-back re-fetched

    revised = FakeClient()
    revised.fetch = lambda spec, area, window: observations(  # type: ignore[method-assign]
        [51.0] * int((window.end - window.start) / timedelta(minutes=15)), start=window.start, issued_at=now[0]
    )
    acquisition._client = revised  # swap the provider's answer for a revision
    now[0] += timedelta(minutes=15)
    acquisition.run_due()

    last = Envelope.decode(broker.topics[TOPIC][-1].payload, broker.topics[TOPIC][-1].properties)
    assert set(last.observations["value"].to_pylist()) == {51.0}  # a revision always goes out


def test_run_now_makes_the_chosen_tasks_due_and_they_run_in_their_window_from_the_cursor(tmp_path: Path) -> None:
    broker, client = InMemoryBroker(), FakeClient()
    clock = [NOW]
    acquisition = service(tmp_path, broker, client, clock=lambda: clock[0])
    assert acquisition.run_due() == 1
    clock[0] = NOW + timedelta(minutes=1)  # the next scheduled run is later than this
    assert acquisition.run_due() == 0

    assert acquisition.run_now(["A44"]) == []  # not one of this service's datasets
    assert acquisition.run_due() == 0
    published = len(broker.topics[TOPIC])
    assert acquisition.run_now(["A65-actual"]) == ["A65-actual/DK1"]
    assert acquisition.run_due() == 1

    assert client.windows[1].start < client.windows[0].end  # its usual window, from the cursor back by the lookback
    assert len(broker.topics[TOPIC]) == published  # every value as published before: nothing new to send
    assert acquisition.status["A65-actual/DK1"].next_run > clock[0]  # then back on its schedule
    assert acquisition.run_now() == ["A65-actual/DK1"]


def test_run_now_since_reaches_back_once_within_the_catch_up_and_sends_only_values_not_sent_before(
    tmp_path: Path,
) -> None:
    broker, client = InMemoryBroker(), FakeClient()
    clock = [NOW]
    acquisition = service(tmp_path, broker, client, clock=lambda: clock[0], max_catch_up="P5D")
    assert acquisition.run_due() == 1
    first = client.windows[0]
    sent = sum(Envelope.decode(m.payload, m.properties).observations.num_rows for m in broker.topics[TOPIC])
    clock[0] = NOW + timedelta(minutes=1)

    since = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert acquisition.run_now(["A65-actual"], since=since) == ["A65-actual/DK1"]
    assert acquisition.run_due() == 1

    assert client.windows[1] == Window(since, first.end)
    rows = [Envelope.decode(m.payload, m.properties).observations for m in broker.topics[TOPIC]]
    # Only the intervals before the first window went out: the rest had been sent with the same values.
    assert sum(table.num_rows for table in rows) - sent == (first.start - since) / timedelta(minutes=15)
    assert max(rows[-1]["ts"].to_pylist()) < first.start

    acquisition.run_now(["A65-actual"])  # once: the next run is in its usual window again
    acquisition.run_due()
    assert client.windows[2].start > since

    # Never further back than max_catch_up; any time zone, compared in UTC; a time without one is refused.
    acquisition.run_now(since=datetime(2026, 11, 1, 12, 0, tzinfo=UTC).astimezone(COPENHAGEN))
    acquisition.run_due()
    assert client.windows[3].start == clock[0].replace(minute=0) - timedelta(days=5)
    with pytest.raises(ValueError, match="time zone"):
        acquisition.run_now(since=datetime(2026, 11, 23, 9, 0))  # a time without a zone
