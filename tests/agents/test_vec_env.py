"""The SB3 VecEnv adapter over the native vector envs, and SB3's checker on the single envs."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from mm_gym.envs.avellaneda_stoikov import AvellanedaStoikovEnv, AvellanedaStoikovVectorEnv
from mm_gym.envs.market_making import MarketMakingEnv, MarketMakingVectorEnv
from mm_gym.errors import ConfigError
from mm_gym_agents.vec_env import MarketVecEnv, make_native_vec_env

N = 3
MM_STEPS = 5  # session_s=5: five one-second steps
AS_STEPS = 4  # T=0.02, dt=0.005


def _actions(k: int, n: int = N) -> np.ndarray:
    return np.random.default_rng(k).uniform(-1, 1, (n, 3)).astype(np.float32)


@pytest.mark.parametrize("make", [MarketMakingEnv, AvellanedaStoikovEnv])
def test_sb3_check_env_on_single_envs(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SB3's checker warns about anything it dislikes
        check_env(make(), warn=True)


@pytest.mark.parametrize(
    ("native", "single", "kwargs", "steps"),
    [
        (MarketMakingVectorEnv, MarketMakingEnv, {"session_s": 5}, MM_STEPS),
        (AvellanedaStoikovVectorEnv, AvellanedaStoikovEnv, {"T": 0.02}, AS_STEPS),
    ],
    ids=["market_making_same_step", "avellaneda_stoikov_next_step"],
)
def test_terminal_observation_and_autoreset_match_single_envs(native, single, kwargs, steps):
    venv = MarketVecEnv(native(N, **kwargs))
    venv.seed(10)
    obs = venv.reset()
    singles = [single(**kwargs) for _ in range(N)]
    actions = [_actions(k) for k in range(2 * steps)]
    for i, env in enumerate(singles):
        o, _ = env.reset(seed=10 + i)
        np.testing.assert_array_equal(obs[i], o)
    for k in range(2 * steps):
        obs, rewards, dones, infos = venv.step(actions[k])
        assert obs.dtype == np.float32 and rewards.dtype == np.float32
        assert len(infos) == N and all(isinstance(d, dict) for d in infos)
        for i, env in enumerate(singles):
            o, r, terminated, truncated, info = env.step(actions[k][i])
            assert rewards[i] == pytest.approx(r, rel=1e-6, abs=1e-9)
            assert dones[i] == (terminated or truncated)
            if dones[i]:
                np.testing.assert_array_equal(infos[i]["terminal_observation"], o)
                assert infos[i]["TimeLimit.truncated"] is True  # a time limit, not a stop
                o, _ = env.reset()  # next episode of the same market
            else:
                assert "terminal_observation" not in infos[i]
            np.testing.assert_array_equal(obs[i], o)
            assert infos[i]["inventory"] == pytest.approx(info["inventory"])
        assert dones.all() == ((k + 1) % steps == 0)


class _StoppingVecEnv(gym.vector.VectorEnv):
    """A same-step-autoreset vector env whose market 0 terminates at step 2 (a daily stop)."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self) -> None:
        self.num_envs = 2
        self.single_observation_space = gym.spaces.Box(-10, 10, (1,), np.float32)
        self.single_action_space = gym.spaces.Box(-1, 1, (1,), np.float32)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros((2, 1), np.float32), {}

    def step(self, actions):
        self.t += 1
        obs = np.full((2, 1), self.t, np.float32)
        terminated = np.array([self.t == 2, False])
        truncated = np.array([False, self.t == 3])
        info: dict = {"x": np.array([1.0, 2.0])}
        done = terminated | truncated
        if done.any():
            info["final_obs"] = obs.copy()
            info["_final_obs"] = done
            obs = np.where(done[:, None], -1.0, obs).astype(np.float32)
        return obs, np.zeros(2), terminated, truncated, info


def test_termination_is_not_a_time_limit():
    venv = MarketVecEnv(_StoppingVecEnv())
    venv.reset()
    venv.step(np.zeros((2, 1)))
    obs, _, dones, infos = venv.step(np.zeros((2, 1)))
    assert dones.tolist() == [True, False]
    assert infos[0]["TimeLimit.truncated"] is False
    assert infos[0]["terminal_observation"].tolist() == [2.0]
    assert obs[0, 0] == -1.0 and infos[1] == {"x": 2.0}
    _, _, dones, infos = venv.step(np.zeros((2, 1)))
    assert dones.tolist() == [False, True] and infos[1]["TimeLimit.truncated"] is True


def test_time_limit_as_terminal_state_when_not_bootstrapped():
    venv = MarketVecEnv(AvellanedaStoikovVectorEnv(N, T=0.02), bootstrap_time_limit=False)
    venv.seed(10)
    venv.reset()
    for k in range(AS_STEPS):
        _, _, dones, infos = venv.step(_actions(k))
    assert dones.all()
    assert all(info["TimeLimit.truncated"] is False for info in infos)
    assert all(info["terminal_observation"][1] == 0.0 for info in infos)  # no time left


def test_seed_then_reset_follows_sb3_semantics():
    venv = MarketVecEnv(MarketMakingVectorEnv(N, session_s=5))
    native = MarketMakingVectorEnv(N, session_s=5)
    assert venv.seed(7) == [7, 8, 9]
    np.testing.assert_array_equal(venv.reset(), native.reset(seed=7)[0])
    a = _actions(0)
    np.testing.assert_array_equal(venv.step(a)[0], native.step(a)[0])


def test_wrappers_and_vecenv_methods():
    venv = MarketVecEnv(MarketMakingVectorEnv(N, session_s=5))
    env = VecNormalize(VecMonitor(venv))
    env.seed(0)
    env.reset()
    episodes = []
    for k in range(2 * MM_STEPS):
        obs, rewards, dones, infos = env.step(_actions(k))
        assert np.isfinite(obs).all()
        if dones.any():
            episodes += [info["episode"] for info in infos]
            # VecNormalize normalises the terminal observation too
            assert infos[0]["terminal_observation"].shape == obs[0].shape
    assert len(episodes) == 2 * N and all(e["l"] == MM_STEPS for e in episodes)
    assert env.unwrapped is venv
    assert venv.get_attr("num_envs") == [N] * N
    assert venv.get_attr("render_mode", indices=[0]) == [None]
    venv.set_attr("tag", "x")
    assert venv.venv.tag == "x"
    results = venv.env_method("reset", seed=3, indices=[0, 1])
    assert len(results) == 2 and results[0][0].shape == (N, obs.shape[1])
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * N
    env.close()


def test_env_ids():
    with pytest.raises(ConfigError, match="env_id='Nope-v0'"):
        make_native_vec_env("Nope-v0", 2)
    assert make_native_vec_env("AvellanedaStoikov-v0", 2).num_envs == 2


def tiny_ppo(env) -> PPO:
    """A PPO small enough to learn 256 steps in a test."""
    return PPO(
        "MlpPolicy",
        env,
        n_steps=16,
        batch_size=64,
        n_epochs=1,
        seed=0,
        policy_kwargs={"net_arch": [16]},
        device="cpu",
    )


def test_ppo_learns_on_the_adapter():
    model = tiny_ppo(VecNormalize(VecMonitor(MarketVecEnv(MarketMakingVectorEnv(8, session_s=16)))))
    model.learn(256)
    assert model.num_timesteps == 256
    assert len(model.ep_info_buffer) > 0


def test_ppo_plays_itself_on_the_multi_maker_slots():
    """Self-play through the adapter: one PPO policy on both makers of four books."""
    from mm_gym.envs.multi_maker import MultiMakerVectorEnv

    venv = MultiMakerVectorEnv(8, n_makers=2, agents=2, session_s=16.0, threads=1)
    assert venv.books == 4
    env = VecMonitor(MarketVecEnv(venv))
    env.seed(7)
    model = tiny_ppo(env)
    model.learn(256)
    assert model.num_timesteps == 256
    assert len(model.ep_info_buffer) == 8 * 2  # every slot finished two 16-step sessions
