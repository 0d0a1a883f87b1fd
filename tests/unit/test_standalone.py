"""The project stands alone: nothing in the tree reaches for a folder beside the clone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import FIXTURES, PROJECT_ROOT

# Spelled in pieces so that this file does not match itself.
SIBLING = "sha" + "red"
OUTSIDE = re.compile(
    rf"""\.\./{SIBLING}\b"""  # a relative path to the sibling folder
    rf"""|parents?(\[\d+\])?\s*/\s*["']{SIBLING}["']"""  # pathlib: Path(...).parent / "<sibling>"
    rf"""|["']\.\.["']\s*,\s*["']{SIBLING}["']"""  # os.path.join("..", "<sibling>")
)


def tracked_files() -> list[Path]:
    """The files git tracks plus the untracked ones it does not ignore: what a clone (or the next commit) holds."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [PROJECT_ROOT / name for name in listed.split("\0") if name and (PROJECT_ROOT / name).is_file()]


def test_the_pattern_finds_every_way_of_reaching_outside() -> None:
    for line in (
        f"see ../{SIBLING}/docs",
        f'Path(__file__).resolve().parents[2] / "{SIBLING}" / "fixtures"',
        f"ROOT.parent / '{SIBLING}'",
        f'os.path.join("..", "{SIBLING}", "x")',
    ):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("a shared subscription"), "the word alone is not a reference"


def test_no_file_in_the_project_refers_to_a_sibling_folder() -> None:
    files = tracked_files()
    assert len(files) > 100, "git listed too few files: the check would prove nothing"
    offenders = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary payloads
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "copy what the project needs into it instead:\n" + "\n".join(offenders)


def test_every_recorded_payload_folder_names_its_provenance() -> None:
    folders = [folder for folder in (FIXTURES / "providers").iterdir() if folder.is_dir()]
    assert len(folders) == 7
    for folder in folders:
        assert (folder / "SOURCE.md").is_file(), f"{folder} has no SOURCE.md"
