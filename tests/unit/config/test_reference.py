from __future__ import annotations

import re

from scalar_ray.config import markdown_table, setting_docs
from scalar_ray.config.reference import setting_env_vars
from tests.conftest import PROJECT_ROOT

START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def test_readme_configuration_table_matches_the_settings_model() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), readme, re.DOTALL)

    assert match, f"README.md has no {START} … {END} block"
    assert match.group(1) == markdown_table(), "README table is stale: run `scalar-ray config docs` and paste it"


def test_every_setting_has_a_description() -> None:
    undocumented = [doc.env_var for doc in setting_docs() if not doc.description.strip()]

    assert undocumented == []


def test_secrets_are_marked_and_their_defaults_hidden() -> None:
    secrets = {doc.env_var for doc in setting_docs() if doc.secret}

    assert {
        "SCALAR_BROKER__AUTH_TOKEN",
        "SCALAR_WAREHOUSE__STARROCKS__PASSWORD",
        "SCALAR_CACHE__PASSWORD",
    } <= secrets
    assert all(doc.default in ("—", "(secret)") for doc in setting_docs() if doc.secret)


def test_sections_count_as_known_variables() -> None:
    names = setting_env_vars()

    assert {"SCALAR_BROKER", "SCALAR_PROVIDERS__ENTSOE", "SCALAR_PROVIDERS__ENTSOE__TOKEN"} <= names
    assert "SCALAR_PROVIDERS__ENTSOE__TOKEN__X" not in names
