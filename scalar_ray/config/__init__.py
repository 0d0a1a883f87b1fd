"""Configuration: the ``Settings`` model, its loader and its reference table."""

from __future__ import annotations

from scalar_ray.config.loading import SECRETS_DIR_VARIABLE, load_settings
from scalar_ray.config.reference import markdown_table, setting_docs
from scalar_ray.config.settings import Settings

__all__ = ["SECRETS_DIR_VARIABLE", "Settings", "load_settings", "markdown_table", "setting_docs"]
