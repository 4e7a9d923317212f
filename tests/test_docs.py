"""The documentation: the site builds with every link and anchor valid, and README stays a
short front page whose code runs."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
MAX_README_LINES = 120
# the API reference's pages: each names what it documents by "::: module.path" lines
API_TARGETS = sorted(
    (page.name, line.removeprefix(":::").strip())
    for page in (REPO / "docs" / "api").glob("*.md")
    for line in page.read_text().splitlines()
    if line.startswith(":::")
)


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="the dev extra installs mkdocs")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "index.html").is_file() and (tmp_path / "environments" / "index.html")
    assert (
        'id="mm_gym.envs.registration.EnvEntry"'
        in (tmp_path / "api" / "envs" / "index.html").read_text()
    ), "the API reference is generated from the docstrings"


def test_every_page_is_in_the_navigation():
    nav = (REPO / "mkdocs.yml").read_text()
    docs = REPO / "docs"
    pages = {p.relative_to(docs).as_posix() for p in docs.glob("**/*.md")}
    assert pages == set(re.findall(r":\s*([\w./-]+\.md)", nav))


def test_the_api_reference_documents_the_packages():
    assert {page for page, _ in API_TARGETS} >= {"envs.md", "evaluation.md", "agents.md"}
    assert all(t.startswith(("mm_gym.", "mm_gym_agents.")) for _, t in API_TARGETS)


@pytest.mark.parametrize(("page", "target"), API_TARGETS)
def test_the_api_pages_name_importable_objects(page, target):
    if target.startswith("mm_gym_agents"):
        pytest.importorskip("torch", reason="the agents' modules need the agents extra")
        pytest.importorskip("stable_baselines3", reason="the agents' modules need SB3")
    try:
        importlib.import_module(target)
    except ModuleNotFoundError as exc:  # not a module: an object of its parent module
        if exc.name != target:
            raise
        module, _, name = target.rpartition(".")
        assert hasattr(importlib.import_module(module), name), f"docs/api/{page}: no {target}"


def test_readme_is_a_short_front_page():
    assert len(README.splitlines()) <= MAX_README_LINES
    for path in re.findall(r"`((?:docs|configs)/[\w./-]+)`", README):
        assert (REPO / path).exists(), f"README names {path}, which does not exist"


def test_readmes_python_snippets_run():
    """Every Python block of README, one after the other in one process."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2  # the single env, and several makers in one book
    code = "\n".join(blocks)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    from mm_gym.market.regimes import LABEL_NAMES

    assert proc.stdout.split()[0] in LABEL_NAMES


def test_the_data_page_documents_every_column_and_kind():
    from mm_gym.data.schema import COLUMNS, KINDS

    page = (REPO / "docs" / "data.md").read_text()
    assert all(f"`{c}`" in page for c in COLUMNS)
    assert all(name in page for name in KINDS.values())


def test_the_cli_reference_is_what_the_parsers_say():
    pytest.importorskip("mm_gym_agents")  # the page lists the agents' commands too
    from mm_gym.cli import build_parser
    from mm_gym.cli_reference import cli_reference

    page = (REPO / "docs" / "cli.md").read_text()
    assert page == cli_reference(build_parser()), (
        "docs/cli.md is stale: python -m mm_gym.cli_reference > docs/cli.md"
    )
    for command in ("backtest", "facts", "data convert", "train", "compare", "tune agent"):
        assert f"mm-gym {command}\n" in page


def test_the_results_page_holds_readmes_generated_results():
    pytest.importorskip("mm_gym_agents")
    from mm_gym_agents.results import BEGIN, END

    def block(path):
        text = path.read_text()
        assert BEGIN in text and END in text, path
        return text.split(BEGIN, 1)[1].split(END, 1)[0]

    page = block(REPO / "docs" / "results.md")
    assert "**Final family**" in page and "**Replication family**" in page
    assert page == block(REPO / "README.md")


DOC_PAGES_WITH_PYTHON = sorted(
    p.relative_to(REPO).as_posix()
    for p in (REPO / "docs").rglob("*.md")
    if "```python" in p.read_text()
)


@pytest.mark.slow
@pytest.mark.parametrize("page", DOC_PAGES_WITH_PYTHON)
def test_every_python_block_of_the_docs_runs(page):
    """A page's Python blocks run one after the other in one process, as a reader pastes them
    (a later block may use an earlier one's names)."""
    text = (REPO / page).read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    if "stable_baselines3" in code:
        pytest.importorskip("stable_baselines3", reason="the agents extra runs this page")
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert proc.returncode == 0, f"{page}: {proc.stderr[-2000:]}"
