"""``mm-gym demo``: train the strongest shipped agent config (``best``) briefly on the default
market and compare it with the baseline.

Sized for a 2-core laptop (well under ten minutes). Deterministic given ``--seed``: torch,
NumPy and Python generators are seeded, torch runs on a fixed number of threads, training
markets are spawned from ``seed`` and the comparison plays the development seeds.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mm_gym.config import resolve_config
from mm_gym.errors import RunError
from mm_gym_agents.config import AgentConfig
from mm_gym_agents.run_dir import RunDir, check_run_name

__all__ = ["DEMO_AGENT", "demo_config", "demo_run_dir", "run_demo"]

DEMO_AGENT = "best"  # the shipped config README names as the strongest
DEMO_TIMESTEPS = 3_000_000
# what the demo changes in it: shorter, no held-out evaluation or checkpoints, both cores
DEMO_OVERRIDES: dict[str, Any] = {
    "eval_freq": 0,
    "checkpoint_freq": 0,
    "torch_threads": 1,
    "env_threads": 2,
    "device": "cpu",
}
DEMO_EPISODES = 16


def demo_config(
    timesteps: int | None = None, seed: int = 0, env_overrides: dict[str, Any] | None = None
) -> AgentConfig:
    """The demo's AgentConfig: the shipped ``best`` config, ``DEMO_TIMESTEPS`` long (or
    ``timesteps``), with ``env_overrides`` (EnvConfig changes, e.g. for tests)."""
    best = AgentConfig.from_yaml(resolve_config("agents", DEMO_AGENT))
    steps = DEMO_TIMESTEPS if timesteps is None else timesteps
    config = best.replace(**DEMO_OVERRIDES, seed=seed, total_timesteps=steps)
    return config.with_env(env_overrides or {})


def demo_run_dir(
    out: Path, name: str, config: AgentConfig, replace: bool, log: Callable[[str], None]
) -> RunDir | None:
    """The demo's own folder ``out/name`` when a finished demo with this config can be reused;
    else None, after removing an unfinished (or, with ``replace``, any) demo run there."""
    path = out / name
    if not path.exists():
        return None
    try:
        run = RunDir.open(path)
    except RunError:
        raise RunError(
            f"{str(path)!r} exists and is not a demo run folder; move it or choose --out"
        ) from None
    if run.is_complete and not replace:
        if run.config().to_dict() == config.resolved().to_dict():
            log(f"reusing the trained demo run {path} (--replace trains it again)")
            return run
        raise RunError(
            f"{str(path)!r} holds a demo trained with other settings; "
            "pass --replace to train it again, or choose --out"
        )
    state = run.status().get("state")
    log(f"replacing the {'demo' if replace else state} run {path}")
    shutil.rmtree(path)
    return None


def run_demo(
    *,
    timesteps: int | None = None,
    seed: int = 0,
    out: str | Path = "runs",
    episodes: int = DEMO_EPISODES,
    progress_bar: bool = True,
    replace: bool = False,
    log: Callable[[str], None] = print,
    env_overrides: dict[str, Any] | None = None,
) -> Path:
    """Train (or reuse a finished demo run of the same config), compare, and return the path
    of ``report.md``. The run folder is ``out/demo_seed<seed>``: an unfinished one there is
    replaced, a finished one reused; ``replace=True`` trains it again."""
    from mm_gym_agents.report import compare_and_report
    from mm_gym_agents.train import train

    t0 = time.perf_counter()
    config = demo_config(timesteps, seed, env_overrides)
    out = Path(out)
    name = check_run_name(f"demo_seed{seed}")
    run = demo_run_dir(out, name, config, replace, log)
    if run is None:
        run = train(config, run_name=name, runs_dir=out, progress_bar=progress_bar, log=log).run
    t_train = time.perf_counter() - t0
    _, report = compare_and_report(run.path, episodes=episodes, progress=progress_bar, log=log)
    total = time.perf_counter() - t0
    log(
        f"demo done in {total:.0f} s (training {t_train:.0f} s, comparison {total - t_train:.0f} s)"
    )
    log(f"report: {report}")
    return report
