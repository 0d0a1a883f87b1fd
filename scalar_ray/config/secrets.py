"""Secrets that cross process boundaries as references, never as values.

Ray keeps what it ships to a worker: actor constructor arguments in the GCS's actor table, Serve's deployment
arguments in its checkpoints in the GCS key-value store, Ray Data closures in task specs. The whole ``Settings`` goes
that way, so every secret setting is a ``ReferencedSecret``: in this process a ``SecretStr`` like any other, but
pickled it becomes a ``SecretReference`` that the worker resolves when the secret is first used, from

1. this machine's hand-over file: the exact value, written 0600 into a 0700 folder on a memory file system
   (``$XDG_RUNTIME_DIR`` or ``/dev/shm``), named by a keyed hash of the value so its name tells nothing;
2. the mounted secrets file it was loaded from (``SCALAR_SECRETS_DIR``; on KubeRay every pod mounts the same
   Kubernetes secret), then the worker's own variable, then a file of that name in the worker's secrets folder.

The hand-over serves the local stack, where a command line (`scalar-ray serve` with ``SCALAR_SERVE__API_KEYS``)
starts actors on a head that was started before with another environment; the second serves a cluster, where the
worker may be on another node. A secret none of them holds fails on use with a ``SecretUnavailableError`` that names
the variable; unpickling itself never fails, so a worker that never needs the secret is not affected.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, SecretStr
from typing_extensions import override

from scalar_ray.config.reference import ENV_PREFIX, env_var_name
from scalar_ray.core.errors import ConfigurationError

__all__ = [
    "SECRETS_DIR_VARIABLE",
    "ReferencedSecret",
    "Secret",
    "SecretReference",
    "SecretUnavailableError",
    "handover_folder",
    "name_secrets",
]

SECRETS_DIR_VARIABLE = f"{ENV_PREFIX}SECRETS_DIR"
_MASK = "**********"


class SecretUnavailableError(ConfigurationError):
    """A worker needed a secret that neither its hand-over file, the mounted secrets nor its environment hold."""

    def __init__(self, variable: str) -> None:
        super().__init__(
            variable,
            "secret not available in this worker",
            f"set {variable} in the worker's environment or mount it in {SECRETS_DIR_VARIABLE} on every node",
        )


@dataclass(frozen=True)
class SecretReference:
    """Where a worker finds a secret: what travels through Ray instead of its value.

    Attributes:
        variable: the setting's environment variable (``SCALAR_PROVIDERS__ENTSOE__TOKEN``); None for a secret built
            outside ``Settings``.
        index: the position in a comma-separated list setting (``SCALAR_SERVE__API_KEYS``).
        mounted: the mounted secrets file the value was loaded from (present on every node of a cluster).
        handed_over: this machine's hand-over file, which holds exactly the value.

    """

    variable: str | None = None
    index: int | None = None
    mounted: str | None = None
    handed_over: str | None = None

    def resolve(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The value from the first place that holds it, or None."""
        env = os.environ if environ is None else environ
        if self.handed_over is not None and (exact := _read(Path(self.handed_over))) is not None:
            return exact
        listed = _read(Path(self.mounted)) if self.mounted is not None else None
        if listed is None and self.variable is not None:
            listed = env.get(self.variable)
            if listed is None and (folder := env.get(SECRETS_DIR_VARIABLE)):
                listed = _read(Path(folder) / self.variable)
        if listed is None:
            return None
        if self.index is None:
            return listed.strip()
        items = [part.strip() for part in listed.split(",") if part.strip()]  # as settings.split_commas reads it
        return items[self.index] if self.index < len(items) else None


class ReferencedSecret(SecretStr):
    """A ``SecretStr`` that pickles as its ``SecretReference``, and resolves it on first use after unpickling."""

    def __init__(self, value: str | None, reference: SecretReference) -> None:
        # SecretStr.__init__ is not called: its one attribute is the property below.
        self._value = value
        self.reference = reference

    @property
    def _secret_value(self) -> str:  # type: ignore[override]  # SecretStr's plain attribute, resolved lazily here
        if self._value is None:
            resolved = self.reference.resolve()
            if resolved is None:
                raise SecretUnavailableError(self.reference.variable or "a secret built outside the settings")
            self._value = resolved
        return self._value

    def named(self, variable: str, index: int | None, mounted: Path | None) -> None:
        """Record which setting this is (``Settings`` names its secrets once they are all built)."""
        self.reference = SecretReference(variable, index, str(mounted) if mounted is not None else None)

    @override
    def __reduce__(self) -> tuple[Any, ...]:
        reference = self.reference
        if self._value is not None and reference.handed_over is None:
            reference = SecretReference(
                reference.variable, reference.index, reference.mounted, str(_hand_over(self._value))
            )
        return (_from_reference, (reference,))

    def __copy__(self) -> ReferencedSecret:
        return self  # immutable; copy.copy would otherwise go through __reduce__ and write a hand-over file

    def __deepcopy__(self, memo: dict[int, Any]) -> ReferencedSecret:
        return self

    @override
    def __eq__(self, other: object) -> bool:
        # SecretStr compares by exact class; a referenced secret equals any SecretStr of the same value.
        return isinstance(other, SecretStr) and self.get_secret_value() == other.get_secret_value()

    @override
    def __hash__(self) -> int:
        return hash(self.get_secret_value())

    @override
    def _display(self) -> str:
        return _MASK  # never resolves: a repr in a log line must not fail or fetch anything


def _from_reference(reference: SecretReference) -> ReferencedSecret:
    return ReferencedSecret(None, reference)


def _referenced(value: SecretStr) -> ReferencedSecret:
    if isinstance(value, ReferencedSecret):
        return value
    return ReferencedSecret(value.get_secret_value(), SecretReference())


Secret = Annotated[SecretStr, AfterValidator(_referenced)]
"""The type of every secret setting: a ``SecretStr`` that never travels through Ray as its value."""


def name_secrets(model: BaseModel, mounted: Mapping[str, Path], path: tuple[str, ...] = ()) -> None:
    """Give every ``ReferencedSecret`` under ``model`` its variable (and mounted file, if it was loaded from one).

    Args:
        model: the settings tree (or a section of it, at ``path``).
        mounted: variables loaded from mounted secret files, with their files.
        path: where ``model`` sits in the settings tree.

    """
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = (*path, name)
        if isinstance(value, BaseModel):
            name_secrets(value, mounted, here)
        elif isinstance(value, ReferencedSecret):
            variable = env_var_name(here)
            value.named(variable, None, mounted.get(variable))
        elif isinstance(value, list | tuple):
            variable = env_var_name(here)
            for index, item in enumerate(value):
                if isinstance(item, ReferencedSecret):
                    item.named(variable, index, mounted.get(variable))


def handover_folder() -> Path:
    """The user's hand-over folder: on a memory file system where there is one, 0700, owned by the user."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    memory = Path("/dev/shm")  # noqa: S108 - a private folder inside it, created 0700 and checked below
    base = Path(runtime) if runtime else memory if memory.is_dir() else Path(tempfile.gettempdir())
    folder = base / f"scalar-ray-secrets-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    # A folder planted by someone else (or a symlink to one) would hand our secrets to them.
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigurationError(str(folder), "hand-over folder not private to this user", "remove it")
    return folder


def _hand_over(value: str) -> Path:
    folder = handover_folder()
    path = folder / hmac.new(_folder_key(folder), value.encode(), hashlib.sha256).hexdigest()[:40]
    if _read(path) != value:
        _write_private(path, value)
    return path


def _folder_key(folder: Path) -> bytes:
    key_file = folder / ".key"
    if not key_file.is_file():
        _write_private(key_file, secrets.token_hex(32))
    return key_file.read_bytes()


def _write_private(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    return text if text.strip() else None
