"""MarketSim: accounting from the fill log, determinism, batch independence."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mm_gym.errors import ConfigError
from mm_gym.market import layout as L
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.config import StrategyConfig

STATE = (
    "book",
    "fs",
    "ints",
    "orders",
    "order_time",
    "pend",
    "pend_time",
    "step_stats",
    "log",
    "mq",
    "mq_head",
    "mq_count",
    "rng",
)


def params_at(step: int, markets: np.ndarray) -> np.ndarray:
    """Quoting parameters that vary with the market index and the step (deterministic)."""
    k = (markets * 7 + step * 3) % 11
    return np.column_stack([0.5 + 0.25 * (k % 5), 0.25 * (k % 4), np.where(k == 10, 0.0, 1.0)])


def run(sim: MarketSim, steps: int, dt: float, markets: np.ndarray | None = None) -> None:
    markets = np.arange(sim.n) if markets is None else markets
    for s in range(steps):
        sim.advance(dt, params_at(s, markets))


def assert_same_market(a: MarketSim, i: int, b: MarketSim, k: int) -> None:
    """Market ``i`` of ``a`` and market ``k`` of ``b`` hold bit-identical state."""
    for name in STATE:
        x, y = getattr(a, name)[i], getattr(b, name)[k]
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), f"{name} differs (market {i} vs {k})"


# ----------------------------------------------------------------------------- accounting
@pytest.mark.parametrize("maker_bps, taker_bps", [(0.5, 2.0), (-0.25, 3.0)])
def test_accounting_matches_fill_log(maker_bps, taker_bps):
    market = MarketConfig(
        initial_price=100.0,  # the run's length gives > 500 maker fills at this price
        fill_log_capacity=50_000,
        maker_fee_bps=maker_bps,
        taker_fee_bps=taker_bps,
    )
    # a tight stop loss makes the engine flatten often: taker fills too
    strategy = StrategyConfig(stop_loss_fraction=0.0005, max_inventory=20)
    n = 8
    sim = MarketSim(n, market=market, strategy=strategy, threads=1)
    sim.reset(np.arange(50, 50 + n))
    run(sim, 80, 10.0)
    tick = market.tick_size
    assert (sim.mints[:, L.MI_LOG_DROPPED] == 0).all()
    assert (sim.mints[:, L.MI_MO_DROPPED] == 0).all()
    n_maker = n_taker = 0
    for i in range(n):
        f = sim.fills(i)
        assert len(f) == sim.mints[i, L.MI_N_FILLS] == sim.mints[i, L.MI_LOG_N]
        maker = f["maker"] == 1.0
        n_maker += maker.sum()
        n_taker += (~maker).sum()
        assert maker.sum() == sim.mints[i, L.MI_N_MAKER_FILLS]
        assert set(np.unique(f["side"])) <= {-1.0, 1.0}
        assert np.all(np.diff(f["time"]) >= 0)
        assert (f["queue_wait"][~maker] == 0).all() and (f["queue_wait"] >= 0).all()
        # prices lie on the tick grid
        np.testing.assert_allclose(f["price"] / tick, np.round(f["price"] / tick), atol=1e-6)

        notional = f["price"] * f["size"]
        fees = notional * np.where(maker, maker_bps, taker_bps) * 1e-4
        gross = np.abs(notional).sum() + 1.0
        assert sim.mfs[i, L.MF_FEES] == pytest.approx(fees.sum(), rel=1e-9, abs=1e-9 * gross)
        cash = -(f["side"] * notional).sum() - fees.sum()
        assert sim.cash[i] == pytest.approx(cash, rel=1e-9, abs=1e-9 * gross)
        assert sim.inventory[i] == int((f["side"] * f["size"]).sum())
        assert sim.mfs[i, L.MF_VOLUME] == f["size"].sum()
        captured = (f["side"] * (f["mid"] - f["price"]) * f["size"])[maker].sum()
        assert sim.mfs[i, L.MF_SPREAD_CAPTURED] == pytest.approx(captured, abs=1e-9 * gross)
        # markouts: the running sums are the resolved entries of the log
        for col, mo, w in (
            ("markout_1s", L.MF_MO1, L.MF_MOW1),
            ("markout_10s", L.MF_MO10, L.MF_MOW10),
            ("markout_60s", L.MF_MO60, L.MF_MOW60),
        ):
            done = ~np.isnan(f[col])
            assert sim.mfs[i, w] == f["size"][done].sum()
            assert sim.mfs[i, mo] == pytest.approx(
                (f[col] * f["size"])[done].sum(), abs=1e-9 * gross
            )
            # resolved at the first sampling tick after the horizon, not before
            horizon = float(col.split("_")[1][:-1])
            assert done[f["time"] + horizon < sim.time[i] - 0.2].all()
            assert not done[f["time"] + horizon > sim.time[i]].any()
        # equity is cash plus inventory at the mid
        mid = sim.fs[i, L.F_MID] * tick
        assert sim.mid[i] == mid
        assert sim.equity[i] == sim.cash[i] + sim.inventory[i] * mid
    assert n_maker > 500 and n_taker > 5


def test_step_counters_cover_the_last_step():
    sim = MarketSim(4, market=MarketConfig(fill_log_capacity=10_000), threads=1)
    sim.reset(np.arange(4))
    run(sim, 20, 15.0)
    t1 = sim.time.copy()
    sim.advance(30.0, np.tile([1.0, 0.5, 1.0], (4, 1)))
    for i in range(4):
        f = sim.fills(i)
        last = f[f["time"] >= t1[i]]
        st = sim.step_stats[i]
        assert st[L.S_FILLS] == len(last)
        assert st[L.S_BUY_LOTS] == last["size"][last["side"] > 0].sum()
        assert st[L.S_SELL_LOTS] == last["size"][last["side"] < 0].sum()
        assert 0.0 <= st[L.S_QUOTING_TIME] <= 30.0 + 1e-9
    assert sim.step_stats[:, L.S_FILLS].sum() > 0


# ----------------------------------------------------------------------------- determinism
def test_same_seeds_bit_identical():
    cfg = MarketConfig(fill_log_capacity=2_000)
    a = MarketSim(6, market=cfg, threads=1)
    b = MarketSim(6, market=cfg, threads=1)
    seeds = [3, 1, 4, 1, 5, 9]
    a.reset(seeds)
    b.reset(seeds)
    run(a, 30, 4.0)
    run(b, 30, 4.0)
    for i in range(6):
        assert_same_market(a, i, b, i)
    assert a.mints[:, L.MI_N_FILLS].sum() > 0
    c = MarketSim(6, market=cfg, threads=1)
    c.reset([3, 1, 4, 1, 5, 10])
    run(c, 30, 4.0)
    assert a.fs[5].tobytes() != c.fs[5].tobytes()  # another seed, another episode
    assert a.fs[0].tobytes() == c.fs[0].tobytes()


def test_market_alone_equals_market_in_batch_any_threads():
    cfg = MarketConfig(fill_log_capacity=2_000)
    n = 256
    seeds = np.arange(1000, 1000 + n)
    batches = []
    for threads in (1, 2):
        sim = MarketSim(n, market=cfg, threads=threads)
        assert sim.threads == threads
        sim.reset(seeds)
        run(sim, 30, 2.0)
        batches.append(sim)
    for i in range(n):
        assert_same_market(batches[0], i, batches[1], i)
    for i in (0, 1, 97, 200, 255):
        alone = MarketSim(1, market=cfg, threads=1)
        alone.reset([seeds[i]])
        run(alone, 30, 2.0, markets=np.array([i]))
        assert_same_market(batches[0], i, alone, 0)
    assert batches[0].mints[:, L.MI_N_FILLS].sum() > 0


def test_reset_mask_gives_a_fresh_episode():
    cfg = MarketConfig(fill_log_capacity=1_000)
    sim = MarketSim(4, market=cfg, threads=1)
    sim.reset([7, 8, 9, 10])
    run(sim, 10, 3.0)
    before = {name: getattr(sim, name).copy() for name in STATE}
    mask = np.array([False, True, False, False])
    sim.reset([0, 42, 0, 0], mask=mask)
    for name in STATE:  # the others are untouched
        for i in (0, 2, 3):
            assert getattr(sim, name)[i].tobytes() == before[name][i].tobytes(), name
    # market 1 restarts at time 0 from seed 42, as a fresh simulation does
    fresh = MarketSim(1, market=cfg, threads=1)
    fresh.reset([42])
    assert sim.time[1] == 0.0
    p = np.tile([1.0, 0.5, 1.0], (4, 1))
    sim.advance(20.0, p, mask=mask)
    fresh.advance(20.0, p[:1])
    for name in STATE:
        if name == "log":  # the old entries beyond the new count are stale, as documented
            n = int(sim.mints[1, L.MI_LOG_N])
            assert sim.log[1, :n].tobytes() == fresh.log[0, :n].tobytes()
            continue
        if name == "mq":
            continue  # ring-buffer slots outside the live window may hold old fills
        assert getattr(sim, name)[1].tobytes() == getattr(fresh, name)[0].tobytes(), name
    assert sim.time[0] == before["fs"][0, L.F_T]  # masked out: did not advance


def test_sim_argument_errors():
    with pytest.raises(ConfigError, match="num_markets=0"):
        MarketSim(0)
    with pytest.raises(ConfigError, match="threads=0"):
        MarketSim(2, threads=0)
    sim = MarketSim(2, threads=1)
    with pytest.raises(ConfigError, match="seeds shape"):
        sim.reset([1, 2, 3])


def test_bench_market_smoke():
    from mm_gym.evaluation.bench import bench_market

    out = bench_market(num_markets=8, seconds=0.05)
    assert out["lob_events_per_s"] > 0 and out["lob_market_seconds_per_s"] > 0
    assert 20 < out["events_per_market_second"] < 80  # the default market: ~40 events/s
    assert out["threads"] == 1 and out["num_markets"] == 8
    with pytest.raises(ConfigError, match="seconds=0"):
        bench_market(seconds=0)


def test_bench_makers_smoke():
    from mm_gym.evaluation.bench import bench_makers

    out = bench_makers(3, num_books=4, seconds=0.05, threads=1)
    assert set(out) == {"kernel", "env"} and out["kernel"] > 0 and out["env"] > 0


def test_bench_breakdown_and_scaling_smoke():
    from mm_gym.evaluation.bench import breakdown, scaling

    parts = breakdown(seconds=0.05, num_markets=8)
    shares = ("background_events", "sampling_clock", "quotes_and_orders", "python_step")
    assert sum(parts[k] for k in shares) == pytest.approx(1.0)
    assert parts["method"] and parts["vector_env_step_us"] > parts["vector_env_advance_us"] > 0
    for rate in parts["events_per_market_second"].values():
        assert 20 < rate < 80  # the same flow in every mode
    rows = scaling(seconds=0.02, sizes=(1, 4))
    assert list(rows) == ["1", "4"]
    assert all(r["events_per_s"] > 0 and r["bytes_per_market"] > 1000 for r in rows.values())


def test_regimes_news_and_fair_value_do_not_depend_on_the_policy() -> None:
    """Common random numbers: the exogenous path is the same whatever the agent quotes."""
    paths = []
    for params in ([1.0, 0.5, 1.0], [3.0, 0.0, 0.2], [0.5, 2.0, 0.0]):
        sim = MarketSim(4, MarketConfig(news={"rate_per_hour": 30.0}))
        sim.reset(np.arange(4))
        regimes, fair, news = [], [], []
        for _ in range(300):
            sim.advance(1.0, np.tile(params, (4, 1)))
            regimes.append(sim.regime.copy())
            fair.append(sim.fs[:, L.F_FAIR].copy())
            news.append(sim.fs[:, L.F_NEWS_END] < L.INF)
        paths.append((np.array(regimes), np.array(fair), np.array(news)))
    for other in paths[1:]:
        for a, b in zip(paths[0], other, strict=True):
            np.testing.assert_array_equal(a, b)
    assert paths[0][2].any()  # news happened


def test_the_default_threads_follow_mm_gym_threads(monkeypatch):
    from mm_gym.market.sim import THREADS_ENV, default_threads

    monkeypatch.setenv(THREADS_ENV, "3")
    assert default_threads() == 3
    assert MarketSim(64).threads == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(THREADS_ENV, bad)
        with pytest.raises(ConfigError, match=f"MM_GYM_THREADS='{bad}': expected an integer >= 1"):
            default_threads()
    monkeypatch.delenv(THREADS_ENV)
    assert default_threads() == min(os.cpu_count() or 1, 8)
