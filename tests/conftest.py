"""Shared test configuration: every test starts from an environment without SCALAR_* variables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def clean_scalar_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's own SCALAR_* variables must not change what a test sees."""
    for name in list(os.environ):
        if name.upper().startswith("SCALAR_"):
            monkeypatch.delenv(name)
    yield


def shared_file(relative: str) -> Path:
    """A file from ../shared, or a clear failure naming what is missing."""
    path = SHARED / relative
    if not path.exists():
        pytest.fail(f"missing shared file {path}: tests expect the shared/ folder beside the project root")
    return path
