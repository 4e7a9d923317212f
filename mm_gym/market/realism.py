"""Realism of the simulated market: the stylised facts of real order books, measured on a batch.

Three layers:

- **Metric functions** of plain arrays: one row (or one 1-D array) per market. They pool
  across markets without crossing a market's boundary: each series is demeaned on its own,
  lagged products and squares are summed over markets, and the ratio is taken once.
  Returns are log returns of the mid in basis points.
- **The collector** ``collect``: runs a ``MarketSim`` batch with no quotes of the agent and
  records, on a 1 s clock, the mid, the spread, the depth on the first occupied price levels,
  the background events and the traded volume, and from the kernel's trade tape the time and
  sign of every background market order that traded. ``market_stats`` turns the record into
  named values, curves and tables.
- **The targets** ``FACTS``: a band per fact with its source (the real NASDAQ columns of
  LOBSTER's sample day 2012-06-21, AAPL and GOOG, or a target band drawn from them), checked by
  ``evaluate_facts``, together with the market maker's economics per pinned regime
  (``mm_gym.evaluation.economics``, which runs the baseline and so sits above the envs).

A series too short for a metric raises ``NotEstimable``, which names the metric.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.errors import ConfigError
from mm_gym.market import layout as lay
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MarketSim

__all__ = [
    "FACTS",
    "FACTS_BY_KEY",
    "LEGACY_DEFAULT",
    "Band",
    "Fact",
    "MarketRecord",
    "MarketStats",
    "Need",
    "NotEstimable",
    "collect",
    "depth_summary",
    "evaluate_facts",
    "excess_kurtosis",
    "is_small_tick",
    "log_returns_bps",
    "market_stats",
    "merge_same_time",
    "need_text",
    "occupied_depth",
    "pooled_acf",
    "pooled_corr",
    "pooled_std",
    "signature_plot",
    "spread_summary",
    "trade_sign_acf",
]

Series = np.ndarray | Sequence[np.ndarray]

CLOCK_S = 1.0  # the collector's sampling clock
RETURN_INTERVALS_S = {"1s": 1, "10s": 10, "1min": 60, "5min": 300}
INTERVAL_LABELS = {"1s": "1 s", "10s": "10 s", "1min": "1 min", "5min": "5 min"}
RETURN_ACF_LAGS = 5
ABS_ACF_MAX_LAG = 60  # lags of 1-min |returns|, minutes
SIGNATURE_INTERVALS_S = (1, 2, 5, 10, 20, 30, 60, 120, 300)
TRADE_SIGN_MAX_LAG = 100
DEPTH_LEVELS = 5
DEPTH_EVERY_S = 10.0  # depth is sampled on a coarser clock than the mid
WARMUP_S = 60.0  # run before recording: the initial book is a flat block
SMALL_TICK_MIN_SPREAD_TICKS = 3.0  # a mean spread of this many ticks or more: a small tick
NO_QUOTES = (1.0, 0.0, 0.0)  # size fraction 0: the agent never quotes
TAPE_CAPACITY = 256  # trade records a market keeps between clock steps (presets: <= 17 per 1 s)


class NotEstimable(ConfigError):
    """A metric whose sample is too small; the message names the metric."""


# ----------------------------------------------------------------------------- metrics
def _rows(series: Series, metric: str) -> list[np.ndarray]:
    """One float64 1-D array per market; 2-D input has markets on rows."""
    if isinstance(series, np.ndarray) and series.ndim <= 2:
        rows = list(np.atleast_2d(np.asarray(series, dtype=np.float64)))
    else:
        rows = [np.asarray(s, dtype=np.float64).ravel() for s in series]
    if not rows or all(r.size == 0 for r in rows):
        raise NotEstimable(f"{metric}: no observations")
    for r in rows:
        if not np.isfinite(r).all():
            raise ConfigError(f"{metric}: the series hold NaN or infinity")
    return rows


def _centred(series: Series, metric: str, min_len: int = 1) -> list[np.ndarray]:
    rows = _rows(series, metric)
    longest = max(r.size for r in rows)
    if longest < min_len:
        raise NotEstimable(
            f"{metric}: needs a series of >= {min_len} values per market; the longest has {longest}"
        )
    centred = [r - r.mean() for r in rows if r.size]
    if sum(float(v @ v) for v in centred) <= 0.0:
        raise NotEstimable(f"{metric}: the series never vary")
    return centred


def pooled_acf(series: Series, max_lag: int, *, metric: str = "ACF") -> np.ndarray:
    """Autocorrelation at lags ``1..max_lag``, pooled over markets.

    Each market's series is demeaned on its own; the lag-k products and the squares are
    summed over markets (never across a boundary) and divided once.
    """
    centred = _centred(series, metric, max_lag + 2)
    den = sum(float(v @ v) for v in centred)
    out = np.empty(max_lag)
    for k in range(1, max_lag + 1):
        out[k - 1] = sum(float(v[:-k] @ v[k:]) for v in centred if v.size > k) / den
    return out


def pooled_std(series: Series, *, metric: str = "standard deviation") -> float:
    """Standard deviation around each market's own mean, pooled (one degree of freedom per
    market)."""
    centred = _centred(series, metric, 2)
    dof = sum(v.size - 1 for v in centred)
    return math.sqrt(sum(float(v @ v) for v in centred) / dof)


def excess_kurtosis(series: Series, *, metric: str = "excess kurtosis") -> float:
    """``m4 / m2^2 - 3`` of the values around each market's own mean, pooled."""
    x = np.concatenate(_centred(series, metric, 4))
    m2 = float(np.mean(x * x))
    return float(np.mean(x**4)) / (m2 * m2) - 3.0


def pooled_corr(x: Series, y: Series, *, metric: str = "correlation") -> float:
    """Pearson correlation of paired series, each market demeaned on its own, pooled."""
    xs, ys = _rows(x, metric), _rows(y, metric)
    if [a.size for a in xs] != [b.size for b in ys]:
        raise ConfigError(f"{metric}: the paired series differ in length")
    cx, cy = _centred(xs, metric, 3), _centred(ys, metric, 3)
    sxy = sum(float(a @ b) for a, b in zip(cx, cy, strict=True))
    sxx = sum(float(a @ a) for a in cx)
    syy = sum(float(b @ b) for b in cy)
    return sxy / math.sqrt(sxx * syy)


def log_returns_bps(mid: np.ndarray, step: int) -> np.ndarray:
    """Log returns (bps) over ``step`` samples of a mid on a regular clock (rows: markets),
    non-overlapping, from each row's first sample."""
    m = np.atleast_2d(np.asarray(mid, dtype=np.float64))
    return 1e4 * np.diff(np.log(m[:, ::step]), axis=1)


def signature_plot(
    mid: np.ndarray,
    intervals: Sequence[int],
    *,
    dt: float = CLOCK_S,
    metric: str = "signature plot",
) -> np.ndarray:
    """Realised variance per second (bps^2 / s) when sampling every ``k`` clock steps, for each
    ``k`` of ``intervals``: mean squared overlapping ``k``-step log return over ``k * dt``,
    pooled over markets (rows). Flat for a random walk; falling with ``k`` when
    microstructure noise (bid-ask bounce) adds ``2 * noise_var / (k * dt)``."""
    x = 1e4 * np.log(np.atleast_2d(np.asarray(mid, dtype=np.float64)))
    if not np.isfinite(x).all():
        raise ConfigError(f"{metric}: the mid holds NaN, infinity or a price <= 0")
    longest = max(intervals)
    if x.shape[1] <= longest:
        raise NotEstimable(
            f"{metric}: an interval of {longest} steps needs > {longest} samples per market; "
            f"got {x.shape[1]}"
        )
    out = np.empty(len(intervals))
    for j, k in enumerate(intervals):
        d = x[:, k:] - x[:, :-k]
        out[j] = float(np.mean(d * d)) / (k * dt)
    return out


def merge_same_time(
    times: np.ndarray, signs: np.ndarray, sizes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge consecutive executions with the same time and sign into one (sizes summed).

    One aggressive order that walks several resting orders is recorded as several executions
    at one time stamp; merged, it counts once in the trade-sign autocorrelation.
    """
    t = np.asarray(times, dtype=np.float64).ravel()
    s = np.asarray(signs, dtype=np.float64).ravel()
    q = np.ones_like(t) if sizes is None else np.asarray(sizes, dtype=np.float64).ravel()
    if not t.size == s.size == q.size:
        raise ConfigError("merge_same_time: times, signs and sizes differ in length")
    if t.size == 0:
        return t, s, q
    start = np.ones(t.size, dtype=bool)
    start[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    idx = np.flatnonzero(start)
    return t[idx], s[idx], np.add.reduceat(q, idx)


def trade_sign_acf(
    times: Sequence[np.ndarray],
    signs: Sequence[np.ndarray],
    max_lag: int = TRADE_SIGN_MAX_LAG,
    *,
    merge: bool = True,
) -> np.ndarray:
    """Autocorrelation of the executions' signs (+1 buyer-initiated, -1 seller-initiated) at
    lags ``1..max_lag`` in trade time, one series per market, pooled; same-time executions
    merged first (``merge_same_time``)."""
    if len(times) != len(signs):
        raise ConfigError("trade_sign_acf: times and signs hold different numbers of markets")
    series = [
        merge_same_time(t, s)[1] if merge else np.asarray(s, dtype=np.float64)
        for t, s in zip(times, signs, strict=True)
    ]
    return pooled_acf(series, max_lag, metric="trade-sign ACF")


def spread_summary(spread_ticks: np.ndarray, spread_bps: np.ndarray) -> pd.DataFrame:
    """Distribution of the quoted spread over the samples with both sides of the book quoted:
    mean and quantiles, in ticks (row ``ticks``) and in bps (row ``bps``)."""
    ticks = np.asarray(spread_ticks, dtype=np.float64).ravel()
    bps = np.asarray(spread_bps, dtype=np.float64).ravel()
    quoted = np.isfinite(ticks) & np.isfinite(bps)
    if not quoted.any():
        raise NotEstimable("spread: no sample with both sides of the book quoted")
    q = (0.05, 0.25, 0.5, 0.75, 0.95)
    rows = {}
    for name, x in (("ticks", ticks[quoted]), ("bps", bps[quoted])):
        rows[name] = {
            "mean": float(x.mean()),
            **dict(zip(_qnames(q), np.quantile(x, q), strict=True)),
        }
    return pd.DataFrame(rows).T


def _qnames(q: Sequence[float]) -> list[str]:
    return [f"p{round(100 * v):02d}" for v in q]


def depth_summary(depth: np.ndarray) -> pd.DataFrame:
    """Distribution of the lots on each occupied level: ``depth[..., level]``, all samples."""
    d = np.asarray(depth, dtype=np.float64)
    flat = d.reshape(-1, d.shape[-1])
    if flat.shape[0] == 0:
        raise NotEstimable("depth: no samples")
    q = (0.1, 0.5, 0.9)
    table = {"mean": flat.mean(axis=0)}
    table.update(dict(zip(_qnames(q), np.quantile(flat, q, axis=0), strict=True)))
    return pd.DataFrame(table, index=pd.RangeIndex(1, flat.shape[1] + 1, name="level"))


def occupied_depth(book: np.ndarray, best: np.ndarray, side: int, levels: int) -> np.ndarray:
    """Lots on the first ``levels`` occupied price levels from the best, per market.

    ``book``: one side of the window ``(N, L)``; ``best``: window index of that side's best
    price (``< 0``: side empty); ``side`` 0 (bid: levels go down) or 1 (ask: up). A level that
    does not exist counts 0 lots.
    """
    n, width = book.shape
    j = np.arange(width)
    b = np.asarray(best)[:, None]
    dist = b - j if side == 0 else j - b
    ok = (dist >= 0) & (book > 0) & (b >= 0)
    order = np.argsort(np.where(ok, dist, width), axis=1, kind="stable")[:, :levels]
    lots = np.where(np.take_along_axis(ok, order, axis=1), np.take_along_axis(book, order, 1), 0)
    if lots.shape[1] < levels:
        lots = np.pad(lots, ((0, 0), (0, levels - lots.shape[1])))
    return lots


# ----------------------------------------------------------------------------- collector
@dataclasses.dataclass
class MarketRecord:
    """What ``collect`` recorded; per-step arrays have markets on rows.

    ``mid``: ``(N, T + 1)`` currency on the clock; ``spread_ticks``: ``(N, T)`` (NaN while a
    side is empty); ``depth_bid``/``depth_ask``: ``(S, N, DEPTH_LEVELS)`` lots on the occupied
    levels, every ``depth_every_s``; ``events``/``volume``: ``(N, T)`` background events and
    lots traded per clock step. ``trade_times``/``trade_signs``: one array per market, the
    background market orders that traded (time in s, +1 buy, -1 sell; a walk through several
    levels is one order), oldest first; ``trades_dropped``: orders the trade tape overwrote
    before they were read (all markets).
    """

    market: MarketConfig | None  # None: a recording (``mm_gym.market.recorded``)
    tick_size: float
    seeds: np.ndarray
    dt: float
    mid: np.ndarray
    spread_ticks: np.ndarray
    depth_bid: np.ndarray
    depth_ask: np.ndarray
    events: np.ndarray
    volume: np.ndarray
    trade_times: list[np.ndarray]
    trade_signs: list[np.ndarray]
    trades_dropped: int

    @property
    def markets(self) -> int:
        return int(self.mid.shape[0])

    @property
    def hours(self) -> float:
        return (self.mid.shape[1] - 1) * self.dt / 3600.0


def collect(
    market: MarketConfig,
    markets: int,
    hours: float,
    seed: int = 0,
    *,
    warmup_s: float = WARMUP_S,
    depth_every_s: float = DEPTH_EVERY_S,
    threads: int | None = None,
    tape_capacity: int = TAPE_CAPACITY,
) -> MarketRecord:
    """Run ``markets`` markets (seeds ``seed..``) for ``hours`` after ``warmup_s``, the agent
    not quoting, and record the mid, spread, depth, events and volume on a 1 s clock and the
    background market orders from a trade tape of ``tape_capacity`` records per market."""
    steps = round(hours * 3600.0 / CLOCK_S)
    if steps < 1:
        raise ConfigError(f"hours={hours!r}: expected at least {CLOCK_S / 3600:.2g} h")
    if isinstance(tape_capacity, bool) or not isinstance(tape_capacity, int) or tape_capacity < 1:
        raise ConfigError(f"tape_capacity={tape_capacity!r}: expected an integer >= 1")
    sim = MarketSim(markets, market, threads=threads, tape_capacity=tape_capacity)
    seeds = np.arange(seed, seed + markets, dtype=np.int64)
    sim.reset(seeds)
    params = np.tile(NO_QUOTES, (markets, 1))
    if warmup_s > 0:
        sim.advance(warmup_s, params)
    every = max(1, round(depth_every_s / CLOCK_S))
    mid = np.empty((markets, steps + 1))
    spread = np.empty((markets, steps))
    counts = np.empty((2, markets, steps + 1), dtype=np.int64)
    depth = np.empty((2, steps // every, markets, DEPTH_LEVELS), dtype=np.int64)
    mid[:, 0] = sim.mid
    counts[:, :, 0] = sim.ints[:, [lay.I_EVENTS, lay.I_VOL_TRADED]].T
    tape = _TapeReader(sim)
    for k in range(steps):
        sim.advance(CLOCK_S, params)
        tape.read()
        mid[:, k + 1] = sim.mid
        counts[:, :, k + 1] = sim.ints[:, [lay.I_EVENTS, lay.I_VOL_TRADED]].T
        bb, ba = sim.ints[:, lay.I_BEST_BID], sim.ints[:, lay.I_BEST_ASK]
        spread[:, k] = np.where((bb >= 0) & (ba >= 0), ba - bb, np.nan)
        if (k + 1) % every == 0:
            depth[:, (k + 1) // every - 1] = _depth_now(sim)
    flow = np.diff(counts, axis=2)
    trade_times, trade_signs = tape.per_market()
    return MarketRecord(
        market=market,
        tick_size=market.tick_size,
        seeds=seeds,
        dt=CLOCK_S,
        mid=mid,
        spread_ticks=spread,
        depth_bid=depth[0],
        depth_ask=depth[1],
        events=flow[0],
        volume=flow[1],
        trade_times=trade_times,
        trade_signs=trade_signs,
        trades_dropped=tape.dropped,
    )


class _TapeReader:
    """Reads the records a sim's trade tapes gained since the last read, all markets at once."""

    def __init__(self, sim: MarketSim) -> None:
        self.sim = sim
        self.seen = sim.ints[:, lay.I_TAPE_N].copy()
        self.dropped = 0
        self.markets: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []

    def read(self) -> None:
        """Keep the new records' market, time and sign; count those the rings overwrote."""
        cap = self.sim.tape.shape[1]
        written = self.sim.ints[:, lay.I_TAPE_N].copy()
        new = written - self.seen
        kept = np.minimum(new, cap)
        self.dropped += int((new - kept).sum())
        self.seen = written
        market = np.repeat(np.arange(self.sim.n), kept)
        # record index of each kept row: the market's last ``kept`` records, oldest first
        first = np.repeat(written - kept - (np.cumsum(kept) - kept), kept)
        record = first + np.arange(market.size)
        self.markets.append(market)
        self.rows.append(self.sim.tape[market, record % cap][:, [lay.TP_TIME, lay.TP_SIGN]])

    def per_market(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Times and signs of the records read, one array per market, oldest first."""
        market = np.concatenate(self.markets)
        rows = np.concatenate(self.rows)[np.argsort(market, kind="stable")]
        bounds = np.cumsum(np.bincount(market, minlength=self.sim.n))[:-1]
        parts = np.split(rows, bounds)
        return [p[:, 0].copy() for p in parts], [p[:, 1].copy() for p in parts]


def _depth_now(sim: MarketSim) -> np.ndarray:
    origin = sim.ints[:, lay.I_ORIGIN]
    out = []
    for side, col in ((0, lay.I_BEST_BID), (1, lay.I_BEST_ASK)):
        best = np.where(sim.ints[:, col] >= 0, sim.ints[:, col] - origin, -1)
        out.append(occupied_depth(sim.book[:, side, :], best, side, DEPTH_LEVELS))
    return np.stack(out)


# ----------------------------------------------------------------------------- statistics
@dataclasses.dataclass
class MarketStats:
    """Named results of ``market_stats``.

    ``values``: scalar facts by key (NaN when not estimable, the reason in ``notes``);
    ``curves``: arrays for tables and plots; ``tables``: distributions; ``rates``: series
    name -> observations per market-hour (for the sample-size checks).
    """

    values: dict[str, float]
    curves: dict[str, np.ndarray]
    tables: dict[str, pd.DataFrame]
    rates: dict[str, float]
    notes: dict[str, str]


def market_stats(record: MarketRecord) -> MarketStats:
    """Every metric of the facts table that the record allows."""
    stats = MarketStats({}, {}, {}, {}, {})
    stats.rates["clock"] = 3600.0 / record.dt
    _return_stats(record, stats)
    _abs_acf_stats(record, stats)
    _signature_stats(record, stats)
    _book_stats(record, stats)
    _flow_stats(record, stats)
    return stats


def _measure(stats: MarketStats, keys: Sequence[str], fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; on ``NotEstimable`` the ``keys`` get NaN and the reason."""
    try:
        return fn(*args, **kwargs)
    except NotEstimable as err:
        for key in keys:
            stats.values[key] = math.nan
            stats.notes[key] = str(err)
        return None


def _scalar(stats: MarketStats, key: str, fn: Any, *args: Any, **kwargs: Any) -> None:
    value = _measure(stats, [key], fn, *args, **kwargs)
    if value is not None:
        stats.values[key] = float(value)


def _return_stats(record: MarketRecord, stats: MarketStats) -> None:
    for name, seconds in RETURN_INTERVALS_S.items():
        r = log_returns_bps(record.mid, round(seconds / record.dt))
        label = f"{INTERVAL_LABELS[name]} returns"
        stats.rates[f"r{name}"] = 3600.0 / seconds
        _scalar(stats, f"ret_std_{name}", pooled_std, r, metric=f"std of {label}")
        _scalar(stats, f"kurt_{name}", excess_kurtosis, r, metric=f"excess kurtosis of {label}")
        key = f"acf1_{name}"
        acf = _measure(stats, [key], pooled_acf, r, RETURN_ACF_LAGS, metric=f"ACF of {label}")
        if acf is not None:
            stats.curves[f"acf_{name}"] = acf
            stats.values[key] = float(acf[0])


ABS_ACF_FACTS = {"abs_acf_lag1": 1, "abs_acf_lag10": 10, "abs_acf_lag30": 30}


def _abs_acf_stats(record: MarketRecord, stats: MarketStats) -> None:
    r = log_returns_bps(record.mid, round(60 / record.dt))
    metric = "ACF of 1-min |returns|"
    max_lag = max(1, min(ABS_ACF_MAX_LAG, r.shape[1] - 2))
    acf = _measure(stats, list(ABS_ACF_FACTS), pooled_acf, np.abs(r), max_lag, metric=metric)
    if acf is not None:
        stats.curves["abs_acf_1min"] = acf
        for key, lag in ABS_ACF_FACTS.items():
            if lag <= max_lag:
                stats.values[key] = float(acf[lag - 1])
            else:
                stats.values[key] = math.nan
                stats.notes[key] = (
                    f"{metric}: lag {lag} needs >= {lag + 2} returns per market; got {r.shape[1]}"
                )
    volume = _per_interval(record.volume, r.shape[1], round(60 / record.dt))
    _scalar(stats, "vol_vol_corr", pooled_corr, np.abs(r), volume, metric="volume-volatility")


def _per_interval(flow: np.ndarray, n: int, steps: int) -> np.ndarray:
    """Sums of per-step counts over the first ``n`` runs of ``steps`` steps."""
    return flow[:, : n * steps].reshape(flow.shape[0], n, steps).sum(axis=2)


def _signature_stats(record: MarketRecord, stats: MarketStats) -> None:
    steps = [round(s / record.dt) for s in SIGNATURE_INTERVALS_S]
    steps = [k for k in steps if k < record.mid.shape[1]] or [1]
    rv = _measure(stats, ["sig_ratio"], signature_plot, record.mid, steps, dt=record.dt)
    if rv is None:
        return
    stats.curves["signature_s"] = np.asarray(steps, dtype=np.float64) * record.dt
    stats.curves["signature_rv"] = rv
    one, minute = round(1 / record.dt), round(60 / record.dt)
    if one in steps and minute in steps:
        stats.values["sig_ratio"] = float(rv[steps.index(one)] / rv[steps.index(minute)])
    else:
        stats.values["sig_ratio"] = math.nan
        stats.notes["sig_ratio"] = "signature plot: 60 s sampling needs > 60 s per market"


def _book_stats(record: MarketRecord, stats: MarketStats) -> None:
    ticks = record.spread_ticks
    bps = ticks * record.tick_size / record.mid[:, 1:] * 1e4
    table = _measure(stats, ["spread_bps", "spread_ticks"], spread_summary, ticks, bps)
    if table is not None:
        stats.tables["spread"] = table
        stats.values["spread_bps"] = float(table.loc["bps", "mean"])
        stats.values["spread_ticks"] = float(table.loc["ticks", "mean"])
    quoted = np.isfinite(ticks)
    stats.values["empty_side_share"] = float(1.0 - quoted.mean())
    stats.values["one_tick_share"] = float(np.mean(ticks[quoted] <= 1.0)) if quoted.any() else 0.0
    for side, depth in (("bid", record.depth_bid), ("ask", record.depth_ask)):
        summary = _measure(stats, [], depth_summary, depth)
        if summary is not None:
            stats.tables[f"depth_{side}"] = summary


SIGN_ACF_FACTS = {"sign_acf_lag1": 1, "sign_acf_lag10": 10, "sign_acf_lag100": 100}


def _flow_stats(record: MarketRecord, stats: MarketStats) -> None:
    seconds = record.events.size * record.dt
    stats.values["events_per_s"] = float(record.events.sum()) / seconds
    stats.values["volume_per_s"] = float(record.volume.sum()) / seconds
    trades = sum(t.size for t in record.trade_times)
    stats.values["executions_per_s"] = (trades + record.trades_dropped) / seconds
    stats.rates["trades"] = 3600.0 * trades / seconds
    acf = _measure(stats, list(SIGN_ACF_FACTS), _record_sign_acf, record)
    if acf is not None:
        stats.curves["sign_acf"] = acf
        for key, lag in SIGN_ACF_FACTS.items():
            stats.values[key] = float(acf[lag - 1])


def _record_sign_acf(record: MarketRecord) -> np.ndarray:
    """The merged trade-sign ACF of the record; not estimable once the tape dropped orders."""
    if record.trades_dropped:
        raise NotEstimable(
            f"trade-sign ACF: the trade tape overflowed within a clock step and dropped "
            f"{record.trades_dropped} orders (collect with a larger tape_capacity)"
        )
    return trade_sign_acf(record.trade_times, record.trade_signs, TRADE_SIGN_MAX_LAG)


def is_small_tick(stats: MarketStats) -> bool:
    """A small-tick market: the mean quoted spread is several ticks wide."""
    return stats.values.get("spread_ticks", math.nan) >= SMALL_TICK_MIN_SPREAD_TICKS


# ----------------------------------------------------------------------------- targets
@dataclasses.dataclass(frozen=True)
class Band:
    """Where a fact should lie: ``[low, high]`` (either end open), or below another fact."""

    low: float | None = None
    high: float | None = None
    below: str | None = None

    def holds(self, value: float, values: Mapping[str, float]) -> bool | None:
        """True or False; None when the value (or the one it is compared with) is missing."""
        if not math.isfinite(value):
            return None
        if self.below is not None:
            other = values.get(self.below, math.nan)
            return None if not math.isfinite(other) else value < other
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.below is not None:
            return f"< {_fact_label(self.below)}"
        if self.low is None:
            return f"<= {self.high:g}"
        if self.high is None:
            return f">= {self.low:g}"
        return f"[{self.low:g}, {self.high:g}]"


@dataclasses.dataclass(frozen=True)
class Need:
    """Sample a fact needs: ``min_obs`` observations of ``series`` pooled, ``min_len`` per
    market (``what`` names the observations in messages)."""

    series: str
    min_obs: float
    min_len: float
    what: str


@dataclasses.dataclass(frozen=True)
class Fact:
    """One stylised fact: how it is measured, its band, the band's source, the real values."""

    key: str
    label: str
    band: Band | None
    source: str
    aapl: float | None
    goog: float | None
    need: Need
    small_tick_only: bool = False


def _envelope(aapl: float, goog: float, factor: float = 2.0) -> Band:
    """Real values widened by a factor: ``[min / factor, max * factor]``."""
    return Band(min(aapl, goog) / factor, max(aapl, goog) * factor)


def _margin(aapl: float, goog: float, margin: float = 0.05) -> Band:
    """Real values widened by a margin: ``[min - margin, max + margin]``."""
    return Band(round(min(aapl, goog) - margin, 6), round(max(aapl, goog) + margin, 6))


REAL = "LOBSTER 2012-06-21"
ENV2 = f"{REAL}, AAPL and GOOG x/÷ 2"
MARGIN = f"{REAL}, AAPL and GOOG ± 0.05"
TARGET = "target drawn from the real markets"
PASSIVE = "real markets: trends hurt a passive market maker"
# realised variance per second (bps^2 / s) at 1 s and 60 s sampling
REAL_SIGNATURE = {"AAPL": {1: 0.37, 60: 0.38}, "GOOG": {1: 0.49, 60: 0.45}}
# GOOG depth on the first five occupied levels, in the source's units (compare the shape)
REAL_DEPTH_GOOG = {"ask": (148, 65, 57, 56, 68), "bid": (166, 130, 101, 94, 97)}


def _n(series: str, min_obs: float, min_len: float, what: str) -> Need:
    return Need(series, min_obs, min_len, what)


def _returns(name: str, min_obs: float, min_len: float) -> Need:
    return _n(f"r{name}", min_obs, min_len, f"{INTERVAL_LABELS[name]} returns")


_SIG = {k: v[1] / v[60] for k, v in REAL_SIGNATURE.items()}
_TRADES = _n("trades", 10_000, 200, "merged executions")
_MM = _n("mm", 16, 0.5, "market-hours per regime")
# min_obs: about (4 / band width)^2 observations, so that the standard error of an
# autocorrelation (1 / sqrt(n) without dependence) is a quarter of the band
# fmt: off
FACTS: tuple[Fact, ...] = (
    Fact("ret_std_1s", "return std 1 s (bps)", _envelope(0.60, 0.70), ENV2, 0.60, 0.70,
         _returns("1s", 100, 2)),
    Fact("ret_std_1min", "return std 1 min (bps)", _envelope(4.8, 5.2), ENV2, 4.8, 5.2,
         _returns("1min", 100, 2)),
    Fact("ret_std_5min", "return std 5 min (bps)", _envelope(9.9, 10.4), ENV2, 9.9, 10.4,
         _returns("5min", 100, 2)),
    Fact("acf1_1s", "ACF(1) of 1 s returns", Band(-0.05, 0.05), f"{TARGET} (small tick)", 0.02,
         -0.01, _returns("1s", 6400, 7), small_tick_only=True),
    Fact("acf1_10s", "ACF(1) of 10 s returns", _margin(-0.03, -0.04), MARGIN, -0.03, -0.04,
         _returns("10s", 1400, 7)),
    Fact("acf1_1min", "ACF(1) of 1 min returns", Band(-0.15, 0.05), TARGET, -0.09, -0.15,
         _returns("1min", 400, 7)),
    Fact("acf1_5min", "ACF(1) of 5 min returns", Band(-0.05, 0.05), TARGET, -0.13, 0.01,
         _returns("5min", 1600, 7)),
    Fact("kurt_1s", "excess kurtosis 1 s", _envelope(28, 87), ENV2, 28, 87,
         _returns("1s", 10_000, 100)),
    Fact("kurt_1min", "excess kurtosis 1 min", Band(2.0, 10.0), TARGET, 2.4, 7.3,
         _returns("1min", 1000, 10)),
    Fact("kurt_5min", "excess kurtosis 5 min", Band(below="kurt_1min"), TARGET, 0.5, 0.8,
         _returns("5min", 500, 5)),
    Fact("abs_acf_lag1", "ACF of 1 min |r|, lag 1", Band(0.10), TARGET, 0.20, 0.21,
         _returns("1min", 1600, 10)),
    Fact("abs_acf_lag10", "ACF of 1 min |r|, lag 10", _margin(0.05, 0.10), MARGIN, 0.05, 0.10,
         _returns("1min", 1600, 20)),
    Fact("abs_acf_lag30", "ACF of 1 min |r|, lag 30", Band(0.05), TARGET, 0.07, 0.01,
         _returns("1min", 6400, 60)),
    Fact("sig_ratio", "RV/s at 1 s over RV/s at 60 s", Band(0.7, 1.4), f"{TARGET} (small tick)",
         round(_SIG["AAPL"], 2), round(_SIG["GOOG"], 2), _returns("1min", 1000, 10),
         small_tick_only=True),
    Fact("sign_acf_lag1", "trade-sign ACF (merged), lag 1", Band(0.3), TARGET, 0.59, 0.63,
         _TRADES),
    Fact("sign_acf_lag10", "trade-sign ACF (merged), lag 10", Band(0.05), TARGET, 0.12, 0.07,
         _TRADES),
    Fact("sign_acf_lag100", "trade-sign ACF (merged), lag 100", _margin(0.02, 0.01), MARGIN,
         0.02, 0.01, _TRADES),
    Fact("spread_bps", "mean spread (bps)", _envelope(2.6, 4.8), ENV2, 2.6, 4.8,
         _n("clock", 1000, 1, "1 s samples")),
    Fact("spread_ticks", "mean spread (ticks)", _envelope(15, 27), ENV2, 15, 27,
         _n("clock", 1000, 1, "1 s samples"), small_tick_only=True),
    Fact("executions_per_s", "executions per second", _envelope(1.5, 0.5), ENV2, 1.5, 0.5,
         _n("clock", 1000, 1, "1 s samples")),
    Fact("events_per_s", "background events per second", None, "-", None, None,
         _n("clock", 1000, 1, "1 s samples")),
    Fact("volume_per_s", "lots traded per second", None, "-", None, None,
         _n("clock", 1000, 1, "1 s samples")),
    Fact("vol_vol_corr", "corr(1 min |r|, 1 min volume)", None, "-", None, None,
         _returns("1min", 400, 10)),
    Fact("mm_baseline_up_vs_ranging", "baseline PnL/h: trending up - ranging",
         Band(high=0.0), TARGET, None, None, _MM),
    Fact("mm_baseline_down_vs_ranging", "baseline PnL/h: trending down - ranging",
         Band(high=0.0), TARGET, None, None, _MM),
    Fact("mm_normal_row_up_vs_ranging", "normal-row quoter PnL/h: trending up - ranging",
         Band(high=0.0), PASSIVE, None, None, _MM),
    Fact("mm_normal_row_down_vs_ranging", "normal-row quoter PnL/h: trending down - ranging",
         Band(high=0.0), PASSIVE, None, None, _MM),
)
# fmt: on
FACTS_BY_KEY = {f.key: f for f in FACTS}

# The default market before its recalibration to the real facts (the "legacy" column), measured by
# `mm-gym facts --markets 64 --hours 4 --seed 0` on the build of that time; the trade-sign and
# executions values, which that build could not measure, on the same sample of the `legacy`
# preset with the trade tape: `market_stats(collect(MarketConfig.preset("legacy"), 64, 4.0, 0))`.
LEGACY_DEFAULT: dict[str, float] = {
    "ret_std_1s": 3.188,
    "ret_std_1min": 14.03,
    "ret_std_5min": 32.21,
    "acf1_1s": -0.1723,
    "acf1_10s": -0.1903,
    "acf1_1min": -0.07365,
    "acf1_5min": 0.1342,
    "kurt_1s": 102.1,
    "kurt_1min": 9.67,
    "kurt_5min": 2.687,
    "abs_acf_lag1": 0.1396,
    "abs_acf_lag10": -0.001271,
    "abs_acf_lag30": -0.01893,
    "sig_ratio": 3.12,
    "sign_acf_lag1": 0.01877,
    "sign_acf_lag10": 0.01048,
    "sign_acf_lag100": 0.001298,
    "spread_bps": 5.267,
    "spread_ticks": 1.053,
    "executions_per_s": 3.562,
    "events_per_s": 39.89,
    "volume_per_s": 11.34,
    "vol_vol_corr": 0.3172,
    "mm_baseline_up_vs_ranging": 60.02,
    "mm_baseline_down_vs_ranging": 58.2,
    "mm_normal_row_up_vs_ranging": -72.78,
    "mm_normal_row_down_vs_ranging": -67.94,
}


def _fact_label(key: str) -> str:
    return FACTS_BY_KEY[key].label if key in FACTS_BY_KEY else key


def need_text(need: Need, rate: float, markets: int, hours: float) -> str | None:
    """None when ``markets`` x ``hours`` give the sample ``need`` asks for; else what would.

    ``rate``: observations of the series per market-hour."""
    if rate <= 0:
        return f"not estimable: no {need.what} in the sample"
    if rate * hours * markets >= need.min_obs and rate * hours >= need.min_len:
        return None
    h = max(hours, need.min_len / rate)
    m = max(markets, math.ceil(need.min_obs / (rate * h) - 1e-9))
    return (
        f"not estimable: need >= {m} markets x {_hours_text(h)} (>= {need.min_obs:g} "
        f"{need.what} pooled, >= {need.min_len:g} per market)"
    )


def _hours_text(h: float) -> str:
    return f"{h * 60:.3g} min" if h < 1 else f"{h:.3g} h"


def evaluate_facts(
    stats: MarketStats,
    markets: int,
    hours: float,
    economics: Mapping[str, float] | None = None,
    small_tick: bool | None = None,
) -> pd.DataFrame:
    """One row per fact of ``FACTS``: value, band, verdict, the legacy default's value, the
    real values and the band's source.

    Verdicts: ``pass``, ``FAIL``, ``not estimable: ...`` (sample too small, which metric),
    ``n/a: small-tick preset only``, ``report only`` (no band). ``economics``: the market
    maker's facts per regime (``mm_gym.evaluation.economics.economics_values``), when measured."""
    values = dict(stats.values)
    rates = dict(stats.rates)
    if economics is not None:
        values.update(economics)
        rates["mm"] = 1.0
    small = is_small_tick(stats) if small_tick is None else small_tick
    rows = []
    for fact in FACTS:
        value = values.get(fact.key, math.nan)
        rows.append(
            {
                "key": fact.key,
                "fact": fact.label,
                "value": value,
                "band": "-" if fact.band is None else str(fact.band),
                "verdict": _verdict(fact, value, values, stats, rates, markets, hours, small),
                "legacy": LEGACY_DEFAULT.get(fact.key, math.nan),
                "AAPL": fact.aapl,
                "GOOG": fact.goog,
                "source": fact.source,
            }
        )
    return pd.DataFrame(rows).set_index("key")


def _verdict(
    fact: Fact,
    value: float,
    values: Mapping[str, float],
    stats: MarketStats,
    rates: Mapping[str, float],
    markets: int,
    hours: float,
    small: bool,
) -> str:
    if fact.small_tick_only and not small:
        return "n/a: small-tick preset only"
    if fact.key.startswith("mm_") and fact.key not in values:
        return "not measured"
    missing = need_text(fact.need, rates.get(fact.need.series, 0.0), markets, hours)
    if missing is not None:
        return missing
    if not math.isfinite(value):
        return "not estimable: " + stats.notes.get(fact.key, "no value")
    if fact.band is None:
        return "report only"
    holds = fact.band.holds(value, values)
    if holds is None:
        return f"not estimable: {_fact_label(fact.band.below or fact.key)} has no value"
    return "pass" if holds else "FAIL"
