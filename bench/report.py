"""Write benchmark results as JSON and as one section of docs/benchmarks.md (other sections are kept)."""

from __future__ import annotations

import json
import platform
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"

HEADER = """# Benchmarks

Measured by `make bench` (`python -m bench`) on the machine named in each section. Single runs on a shared 2-core
machine: compare the ratios within a section (each is measured against its baseline in the same run), not the
absolute figures across machines.
"""


def machine() -> str:
    """A one-line description of where the numbers come from."""
    memory_gib = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {psutil.cpu_count()} CPUs, {memory_gib:.0f} GiB, Python {platform.python_version()}"


def markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Rows as a Markdown table in the given column order."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def publish(name: str, title: str, body: str, data: dict[str, Any]) -> None:
    """Store ``data`` as bench/results/<name>.json and replace the <name> section of docs/benchmarks.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"measured_at": stamp, **data}, indent=2), encoding="utf-8")
    section = f"<!-- bench:{name}:start -->\n## {title}\n\n_{stamp}; {machine()}_\n\n{body}\n<!-- bench:{name}:end -->"
    MARKDOWN.parent.mkdir(parents=True, exist_ok=True)
    text = MARKDOWN.read_text(encoding="utf-8") if MARKDOWN.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{name}:start -->.*?<!-- bench:{name}:end -->", re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    MARKDOWN.write_text(text, encoding="utf-8")
