"""ReplaySim: the market interface of ``MarketSim`` over a recording (``mm_gym.market.replay``).

Markets are windows of one recording; each reset draws a market's window start from its seed
and episode number, so a seed names the same window in every run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from mm_gym.config import check_range
from mm_gym.data.schema import CLEAR, HIDDEN_TRADE, LEVEL, TRADE
from mm_gym.data.store import read_events, read_metadata
from mm_gym.errors import ConfigError, DataError
from mm_gym.market.config import DEFAULT_SHARES_PER_LOT, WINDOW_LEVELS_MAX, MarketConfig
from mm_gym.market.recorded import infer_tick
from mm_gym.market.regimes import UNKNOWN_REGIME
from mm_gym.market.replay import Tape, replay_advance, replay_start
from mm_gym.market.rng import WINDOW_STREAM, episode_generators
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.config import StrategyConfig

__all__ = ["OPEN_S", "Recording", "ReplaySim", "load_recording"]

NS = 1_000_000_000
OPEN_S = 9.5 * 3600  # the trading day's clock starts at 09:30 in the recording's time zone
WARMUP_S = 60.0  # the least recorded history before a window (the volatility and trend estimates)
WINDOW_MARGIN = 256  # levels beyond the recorded prices' range (our quotes may stand there)


@dataclasses.dataclass(frozen=True)
class Recording:
    """A recording loaded for replay: its tape, tick (currency), lot (source size units per
    lot), shown depth (``levels``, 0: full), duration (s), the time of day of its first
    event (s after the open), and the price window (centre, ticks; levels) that holds every
    recorded level."""

    path: str
    tape: Tape
    tick: float
    shares_per_lot: float
    levels: int
    duration_s: float
    day0_s: float
    centre_ticks: float
    window_levels: int
    metadata: dict

    def market(self, base: MarketConfig | None = None) -> MarketConfig:
        """``base`` (fees, latency, queue model, ...) on the recording's tick and price."""
        base = base or MarketConfig()
        return dataclasses.replace(
            base,
            tick_size=self.tick,
            initial_price=self.centre_ticks * self.tick,
            window_levels=max(base.window_levels, self.window_levels),
        )


def load_recording(path: str | Path, shares_per_lot: float = DEFAULT_SHARES_PER_LOT) -> Recording:
    """Read a converted recording (``mm-gym data convert``) into a replay tape, timed by the
    receipt time (``local_ts``: the order of the rows). Sizes become lots of
    ``shares_per_lot`` of the source's units: a level's size rounds to the nearest lot, at
    least 1 while the level holds anything; a trade's to the nearest lot (a trade under half a
    lot moves nothing). A trade between ticks (a hidden execution at a half tick) is placed on
    the tick the aggressor did not reach: a sell's below, a buy's above."""
    check_range("shares_per_lot", shares_per_lot, 0.0, None, low_open=True)
    if not Path(path).is_file():
        raise ConfigError(f"data={str(path)!r}: no such file (a recording: mm-gym data convert)")
    meta = read_metadata(path)
    unit, levels, tz = _replay_metadata(path, meta)
    cols = {c: [] for c in ("local_ts", "kind", "side", "price", "size")}
    for batch in read_events(path):
        for c in cols:
            cols[c].append(batch[c])
    ev = {c: np.concatenate(v) if v else np.zeros(0) for c, v in cols.items()}
    book = ev["kind"] == LEVEL
    if not book.any():
        raise DataError(f"{path}: no level events; a replay needs the recorded book")
    try:
        tick_units = infer_tick(ev["price"][book])
    except DataError as err:
        raise DataError(f"{path}: {err}") from None
    keep = np.isin(ev["kind"], (CLEAR, LEVEL, TRADE, HIDDEN_TRADE))
    ts = ev["local_ts"][keep]
    back = np.flatnonzero(np.diff(ts) < 0)
    if back.size:
        row = int(np.flatnonzero(keep)[back[0] + 1])
        raise DataError(
            f"{path}: row {row}: local_ts goes back in time; expected rows in receipt order"
        )
    kind = ev["kind"][keep].astype(np.int64)
    side = ev["side"][keep].astype(np.int64)
    size = ev["size"][keep] / shares_per_lot
    lots = np.rint(size).astype(np.int64)
    lots[(kind == LEVEL) & (size > 0) & (lots == 0)] = 1
    ticks = ev["price"][keep] / tick_units
    traded = (kind == TRADE) | (kind == HIDDEN_TRADE)
    price = np.rint(ticks)
    price[traded & (side < 0)] = np.floor(ticks[traded & (side < 0)])
    price[traded & (side > 0)] = np.ceil(ticks[traded & (side > 0)])
    tape = Tape(
        t=(ts - ts[0]) / NS,
        kind=kind,
        side=side,
        price=price.astype(np.int64),
        lots=lots,
    )
    # the window's centre and size hold every recorded level, up to the most levels a config
    # may have (a wider recording moves the window with the mid, dropping levels beyond it)
    lo, hi = ev["price"][book].min() / tick_units, ev["price"][book].max() / tick_units
    centre = round((lo + hi) / 2)
    span = min(int(2 * (hi - lo)) + WINDOW_MARGIN, WINDOW_LEVELS_MAX)
    local = dt.datetime.fromtimestamp(ts[0] / NS, tz)
    day0 = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6 - OPEN_S
    return Recording(
        path=str(path),
        tape=tape,
        tick=tick_units * unit,
        shares_per_lot=float(shares_per_lot),
        levels=levels,
        duration_s=float(tape.t[-1]),
        day0_s=float(day0),
        centre_ticks=float(centre),
        window_levels=span,
        metadata=meta,
    )


def _replay_metadata(path: str | Path, meta: dict) -> tuple[float, int, ZoneInfo]:
    """The price unit, shown depth and time zone of a recording's metadata, checked."""
    try:
        unit = float(meta["price_unit"])
        if not (math.isfinite(unit) and unit > 0):
            raise ValueError
    except (KeyError, ValueError):
        raise DataError(
            f"{path}: metadata price_unit={meta.get('price_unit')!r}; expected a number > 0"
        ) from None
    try:
        levels = int(meta.get("levels", "0"))
        if levels < 0:
            raise ValueError
    except ValueError:
        raise DataError(
            f"{path}: metadata levels={meta.get('levels')!r}; expected an integer >= 0 (0: full "
            "depth)"
        ) from None
    try:
        tz = ZoneInfo(meta.get("tz", "UTC"))
    except (ValueError, ZoneInfoNotFoundError):
        raise DataError(
            f"{path}: metadata tz={meta.get('tz')!r}; expected an IANA time zone"
        ) from None
    return unit, levels, tz


class ReplaySim(MarketSim):
    """``num_markets`` windows of ``session_s`` seconds of one recording, with the simulator's
    quoting engine, latency, fees, queue model (``market``'s) and accounting; the recording's
    book in place of the simulated background. Same arrays, views and ``advance`` as
    ``MarketSim``."""

    def __init__(
        self,
        num_markets: int,
        recording: Recording,
        session_s: float,
        market: MarketConfig | None = None,
        strategy: StrategyConfig | None = None,
        threads: int | None = None,
        warmup_s: float = WARMUP_S,
        **kw,
    ) -> None:
        if market is not None and market.pin_regime is not None:
            raise ConfigError(
                f"market.pin_regime={market.pin_regime!r}: a recording has no regimes to pin"
            )
        check_range("warmup_s", warmup_s, 0.0, None)
        if math.floor(recording.duration_s - session_s) < math.ceil(warmup_s):
            raise ConfigError(
                f"session_s={session_s!r}: {recording.path} holds {recording.duration_s:.0f} s; "
                f"an episode needs {warmup_s:g} s of warm-up before it and session_s after it"
            )
        super().__init__(num_markets, recording.market(market), strategy, threads=threads, **kw)
        self.recording = recording
        self.replay_tape = recording.tape  # (``tape`` is the simulator's trade tape)
        self.session_s = float(session_s)
        self.warmup_s = float(warmup_s)
        self.cursor = np.zeros(num_markets, dtype=np.int64)
        self.start = np.zeros(num_markets)

    def window_starts(self, seeds: np.ndarray, episodes: np.ndarray | None) -> np.ndarray:
        """Window starts (s into the recording) for these seeds and episodes, uniform over the
        whole seconds that leave the warm-up before and the session after."""
        latest = math.floor(self.recording.duration_s - self.session_s)
        draws = episode_generators(seeds, episodes, WINDOW_STREAM)
        return np.array([float(g.integers(math.ceil(self.warmup_s), latest + 1)) for g in draws])

    def reset(
        self,
        seeds: np.ndarray | list[int],
        mask: np.ndarray | None = None,
        episodes: np.ndarray | None = None,
    ) -> None:
        super().reset(seeds, mask=mask, episodes=episodes)
        mask = self._all if mask is None else np.asarray(mask, dtype=np.bool_)
        seeds = np.asarray(seeds, dtype=np.int64)
        self.start[mask] = self.window_starts(
            seeds[mask], None if episodes is None else np.asarray(episodes)[mask]
        )
        replay_start(
            mask,
            self.start,
            self.recording.day0_s,
            self.replay_tape,
            self.cursor,
            self.recording.levels,
            self.state,
            self.market_params,
        )

    @property
    def regime(self) -> np.ndarray:
        """``UNKNOWN_REGIME`` (-1) for every market: a recording's regime is not known."""
        return np.full(self.n, UNKNOWN_REGIME, dtype=np.int64)

    def _advance_range(self, lo: int, hi: int, mask: np.ndarray) -> None:
        replay_advance(
            lo,
            hi,
            self._t_end,
            mask,
            self.state,
            self.params,
            self.market_params,
            self.replay_tape,
            self.cursor,
            self.recording.levels,
        )
