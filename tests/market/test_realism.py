"""The realism metrics on processes with known answers, pooling across markets, the facts
table's verdicts, the collector and the ``mm-gym facts`` command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mm_gym import cli
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError
from mm_gym.evaluation import economics as econ_mod
from mm_gym.market import realism as rz
from mm_gym.market.config import MarketConfig
from mm_gym.strategy.config import StrategyConfig


def _ar1(rng: np.random.Generator, phi: float, markets: int, n: int) -> np.ndarray:
    x = np.empty((markets, n))
    x[:, 0] = rng.normal(size=markets) / math.sqrt(1 - phi * phi)
    eps = rng.normal(size=(markets, n))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + eps[:, t]
    return x


def _garch(rng: np.random.Generator, markets: int, n: int) -> np.ndarray:
    omega, alpha, beta = 0.05, 0.1, 0.85
    r = np.empty((markets, n))
    var = np.full(markets, omega / (1 - alpha - beta))
    for t in range(n):
        r[:, t] = np.sqrt(var) * rng.normal(size=markets)
        var = omega + alpha * r[:, t] ** 2 + beta * var
    return r


def _markov_signs(rng: np.random.Generator, p: float, markets: int, n: int) -> np.ndarray:
    flips = np.where(rng.random((markets, n)) < p, 1.0, -1.0)
    flips[:, 0] = np.where(rng.random(markets) < 0.5, 1.0, -1.0)
    return np.cumprod(flips, axis=1)


# ----------------------------------------------------------------------------- known answers
def test_iid_gaussian_has_no_autocorrelation_and_no_excess_kurtosis():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5000))
    se = 1 / math.sqrt(x.size)
    assert np.abs(rz.pooled_acf(x, 5)).max() < 5 * se
    assert abs(rz.excess_kurtosis(x)) < 5 * math.sqrt(24 / x.size)
    assert rz.pooled_std(3.0 * x) == pytest.approx(3.0, rel=0.01)


@pytest.mark.parametrize("phi", [0.6, -0.3])
def test_ar1_autocorrelation_is_phi_to_the_lag(phi):
    x = _ar1(np.random.default_rng(1), phi, 16, 4000)
    acf = rz.pooled_acf(x, 4)
    assert acf == pytest.approx(phi ** np.arange(1, 5), abs=0.03)


def test_garch_returns_cluster_and_have_fat_tails():
    r = _garch(np.random.default_rng(2), 20, 5000)
    assert abs(rz.pooled_acf(r, 1)[0]) < 0.03  # returns themselves uncorrelated
    assert rz.pooled_acf(np.abs(r), 10)[[0, 9]].min() > 0.03  # |r| correlated, slowly decaying
    assert rz.excess_kurtosis(r) > 0.3  # theory: 0.77


def test_markov_sign_chain_acf_is_geometric():
    p = 0.8
    signs = _markov_signs(np.random.default_rng(3), p, 8, 20_000)
    times = [np.arange(s.size, dtype=float) for s in signs]
    acf = rz.trade_sign_acf(times, list(signs), 5)
    assert acf == pytest.approx((2 * p - 1) ** np.arange(1, 6), abs=0.03)


def test_signature_plot_of_noise_plus_random_walk():
    rng = np.random.default_rng(4)
    sigma2, noise2 = 1.0, 1.0  # bps^2 per step, bps^2
    walk = np.cumsum(rng.normal(scale=math.sqrt(sigma2), size=(32, 20_000)), axis=1)
    log_mid = (walk + rng.normal(scale=math.sqrt(noise2), size=walk.shape)) * 1e-4
    steps = [1, 2, 5, 10, 60]
    rv = rz.signature_plot(100.0 * np.exp(log_mid), steps, dt=1.0)
    expected = sigma2 + 2 * noise2 / np.array(steps)
    assert rv == pytest.approx(expected, rel=0.05)
    # a pure random walk is flat
    flat = rz.signature_plot(100.0 * np.exp(walk * 1e-4), steps)
    assert flat == pytest.approx(sigma2, rel=0.05)


def test_pooled_corr_recovers_the_correlation():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 5000))
    y = 0.4 * x + math.sqrt(1 - 0.16) * rng.normal(size=x.shape) + rng.normal(size=(8, 1)) * 10
    assert rz.pooled_corr(x, y) == pytest.approx(0.4, abs=0.03)


# ----------------------------------------------------------------------------- pooling
def test_acf_pools_within_markets_never_across():
    rng = np.random.default_rng(6)
    a, b = 10 + rng.normal(size=400), -10 + rng.normal(size=300)
    pooled = rz.pooled_acf([a, b], 1)[0]
    ca, cb = a - a.mean(), b - b.mean()
    manual = (ca[:-1] @ ca[1:] + cb[:-1] @ cb[1:]) / (ca @ ca + cb @ cb)
    assert pooled == pytest.approx(manual)
    assert abs(pooled) < 0.2
    # concatenating the markets would read their different levels as persistence
    assert rz.pooled_acf(np.concatenate([a, b]), 1)[0] > 0.9


def test_two_dimensional_and_list_inputs_agree():
    x = np.random.default_rng(7).normal(size=(3, 50))
    assert rz.pooled_acf(x, 3) == pytest.approx(rz.pooled_acf(list(x), 3))
    assert rz.pooled_acf(x[0], 3) == pytest.approx(rz.pooled_acf([x[0]], 3))


series_lists = st.lists(
    st.lists(st.floats(-100, 100, allow_nan=False, allow_subnormal=False), min_size=6, max_size=40),
    min_size=1,
    max_size=4,
)


def _varies(rows: list[list[float]]) -> bool:
    return sum(float(np.var(r)) * len(r) for r in rows) > 1e-3


@settings(max_examples=60, deadline=None)
@given(series_lists, st.floats(0.1, 10), st.lists(st.floats(-1e3, 1e3), min_size=4, max_size=4))
def test_acf_ignores_each_markets_level_and_a_common_scale(rows, scale, shifts):
    if not _varies(rows):
        return
    base = rz.pooled_acf(rows, 3)
    moved = [scale * np.asarray(r) + shifts[k] for k, r in enumerate(rows)]
    assert rz.pooled_acf(moved, 3) == pytest.approx(base, abs=1e-6)
    assert np.all(np.abs(base) <= 1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([-1.0, 1.0]), min_size=1, max_size=50),
    st.data(),
)
def test_merging_recovers_orders_split_into_same_time_executions(signs, data):
    """One order per time; each split into 1-4 executions at its time (sizes add up)."""
    parts = data.draw(st.lists(st.integers(1, 4), min_size=len(signs), max_size=len(signs)))
    # consecutive same-sign orders need distinct times: order k at time k
    times = np.repeat(np.arange(len(signs), dtype=float), parts)
    split_signs = np.repeat(signs, parts)
    sizes = np.ones(times.size)
    t, s, q = rz.merge_same_time(times, split_signs, sizes)
    assert s.tolist() == signs
    assert q.tolist() == parts
    assert t.tolist() == list(range(len(signs)))


def test_merge_keeps_same_time_executions_of_opposite_sign_apart():
    t, s, q = rz.merge_same_time([1.0, 1.0, 1.0, 2.0], [1, 1, -1, -1], [2, 3, 1, 4])
    assert t.tolist() == [1.0, 1.0, 2.0]
    assert s.tolist() == [1, -1, -1]
    assert q.tolist() == [5, 1, 4]


def test_merged_trade_sign_acf_sees_orders_not_executions():
    signs = _markov_signs(np.random.default_rng(8), 0.5, 4, 5000)  # independent orders
    parts = np.random.default_rng(9).integers(1, 5, size=signs.shape)
    times = [
        np.repeat(np.arange(s.size, dtype=float), k) for s, k in zip(signs, parts, strict=True)
    ]
    split = [np.repeat(s, k) for s, k in zip(signs, parts, strict=True)]
    assert abs(rz.trade_sign_acf(times, split, 1)[0]) < 0.05
    assert rz.trade_sign_acf(times, split, 1, merge=False)[0] > 0.4


# ----------------------------------------------------------------------------- errors
def test_too_short_a_series_names_the_metric():
    with pytest.raises(rz.NotEstimable, match="ACF of 5 min returns.*>= 7 values"):
        rz.pooled_acf(np.ones((4, 6)), 5, metric="ACF of 5 min returns")
    with pytest.raises(rz.NotEstimable, match="excess kurtosis of 1 s returns"):
        rz.excess_kurtosis([[1.0, 2.0]], metric="excess kurtosis of 1 s returns")
    with pytest.raises(rz.NotEstimable, match="signature plot: an interval of 60 steps"):
        rz.signature_plot(np.full((2, 30), 100.0), [1, 60])
    with pytest.raises(rz.NotEstimable, match="trade-sign ACF"):
        rz.trade_sign_acf([np.arange(3.0)], [np.ones(3)], 10)


def test_flat_or_invalid_series_are_errors():
    with pytest.raises(rz.NotEstimable, match="ACF: the series never vary"):
        rz.pooled_acf(np.ones((2, 20)), 2)
    with pytest.raises(ConfigError, match="NaN"):
        rz.pooled_acf([[1.0, np.nan, 2.0, 3.0]], 1)
    with pytest.raises(ConfigError, match="differ in length"):
        rz.pooled_corr([[1.0, 2.0, 3.0]], [[1.0, 2.0]])
    with pytest.raises(rz.NotEstimable, match="spread: no sample"):
        rz.spread_summary(np.full(3, np.nan), np.full(3, np.nan))


# ----------------------------------------------------------------------------- book metrics
def test_occupied_depth_skips_empty_levels_from_the_best():
    book = np.array([[0, 4, 0, 3, 2, 0, 0, 0], [0, 0, 0, 0, 0, 1, 0, 7]])
    bid = rz.occupied_depth(book[:1], np.array([4]), 0, 3)
    assert bid.tolist() == [[2, 3, 4]]
    ask = rz.occupied_depth(book[1:], np.array([5]), 1, 3)
    assert ask.tolist() == [[1, 7, 0]]  # a missing level counts 0
    assert rz.occupied_depth(book[1:], np.array([-1]), 1, 2).tolist() == [[0, 0]]


def test_spread_summary_in_ticks_and_bps():
    ticks = np.array([1.0, 1.0, 2.0, np.nan])
    table = rz.spread_summary(ticks, ticks * 5.0)
    assert table.loc["ticks", "mean"] == pytest.approx(4 / 3)
    assert table.loc["bps", "p50"] == pytest.approx(5.0)


# ----------------------------------------------------------------------------- facts table
def _stats(values: dict[str, float], rates: dict[str, float] | None = None) -> rz.MarketStats:
    full = {f.key: math.nan for f in rz.FACTS if not f.key.startswith("mm_")}
    full.update(values)
    rates = rates or {"r1s": 3600, "r10s": 360, "r1min": 60, "r5min": 12, "clock": 3600}
    return rz.MarketStats(full, {}, {}, rates, {})


def test_verdicts():
    stats = _stats(
        {
            "acf1_1min": -0.1,
            "acf1_5min": 0.2,
            "kurt_1min": 5.0,
            "kurt_5min": 6.0,
            "spread_ticks": 1.2,
            "acf1_1s": 0.3,
            "events_per_s": 40.0,
            "sign_acf_lag1": 0.5,
            "sign_acf_lag10": 0.01,
        },
    )
    facts = rz.evaluate_facts(stats, markets=64, hours=4)
    v = facts["verdict"]
    assert v["acf1_1min"] == "pass"
    assert v["acf1_5min"] == "FAIL"
    assert v["kurt_5min"] == "FAIL"  # must be below the 1-min value
    assert v["acf1_1s"] == "n/a: small-tick preset only"  # 1.2 ticks: a large tick
    assert v["sign_acf_lag1"] == "not estimable: no merged executions in the sample"
    stats.rates["trades"] = 10_000
    v = rz.evaluate_facts(stats, markets=64, hours=4)["verdict"]
    assert v["sign_acf_lag1"] == "pass" and v["sign_acf_lag10"] == "FAIL"
    assert v["events_per_s"] == "report only"
    assert v["mm_baseline_up_vs_ranging"] == "not measured"
    assert facts.loc["kurt_1min", "AAPL"] == 2.4
    small = rz.evaluate_facts(_stats({"spread_ticks": 15.0, "acf1_1s": 0.01}), 64, 4)
    assert small.loc["acf1_1s", "verdict"] == "pass"


def test_too_small_a_sample_says_what_would_do():
    stats = _stats({"acf1_5min": 0.0, "abs_acf_lag30": 0.2})
    facts = rz.evaluate_facts(stats, markets=4, hours=1)
    # 5-min returns: 12 per market-hour; 1600 pooled and 7 per market
    assert facts.loc["acf1_5min", "verdict"] == (
        "not estimable: need >= 134 markets x 1 h (>= 1600 5 min returns pooled, >= 7 per market)"
    )
    assert facts.loc["abs_acf_lag30", "verdict"].startswith("not estimable: need >= 107 markets")
    assert rz.need_text(rz.FACTS_BY_KEY["acf1_5min"].need, 12, 64, 4) is None


def test_band_text_and_relations():
    assert str(rz.Band(0.1)) == ">= 0.1"
    assert str(rz.Band(high=0.0)) == "<= 0"
    assert str(rz.Band(-0.15, 0.05)) == "[-0.15, 0.05]"
    below = rz.Band(below="kurt_1min")
    assert str(below) == "< excess kurtosis 1 min"
    assert below.holds(1.0, {"kurt_1min": 2.0}) is True
    assert below.holds(1.0, {}) is None


def test_every_fact_has_a_source_and_a_sample_need():
    keys = [f.key for f in rz.FACTS]
    assert len(keys) == len(set(keys))
    for fact in rz.FACTS:
        assert fact.source and fact.need.min_obs > 0
        if fact.band is not None and fact.band.below is None and fact.aapl is not None:
            assert fact.source != "-"


# ----------------------------------------------------------------------------- simulation
def test_collector_records_the_market_on_a_1s_clock():
    rec = rz.collect(MarketConfig(), 3, 2 / 60, seed=5, warmup_s=10.0)
    assert rec.mid.shape == (3, 121) and rec.spread_ticks.shape == (3, 120)
    assert rec.depth_bid.shape == (12, 3, rz.DEPTH_LEVELS)
    assert rec.hours == pytest.approx(2 / 60)
    assert np.nanmin(rec.spread_ticks) >= 1
    assert (rec.events.sum(axis=1) > 0).all() and (rec.volume >= 0).all()
    stats = rz.market_stats(rec)
    assert stats.values["events_per_s"] > 0
    assert stats.values["spread_ticks"] >= 1
    assert "5 min returns" in stats.notes["acf1_5min"]
    assert len(rec.trade_times) == len(rec.trade_signs) == 3 and rec.trades_dropped == 0
    for times, signs in zip(rec.trade_times, rec.trade_signs, strict=True):
        assert times.size == signs.size > 0
        assert np.all(np.diff(times) >= 0) and times[0] > 10.0 and times[-1] <= 130.0
        assert set(np.unique(signs)) == {-1.0, 1.0}
    trades = sum(t.size for t in rec.trade_times)
    assert stats.values["executions_per_s"] == pytest.approx(trades / (3 * 120))
    assert stats.rates["trades"] == pytest.approx(trades / (3 * 2 / 60))
    assert stats.curves["sign_acf"].shape == (rz.TRADE_SIGN_MAX_LAG,)
    again = rz.collect(MarketConfig(), 3, 2 / 60, seed=5, warmup_s=10.0)
    np.testing.assert_array_equal(rec.mid, again.mid)
    np.testing.assert_array_equal(rec.trade_times[2], again.trade_times[2])


@pytest.mark.parametrize("preset", ["default", "legacy"])
def test_trade_signs_persist_only_with_metaorder_runs(preset):
    """The default market splits orders into same-sign runs; legacy draws each sign anew."""
    stats = rz.market_stats(rz.collect(MarketConfig.preset(preset), 4, 10 / 60))
    trades = stats.rates["trades"] * 4 * 10 / 60
    assert 4 / math.sqrt(trades) < 0.1  # the bound below is >= 4 standard errors
    lag1 = stats.values["sign_acf_lag1"]
    if preset == "default":
        assert lag1 > 0.3
    else:
        assert abs(lag1) < 0.1
    assert 0 < stats.values["executions_per_s"] < math.inf


def test_a_trade_tape_overflow_is_reported():
    full = rz.collect(MarketConfig(), 3, 2 / 60, seed=5, warmup_s=10.0)
    rec = rz.collect(MarketConfig(), 3, 2 / 60, seed=5, warmup_s=10.0, tape_capacity=2)
    assert rec.trades_dropped > 0
    assert sum(t.size for t in rec.trade_times) + rec.trades_dropped == sum(
        t.size for t in full.trade_times
    )
    stats = rz.market_stats(rec)
    assert stats.values["executions_per_s"] == rz.market_stats(full).values["executions_per_s"]
    assert math.isnan(stats.values["sign_acf_lag1"]) and "sign_acf" not in stats.curves
    assert (
        f"overflowed within a clock step and dropped {rec.trades_dropped}"
        in (stats.notes["sign_acf_lag100"])
    )
    verdict = rz.evaluate_facts(stats, markets=64, hours=4).loc["sign_acf_lag1", "verdict"]
    assert verdict.startswith("not estimable: trade-sign ACF: the trade tape overflowed")
    with pytest.raises(ConfigError, match="tape_capacity=0"):
        rz.collect(MarketConfig(), 1, 1 / 60, tape_capacity=0)


def test_rule_free_strategy_and_constant_quoter():
    free = econ_mod.rule_free(EnvConfig()).strategy
    assert free.pause_on_news is False and free.trend_widen_fraction == 0.0
    assert free.max_inventory == StrategyConfig().max_inventory
    cfg = EnvConfig()
    policy = econ_mod.ConstantPolicy(cfg, cfg.baseline.normal)
    actions, _ = policy.predict(np.zeros((2, 5)))
    assert actions.shape == (2, 3)
    from mm_gym.envs.core import MarketMakingCore

    params, _ = MarketMakingCore(2, cfg).action_to_params(actions)
    assert params == pytest.approx(np.tile(cfg.baseline.normal, (2, 1)), abs=1e-6)


def test_economics_adds_up():
    econ = econ_mod.mm_economics(MarketConfig(), 2, 2 / 60, regimes=("ranging", "trending_up"))
    ep = econ.episodes
    assert len(ep) == 2 * 2 * 2
    parts = ep["spread_captured"] - ep["fees"] + ep["inventory_carry"]
    assert parts.to_numpy() == pytest.approx(ep["pnl"].to_numpy())
    assert set(econ.table.index) == {
        (q, r) for q in econ_mod.QUOTERS for r in ("ranging", "trending_up")
    }
    assert set(econ_mod.economics_values(econ)) == {
        "mm_baseline_up_vs_ranging",
        "mm_normal_row_up_vs_ranging",
    }


# ----------------------------------------------------------------------------- command
def test_facts_command_writes_the_report_and_plots(tmp_path, capsys):
    out = tmp_path / "facts"
    code = cli.main(["facts", "--markets", "4", "--hours", str(10 / 60), "--out", str(out)])
    assert code == 0
    report = (out / "report.md").read_text()
    head = "| fact | simulated | AAPL | GOOG | band | verdict | legacy default | band source |"
    assert head in report
    assert "ACF of 1 min \\|r\\|, lag 1" in report  # pipes escaped inside the table
    assert "not available" not in report
    facts = pd.read_csv(out / "facts.csv", index_col="key")
    assert facts.loc["sign_acf_lag1", "value"] > 0.3
    assert facts.loc["executions_per_s", "value"] > 0
    assert "not estimable: need >=" in report
    for name in (
        "return_acf",
        "abs_return_acf",
        "signature",
        "depth",
        "trade_sign_acf",
        "economics",
    ):
        assert (out / f"{name}.png").stat().st_size > 1000
    assert (out / "facts.csv").is_file() and (out / "economics.csv").is_file()
    assert "return std 1 s" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--markets", "1"], "--markets=1: too few markets"),
        (["--hours", "0"], "--hours='0'"),
        (["--market", "no_such_preset"], "not a shipped name"),
        (["--market", "missing/file.yaml"], "no such file"),
    ],
)
def test_facts_command_errors_are_one_line(tmp_path, capsys, args, message):
    assert cli.main(["facts", *args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_market_names_resolve_to_presets():
    from mm_gym.commands.facts import resolve_market

    market, name = resolve_market("ranging")
    assert market.pin_regime == "ranging" and name.startswith("ranging")
    assert resolve_market(None)[0] == MarketConfig()
