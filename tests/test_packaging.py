"""pyproject's package list: every package folder of the source is installed, under its name."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def source_packages() -> dict[str, Path]:
    """Installed package name -> its folder, from the folders holding ``__init__.py``."""
    roots = {"mm_gym": REPO / "mm_gym"} | {
        name: REPO / folder for name, folder in SETUPTOOLS["package-dir"].items()
    }
    found = {}
    for name, root in roots.items():
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root).parts
            found[".".join((name, *rel))] = init.parent
    return found


def test_every_package_folder_is_listed_and_every_listed_package_exists():
    listed = set(SETUPTOOLS["packages"])
    found = source_packages()
    assert listed == set(found), (
        f"missing from pyproject: {sorted(set(found) - listed)}; "
        f"listed without a folder: {sorted(listed - set(found))}"
    )


def test_the_agents_install_under_a_name_of_their_own():
    assert SETUPTOOLS["package-dir"]["mm_gym_agents"] == "agents"
    assert "agents" not in SETUPTOOLS["packages"]


def test_the_agents_commands_are_entry_points_of_mm_gym():
    groups = PYPROJECT["project"]["entry-points"]
    assert all(v.startswith("mm_gym_agents.") for v in groups["mm_gym.commands"].values())
    assert groups["mm_gym.tune_targets"]["agent"].startswith("mm_gym_agents.")
