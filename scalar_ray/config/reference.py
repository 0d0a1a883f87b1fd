"""The settings reference: every environment variable with its type, default and description.

``scalar-ray config docs`` prints it as the Markdown table the README carries; a test keeps the two equal.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

__all__ = ["ENV_PREFIX", "SettingDoc", "env_var_name", "markdown_table", "setting_docs", "setting_env_vars"]

ENV_PREFIX = "SCALAR_"
_DELIMITER = "__"


@dataclass(frozen=True)
class SettingDoc:
    """One leaf setting as an operator sees it."""

    env_var: str
    type_name: str
    default: str
    description: str
    secret: bool


def env_var_name(path: tuple[str, ...]) -> str:
    """``("broker", "service_url")`` → ``SCALAR_BROKER__SERVICE_URL``."""
    return ENV_PREFIX + _DELIMITER.join(part.upper() for part in path)


@cache
def setting_docs() -> tuple[SettingDoc, ...]:
    """Every leaf setting in declaration order, with defaults read from a default-built ``Settings``."""
    from scalar_ray.config.settings import Settings  # noqa: PLC0415 - settings imports this module
    from scalar_ray.config.sources import environment_mapping  # noqa: PLC0415

    with environment_mapping({}):
        defaults = Settings()
    return tuple(_walk(type(defaults), defaults, ()))


def setting_env_vars() -> set[str]:
    """Every variable a user may set: the leaves, and each section as a whole (JSON)."""
    names = {doc.env_var for doc in setting_docs()}
    for doc in setting_docs():
        parts = doc.env_var.removeprefix(ENV_PREFIX).split(_DELIMITER)
        names.update(ENV_PREFIX + _DELIMITER.join(parts[:i]) for i in range(1, len(parts)))
    return names


def markdown_table() -> str:
    """The settings reference as a Markdown table."""
    rows = ["| variable | type | default | description |", "|---|---|---|---|"]
    for doc in setting_docs():
        rows.append(f"| `{doc.env_var}` | {doc.type_name} | {doc.default} | {doc.description} |")
    return "\n".join(rows) + "\n"


def _walk(model: type[BaseModel], instance: BaseModel, path: tuple[str, ...]) -> typing.Iterator[SettingDoc]:
    for name, field in model.model_fields.items():
        value = getattr(instance, name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _walk(annotation, value, (*path, name))
            continue
        secret = _mentions(annotation, SecretStr)
        yield SettingDoc(
            env_var=env_var_name((*path, name)),
            type_name=_type_name(annotation),
            default="(secret)" if secret and value is not None else _format_default(value),
            description=(field.description or "").replace("|", "\\|"),
            secret=secret,
        )


def _mentions(annotation: Any, target: type) -> bool:
    if annotation is target:
        return True
    return any(_mentions(arg, target) for arg in typing.get_args(annotation))


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        named = [_type_name(a) for a in args if a is not type(None)]
        optional = type(None) in args
        return " \\| ".join(named) + (" (optional)" if optional else "")
    names = {
        SecretStr: "secret",
        Path: "path",
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
    }
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _format_default(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    return f"`{value}`"
