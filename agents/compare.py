"""Agent against reference policies on the same seeds (common random numbers).

``MarketMaking-v0``: overall (regimes switching) and with the hidden regime pinned to each of
ranging, trending_up, trending_down, high_vol, against the rule baseline (``RuleBasedPolicy``:
the document's table in the detected regime), any tuned baselines (``--baseline FILE``: the
``baseline`` and ``strategy`` sections of an EnvConfig YAML, named by the file's stem) and, as
an ablation, the document's table in the true regime (``TrueRegimePolicy``).
``AvellanedaStoikov-v0``: against the closed-form CJP (optimal for the env's objective), GLFT
and AS agents. Every policy plays episode ``seed`` of the same market, so the paired
difference per seed removes the market's luck from the comparison.

Protocol (``mm_gym.evaluation.protocol``, ``mm_gym.evaluation.seeds``): training run ``k``
(in the order given) plays its own block of seeds of one family (development by default;
final or replication for a claim), and every reference plays the same block, so pairing
happens inside the block.
Per condition and metric (a seed where any policy's value is NaN is dropped, in its block,
for all of them):

- each policy: the mean over runs of its per-block means, with Student's t interval over
  runs (over seeds with one run), and rliable's IQM of the per-run means;
- agent - reference: the mean of the per-run differences (so the tables' columns subtract),
  the t interval over runs with ``k - 1`` degrees of freedom and its p-value, a hierarchical
  bootstrap interval beside it (runs, then seeds), the share of runs the agent wins, and
  rliable's probability of improvement over the per-run means; the pairing variance ratio;
  Holm-adjusted p-values across the conditions. Besides agent - reference, the references
  are paired with the baseline: true regime - baseline is what detection costs, tuned -
  baseline what the table costs.

Results go to ``compare/`` (CSV); ``agents.report`` turns them into ``report.md`` with plots.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.config import load_yaml_mapping, resolve_config
from mm_gym.envs.registration import EnvEntry, env_entry
from mm_gym.errors import ConfigError
from mm_gym.evaluation.episodes import EpisodeResults
from mm_gym.evaluation.metrics import holm as holm_adjusted
from mm_gym.evaluation.metrics import pairing_variance_ratio, sharpe
from mm_gym.evaluation.protocol import difference_over_runs, estimate_over_runs
from mm_gym.evaluation.seeds import (
    CLAIM_FAMILIES,
    DEV_SEED_BASE,
    FAMILIES,
    FINAL_SEED_BASE,
    REPLICATION_SEED_BASE,
    block_seeds,
    seed_family,
)
from mm_gym_agents.config import AgentConfig
from mm_gym_agents.evaluate import env_config_for, headline_metrics
from mm_gym_agents.run_dir import RunDir
from mm_gym_agents.workers import check_workers, job_pool

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
_SEED_SUFFIX = re.compile(r"_seed\d+$")


def load_baselines(
    files: Sequence[str | Path], env_id: str, taken: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """``--baseline FILE``s: file stem -> the file's ``baseline``/``strategy`` sections.

    Each file must be a valid EnvConfig YAML with at least one of the two sections; its other
    sections are not used (the market and the episode are the run's). ``taken``: names in use.
    """
    entry = env_entry(env_id)
    if files and not entry.rule_baseline:
        raise ConfigError(f"--baseline: {entry.short} has no rule baseline to tune")
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
    market is the same; not on a recording, whose regime is unknown).
    """
    entry = env_entry(env_id)
    if not entry.rule_baseline:
        return {
            name: (cls(config=env_config), env_config)
            for name, cls in entry.reference_classes().items()
        }
    from mm_gym.envs.baseline_policy import RuleBasedPolicy, TrueRegimePolicy

    out = {BASELINE: (RuleBasedPolicy(env_config), env_config)}
    for name, sections in (baselines or {}).items():
        tuned = env_config.replace(**sections)
        out[name] = (RuleBasedPolicy(tuned), tuned)
    if env_config.data is None:  # a recording's regime is not known
        exposed = env_config.replace(expose_regime=True, action_mode="absolute")
        out[TRUE_REGIME] = (TrueRegimePolicy(exposed), exposed)
    return out


@dataclasses.dataclass
class Comparison:
    """``results[condition][policy]``; ``summary`` (per condition, policy, metric: ``value``,
    the mean over runs of per-block means, with its interval, the ``iqm`` of the per-run
    means, ``runs``, ``n``) and ``paired`` (``policy`` - ``reference`` per condition and
    metric, ``mm_gym.evaluation.protocol.RunsDifference``'s fields). ``agents``: the agent's keys in
    ``results`` (``agent`` for one run, else the run names, pooled as ``agent`` in the
    tables); ``blocks``: each key's seeds (the references played all of them); ``family``:
    the seeds' family (``mm_gym.evaluation.seeds``)."""

    runs: list[RunDir]
    config: AgentConfig
    blocks: dict[str, list[int]]
    results: dict[str, dict[str, EpisodeResults]]
    summary: pd.DataFrame
    paired: pd.DataFrame
    agents: list[str]
    references: list[str]
    model: str = "final"
    metric: str | None = None
    holm: bool = False
    family: str = "development"
    out: Path | None = None
    decomposition: pd.DataFrame | None = None

    @property
    def seeds(self) -> list[int]:
        """Every block's seeds, run after run."""
        return [s for block in self.blocks.values() for s in block]

    @property
    def claim(self) -> bool:
        """Whether the seeds are of a family on which a result is stated as a claim (never on
        a recording: its windows are not independent markets)."""
        return self.family in CLAIM_FAMILIES and self.recording is None

    @property
    def recording(self) -> str | None:
        """The recording played instead of the simulated market (``--data``), if any."""
        return getattr(self.config.env_config(), "data", None)

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
        return self.metric or self.env.primary_metric

    @property
    def env(self) -> EnvEntry:
        """What the compared env supports (``mm_gym.envs.registration``)."""
        return env_entry(self.config.env_id)

    @property
    def verdict_references(self) -> list[str]:
        """The references a verdict is given against: the rule baselines (not the true-regime
        ablation), or the optimal CJP agent on the AS market."""
        if not self.env.rule_baseline:
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


PATH_EPISODES = 64
"""Episodes per policy whose per-step paths a comparison keeps for its plots."""


def compare_policies(
    config: AgentConfig,
    agents: Mapping[str, tuple[Path, str]],
    blocks: Mapping[str, list[int]],
    *,
    regimes: bool = True,
    baselines: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int = 1,
    ray: str | None = None,
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, dict[str, EpisodeResults]], list[str]]:
    """Each agent (key -> its run folder and model) on its own block of seeds (``blocks``,
    same keys), every reference on all the blocks (so on each agent's own seeds), on every
    condition. Each (condition, policy) is one job; ``workers`` > 1 plays the jobs side by
    side in processes, the longest first, and ``ray`` (a cluster's address, or ``auto``) as
    tasks on that Ray cluster: the same results (every episode is fixed by its seed).
    ``progress``: a bar over the episodes with the time left."""
    from tqdm.auto import tqdm

    check_workers(workers)
    conditions: list[tuple[str, str | None]] = [(OVERALL, None)]
    if regimes and env_entry(config.env_id).regimes:
        conditions += [(r, r) for r in REGIMES]
    references = list(reference_policies(config.env_id, config.env_config(), baselines))
    every = [s for key in agents for s in blocks[key]]
    plays = [(key, agents[key], blocks[key]) for key in agents]
    plays += [(ref, None, every) for ref in references]
    jobs = [
        {
            "config": config,
            "condition": name,
            "regime": regime,
            "policy": key,
            "agent": agent,
            "seeds": list(seeds),
            "baselines": dict(baselines or {}),
        }
        for name, regime in conditions
        for key, agent, seeds in plays
    ]
    played: dict[tuple[str, str], EpisodeResults] = {}
    bar = tqdm(
        total=sum(len(job["seeds"]) for job in jobs),
        unit="episode",
        desc="compare",
        disable=not progress,
        dynamic_ncols=True,
    )

    def finished(job: Mapping[str, Any], res: EpisodeResults) -> None:
        played[job["condition"], job["policy"]] = res
        bar.update(len(job["seeds"]))
        if not progress:
            log(f"  {job['condition']:<14} {job['policy']:<12} {len(job['seeds'])} episodes")

    with bar:
        if workers == 1 and ray is None:
            for job in jobs:
                finished(job, _play(job))
        else:
            with job_pool(workers, ray) as pool:
                if ray is not None:  # the agents' run folders are read in the tasks
                    for folder in sorted({Path(path).parent for path, _ in agents.values()}):
                        pool.check_shared(folder)
                longest_first = sorted(jobs, key=lambda j: -len(j["seeds"]))
                futures = {pool.submit(_play_in_process, job): job for job in longest_first}
                for future in cf.as_completed(futures):
                    finished(futures[future], future.result())
    keys = [key for key, _, _ in plays]
    results = {name: {key: played[name, key] for key in keys} for name, _ in conditions}
    return results, references


def _play(job: Mapping[str, Any]) -> EpisodeResults:
    """One policy of one condition of ``compare_policies`` on its seeds."""
    from mm_gym.evaluation.rollout import run_policy
    from mm_gym_agents.policy import load_policy

    config, name = job["config"], job["condition"]
    env_config = env_config_for(config, job["regime"])
    if job["agent"] is not None:
        path, which = job["agent"]
        policy, cfg = load_policy(RunDir.open(path), which), env_config
    else:
        policy, cfg = reference_policies(config.env_id, env_config, job["baselines"])[job["policy"]]
    res = run_policy(config.env_id, cfg, policy, job["seeds"], record_paths=(name == OVERALL))
    if res.paths is not None:
        res.paths = {k: v[:PATH_EPISODES] for k, v in res.paths.items()}
    return res


def _play_in_process(job: Mapping[str, Any]) -> EpisodeResults:
    import torch

    torch.set_num_threads(1)
    return _play(job)


def block_values(
    results: Mapping[str, EpisodeResults],
    metric: str,
    policy: str,
    seeds: list[int],
) -> np.ndarray:
    """``policy``'s ``metric`` on ``seeds``, in that order."""
    ep = results[policy].episodes
    return ep.set_index("seed").loc[seeds, metric].to_numpy(dtype=float)


def tabulate(
    results: dict[str, dict[str, EpisodeResults]],
    metrics: list[str],
    blocks: Mapping[str, list[int]],
    references: list[str],
    pairs: list[tuple[str, str]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (condition, policy, metric) and per (condition, pair, metric), over the runs'
    blocks (``mm_gym.evaluation.protocol``; see the module docstring). ``blocks``: agent key -> its
    seeds; ``pairs``: (policy, reference), with ``AGENT`` standing for every run."""
    agents = list(blocks)
    multi = len(agents) > 1
    rows: list[dict[str, Any]] = []
    pair_rows: list[dict[str, Any]] = []
    for cond, by_policy in results.items():
        for m in metrics:
            higher = m not in LOWER_IS_BETTER
            # per block: every policy's values on the block's seeds, a seed with a NaN dropped
            table: dict[str, dict[str, np.ndarray]] = {}
            for key in agents:
                vals = {key: block_values(by_policy, m, key, blocks[key])}
                vals |= {r: block_values(by_policy, m, r, blocks[key]) for r in references}
                keep = np.logical_and.reduce([np.isfinite(v) for v in vals.values()])
                table[key] = {p: v[keep] for p, v in vals.items()}

            def of(policy: str, keys: list[str], table=table) -> list[np.ndarray]:
                return [table[k][k if policy == AGENT else policy] for k in keys]

            shown = (agents if multi else []) + [AGENT, *references]
            for policy in shown:
                keys = [policy] if policy in agents and multi else agents
                values = of(AGENT if policy in agents else policy, keys)
                row: dict[str, Any] = {"condition": cond, "policy": policy, "metric": m}
                if any(v.size == 0 for v in values):
                    row |= _EMPTY_ESTIMATE
                else:
                    est = estimate_over_runs(values)
                    row |= {"value": est.value, "ci_low": est.low, "ci_high": est.high}
                    row |= {"iqm": est.iqm, "runs": est.runs, "n": est.n}
                rows.append(row)
            for policy, ref in pairs:
                keys = [policy] if policy in agents and multi else agents
                left = of(AGENT if policy in agents else policy, keys)
                right = of(ref, keys)
                row = {"condition": cond, "policy": policy, "reference": ref, "metric": m}
                if any(v.size == 0 for v in left):
                    row |= _EMPTY_DIFF
                else:
                    d = difference_over_runs(left, right, higher_is_better=higher)
                    row |= {
                        "interval": d.interval,
                        "diff": d.diff,
                        "ci_low": d.low,
                        "ci_high": d.high,
                        "p_value": d.p_value,
                        "boot_low": d.boot_low,
                        "boot_high": d.boot_high,
                        "wins": d.wins,
                        "poi": d.poi,
                        "runs": d.runs,
                        "n": d.n,
                        "var_ratio": pairing_variance_ratio(
                            np.concatenate(left), np.concatenate(right)
                        ),
                        "per_run": " ".join(f"{v:.6g}" for v in d.per_run),
                    }
                pair_rows.append(row)
    paired = pd.DataFrame(pair_rows)
    if not paired.empty:
        family = paired.groupby(["policy", "reference", "metric"], sort=False)["p_value"]
        paired["p_holm"] = family.transform(lambda p: holm_adjusted(p.to_numpy()))
    return pd.DataFrame(rows), paired


_EMPTY_ESTIMATE = {
    "value": np.nan,
    "ci_low": np.nan,
    "ci_high": np.nan,
    "iqm": np.nan,
    "runs": 0,
    "n": 0,
}
_EMPTY_DIFF = {
    "interval": "",
    "diff": np.nan,
    "ci_low": np.nan,
    "ci_high": np.nan,
    "p_value": np.nan,
    "boot_low": np.nan,
    "boot_high": np.nan,
    "wins": np.nan,
    "poi": np.nan,
    "runs": 0,
    "n": 0,
    "var_ratio": np.nan,
    "per_run": "",
}


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


def open_runs(paths: Sequence[str | Path]) -> tuple[list[RunDir], AgentConfig]:
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


def check_family(
    family: str, seeds: list[int], allow_eval: bool, log: Callable[[str], None]
) -> str:
    """The family the compared seeds fall in. Seeds given by hand (``--seed``) must stay in
    ``family``; seeds that trained, tuned or selected a model are refused unless
    ``allow_eval`` (then the report says what they are and states no claim)."""
    found = seed_family(seeds)
    span = f"seeds {min(seeds)}..{max(seeds)}"
    if found not in FAMILIES:
        if not allow_eval:
            raise ConfigError(
                f"--seed: {span} are {found} seeds, not seeds of a family for scoring "
                f"(development from {DEV_SEED_BASE:,}, final from {FINAL_SEED_BASE:,}, "
                f"replication from {REPLICATION_SEED_BASE:,}); --allow-eval-seeds uses them"
            )
        log(f"WARNING: {span} are {found} seeds; the report says so and states no claim")
        return found
    if found != family:
        raise ConfigError(
            f"--seed: {span} lie in the {found} family, not in --family {family} "
            f"(from {FAMILIES[family]:,})"
        )
    return found


def default_out(runs: list[RunDir]) -> Path:
    """The run's folder; for several runs ``<name without _seed<k>>_compare`` beside them."""
    if len(runs) == 1:
        return runs[0].path
    return runs[0].path.parent / f"{_SEED_SUFFIX.sub('', runs[0].name)}_compare"


def compare_run(
    run_path: str | Path | Sequence[str | Path],
    *,
    episodes: int = 32,
    family: str = "development",
    seed: int | None = None,
    which: str = "final",
    regimes: bool = True,
    metric: str | None = None,
    baselines: Sequence[str | Path] = (),
    allow_eval_seeds: bool = False,
    holm: bool = False,
    out: str | Path | None = None,
    workers: int = 1,
    ray: str | None = None,
    progress: bool = False,
    data: str | Path | None = None,
    shares_per_lot: float | None = None,
    log: Callable[[str], None] = print,
) -> Comparison:
    """Compare one run's agent (or several runs of one config) with the references; write
    the CSVs under ``out/compare`` (default ``default_out``).

    Run ``k`` plays its own block of ``episodes`` seeds of ``family`` (``mm_gym.evaluation.seeds``;
    from ``seed`` when given), and every reference plays each run's block. ``metric``
    (default: ``episode_return``, the env's objective) decides the verdicts; ``baselines``:
    tuned baseline files; ``holm``: verdicts on Holm-adjusted p-values; ``workers``:
    processes that play side by side; ``ray``: a Ray cluster's address to play on instead
    (the run folders on a filesystem its nodes mount); ``progress``: a bar with the time left;
    ``data``: play on windows of this recording instead (``shares_per_lot`` of its sizes a
    lot; one condition, regimes being unknown; default folder ``<default>/recording_<stem>``).
    ``agents.report.compare_and_report`` adds ``report.md`` and its plots.
    """
    from mm_gym_agents.policy import load_policy

    paths = [run_path] if isinstance(run_path, str | Path) else list(run_path)
    runs, config = open_runs(paths)
    if data is not None:
        replay = {"data": str(Path(data).resolve())}
        if shares_per_lot is not None:
            replay["shares_per_lot"] = shares_per_lot
        # the training markets' overrides say how the agent was trained, not where it plays
        played = {**config.to_dict(), "train_env": {}}
        config = type(config).from_dict(played).with_env(replay)
        config.env_config()  # what a recording cannot give is one line before anything plays
        regimes = False
    allowed = [m for m in headline_metrics(config.env_id) if m in HIGHER_IS_BETTER]
    if metric is not None and metric not in allowed:
        raise ConfigError(f"--metric {metric}: allowed values are {', '.join(allowed)}")
    keys = [AGENT] if len(runs) == 1 else [r.name for r in runs]
    blocks = {key: block_seeds(family, k, episodes, seed) for k, key in enumerate(keys)}
    found = check_family(family, [s for b in blocks.values() for s in b], allow_eval_seeds, log)
    tuned = load_baselines(baselines, config.env_id, taken=keys)
    for run in runs:  # a missing or corrupt model is one line before anything plays
        load_policy(run, which)
    agents = {k: (run.path.resolve(), which) for k, run in zip(keys, runs, strict=True)}
    log(
        f"comparing {', '.join(r.name for r in runs)} ({which} model) on {found} seeds, "
        f"{episodes} per run: " + ", ".join(f"{b[0]}..{b[-1]}" for b in blocks.values())
    )
    results, references = compare_policies(
        config,
        agents,
        blocks,
        regimes=regimes,
        baselines=tuned,
        workers=workers,
        ray=ray,
        progress=progress,
        log=log,
    )
    metrics = [
        m for m in headline_metrics(config.env_id) if m in results[OVERALL][keys[0]].episodes
    ]
    pairs = [(AGENT, r) for r in references]
    if len(keys) > 1:  # each run against the primary reference
        pairs += [(k, references[0]) for k in keys]
    decomposition = None
    if env_entry(config.env_id).rule_baseline:
        pairs += [(r, BASELINE) for r in references if r != BASELINE]
        decomposition = decompose(results, keys, config.env_config().session_s)
    summary, paired = tabulate(results, metrics, blocks, references, pairs)
    folder = Path(out) if out is not None else default_out(runs)
    if data is not None and out is None:  # beside, not over, the simulated market's report
        folder = folder / f"recording_{Path(data).stem}"
    comp = Comparison(
        runs,
        config,
        blocks,
        results,
        summary,
        paired,
        keys,
        references,
        which,
        metric,
        holm,
        found,
        folder,
        decomposition,
    )
    csv = folder / "compare"
    csv.mkdir(parents=True, exist_ok=True)
    meta = {
        "family": found,
        "runs": [str(r.path) for r in runs],
        "training_seeds": [r.config().seed for r in runs],
        "blocks": {k: [b[0], b[-1]] for k, b in blocks.items()},
        "episodes_per_run": episodes,
        "data": None if data is None else str(Path(data).resolve()),
        "model": which,
        "metric": metric or env_entry(config.env_id).primary_metric,
        "holm": holm,
        "references": references,
        "algo": config.algo,
        "env_id": config.env_id,
        "total_timesteps": config.total_timesteps,
    }
    (csv / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    summary.to_csv(csv / "summary.csv", index=False)
    paired.to_csv(csv / "paired.csv", index=False)
    if decomposition is not None:
        decomposition.to_csv(csv / "decomposition.csv", index=False)
    for cond, by_policy in results.items():
        for policy, res in by_policy.items():
            res.episodes.to_csv(csv / f"episodes_{cond}_{policy}.csv", index=False)
            res.per_regime.to_csv(csv / f"per_regime_{cond}_{policy}.csv")
    return comp
