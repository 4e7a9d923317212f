"""The order-flow and volatility options: trade tape, metaorder runs, trend flow, fair-anchored
limit orders with stale quotes pulled, stochastic volatility; and markets refused up front."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.errors import ConfigError
from mm_gym.market import layout as L
from mm_gym.market import volatility as V
from mm_gym.market.config import MarketConfig, RegimeParams, VolatilityConfig
from mm_gym.market.sim import MarketSim

NO_NEWS = {"rate_per_hour": 0.0}
QUOTING = (1.0, 0.5, 1.0)
NOT_QUOTING = (1.0, 0.5, 0.0)  # size 0: the agent never trades


def run(cfg: MarketConfig, n: int, seconds: int, *, tape: int = 0, params=QUOTING, dt=1.0):
    sim = MarketSim(n, market=cfg, threads=1, tape_capacity=tape)
    sim.reset(np.arange(n))
    p = np.tile(params, (n, 1))
    for _ in range(int(seconds / dt)):
        sim.advance(dt, p)
    return sim


def sign_acf(signs: list[np.ndarray], lags: tuple[int, ...]) -> np.ndarray:
    """Autocorrelation of trade signs pooled over markets."""
    allsigns = np.concatenate(signs)
    mu, var = allsigns.mean(), allsigns.var()
    out = []
    for lag in lags:
        num = sum(((s[:-lag] - mu) * (s[lag:] - mu)).sum() for s in signs)
        out.append(num / sum(len(s) - lag for s in signs) / var)
    return np.array(out)


# ----------------------------------------------------------------------------- trade tape
def test_tape_is_off_by_default_and_changes_nothing():
    cfg = MarketConfig(pin_regime="ranging")
    plain = run(cfg, 2, 60)
    taped = run(cfg, 2, 60, tape=10_000)
    assert plain.tape.shape == (2, 0, L.NTAPE) and len(plain.trades(0)) == 0
    for name in ("book", "fs", "ints", "orders", "rng"):
        a, b = getattr(plain, name), getattr(taped, name)
        if name == "ints":  # the tape's own counter aside
            a, b = np.delete(a, L.I_TAPE_N, axis=1), np.delete(b, L.I_TAPE_N, axis=1)
        assert a.tobytes() == b.tobytes(), name


def test_tape_holds_every_background_market_order():
    sim = run(MarketConfig(), 3, 300, tape=100_000, params=NOT_QUOTING)
    for i in range(3):
        tr = sim.trades(i)
        assert len(tr) == sim.ints[i, L.I_TAPE_N] > 100
        assert tr["lots"].sum() == sim.ints[i, L.I_VOL_TRADED]  # the agent took nothing
        assert np.all(np.diff(tr["time"]) >= 0) and set(np.unique(tr["sign"])) == {-1.0, 1.0}
        assert set(np.unique(tr["kind"])) <= set(range(len(L.TAPE_KINDS)))
        assert np.allclose(tr["price"] / 0.05, np.round(tr["price"] / 0.05))


def test_a_small_tape_keeps_the_last_records_in_order():
    big = run(MarketConfig(), 1, 120, tape=100_000)
    small = run(MarketConfig(), 1, 120, tape=7)
    all_trades, last = big.trades(0), small.trades(0)
    assert len(last) == 7 and small.ints[0, L.I_TAPE_N] == len(all_trades)
    assert last.tobytes() == all_trades[-7:].tobytes()
    with pytest.raises(ConfigError, match="tape_capacity=-1"):
        MarketSim(1, tape_capacity=-1)


# ----------------------------------------------------------------------------- metaorders
def run_length_acf(alpha: float, longest: int, lags: tuple[int, ...]) -> np.ndarray:
    """Sign autocorrelation of runs with P(L >= l) = l**-alpha, capped: E[(L-k)+] / E[L]."""
    lengths = np.arange(1, longest + 1)
    survival = lengths.astype(float) ** -alpha  # P(L >= l)
    mean = survival.sum()
    return np.array([survival[lag:].sum() / mean for lag in lags])


def test_noise_orders_come_in_runs_of_one_sign():
    base = {"pin_regime": "ranging", "news": NO_NEWS, "informed_rate": 0.0}
    lags = (1, 10)
    runs = MarketConfig(**base, metaorder_alpha=1.6, metaorder_max_orders=50)
    sim = run(runs, 8, 900, tape=100_000, params=NOT_QUOTING)
    measured = sign_acf([sim.trades(i)["sign"] for i in range(8)], lags)
    expected = run_length_acf(1.6, 50, lags)
    np.testing.assert_allclose(measured, expected, atol=0.05)
    assert measured[0] > 0.5
    coin = run(MarketConfig(**base, metaorder_alpha=0.0), 8, 900, tape=100_000, params=NOT_QUOTING)
    assert np.all(np.abs(sign_acf([coin.trades(i)["sign"] for i in range(8)], lags)) < 0.03)


# ----------------------------------------------------------------------------- trend flow
@pytest.mark.parametrize("regime, sign", [("trending_up", 1.0), ("trending_down", -1.0)])
def test_trend_flow_trades_on_the_drifts_side_only(regime, sign):
    flow = {"trend_flow_rate": 4.0, "trend_flow_size_mean": 10.0}
    cfg = MarketConfig(pin_regime=regime, news=NO_NEWS, regimes={regime: flow})
    sim = run(cfg, 8, 900, tape=100_000)
    kinds = np.concatenate([sim.trades(i)["kind"] for i in range(8)])
    signs = np.concatenate([sim.trades(i)["sign"] for i in range(8)])
    trend = kinds == L.TAPE_KINDS.index("trend")
    assert trend.sum() > 20 and np.all(signs[trend] == sign)


def test_trend_flow_needs_a_drift():
    with pytest.raises(ConfigError, match=r"trend_flow_rate=1\.0: needs a nonzero drift"):
        RegimeParams(trend_flow_rate=1.0)
    with pytest.raises(ConfigError, match=r"^regimes\.ranging\.trend_flow_rate=1\.0"):
        MarketConfig(regimes={"ranging": {"trend_flow_rate": 1.0}})


# ----------------------------------------------------------------------------- fair anchor
def test_fair_anchored_quotes_stay_off_the_fair_value():
    cfg = MarketConfig(
        tick_size=0.01,
        initial_price=100.0,
        window_levels=256,
        initial_spread_ticks=12,
        limit_fair_fraction=1.0,
        limit_fair_offset_ticks=6.0,
        limit_pull_ticks=4.0,
        news=NO_NEWS,
    )
    sim = MarketSim(4, market=cfg, threads=1)
    sim.reset(np.arange(4))
    params = np.tile(QUOTING, (4, 1))
    for _ in range(600):
        sim.advance(1.0, params)
        fair = sim.fs[:, L.F_FAIR]
        bid, ask = sim.ints[:, L.I_BEST_BID], sim.ints[:, L.I_BEST_ASK]
        assert np.all((bid < 0) | (bid <= fair - 4.0)) and np.all((ask < 0) | (ask >= fair + 4.0))
    assert sim.ints[:, L.I_VOL_TRADED].sum() > 0


# ----------------------------------------------------------------------------- volatility
def ranging_volatility(vol: dict, minutes: int, n: int = 32):
    """A batch of ranging markets without news or quotes: the fair value's 1-min log returns
    (bps, minutes x markets), the calm/busy state at the end of each minute, and the sim."""
    cfg = MarketConfig(pin_regime="ranging", news=NO_NEWS, volatility=vol)
    sim = MarketSim(n, market=cfg, threads=1)
    sim.reset(np.arange(n))
    params = np.tile(NOT_QUOTING, (n, 1))
    fair, busy = [sim.fair_value.copy()], []
    for _ in range(minutes):
        sim.advance(60.0, params)
        fair.append(sim.fair_value.copy())
        busy.append(sim.fs[:, L.F_SV_BUSY].copy())
    return np.diff(np.log(np.array(fair)) * 1e4, axis=0), np.array(busy), sim


def test_stochastic_volatility_keeps_the_mean_variance():
    sv = {"fast_sd": 0.3, "fast_halflife_s": 60.0, "slow_sd": 0.35, "slow_halflife_s": 3600.0}
    sv["switch_ratio"], sv["intraday_amplitude"] = 1.0, 0.0  # the factors alone
    variances, abs_acf = [], []
    for vol in ({**sv, "fast_sd": 0.0, "slow_sd": 0.0}, sv):
        r, _, _ = ranging_volatility(vol, minutes=60)
        variances.append((r**2).mean())
        a = np.abs(r) - np.abs(r).mean()
        abs_acf.append((a[:-1] * a[1:]).sum() / (a * a).sum())
    expected = (0.8**2) * 60  # bps^2 per minute of the ranging regime
    assert variances[0] == pytest.approx(expected, rel=0.1)
    assert variances[1] == pytest.approx(expected, rel=0.25)
    assert abs_acf[1] > abs_acf[0] + 0.1  # volatility clusters


def test_calm_busy_levels_keep_the_mean_variance():
    for ratio in (1.0, 2.0, 5.0):
        mp, _ = L.pack_market(MarketConfig(volatility={"switch_ratio": ratio}))
        calm, busy = mp[L.MP_SV_CALM], mp[L.MP_SV_BUSY]
        assert busy == pytest.approx(ratio * calm)
        assert (calm**2 + busy**2) / 2 == pytest.approx(1.0)  # half the time in each state


def test_calm_busy_switching_keeps_the_mean_variance_and_clusters():
    off = {"fast_sd": 0.0, "slow_sd": 0.0, "switch_ratio": 1.0, "intraday_amplitude": 0.0}
    on = {**off, "switch_ratio": 5.0, "switch_mean_s": 600.0}
    variances, abs_acf, busy = [], [], []
    for vol in (off, on):
        r, states, _ = ranging_volatility(vol, minutes=90)
        variances.append((r**2).mean())
        a = np.abs(r) - np.abs(r).mean(axis=0)  # each market demeaned on its own
        abs_acf.append((a[:-1] * a[1:]).sum() / (a * a).sum())
        busy.append(np.mean(states))
    expected = (0.8**2) * 60  # bps^2 per minute of the ranging regime
    assert variances[0] == pytest.approx(expected, rel=0.1)
    assert variances[1] == pytest.approx(expected, rel=0.25)
    assert busy[0] == 0.0 and 0.35 < busy[1] < 0.65  # off: never busy; on: half the time
    assert abs_acf[1] > abs_acf[0] + 0.1  # volatility clusters


def test_intraday_pattern_is_a_u_shape_of_mean_square_one():
    a, day = 0.6, 23_400.0
    mp, _ = L.pack_market(MarketConfig(volatility={"intraday_amplitude": a, "day_s": day}))
    grid = np.linspace(0.0, day, 20_001)[:-1]
    levels = np.array([V.intraday_level(t, mp) for t in grid])
    norm = 1.0 / np.sqrt(1.0 + 0.8 * a * a)
    assert np.mean(levels**2) == pytest.approx(1.0, abs=1e-3)  # the mean variance is kept
    assert levels[0] == pytest.approx(norm * (1 + 2 * a))  # the open
    assert levels[len(grid) // 2] == pytest.approx(norm * (1 - a))  # midday, the lowest
    assert levels.min() == pytest.approx(norm * (1 - a), rel=1e-6)
    assert V.intraday_level(day + 100.0, mp) == pytest.approx(V.intraday_level(100.0, mp))
    assert V.intraday_level(day - 100.0, mp) == pytest.approx(V.intraday_level(100.0, mp))


def test_intraday_pattern_moves_volatility_with_the_time_of_day():
    off = {"slow_sd": 0.0, "fast_sd": 0.0, "switch_ratio": 1.0, "intraday_amplitude": 0.0}
    r_off, _, sim_off = ranging_volatility(off, minutes=120)
    assert np.all(sim_off.fs[:, L.F_SV_DAY0] == 0.0)  # off: no time of day drawn
    r, _, sim = ranging_volatility({**off, "intraday_amplitude": 0.6}, minutes=120)
    day0 = sim.fs[:, L.F_SV_DAY0]
    assert np.all((day0 >= 0.0) & (day0 < 23_400.0)) and np.unique(day0).size == day0.size
    mp = sim.mp
    minute_mid = 60.0 * (np.arange(r.shape[0])[:, None] + 0.5) + day0[None, :]
    level_sq = np.vectorize(lambda t: V.intraday_level(t, mp) ** 2)(minute_mid)
    expected = (0.8**2) * 60  # bps^2 per minute of the ranging regime
    # each minute's variance follows the time of day's level
    assert (r**2).sum() / (expected * level_sq).sum() == pytest.approx(1.0, rel=0.1)
    loud, quiet = level_sq > 2.0, level_sq < 0.5
    assert (r[loud] ** 2).mean() > 4.0 * (r[quiet] ** 2).mean()
    assert (r_off**2).mean() == pytest.approx(expected, rel=0.1)


def test_volatility_config_errors():
    for field, value in [
        ("fast_sd", -0.1),
        ("slow_sd", 3.0),
        ("fast_halflife_s", 0.0),
        ("slow_halflife_s", float("nan")),
        ("switch_mean_s", 0.5),
        ("switch_ratio", 0.5),
        ("intraday_amplitude", 0.95),
        ("intraday_amplitude", -0.1),
        ("day_s", 10.0),
    ]:
        with pytest.raises(ConfigError, match=rf"^{field}={value!r}"):
            VolatilityConfig(**{field: value})
        with pytest.raises(ConfigError, match=rf"^volatility\.{field}="):
            MarketConfig(volatility={field: value})


# ----------------------------------------------------------------------------- degenerate
def test_a_book_that_cannot_hold_is_refused():
    with pytest.raises(ConfigError) as err:
        MarketConfig(limit_rate=0.01, cancel_rate=5.0)
    msg = str(err.value)
    assert msg.startswith("limit_rate=0.01: the book cannot hold") and "\n" not in msg
    # a regime's multipliers count, where the market can be in that regime
    high_cancel = {"high_vol": {"cancel_rate_mult": 100.0}}
    with pytest.raises(ConfigError, match="in regime high_vol"):
        MarketConfig(regimes=high_cancel)
    MarketConfig(regimes=high_cancel, pin_regime="ranging")  # never there: fine
    MarketConfig(regimes={"high_vol": {"cancel_rate_mult": 100.0, "weight": 0.0}})


def test_all_rates_zero_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match=r"^limit_rate=0\.0"):
        MarketConfig(limit_rate=0.0, cancel_rate=0.0, market_rate=0.0, informed_rate=0.0)


@pytest.mark.parametrize("spread", [0, -3])
def test_a_crossed_or_locked_initial_book_is_refused(spread):
    with pytest.raises(ConfigError, match=rf"^initial_spread_ticks={spread}: .*crossed"):
        MarketConfig(initial_spread_ticks=spread)


def test_the_initial_book_has_the_initial_spread():
    for spread in (1, 2, 7):
        sim = MarketSim(1, MarketConfig(initial_spread_ticks=spread), threads=1)
        sim.reset([0])
        assert sim.ints[0, L.I_BEST_ASK] - sim.ints[0, L.I_BEST_BID] == spread
