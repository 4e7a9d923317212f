"""The Avellaneda-Stoikov reduced-form market: its config and a batched numba kernel.

Every step of ``dt`` and for every market: each quoted side fills with probability
``A * exp(-k * depth) * dt`` (at most one fill per side, capped at 1 for depths so small, or
negative, that this exceeds 1), fills trade ``order_size`` units at ``mid -/+ depth``, then the
mid moves ``+/- sigma * sqrt(dt)`` with probability 1/2 each. A side whose fill would take the
inventory out of ``[q_min, q_max]`` is not quoted. Every market owns a splitmix64 generator, so a
market gives the same path whether it runs alone or in a batch.

The kernel is serial (one core): every market is independent, so threads would not change the
results, but on a small shared machine they lose more to contention than they gain. Its exp is
a branch-free polynomial (within 2 ulp of libm) whose loop vectorises, which roughly halves the
cost of a step.
"""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np

from mm_gym.config import Config, check_range
from mm_gym.errors import ConfigError
from mm_gym.market import rng as R
from mm_gym.market.kernel_cache import clear_stale_caches
from mm_gym.market.scaling import unit_to_range

__all__ = ["ASConfig", "ASMarketBatch"]


@dataclasses.dataclass(frozen=True)
class ASConfig(Config):
    """Avellaneda-Stoikov market; defaults are the paper's (S0=100, sigma=2, A=140, k=1.5).

    ``phi`` (running penalty per unit inventory squared per unit time) defaults to
    ``gamma * sigma^2 / 2`` for the paper's middle risk aversion ``gamma = 0.1``, so inventory
    control matters; ``alpha`` is the terminal penalty per unit inventory squared. The action
    ranges cover the AS quotes of the paper's gammas (skew ``gamma * sigma^2 * (T - t)`` is at
    most 2.0), the GLFT quotes and the CJP-optimal quotes at every (t, q) of the default market.
    """

    s0: float = 100.0
    sigma: float = 2.0
    A: float = 140.0
    k: float = 1.5
    T: float = 1.0
    dt: float = 0.005
    q_min: int = -10
    q_max: int = 10
    order_size: int = 1
    phi: float = 0.2
    alpha: float = 0.01
    half_spread_range: tuple[float, float] = (0.0, 3.0)
    skew_range: tuple[float, float] = (-2.0, 2.0)

    def __post_init__(self) -> None:
        for name in ("half_spread_range", "skew_range"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        super().__post_init__()

    def validate(self) -> None:
        """Check every field; the message names the field, its value and what is allowed."""
        check_range("s0", self.s0, 0.0, low_open=True)
        check_range("sigma", self.sigma, 0.0)
        check_range("A", self.A, 0.0, low_open=True)
        check_range("k", self.k, 0.0, low_open=True)
        check_range("T", self.T, 0.0, low_open=True)
        check_range("dt", self.dt, 0.0, self.T, low_open=True)
        steps = self.T / self.dt
        if abs(steps - round(steps)) > 1e-9 * steps:
            raise ConfigError(
                f"dt={self.dt!r}: T/dt must be a whole number of steps (T={self.T!r} gives {steps})"
            )
        _check_int("q_min", self.q_min, high=0)
        _check_int("q_max", self.q_max, low=0)
        _check_int("order_size", self.order_size, low=1, high=max(self.q_max, -self.q_min))
        check_range("phi", self.phi, 0.0)
        check_range("alpha", self.alpha, 0.0)
        _check_pair("half_spread_range", self.half_spread_range)
        _check_pair("skew_range", self.skew_range)

    @property
    def n_steps(self) -> int:
        """Steps per episode, ``T / dt``."""
        return round(self.T / self.dt)

    @property
    def q_scale(self) -> int:
        """The inventory that observes as +/-1: ``max(q_max, -q_min)``."""
        return max(self.q_max, -self.q_min)

    @property
    def inventory_grid(self) -> np.ndarray:
        """Reachable inventories: multiples of ``order_size`` in ``[q_min, q_max]``."""
        s = self.order_size
        return np.arange(-(-self.q_min // s), self.q_max // s + 1, dtype=np.int64) * s


def _check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{name}={value!r}: expected a whole number")
    check_range(name, int(value), low, high)


def _check_pair(name: str, value: object) -> None:
    ok = isinstance(value, tuple) and len(value) == 2
    ok = ok and all(not isinstance(v, bool) and isinstance(v, int | float) for v in value)
    if not ok or not all(math.isfinite(v) for v in value) or not value[0] < value[1]:
        raise ConfigError(f"{name}={value!r}: expected (low, high), finite numbers with low < high")


_ONE = np.uint64(1)


_unit_to_range = numba.njit(cache=True, inline="always")(unit_to_range)

_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10


@numba.njit(cache=True, inline="always")
def _exp_split(x: float) -> tuple[float, np.int64]:
    """``exp(x) = m * 2**e`` for ``x`` clamped to [-700, 700]: returns ``m`` and the float64 bits
    of ``2**e``. Cody-Waite reduction and a degree-13 Taylor polynomial, within 2 ulp of libm;
    branch-free and call-free, so a loop over it vectorises (libm's exp does not)."""
    x = min(max(x, -700.0), 700.0)
    e = np.floor(x * _LOG2E + 0.5)
    r = x - e * _LN2_HI - e * _LN2_LO
    m = 1.0 / 6227020800.0
    m = m * r + 1.0 / 479001600.0
    m = m * r + 1.0 / 39916800.0
    m = m * r + 1.0 / 3628800.0
    m = m * r + 1.0 / 362880.0
    m = m * r + 1.0 / 40320.0
    m = m * r + 1.0 / 5040.0
    m = m * r + 1.0 / 720.0
    m = m * r + 1.0 / 120.0
    m = m * r + 1.0 / 24.0
    m = m * r + 1.0 / 6.0
    m = m * r + 0.5
    m = m * r + 1.0
    m = m * r + 1.0
    return m, (np.int64(e) + 1023) << 52


@numba.njit(cache=True)
def _step_kernel(
    rng: np.ndarray,
    mid: np.ndarray,
    cash: np.ndarray,
    inv: np.ndarray,
    step: np.ndarray,
    penalty: np.ndarray,
    pending: np.ndarray,
    fills: np.ndarray,
    actions: np.ndarray,
    autoreset: bool,
    hs_low: float,
    hs_high: float,
    skew_low: float,
    skew_high: float,
    s0: float,
    move: float,
    a_dt: float,
    k: float,
    phi_dt: float,
    alpha: float,
    q_min: int,
    q_max: int,
    size: int,
    n_steps: int,
    q_scale: float,
    obs: np.ndarray,
    reward: np.ndarray,
    truncated: np.ndarray,
    expo: np.ndarray,
    mant: np.ndarray,
    bits: np.ndarray,
) -> int:
    """Advance every market one step under unit ``actions`` (already checked and clipped).

    ``unit_to_range`` maps each action onto (half_spread, skew, size_fraction). A market flagged
    ``pending`` is reset instead (next-step autoreset): reward 0, no random draws. Returns how
    many markets reached the end of their episode. ``fills[i]``: lots bought and sold this step.
    ``expo``, ``mant``, ``bits``: ``2n`` scratch.
    """
    # Pass 1: exp(-k * depth) of both sides as mantissa times 2**e, the exp loop vectorised.
    for i in range(rng.shape[0]):
        hs = _unit_to_range(actions[i, 0], hs_low, hs_high)
        skew = _unit_to_range(actions[i, 1], skew_low, skew_high)
        expo[2 * i] = -k * (hs + skew * inv[i])
        expo[2 * i + 1] = -k * (hs - skew * inv[i])
    for j in range(expo.shape[0]):
        mant[j], bits[j] = _exp_split(expo[j])
    scale = bits.view(np.float64)
    # Pass 2: draws, fills, mid move and bookkeeping.
    n_done = 0
    for i in range(rng.shape[0]):
        if pending[i]:
            pending[i] = False
            mid[i] = s0
            cash[i] = 0.0
            inv[i] = 0
            step[i] = 0
            penalty[i] = 0.0
            reward[i] = 0.0
            truncated[i] = False
            fills[i, 0] = 0.0
            fills[i, 1] = 0.0
        else:
            z_bid = R.next_u64(rng, i)
            z_ask = R.next_u64(rng, i)
            hs = _unit_to_range(actions[i, 0], hs_low, hs_high)
            skew = _unit_to_range(actions[i, 1], skew_low, skew_high)
            quoting = _unit_to_range(actions[i, 2], 0.0, 1.0) >= 0.5
            q = inv[i]
            s = mid[i]
            d_bid = hs + skew * q
            d_ask = hs - skew * q
            # Branch-free fills: a side fills if quoted, inside the bounds and its draw is lucky.
            u_bid = R.to_unit(z_bid)
            u_ask = R.to_unit(z_ask)
            p_bid = a_dt * (mant[2 * i] * scale[2 * i])
            p_ask = a_dt * (mant[2 * i + 1] * scale[2 * i + 1])
            buy = quoting & (q + size <= q_max) & (u_bid < p_bid)
            sell = quoting & (q - size >= q_min) & (u_ask < p_ask)
            bought = np.float64(buy) * size
            sold = np.float64(sell) * size
            fills[i, 0] = bought
            fills[i, 1] = sold
            s_new = s + move * np.float64(np.int64(z_bid & _ONE) * 2 - 1)
            q_new = q + size * (np.int64(buy) - np.int64(sell))
            pen = phi_dt * q * q
            r = bought * d_bid + sold * d_ask + q_new * (s_new - s) - pen
            cash[i] += sold * (s + d_ask) - bought * (s - d_bid)
            n = step[i] + 1
            done = n >= n_steps
            if done:
                r -= alpha * q_new * q_new
                n_done += 1
                pending[i] = autoreset
            mid[i] = s_new
            inv[i] = q_new
            step[i] = n
            penalty[i] += pen
            reward[i] = r
            truncated[i] = done
        obs[i, 0] = inv[i] / q_scale
        obs[i, 1] = (n_steps - step[i]) / n_steps
    return n_done


class ASMarketBatch:
    """The state of ``n`` independent markets, advanced together by one numba kernel.

    Cash starts at 0 and inventory at 0, so ``cash + inventory * mid`` starts at 0 relative to
    the initial wealth ``q0 * s0``. ``penalty`` accumulates ``phi * q^2 * dt`` using the inventory
    held over each step (before its fills).
    """

    def __init__(self, config: ASConfig, n: int) -> None:
        clear_stale_caches()
        self.config = config
        self.n = n
        self.rng = np.zeros(n, dtype=np.uint64)
        self.seeded = np.zeros(n, dtype=np.bool_)
        self.mid = np.full(n, float(config.s0))
        self.cash = np.zeros(n)
        self.inv = np.zeros(n, dtype=np.int64)
        self.step_index = np.zeros(n, dtype=np.int64)
        self.penalty = np.zeros(n)
        self.pending = np.zeros(n, dtype=np.bool_)
        self.fills = np.zeros((n, 2))
        self._expo = np.empty(2 * n)
        self._mant = np.empty(2 * n)
        self._bits = np.empty(2 * n, dtype=np.int64)
        c = config
        self._consts = (
            float(c.half_spread_range[0]),
            float(c.half_spread_range[1]),
            float(c.skew_range[0]),
            float(c.skew_range[1]),
            float(c.s0),
            float(c.sigma) * math.sqrt(c.dt),
            float(c.A) * c.dt,
            float(c.k),
            float(c.phi) * c.dt,
            float(c.alpha),
            int(c.q_min),
            int(c.q_max),
            int(c.order_size),
            c.n_steps,
            float(c.q_scale),
        )

    def seed(self, seeds: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Seed the generators of the markets in ``mask`` (all by default) from integer seeds."""
        mask = np.ones(self.n, dtype=np.bool_) if mask is None else mask
        states = R.seed_states(np.asarray(seeds, dtype=np.uint64).astype(np.int64))
        self.rng[mask] = states[mask]
        self.seeded |= mask

    def reset(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Reset the markets in ``mask`` (all by default); return every market's observation."""
        sel = slice(None) if mask is None else mask
        self.mid[sel] = self.config.s0
        self.cash[sel] = 0.0
        self.inv[sel] = 0
        self.step_index[sel] = 0
        self.penalty[sel] = 0.0
        self.pending[sel] = False
        self.fills[sel] = 0.0
        return self.observe()

    def observe(self) -> np.ndarray:
        """Observations ``(inventory / q_scale, fraction of the episode left)`` as float32."""
        obs = np.empty((self.n, 2), dtype=np.float32)
        n_steps = self.config.n_steps
        obs[:, 0] = self.inv / float(self.config.q_scale)
        obs[:, 1] = (n_steps - self.step_index) / n_steps
        return obs

    def step(
        self, actions: np.ndarray, autoreset: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Advance one step under C-contiguous float64 ``(n, 3)`` unit actions in ``[-1, 1]``.

        ``unit_to_range`` maps them onto ``(half_spread, skew, size_fraction)``; both sides are
        quoted when ``size_fraction >= 0.5``. Returns fresh ``(obs, reward, truncated,
        n_truncated)``. With ``autoreset`` a market that ends its episode is reset on its next
        step (Gymnasium next-step autoreset).
        """
        obs = np.empty((self.n, 2), dtype=np.float32)
        reward = np.empty(self.n)
        truncated = np.empty(self.n, dtype=np.bool_)
        n_done = _step_kernel(
            self.rng,
            self.mid,
            self.cash,
            self.inv,
            self.step_index,
            self.penalty,
            self.pending,
            self.fills,
            actions,
            autoreset,
            *self._consts,
            obs,
            reward,
            truncated,
            self._expo,
            self._mant,
            self._bits,
        )
        return obs, reward, truncated, n_done

    def info(self) -> dict[str, np.ndarray]:
        """Copies of the per-market state: inventory, cash, mid, time, penalty, and the lots
        bought and sold in the last step."""
        return {
            "inventory": self.inv.copy(),
            "cash": self.cash.copy(),
            "mid": self.mid.copy(),
            "time": self.step_index * self.config.dt,
            "penalty": self.penalty.copy(),
            "bought": self.fills[:, 0].copy(),
            "sold": self.fills[:, 1].copy(),
        }
