from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from commands.main import EXIT_CONFIG, EXIT_OK, main


def test_bad_configuration_fails_at_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCALAR_BROKER__SERVICE_URL", "localhost:6650")
    monkeypatch.setenv("SCALAR_WAREHOUSE__KIND", "starrocks")

    code = main(["local", "status"])

    err = capsys.readouterr().err
    assert code == EXIT_CONFIG
    assert "SCALAR_BROKER__SERVICE_URL: 'localhost:6650' is not a valid URL here" in err
    assert "SCALAR_WAREHOUSE__STARROCKS__PASSWORD: required secret missing" in err


def test_config_check_accepts_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == EXIT_OK
    assert "configuration OK" in capsys.readouterr().out


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SCALAR_CACHE__PASSWORD", "do-not-print-me")

    assert main(["config", "show"]) == EXIT_OK

    shown = capsys.readouterr().out
    assert "do-not-print-me" not in shown
    assert json.loads(shown)["cache"]["password"] == "**********"


def test_config_docs_prints_the_reference_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "docs"]) == EXIT_OK
    assert "| `SCALAR_BROKER__SERVICE_URL` |" in capsys.readouterr().out


def test_a_command_group_without_an_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_CONFIG
    assert "local" in capsys.readouterr().out


def test_only_built_commands_are_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dashboard"])  # the Grafana dashboards arrive with the operations work; until then not offered
    assert "invalid choice: 'dashboard'" in capsys.readouterr().err


def test_the_platform_commands_are_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert all(
        command in help_text for command in ("demo", "status", "platform", "train", "forecast", "models", "strategy")
    )


def test_sim_refuses_a_fault_rate_outside_0_to_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--rate-429", "1.5"]) == EXIT_CONFIG
    assert "--rate-429 must be between 0 and 1" in capsys.readouterr().err


def test_train_submits_the_training_job_with_the_options_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from scalar_ray.ray_output import JobRun

    submitted: dict[str, object] = {}

    def fake_run_job(dashboard_url: str, entrypoint: list[str], log_dir: Path, show: object) -> JobRun:
        submitted.update(dashboard=dashboard_url, entrypoint=entrypoint, log_dir=log_dir)
        return JobRun("raysubmit_test", "SUCCEEDED", log_dir / "raysubmit_test.log")

    # No token in this process's environment: the session's own Ray instance starts later in the same process.
    monkeypatch.setattr("commands.forecasting.use_ray_token", lambda _: None)
    monkeypatch.setattr("commands.platform.run_job", fake_run_job)
    monkeypatch.setenv("SCALAR_LOCAL__DATA_DIR", str(tmp_path))

    assert (
        main(["train", "--families", "dk_demand", "--zones", "DK1", "--models", "Average", "--time-limit", "20"]) == 0
    )

    assert submitted["entrypoint"] == [
        sys.executable, "-m", "jobs.train", "--families", "dk_demand", "--zones", "DK1", "--models", "Average",
        "--time-limit", "20",
    ]  # fmt: skip
    assert submitted["dashboard"] == "http://127.0.0.1:8265"
    assert submitted["log_dir"] == tmp_path / "logs" / "jobs"


def test_a_failed_job_exits_1_and_names_its_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scalar_ray.ray_output import JobRun

    monkeypatch.setattr("commands.forecasting.use_ray_token", lambda _: None)
    monkeypatch.setattr(
        "commands.platform.run_job", lambda _url, _entry, log_dir, show: JobRun("raysubmit_x", "FAILED", log_dir)
    )

    assert main(["train"]) == 1
    assert "job raysubmit_x FAILED; its whole log:" in capsys.readouterr().out


def test_the_demo_prints_the_readmes_explorer_link() -> None:
    from commands.platform import explorer_link
    from tests.conftest import PROJECT_ROOT

    link = explorer_link("http://127.0.0.1:8000")  # the default port, where the demo serves
    assert link == "http://127.0.0.1:8000/explorer?id=entsoe/A44/DK1/price&tz=Europe/Copenhagen&frequency=PT1H"
    assert f"<{link}>" in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
