"""How a learning claim is stated: independent training runs, a block of test seeds per run,
an interval over runs.

The unit of replication is the training run (a claim is about what a user gets when they
train a configuration, not about one network). Run ``r`` plays its own block of seeds, and
every reference plays the same block (common random numbers), so

- ``d(r)`` = mean over the block of (agent - reference): one number per run;
- the estimate is the mean of the ``d(r)``, its interval Student's t with ``k - 1`` degrees
  of freedom over the runs (with one run: the paired t over the block's seeds, an interval
  about that network only);
- a hierarchical bootstrap (runs, then seeds within each drawn run's block) is given beside
  it as a check;
- the share of runs with ``d(r) > 0`` (better for the agent), and the probability of
  improvement and IQM as ``rliable`` computes them, over the per-run means.

``interval_coverage`` simulates data with a known answer (a run effect, a market effect per
seed shared by the policies, episode noise) and measures how often the interval covers it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from mm_gym.evaluation.metrics import t_ppf, t_two_sided_p

__all__ = [
    "RunsDifference",
    "RunsEstimate",
    "difference_over_runs",
    "estimate_over_runs",
    "hierarchical_bootstrap_ci",
    "interval_coverage",
    "rliable_iqm",
    "rliable_probability_of_improvement",
    "simulate_blocks",
]

N_BOOT = 2000


@dataclasses.dataclass(frozen=True)
class RunsEstimate:
    """A policy's mean over runs of its per-block means, with the t interval over runs (over
    seeds with one run); ``iqm`` of the per-run means (rliable); ``runs``, ``n`` episodes."""

    value: float
    low: float
    high: float
    iqm: float
    runs: int
    n: int


@dataclasses.dataclass(frozen=True)
class RunsDifference:
    """agent - reference, per the module docstring.

    ``diff``: mean of the per-run differences ``per_run``; ``low``/``high`` and ``p_value``:
    Student's t over runs (``interval`` says ``runs``), or paired t over seeds with one run
    (``seeds``); ``boot_low``/``boot_high``: hierarchical bootstrap; ``wins``: share of runs
    with a difference in the agent's favour; ``poi``: rliable's probability of improvement of
    the agent's per-run means over the reference's (NaN with one run); ``n``: episodes.
    """

    diff: float
    low: float
    high: float
    p_value: float
    boot_low: float
    boot_high: float
    wins: float
    poi: float
    runs: int
    n: int
    interval: str
    per_run: tuple[float, ...]


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    """Mean, t interval and two-sided p of ``mean == 0`` for i.i.d. values."""
    n = values.size
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    se = float(values.std(ddof=1)) / math.sqrt(n)
    if se == 0.0:
        return mean, mean, mean, (1.0 if mean == 0.0 else 0.0)
    half = t_ppf(0.5 + confidence / 2.0, n - 1) * se
    return mean, mean - half, mean + half, t_two_sided_p(mean / se, n - 1)


def _blocks(blocks: Sequence[Sequence[float] | np.ndarray]) -> list[np.ndarray]:
    out = [np.asarray(b, dtype=np.float64) for b in blocks]
    if not out or any(b.ndim != 1 or b.size == 0 for b in out):
        raise ValueError("blocks: expected one non-empty 1-D array of values per run")
    return out


def estimate_over_runs(
    blocks: Sequence[Sequence[float] | np.ndarray], confidence: float = 0.95
) -> RunsEstimate:
    """One policy's values, one block per run (see ``RunsEstimate``)."""
    data = _blocks(blocks)
    means = np.array([b.mean() for b in data])
    value, low, high, _ = _t_interval(means if len(data) > 1 else data[0], confidence)
    return RunsEstimate(
        value, low, high, rliable_iqm(means), len(data), int(sum(b.size for b in data))
    )


def difference_over_runs(
    agent: Sequence[Sequence[float] | np.ndarray],
    reference: Sequence[Sequence[float] | np.ndarray],
    *,
    higher_is_better: bool = True,
    confidence: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> RunsDifference:
    """agent - reference, each given as one block of paired values per run (the same seeds in
    the same order within a block)."""
    a, r = _blocks(agent), _blocks(reference)
    if len(a) != len(r) or any(x.size != y.size for x, y in zip(a, r, strict=True)):
        raise ValueError("agent and reference: expected blocks of the same sizes")
    diffs = [x - y for x, y in zip(a, r, strict=True)]
    per_run = np.array([d.mean() for d in diffs])
    k = len(diffs)
    if k > 1:
        diff, low, high, p = _t_interval(per_run, confidence)
        interval = "runs"
    else:
        diff, low, high, p = _t_interval(diffs[0], confidence)
        interval = "seeds"
    boot_low, boot_high = hierarchical_bootstrap_ci(diffs, confidence, n_boot, seed)
    sign = 1.0 if higher_is_better else -1.0
    wins = float(np.mean(sign * per_run > 0))
    a_means = np.array([x.mean() for x in a])
    r_means = np.array([y.mean() for y in r])
    poi = math.nan
    if k > 1:
        x, y = (a_means, r_means) if higher_is_better else (-a_means, -r_means)
        poi = rliable_probability_of_improvement(x, y)
    return RunsDifference(
        diff,
        low,
        high,
        p,
        boot_low,
        boot_high,
        wins,
        poi,
        k,
        int(sum(d.size for d in diffs)),
        interval,
        tuple(float(v) for v in per_run),
    )


def hierarchical_bootstrap_ci(
    blocks: Sequence[np.ndarray], confidence: float = 0.95, n_boot: int = N_BOOT, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of the mean of per-run means: each replicate draws ``k`` runs with
    replacement, then, for each drawn run, its block's seeds with replacement."""
    rng = np.random.default_rng(seed)
    k = len(blocks)
    # each run's block-resampled means, one per replicate; a drawn run takes one of them
    boot_means = np.stack(
        [b[rng.integers(0, b.size, (n_boot, b.size))].mean(axis=1) for b in blocks]
    )
    runs = rng.integers(0, k, (n_boot, k))
    reps = rng.integers(0, n_boot, runs.shape)
    stats = boot_means[runs, reps].mean(axis=1)
    tail = 0.5 * (1.0 - confidence)
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return float(low), float(high)


def rliable_probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """rliable's probability of improvement P(X > Y) of per-run scores ``x`` over ``y`` (one
    task): the Mann-Whitney U statistic over all pairs of runs, ties counted half."""
    from rliable import metrics

    return float(metrics.probability_of_improvement(np.asarray(x)[:, None], np.asarray(y)[:, None]))


def rliable_iqm(run_scores: np.ndarray) -> float:
    """rliable's interquartile mean of per-run scores (one task)."""
    from rliable import metrics

    return float(metrics.aggregate_iqm(np.asarray(run_scores, dtype=np.float64)[:, None]))


def simulate_blocks(
    rng: np.random.Generator,
    runs: int,
    episodes: int,
    *,
    truth: float = 0.0,
    run_sd: float = 1.0,
    market_sd: float = 15.0,
    agent_market_loading: float = 1.2,
    noise_sd: float = 12.0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Agent and reference blocks with a known mean difference ``truth``: run effect (sd
    ``run_sd``) per training run, a market effect per seed shared by both policies (the agent
    loads on it ``agent_market_loading`` times, so pairing removes part of it), and
    independent episode noise (figures of the default market's 1-h episodes)."""
    agent, reference = [], []
    for _ in range(runs):
        effect = truth + run_sd * rng.standard_normal()
        market = market_sd * rng.standard_normal(episodes)
        reference.append(market + noise_sd * rng.standard_normal(episodes))
        agent.append(
            effect + agent_market_loading * market + noise_sd * rng.standard_normal(episodes)
        )
    return agent, reference


def interval_coverage(
    runs: int,
    run_sd: float,
    *,
    episodes: int = 200,
    repeats: int = 400,
    truth: float = 0.5,
    seed: int = 0,
    bootstrap: bool = False,
) -> tuple[float, float]:
    """Share of ``repeats`` simulated comparisons (``simulate_blocks``) whose 95% t interval
    covers ``truth``, and the same for the hierarchical bootstrap (NaN unless ``bootstrap``)."""
    rng = np.random.default_rng(seed)
    t_hits = boot_hits = 0
    for rep in range(repeats):
        a, r = simulate_blocks(rng, runs, episodes, truth=truth, run_sd=run_sd)
        d = difference_over_runs(a, r, n_boot=500 if bootstrap else 1, seed=rep)
        t_hits += d.low <= truth <= d.high
        boot_hits += d.boot_low <= truth <= d.boot_high
    return t_hits / repeats, (boot_hits / repeats if bootstrap else math.nan)
