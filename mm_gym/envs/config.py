"""Validated configuration of the market-making environments."""

from __future__ import annotations

import dataclasses

from mm_gym.config import Config, check_bool, check_choice, check_range
from mm_gym.errors import ConfigError
from mm_gym.market.config import DEFAULT_SHARES_PER_LOT, MarketConfig
from mm_gym.strategy.baseline import BaselineConfig
from mm_gym.strategy.config import StrategyConfig

ACTION_MODES = ("absolute", "residual")
REWARD_CARRIES = ("mid", "expected")
LINEAR_REWARDS = ("pnl", "pnl_inventory_penalty")


@dataclasses.dataclass(frozen=True)
class EnvConfig(Config):
    """An episode of market making: the market, the quoting engine, actions and reward.

    Action ``Box(-1, 1, (3,))`` maps linearly onto ``spread_multiplier_range``,
    ``inventory_skew_range`` and ``size_fraction_range``. With ``action_mode="residual"`` the
    action, times ``residual_scale``, is added to the baseline's table parameters (so action 0
    is the baseline) and the sum is held inside the ranges.

    ``reward_carry="expected"`` (for training) takes the unpredictable part of the latent
    fair value's move out of the inventory's carry: the reward loses ``inventory_before *
    (fair move - regime drift * dt)``, a term of mean zero given the past, so every policy's
    expected return is unchanged while the variance from marking inventory drops. It reads
    hidden state, so evaluations use ``"mid"`` (the equity actually earned).

    ``market_features=True`` appends what a market maker watches besides the base columns
    (``mm_gym.envs.observations.FEATURE_NAMES``): the realised spread of the agent's fills,
    the time since its last fill and the order flow imbalance at the best levels over the
    last step.

    ``mirror_trend=True`` shows a market whose trend strength is negative in its mirror image:
    the signed columns (inventory, trend, book and order flow imbalance) change sign and the
    bid/ask and up/down columns swap, so the agent sees every market rising or flat and learns
    one behaviour for both trends. The market, the action (spread, skew, size have no side)
    and the reward are unchanged. The market's rules are symmetric between up and down; a
    start price that puts the half-spreads exactly on ticks (100 with a 0.05 tick) breaks
    that (a rising market rounds the quotes one tick further out than a falling one), which
    the default's 108 stays off.

    ``pinned_episodes`` (a training curriculum, 0 by default) is the share of episodes whose
    regime is pinned for the whole episode, to a regime drawn uniformly among those the
    market can enter (positive weight); the others switch regimes as the market does. In
    the switching market a trend lasts minutes, so an hour of one regime, which a pinned
    evaluation plays, is otherwise never seen in training. Drawn per episode from the
    market's seed and episode number, so a seed's episodes are the same in every run.

    ``data`` replays a recording (``mm-gym data convert``'s Parquet) in place of the
    simulated background (``mm_gym.market.replay``): episodes are windows of it, ``market``
    gives the fees, latency and queue model (its tick and price come from the recording) and
    sizes are lots of ``shares_per_lot`` of the recording's units. A recording has no known
    regime: ``info["regime"]`` is ``"unknown"``, and what needs the true regime or the fair
    value (``expose_regime``, ``reward_carry="expected"``, ``pinned_episodes``) is refused.

    ``inventory_penalty`` (currency per lot² per second) defaults to about 5% of the
    per-second variance of one lot's value in the default market (~2e-4), so the penalty of
    a baseline episode is of the order of its PnL rather than dwarfing it.
    """

    decision_interval_ms: float = 1000.0
    session_s: float = 3600.0
    action_mode: str = "absolute"
    spread_multiplier_range: tuple = (0.5, 3.0)
    inventory_skew_range: tuple = (0.0, 2.0)
    size_fraction_range: tuple = (0.0, 1.0)
    residual_scale: tuple = (1.0, 0.5, 0.5)
    reward: str = "pnl_inventory_penalty"
    reward_carry: str = "mid"
    inventory_penalty: float = 1e-5
    dampening: float = 0.5
    risk_aversion: float = 0.1
    reward_scale: float = 1.0
    expose_regime: bool = False
    market_features: bool = False
    mirror_trend: bool = False
    pinned_episodes: float = 0.0
    data: str | None = None
    shares_per_lot: float = DEFAULT_SHARES_PER_LOT
    market: MarketConfig = dataclasses.field(default_factory=MarketConfig)
    strategy: StrategyConfig = dataclasses.field(default_factory=StrategyConfig)
    baseline: BaselineConfig = dataclasses.field(default_factory=BaselineConfig)

    def __post_init__(self) -> None:
        if isinstance(self.market, str):  # a shipped market preset's name, or a YAML file
            object.__setattr__(self, "market", MarketConfig.preset(self.market))
        for name in (
            "spread_multiplier_range",
            "inventory_skew_range",
            "size_fraction_range",
            "residual_scale",
        ):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        super().__post_init__()

    def validate(self) -> None:
        from mm_gym.envs.rewards import REWARDS

        check_range("decision_interval_ms", self.decision_interval_ms, 1.0, 3_600_000.0)
        check_range("session_s", self.session_s, self.decision_interval_ms / 1000.0, 7 * 86_400.0)
        steps = self.session_s * 1000.0 / self.decision_interval_ms
        if abs(steps - round(steps)) > 1e-9 * max(steps, 1.0):
            raise ConfigError(
                f"session_s={self.session_s!r}: must be a whole number of decision intervals "
                f"(decision_interval_ms={self.decision_interval_ms!r})"
            )
        check_choice("action_mode", self.action_mode, ACTION_MODES)
        _check_pair("spread_multiplier_range", self.spread_multiplier_range, 0.0, 100.0)
        _check_pair("inventory_skew_range", self.inventory_skew_range, 0.0, 100.0)
        _check_pair("size_fraction_range", self.size_fraction_range, 0.0, 1.0)
        if not isinstance(self.residual_scale, tuple) or len(self.residual_scale) != 3:
            raise ConfigError(f"residual_scale={self.residual_scale!r}: expected three numbers")
        for k, v in enumerate(self.residual_scale):
            check_range(f"residual_scale[{k}]", v, 0.0, 100.0)
        check_choice("reward", self.reward, tuple(REWARDS))
        check_choice("reward_carry", self.reward_carry, REWARD_CARRIES)
        if self.reward_carry == "expected" and self.reward not in LINEAR_REWARDS:
            raise ConfigError(
                f"reward_carry='expected' with reward={self.reward!r}: the carry's noise can be "
                f"taken out only of a reward linear in the equity ({', '.join(LINEAR_REWARDS)})"
            )
        check_range("inventory_penalty", self.inventory_penalty, 0.0, None)
        check_range("dampening", self.dampening, 0.0, 1.0)
        check_range("risk_aversion", self.risk_aversion, 0.0, None)
        check_range("reward_scale", self.reward_scale, 0.0, None, low_open=True)
        check_bool("expose_regime", self.expose_regime)
        check_bool("market_features", self.market_features)
        check_bool("mirror_trend", self.mirror_trend)
        check_range("pinned_episodes", self.pinned_episodes, 0.0, 1.0)
        self._check_data()
        if self.pinned_episodes > 0.0 and self.market.pin_regime is not None:
            raise ConfigError(
                f"pinned_episodes={self.pinned_episodes!r}: the market already pins every "
                f"episode (market.pin_regime={self.market.pin_regime!r}); expected 0"
            )
        if not self.baseline.extreme_vol_bps > self.strategy.high_volatility_bps:
            raise ConfigError(
                f"baseline.extreme_vol_bps={self.baseline.extreme_vol_bps!r}: must be above "
                f"strategy.high_volatility_bps={self.strategy.high_volatility_bps!r} (the "
                "high-vol spread rises from the detection threshold to this volatility)"
            )

    def _check_data(self) -> None:
        check_range("shares_per_lot", self.shares_per_lot, 0.0, None, low_open=True)
        if self.data is None:
            return
        if not isinstance(self.data, str) or not self.data:
            raise ConfigError(f"data={self.data!r}: expected the path of a recording")
        hidden = {
            "expose_regime": (self.expose_regime, False),
            "reward_carry": (self.reward_carry, "mid"),
            "pinned_episodes": (self.pinned_episodes, 0.0),
            "market.pin_regime": (self.market.pin_regime, None),
        }
        for name, (value, allowed) in hidden.items():
            if value != allowed:
                raise ConfigError(
                    f"{name}={value!r} with data={self.data!r}: a recording has no known "
                    f"regime or fair value; expected {allowed!r}"
                )

    @property
    def steps_per_episode(self) -> int:
        """Decision steps in a session."""
        return round(self.session_s * 1000.0 / self.decision_interval_ms)


def _check_pair(name: str, value: object, low: float, high: float) -> None:
    if not isinstance(value, tuple) or len(value) != 2:
        raise ConfigError(f"{name}={value!r}: expected (low, high)")
    check_range(f"{name}[0]", value[0], low, high)
    check_range(f"{name}[1]", value[1], low, high)
    if not value[0] < value[1]:
        raise ConfigError(f"{name}={value!r}: low must be below high")
