"""A pydantic-settings source that reads a given environment mapping instead of ``os.environ``.

The loader (``config.loading``) merges the process environment with files from a mounted secrets directory and
hands the mapping over through a context variable, so ``Settings`` can be built from any mapping in tests and
nested secrets (``SCALAR_BROKER__AUTH_TOKEN`` as a file) work, which pydantic-settings' own secrets source
cannot do for nested fields.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pydantic_settings import EnvSettingsSource
from pydantic_settings.sources.utils import parse_env_vars
from typing_extensions import override

__all__ = ["MappingEnvSource", "environment_mapping", "mounted_secret_files"]

_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("scalar_settings_environment", default=None)
_MOUNTED: ContextVar[Mapping[str, Path]] = ContextVar("scalar_settings_mounted_secrets", default={})  # noqa: B039 - never mutated


@contextmanager
def environment_mapping(environ: Mapping[str, str], mounted: Mapping[str, Path] | None = None) -> Iterator[None]:
    """Make ``Settings()`` read ``environ`` instead of ``os.environ`` inside the block.

    ``mounted`` names the variables that came from mounted secret files, with their files: their secrets then
    travel to workers as references to those files (``config.secrets``).
    """
    token = _ENVIRONMENT.set(environ)
    mounted_token = _MOUNTED.set(mounted or {})
    try:
        yield
    finally:
        _MOUNTED.reset(mounted_token)
        _ENVIRONMENT.reset(token)


def mounted_secret_files() -> Mapping[str, Path]:
    """The mounted secret files of the ``Settings`` being built (see ``environment_mapping``)."""
    return _MOUNTED.get()


class MappingEnvSource(EnvSettingsSource):
    """``EnvSettingsSource`` over the mapping set by ``environment_mapping`` (``os.environ`` outside it)."""

    @override
    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _ENVIRONMENT.get()
        return parse_env_vars(
            os.environ if environ is None else environ,
            self.case_sensitive,
            self.env_ignore_empty,
            self.env_parse_none_str,
        )
