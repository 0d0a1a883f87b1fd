"""Build ``Settings`` from the environment (and a mounted secrets directory), failing early and clearly.

pydantic-settings silently ignores unknown variables and reports nested errors by field path; operators think in
environment variables, so every problem here names the variable, what is wrong and how to fix it.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scalar_ray.config.reference import ENV_PREFIX, env_var_name, setting_env_vars
from scalar_ray.config.secrets import SECRETS_DIR_VARIABLE
from scalar_ray.config.settings import MISSING_SECRET, Settings
from scalar_ray.config.sources import environment_mapping
from scalar_ray.core.errors import ConfigurationError, InvalidConfigurationError

__all__ = ["SECRETS_DIR_VARIABLE", "load_settings"]


def load_settings(environ: Mapping[str, str] | None = None, secrets_dir: Path | None = None) -> Settings:
    """Build the platform's settings from ``environ`` (default ``os.environ``) and an optional secrets folder.

    Files in the secrets folder are named like the variable they set (``SCALAR_BROKER__AUTH_TOKEN``); a variable
    set in the environment wins over a file.

    Raises:
        InvalidConfigurationError: a variable is unknown, malformed, or a required secret is missing.

    """
    env = dict(os.environ if environ is None else environ)
    known = setting_env_vars()
    problems = _unknown_variables(env, known)
    folder = secrets_dir or (Path(env[SECRETS_DIR_VARIABLE]) if env.get(SECRETS_DIR_VARIABLE) else None)
    mounted: dict[str, Path] = {}
    if folder is not None:
        problems += _merge_secret_files(env, folder, known, mounted)
    env = {k: v for k, v in env.items() if k.upper() != SECRETS_DIR_VARIABLE}
    settings: Settings | None = None
    try:
        with environment_mapping(env, mounted):
            settings = Settings()
    except ValidationError as exc:
        # An unknown nested variable also fails pydantic's extra="forbid": report each variable once.
        reported = {problem.setting.upper() for problem in problems}
        problems += [p for e in exc.errors() if (p := _problem_from_error(e)).setting.upper() not in reported]
    if problems:
        raise InvalidConfigurationError(problems)
    assert settings is not None  # noqa: S101 - no problems means the model was built
    # The data folder is resolved here, where the settings are loaded (the CLI's directory): actors, Serve replicas
    # and jobs run in the Ray head's directory, where a relative path would name another folder.
    local = settings.local.model_copy(update={"data_dir": settings.data_dir})
    return settings.model_copy(update={"local": local})


def _unknown_variables(env: Mapping[str, str], known: set[str]) -> list[ConfigurationError]:
    problems = []
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper == SECRETS_DIR_VARIABLE:
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.75)
        fix = f"did you mean {close[0]}?" if close else "remove it; `scalar-ray config docs` lists every setting"
        problems.append(ConfigurationError(name, "unknown setting", fix))
    return problems


def _merge_secret_files(
    env: dict[str, str], folder: Path, known: set[str], mounted: dict[str, Path]
) -> list[ConfigurationError]:
    if not folder.is_dir():
        return [
            ConfigurationError(
                SECRETS_DIR_VARIABLE,
                f"'{folder}' is not a directory",
                "point it at the mounted secrets folder",
            )
        ]
    problems = []
    present = {k.upper() for k in env}
    for file in sorted(folder.iterdir()):
        name = file.name.upper()
        # Kubernetes projects secrets through ..data symlinks and dot-folders: only plain names count.
        if file.name.startswith(".") or not file.is_file():
            continue
        if name not in known:
            problems.append(
                ConfigurationError(
                    f"{folder}/{file.name}",
                    "secret file names no known setting",
                    "name the file like the variable it sets, e.g. SCALAR_BROKER__AUTH_TOKEN",
                )
            )
        elif name not in present:
            env[name] = file.read_text(encoding="utf-8").strip()
            mounted[name] = file.absolute()  # not resolved: Kubernetes swaps the ..data link on rotation
    return problems


def _problem_from_error(error: Mapping[str, Any]) -> ConfigurationError:
    location = tuple(str(part) for part in error["loc"])
    if error["type"] == MISSING_SECRET:
        context = error["ctx"]
        variables = ", ".join(env_var_name(tuple(path.split("."))) for path in context["paths"])
        return ConfigurationError(
            variables,
            f"required secret missing because {context['because']}",
            f"set it in the environment or as a file of that name in {SECRETS_DIR_VARIABLE}",
        )
    variable = env_var_name(location) if location else f"{ENV_PREFIX}*"
    if error["type"] == "extra_forbidden":
        return ConfigurationError(
            variable, "unknown setting", "remove it; `scalar-ray config docs` lists every setting"
        )
    # The message never echoes the raw input: it could be a secret typed into the wrong variable.
    message = str(error["msg"]).removeprefix("Value error, ")
    return ConfigurationError(variable, message, "correct the value; `scalar-ray config docs` describes the setting")
