"""The claim protocol: the interval over runs covers a known truth as often as it says, the
tables subtract, and the run-level figures are what they claim to be."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mm_gym.evaluation.protocol import (
    difference_over_runs,
    estimate_over_runs,
    hierarchical_bootstrap_ci,
    interval_coverage,
    rliable_iqm,
    rliable_probability_of_improvement,
)


@pytest.mark.parametrize("runs", [3, 10])
@pytest.mark.parametrize("run_sd", [0.0, 1.0, 2.0])
def test_t_interval_over_runs_covers_the_truth(runs: int, run_sd: float) -> None:
    covered, _ = interval_coverage(runs, run_sd, episodes=100, repeats=1000, seed=runs)
    assert covered >= 0.93, covered


def test_one_shared_block_per_run_with_a_seed_bootstrap_undercovers() -> None:
    """What the protocol replaces: every run on the same seeds and a bootstrap over seeds
    within runs misses the run effect and the shared markets (the old compare's ~0.8)."""
    rng = np.random.default_rng(7)
    truth, hits, repeats, runs, episodes = 0.5, 0, 300, 3, 100
    for _ in range(repeats):
        market = 15.0 * rng.standard_normal(episodes)
        reference = market + 12.0 * rng.standard_normal(episodes)
        diffs = [
            truth
            + 2.0 * rng.standard_normal()
            + 0.2 * market
            + 12.0 * rng.standard_normal(episodes)
            - (reference - market)
            for _ in range(runs)
        ]
        table = np.stack(diffs)
        draws = rng.integers(0, episodes, (500, runs, episodes))
        boot = np.take_along_axis(np.broadcast_to(table, draws.shape), draws, 2).mean((1, 2))
        low, high = np.quantile(boot, [0.025, 0.975])
        hits += low <= truth <= high
    assert hits / repeats < 0.85


def test_difference_over_runs_subtracts_and_counts_runs() -> None:
    rng = np.random.default_rng(0)
    agent = [rng.normal(1.0 + k, 1.0, 50) for k in range(4)]
    reference = [rng.normal(0.0, 1.0, 50) for _ in range(4)]
    d = difference_over_runs(agent, reference)
    a = estimate_over_runs(agent)
    r = estimate_over_runs(reference)
    assert d.diff == pytest.approx(a.value - r.value, abs=1e-12)
    per_run = [x.mean() - y.mean() for x, y in zip(agent, reference, strict=True)]
    assert d.per_run == pytest.approx(per_run)
    t = stats.ttest_1samp(per_run, 0.0)
    half = stats.t.ppf(0.975, 3) * np.std(per_run, ddof=1) / 2.0
    assert (d.low, d.high) == pytest.approx((np.mean(per_run) - half, np.mean(per_run) + half))
    assert d.p_value == pytest.approx(t.pvalue, rel=1e-6)
    assert d.interval == "runs" and d.runs == 4 and d.n == 200
    assert d.wins == 1.0 and d.poi == 1.0
    assert a.runs == 4 and a.n == 200


def test_lower_is_better_turns_the_wins_and_the_probability() -> None:
    agent = [np.full(5, 1.0), np.full(5, 3.0)]
    reference = [np.full(5, 2.0), np.full(5, 2.0)]
    d = difference_over_runs(agent, reference, higher_is_better=False)
    assert d.wins == 0.5 and d.poi == pytest.approx(0.5)


def test_one_run_interval_is_over_its_seeds() -> None:
    rng = np.random.default_rng(1)
    a, r = rng.normal(1.0, 1.0, 40), rng.normal(0.0, 1.0, 40)
    d = difference_over_runs([a], [r])
    t = stats.ttest_rel(a, r)
    assert d.interval == "seeds" and d.runs == 1
    assert d.p_value == pytest.approx(t.pvalue, rel=1e-6)
    assert math.isnan(d.poi)


def test_blocks_must_pair() -> None:
    with pytest.raises(ValueError, match="same sizes"):
        difference_over_runs([np.ones(3)], [np.ones(4)])
    with pytest.raises(ValueError, match="non-empty"):
        estimate_over_runs([np.ones(3), np.array([])])


def test_hierarchical_bootstrap_widens_with_the_run_effect() -> None:
    rng = np.random.default_rng(2)
    calm = [rng.normal(0.0, 1.0, 100) for _ in range(10)]
    spread = [rng.normal(5.0 * rng.standard_normal(), 1.0, 100) for _ in range(10)]
    lo1, hi1 = hierarchical_bootstrap_ci(calm)
    lo2, hi2 = hierarchical_bootstrap_ci(spread)
    assert hi2 - lo2 > 3 * (hi1 - lo1)
    assert hierarchical_bootstrap_ci(calm, seed=3) == hierarchical_bootstrap_ci(calm, seed=3)


def test_rliable_figures_known_values() -> None:
    # runs (3, 1, 2) against (0, 2.5, 1): 6 of 9 pairs won, one tie (1 vs 1) counted half
    x, y = np.array([3.0, 1.0, 2.0]), np.array([0.0, 2.5, 1.0])
    assert rliable_probability_of_improvement(x, y) == pytest.approx(6.5 / 9)
    assert rliable_iqm(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 100.0])) == pytest.approx(4.5)
