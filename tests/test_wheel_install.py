"""The built wheel installs into a fresh virtual environment and works from outside the repo.

Slow (it builds a wheel, creates a venv and installs the dependencies from the package index,
then numba compiles the kernels from scratch), but it runs in CI: it is the one test that sees
the package as a user does. First without the ``[agents]`` extra or torch (the envs work, the
agents' commands say what to install), then with it, as README's first command installs it
(torch 2.13.0 first): a short ``train`` from a shipped config name and a ``compare``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TORCH = "2.13.0"  # the CPU build README's first command installs before the package
# what a build does not need: never copied into the build tree
NOT_BUILT = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "tests",
    "runs",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "*.nbi",
    "*.nbc",
    "*.pyc",
)

SMOKE = textwrap.dedent(
    """
    import importlib.metadata
    import importlib.util
    import sys

    import gymnasium as gym

    assert not [m for m in sys.modules if m.split(".")[0] == "mm_gym"], "mm_gym imported early"
    for env_id in ("mm_gym/MarketMaking-v0", "mm_gym/AvellanedaStoikov-v0"):
        env = gym.make("mm_gym:" + env_id)
        obs, info = env.reset(seed=0)
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs), (env_id, obs)
        print("ENV", env_id, type(env.unwrapped).__name__)

    import mm_gym

    vec = gym.make_vec(
        "mm_gym/MarketMaking-v0", num_envs=4, vectorization_mode="vector_entry_point"
    )
    obs, info = vec.reset(seed=0)
    obs, reward, terminated, truncated, info = vec.step(vec.action_space.sample())
    assert vec.observation_space.contains(obs)
    assert obs.shape == (4,) + vec.single_observation_space.shape
    print("VEC", type(vec).__name__)

    assert mm_gym.__version__ == importlib.metadata.version("mm-gym")
    assert "torch" not in sys.modules, "importing mm_gym imported torch"
    print("LOCATION", mm_gym.__file__)
    print("TORCH_INSTALLED", importlib.util.find_spec("torch") is not None)
    """
)


def run(cmd: list[str | Path], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the source tree, so the repo gets no build/ or egg-info writes."""
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=NOT_BUILT)
    dist = tmp_path / "dist"
    if importlib.util.find_spec("build") is not None:
        run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, src], timeout=600)
    else:
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, src], timeout=600)
    wheels = sorted(dist.glob("mm_gym-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_works_outside_the_repo(tmp_path: Path) -> None:
    started = time.perf_counter()
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        files = zf.namelist()
    top = {name.split("/")[0] for name in files}
    # the agents' code under a name of its own: no top-level "agents" to shadow another's
    assert top == {"mm_gym", "mm_gym_agents", wheel.name.split("-py")[0] + ".dist-info"}, top
    assert "mm_gym/configs/agents/best.yaml" in files  # the top-level configs/, shipped
    with zipfile.ZipFile(wheel) as zf:
        entry_points = zf.read(next(f for f in files if f.endswith("entry_points.txt"))).decode()
    assert "[mm_gym.commands]" in entry_points and "[mm_gym.tune_targets]" in entry_points

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    # the dependencies come from the package index (the pip cache makes it quick)
    run([python, "-m", "pip", "install", wheel], timeout=1200)
    run([python, "-m", "pip", "check"], timeout=120)
    installed = run([python, "-m", "pip", "list", "--format=freeze"], timeout=120).stdout
    names = {line.split("==")[0].lower() for line in installed.splitlines()}
    assert "mm-gym" in names or "mm_gym" in names
    assert not names & {"torch", "stable-baselines3", "stable_baselines3"}, installed

    work = tmp_path / "work"  # outside the repo, so the source tree cannot be imported
    work.mkdir()
    (work / "smoke.py").write_text(SMOKE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    # numba compiles every kernel from scratch here: allow minutes
    out = run([python, "smoke.py"], timeout=900, cwd=work, env=env).stdout
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    location = Path(lines["LOCATION"]).resolve()
    assert venv.resolve() in location.parents, f"mm_gym imported from {location}, not the venv"
    assert REPO not in location.parents
    assert lines["TORCH_INSTALLED"] == "False"
    assert lines["VEC"] == "MarketMakingVectorEnv"

    script = bin_dir / ("mm-gym.exe" if os.name == "nt" else "mm-gym")
    assert script.exists()
    help_text = run([script, "--help"], timeout=300, cwd=work, env=env).stdout
    assert help_text.startswith("usage: mm-gym")
    for command in ("bench", "backtest"):
        assert command in help_text

    # an agent command without the extra: one line naming what to install, exit 2
    proc = subprocess.run(
        [script, "train", "--config", "ppo"], capture_output=True, text=True, cwd=work, env=env
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "mm-gym[agents]" in proc.stderr, proc.stderr

    # README's first command, its Python-level steps: torch (CPU build) first, then the extra
    run([python, "-m", "pip", "install", f"torch=={TORCH}"], timeout=1200)
    run([python, "-m", "pip", "install", f"{wheel}[agents]"], timeout=1200)
    run([python, "-m", "pip", "check"], timeout=120)
    (work / "short.yaml").write_text("session_s: 16\n")
    common = ["--runs-dir", work / "runs"]
    run(
        [script, "train", "--config", "ppo", "--env-config", work / "short.yaml"]
        + ["--timesteps", "4096", "--run-name", "short", *common],
        timeout=900,
        cwd=work,
        env=env,
    )
    status = json.loads((work / "runs" / "short" / "status.json").read_text())
    assert status["state"] == "complete", status
    out = run(
        [script, "compare", work / "runs" / "short", "--episodes", "2", "--no-regimes"],
        timeout=900,
        cwd=work,
        env=env,
    ).stdout
    assert (work / "runs" / "short" / "report.md").is_file(), out
    print(f"wheel install test: {time.perf_counter() - started:.1f} s")
