"""What the package loads at run time is in its distribution (the Docker image installs it non-editable)."""

from __future__ import annotations

import fnmatch
import tomllib

from tests.conftest import PROJECT_ROOT


def test_every_data_file_the_library_reads_is_package_data() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["scalar_ray"]
    package = PROJECT_ROOT / "scalar_ray"
    data = [path.relative_to(package).as_posix() for path in package.rglob("*") if path.suffix in (".yaml", ".json")]

    assert data, "the library ships data files (the catalogue, the families)"
    missing = [name for name in data if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)]
    assert missing == [], f"add these to [tool.setuptools.package-data]: {missing}"
