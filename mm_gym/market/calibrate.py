"""Fit the simulator to a recording: a ``MarketConfig`` whose stylised facts match those of a
recorded market (``mm_gym.market.recorded``), measured by the same code
(``realism.market_stats``).

The start is the shipped market nearest in kind (``small_tick`` when the recording's spread
is several ticks, else ``default``) on the recording's tick and price. Measured directly on
the recording: the intraday volatility pattern (when it covers a trading day) and the size of
market orders. Then, a few rounds of simulation on fixed seeds, each moving one lever per
fact by the ratio of the recording's fact to the simulated one:

- 1-min return std <- the regimes' volatilities (and the news jumps);
- executions a second <- the rates of market orders;
- mean spread <- how far behind the fair value limit orders rest (small-tick markets);
- trade-sign ACF at lag 1 <- the tail of the metaorder runs' lengths.

A fact the recording (or a round's simulation) is too short to estimate by the facts' own
sample rules (``realism.FACTS``' ``need``) is NaN and leaves its lever as it was.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from mm_gym.errors import ConfigError
from mm_gym.market import realism as rz
from mm_gym.market.config import MarketConfig, RegimeParams

__all__ = [
    "TARGETS",
    "TOLERANCE",
    "Calibration",
    "calibrate",
    "fit_intraday_amplitude",
    "starting_market",
]

TARGETS = {
    key: rz.FACTS_BY_KEY[key].label
    for key in ("ret_std_1s", "ret_std_1min", "spread_bps", "executions_per_s", "sign_acf_lag1")
}
"""The facts a calibration matches, with their labels."""
TOLERANCE = (0.67, 1.5)
"""A fitted fact within these ratios of the recording's counts as matched."""
CLOSE = (0.95, 1.05)
"""Rounds stop once every lever's fact is within these ratios."""
DAY_COVERAGE = 0.8
"""The intraday pattern is fitted only from a recording covering this share of a day."""
INTRADAY_BINS = 13
ALPHA_RANGE = (1.05, 4.0)


@dataclasses.dataclass
class Calibration:
    """The fitted market, the facts of the recording and of the fitted market, and each
    round's levers and ratios of facts (simulated over recorded)."""

    market: MarketConfig
    start: str
    recording: rz.MarketStats
    fitted: rz.MarketStats
    rounds: pd.DataFrame
    intraday_amplitude: float | None
    notes: list[str]

    def ratios(self) -> dict[str, float]:
        """Fitted over recorded, per target fact (NaN where the recording cannot tell)."""
        return {k: ratio(self.fitted.values[k], self.recording.values[k]) for k in TARGETS}

    def matched(self) -> dict[str, bool | None]:
        """Per target fact: within ``TOLERANCE`` (None: not estimable on the recording)."""
        low, high = TOLERANCE
        return {k: None if math.isnan(r) else low <= r <= high for k, r in self.ratios().items()}


def fit_intraday_amplitude(record: rz.MarketRecord, day_s: float) -> float | None:
    """The U-shape amplitude ``a`` of ``volatility.intraday_level`` fitted to the recording's
    1-min return std in ``INTRADAY_BINS`` bins of the day, taking the recording to start at
    the open; None when it covers less than ``DAY_COVERAGE`` of ``day_s``. Kept within the
    config's range [0, 0.9]."""
    seconds = (record.mid.shape[1] - 1) * record.dt
    if seconds < DAY_COVERAGE * day_s:
        return None
    step = round(60.0 / record.dt)
    r = rz.log_returns_bps(record.mid[:1], step)[0]
    t = (np.arange(r.size) + 0.5) * 60.0
    edges = np.linspace(0.0, min(seconds, day_s), INTRADAY_BINS + 1)
    centres, stds = [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        x = r[(t >= lo) & (t < hi)]
        x = x[np.isfinite(x)]
        if x.size >= 5:
            centres.append(0.5 * (lo + hi) / day_s)
            stds.append(float(np.sqrt(np.mean(x * x))))
    if len(stds) < 4:
        return None
    shape = 3.0 * (2.0 * np.asarray(centres) - 1.0) ** 2 - 1.0
    slope, intercept = np.polyfit(shape, np.asarray(stds), 1)
    if intercept <= 0:
        return None
    return float(np.clip(slope / intercept, 0.0, 0.9))


def starting_market(record: rz.MarketRecord, stats: rz.MarketStats) -> tuple[MarketConfig, str]:
    """The shipped market nearest in kind (``small_tick`` for a small-tick recording), on the
    recording's tick and starting price."""
    name = "small_tick" if rz.is_small_tick(stats) else "default"
    base = MarketConfig.preset(name)
    price = float(record.mid[0, np.isfinite(record.mid[0])][0])
    price = round(price / record.tick_size) * record.tick_size
    if price / record.tick_size < 1000:
        raise ConfigError(
            f"the recording's price {price:g} is {price / record.tick_size:.0f} ticks of "
            f"{record.tick_size:g}; the simulator needs at least 1000 ticks"
        )
    return base.replace(tick_size=record.tick_size, initial_price=price), name


def _scale_vol(market: MarketConfig, k: float) -> MarketConfig:
    regimes = {
        name: dataclasses.replace(p, vol_bps_per_sqrt_s=min(p.vol_bps_per_sqrt_s * k, 100.0))
        for name, p in market.regimes.items()
    }
    news = dataclasses.replace(market.news, jump_bps_mean=market.news.jump_bps_mean * k)
    return market.replace(regimes=regimes, news=news)


def _levers(m: MarketConfig) -> dict[str, float]:
    ranging: RegimeParams = m.regimes["ranging"]
    return {
        "ranging_vol_bps_per_sqrt_s": ranging.vol_bps_per_sqrt_s,
        "market_rate": m.market_rate,
        "limit_fair_offset_ticks": m.limit_fair_offset_ticks,
        "metaorder_alpha": m.metaorder_alpha,
    }


def blank_unestimable(stats: rz.MarketStats, markets: int, hours: float) -> rz.MarketStats:
    """``stats`` with each target fact its sample is too small for (the fact's ``Need``, as
    ``mm-gym facts`` judges it) set to NaN: no lever moves on noise."""
    for key in TARGETS:
        need = rz.FACTS_BY_KEY[key].need
        if rz.need_text(need, stats.rates.get(need.series, 0.0), markets, hours) is not None:
            stats.values[key] = math.nan
    return stats


def ratio(num: float, den: float) -> float:
    """``num / den``, NaN unless both are finite and positive."""
    ok = math.isfinite(num) and math.isfinite(den) and num > 0 and den > 0
    return num / den if ok else math.nan


def active_levers(m: MarketConfig, rec: dict[str, float]) -> list[str]:
    """The target facts whose lever ``_step`` moves on market ``m`` toward the recording's
    facts ``rec``: the volatility's on the 1-min return std, or the 1-s one when the recording
    is too short for the former; the spread's only on a small-tick market, whose limit orders
    rest behind the fair value; the sign ACF's only with metaorder runs."""
    keys = ["ret_std_1min" if math.isfinite(rec["ret_std_1min"]) else "ret_std_1s"]
    keys.append("executions_per_s")
    if m.limit_fair_fraction >= 1.0 and m.limit_pull_ticks is not None:
        keys.append("spread_bps")
    if m.metaorder_alpha > 0:
        keys.append("sign_acf_lag1")
    return keys


def _step(
    m: MarketConfig, sim: dict[str, float], rec: dict[str, float], notes: list[str]
) -> MarketConfig:
    """One round's move of each active lever whose fact both sides have; a lever held at a
    bound of its range adds a note."""
    active = active_levers(m, rec)
    if math.isfinite(k := ratio(rec[active[0]], sim[active[0]])):  # the volatility's fact
        m = _scale_vol(m, k)
    if "executions_per_s" in active and math.isfinite(
        k := ratio(rec["executions_per_s"], sim["executions_per_s"])
    ):
        m = m.replace(market_rate=m.market_rate * k, informed_rate=m.informed_rate * k)
    gap = rec.get("spread_ticks", math.nan) - sim.get("spread_ticks", math.nan)
    spread_known = math.isfinite(ratio(rec["spread_bps"], sim["spread_bps"]))
    if "spread_bps" in active and spread_known and math.isfinite(gap):
        limit = m.window_levels / 8 - 1
        wanted = m.limit_fair_offset_ticks + 0.5 * gap
        offset = float(np.clip(wanted, 1.0, limit))
        if offset != wanted:
            notes.append(
                f"spread: the offset behind the fair value held at {offset:g} ticks "
                f"(wanted {wanted:.3g})"
            )
        m = m.replace(limit_fair_offset_ticks=offset, limit_pull_ticks=offset - 0.5)
    if "sign_acf_lag1" in active and math.isfinite(
        k := ratio(rec["sign_acf_lag1"], sim["sign_acf_lag1"])
    ):
        wanted = m.metaorder_alpha / k**0.7
        alpha = float(np.clip(wanted, *ALPHA_RANGE))
        if alpha != wanted:
            notes.append(f"trade signs: metaorder_alpha held at {alpha:g} (wanted {wanted:.3g})")
        m = m.replace(metaorder_alpha=alpha)
    return m


def calibrate(
    record: rz.MarketRecord,
    *,
    markets: int = 8,
    hours: float = 1.0,
    seed: int = 0,
    rounds: int = 6,
    shares_per_lot: float | None = None,
    log: Callable[[str], None] = print,
) -> Calibration:
    """Fit a market to the recording ``record`` (see the module's docstring): each round
    simulates ``markets`` markets for ``hours`` (seeds ``seed..``, the same every round) and
    moves the levers; at most ``rounds`` rounds, fewer once every fact with an active lever
    (``active_levers``) is within ``CLOSE``.
    ``shares_per_lot``: the recording's size units per lot, to set the size of market orders
    (None: the starting market's sizes)."""
    if rounds < 1:
        raise ConfigError(f"rounds={rounds!r}: expected at least 1")
    recording = blank_unestimable(rz.market_stats(record), record.markets, record.hours)
    rec = recording.values
    market, start = starting_market(record, recording)
    notes = [f"start: the shipped `{start}` market on the recording's tick and price"]
    amplitude = fit_intraday_amplitude(record, market.volatility.day_s)
    if amplitude is None:
        notes.append(
            "intraday pattern: the recording covers less than "
            f"{DAY_COVERAGE:.0%} of a {market.volatility.day_s / 3600:g} h day; kept the start's"
        )
    else:
        volatility = dataclasses.replace(market.volatility, intraday_amplitude=amplitude)
        market = market.replace(volatility=volatility)
        notes.append(f"intraday pattern: amplitude {amplitude:.3g}, fitted to the recording")
    if shares_per_lot is not None:
        per_order = ratio(rec["volume_per_s"], rec["executions_per_s"]) / shares_per_lot
        if math.isfinite(per_order):
            market = market.replace(market_size_mean=max(per_order, 1.0))  # the config's floor
            held = "" if per_order >= 1.0 else "; held at 1 lot, the smallest mean allowed"
            notes.append(
                f"market order size: {per_order:.3g} lots of {shares_per_lot:g} (the "
                f"recording's size traded per execution){held}"
            )
    history = []
    for k in range(rounds):
        fitted = blank_unestimable(
            rz.market_stats(rz.collect(market, markets, hours, seed)), markets, hours
        )
        sim = fitted.values
        ratios = {key: ratio(sim[key], rec[key]) for key in TARGETS}
        history.append(
            {"round": k + 1, **_levers(market), **{f"{key} ratio": r for key, r in ratios.items()}}
        )
        log(
            f"round {k + 1}: "
            + ", ".join(f"{key} x{r:.2f}" for key, r in ratios.items() if math.isfinite(r))
        )
        steered = [r for key in active_levers(market, rec) if math.isfinite(r := ratios[key])]
        if all(CLOSE[0] <= r <= CLOSE[1] for r in steered) or k == rounds - 1:
            break
        market = _step(market, sim, rec, notes)
    return Calibration(
        market=market,
        start=start,
        recording=recording,
        fitted=fitted,
        rounds=pd.DataFrame(history),
        intraday_amplitude=amplitude,
        notes=notes,
    )
