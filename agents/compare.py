"""Agent against reference policies on the same seeds (common random numbers).

``MarketMaking-v0``: against the rule baseline (``RuleBasedPolicy``), overall (regimes
switching) and with the hidden regime pinned to each of ranging, trending_up, trending_down,
high_vol. ``AvellanedaStoikov-v0``: against the closed-form CJP (optimal for the env's
objective), GLFT and AS agents. Every policy plays episode ``seed`` of the same market, so the
paired difference agent - reference per seed removes the market's luck from the comparison.
Results go to ``compare/`` (CSV); ``agents.report`` turns them into ``report.md`` with plots.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from agents.config import AgentConfig
from agents.evaluate import env_config_for, headline_metrics, test_seeds
from agents.run_dir import RunDir
from agents.vec_env import env_id_short
from mm_gym.errors import ConfigError
from mm_gym.evaluation import EpisodeResults
from mm_gym.metrics import mean_ci, paired_difference

__all__ = [
    "AGENT",
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "OVERALL",
    "REGIMES",
    "Comparison",
    "compare_policies",
    "compare_run",
    "reference_policies",
]

AGENT = "agent"
REGIMES = ("ranging", "trending_up", "trending_down", "high_vol")
OVERALL = "overall"
LOWER_IS_BETTER = ("max_drawdown", "inventory_mean_abs", "inventory_max_abs", "fees", "stop_losses")
HIGHER_IS_BETTER = (
    "pnl",
    "episode_return",
    "sharpe",
    "fill_rate",
    "spread_captured",
    "markout_1s",
    "markout_10s",
    "markout_60s",
)


def is_as(env_id: str) -> bool:
    return env_id_short(env_id) == "AvellanedaStoikov-v0"


def reference_policies(env_id: str, env_config: Any) -> dict[str, Any]:
    """The policies an agent is compared with, the primary one first."""
    if is_as(env_id):
        from mm_gym.envs.reference_policies import (
            AvellanedaStoikovPolicy,
            CJPPolicy,
            GLFTPolicy,
        )

        return {
            "CJP": CJPPolicy(config=env_config),
            "GLFT": GLFTPolicy(config=env_config),
            "AS": AvellanedaStoikovPolicy(config=env_config),
        }
    from mm_gym.envs.baseline_policy import RuleBasedPolicy

    return {"baseline": RuleBasedPolicy(env_config)}


def primary_metric(env_id: str) -> str:
    """The metric of the verdict: the env's objective (the sum of its rewards), the one the
    agent maximises; PnL and the rest are reported beside it."""
    return "episode_return"


@dataclasses.dataclass
class Comparison:
    """``results[condition][policy]``; ``summary`` (mean and CI per condition, policy, metric)
    and ``paired`` (agent - reference per condition, reference, metric)."""

    run: RunDir | None
    config: AgentConfig
    seeds: list[int]
    results: dict[str, dict[str, EpisodeResults]]
    summary: pd.DataFrame
    paired: pd.DataFrame
    references: list[str]
    model: str = "final"
    metric: str | None = None

    @property
    def conditions(self) -> list[str]:
        return list(self.results)

    @property
    def primary(self) -> str:
        """The verdict's metric: ``metric`` if given, else ``primary_metric`` of the env."""
        return self.metric or primary_metric(self.config.env_id)

    @property
    def metrics(self) -> list[str]:
        cols = next(iter(self.results[OVERALL].values())).episodes.columns
        return [m for m in headline_metrics(self.config.env_id) if m in cols]

    def diff(self, condition: str, reference: str, metric: str) -> pd.Series:
        p = self.paired
        sel = (p.condition == condition) & (p.reference == reference) & (p.metric == metric)
        return p[sel].iloc[0]

    def stat(self, condition: str, policy: str, metric: str) -> pd.Series:
        s = self.summary
        sel = (s.condition == condition) & (s.policy == policy) & (s.metric == metric)
        return s[sel].iloc[0]


def compare_policies(
    config: AgentConfig,
    agent: Any,
    seeds: list[int],
    *,
    regimes: bool = True,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, dict[str, EpisodeResults]], list[str]]:
    """Run the agent and the references on every condition with the same seeds."""
    from agents.rollout import run_policy

    conditions: list[tuple[str, str | None]] = [(OVERALL, None)]
    if regimes and not is_as(config.env_id):
        conditions += [(r, r) for r in REGIMES]
    results: dict[str, dict[str, EpisodeResults]] = {}
    references: list[str] = []
    for name, regime in conditions:
        env_config = env_config_for(config, regime)
        policies = {AGENT: agent, **reference_policies(config.env_id, env_config)}
        references = [p for p in policies if p != AGENT]
        results[name] = {}
        for label, policy in policies.items():
            log(f"  {name:<14} {label:<9} {len(seeds)} episodes")
            results[name][label] = run_policy(
                config.env_id, env_config, policy, seeds, record_paths=(name == OVERALL)
            )
    return results, references


def tabulate(
    results: dict[str, dict[str, EpisodeResults]], metrics: list[str], references: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean/CI per (condition, policy, metric) and paired differences agent - reference."""
    rows, pairs = [], []
    for cond, by_policy in results.items():
        for policy, res in by_policy.items():
            for m in metrics:
                ci = mean_ci(res.episodes[m].to_numpy(dtype=float))
                rows.append(
                    {
                        "condition": cond,
                        "policy": policy,
                        "metric": m,
                        "mean": ci.mean,
                        "ci_low": ci.low,
                        "ci_high": ci.high,
                        "n": ci.n,
                    }
                )
        agent = by_policy[AGENT].episodes
        for ref in references:
            other = by_policy[ref].episodes
            for m in metrics:
                d = paired_difference(
                    agent[m].to_numpy(dtype=float), other[m].to_numpy(dtype=float)
                )
                pairs.append(
                    {
                        "condition": cond,
                        "reference": ref,
                        "metric": m,
                        "diff": d.mean_diff,
                        "ci_low": d.low,
                        "ci_high": d.high,
                        "p_value": d.p_value,
                        "n": d.n,
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(pairs)


def compare_run(
    run_path: str | Path,
    *,
    episodes: int = 32,
    seed: int | None = None,
    which: str = "final",
    regimes: bool = True,
    metric: str | None = None,
    log: Callable[[str], None] = print,
) -> Comparison:
    """Compare a run's agent with the references on the same seeds; write the CSVs.

    ``metric`` (default: ``episode_return``, the env's objective) decides the verdicts;
    ``agents.report.compare_and_report`` adds ``report.md`` and its plots.
    """
    from agents.policy import load_policy

    run = RunDir.open(run_path)
    config = run.config()
    allowed = [m for m in headline_metrics(config.env_id) if m in HIGHER_IS_BETTER]
    if metric is not None and metric not in allowed:
        raise ConfigError(f"--metric {metric}: allowed values are {', '.join(allowed)}")
    seeds = test_seeds(episodes, seed)
    agent = load_policy(run, which)
    log(f"comparing {run.name} ({which} model) on seeds {seeds[0]}..{seeds[-1]}")
    results, references = compare_policies(config, agent, seeds, regimes=regimes, log=log)
    metrics = [
        m for m in headline_metrics(config.env_id) if m in results[OVERALL][AGENT].episodes.columns
    ]
    summary, paired = tabulate(results, metrics, references)
    comp = Comparison(run, config, seeds, results, summary, paired, references, which, metric)
    out = run.path / "compare"
    out.mkdir(exist_ok=True)
    summary.to_csv(out / "summary.csv", index=False)
    paired.to_csv(out / "paired.csv", index=False)
    for cond, by_policy in results.items():
        for policy, res in by_policy.items():
            res.episodes.to_csv(out / f"episodes_{cond}_{policy}.csv", index=False)
            res.per_regime.to_csv(out / f"per_regime_{cond}_{policy}.csv")
    return comp
