"""The Avellaneda-Stoikov market, its vector env and its single env."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

from mm_gym.envs.avellaneda_stoikov import (
    AvellanedaStoikovEnv,
    AvellanedaStoikovVectorEnv,
    action_bounds,
    bench_as_vec,
    depths_to_action,
)
from mm_gym.errors import ActionError, ConfigError
from mm_gym.market.avellaneda_stoikov import ASConfig, _exp_split
from mm_gym.market.scaling import unit_to_range

SHORT = {"T": 0.05, "dt": 0.005}  # 10-step episodes


def rollout(env: AvellanedaStoikovEnv, actions: np.ndarray, seed: int) -> list:
    """Reset with ``seed``, step through ``actions``, resetting (unseeded) after truncation."""
    out = [env.reset(seed=seed)]
    for a in actions:
        step = env.step(a)
        out.append(step)
        if step[3]:
            out.append(env.reset())
    return out


# ---------------------------------------------------------------- config


def test_default_config_is_the_paper_market() -> None:
    c = ASConfig()
    assert (c.s0, c.sigma, c.A, c.k, c.T, c.dt) == (100.0, 2.0, 140.0, 1.5, 1.0, 0.005)
    assert c.n_steps == 200 and c.q_scale == 10
    assert c.inventory_grid.tolist() == list(range(-10, 11))
    assert ASConfig(q_min=-7, q_max=9, order_size=3).inventory_grid.tolist() == [-6, -3, 0, 3, 6, 9]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("s0", 0.0, "allowed range is (0.0, inf)"),
        ("s0", "100", "expected a number"),
        ("sigma", -0.1, "allowed range is [0.0, inf)"),
        ("sigma", math.nan, "must be finite"),
        ("A", 0, "allowed range is (0.0, inf)"),
        ("k", -1.5, "allowed range is (0.0, inf)"),
        ("T", 0.0, "allowed range is (0.0, inf)"),
        ("dt", 0.0, "allowed range is (0.0, 1.0]"),
        ("dt", 2.0, "allowed range is (0.0, 1.0]"),
        ("dt", 0.003, "T/dt must be a whole number of steps"),
        ("q_min", 1, "allowed range is (-inf, 0]"),
        ("q_min", -2.5, "expected a whole number"),
        ("q_max", -1, "allowed range is [0, inf)"),
        ("q_max", True, "expected a whole number"),
        ("order_size", 0, "allowed range is [1, 10]"),
        ("order_size", 11, "allowed range is [1, 10]"),
        ("phi", -0.01, "allowed range is [0.0, inf)"),
        ("alpha", math.inf, "must be finite"),
        ("half_spread_range", (1.0, 1.0), "low < high"),
        ("half_spread_range", (0.0, math.inf), "finite numbers"),
        ("skew_range", (2.0, -2.0), "low < high"),
        ("skew_range", (0.0, 1.0, 2.0), "expected (low, high)"),
        ("skew_range", "wide", "expected (low, high)"),
    ],
)
def test_config_errors_name_field_value_and_range(field: str, value: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        ASConfig(**{field: value})
    message = str(err.value)
    assert message.startswith(f"{field}={value!r}"), message
    assert fragment in message


def test_config_from_dict_takes_lists_and_rejects_unknown_keys() -> None:
    c = ASConfig.from_dict({"skew_range": [-1, 1], "sigma": 1})
    assert c.skew_range == (-1, 1)
    assert ASConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ConfigError, match="bogus: unknown key"):
        ASConfig.from_dict({"bogus": 1})


def test_constructors_take_config_fields_as_keywords() -> None:
    env = AvellanedaStoikovEnv(sigma=1.0, render_mode=None)
    assert env.config.sigma == 1.0
    venv = AvellanedaStoikovVectorEnv(num_envs=64, sigma=1.0)
    assert venv.num_envs == 64 and venv.config.sigma == 1.0
    both = AvellanedaStoikovVectorEnv(num_envs=2, config=ASConfig(k=2.0), sigma=0.5)
    assert (both.config.k, both.config.sigma) == (2.0, 0.5)
    assert AvellanedaStoikovEnv(config={"A": 10.0}).config.A == 10.0
    with pytest.raises(ConfigError, match="bogus"):
        AvellanedaStoikovEnv(bogus=1)
    with pytest.raises(ConfigError, match="num_envs=0"):
        AvellanedaStoikovVectorEnv(num_envs=0)
    with pytest.raises(ConfigError, match="render_mode='human'"):
        AvellanedaStoikovEnv(render_mode="human")


# ---------------------------------------------------------------- API


def test_check_env_passes() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*alternative render modes.*")
        check_env(AvellanedaStoikovEnv())
        check_env(AvellanedaStoikovEnv(render_mode="ansi", **SHORT))


def test_vector_env_spaces_and_metadata() -> None:
    venv = AvellanedaStoikovVectorEnv(num_envs=3)
    assert venv.metadata["autoreset_mode"] is gym.vector.AutoresetMode.NEXT_STEP
    assert venv.single_action_space == gym.spaces.Box(-1, 1, (3,), np.float32)
    assert venv.action_space.shape == (3, 3) and venv.observation_space.shape == (3, 2)
    obs, info = venv.reset(seed=0)
    assert obs in venv.observation_space
    assert set(info) >= {"inventory", "cash", "mid", "time", "penalty", "_inventory"}


def test_render_ansi() -> None:
    env = AvellanedaStoikovEnv(render_mode="ansi")
    env.reset(seed=0)
    assert env.render().startswith("t=0.0000 mid=100.0000 q=0")
    assert AvellanedaStoikovEnv().render() is None


def test_step_before_reset_and_after_the_end_needs_reset() -> None:
    env = AvellanedaStoikovEnv(**SHORT)
    with pytest.raises(ResetNeeded):
        env.step(np.zeros(3))
    env.reset(seed=0)
    for _ in range(10):
        _, _, terminated, truncated, _ = env.step(np.zeros(3))
        assert not terminated
    assert truncated
    with pytest.raises(ResetNeeded, match="call reset"):
        env.step(np.zeros(3))
    with pytest.raises(ResetNeeded):
        AvellanedaStoikovVectorEnv(num_envs=2).step(np.zeros((2, 3)))


# ---------------------------------------------------------------- seeding


def test_same_seed_same_path_bit_for_bit() -> None:
    actions = np.random.default_rng(1).uniform(-1.2, 1.2, size=(35, 3))
    first = rollout(AvellanedaStoikovEnv(**SHORT), actions, seed=7)
    second = rollout(AvellanedaStoikovEnv(**SHORT), actions, seed=7)
    assert gym.utils.env_checker.data_equivalence(first, second, exact=True)
    other = rollout(AvellanedaStoikovEnv(**SHORT), actions, seed=8)
    assert not gym.utils.env_checker.data_equivalence(first, other, exact=True)


def test_vector_market_i_equals_single_env_seeded_s_plus_i() -> None:
    n, seed, steps = 19, 100, 33  # three episodes and a bit, with next-step autoresets
    actions = np.random.default_rng(2).uniform(-1.3, 1.3, size=(steps, n, 3))
    venv = AvellanedaStoikovVectorEnv(num_envs=n, **SHORT)
    v_obs, v_info = venv.reset(seed=seed)
    vector = [[(v_obs[i], 0.0, False, v_info["inventory"][i], v_info["cash"][i])] for i in range(n)]
    pending = np.zeros(n, dtype=bool)
    for t in range(steps):
        obs, rew, term, trunc, info = venv.step(actions[t])
        assert not term.any()
        for i in range(n):
            if pending[i]:  # the autoreset step: reset observation, reward 0, action ignored
                assert rew[i] == 0.0 and not trunc[i] and info["action_clipped"][i] == 0
            vector[i].append((obs[i], rew[i], trunc[i], info["inventory"][i], info["cash"][i]))
        pending = trunc
    for i in range(n):
        env = AvellanedaStoikovEnv(**SHORT)
        o, inf = env.reset(seed=seed + i)
        single = [(o, 0.0, False, inf["inventory"], inf["cash"])]
        done = False
        for t in range(steps):
            if done:
                o, inf = env.reset()
                single.append((o, 0.0, False, inf["inventory"], inf["cash"]))
                done = False
                continue
            o, r, _, done, inf = env.step(actions[t, i])
            single.append((o, r, done, inf["inventory"], inf["cash"]))
        for a, b in zip(vector[i], single, strict=True):
            assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]


def test_seed_lists_and_reset_mask() -> None:
    venv = AvellanedaStoikovVectorEnv(num_envs=3, **SHORT)
    venv.reset(seed=[11, None, 13])
    actions = np.zeros((3, 3))
    mids = [venv.step(actions)[4]["mid"] for _ in range(4)]
    for i, seed in ((0, 11), (2, 13)):
        env = AvellanedaStoikovEnv(**SHORT)
        env.reset(seed=seed)
        assert [env.step(actions[i])[4]["mid"] for _ in range(4)] == [m[i] for m in mids]
    mask = np.array([False, True, False])
    obs, info = venv.reset(options={"reset_mask": mask})
    assert info["time"].tolist() == [0.02, 0.0, 0.02] and info["_time"].tolist() == mask.tolist()
    assert obs[1].tolist() == [0.0, 1.0]
    with pytest.raises(ConfigError, match="reset_mask"):
        venv.reset(options={"reset_mask": np.zeros(3, dtype=bool)})
    with pytest.raises(ConfigError, match="seed=-1"):
        venv.reset(seed=-1)
    with pytest.raises(ConfigError, match="needs 3 entries"):
        venv.reset(seed=[1, 2])


# ---------------------------------------------------------------- actions


@pytest.mark.parametrize(
    ("action", "match"),
    [
        ([0.0, math.nan, 0.0], "NaN or infinity"),
        ([math.inf, 0.0, 0.0], "NaN or infinity"),
        ([0.0, 0.0], "shape"),
        ([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], "shape"),
        ("buy", "expected numbers"),
    ],
)
def test_bad_actions_raise_action_error(action: object, match: str) -> None:
    env = AvellanedaStoikovEnv()
    env.reset(seed=0)
    with pytest.raises(ActionError, match=match):
        env.step(action)
    venv = AvellanedaStoikovVectorEnv(num_envs=2)
    venv.reset(seed=0)
    with pytest.raises(ActionError):
        venv.step(np.zeros((3, 3)))
    with pytest.raises(ActionError, match="NaN"):
        venv.step(np.array([[0.0, 0.0, 0.0], [0.0, math.nan, 0.0]]))


def test_out_of_range_actions_are_clipped_and_counted() -> None:
    wild, tame = AvellanedaStoikovEnv(), AvellanedaStoikovEnv()
    wild.reset(seed=3)
    tame.reset(seed=3)
    for _ in range(20):
        w = wild.step(np.array([2.0, -3.0, 0.5]))
        t = tame.step(np.array([1.0, -1.0, 0.5]))
        assert w[4]["action_clipped"] == 2 and t[4]["action_clipped"] == 0
        assert np.array_equal(w[0], t[0]) and w[1] == t[1] and w[4]["cash"] == t[4]["cash"]
    venv = AvellanedaStoikovVectorEnv(num_envs=3)
    venv.reset(seed=0)
    info = venv.step(np.array([[0, 0, 0], [5, 5, 5], [0, 1.5, 0]], dtype=np.float32))[4]
    assert info["action_clipped"].tolist() == [0, 3, 1]


def test_depths_to_action_round_trips() -> None:
    c = ASConfig()
    rng = np.random.default_rng(4)
    q = rng.integers(c.q_min, c.q_max + 1, size=500)
    half = rng.uniform(*c.half_spread_range, size=500)
    skew = np.where(q == 0, 0.0, rng.uniform(*c.skew_range, size=500))
    bid, ask = half + skew * q, half - skew * q
    low, high = action_bounds(c)
    for b, a in ((bid, ask), (bid, np.full(500, np.nan)), (np.full(500, np.nan), ask)):
        decoded = unit_to_range(depths_to_action(c, b, a, q).astype(np.float64), low, high)
        assert (decoded[:, 2] >= 0.5).all()
        for want, got in (
            (b, decoded[:, 0] + decoded[:, 1] * q),
            (a, decoded[:, 0] - decoded[:, 1] * q),
        ):
            ok = np.isfinite(want)
            assert np.allclose(got[ok], want[ok], rtol=0, atol=1e-5)
    assert depths_to_action(c, 0.5, 0.5, 0, quote=False)[0, 2] < 0


# ---------------------------------------------------------------- dynamics


@settings(max_examples=40, deadline=None)
@given(
    actions=st.lists(
        st.tuples(*[st.floats(-1.5, 1.5, allow_nan=False)] * 3), min_size=1, max_size=60
    ),
    bounds=st.sampled_from([(-2, 3, 1), (0, 4, 1), (-5, 4, 2), (-1, 0, 1)]),
    seed=st.integers(0, 2**32),
)
def test_inventory_never_leaves_its_bounds(actions: list, bounds: tuple, seed: int) -> None:
    q_min, q_max, size = bounds
    env = AvellanedaStoikovEnv(A=300.0, T=0.2, dt=0.002, q_min=q_min, q_max=q_max, order_size=size)
    env.reset(seed=seed)
    for a in actions:
        _, _, _, truncated, info = env.step(np.array(a))
        assert q_min <= info["inventory"] <= q_max and info["inventory"] % size == 0
        if truncated:
            env.reset()


def test_inventory_bounds_hold_across_a_large_batch() -> None:
    venv = AvellanedaStoikovVectorEnv(num_envs=4000, A=300.0, T=0.4, dt=0.002, q_min=-3, q_max=2)
    venv.reset(seed=5)
    rng = np.random.default_rng(5)
    seen = set()
    for _ in range(250):
        inv = venv.step(rng.uniform(-1, 1, size=(4000, 3)))[4]["inventory"]
        assert inv.min() >= -3 and inv.max() <= 2
        seen.update(np.unique(inv).tolist())
    assert seen == {-3, -2, -1, 0, 1, 2}


def test_episode_return_is_the_cjp_objective() -> None:
    c = ASConfig(T=0.5)
    venv = AvellanedaStoikovVectorEnv(num_envs=500, config=c)
    venv.reset(seed=9)
    rng = np.random.default_rng(9)
    ret = np.zeros(500)
    held = np.zeros(500)  # sum of q^2 over the inventory held during each step
    inv = np.zeros(500, dtype=np.int64)
    for t in range(c.n_steps):
        held += inv.astype(np.float64) ** 2
        _, reward, _, truncated, info = venv.step(rng.uniform(-1, 1, size=(500, 3)))
        ret += reward
        inv = info["inventory"]
        mids = info["mid"]
        assert truncated.all() == (t == c.n_steps - 1)
    q, x, s = info["inventory"], info["cash"], info["mid"]
    objective = x + q * (s - c.alpha * q) - c.phi * c.dt * held
    assert np.allclose(info["penalty"], c.phi * c.dt * held, rtol=1e-12)
    assert np.allclose(ret, objective, rtol=1e-10, atol=1e-9)
    steps = np.abs(mids - c.s0) / (c.sigma * math.sqrt(c.dt))
    assert np.allclose(steps, np.rint(steps)) and (np.rint(steps) % 2 == 0).all()


def test_fill_probabilities_match_the_model() -> None:
    """One step from q=0: buy and sell are independent Bernoulli(A exp(-k depth) dt)."""
    n = 200_000
    c = ASConfig(half_spread_range=(-2.0, 3.0))  # -1.0: through the mid, filled for sure
    low, high = action_bounds(c)
    venv = AvellanedaStoikovVectorEnv(num_envs=n, config=c)
    for depth in (0.4, 1.2, -1.0):
        venv.reset(seed=17)
        action = np.tile(depths_to_action(c, depth, depth, 0), (n, 1))
        assert unit_to_range(action[:1].astype(np.float64), low, high)[0, 0] == pytest.approx(depth)
        info = venv.step(action)[4]
        dq, cash = info["inventory"], info["cash"]
        both = (dq == 0) & (cash != 0)  # bought at s - d, sold at s + d: cash 2d
        p = min(1.0, c.A * math.exp(-c.k * depth) * c.dt)
        for hits, prob in ((dq > 0) | both, p), ((dq < 0) | both, p), (both, p * p):
            sd = math.sqrt(max(prob * (1 - prob), 1e-12) / n)
            assert abs(hits.mean() - prob) <= 4 * sd
        up = info["mid"] > c.s0
        assert abs(up.mean() - 0.5) <= 4 * math.sqrt(0.25 / n)


def test_kernel_exp_is_within_a_few_ulp_of_numpy() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-700, 700, 4001), rng.uniform(-30, 10, 4000), [0.0, -1e-12]])
    parts = [_exp_split(v) for v in x]
    scale = np.array([b for _, b in parts], dtype=np.int64).view(np.float64)
    got = np.array([m for m, _ in parts]) * scale
    assert np.allclose(got, np.exp(x), rtol=5e-16, atol=0)


def test_no_quotes_means_no_fills() -> None:
    venv = AvellanedaStoikovVectorEnv(num_envs=100)
    venv.reset(seed=1)
    for _ in range(50):
        info = venv.step(np.tile([-1.0, 0.0, -0.01], (100, 1)))[4]
    assert not info["inventory"].any() and not info["cash"].any()


def test_bench_runs() -> None:
    assert bench_as_vec(num_envs=1000, steps=20) > 0


def test_info_counts_both_fills_of_a_step() -> None:
    from mm_gym.envs.avellaneda_stoikov import AvellanedaStoikovVectorEnv

    env = AvellanedaStoikovVectorEnv(num_envs=512)
    env.reset(seed=0)
    tight = np.tile(np.array([-1.0, 0.0, 1.0], np.float32), (512, 1))  # half-spread 0: p ~ 0.7
    both = 0
    for _ in range(5):
        q_before = env.market.inv.copy()
        _, _, _, _, info = env.step(tight)
        assert np.array_equal(info["inventory"] - q_before, info["bought"] - info["sold"])
        both += int(((info["bought"] > 0) & (info["sold"] > 0)).sum())
    assert both > 0  # steps where the inventory change (0) hides two fills
