"""docs/scaling.md's capacity tables are what ``python -m bench.capacity`` computes from the catalogue and settings."""

from __future__ import annotations

import re

from bench.capacity import DOC, END, START, render


def test_the_capacity_tables_in_the_docs_are_current() -> None:
    match = re.search(re.escape(START) + ".*?" + re.escape(END), DOC.read_text(encoding="utf-8"), re.DOTALL)

    assert match, f"{DOC} has no {START} ... {END} block"
    assert match.group(0) == render(), "docs/scaling.md is stale: run `python -m bench.capacity`"
