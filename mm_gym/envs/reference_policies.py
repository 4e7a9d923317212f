"""Closed-form reference agents for the Avellaneda-Stoikov env.

Formulas: docs/reference-policies.md.

- ``AvellanedaStoikovPolicy``: Avellaneda & Stoikov (2008), reservation price and spread.
- ``GLFTPolicy``: the asymptotic quotes of Gueant, Lehalle & Fernandez-Tapia (2013).
- ``CJPPolicy``: the optimal quotes of Cartea, Jaimungal & Penalva (2015, ch. 10) for the
  objective ``E[X_T + q_T (S_T - alpha q_T) - phi int q^2 dt]``, which is the env's return.

Each tabulates its unit actions on the env's step grid times the inventory grid, so ``predict``
is a lookup; it recovers ``(step, q)`` from an observation by rounding. The CJP value function
``h(t, q) = ln(omega_q(t)) / kappa`` with ``omega(t) = expm(M (T - t)) z`` is propagated back
step by step with ``expm(M dt)``, computed by uniformisation (``M + cI >= 0`` entrywise, so the
Taylor series and squarings add non-negative terms only and keep every entry accurate) and
renormalised each step, so it neither overflows nor loses the small entries. With a lot size
``s = order_size`` the inventory grid is the multiples of ``s`` and ``kappa = k / s`` (for
``s = 1`` these are the book's formulas).
"""

from __future__ import annotations

import abc
import math
from typing import Any

import numpy as np

from mm_gym.config import check_range
from mm_gym.envs.avellaneda_stoikov import depths_to_action
from mm_gym.errors import ConfigError
from mm_gym.market.avellaneda_stoikov import ASConfig

__all__ = [
    "AvellanedaStoikovPolicy",
    "CJPPolicy",
    "GLFTPolicy",
    "cjp_h",
    "cjp_value",
]


class _TablePolicy(abc.ABC):
    """Unit actions tabulated over (step 0..n_steps, inventory grid); ``predict`` looks up."""

    def __init__(self, config: ASConfig | None) -> None:
        self.config = config if config is not None else ASConfig()
        self.grid = self.config.inventory_grid
        n = np.arange(self.config.n_steps + 1)[:, None]
        q = np.broadcast_to(self.grid[None, :], (n.shape[0], self.grid.size))
        bid, ask = self.depths(n, q)
        bid, ask = np.broadcast_arrays(bid, ask)
        actions = depths_to_action(self.config, bid.ravel(), ask.ravel(), q.ravel())
        self.table = actions.reshape(*q.shape, 3)

    @abc.abstractmethod
    def depths(self, step: np.ndarray, inventory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Intended (bid, ask) depths at a step index and inventory; NaN marks an unused side."""

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        """Stable-Baselines3 signature: float32 unit actions for one or a batch of observations."""
        obs = np.asarray(observation, dtype=np.float64)
        if obs.ndim not in (1, 2) or obs.shape[-1] != 2:
            raise ConfigError(f"observation shape {obs.shape}: expected (2,) or (n, 2)")
        flat = obs.reshape(-1, 2)
        c = self.config
        q = np.rint(flat[:, 0] * c.q_scale).astype(np.int64)
        n = c.n_steps - np.rint(flat[:, 1] * c.n_steps).astype(np.int64)
        j = np.clip((q - self.grid[0]) // c.order_size, 0, self.grid.size - 1)
        actions = self.table[np.clip(n, 0, c.n_steps), j]
        return (actions[0] if obs.ndim == 1 else actions), state


class AvellanedaStoikovPolicy(_TablePolicy):
    """Avellaneda-Stoikov quotes: reservation price ``S - q gamma sigma^2 (T - t)``, spread
    ``gamma sigma^2 (T - t) + (2 / gamma) ln(1 + gamma / k)``."""

    def __init__(self, gamma: float = 0.1, config: ASConfig | None = None) -> None:
        check_range("gamma", gamma, 0.0, low_open=True)
        self.gamma = float(gamma)
        super().__init__(config)

    def depths(self, step: np.ndarray, inventory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, g = self.config, self.gamma
        tau = c.T - np.asarray(step) * c.dt
        half = 0.5 * g * c.sigma**2 * tau + math.log1p(g / c.k) / g
        shift = np.asarray(inventory) * g * c.sigma**2 * tau
        return half + shift, half - shift


class GLFTPolicy(_TablePolicy):
    """Gueant-Lehalle-Fernandez-Tapia asymptotic quotes (time-independent)."""

    def __init__(self, gamma: float = 0.1, config: ASConfig | None = None) -> None:
        check_range("gamma", gamma, 0.0, low_open=True)
        self.gamma = float(gamma)
        super().__init__(config)

    def depths(self, step: np.ndarray, inventory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, g = self.config, self.gamma
        base = math.log1p(g / c.k) / g
        big_c = math.sqrt(c.sigma**2 * g / (2 * c.k * c.A) * (1 + g / c.k) ** (1 + c.k / g))
        q, _ = np.broadcast_arrays(np.asarray(inventory, dtype=np.float64), step)
        return base + (2 * q + 1) / 2 * big_c, base - (2 * q - 1) / 2 * big_c


class CJPPolicy(_TablePolicy):
    """Cartea-Jaimungal-Penalva optimal quotes ``1/k + (h(t, q) - h(t, q -/+ s)) / s``.

    ``phi`` and ``alpha`` default to the config's, the penalties the env's reward uses.
    """

    def __init__(
        self, phi: float | None = None, alpha: float | None = None, config: ASConfig | None = None
    ) -> None:
        config = config if config is not None else ASConfig()
        self.phi = float(config.phi if phi is None else phi)
        self.alpha = float(config.alpha if alpha is None else alpha)
        self.h = cjp_h(config, self.phi, self.alpha)
        super().__init__(config)

    def depths(self, step: np.ndarray, inventory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, s = self.config, self.config.order_size
        n = np.broadcast_to(np.asarray(step), np.shape(inventory))
        j = (np.asarray(inventory) - self.grid[0]) // s
        h = self.h[n, j]
        up = self.h[n, np.minimum(j + 1, self.grid.size - 1)]
        down = self.h[n, np.maximum(j - 1, 0)]
        bid = np.where(j + 1 < self.grid.size, 1 / c.k + (h - up) / s, np.nan)
        ask = np.where(j > 0, 1 / c.k + (h - down) / s, np.nan)
        return bid, ask


def cjp_h(config: ASConfig, phi: float | None = None, alpha: float | None = None) -> np.ndarray:
    """``h(t_n, q)`` of CJP on the step grid: shape ``(n_steps + 1, len(inventory_grid))``."""
    phi = float(config.phi if phi is None else phi)
    alpha = float(config.alpha if alpha is None else alpha)
    check_range("phi", phi, 0.0)
    check_range("alpha", alpha, 0.0)
    grid = config.inventory_grid.astype(np.float64)
    kappa = config.k / config.order_size
    rate = np.full(grid.size - 1, config.A * math.exp(-1.0))
    m = np.diag(-phi * kappa * grid**2) + np.diag(rate, 1) + np.diag(rate, -1)
    step = _expm_metzler(m * config.dt)
    log_omega = np.empty((config.n_steps + 1, grid.size))
    log_omega[-1] = -alpha * kappa * grid**2
    omega = np.exp(log_omega[-1] - log_omega[-1].max())
    scale = log_omega[-1].max()
    for n in range(config.n_steps - 1, -1, -1):
        omega = step @ omega
        top = omega.max()
        omega /= top
        scale += math.log(top)
        log_omega[n] = np.log(omega) + scale
    return log_omega / kappa


def cjp_value(config: ASConfig, phi: float | None = None, alpha: float | None = None) -> float:
    """The closed-form CJP value ``h(0, 0)``: the optimal expected return from ``q0 = 0``."""
    grid = config.inventory_grid
    return float(cjp_h(config, phi, alpha)[0, int(np.flatnonzero(grid == 0)[0])])


def _expm_metzler(m: np.ndarray) -> np.ndarray:
    """``expm(m)`` for a matrix with non-negative off-diagonal entries, accurate entrywise."""
    shift = max(0.0, float(-np.diag(m).min()))
    p = m + shift * np.eye(m.shape[0])
    norm = float(np.abs(p).sum(axis=0).max())
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0 else 0
    p = p / 2.0**squarings
    result = np.eye(m.shape[0])
    term = np.eye(m.shape[0])
    for i in range(1, 40):
        term = term @ p / i
        result = result + term
        if term.max() <= 1e-18 * result.max():
            break
    for _ in range(squarings):
        result = result @ result
    return result * math.exp(-shift)
