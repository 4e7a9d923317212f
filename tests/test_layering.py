"""The import layering of the code, read from the source (every import, at any depth).

Each top-level module and subpackage of ``mm_gym`` is a unit; a unit may import only the
units listed under it in ``ALLOWED`` (a new unit fails until it is placed). From the bottom:
``errors`` <- ``config`` <- ``strategy`` <- ``market`` <- ``envs`` (and ``rendering``, pure
drawing) <- ``evaluation`` <- ``tuning`` <- ``commands`` <- ``cli``; the agents' package
(``agents/``, installed as ``mm_gym_agents``) sits above all of them. ``mm_gym`` never
imports or names the agents' package, torch, Stable-Baselines3 or Ray, and no two modules import
each other (directly or around a longer circle).

Imports given as strings count: ``importlib.import_module("x")``, ``import_module("x")`` and
``__import__("x")`` with a constant name are imports of ``x``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# source folder -> the package name it installs as (pyproject's package-dir)
SOURCES = {"mm_gym": "mm_gym", "agents": "mm_gym_agents", "configs": "mm_gym.configs"}
AGENTS = "mm_gym_agents"
FORBIDDEN_IN_MM_GYM = (AGENTS, "agents", "torch", "stable_baselines3", "sb3_contrib", "ray")
NAMES_AGENTS = re.compile(r"^(mm_gym_agents(\.|:|$)|agents\.)")  # not "agents", a config kind
STRING_IMPORTS = ("import_module", "__import__")

BASE = {"mm_gym.errors", "mm_gym.config", "mm_gym.configs"}
ENVS = BASE | {"mm_gym.strategy", "mm_gym.data", "mm_gym.market", "mm_gym.rendering", "mm_gym.envs"}
# each unit of mm_gym may import only the units listed (besides itself)
ALLOWED = {
    "mm_gym.errors": set(),
    "mm_gym.configs": set(),  # the YAML files' package
    "mm_gym.config": {"mm_gym.errors", "mm_gym.configs"},
    "mm_gym.strategy": BASE,
    "mm_gym.data": BASE,  # recordings: readers, the event schema, Parquet
    "mm_gym.market": BASE | {"mm_gym.strategy", "mm_gym.data"},
    "mm_gym.rendering": BASE,  # draws snapshots of plain numbers; the envs fill them
    "mm_gym.envs": ENVS - {"mm_gym.envs"},
    "mm_gym.evaluation": ENVS,
    "mm_gym.tuning": ENVS | {"mm_gym.evaluation"},
    "mm_gym.commands": ENVS | {"mm_gym.evaluation", "mm_gym.tuning"},
    "mm_gym.cli": {"mm_gym.errors", "mm_gym.commands"},
    "mm_gym.cli_reference": {"mm_gym.cli"},  # the CLI reference page, from the parsers
    "mm_gym": {"mm_gym.errors", "mm_gym.envs"},  # the package's __init__: registers the envs
    "mm_gym.multi_maker_v0": {"mm_gym.envs"},  # PettingZoo's module convention for an env
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    parts[0] = SOURCES[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _string_import(node: ast.AST) -> str | None:
    """``x`` of ``importlib.import_module("x")``, ``import_module("x")``, ``__import__("x")``."""
    if not (isinstance(node, ast.Call) and node.args):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    arg = node.args[0]
    if name in STRING_IMPORTS and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def imported_modules(path: Path, name: str | None = None) -> set[str]:
    """Every module that ``path`` (module ``name``, by default its name in the repo) imports:
    absolute names, ``from a import b`` giving ``a.b`` too, string imports included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = name or module_name(path)
    package = name.rsplit(".", 1)[0] if path.name != "__init__.py" else None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or name).split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (target := _string_import(node)) is not None:
            found.add(target)
    return found


def strings_naming_agents(path: Path) -> set[str]:
    """String constants that name the agents' package (a module path or entry point)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and NAMES_AGENTS.match(node.value)
    }


def repo_modules() -> dict[str, Path]:
    mods = {}
    for folder in SOURCES:
        for path in sorted((REPO / folder).rglob("*.py")):
            mods[module_name(path)] = path
    return mods


MODULES = repo_modules()
GRAPH = {
    name: {m for m in imported_modules(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}
MM_GYM = [n for n in MODULES if n.split(".")[0] == "mm_gym"]


def unit(name: str) -> str:
    """The layering unit of a module: ``mm_gym`` itself, a top-level module of it, one of its
    subpackages, or the agents' package."""
    parts = name.split(".")
    if parts[0] != "mm_gym":
        return parts[0]
    return ".".join(parts[:2])


def test_the_graph_was_read():
    assert "mm_gym.market.refresh" in MODULES and f"{AGENTS}.train" in MODULES
    assert "mm_gym.strategy.quoting" in GRAPH["mm_gym.market.refresh"]
    assert "mm_gym.commands.tune" in GRAPH["mm_gym.cli"]


def test_every_unit_has_a_place():
    assert {unit(n) for n in MM_GYM} <= set(ALLOWED)


@pytest.mark.parametrize("name", MM_GYM)
def test_mm_gym_never_imports_agents_torch_or_sb3(name):
    bad = {m for m in imported_modules(MODULES[name]) if m.split(".")[0] in FORBIDDEN_IN_MM_GYM}
    assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", MM_GYM)
def test_mm_gym_never_names_the_agents_package(name):
    named = strings_naming_agents(MODULES[name])
    assert not named, f"{name} names the agents' package in strings {sorted(named)}"


@pytest.mark.parametrize("name", MM_GYM)
def test_units_import_only_those_below(name):
    own = unit(name)
    others = {unit(m) for m in GRAPH[name]} - {own}
    assert others <= ALLOWED[own], (
        f"{name} imports {sorted(others - ALLOWED[own])}; "
        f"{own} may import only {sorted(ALLOWED[own]) or 'no other unit'}"
    )


def test_no_two_units_import_each_other():
    edges = {(unit(a), unit(b)) for a, targets in GRAPH.items() for b in targets}
    edges = {e for e in edges if e[0] != e[1]}
    both_ways = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    assert not both_ways, f"units importing each other: {both_ways}"


def test_no_import_cycles_between_modules():
    """A module never reaches itself through the imports of others (function-level too)."""
    cycles = []
    for start in GRAPH:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in GRAPH[node]:
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles))[:10])


def test_a_string_import_is_seen(tmp_path):
    """The reader sees ``import_module("...")`` and ``__import__("...")``."""
    src = tmp_path / "probe.py"
    src.write_text(
        "import importlib\n"
        "def f():\n"
        "    importlib.import_module('mm_gym_agents.train')\n"
        "    __import__('torch')\n"
    )
    assert {"mm_gym_agents.train", "torch", "importlib"} <= imported_modules(src, "probe")
