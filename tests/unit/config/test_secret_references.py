"""Secrets cross into Ray workers as references (config.secrets): never their values, always resolvable there."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import ray.cloudpickle
from pydantic import SecretStr

from scalar_ray.config import load_settings
from scalar_ray.config.secrets import ReferencedSecret, SecretReference, SecretUnavailableError, handover_folder
from scalar_ray.config.settings import ServeSettings, Settings

# Every secret setting, each with a value found nowhere else.
SECRETS = {
    "SCALAR_BROKER__AUTH_TOKEN": "broker-jwt-7f3a9c",
    "SCALAR_WAREHOUSE__STARROCKS__PASSWORD": "starrocks-pw-51be2d",
    "SCALAR_CACHE__PASSWORD": "redis-pw-90ac11",
    "SCALAR_SERVE__API_KEYS": "api-key-one-0123456789abcdef, api-key-two-0123456789abcdef",
    "SCALAR_PROVIDERS__ENTSOE__TOKEN": "entsoe-token-c0ffee",
    "SCALAR_PROVIDERS__VOLUE__CLIENT_SECRET": "volue-secret-e1e10",
    "SCALAR_TELEMETRY__OTLP_HEADERS": "authorization=otlp-header-77aa",
    "SCALAR_RAY__AUTH_TOKEN": "ray-token-3b3b3b",
}
VALUES = [part.strip() for value in SECRETS.values() for part in value.split(",")]


@pytest.fixture(autouse=True)
def private_handover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hand-over files in this test's own runtime folder, never the machine's."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime


def every_secret(settings: Settings) -> list[SecretStr]:
    serve_keys = list(settings.serve.api_keys or [])
    return [
        s
        for s in (
            settings.broker.auth_token,
            settings.warehouse.starrocks.password,
            settings.cache.password,
            *serve_keys,
            settings.providers.entsoe.token,
            settings.providers.volue.client_secret,
            settings.telemetry.otlp_headers,
            settings.ray.auth_token,
        )
        if s is not None
    ]


def test_every_secret_setting_is_a_referenced_secret_named_after_its_variable() -> None:
    settings = load_settings(SECRETS)
    secrets = every_secret(settings)
    assert len(secrets) == len(VALUES)
    assert all(isinstance(secret, ReferencedSecret) for secret in secrets)
    assert [s.get_secret_value() for s in secrets] == VALUES
    references = [s.reference for s in secrets if isinstance(s, ReferencedSecret)]
    assert [r.variable for r in references][:3] == [
        "SCALAR_BROKER__AUTH_TOKEN",
        "SCALAR_WAREHOUSE__STARROCKS__PASSWORD",
        "SCALAR_CACHE__PASSWORD",
    ]
    assert [(r.variable, r.index) for r in references[3:5]] == [
        ("SCALAR_SERVE__API_KEYS", 0),
        ("SCALAR_SERVE__API_KEYS", 1),
    ]


@pytest.mark.parametrize("dumps", [pickle.dumps, ray.cloudpickle.dumps], ids=["pickle", "ray.cloudpickle"])
def test_no_secret_value_is_in_the_pickled_settings_or_any_section(dumps: object) -> None:
    settings = load_settings(SECRETS)
    pickled = [dumps(settings), *(dumps(getattr(settings, name)) for name in type(settings).model_fields)]  # type: ignore[operator]
    assert [value for value in VALUES for blob in pickled if value.encode() in blob] == []


def test_a_worker_without_the_environment_resolves_them_from_the_hand_over(tmp_path: Path) -> None:
    blob = tmp_path / "settings.pickle"
    blob.write_bytes(pickle.dumps(load_settings(SECRETS)))
    script = (
        "import pickle, sys; s = pickle.loads(open(sys.argv[1], 'rb').read());"
        "print(s.providers.entsoe.token.get_secret_value(), s.serve.api_keys[1].get_secret_value())"
    )
    clean = {"PATH": os.environ["PATH"]}  # a worker started from another shell: none of the variables
    done = subprocess.run(
        [sys.executable, "-c", script, str(blob)], env=clean, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["entsoe-token-c0ffee", "api-key-two-0123456789abcdef"]


def test_the_hand_over_is_private_and_its_names_tell_nothing() -> None:
    pickle.dumps(load_settings(SECRETS))
    folder = handover_folder()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [path for path in folder.iterdir() if not path.name.startswith(".")]
    assert len(files) == len(VALUES)
    assert {stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()} == {0o600}
    assert sorted(path.read_text() for path in files) == sorted(VALUES)
    assert not [path.name for path in files if any(value in path.name for value in VALUES)]


def test_a_folder_someone_else_can_read_is_refused(private_handover: Path) -> None:
    planted = private_handover / f"scalar-ray-secrets-{os.getuid()}"
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)
    with pytest.raises(Exception, match="not private"):
        pickle.dumps(load_settings(SECRETS))


def test_a_mounted_secret_travels_as_its_file_and_a_worker_reads_the_file(tmp_path: Path) -> None:
    mounted = tmp_path / "secrets"
    mounted.mkdir()
    (mounted / "SCALAR_PROVIDERS__ENTSOE__TOKEN").write_text("mounted-token-1\n")
    token = load_settings({"SCALAR_SECRETS_DIR": str(mounted)}).providers.entsoe.token
    assert isinstance(token, ReferencedSecret)
    assert token.reference.mounted == str(mounted / "SCALAR_PROVIDERS__ENTSOE__TOKEN")

    # On another node there is no hand-over file, but the same secret is mounted there (and rotated meanwhile).
    reference = pickle.loads(pickle.dumps(token)).reference  # noqa: S301 - our own bytes
    elsewhere = SecretReference(reference.variable, reference.index, reference.mounted, handed_over=None)
    (mounted / "SCALAR_PROVIDERS__ENTSOE__TOKEN").write_text("mounted-token-2\n")
    assert elsewhere.resolve({}) == "mounted-token-2"


def test_without_a_hand_over_a_worker_falls_back_to_its_own_variable_or_secrets_folder(tmp_path: Path) -> None:
    keys = SecretReference("SCALAR_SERVE__API_KEYS", index=1)
    assert keys.resolve({"SCALAR_SERVE__API_KEYS": "a-key, b-key"}) == "b-key"
    folder = tmp_path / "worker-secrets"
    folder.mkdir()
    (folder / "SCALAR_SERVE__API_KEYS").write_text("c-key,d-key\n")
    assert keys.resolve({"SCALAR_SECRETS_DIR": str(folder)}) == "d-key"
    assert keys.resolve({}) is None


def test_a_secret_no_worker_source_holds_fails_on_use_naming_its_variable_not_on_unpickling() -> None:
    lost = SecretReference("SCALAR_PROVIDERS__JAO__TOKEN", handed_over="/nonexistent/scalar-ray-handover")
    secret = pickle.loads(pickle.dumps(ReferencedSecret(None, lost)))  # noqa: S301 - our own bytes
    assert repr(secret) == "ReferencedSecret('**********')"  # a log line about it never fails
    with pytest.raises(SecretUnavailableError, match="SCALAR_PROVIDERS__JAO__TOKEN"):
        secret.get_secret_value()


def test_a_secret_set_in_code_also_travels_as_a_reference() -> None:
    serve = ServeSettings(api_keys=[SecretStr("code-key-0123456789abcdef")])  # a section built outside Settings
    blob = pickle.dumps(serve)
    assert b"code-key-0123456789abcdef" not in blob
    arrived = pickle.loads(blob)  # noqa: S301 - our own bytes
    assert arrived.api_keys[0].get_secret_value() == "code-key-0123456789abcdef"
    assert serve.api_keys == [SecretStr("code-key-0123456789abcdef")]  # equal to a plain SecretStr of the value
