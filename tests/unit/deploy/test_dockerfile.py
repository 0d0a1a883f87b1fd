"""The project's Dockerfile installs the project's pinned dependencies and nothing else, on the pinned Python."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import PROJECT_ROOT

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
PINS = {
    line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines()
    if "==" in line and not line.startswith("#")
}


def pip_installs() -> list[str]:
    """Every `pip install` command of the Dockerfile (continuation lines joined)."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line for line in joined.splitlines() if "pip install" in line]


def test_python_is_the_version_the_project_requires() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    base = re.search(r"^FROM python:(\d+\.\d+)", DOCKERFILE, re.MULTILINE)
    assert base, "the image starts from the official python image"
    assert project["requires-python"] == f">={base.group(1)},<3.{int(base.group(1).split('.')[1]) + 1}"


def test_dependencies_are_installed_with_the_lock() -> None:
    installs = pip_installs()
    assert installs, "the Dockerfile installs the project"
    for command in installs:
        assert "-c constraints.txt" in command, f"not constrained by the lock: {command}"
    assert re.search(r"^COPY .*constraints\.txt", DOCKERFILE, re.MULTILINE)


def pin_mismatches(commands: list[str]) -> list[str]:
    """Packages the commands name at a version other than the lock's."""
    named = re.findall(r"([A-Za-z0-9_.\-\[\],]+)==([0-9][^\s\"']*)", " ".join(commands))
    return [
        f"{name}=={version} (lock: {PINS.get(base)})"
        for name, version in named
        if PINS.get(base := name.split("[")[0].lower().replace("_", "-")) != version
    ]


def test_any_package_named_in_the_dockerfile_has_the_locked_version() -> None:
    assert pin_mismatches(pip_installs()) == []
    # The check itself: a pin that strays from the lock, or names what the lock lacks, is reported.
    assert pin_mismatches([f"pip install -c constraints.txt ray==0.0.1 duckdb=={PINS['duckdb']}"]) == [
        f"ray==0.0.1 (lock: {PINS['ray']})"
    ]
    assert pin_mismatches(["pip install not-in-the-lock==1.0"]) == ["not-in-the-lock==1.0 (lock: None)"]


def test_the_image_carries_every_package_the_project_ships() -> None:
    packages = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        folder = pattern.rstrip("*")
        assert re.search(rf"^COPY .*\b{folder} ", DOCKERFILE, re.MULTILINE), f"{folder}/ is not copied into the image"


def test_the_lock_pins_ray_as_the_project_requires() -> None:
    dependencies = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    ray = next(d for d in dependencies if d.startswith("ray["))
    assert ray.endswith(f"=={PINS['ray']}")


def test_the_image_vendors_the_same_checked_chart_library_as_make_setup() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    for pin in ("UPLOT_VERSION", "UPLOT_SHA256"):
        in_make = re.search(rf"^{pin} := (\S+)$", makefile, re.MULTILINE)
        in_image = re.search(rf"^ARG {pin}=(\S+)$", DOCKERFILE, re.MULTILINE)
        assert in_make and in_image, f"{pin} is pinned in both"
        assert in_make.group(1) == in_image.group(1), pin
    assert "sha256sum --check" in DOCKERFILE
    assert re.search(r"^COPY .*--from=explorer-vendor .*scalar_ray/serving/explorer/vendor$", DOCKERFILE, re.MULTILINE)
