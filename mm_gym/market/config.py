"""Validated configuration of the simulated order-book market."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mm_gym.config import Config, check_choice, check_range, resolve_config
from mm_gym.errors import ConfigError
from mm_gym.market.regimes import REGIME_NAMES, regime_index

QUEUE_MODELS = ("random_lot", "risk_averse", "power")  # ids 0, 1, 2 of ``market.queue_model``
DEFAULT_SHARES_PER_LOT = 10.0  # a recording's size units per lot: a 100-share round lot is 10
WINDOW_LEVELS_MAX = 4096  # the most price levels a config may ask for (``window_levels``)
MIN_RESTING_LOTS = 1.0  # the least mean resting volume per side of a market that holds


@dataclasses.dataclass(frozen=True)
class RegimeParams(Config):
    """What one hidden regime does to the fair value and to the order flow.

    Rates are multipliers of the market's base rates; drift and volatility are of the latent
    fair value, in basis points of the initial price. ``trend_flow_rate`` (per second) and
    ``trend_flow_size_mean`` (lots) are a trend's own informed flow: market orders on the
    drift's side only, sent when the fair value lies beyond the touch by the informed edge.
    """

    mean_duration_s: float = 600.0
    drift_bps_per_s: float = 0.0
    vol_bps_per_sqrt_s: float = 0.5
    limit_rate_mult: float = 1.0
    cancel_rate_mult: float = 1.0
    market_rate_mult: float = 1.0
    informed_rate_mult: float = 1.0
    weight: float = 1.0
    trend_flow_rate: float = 0.0
    trend_flow_size_mean: float = 1.0

    def validate(self) -> None:
        check_range("mean_duration_s", self.mean_duration_s, 0.0, None, low_open=True)
        check_range("drift_bps_per_s", self.drift_bps_per_s, -100.0, 100.0)
        check_range("vol_bps_per_sqrt_s", self.vol_bps_per_sqrt_s, 0.0, 100.0)
        for name in ("limit_rate_mult", "cancel_rate_mult", "market_rate_mult"):
            check_range(name, getattr(self, name), 0.0, 100.0, low_open=True)
        check_range("informed_rate_mult", self.informed_rate_mult, 0.0, 100.0)
        check_range("weight", self.weight, 0.0, None)
        check_range("trend_flow_rate", self.trend_flow_rate, 0.0, 1e5)
        check_range("trend_flow_size_mean", self.trend_flow_size_mean, 1.0, 1e4)
        if self.trend_flow_rate > 0 and self.drift_bps_per_s == 0:
            raise ConfigError(
                f"trend_flow_rate={self.trend_flow_rate!r}: needs a nonzero drift_bps_per_s "
                "(the trend flow trades in the drift's direction)"
            )


def _default_regimes() -> dict[str, RegimeParams]:
    return {
        "ranging": RegimeParams(mean_duration_s=900.0, vol_bps_per_sqrt_s=0.8, weight=0.45),
        "trending_up": RegimeParams(
            mean_duration_s=300.0,
            drift_bps_per_s=0.025,
            vol_bps_per_sqrt_s=1.0,
            informed_rate_mult=1.5,
            weight=0.2,
            trend_flow_rate=4.0,
            trend_flow_size_mean=10.0,
        ),
        "trending_down": RegimeParams(
            mean_duration_s=300.0,
            drift_bps_per_s=-0.025,
            vol_bps_per_sqrt_s=1.0,
            informed_rate_mult=1.5,
            weight=0.2,
            trend_flow_rate=4.0,
            trend_flow_size_mean=10.0,
        ),
        "high_vol": RegimeParams(
            mean_duration_s=400.0,
            vol_bps_per_sqrt_s=1.8,
            limit_rate_mult=1.2,
            cancel_rate_mult=1.5,
            market_rate_mult=1.5,
            informed_rate_mult=2.0,
            weight=0.15,
        ),
    }


@dataclasses.dataclass(frozen=True)
class NewsConfig(Config):
    """News events: fair-value jumps with an informed burst and a liquidity withdrawal."""

    rate_per_hour: float = 2.0
    announced_fraction: float = 0.5
    announce_lead_s: float = 60.0
    jump_bps_mean: float = 8.0
    duration_s: float = 30.0
    informed_rate_mult: float = 6.0
    limit_rate_mult: float = 0.4
    cancel_rate_mult: float = 3.0
    depth_pull_fraction: float = 0.6

    def validate(self) -> None:
        check_range("rate_per_hour", self.rate_per_hour, 0.0, 3600.0)
        check_range("announced_fraction", self.announced_fraction, 0.0, 1.0)
        check_range("announce_lead_s", self.announce_lead_s, 0.0, 3600.0)
        check_range("jump_bps_mean", self.jump_bps_mean, 0.0, 10_000.0)
        check_range("duration_s", self.duration_s, 0.0, 3600.0, low_open=True)
        check_range("informed_rate_mult", self.informed_rate_mult, 0.0, 1000.0)
        check_range("limit_rate_mult", self.limit_rate_mult, 0.0, 100.0, low_open=True)
        check_range("cancel_rate_mult", self.cancel_rate_mult, 0.0, 100.0, low_open=True)
        check_range("depth_pull_fraction", self.depth_pull_fraction, 0.0, 1.0, high_open=True)


@dataclasses.dataclass(frozen=True)
class VolatilityConfig(Config):
    """Volatility of the fair value over time: two log-volatility factors, fast and slow, a
    calm/busy switching component and an intraday pattern.

    Each factor is a stationary Ornstein-Uhlenbeck process with the given half-life and
    standard deviation; the regime's volatility is multiplied by ``exp(X_fast + X_slow - var)``
    (``var`` their summed variance), which keeps the mean variance. A standard deviation of 0
    turns a factor off. The switching component (a two-state Markov chain, as one component of
    Calvet and Fisher's Markov-switching multifractal) spends exponential times of mean
    ``switch_mean_s`` alternately calm and busy, half the time each; busy volatility is
    ``switch_ratio`` times calm, and the two levels keep the mean variance. A ratio of 1 turns
    it off. The intraday pattern (Andersen and Bollerslev 1997: volatility high at the open
    and the close, low at midday) multiplies volatility by ``1 + a (3 (2u - 1)^2 - 1)``, ``u``
    the fraction of the trading day (``day_s`` long, days back to back) gone and ``a``
    ``intraday_amplitude`` (0: off), scaled to keep the mean variance over a day; each market
    starts at a time of day drawn uniformly.
    """

    fast_halflife_s: float = 60.0
    fast_sd: float = 0.0
    slow_halflife_s: float = 3600.0
    slow_sd: float = 0.0
    switch_mean_s: float = 10_800.0
    switch_ratio: float = 1.0
    intraday_amplitude: float = 0.6
    day_s: float = 23_400.0

    def validate(self) -> None:
        check_range("fast_halflife_s", self.fast_halflife_s, 1.0, 1e6)
        check_range("fast_sd", self.fast_sd, 0.0, 2.0)
        check_range("slow_halflife_s", self.slow_halflife_s, 1.0, 1e6)
        check_range("slow_sd", self.slow_sd, 0.0, 2.0)
        check_range("switch_mean_s", self.switch_mean_s, 1.0, 1e6)
        check_range("switch_ratio", self.switch_ratio, 1.0, 100.0)
        check_range("intraday_amplitude", self.intraday_amplitude, 0.0, 0.9)
        check_range("day_s", self.day_s, 60.0, 1e6)


@dataclasses.dataclass(frozen=True)
class MarketConfig(Config):
    """The simulated limit order book: price grid, background flow, regimes, costs.

    Sizes are in lots; prices in currency; rates per second per side unless said.
    The default looks like a liquid large-tick instrument: a 4.6 bp tick, a spread of one or two
    ticks, about 40 background events a second; ``preset(name)`` gives the shipped others.

    Background flow: limit orders rest a geometric distance behind the opposite best, or, for
    a fraction ``limit_fair_fraction``, behind the fair value less (bids) or plus (asks)
    ``limit_fair_offset_ticks``; with ``limit_pull_ticks`` set, background quotes nearer the
    fair value than that are withdrawn on the sampling clock. Noise market orders come in runs
    of one sign whose lengths have a power-law tail (``P(L >= l) = l**-metaorder_alpha``, at
    most ``metaorder_max_orders``; 0 gives independent signs), as split metaorders do.
    ``volatility`` shapes the fair value's volatility over time: an intraday pattern, and
    optionally log-volatility factors and calm/busy states.

    ``latency_ms`` is the order latency (a message sent lands that much later);
    ``feed_latency_ms`` how old the market data is that the quoting engine acts on. The engine
    acts on a clock (quote refreshes, decision steps) and on its own fills, so a feed that is
    F ms old is the same as acting F ms earlier on fresh data, the orders landing F ms later:
    the two latencies add up in ``reaction_latency_ms``, which is what the market applies.

    ``queue_model`` says how our resting order moves up its queue when lots ahead of it leave
    (``mm_gym.market.queue_model``): ``random_lot`` (a cancelled block sits anywhere in the
    queue, so ahead of us in proportion), ``risk_averse`` (cancellations come from behind us
    first; only trades move us up) or ``power`` (a cancellation is ahead of us with
    probability ``f(ahead) / (f(ahead) + f(behind))``, ``f(x) = x**queue_power``, as
    hftbacktest's power probability queue model; ``queue_power`` 1 is ``random_lot``).
    """

    tick_size: float = 0.05
    initial_price: float = 108.0
    window_levels: int = 128  # price levels kept, at least: MarketSim widens the window to
    # hold the widest quote the engine can send (``mm_gym.market.sim.window_levels``)
    initial_depth: int = 6
    initial_levels: int = 20
    initial_spread_ticks: int = 2
    limit_rate: float = 10.0
    limit_size_mean: float = 2.0
    limit_distance_mean: float = 2.0
    limit_fair_fraction: float = 0.5
    limit_fair_offset_ticks: float = 0.0
    limit_pull_ticks: float | None = None
    cancel_rate: float = 0.3
    market_rate: float = 1.5
    market_size_mean: float = 2.0
    informed_rate: float = 1.0
    informed_size_mean: float = 5.0
    informed_edge_ticks: float = 0.5
    metaorder_alpha: float = 1.6
    metaorder_max_orders: int = 50
    volatility: VolatilityConfig = dataclasses.field(default_factory=VolatilityConfig)
    regimes: dict = dataclasses.field(default_factory=_default_regimes)
    news: NewsConfig = dataclasses.field(default_factory=NewsConfig)
    pin_regime: str | None = None
    latency_ms: float = 5.0
    feed_latency_ms: float = 0.0
    queue_model: str = "random_lot"
    queue_power: float = 3.0
    maker_fee_bps: float = 0.5
    taker_fee_bps: float = 2.0
    sample_interval_ms: float = 100.0
    feature_interval_s: float = 5.0
    vol_short_halflife_s: float = 30.0
    vol_long_halflife_s: float = 300.0
    trend_halflife_s: float = 180.0
    fill_log_capacity: int = 0
    markout_queue: int = 256

    def __post_init__(self) -> None:
        regimes = dict(_default_regimes())
        given = self.regimes
        if not isinstance(given, dict):
            raise ConfigError(f"regimes={given!r}: expected a mapping of regime name to params")
        for name, params in given.items():
            regime_index(name, field="regimes")
            if isinstance(params, RegimeParams):
                regimes[name] = params
            elif isinstance(params, dict):
                base = regimes[name].to_dict()
                unknown = sorted(set(params) - set(base))
                if unknown:
                    raise ConfigError(
                        f"regimes.{name}.{unknown[0]}: unknown key; allowed are "
                        f"{', '.join(sorted(base))}"
                    )
                regimes[name] = RegimeParams.from_dict(
                    {**base, **params}, prefix=f"regimes.{name}."
                )
            else:
                raise ConfigError(f"regimes.{name}={params!r}: expected a mapping")
        object.__setattr__(self, "regimes", regimes)
        super().__post_init__()

    @property
    def reaction_latency_ms(self) -> float:
        """From the market data the engine acts on to its orders landing: feed plus order
        latency."""
        return self.latency_ms + self.feed_latency_ms

    def validate(self) -> None:
        check_range("tick_size", self.tick_size, 0.0, None, low_open=True)
        check_range("initial_price", self.initial_price, 0.0, None, low_open=True)
        ticks = self.initial_price / self.tick_size
        if not 1000 <= ticks <= 1e12:
            raise ConfigError(
                f"initial_price/tick_size={ticks:g}: allowed range is [1000, 1e12] ticks"
            )
        _check_int("window_levels", self.window_levels, 32, WINDOW_LEVELS_MAX)
        _check_int("initial_depth", self.initial_depth, 0, 10_000)
        _check_int("initial_levels", self.initial_levels, 1, self.window_levels // 4)
        if isinstance(self.initial_spread_ticks, int) and self.initial_spread_ticks < 1:
            raise ConfigError(
                f"initial_spread_ticks={self.initial_spread_ticks!r}: the initial book would be "
                "locked or crossed; needs at least 1 tick"
            )
        _check_int("initial_spread_ticks", self.initial_spread_ticks, 1, self.window_levels // 4)
        check_range("limit_rate", self.limit_rate, 0.0, 1e5, low_open=True)
        check_range("limit_size_mean", self.limit_size_mean, 1.0, 1e4)
        check_range("limit_distance_mean", self.limit_distance_mean, 1.0, self.window_levels / 8)
        check_range("limit_fair_fraction", self.limit_fair_fraction, 0.0, 1.0)
        check_range(
            "limit_fair_offset_ticks", self.limit_fair_offset_ticks, 0.0, self.window_levels / 8
        )
        if self.limit_pull_ticks is not None:
            check_range("limit_pull_ticks", self.limit_pull_ticks, 0.0, self.window_levels / 8)
        check_range("cancel_rate", self.cancel_rate, 0.0, 1e3, low_open=True)
        check_range("market_rate", self.market_rate, 0.0, 1e5)
        check_range("market_size_mean", self.market_size_mean, 1.0, 1e4)
        check_range("informed_rate", self.informed_rate, 0.0, 1e5)
        check_range("informed_size_mean", self.informed_size_mean, 1.0, 1e4)
        check_range("informed_edge_ticks", self.informed_edge_ticks, 0.0, 1e3)
        if self.metaorder_alpha != 0:
            check_range("metaorder_alpha", self.metaorder_alpha, 1.0, 5.0, low_open=True)
        _check_int("metaorder_max_orders", self.metaorder_max_orders, 1, 10_000_000)
        if self.pin_regime is not None:
            regime_index(self.pin_regime, field="pin_regime")
        if sum(r.weight for r in self.regimes.values()) <= 0:
            raise ConfigError("regimes.*.weight: at least one regime needs a positive weight")
        self._check_liquidity()
        check_range("latency_ms", self.latency_ms, 0.0, 10_000.0)
        check_range("feed_latency_ms", self.feed_latency_ms, 0.0, 10_000.0)
        check_choice("queue_model", self.queue_model, QUEUE_MODELS)
        check_range("queue_power", self.queue_power, 0.1, 10.0)
        check_range("maker_fee_bps", self.maker_fee_bps, -100.0, 100.0)
        check_range("taker_fee_bps", self.taker_fee_bps, -100.0, 100.0)
        check_range("sample_interval_ms", self.sample_interval_ms, 1.0, 10_000.0)
        check_range(
            "feature_interval_s", self.feature_interval_s, self.sample_interval_ms / 1000, 3600.0
        )
        for name in ("vol_short_halflife_s", "vol_long_halflife_s", "trend_halflife_s"):
            check_range(name, getattr(self, name), 0.0, 1e5, low_open=True)
        _check_int("fill_log_capacity", self.fill_log_capacity, 0, 10_000_000)
        _check_int("markout_queue", self.markout_queue, 8, 1_000_000)

    def _check_liquidity(self) -> None:
        """The book must hold: in each regime the market can be in, limit orders arrive
        fast enough against cancellations that at least one lot rests per side on average
        (``limit_rate * limit_size_mean / cancel_rate``, with the regime's multipliers)."""
        for name in REGIME_NAMES:
            r = self.regimes[name]
            if (self.pin_regime or name) != name or (self.pin_regime is None and r.weight == 0):
                continue
            resting = (self.limit_rate * r.limit_rate_mult * self.limit_size_mean) / (
                self.cancel_rate * r.cancel_rate_mult
            )
            if resting < MIN_RESTING_LOTS:
                raise ConfigError(
                    f"limit_rate={self.limit_rate!r}: the book cannot hold: in regime {name}, "
                    f"limit orders against cancellations (cancel_rate={self.cancel_rate!r}) leave "
                    f"{resting:.3g} lots resting per side; needs >= {MIN_RESTING_LOTS}"
                )

    @classmethod
    def preset(cls, name: str | Path) -> MarketConfig:
        """A shipped market by name (``configs/markets/<name>.yaml``: ``default``, ``legacy``,
        ``small_tick``, the regime-pinned ones) or a MarketConfig YAML file."""
        return cls.from_yaml(resolve_config("markets", name))

    @property
    def price_ticks(self) -> float:
        """Initial price in ticks."""
        return self.initial_price / self.tick_size

    @property
    def bps_to_ticks(self) -> float:
        """Ticks per basis point of the initial price."""
        return self.price_ticks * 1e-4

    def regime_list(self) -> list[RegimeParams]:
        """Regime params in index order."""
        return [self.regimes[name] for name in REGIME_NAMES]


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}={value!r}: expected an integer in [{low}, {high}]")
    check_range(name, value, low, high)
