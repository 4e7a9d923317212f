"""Evaluate a trained run: the deterministic policy on held-out test seeds, batched.

Seeds are ``seed, seed + 1, ...`` with ``seed`` defaulting to the development family's first
(``mm_gym.evaluation.seeds``: disjoint from training and evaluation-callback markets); the
output says which family a set falls in.
``regime`` pins the market's hidden regime (``EnvConfig.market.pin_regime``). Writes
``eval/<model>_<regime|all>_episodes.csv`` and ``..._summary.csv`` under the run and returns
the summary table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from mm_gym.envs.registration import env_entry
from mm_gym.errors import ConfigError
from mm_gym.evaluation.episodes import EpisodeResults, summarize
from mm_gym.evaluation.rollout import AS_COLUMNS
from mm_gym.evaluation.seeds import DEV_SEED_BASE, FAMILIES, seed_family
from mm_gym.market.regimes import regime_index
from mm_gym_agents.config import AgentConfig
from mm_gym_agents.run_dir import RunDir

__all__ = [
    "AS_METRICS",
    "MM_METRICS",
    "EvalOutput",
    "env_config_for",
    "evaluate_run",
    "format_summary",
    "headline_metrics",
    "test_seeds",
]

MM_METRICS = (
    "pnl",
    "episode_return",
    "sharpe",
    "max_drawdown",
    "fills",
    "fill_rate",
    "spread_captured",
    "fees",
    "markout_1s",
    "markout_10s",
    "markout_60s",
    "inventory_mean_abs",
    "inventory_max_abs",
    "time_quoting",
    "stop_losses",
)
AS_METRICS = tuple(c for c in AS_COLUMNS if c not in ("seed", "steps"))


def headline_metrics(env_id: str) -> tuple[str, ...]:
    return MM_METRICS if env_entry(env_id).engine == "order_book" else AS_METRICS


def env_config_for(config: AgentConfig, regime: str | None = None) -> Any:
    """The run's env config, with the hidden regime pinned when asked."""
    env_config = config.env_config()
    if regime is None:
        return env_config
    entry = env_entry(config.env_id)
    if not entry.regimes:
        raise ConfigError(f"--regime {regime}: the {entry.short} market has no regimes")
    regime_index(regime, field="--regime")
    return env_config.replace(market={"pin_regime": regime})


def test_seeds(episodes: int, seed: int | None = None) -> list[int]:
    """``episodes`` consecutive seeds from ``seed`` (default: the development family's)."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ConfigError(f"--episodes={episodes!r}: expected an integer >= 1")
    base = DEV_SEED_BASE if seed is None else seed
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise ConfigError(f"--seed={seed!r}: expected an integer >= 0")
    return list(range(base, base + episodes))


def format_summary(summary: pd.DataFrame) -> str:
    """``metric  mean  [ci_low, ci_high]`` as an aligned text table."""
    lines = [f"{'metric':<20} {'mean':>12}   {'95% CI':<27}"]
    for metric, row in summary.iterrows():
        ci = f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
        lines.append(f"{metric:<20} {row['mean']:>12.4g}   {ci:<27}")
    return "\n".join(lines)


@dataclasses.dataclass
class EvalOutput:
    results: EpisodeResults
    summary: pd.DataFrame
    episodes_csv: Path
    summary_csv: Path


def evaluate_run(
    run_path: str | Path,
    *,
    episodes: int = 32,
    seed: int | None = None,
    regime: str | None = None,
    which: str = "final",
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> EvalOutput:
    """Evaluate a run's model; prints a table and where the CSVs went."""
    from mm_gym.evaluation.rollout import run_policy
    from mm_gym_agents.policy import load_policy

    run = RunDir.open(run_path)
    config = run.config()
    env_config = env_config_for(config, regime)
    seeds = test_seeds(episodes, seed)
    family = seed_family(seeds)
    if family not in FAMILIES:
        log(f"WARNING: seeds {seeds[0]}..{seeds[-1]} are {family} seeds, not a scoring family")
    policy = load_policy(run, which)
    results = run_policy(config.env_id, env_config, policy, seeds, progress=progress)
    metrics = [m for m in headline_metrics(config.env_id) if m in results.episodes.columns]
    summary = summarize(results.episodes, metrics)
    out = run.path / "eval"
    out.mkdir(exist_ok=True)
    tag = f"{which}_{regime or 'all'}"
    episodes_csv = out / f"{tag}_episodes.csv"
    summary_csv = out / f"{tag}_summary.csv"
    results.episodes.to_csv(episodes_csv, index=False)
    summary.to_csv(summary_csv)
    log(
        f"{run.name}: {which} model, {len(seeds)} episodes, seeds {seeds[0]}..{seeds[-1]}, "
        f"regime {regime or ('-' if config.env_id.startswith('Avellaneda') else 'switching')}"
    )
    log(format_summary(summary))
    log(f"episodes: {episodes_csv}\nsummary:  {summary_csv}")
    return EvalOutput(results, summary, episodes_csv, summary_csv)
