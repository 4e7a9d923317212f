"""The import layering of the package, read from the source (every import, at any depth).

``strategy`` <- ``market`` <- ``envs`` <- evaluation, commands <- ``agents`` (and
``rendering``, pure drawing, below ``envs``): no subpackage of
``mm_gym`` imports one above it, no two import each other, ``mm_gym`` never imports
``agents``, torch or Stable-Baselines3, and no two modules import each other (directly or
around a longer circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("mm_gym", "agents")
FORBIDDEN_IN_MM_GYM = ("agents", "torch", "stable_baselines3", "sb3_contrib")
# each subpackage of mm_gym may import only the subpackages listed (besides itself)
ALLOWED_BELOW = {
    "mm_gym.strategy": set(),
    "mm_gym.market": {"mm_gym.strategy"},
    "mm_gym.rendering": set(),  # draws snapshots of plain numbers; the envs fill them
    "mm_gym.envs": {"mm_gym.strategy", "mm_gym.market", "mm_gym.rendering"},
    "mm_gym.tuning": {"mm_gym.strategy", "mm_gym.market", "mm_gym.envs"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module that ``path`` imports (absolute names; ``from a import b`` gives ``a.b``
    when ``a.b`` is a module of the repo, else ``a``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or module_name(path)).split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def repo_modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            mods[module_name(path)] = path
    return mods


MODULES = repo_modules()
GRAPH = {
    name: {m for m in imported_modules(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def subpackage(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "mm_gym" and len(parts) > 2:
        return ".".join(parts[:2])
    return None


def test_the_graph_was_read():
    assert "mm_gym.market.kernel" in MODULES and "agents.train" in MODULES
    assert "mm_gym.strategy.quoting" in GRAPH["mm_gym.market.kernel"]


@pytest.mark.parametrize("name", [n for n in MODULES if n.split(".")[0] == "mm_gym"])
def test_mm_gym_never_imports_agents_torch_or_sb3(name):
    bad = {m for m in imported_modules(MODULES[name]) if m.split(".")[0] in FORBIDDEN_IN_MM_GYM}
    assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", [n for n in MODULES if subpackage(n) in ALLOWED_BELOW])
def test_subpackages_import_only_those_below(name):
    own = subpackage(name)
    others = {subpackage(m) for m in GRAPH[name]} - {own, None}
    assert others <= ALLOWED_BELOW[own], (
        f"{name} imports {sorted(others - ALLOWED_BELOW[own])}; "
        f"{own} may import only {sorted(ALLOWED_BELOW[own]) or 'no other subpackage'}"
    )


def test_no_two_subpackages_import_each_other():
    edges = {
        (subpackage(a), subpackage(b))
        for a, targets in GRAPH.items()
        for b in targets
        if subpackage(a) and subpackage(b) and subpackage(a) != subpackage(b)
    }
    both_ways = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    assert not both_ways, f"subpackages importing each other: {both_ways}"


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
