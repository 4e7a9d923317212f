"""Agent against reference policies on the same seeds (common random numbers).

``MarketMaking-v0``: overall (regimes switching) and with the hidden regime pinned to each of
ranging, trending_up, trending_down, high_vol, against the rule baseline (``RuleBasedPolicy``:
the document's table in the detected regime), any tuned baselines (``--baseline FILE``: the
``baseline`` and ``strategy`` sections of an EnvConfig YAML, named by the file's stem) and, as
an ablation, the document's table in the true regime (``TrueRegimePolicy``).
``AvellanedaStoikov-v0``: against the closed-form CJP (optimal for the env's objective), GLFT
and AS agents. Every policy plays episode ``seed`` of the same market, so the paired
difference per seed removes the market's luck from the comparison.

Statistics, per condition and metric, on one seed set (a seed where any policy's value is
NaN is dropped for all of them; ``n`` says how many are left):

- one run: mean and t-interval per policy, paired t-test of agent - reference;
- several runs of one config (training seeds): each run's mean, and over runs x episodes the
  interquartile mean with a two-stage stratified bootstrap interval (runs, then episodes
  within runs), the mean paired difference with its bootstrap interval and p-value
  (Agarwal et al. 2021);
- both: the probability of improvement P(agent > reference) over the paired episodes with a
  bootstrap interval, the pairing variance ratio, and Holm-adjusted p-values across the
  conditions. Besides agent - reference, the references are paired with the baseline:
  true regime - baseline is what detection costs, tuned - baseline what the table costs.

Results go to ``compare/`` (CSV); ``agents.report`` turns them into ``report.md`` with plots.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agents.config import EVAL_SEED_BASE, TEST_SEED_BASE, AgentConfig
from agents.evaluate import SEED_KINDS, env_config_for, headline_metrics, seed_kind, test_seeds
from agents.run_dir import RunDir
from agents.vec_env import env_id_short
from mm_gym.config import load_yaml_mapping, resolve_config
from mm_gym.errors import ConfigError
from mm_gym.evaluation import EpisodeResults
from mm_gym.metrics import (
    holm as holm_adjusted,
)
from mm_gym.metrics import (
    improvement_scores,
    iqm,
    mean_ci,
    paired_difference,
    pairing_variance_ratio,
    sharpe,
    stratified_bootstrap_ci,
)

__all__ = [
    "AGENT",
    "BASELINE",
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "OVERALL",
    "REGIMES",
    "TRUE_REGIME",
    "Comparison",
    "compare_policies",
    "compare_run",
    "decompose",
    "load_baselines",
    "reference_policies",
    "tabulate",
]

AGENT = "agent"
BASELINE = "baseline"
TRUE_REGIME = "true_regime"
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
BASELINE_SECTIONS = ("baseline", "strategy")
MARKOUTS = ("markout_1s", "markout_10s", "markout_60s")
N_BOOT = 2000
_SEED_SUFFIX = re.compile(r"_seed\d+$")


def is_as(env_id: str) -> bool:
    return env_id_short(env_id) == "AvellanedaStoikov-v0"


def load_baselines(
    files: Sequence[str | Path], env_id: str, taken: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """``--baseline FILE``s: file stem -> the file's ``baseline``/``strategy`` sections.

    Each file must be a valid EnvConfig YAML with at least one of the two sections; its other
    sections are not used (the market and the episode are the run's). ``taken``: names in use.
    """
    if files and is_as(env_id):
        raise ConfigError("--baseline: AvellanedaStoikov-v0 has no rule baseline to tune")
    from mm_gym.envs.config import EnvConfig

    out: dict[str, dict[str, Any]] = {}
    for file in files:
        path = resolve_config("envs", file)  # a file, or a shipped env config's name
        data = load_yaml_mapping(path)
        sections = {k: data[k] for k in BASELINE_SECTIONS if k in data}
        if not sections:
            raise ConfigError(
                f"--baseline {path}: no 'baseline' or 'strategy' section "
                "(expected an EnvConfig YAML of a rule baseline)"
            )
        try:
            EnvConfig.from_dict(data)
        except ConfigError as err:
            raise ConfigError(f"--baseline {path}: {err}") from None
        name = path.stem
        if name in out or name in (AGENT, BASELINE, TRUE_REGIME, *taken):
            raise ConfigError(f"--baseline {path}: the name {name!r} is taken; rename the file")
        out[name] = sections
    return out


def reference_policies(
    env_id: str, env_config: Any, baselines: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, tuple[Any, Any]]:
    """Name -> (policy, the env config it plays on), the primary reference first.

    On the order-book market: the baseline, the tuned ``baselines`` (their sections merged into
    ``env_config``), and the true-regime ablation (the regime exposed, absolute actions: the
    market is the same).
    """
    if is_as(env_id):
        from mm_gym.envs.reference_policies import (
            AvellanedaStoikovPolicy,
            CJPPolicy,
            GLFTPolicy,
        )

        return {
            "CJP": (CJPPolicy(config=env_config), env_config),
            "GLFT": (GLFTPolicy(config=env_config), env_config),
            "AS": (AvellanedaStoikovPolicy(config=env_config), env_config),
        }
    from mm_gym.envs.baseline_policy import RuleBasedPolicy, TrueRegimePolicy

    out = {BASELINE: (RuleBasedPolicy(env_config), env_config)}
    for name, sections in (baselines or {}).items():
        tuned = env_config.replace(**sections)
        out[name] = (RuleBasedPolicy(tuned), tuned)
    exposed = env_config.replace(expose_regime=True, action_mode="absolute")
    out[TRUE_REGIME] = (TrueRegimePolicy(exposed), exposed)
    return out


def primary_metric(env_id: str) -> str:
    """The metric of the verdict: the env's objective (the sum of its rewards), the one the
    agent maximises; PnL and the rest are reported beside it."""
    return "episode_return"


@dataclasses.dataclass
class Comparison:
    """``results[condition][policy]``; ``summary`` (per condition, policy, metric: ``value``
    with its interval, ``estimator`` mean or iqm, ``n``) and ``paired`` (``policy`` -
    ``reference`` per condition and metric). ``agents``: the agent's keys in ``results``
    (``agent`` for one run, else the run names, pooled as ``agent`` in the tables)."""

    runs: list[RunDir]
    config: AgentConfig
    seeds: list[int]
    results: dict[str, dict[str, EpisodeResults]]
    summary: pd.DataFrame
    paired: pd.DataFrame
    agents: list[str]
    references: list[str]
    model: str = "final"
    metric: str | None = None
    holm: bool = False
    seed_kind: str = "test"
    out: Path | None = None
    decomposition: pd.DataFrame | None = None

    @property
    def multi(self) -> bool:
        """Several training runs of one config."""
        return len(self.agents) > 1

    @property
    def conditions(self) -> list[str]:
        return list(self.results)

    @property
    def primary(self) -> str:
        """The verdict's metric: ``metric`` if given, else ``primary_metric`` of the env."""
        return self.metric or primary_metric(self.config.env_id)

    @property
    def verdict_references(self) -> list[str]:
        """The references a verdict is given against: the rule baselines (not the true-regime
        ablation), or the optimal CJP agent on the AS market."""
        if is_as(self.config.env_id):
            return self.references[:1]
        return [r for r in self.references if r != TRUE_REGIME]

    @property
    def metrics(self) -> list[str]:
        cols = next(iter(self.results[OVERALL].values())).episodes.columns
        return [m for m in headline_metrics(self.config.env_id) if m in cols]

    def diff(self, condition: str, reference: str, metric: str, policy: str = AGENT) -> pd.Series:
        p = self.paired
        sel = (
            (p.condition == condition)
            & (p.policy == policy)
            & (p.reference == reference)
            & (p.metric == metric)
        )
        return p[sel].iloc[0]

    def stat(self, condition: str, policy: str, metric: str) -> pd.Series:
        s = self.summary
        sel = (s.condition == condition) & (s.policy == policy) & (s.metric == metric)
        return s[sel].iloc[0]


def compare_policies(
    config: AgentConfig,
    agents: Mapping[str, Any],
    seeds: list[int],
    *,
    regimes: bool = True,
    baselines: Mapping[str, Mapping[str, Any]] | None = None,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, dict[str, EpisodeResults]], list[str]]:
    """Run the agents and the references on every condition with the same seeds."""
    from agents.rollout import run_policy

    conditions: list[tuple[str, str | None]] = [(OVERALL, None)]
    if regimes and not is_as(config.env_id):
        conditions += [(r, r) for r in REGIMES]
    results: dict[str, dict[str, EpisodeResults]] = {}
    references: list[str] = []
    for name, regime in conditions:
        env_config = env_config_for(config, regime)
        refs = reference_policies(config.env_id, env_config, baselines)
        references = list(refs)
        plays = {**{k: (a, env_config) for k, a in agents.items()}, **refs}
        results[name] = {}
        for label, (policy, cfg) in plays.items():
            log(f"  {name:<14} {label:<12} {len(seeds)} episodes")
            results[name][label] = run_policy(
                config.env_id, cfg, policy, seeds, record_paths=(name == OVERALL)
            )
    return results, references


def _iqm_rows(a: np.ndarray) -> np.ndarray:
    return iqm(a, axis=-1)


def tabulate(
    results: dict[str, dict[str, EpisodeResults]],
    metrics: list[str],
    agents: list[str],
    references: list[str],
    pairs: list[tuple[str, str]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (condition, policy, metric) and per (condition, pair, metric), on one seed set per
    (condition, metric); see the module docstring. ``pairs``: (policy, reference), with
    ``AGENT`` standing for all ``agents`` pooled."""
    multi = len(agents) > 1
    rows: list[dict[str, Any]] = []
    pair_rows: list[dict[str, Any]] = []
    for cond, by_policy in results.items():
        for m in metrics:
            values = {p: res.episodes[m].to_numpy(dtype=float) for p, res in by_policy.items()}
            keep = np.logical_and.reduce([np.isfinite(v) for v in values.values()])
            values = {p: v[keep] for p, v in values.items()}
            groups = {p: [v] for p, v in values.items()}
            groups[AGENT] = [values[a] for a in agents]
            shown = (agents if multi else []) + [AGENT, *references]
            for policy in shown:
                row: dict[str, Any] = {"condition": cond, "policy": policy, "metric": m}
                if multi and policy not in agents:  # the IQM over runs x episodes
                    ci = stratified_bootstrap_ci(groups[policy], _iqm_rows, resample_groups=True)
                    row |= {"estimator": "iqm", "value": ci.estimate, "ci_low": ci.low}
                    row |= {"ci_high": ci.high, "n": ci.n}
                else:
                    t = mean_ci(values[policy])
                    row |= {"estimator": "mean", "value": t.mean, "ci_low": t.low}
                    row |= {"ci_high": t.high, "n": t.n}
                rows.append(row)
            for policy, ref in pairs:
                left, right = groups[policy], values[ref]
                row = {"condition": cond, "policy": policy, "reference": ref, "metric": m}
                if len(left) > 1:
                    ci = stratified_bootstrap_ci([v - right for v in left], resample_groups=True)
                    row |= {"test": "bootstrap", "diff": ci.estimate, "ci_low": ci.low}
                    row |= {"ci_high": ci.high, "p_value": ci.p_value, "n": ci.n}
                else:
                    d = paired_difference(left[0], right)
                    row |= {"test": "paired t", "diff": d.mean_diff, "ci_low": d.low}
                    row |= {"ci_high": d.high, "p_value": d.p_value, "n": d.n}
                poi = stratified_bootstrap_ci(
                    [improvement_scores(v, right) for v in left],
                    resample_groups=len(left) > 1,
                    null=0.5,
                )
                row |= {"poi": poi.estimate, "poi_low": poi.low, "poi_high": poi.high}
                row["var_ratio"] = pairing_variance_ratio(
                    np.concatenate(left), np.tile(right, len(left))
                )
                pair_rows.append(row)
    paired = pd.DataFrame(pair_rows)
    if not paired.empty:
        family = paired.groupby(["policy", "reference", "metric"], sort=False)["p_value"]
        paired["p_holm"] = family.transform(lambda p: holm_adjusted(p.to_numpy()))
    return pd.DataFrame(rows), paired


def decompose(
    results: dict[str, dict[str, EpisodeResults]], agents: list[str], session_s: float
) -> pd.DataFrame:
    """Where each policy's PnL comes from, per condition (means per episode; the agent's over
    all its runs): ``pnl = spread_captured + carry - fees``, so the inventory ``carry`` is
    ``pnl - spread_captured + fees``; the markouts (mean over episodes with fills); and
    ``sharpe_hourly``, the Sharpe ratio of the episode PnL across episodes, per hour."""
    rows = []
    for cond, by_policy in results.items():
        policies = {AGENT: agents, **{p: [p] for p in by_policy if p not in agents}}
        for policy, keys in policies.items():
            ep = pd.concat([by_policy[k].episodes for k in keys], ignore_index=True)
            row = {"condition": cond, "policy": policy, "episodes": len(ep)}
            for col in ("pnl", "spread_captured", "fees"):
                row[col] = float(ep[col].mean())
            row["carry"] = row["pnl"] - row["spread_captured"] + row["fees"]
            for col in MARKOUTS:
                row[col] = float(ep[col].mean()) if ep[col].notna().any() else np.nan
            row["sharpe_hourly"] = sharpe(ep["pnl"].to_numpy(dtype=float), session_s)
            rows.append(row)
    return pd.DataFrame(rows)


def _open_runs(paths: Sequence[str | Path]) -> tuple[list[RunDir], AgentConfig]:
    """The runs, and their config: one config, the training seed apart."""
    if not paths:
        raise ConfigError("compare: give at least one RUN")
    runs = [RunDir.open(p) for p in paths]
    names = [r.name for r in runs]
    if len(set(names)) < len(names):
        raise ConfigError(f"compare: run names {names} repeat; give each run once")
    configs = [r.config() for r in runs]
    first = configs[0].replace(seed=0).to_dict()
    for run, cfg in zip(runs[1:], configs[1:], strict=True):
        other = cfg.replace(seed=0).to_dict()
        for key in first:
            if other.get(key) != first.get(key):
                raise ConfigError(
                    f"run {str(run.path)!r}: its config differs from {str(runs[0].path)!r} "
                    f"in '{key}'; compare runs of one config (training seeds apart)"
                )
    return runs, configs[0]


def _check_seeds(seeds: list[int], allow_eval: bool, log: Callable[[str], None]) -> str:
    kind = seed_kind(seeds)
    span = f"seeds {seeds[0]}..{seeds[-1]}"
    if kind == "evaluation" and not allow_eval:
        raise ConfigError(
            f"--seed: {span} overlap the evaluation-callback seeds {EVAL_SEED_BASE}.."
            f"{TEST_SEED_BASE - 1} that picked the best model (training seeds are below "
            f"{EVAL_SEED_BASE}, test seeds from {TEST_SEED_BASE}); --allow-eval-seeds uses them"
        )
    if kind != "test":
        log(f"WARNING: {span} are {SEED_KINDS[kind]}; the report says so")
    return kind


def default_out(runs: list[RunDir]) -> Path:
    """The run's folder; for several runs ``<name without _seed<k>>_compare`` beside them."""
    if len(runs) == 1:
        return runs[0].path
    return runs[0].path.parent / f"{_SEED_SUFFIX.sub('', runs[0].name)}_compare"


def compare_run(
    run_path: str | Path | Sequence[str | Path],
    *,
    episodes: int = 32,
    seed: int | None = None,
    which: str = "final",
    regimes: bool = True,
    metric: str | None = None,
    baselines: Sequence[str | Path] = (),
    allow_eval_seeds: bool = False,
    holm: bool = False,
    out: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> Comparison:
    """Compare one run's agent (or several runs of one config) with the references on the
    same seeds; write the CSVs under ``out/compare`` (default ``default_out``).

    ``metric`` (default: ``episode_return``, the env's objective) decides the verdicts;
    ``baselines``: tuned baseline files; seeds of the evaluation callback are refused unless
    ``allow_eval_seeds``; ``holm``: verdicts on Holm-adjusted p-values.
    ``agents.report.compare_and_report`` adds ``report.md`` and its plots.
    """
    from agents.policy import load_policy

    paths = [run_path] if isinstance(run_path, str | Path) else list(run_path)
    runs, config = _open_runs(paths)
    allowed = [m for m in headline_metrics(config.env_id) if m in HIGHER_IS_BETTER]
    if metric is not None and metric not in allowed:
        raise ConfigError(f"--metric {metric}: allowed values are {', '.join(allowed)}")
    seeds = test_seeds(episodes, seed)
    kind = _check_seeds(seeds, allow_eval_seeds, log)
    keys = [AGENT] if len(runs) == 1 else [r.name for r in runs]
    tuned = load_baselines(baselines, config.env_id, taken=keys)
    agents = {k: load_policy(run, which) for k, run in zip(keys, runs, strict=True)}
    log(
        f"comparing {', '.join(r.name for r in runs)} ({which} model) on seeds "
        f"{seeds[0]}..{seeds[-1]}"
    )
    results, references = compare_policies(
        config, agents, seeds, regimes=regimes, baselines=tuned, log=log
    )
    metrics = [
        m for m in headline_metrics(config.env_id) if m in results[OVERALL][keys[0]].episodes
    ]
    pairs = [(AGENT, r) for r in references]
    if len(keys) > 1:  # each run against the primary reference
        pairs += [(k, references[0]) for k in keys]
    decomposition = None
    if not is_as(config.env_id):
        pairs += [(r, BASELINE) for r in references if r != BASELINE]
        decomposition = decompose(results, keys, config.env_config().session_s)
    summary, paired = tabulate(results, metrics, keys, references, pairs)
    folder = Path(out) if out is not None else default_out(runs)
    comp = Comparison(
        runs,
        config,
        seeds,
        results,
        summary,
        paired,
        keys,
        references,
        which,
        metric,
        holm,
        kind,
        folder,
        decomposition,
    )
    csv = folder / "compare"
    csv.mkdir(parents=True, exist_ok=True)
    summary.to_csv(csv / "summary.csv", index=False)
    paired.to_csv(csv / "paired.csv", index=False)
    if decomposition is not None:
        decomposition.to_csv(csv / "decomposition.csv", index=False)
    for cond, by_policy in results.items():
        for policy, res in by_policy.items():
            res.episodes.to_csv(csv / f"episodes_{cond}_{policy}.csv", index=False)
            res.per_regime.to_csv(csv / f"per_regime_{cond}_{policy}.csv")
    return comp
