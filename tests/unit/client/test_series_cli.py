"""`scalar-ray series …` against the real API over HTTP (the client tests' server)."""

from __future__ import annotations

import json

import pytest

from commands.main import main
from scalar_ray.feed import change_events
from tests.unit.client.test_client import FEED, KEY, OFFERED, PRICE, Flaky, served
from tests.unit.spine_helpers import observations

__all__ = ["served"]  # the module-scoped server fixture, shared with the client tests


def run(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = main(["series", *args, "--url", url, "--api-key", KEY])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_search_get_and_instances_print_what_the_api_answers(
    served: tuple[str, Flaky], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = served

    code, found, _ = run(capsys, url, "search", "--provider", "jao", "--q", "capacity", "--format", "json")
    assert code == 0 and {row["series_id"] for row in json.loads(found)["rows"]} >= {OFFERED}

    # A local date without an offset is read in --tz: 26 October in Paris, 25 hours.
    code, daily, _ = run(
        capsys, url, "get", PRICE, "--start", "2025-10-26", "--end", "2025-10-27", "--tz", "Europe/Paris",
        "--frequency", "P1D", "--format", "csv",
    )  # fmt: skip
    assert code == 0 and daily.splitlines()[1].startswith("2025-10-26 00:00:00+02:00,") and ",25,25" in daily

    code, wide, _ = run(
        capsys, url, "get", PRICE, OFFERED, "--start", "2025-10-26", "--end", "2025-10-27", "--tz", "Europe/Paris",
        "--wide",
    )  # fmt: skip
    assert code == 0 and PRICE in wide.splitlines()[0] and len(wide.splitlines()) == 2 + 25

    code, issues, _ = run(capsys, url, "instances", PRICE, "--format", "json")
    assert code == 0 and json.loads(issues)["rows"][0]["values"] == 25


def test_a_refused_request_exits_2_with_the_apis_reason(
    served: tuple[str, Flaky], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = served

    code, _, err = run(capsys, url, "get", "jao/auctions/XX/price", "--last", "P1D")

    assert code == 2 and "404 unknown_series" in err


def test_stream_prints_each_change_as_a_json_line(
    served: tuple[str, Flaky], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = served
    before = FEED.publish(change_events(observations([5.0])))[0]
    after = FEED.publish(change_events(observations([6.0], area="DK2")))[0]

    code, out, _ = run(capsys, url, "stream", "--last-id", before, "--area", "DK2", "--max-events", "1")

    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == [after]
