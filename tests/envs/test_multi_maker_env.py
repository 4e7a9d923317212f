"""The multi-maker environments: PettingZoo's API test, one maker being the single env, the
rivals' rules, agents leaving when done, the vector env of maker slots, and every bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from mm_gym import multi_maker_v0
from mm_gym.config import resolve_config
from mm_gym.envs.baseline_policy import RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.multi_maker import MakersConfig, MultiMakerConfig, MultiMakerVectorEnv
from mm_gym.errors import ActionError, ConfigError
from mm_gym.market import layout as L

SHORT = {"session_s": 20.0}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_makers": 2},
        {"n_makers": 3, "agents": 1, "rivals": ["tuned", [1.2, 0.5, 1.0]]},
        {"n_makers": 2, "action_mode": "residual"},
    ],
)
def test_pettingzoo_parallel_api(kwargs):
    env = multi_maker_v0.parallel_env(**kwargs, **SHORT)
    parallel_api_test(env, num_cycles=60)


def test_the_aec_form_runs_an_episode():
    env = multi_maker_v0.env(n_makers=2, agents=2, **SHORT)
    env.reset(seed=1)
    steps = 0
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        env.step(None if terminated or truncated else env.action_space(agent).sample())
        steps += 1
    assert steps == 2 * (20 + 1)  # two agents, 20 steps, and each one's last look


def play(env, actions, multi: bool):
    """Observations, rewards, ends and infos of ``env`` under ``actions``, resets included."""
    out = []
    obs, info = env.reset(seed=21)
    for a in actions:
        if multi:
            o, r, te, tr, i = env.step({"maker_0": a})
            o, r, te, tr, i = o["maker_0"], r["maker_0"], te["maker_0"], tr["maker_0"], i["maker_0"]
            i = {key: v for key, v in i.items() if key != "maker"}
        else:
            o, r, te, tr, i = env.step(a)
        out.append((o.tobytes(), r, te, tr, sorted(i.items())))
        if te or tr:
            obs, info = env.reset()
            out.append(obs.tobytes() if not multi else obs["maker_0"].tobytes())
    return out


def test_one_maker_is_the_single_env():
    actions = np.random.default_rng(3).uniform(-1, 1, (70, 3)).astype(np.float32)
    single = gym.make("mm_gym/MarketMaking-v0", session_s=30.0).unwrapped
    multi = multi_maker_v0.parallel_env(n_makers=1, session_s=30.0)
    assert play(single, actions, False) == play(multi, actions, True)


def test_seeded_books_are_deterministic_and_observations_in_their_space():
    def run():
        env = multi_maker_v0.parallel_env(n_makers=3, agents=2, **SHORT)
        obs, _ = env.reset(seed=5)
        rng = np.random.default_rng(0)
        seen = []
        while env.agents:
            for agent, o in obs.items():
                assert env.observation_space(agent).contains(o), agent
            acts = {a: rng.uniform(-1, 1, 3).astype(np.float32) for a in env.agents}
            obs, rew, *_ = env.step(acts)
            seen.append(sorted((a, o.tobytes(), rew[a]) for a, o in obs.items()))
        return seen

    assert run() == run()


def test_rivals_quote_by_their_rules():
    env = multi_maker_v0.parallel_env(
        n_makers=4, agents=1, rivals=["document", "tuned", [1.3, 0.4, 0.8]], **SHORT
    )
    env.reset(seed=2)
    for _ in range(5):
        env.step({"maker_0": np.zeros(3, dtype=np.float32)})
    core = env.game.core
    obs = core.obs
    for row, name in ((1, "document"), (2, "tuned")):
        rule_config = (
            EnvConfig() if name == "document" else EnvConfig.from_yaml(resolve_config("envs", name))
        )
        expected = RuleBasedPolicy(rule_config).params(obs[row].astype(np.float64))
        np.testing.assert_allclose(env.game.rival_params()[row], expected)
    np.testing.assert_array_equal(env.game.rival_params()[3], [1.3, 0.4, 0.8])
    np.testing.assert_array_equal(core.params[3], [1.3, 0.4, 0.8])
    assert (core.sim.mints[1:, L.MI_QUOTES_SENT] > 0).all()


def test_a_halted_agent_leaves_and_may_not_act_again():
    env = multi_maker_v0.parallel_env(n_makers=2, agents=2, **SHORT)
    env.reset(seed=4)
    env.game.core.sim.mints[1, L.MI_HALTED] = 1  # maker_1's daily stop
    zero = np.zeros(3, dtype=np.float32)
    _, _, terminated, truncated, _ = env.step({"maker_0": zero, "maker_1": zero})
    assert terminated == {"maker_0": False, "maker_1": True} and not any(truncated.values())
    assert env.agents == ["maker_0"]
    with pytest.raises(ActionError, match=r"actions for \['maker_1'\]: done"):
        env.step({"maker_0": zero, "maker_1": zero})
    while env.agents:
        _, _, _, truncated, _ = env.step({"maker_0": zero})
    assert truncated == {"maker_0": True}
    with pytest.raises(gym.error.ResetNeeded):
        env.step({})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_makers": 0}, r"n_makers=0: expected an integer from 1 to 8"),
        ({"n_makers": 9}, r"n_makers=9: expected an integer from 1 to 8"),
        ({"n_makers": 2, "agents": 0}, r"agents=0: expected an integer from 1 to n_makers=2"),
        ({"n_makers": 2, "agents": 3}, r"agents=3: expected an integer from 1 to n_makers=2"),
        ({"n_makers": 3, "agents": 1, "rivals": ["document"]}, r"a list of 2"),
        ({"n_makers": 2, "agents": 1, "rivals": ""}, r"rivals\[0\]=''"),
        ({"n_makers": 2, "agents": 1, "rivals": [[1.0, 0.5]]}, r"rivals\[0\]=\[1.0, 0.5\]"),
        (
            {"n_makers": 2, "agents": 1, "rivals": [9.0, 0.5, 1.0]},
            r"rivals\[0\] spread_multiplier=.*9.0.*expected a number in \[0.5, 3.0\]",
        ),
        ({"n_makers": 2, "agents": 1, "rivals": "no_such_config"}, r"no_such_config"),
        ({"render_mode": "human"}, r"render_mode='human': this env does not render"),
        ({"session_s": -1.0}, r"session_s"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        multi_maker_v0.parallel_env(**kwargs)


def test_bad_actions_name_the_agent():
    env = multi_maker_v0.parallel_env(n_makers=2, agents=2, **SHORT)
    with pytest.raises(gym.error.ResetNeeded):
        env.step({})
    env.reset(seed=0)
    zero = np.zeros(3, dtype=np.float32)
    with pytest.raises(ActionError, match=r"no action for \['maker_1'\]"):
        env.step({"maker_0": zero})
    with pytest.raises(ActionError, match=r"actions for \['maker_7'\]: not agents of this env"):
        env.step({"maker_0": zero, "maker_1": zero, "maker_7": zero})
    with pytest.raises(ActionError, match=r"maker_1: action\[0, 2\]=nan: NaN"):
        env.step({"maker_0": zero, "maker_1": np.array([0.0, 0.0, np.nan])})
    with pytest.raises(ActionError, match=r"maker_0: action shape \(2,\): expected \(3,\)"):
        env.step({"maker_0": zero[:2], "maker_1": zero})
    with pytest.raises(ActionError, match="expected a dict"):
        env.step([zero, zero])
    with pytest.raises(ConfigError, match=r"agent 'maker_2': expected one of"):
        env.observation_space("maker_2")


def test_the_gym_env_has_one_learner_and_no_render_mode():
    env = gym.make(
        "mm_gym/MultiMaker-v0", makers={"n_makers": 3, "rivals": [[1.0, 0.5, 1.0], "tuned"]}
    )
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs) and info["inventory"] == 0
    with pytest.raises(ConfigError, match=r"makers.agents=2: this env has one learner"):
        gym.make("mm_gym/MultiMaker-v0", makers={"agents": 2})
    with pytest.raises(ConfigError, match=r"render_mode='ansi': this env does not render"):
        gym.make("mm_gym/MultiMaker-v0", render_mode="ansi")


def test_makers_config_defaults_to_one_learner_against_the_document():
    assert MakersConfig() == MakersConfig(2, 1, ("document",))
    assert MakersConfig(n_makers=3).rivals == ("document", "document")
    assert MakersConfig(3, None).agents == 3 and MakersConfig(3, None).rivals == ()
    assert MakersConfig(3, 1, [1, 0.5, 1]).rivals == ((1.0, 0.5, 1.0), (1.0, 0.5, 1.0))
    cfg = MultiMakerConfig(makers={"n_makers": 3, "rivals": ["tuned", [1, 0.5, 1]]})
    assert MultiMakerConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match=r"makers.n_makers=9: expected an integer from 1 to 8"):
        MultiMakerConfig.from_dict({"makers": {"n_makers": 9}})
    with pytest.raises(ConfigError, match=r"data=.*: a recorded market has one maker"):
        MultiMakerConfig(data="day.parquet")


def test_vector_env_slots_are_the_learners_of_every_book():
    venv = MultiMakerVectorEnv(num_envs=6, n_makers=3, agents=2, session_s=10.0, threads=1)
    assert venv.books == 3
    obs, info = venv.reset(seed=40)
    assert obs.shape == (6, venv.single_observation_space.shape[0])
    # book b of the vector env is the parallel env of seed 40 + b
    env = multi_maker_v0.parallel_env(n_makers=3, agents=2, session_s=10.0)
    rng = np.random.default_rng(1)
    acts = rng.uniform(-1, 1, (12, 6, 3)).astype(np.float32)
    book = 2
    penv_obs, _ = env.reset(seed=40 + book)
    np.testing.assert_array_equal(obs[4], penv_obs["maker_0"])
    for k in range(10):
        obs, reward, terminated, truncated, info = venv.step(acts[k])
        po, pr, pte, ptr, _ = env.step({"maker_0": acts[k, 4], "maker_1": acts[k, 5]})
        if k < 9:
            np.testing.assert_array_equal(obs[4:6], np.stack([po["maker_0"], po["maker_1"]]))
        assert reward[4] == pr["maker_0"] and reward[5] == pr["maker_1"]
    # the session's last step ends every book: SAME_STEP autoreset
    assert truncated.all() and not terminated.any()
    np.testing.assert_array_equal(info["final_obs"][4], po["maker_0"])
    assert (venv.game.core.steps == 0).all()


def test_vector_env_refuses_a_seed_list_and_steps_before_reset():
    venv = MultiMakerVectorEnv(num_envs=4, n_makers=2, agents=2, **SHORT)
    with pytest.raises(gym.error.ResetNeeded):
        venv.step(np.zeros((4, 3)))
    with pytest.raises(ConfigError, match=r"seed=\[1, 2\]: expected an integer .* a list of 4"):
        venv.reset(seed=[1, 2])
    obs, _ = venv.reset(seed=[5, 5, 9, 9])  # one per slot: each book its first slot's
    assert (venv.game.core.seeds == [5, 9]).all()
    for bad in (0, 3, True):
        with pytest.raises(ConfigError, match=rf"num_envs={bad!r}: expected a positive multiple"):
            MultiMakerVectorEnv(num_envs=bad, n_makers=2, agents=2)
