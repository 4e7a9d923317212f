"""MarketSim: N independent order-book markets advanced together, state as arrays."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mm_gym.errors import ConfigError
from mm_gym.market import layout as lay
from mm_gym.market.config import MarketConfig
from mm_gym.market.event_loop import advance
from mm_gym.market.kernel_cache import announce_first_compile, clear_stale_caches
from mm_gym.market.refresh import first_param_beyond
from mm_gym.market.regimes import LABEL_NAMES
from mm_gym.market.reset import reset_markets
from mm_gym.market.rng import seed_states
from mm_gym.market.signals import signals
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy.config import StrategyConfig
from mm_gym.strategy.layout import (
    A_SKEW,
    A_SPREAD_MULT,
    MAX_INVENTORY_SKEW,
    MAX_SPREAD_MULTIPLIER,
    NACT,
    pack_strategy,
)
from mm_gym.strategy.quoting import widest_quote_bps

PARALLEL_MIN_MARKETS = 32  # smaller batches run on the calling thread
PRICE_HEADROOM = 1.25  # the widest quote stays in the window until the price has risen 25%
MAX_WINDOW_LEVELS = 16_384  # 256 KiB of book per market
MAX_MESSAGES = 4096  # order messages in flight per side (288 KiB per maker)
MAX_MAKERS = 8  # market makers per market
THREADS_ENV = "MM_GYM_THREADS"  # a batch's threads when not given (a Ray task sets its CPUs)


def default_threads() -> int:
    """Threads of a batch of markets when not given: ``$MM_GYM_THREADS``, or the machine's
    cores up to 8."""
    given = os.environ.get(THREADS_ENV)
    if given is None:
        return min(os.cpu_count() or 1, 8)
    if not given.strip().isdigit() or int(given) < 1:
        raise ConfigError(f"{THREADS_ENV}={given!r}: expected an integer >= 1")
    return int(given)


def window_levels(
    market: MarketConfig,
    strategy: StrategyConfig,
    max_spread_multiplier: float,
    max_inventory_skew: float,
) -> int:
    """Price levels of the book window: ``market.window_levels``, or more so that the widest
    quote the engine can send lies inside it wherever the window lets the mid sit (a quarter
    of the window from either edge). Raises ConfigError when that needs too many levels."""
    sp = pack_strategy(strategy, market.maker_fee_bps)
    widest = widest_quote_bps(max_spread_multiplier, max_inventory_skew, sp)
    reach = widest * 1e-4 * market.price_ticks * PRICE_HEADROOM + 2.0  # ticks, with rounding
    need = 4 * math.ceil(reach)
    cap = min(MAX_WINDOW_LEVELS, int(market.price_ticks))  # and no negative prices
    if need > cap:
        fix = (
            "a larger tick_size or narrower quotes"
            if cap == MAX_WINDOW_LEVELS
            else "narrower quotes"
        )
        raise ConfigError(
            f"initial_price/tick_size={market.price_ticks:g}: quotes up to {widest:.4g} bps "
            f"from the mid (base_spread_bps={strategy.base_spread_bps:g}, spread multiplier up "
            f"to {max_spread_multiplier:g}, inventory skew up to {max_inventory_skew:g}, "
            f"skew_bps_per_lot={strategy.skew_bps_per_lot:g}, max_inventory="
            f"{strategy.max_inventory}) need a window of {need} price levels; at most {cap} "
            f"are allowed: use {fix}"
        )
    return max(market.window_levels, need)


def messages_in_flight(market: MarketConfig, strategy: StrategyConfig) -> int:
    """The most order messages that can be in flight on one side: each quote refresh sends at
    most one, and a fill at most one cancel after it, for as long as the latency lasts.
    Raises ConfigError when that needs more than ``MAX_MESSAGES``."""
    refreshes = math.floor(market.reaction_latency_ms / strategy.quote_refresh_ms)
    need = 2 * refreshes + 5
    if need > MAX_MESSAGES:
        raise ConfigError(
            f"latency_ms + feed_latency_ms={market.reaction_latency_ms!r} with quote_refresh_ms="
            f"{strategy.quote_refresh_ms!r}: up to {need} order messages in flight per side; "
            f"at most {MAX_MESSAGES} are allowed: refresh less often or lower the latency"
        )
    return need


class MarketSim:
    """A batch of ``num_markets`` simulated markets, each with ``makers`` market makers in its
    book (1 to ``MAX_MAKERS``), each maker running the quoting engine with its own orders,
    account and risk state.

    ``reset(seeds)`` lays out fresh markets; ``advance(dt, params)`` runs every market
    ``dt`` seconds of market time with the given quoting parameters (spread multiplier,
    inventory skew, size fraction) per maker: row ``a = i * makers + m`` is maker ``m`` of
    market ``i``, in ``params`` and in every per-maker view (``cash``, ``inventory``,
    ``equity``, ``fills``). Python touches the batch once per call.
    The price window is sized for spread multipliers up to ``max_spread_multiplier`` and
    inventory skews up to ``max_inventory_skew``; larger parameters are an error.
    ``tape_capacity`` > 0 keeps each market's last background market orders (``trades``).
    """

    def __init__(
        self,
        num_markets: int,
        market: MarketConfig | None = None,
        strategy: StrategyConfig | None = None,
        threads: int | None = None,
        max_spread_multiplier: float = MAX_SPREAD_MULTIPLIER,
        max_inventory_skew: float = MAX_INVENTORY_SKEW,
        tape_capacity: int = 0,
        makers: int = 1,
    ) -> None:
        if isinstance(num_markets, bool) or not isinstance(num_markets, int) or num_markets < 1:
            raise ConfigError(f"num_markets={num_markets!r}: expected an integer >= 1")
        if isinstance(makers, bool) or not isinstance(makers, int) or not 1 <= makers <= MAX_MAKERS:
            raise ConfigError(f"makers={makers!r}: expected an integer from 1 to {MAX_MAKERS}")
        self.market = market or MarketConfig()
        self.strategy = strategy or StrategyConfig()
        self.n = num_markets
        self.makers = makers
        clear_stale_caches()
        announce_first_compile(advance)
        self.max_params = (float(max_spread_multiplier), float(max_inventory_skew))
        self.levels = window_levels(self.market, self.strategy, *self.max_params)
        self.mp, self.rp = lay.pack_market(self.market)
        self.mp[lay.MP_L] = self.levels
        self.mp[lay.MP_MAKERS] = makers
        self.sp = pack_strategy(self.strategy, self.market.maker_fee_bps)
        n, L = num_markets, self.levels
        k = n * makers  # rows of the per-maker arrays
        self.book = np.zeros((n, 2, L), dtype=np.int64)
        self.fs = np.zeros((n, lay.NFS))
        self.ints = np.zeros((n, lay.NIS), dtype=np.int64)
        self.mfs = np.zeros((k, lay.NMF))
        self.mints = np.zeros((k, lay.NMI), dtype=np.int64)
        self.orders = np.zeros((k, 2, lay.NORD), dtype=np.int64)
        self.order_time = np.zeros((k, 2))
        cap = messages_in_flight(self.market, self.strategy)
        self.pend = np.zeros((k, 3, cap, lay.NPEND), dtype=np.int64)
        self.pend_time = np.full((k, 3, cap), lay.INF)
        self.step_stats = np.zeros((k, lay.NSTEP))
        self.log = np.zeros((k, self.market.fill_log_capacity, lay.NLOG))
        self.mq = np.zeros((k, 3, self.market.markout_queue, lay.NMQ))
        self.mq_head = np.zeros((k, 3), dtype=np.int64)
        self.mq_count = np.zeros((k, 3), dtype=np.int64)
        if (
            isinstance(tape_capacity, bool)
            or not isinstance(tape_capacity, int)
            or tape_capacity < 0
        ):
            raise ConfigError(f"tape_capacity={tape_capacity!r}: expected an integer >= 0")
        self.tape = np.zeros((n, tape_capacity, lay.NTAPE))
        # three generator states per market: the flow (rng[i]) and the exogenous regime, news
        # and fair value (rng[n + i]), both the same under any policy, and the cancellations
        # (rng[2n + i]), which depend on the book
        self.rng = np.zeros(3 * n, dtype=np.uint64)
        self.params = np.zeros((k, NACT))
        self._rates = np.zeros((n, lay.NRATE))
        # the kernels' view of the same arrays
        self.state = MarketState(
            book=self.book,
            fs=self.fs,
            ints=self.ints,
            mfs=self.mfs,
            mints=self.mints,
            orders=self.orders,
            order_time=self.order_time,
            pend=self.pend,
            pend_time=self.pend_time,
            step_stats=self.step_stats,
            log=self.log,
            mq=self.mq,
            mq_head=self.mq_head,
            mq_count=self.mq_count,
            tape=self.tape,
            rng=self.rng,
            rates=self._rates,
        )
        self.market_params = MarketParams(mp=self.mp, rp=self.rp, sp=self.sp)
        self._all = np.ones(n, dtype=np.bool_)
        self._t_end = np.zeros(n)
        if threads is None:
            threads = default_threads() if n >= PARALLEL_MIN_MARKETS else 1
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ConfigError(f"threads={threads!r}: expected an integer >= 1")
        self.threads = min(threads, n)
        bounds = np.linspace(0, n, self.threads + 1).astype(int).tolist()
        self._chunks = list(zip(bounds[:-1], bounds[1:], strict=True))
        # the calling thread advances the first chunk of markets, the pool the others
        self._pool = ThreadPoolExecutor(self.threads - 1) if self.threads > 1 else None

    # ------------------------------------------------------------------ control
    def reset(
        self,
        seeds: np.ndarray | list[int],
        mask: np.ndarray | None = None,
        episodes: np.ndarray | None = None,
    ) -> None:
        """Fresh markets for ``mask`` (all by default), market i seeded with ``seeds[i]``
        (and, optionally, episode number ``episodes[i]`` of that seed)."""
        mask = self._all if mask is None else np.asarray(mask, dtype=np.bool_)
        seeds = np.asarray(seeds, dtype=np.int64)
        if seeds.shape != (self.n,):
            raise ConfigError(f"seeds shape {seeds.shape}: expected ({self.n},)")
        ep = None if episodes is None else episodes[mask]
        for k in range(3):
            self.rng[k * self.n : (k + 1) * self.n][mask] = seed_states(seeds[mask], ep, k)
        reset_markets(mask, self.state, self.market_params)

    def pin_regimes(self, markets: np.ndarray, regimes: np.ndarray) -> None:
        """Put each of ``markets`` (indices) in regime ``regimes[k]`` (indices into
        ``REGIME_NAMES``) for the rest of its episode: no switch is scheduled until its next
        reset. Only the regime chain changes; the volatility estimates, schedules and book
        laid out by ``reset`` read no regime, so a market pinned right after its reset is the
        pinned market from its first event."""
        markets = np.asarray(markets, dtype=np.int64)
        regimes = np.asarray(regimes, dtype=np.int64)
        if markets.shape != regimes.shape or markets.ndim != 1:
            raise ConfigError(
                f"pin_regimes: markets shape {markets.shape} and regimes shape {regimes.shape}: "
                "expected two 1-d arrays of one length"
            )
        if markets.size and (markets.min() < 0 or markets.max() >= self.n):
            raise ConfigError(f"pin_regimes: markets {markets.tolist()}: expected 0..{self.n - 1}")
        if regimes.size and (regimes.min() < 0 or regimes.max() >= self.rp.shape[0]):
            raise ConfigError(
                f"pin_regimes: regimes {regimes.tolist()}: expected 0..{self.rp.shape[0] - 1}"
            )
        self.ints[markets, lay.I_REGIME] = regimes
        self.fs[markets, lay.F_NEXT_REGIME] = lay.INF

    def advance(self, dt: float, params: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Run ``dt`` seconds with quoting parameters ``params[N * makers, 3]`` (a row per
        maker); zero the step counters."""
        mask = self._all if mask is None else mask
        rows = self.params.shape[0]
        if np.ndim(params) == 2 and np.shape(params)[0] != rows:
            raise ConfigError(
                f"params shape {np.shape(params)}: expected ({rows}, {NACT}), a row per maker "
                f"({self.n} markets x {self.makers} makers)"
            )
        self.params[:] = params
        bad = first_param_beyond(self.params, *self.max_params)
        if bad >= 0:
            i, k = divmod(bad, NACT)
            name = {A_SPREAD_MULT: "max_spread_multiplier", A_SKEW: "max_inventory_skew"}[k]
            raise ConfigError(
                f"params[{i}, {k}]={float(self.params[i, k])!r}: above {name}="
                f"{self.max_params[k]!r}, which the price window is sized for"
            )
        self.step_stats[:] = 0.0
        np.add(self.fs[:, lay.F_T], dt, out=self._t_end)
        pending = [
            self._pool.submit(self._advance_range, lo, hi, mask) for lo, hi in self._chunks[1:]
        ]
        try:
            self._advance_range(*self._chunks[0], mask)
        finally:
            for f in pending:
                f.result()

    def _advance_range(self, lo: int, hi: int, mask: np.ndarray) -> None:
        advance(lo, hi, self._t_end, mask, self.state, self.params, self.market_params)

    # ------------------------------------------------------------------ views
    @property
    def bytes_per_market(self) -> float:
        """Memory of the batch's arrays (book, state, queues, logs, scratch) per market."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray)) / self.n

    @property
    def time(self) -> np.ndarray:
        """Market time of each market, seconds."""
        return self.fs[:, lay.F_T]

    @property
    def mid(self) -> np.ndarray:
        """Mid price of the background book, currency."""
        return self.fs[:, lay.F_MID] * self.market.tick_size

    @property
    def fair_value(self) -> np.ndarray:
        """The latent fair value, currency (hidden from agents)."""
        return self.fs[:, lay.F_FAIR] * self.market.tick_size

    @property
    def regime_drift(self) -> np.ndarray:
        """The fair value's drift in each market's hidden regime, currency per s."""
        return self.rp[self.ints[:, lay.I_REGIME], lay.RP_DRIFT] * self.market.tick_size

    @property
    def cash(self) -> np.ndarray:
        """Each maker's cash, currency."""
        return self.mfs[:, lay.MF_CASH]

    @property
    def inventory(self) -> np.ndarray:
        """Each maker's inventory in lots."""
        return self.mints[:, lay.MI_INV]

    @property
    def equity(self) -> np.ndarray:
        """Each maker's mark-to-market equity: ``cash + inventory * mid`` (initial cash is
        zero)."""
        return self.cash + self.inventory * np.repeat(self.mid, self.makers)

    @property
    def best_bid(self) -> np.ndarray:
        """Best background bid, currency (nan if the side is empty)."""
        return _price(self.ints[:, lay.I_BEST_BID], self.market.tick_size)

    @property
    def best_ask(self) -> np.ndarray:
        return _price(self.ints[:, lay.I_BEST_ASK], self.market.tick_size)

    @property
    def regime(self) -> np.ndarray:
        """Hidden regime index per market; ``NEWS`` (4) while a news event is in effect."""
        return self._signals()[0]

    def regime_names(self) -> list[str]:
        return [LABEL_NAMES[k] for k in self.regime]

    @property
    def news_flag(self) -> np.ndarray:
        """The observable flag: an announced news is near or in effect."""
        return self._signals()[2]

    @property
    def vol_short_bps(self) -> np.ndarray:
        """Realised volatility, bps per sqrt(second), short half-life."""
        return np.sqrt(self.fs[:, lay.F_VAR_SHORT])

    @property
    def vol_long_bps(self) -> np.ndarray:
        return np.sqrt(self.fs[:, lay.F_VAR_LONG])

    @property
    def trend_strength(self) -> np.ndarray:
        """Trend EWMA over its no-drift standard error (about N(0, 1) when ranging)."""
        return self._signals()[1]

    def _signals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        label = np.empty(self.n, dtype=np.int64)
        trend = np.empty(self.n)
        news = np.empty(self.n, dtype=np.bool_)
        signals(self.fs, self.ints, self.mp, label, trend, news)
        return label, trend, news

    @property
    def spread_bps(self) -> np.ndarray:
        """Background quoted spread in bps of the mid (nan if a side is empty)."""
        return (self.best_ask - self.best_bid) / self.mid * 1e4

    def depth(self, levels: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """Background lots on the best ``levels`` price levels of each side."""
        origin = self.ints[:, lay.I_ORIGIN]
        L = self.levels
        idx = np.arange(levels)
        bb = self.ints[:, lay.I_BEST_BID, None] - origin[:, None] - idx
        ba = self.ints[:, lay.I_BEST_ASK, None] - origin[:, None] + idx
        rows = np.arange(self.n)[:, None]
        bid = np.where((bb >= 0) & (bb < L), self.book[rows, 0, np.clip(bb, 0, L - 1)], 0)
        ask = np.where((ba >= 0) & (ba < L), self.book[rows, 1, np.clip(ba, 0, L - 1)], 0)
        bid = np.where(self.ints[:, lay.I_BEST_BID, None] >= 0, bid, 0)
        ask = np.where(self.ints[:, lay.I_BEST_ASK, None] >= 0, ask, 0)
        return bid.sum(axis=1), ask.sum(axis=1)

    def trades(self, i: int) -> np.ndarray:
        """Market ``i``'s background market orders still on its tape, oldest first, as a
        structured array (price in currency); needs ``tape_capacity`` > 0."""
        cap = self.tape.shape[1]
        written = int(self.ints[i, lay.I_TAPE_N])
        kept = min(written, cap)
        rows = self.tape[i, (written - kept + np.arange(kept)) % max(cap, 1)]
        out = np.zeros(kept, dtype=TRADE_DTYPE)
        for name, col in zip(TRADE_DTYPE.names, range(lay.NTAPE), strict=True):
            out[name] = rows[:, col]
        out["price"] *= self.market.tick_size
        return out

    def fills(self, a: int) -> np.ndarray:
        """The fill log of maker row ``a`` (market ``a // makers``) as a structured array
        (needs fill_log_capacity > 0)."""
        n = int(self.mints[a, lay.MI_LOG_N])
        rows = self.log[a, :n]
        out = np.zeros(n, dtype=FILL_DTYPE)
        for name, col in zip(FILL_DTYPE.names, range(lay.NLOG), strict=True):
            out[name] = rows[:, col]
        return out


TRADE_DTYPE = np.dtype(
    [("time", "f8"), ("sign", "f8"), ("lots", "f8"), ("price", "f8"), ("kind", "f8")]
)

FILL_DTYPE = np.dtype(
    [
        ("time", "f8"),
        ("side", "f8"),
        ("price", "f8"),
        ("size", "f8"),
        ("queue_wait", "f8"),
        ("mid", "f8"),
        ("maker", "f8"),
        ("markout_1s", "f8"),
        ("markout_10s", "f8"),
        ("markout_60s", "f8"),
    ]
)


def _price(ticks: np.ndarray, tick: float) -> np.ndarray:
    return np.where(ticks >= 0, ticks * tick, np.nan)
