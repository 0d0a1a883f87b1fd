"""Ray's lines are told apart from the platform's: the terminal keeps the steps, the log file keeps everything."""

from __future__ import annotations

import io

import pytest

from scalar_ray.ray_output import TerminalFilter, is_ray_line

# Lines as Ray 2.60 wrote them during `make demo` (colour codes included).
RAY_LINES = [
    "2026-12-01 07:12:47,273\tSUCC cli.py:67 -- \x1b[32mJob 'raysubmit_Uj5L2bfXMD5QPdag' submitted\x1b[39m",
    "2026-12-01 07:12:56,696\tINFO worker.py:1691 -- Using address 192.0.2.2:6380 set in the environment variable",
    "2026-12-01 07:13:00,534\tWARNING util.py:650 -- The argument ``concurrency`` is deprecated in Ray 2.51.",
    "Running entrypoint for job raysubmit_Uj5L2bfXMD5QPdag: /work/main/.venv/bin/python3.11 -m jobs.backfill",
    "\x1b[33m(raylet)\x1b[0m WARNING: 8 PYTHON worker processes have been started on node: 5d2d627c6651d194",
    "(MapWorker(MapBatches(FetchWindows)) pid=4242, ip=10.0.0.7) constructing",
    "(pid=1234) a worker's print",
    "[2026-12-01 07:13:01,161 E 6789 6790] core_worker.cc:2465: Actor with class name: 'MapWorker(...)'",
    'INFO 2026-12-01 07:16:28,958 serve 7648 -- Started Serve in namespace "serve".',
]
OUR_LINES = [
    "backfill: 37/144 windows, 14,478 rows, 0 failed",
    "  entsoe/A44                                      1,344 rows",
    "[1/4] dk_demand/DK1              promoted   17.2 s  first model; skill +0.489 against SeasonalNaive",
    "2026-12-01 07:12 a timestamp of ours is not Ray's format",
    "(a remark in brackets) pid=3",
    "",
]


@pytest.mark.parametrize("line", RAY_LINES)
def test_rays_own_lines_are_recognised(line: str) -> None:
    assert is_ray_line(line)


@pytest.mark.parametrize("line", OUR_LINES)
def test_the_platforms_lines_are_not_taken_for_rays(line: str) -> None:
    assert not is_ray_line(line)


def test_the_filter_shows_our_lines_and_logs_every_line_even_split_across_writes() -> None:
    terminal, log = io.StringIO(), io.StringIO()
    stream = TerminalFilter(terminal, log)
    text = "\n".join([RAY_LINES[4], OUR_LINES[0], RAY_LINES[1], "\x1b[1mbold\x1b[22m figures"]) + "\npartial"

    for start in range(0, len(text), 7):  # chunks that cut lines anywhere
        stream.write(text[start : start + 7])
    assert "partial" not in terminal.getvalue()
    stream.flush()

    assert terminal.getvalue().splitlines() == [OUR_LINES[0], "bold figures", "partial"]
    assert log.getvalue() == text
