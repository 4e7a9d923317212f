"""The shipped markets against the bands drawn from NASDAQ data (LOBSTER sample
day 2012-06-21, AAPL and GOOG).

Each preset runs once (32 markets x 2 h, regimes switching, quoting the table's normal row,
trade tape on) and every band is its own test. A statistic must lie in its band widened by
two standard errors (jackknife over markets): the tests hold at this size, while the figures
documented in the preset files (64 markets x 4 h) meet the bands themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from mm_gym.envs.baseline_policy import RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.evaluation.episodes import run_episodes
from mm_gym.market import layout as L
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MarketSim

pytestmark = pytest.mark.slow

MARKETS, HOURS = 32, 2.0
QUOTING = (1.0, 0.5, 1.0)
DEPTH_EVERY_S = 60


@dataclass
class Run:
    """One preset's run: log mid (bps) on a 1 s grid, trade signs, spreads, depth."""

    cfg: MarketConfig
    log_mid: np.ndarray  # (seconds + 1, markets)
    signs: list[np.ndarray]  # background market orders per market, in time order
    spread_ticks: np.ndarray  # (seconds, markets), nan while a side is empty
    depth: np.ndarray  # (samples, markets, 5): lots on the first five non-empty ask levels
    seconds: int

    def returns(self, every_s: int, markets: np.ndarray) -> np.ndarray:
        return np.diff(self.log_mid[::every_s, markets], axis=0)


def first_ask_levels(sim: MarketSim, levels: int) -> np.ndarray:
    """Lots on the first ``levels`` non-empty ask levels of each market (0 where fewer)."""
    out = np.zeros((sim.n, levels))
    for i in range(sim.n):
        best = sim.ints[i, L.I_BEST_ASK] - sim.ints[i, L.I_ORIGIN]
        if sim.ints[i, L.I_BEST_ASK] >= 0:
            book = sim.book[i, 1, best:]
            lots = book[book > 0][:levels]
            out[i, : lots.size] = lots
    return out


@functools.cache
def simulate(name: str) -> Run:
    cfg = MarketConfig.preset(name)
    sim = MarketSim(MARKETS, market=cfg, threads=1, tape_capacity=200_000)
    sim.reset(np.arange(MARKETS))
    params = np.tile(QUOTING, (MARKETS, 1))
    seconds = int(HOURS * 3600)
    mids = np.empty((seconds + 1, MARKETS))
    spread = np.empty((seconds, MARKETS))
    depth = []
    mids[0] = sim.mid
    for k in range(seconds):
        sim.advance(1.0, params)
        mids[k + 1] = sim.mid
        spread[k] = (sim.best_ask - sim.best_bid) / cfg.tick_size  # nan: a side is empty
        if k % DEPTH_EVERY_S == 0:
            depth.append(first_ask_levels(sim, 5))
    signs = [sim.trades(i)["sign"] for i in range(MARKETS)]
    return Run(cfg, np.log(mids) * 1e4, signs, spread, np.array(depth), seconds)


# ----------------------------------------------------------------------------- statistics
def acf(x: np.ndarray, lag: int) -> float:
    """Autocorrelation at ``lag`` of the columns of ``x``, pooled (one mean over all)."""
    x = x - x.mean()
    return float((x[:-lag] * x[lag:]).sum() / (x * x).sum() * len(x) / (len(x) - lag))


def kurtosis(x: np.ndarray) -> float:
    x = x - x.mean()
    return float((x**4).mean() / (x**2).mean() ** 2 - 3.0)


def sign_acf(signs: list[np.ndarray], lag: int) -> float:
    allsigns = np.concatenate(signs)
    mu, var = allsigns.mean(), allsigns.var()
    num = sum(((s[:-lag] - mu) * (s[lag:] - mu)).sum() for s in signs)
    return float(num / sum(len(s) - lag for s in signs) / var)


STATS: dict[str, Callable[[Run, np.ndarray], float]] = {
    "acf1_1s": lambda r, m: acf(r.returns(1, m), 1),
    "acf1_1min": lambda r, m: acf(r.returns(60, m), 1),
    "acf1_5min": lambda r, m: acf(r.returns(300, m), 1),
    "kurtosis_1min": lambda r, m: kurtosis(r.returns(60, m)),
    "kurtosis_drop_1min_to_5min": lambda r, m: (
        kurtosis(r.returns(60, m)) - kurtosis(r.returns(300, m))
    ),
    "abs_acf_1min_lag1": lambda r, m: acf(np.abs(r.returns(60, m)), 1),
    "abs_acf_1min_lag30": lambda r, m: acf(np.abs(r.returns(60, m)), 30),
    "sign_acf_lag1": lambda r, m: sign_acf([r.signs[i] for i in m], 1),
    "sign_acf_lag10": lambda r, m: sign_acf([r.signs[i] for i in m], 10),
    # realised variance a second, sampled each second over sampled each minute
    "signature_ratio": lambda r, m: float(
        (r.returns(1, m) ** 2).mean() / ((r.returns(60, m) ** 2).mean() / 60.0)
    ),
    "std_1s_bps": lambda r, m: float(r.returns(1, m).std()),
    "std_1min_bps": lambda r, m: float(r.returns(60, m).std()),
    "spread_ticks": lambda r, m: float(np.nanmean(r.spread_ticks[:, m])),
    "spread_bps": lambda r, m: float(
        np.nanmean(r.spread_ticks[:, m]) * r.cfg.tick_size / r.cfg.initial_price * 1e4
    ),
    "executions_per_s": lambda r, m: sum(len(r.signs[i]) for i in m) / (len(m) * r.seconds),
    "depth_level1_lots": lambda r, m: float(r.depth[:, m, 0].mean()),
    "depth_level5_lots": lambda r, m: float(r.depth[:, m, 4].mean()),
}


def estimate(run: Run, stat: str) -> tuple[float, float]:
    """The statistic over all markets and its jackknife standard error over markets."""
    fn = STATS[stat]
    everyone = np.arange(MARKETS)
    value = fn(run, everyone)
    loo = np.array([fn(run, np.delete(everyone, i)) for i in range(MARKETS)])
    se = float(np.sqrt((MARKETS - 1) / MARKETS * ((loo - loo.mean()) ** 2).sum()))
    return value, se


# ----------------------------------------------------------------------------- bands
INF = float("inf")
STYLIZED = {  # bands every calibrated market meets
    "acf1_1min": (-0.15, 0.05),
    "acf1_5min": (-0.05, 0.05),
    "kurtosis_1min": (2.0, 10.0),
    "kurtosis_drop_1min_to_5min": (0.0, INF),
    "abs_acf_1min_lag1": (0.10, INF),
    "sign_acf_lag1": (0.3, INF),
    "sign_acf_lag10": (0.05, INF),
}
DEFAULT = {
    **STYLIZED,
    # one mean over all markets, as the other statistics here: 2 h per market is too short to
    # demean each on its own (about 0.00 +- 0.02 here); `mm-gym facts` does so over 4 h, where
    # the default's calm/busy states, which vary within hours, give 0.069 (64 markets)
    "abs_acf_1min_lag30": (0.05, INF),
}
SMALL_TICK = {  # AAPL ; GOOG: 0.60 ; 0.70 bp at 1 s, 4.8 ; 5.2 bp at 1 min, ...
    **STYLIZED,
    "acf1_1s": (-0.05, 0.05),
    "signature_ratio": (0.7, 1.4),
    "std_1s_bps": (0.5, 0.8),
    "std_1min_bps": (4.0, 6.0),
    "spread_ticks": (15.0, 27.0),
    "spread_bps": (2.6, 4.8),
    "executions_per_s": (0.5, 1.5),
    "depth_level1_lots": (10.0, 25.0),  # GOOG: 148 ask, 166 bid shares; lots of 10 shares
    "depth_level5_lots": (5.0, 25.0),  # 68 ; 97
}
LEGACY_FAILS = {  # what the calibration found wrong with the old default, still there in legacy
    "acf1_5min": (0.05, INF),  # momentum from the trends
    "signature_ratio": (1.4, INF),  # bid-ask bounce
    "sign_acf_lag1": (-0.1, 0.1),  # independent trade signs
}
CASES = [
    *[("default", stat, band) for stat, band in DEFAULT.items()],
    *[("small_tick", stat, band) for stat, band in SMALL_TICK.items()],
    *[("legacy", stat, band) for stat, band in LEGACY_FAILS.items()],
]


@pytest.mark.parametrize("preset, stat, band", CASES, ids=[f"{p}-{s}" for p, s, _ in CASES])
def test_preset_meets_its_band(preset, stat, band):
    value, se = estimate(simulate(preset), stat)
    low, high = band
    assert low - 2.0 * se <= value <= high + 2.0 * se, (value, se, band)


# ----------------------------------------------------------------------------- trends
def test_default_trends_are_real_over_visits():
    """Pooled over the trend visits of the switching market, the mid moves with the drift."""
    cfg = MarketConfig()
    sim = MarketSim(MARKETS, market=cfg, threads=1)
    sim.reset(np.arange(100, 100 + MARKETS))
    params = np.tile(QUOTING, (MARKETS, 1))
    signed, seconds = [], 0
    direction = {1: 1.0, 2: -1.0}  # trending_up, trending_down
    for _ in range(int(HOURS * 3600 / 10)):
        before, regime = sim.mid.copy(), sim.regime.copy()
        sim.advance(10.0, params)
        ret = np.log(sim.mid / before) * 1e4
        for k, s in direction.items():
            signed.append(s * ret[regime == k])
            seconds += 10 * int((regime == k).sum())
    moves = np.concatenate(signed)
    drift = moves.sum() / seconds
    se = moves.std() * np.sqrt(moves.size) / seconds
    assert drift > 4.0 * se, (drift, se)
    assert drift < 2.0 * cfg.regimes["trending_up"].drift_bps_per_s


def test_default_trends_cost_the_baseline():
    """The strategy document's baseline earns less an hour with a trend pinned than ranging."""
    pnl = {}
    for regime in ("ranging", "trending_up", "trending_down"):
        cfg = EnvConfig(market=MarketConfig(pin_regime=regime))
        episodes = run_episodes(RuleBasedPolicy(cfg), cfg, list(range(16))).episodes
        pnl[regime] = episodes["pnl"].to_numpy()
    ranging = pnl["ranging"].mean()
    for regime in ("trending_up", "trending_down"):
        assert pnl[regime].mean() < ranging, (regime, pnl[regime].mean(), ranging)
