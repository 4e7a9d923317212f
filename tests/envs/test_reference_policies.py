"""Closed-form reference agents: formulas, action round trips and the CJP value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mm_gym.envs.avellaneda_stoikov import AvellanedaStoikovVectorEnv, action_bounds
from mm_gym.envs.reference_policies import (
    AvellanedaStoikovPolicy,
    CJPPolicy,
    GLFTPolicy,
    cjp_h,
    cjp_value,
)
from mm_gym.errors import ConfigError
from mm_gym.market.avellaneda_stoikov import ASConfig
from mm_gym.market.scaling import unit_to_range

Z99 = 2.5758293035489  # two-sided 99% normal quantile


def eigh_h(c: ASConfig) -> np.ndarray:
    """CJP h(t_n, q) straight from the book: expm(M (T - t)) z by eigen-decomposition."""
    q = c.inventory_grid.astype(np.float64)
    off = np.full(q.size - 1, c.A / math.e)
    m = np.diag(-c.phi * c.k * q**2) + np.diag(off, 1) + np.diag(off, -1)
    lam, v = np.linalg.eigh(m)
    z = np.exp(-c.alpha * c.k * q**2)
    tau = c.T - np.arange(c.n_steps + 1) * c.dt
    omega = (v @ (np.exp(np.outer(lam, tau)) * (v.T @ z)[:, None])).T
    return np.log(omega) / c.k


def observations(c: ASConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (step, q) of the grid and its observation, computed as the env computes it."""
    n, q = np.meshgrid(np.arange(c.n_steps), c.inventory_grid, indexing="ij")
    obs = np.stack([q / float(c.q_scale), (c.n_steps - n) / c.n_steps], axis=-1)
    return n.ravel(), q.ravel(), obs.reshape(-1, 2).astype(np.float32)


def decoded_depths(c: ASConfig, actions: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, ...]:
    low, high = action_bounds(c)
    x = unit_to_range(actions.astype(np.float64), low, high)
    return x[:, 0] + x[:, 1] * q, x[:, 0] - x[:, 1] * q, x[:, 2] >= 0.5


def discrete_value(policy: CJPPolicy | GLFTPolicy | AvellanedaStoikovPolicy) -> float:
    """Exact expected return of a tabulated policy in the env (dynamic programming over q).

    A bid fill earns its depth against the mid, an ask fill too; ``q * dS`` has mean zero.
    """
    c = policy.config
    low, high = action_bounds(c)
    q = c.inventory_grid.astype(np.float64)
    s = c.order_size
    value = -c.alpha * q**2
    for n in range(c.n_steps - 1, -1, -1):
        x = unit_to_range(policy.table[n].astype(np.float64), low, high)
        d_bid, d_ask, quote = x[:, 0] + x[:, 1] * q, x[:, 0] - x[:, 1] * q, x[:, 2] >= 0.5
        p_b = np.where(
            quote & (q + s <= c.q_max), np.minimum(1, c.A * c.dt * np.exp(-c.k * d_bid)), 0
        )
        p_a = np.where(
            quote & (q - s >= c.q_min), np.minimum(1, c.A * c.dt * np.exp(-c.k * d_ask)), 0
        )
        up = np.append(value[1:], 0.0)
        down = np.insert(value[:-1], 0, 0.0)
        value = (
            -c.phi * q**2 * c.dt
            + p_b * p_a * (s * (d_bid + d_ask) + value)
            + p_b * (1 - p_a) * (s * d_bid + up)
            + (1 - p_b) * p_a * (s * d_ask + down)
            + (1 - p_b) * (1 - p_a) * value
        )
    return float(value[np.flatnonzero(c.inventory_grid == 0)[0]])


# ---------------------------------------------------------------- CJP value function


def test_cjp_h_matches_the_eigen_decomposition() -> None:
    c = ASConfig()
    assert np.allclose(cjp_h(c), eigh_h(c), rtol=0, atol=1e-9)
    assert cjp_value(c) == pytest.approx(eigh_h(c)[0, 10], abs=1e-9)


def test_cjp_value_without_penalties_is_the_poisson_spread_income() -> None:
    """phi = alpha = 0, far bounds: h(0, 0) = 2 A e^-1 T / k (each side earns A e^-1 / k)."""
    c = ASConfig(phi=0.0, alpha=0.0, q_min=-200, q_max=200)
    assert cjp_value(c) == pytest.approx(2 * c.A * math.exp(-1) * c.T / c.k, rel=1e-12)
    assert cjp_value(ASConfig()) < cjp_value(ASConfig(phi=0.0)) < cjp_value(c)
    lots = ASConfig(phi=0.0, alpha=0.0, q_min=-400, q_max=400, order_size=2)
    assert cjp_value(lots) == pytest.approx(2 * cjp_value(c), rel=1e-12)


def test_cjp_survives_long_horizons_and_big_penalties() -> None:
    h = cjp_h(ASConfig(T=20.0, dt=0.01, phi=5.0, alpha=2.0))
    assert np.isfinite(h).all()


# ---------------------------------------------------------------- predict and round trips


def test_predict_batches_and_single_observations() -> None:
    c = ASConfig()
    policy = CJPPolicy(config=c)
    _, _, obs = observations(c)
    actions, state = policy.predict(obs, state="s", episode_start=np.ones(len(obs), bool))
    assert state == "s" and actions.shape == (len(obs), 3) and actions.dtype == np.float32
    one, _ = policy.predict(obs[7])
    assert one.shape == (3,) and np.array_equal(one, actions[7])
    venv = AvellanedaStoikovVectorEnv(num_envs=len(obs), config=c)
    assert actions in venv.action_space
    with pytest.raises(ConfigError, match="observation shape"):
        policy.predict(np.zeros(3))


def _intended(name: str, c: ASConfig, gamma: float, n: np.ndarray, q: np.ndarray) -> tuple:
    """The published formulas, written out independently of the policies."""
    if name == "as":
        tau = c.T - n * c.dt
        spread = gamma * c.sigma**2 * tau + 2 / gamma * math.log(1 + gamma / c.k)
        reservation_offset = q * gamma * c.sigma**2 * tau
        return reservation_offset + spread / 2, spread / 2 - reservation_offset
    if name == "glft":
        big_c = math.sqrt(
            c.sigma**2 * gamma / (2 * c.k * c.A) * (1 + gamma / c.k) ** (1 + c.k / gamma)
        )
        base = math.log(1 + gamma / c.k) / gamma
        return base + (2 * q + 1) / 2 * big_c, base - (2 * q - 1) / 2 * big_c
    h = eigh_h(c)
    j = q - c.q_min
    bid = np.where(q < c.q_max, 1 / c.k - h[n, np.minimum(j + 1, len(h[0]) - 1)] + h[n, j], np.nan)
    ask = np.where(q > c.q_min, 1 / c.k - h[n, np.maximum(j - 1, 0)] + h[n, j], np.nan)
    return bid, ask


@pytest.mark.parametrize(
    ("name", "gamma"),
    [
        ("as", 0.01),
        ("as", 0.1),
        ("as", 0.5),
        ("glft", 0.01),
        ("glft", 0.1),
        ("glft", 0.5),
        ("cjp", 0),
    ],
)
def test_policy_actions_decode_to_the_intended_depths(name: str, gamma: float) -> None:
    c = ASConfig()
    make = {"as": AvellanedaStoikovPolicy, "glft": GLFTPolicy}
    policy = CJPPolicy(config=c) if name == "cjp" else make[name](gamma, config=c)
    n, q, obs = observations(c)
    actions, _ = policy.predict(obs)
    assert np.abs(actions).max() <= 1.0
    bid, ask, quote = decoded_depths(c, actions, q)
    want_bid, want_ask = _intended(name, c, gamma, n, q)
    assert quote.all()
    can_buy, can_sell = q < c.q_max, q > c.q_min  # the env quotes only these sides
    assert np.allclose(bid[can_buy], want_bid[can_buy], rtol=0, atol=2e-6)
    assert np.allclose(ask[can_sell], want_ask[can_sell], rtol=0, atol=2e-6)


def test_cjp_quotes_skew_against_inventory() -> None:
    c = ASConfig()
    policy = CJPPolicy(config=c)
    bid, ask = policy.depths(np.zeros(19, dtype=np.int64), np.arange(-9, 10))
    assert (np.diff(bid) > 0).all() and (np.diff(ask) < 0).all()


def test_bad_parameters_raise() -> None:
    with pytest.raises(ConfigError, match="gamma=0"):
        AvellanedaStoikovPolicy(0)
    with pytest.raises(ConfigError, match="gamma=-1"):
        GLFTPolicy(-1)
    with pytest.raises(ConfigError, match="phi=-0.1"):
        CJPPolicy(phi=-0.1)


# ---------------------------------------------------------------- the key test


def test_cjp_is_best_among_the_reference_agents_in_exact_expectation() -> None:
    c = ASConfig()
    best = discrete_value(CJPPolicy(config=c))
    for gamma in (0.01, 0.1, 0.5):
        assert best > discrete_value(AvellanedaStoikovPolicy(gamma, config=c))
        assert best > discrete_value(GLFTPolicy(gamma, config=c))


def simulated_returns(policy: CJPPolicy, paths: int, seed: int) -> np.ndarray:
    c = policy.config
    venv = AvellanedaStoikovVectorEnv(num_envs=paths, config=c)
    obs, _ = venv.reset(seed=seed)
    returns = np.zeros(paths)
    for _ in range(c.n_steps):
        obs, reward, _, truncated, _ = venv.step(policy.predict(obs)[0])
        returns += reward
    assert truncated.all()
    return returns


def test_cjp_agent_with_lots_of_two_earns_its_exact_discrete_value() -> None:
    policy = CJPPolicy(config=ASConfig(order_size=2))
    returns = simulated_returns(policy, 20_000, seed=7)
    half_width = Z99 * returns.std(ddof=1) / math.sqrt(returns.size)
    assert abs(returns.mean() - discrete_value(policy)) <= half_width


def test_cjp_agent_earns_the_closed_form_value() -> None:
    """20,000 seeded episodes of the CJP agent: mean return vs h(0, 0).

    The env is a discrete-time (Bernoulli) approximation of the continuous model, so its exact
    expected return under the CJP quotes (dynamic programming, ``discrete_value``) differs from
    h(0, 0) by a bias of order dt, about 121 * dt here; the stated bound is 150 * dt. The mean
    must lie within its 99% interval of that exact value, and within the interval widened by
    the bound of h(0, 0).
    """
    c = ASConfig(dt=0.0005)
    paths = 20_000
    policy = CJPPolicy(config=c)
    value = cjp_value(c)
    exact = discrete_value(policy)
    bias_bound = 150 * c.dt
    assert abs(exact - value) <= bias_bound
    returns = simulated_returns(policy, paths, seed=2024)
    mean = returns.mean()
    half_width = Z99 * returns.std(ddof=1) / math.sqrt(paths)
    print(
        f"\nCJP value h(0,0)={value:.4f}  exact discrete={exact:.4f}  simulated mean={mean:.4f}"
        f"  99% CI=[{mean - half_width:.4f}, {mean + half_width:.4f}]  bias bound={bias_bound}"
    )
    assert abs(mean - exact) <= half_width
    assert abs(mean - value) <= half_width + bias_bound
