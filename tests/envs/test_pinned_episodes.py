"""``pinned_episodes``: a share of training episodes keeps one regime for the whole hour."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import MarketMakingCore
from mm_gym.errors import ConfigError
from mm_gym.market.layout import F_NEXT_REGIME, I_REGIME, INF
from mm_gym.market.regimes import REGIME_NAMES

SHORT = {"session_s": 120.0}


def _core(n: int, **kw) -> MarketMakingCore:
    return MarketMakingCore(n, EnvConfig(**{**SHORT, **kw}), threads=1)


def _regime_paths(core: MarketMakingCore, steps: int) -> np.ndarray:
    """Hidden regime of every market after each step, baseline quoting (action 0, residual)."""
    out = [core.sim.ints[:, I_REGIME].copy()]
    for _ in range(steps):
        core.step_arrays(np.zeros((core.n, 3), dtype=np.float32))
        out.append(core.sim.ints[:, I_REGIME].copy())
    return np.stack(out, axis=1)


def test_every_pinned_episode_keeps_its_regime_and_regimes_are_drawn_evenly():
    core = _core(400, pinned_episodes=1.0, action_mode="residual", session_s=600.0)
    core.reset(np.arange(400) + 10)
    paths = _regime_paths(core, 599)
    assert (paths == paths[:, :1]).all()
    counts = np.bincount(paths[:, 0], minlength=len(REGIME_NAMES))
    # 100 expected per regime: a binomial(400, 1/4) sd of 8.7, so 60..140 is > 4.5 sd
    assert (counts > 60).all() and (counts < 140).all(), counts


def test_the_share_is_pinned_and_the_rest_switch_as_the_market_does():
    n = 600
    core = _core(n, pinned_episodes=0.25, action_mode="residual", session_s=1800.0)
    core.reset(np.arange(n))
    paths = _regime_paths(core, 1799)
    never = (paths == paths[:, :1]).all(axis=1)
    # pinned ~150; of the others, a 1800 s episode with regime visits of 300-900 s almost
    # always switches at least once
    assert 100 < never.sum() < 260, never.sum()
    plain = _core(n, action_mode="residual", session_s=1800.0)
    plain.reset(np.arange(n))
    free = _regime_paths(plain, 1799)
    switched = ~(free == free[:, :1]).all(axis=1)
    # the unpinned markets are the plain markets, regime for regime
    same = (paths == free).all(axis=1)
    assert same.sum() >= n - never.sum() - 5
    assert switched.mean() > 0.7


def test_the_draws_are_a_function_of_seed_and_episode():
    a, b = _core(64, pinned_episodes=0.5), _core(64, pinned_episodes=0.5)
    a.reset(np.arange(64))
    b.reset(np.arange(64))
    np.testing.assert_array_equal(a.sim.fs, b.sim.fs)
    np.testing.assert_array_equal(a.sim.ints, b.sim.ints)
    first = a.sim.fs[:, F_NEXT_REGIME] == INF
    assert 16 < first.sum() < 48
    a.next_episode(np.ones(64, dtype=bool))
    assert not np.array_equal(first, a.sim.fs[:, F_NEXT_REGIME] == INF)  # episode 1 draws afresh


def test_zero_share_is_the_plain_market():
    a, b = _core(32), _core(32, pinned_episodes=0.0)
    a.reset(np.arange(32))
    b.reset(np.arange(32))
    for _ in range(50):
        a.step_arrays(np.zeros((32, 3), dtype=np.float32))
        b.step_arrays(np.zeros((32, 3), dtype=np.float32))
    np.testing.assert_array_equal(a.sim.fs, b.sim.fs)


def test_only_regimes_the_market_can_enter_are_drawn():
    regimes = {"trending_up": {"weight": 0.0}, "trending_down": {"weight": 0.0}}
    core = _core(200, pinned_episodes=1.0, market={"regimes": regimes})
    core.reset(np.arange(200))
    drawn = set(core.sim.ints[:, I_REGIME].tolist())
    assert drawn == {REGIME_NAMES.index("ranging"), REGIME_NAMES.index("high_vol")}


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_a_share_outside_zero_one_is_refused(share):
    with pytest.raises(ConfigError, match="pinned_episodes"):
        EnvConfig(pinned_episodes=share)


def test_a_pinned_market_refuses_a_share():
    with pytest.raises(ConfigError, match=r"pinned_episodes=0.5: the market already pins"):
        EnvConfig(pinned_episodes=0.5, market="trending_up")


def test_pin_regimes_names_bad_markets_and_regimes():
    core = _core(4)
    with pytest.raises(ConfigError, match=r"markets \[7\]: expected 0..3"):
        core.sim.pin_regimes(np.array([7]), np.array([0]))
    with pytest.raises(ConfigError, match=r"regimes \[9\]: expected 0..3"):
        core.sim.pin_regimes(np.array([0]), np.array([9]))
    with pytest.raises(ConfigError, match="two 1-d arrays of one length"):
        core.sim.pin_regimes(np.array([0, 1]), np.array([0]))
