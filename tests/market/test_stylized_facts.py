"""Stylized facts of the simulated market: volatility by regime, trends, news, adverse selection.

Each test runs a few dozen markets for 30-60 simulated minutes with fixed seeds, and checks a
property with a wide margin (the measured effect is several standard errors from the bound).
"""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.market import layout as L
from mm_gym.market.config import MarketConfig
from mm_gym.market.regimes import NEWS
from mm_gym.market.sim import MarketSim

NO_NEWS = {"rate_per_hour": 0.0}
QUOTING = (1.0, 0.5, 1.0)


def simulate(cfg: MarketConfig, n: int, minutes: float, seed: int, dt: float = 1.0):
    """Run ``n`` markets; return the sim and per-step mid (currency), spread (ticks), regime."""
    sim = MarketSim(n, market=cfg, threads=1)
    sim.reset(np.arange(seed, seed + n))
    params = np.tile(QUOTING, (n, 1))
    steps = int(round(minutes * 60 / dt))
    mids = np.empty((steps + 1, n))
    spreads = np.empty((steps, n))
    regimes = np.empty((steps, n), dtype=np.int64)
    mids[0] = sim.mid
    for k in range(steps):
        sim.advance(dt, params)
        mids[k + 1] = sim.mid
        bb, ba = sim.ints[:, L.I_BEST_BID], sim.ints[:, L.I_BEST_ASK]
        spreads[k] = np.where((bb >= 0) & (ba >= 0), ba - bb, np.nan)
        regimes[k] = sim.regime
    return sim, mids, spreads, regimes


def realised_vol(mids: np.ndarray, every: int) -> float:
    """Standard deviation of log returns over ``every`` steps, pooled over markets."""
    return float(np.diff(np.log(mids[::every]), axis=0).std())


def test_high_vol_regime_is_at_least_twice_as_volatile():
    _, calm, _, _ = simulate(MarketConfig(pin_regime="ranging", news=NO_NEWS), 24, 30, seed=0)
    _, wild, _, _ = simulate(MarketConfig(pin_regime="high_vol", news=NO_NEWS), 24, 30, seed=0)
    v_calm, v_wild = realised_vol(calm, 60), realised_vol(wild, 60)
    assert v_calm > 0
    assert v_wild >= 2.0 * v_calm, (v_wild, v_calm)


@pytest.mark.parametrize("regime, sign", [("trending_up", 1.0), ("trending_down", -1.0)])
def test_trending_regimes_drift_the_mid(regime, sign):
    cfg = MarketConfig(pin_regime=regime, news=NO_NEWS)
    _, mids, _, _ = simulate(cfg, 32, 60, seed=100, dt=5.0)
    ret_bps = np.log(mids[-1] / mids[0]) * 1e4
    mean, se = ret_bps.mean(), ret_bps.std(ddof=1) / np.sqrt(ret_bps.size)
    assert sign * mean > 4.0 * se, (mean, se)
    # the size is about the configured drift of the fair value: the mid follows it
    drift = cfg.regimes[regime].drift_bps_per_s * 60 * 60
    assert abs(sign * mean - abs(drift)) < 3.0 * se, (mean, drift, se)


def test_ranging_regime_has_no_significant_drift():
    _, mids, _, _ = simulate(
        MarketConfig(pin_regime="ranging", news=NO_NEWS), 32, 60, seed=100, dt=5.0
    )
    ret_bps = np.log(mids[-1] / mids[0]) * 1e4
    se = ret_bps.std(ddof=1) / np.sqrt(ret_bps.size)
    assert abs(ret_bps.mean()) < 3.0 * se  # a trend would move it by about 8 se


def test_news_widens_the_background_spread():
    cfg = MarketConfig(news={"rate_per_hour": 120.0, "duration_s": 30.0})
    sim, _, spreads, regimes = simulate(cfg, 16, 30, seed=200)
    news = regimes == NEWS
    assert 0.2 < news.mean() < 0.8  # enough samples of both
    assert sim.ints[:, L.I_NEWS_COUNT].sum() > 100
    # the spread while both sides of the background book are quoted
    during = np.nanmean(spreads[news])
    outside = np.nanmean(spreads[~news])
    assert during > 1.3 * outside, (during, outside)
    per_market = np.array(
        [
            np.nanmean(spreads[news[:, i], i]) - np.nanmean(spreads[~news[:, i], i])
            for i in range(news.shape[1])
        ]
    )
    assert per_market.mean() > 4.0 * per_market.std(ddof=1) / np.sqrt(per_market.size)
    # and liquidity is withdrawn: a side of the book is empty far more often
    empty = np.isnan(spreads)
    assert empty[news].mean() > 5.0 * empty[~news].mean() + 0.01


def markout_10s(cfg: MarketConfig, seed: int, n: int = 32, minutes: float = 30):
    """Size-weighted 10 s markout of the agent's fills (currency per lot), and per market."""
    sim = MarketSim(n, market=cfg, threads=1)
    sim.reset(np.arange(seed, seed + n))
    params = np.tile(QUOTING, (n, 1))
    for _ in range(int(minutes * 6)):
        sim.advance(10.0, params)
    mo, w = sim.mfs[:, L.MF_MO10], sim.mfs[:, L.MF_MOW10]
    assert (w > 0).all()
    return mo.sum() / w.sum(), mo / w


def test_agent_fills_are_adversely_selected_by_informed_flow():
    # without metaorder runs, which select adversely too (a run's next order moves the mid),
    # and at a constant volatility (the time of day makes the markets' markouts differ)
    base = {"pin_regime": "ranging", "news": NO_NEWS, "metaorder_alpha": 0.0}
    base["volatility"] = {"slow_sd": 0.0, "switch_ratio": 1.0, "intraday_amplitude": 0.0}
    informed = MarketConfig(**base, informed_rate=2.0)
    uninformed = MarketConfig(**base, informed_rate=0.0)
    pooled_inf, per_inf = markout_10s(informed, seed=300, n=48, minutes=60)
    pooled_uninf, per_uninf = markout_10s(uninformed, seed=300, n=48, minutes=60)
    # the mid moves against the agent after its fills
    assert pooled_inf < 0
    se_inf = per_inf.std(ddof=1) / np.sqrt(per_inf.size)
    assert per_inf.mean() < -4.0 * se_inf
    # informed flow adds to it: without it the markout is markedly closer to zero
    se = np.hypot(se_inf, per_uninf.std(ddof=1) / np.sqrt(per_uninf.size))
    assert per_uninf.mean() - per_inf.mean() > 4.0 * se, (per_inf.mean(), per_uninf.mean(), se)
    assert pooled_uninf > pooled_inf


def test_default_market_fills_are_adversely_selected():
    pooled, _ = markout_10s(MarketConfig(), seed=400, n=16, minutes=30)
    assert pooled < 0


def _fills_of_a_fixed_quoter(price: float, regime: str, n: int = 64) -> np.ndarray:
    """Fills per market in 30 min of a quoter at 1.5x the base spread (the document's
    trending row), inventory skew 0.5, full size."""
    sim = MarketSim(n, MarketConfig(initial_price=price, pin_regime=regime), threads=1)
    sim.reset(np.arange(7000, 7000 + n))
    sim.advance(1800.0, np.tile((1.5, 0.5, 1.0), (n, 1)))
    return sim.mints[:, L.MI_N_FILLS].astype(float)


def test_a_rising_and_a_falling_market_fill_a_fixed_quoter_alike():
    # quotes are rounded outward from bps of the mid; at 2000 ticks (price 100 with a 5 bp
    # tick) every multiplier of the document's table puts the half-spread exactly on a tick,
    # and a rise pushes the quotes one tick out where a fall does not
    z = {}
    for price in (MarketConfig().initial_price, 100.0):
        up = _fills_of_a_fixed_quoter(price, "trending_up")
        down = _fills_of_a_fixed_quoter(price, "trending_down")
        se = np.hypot(up.std(ddof=1), down.std(ddof=1)) / np.sqrt(up.size)
        z[price] = (down.mean() - up.mean()) / se
    assert abs(z[MarketConfig().initial_price]) < 3.0, z
    assert z[100.0] > 3.0, z  # the knife edge the default's start price stays off
