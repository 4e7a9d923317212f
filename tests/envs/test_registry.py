"""Every id in ``mm_gym.ENV_IDS`` gets every check here, so a new env is tested the day it is
registered (it only has to add a row to ``PER_ID``: a keyword that must reach its config, an
invalid value and the vector env's autoreset mode)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

import mm_gym
from mm_gym import ENV_IDS, ConfigError, register_envs
from mm_gym.envs.registration import env_entry

REPO = Path(__file__).resolve().parents[2]
IDS = sorted(ENV_IDS)


@dataclasses.dataclass(frozen=True)
class IdData:
    good: dict[str, Any]  # keyword arguments that must reach ``env.config`` unchanged
    bad: tuple[str, Any]  # (field, invalid value): must raise ConfigError naming both
    autoreset: AutoresetMode  # the native vector env's autoreset mode


PER_ID: dict[str, IdData] = {
    "mm_gym/MarketMaking-v0": IdData(
        good={"session_s": 60.0}, bad=("session_s", -5.0), autoreset=AutoresetMode.SAME_STEP
    ),
    "mm_gym/AvellanedaStoikov-v0": IdData(
        good={"sigma": 1.0}, bad=("sigma", -1.0), autoreset=AutoresetMode.NEXT_STEP
    ),
    "mm_gym/MultiMaker-v0": IdData(
        good={"session_s": 60.0}, bad=("session_s", -5.0), autoreset=AutoresetMode.SAME_STEP
    ),
}


def data_for(env_id: str) -> IdData:
    if env_id not in PER_ID:
        pytest.fail(f"{env_id} is registered but has no row in PER_ID of {__file__}; add one")
    return PER_ID[env_id]


def user_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """Warnings an env checker raises about the env (numba's own warnings are not UserWarning)."""
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


# ---------------------------------------------------------------- the registry itself


def test_every_registered_id_has_test_data() -> None:
    assert set(PER_ID) == set(ENV_IDS), "PER_ID must have one row per id in mm_gym.ENV_IDS"


def test_registry_holds_exactly_the_ids_with_their_entry_points() -> None:
    ours = {spec.id for spec in gym.registry.values() if spec.namespace == "mm_gym"}
    assert ours == set(ENV_IDS)
    for env_id, entry in ENV_IDS.items():
        spec = gym.registry[env_id]
        assert spec.entry_point == entry.entry_point
        assert spec.vector_entry_point == entry.vector_entry_point
        # both entry points import, and so do the config and reference classes
        assert issubclass(load_env_creator(entry.entry_point), gym.Env)
        assert issubclass(load_env_creator(entry.vector_entry_point), VectorEnv)
        assert entry.env_class() is load_env_creator(entry.entry_point)
        assert entry.config_type()().validate() is None
        assert all(callable(cls) for cls in entry.reference_classes().values())
        assert entry.step_duration(entry.config_type()()) > 0


def test_an_entry_is_found_with_or_without_the_namespace() -> None:
    entry = env_entry("MarketMaking-v0")
    assert entry is env_entry("mm_gym/MarketMaking-v0") and entry.short == "MarketMaking-v0"
    with pytest.raises(ConfigError, match="env_id='Nope-v0': allowed values are 'MarketMaking-v0'"):
        env_entry("Nope-v0")


def test_register_envs_twice_is_idempotent() -> None:
    before = {env_id: gym.registry[env_id] for env_id in ENV_IDS}
    size = len(gym.registry)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        register_envs()
        register_envs()
        mm_gym.register_envs()
    assert user_warnings(caught) == []  # gymnasium warns when an id is overridden
    assert len(gym.registry) == size
    for env_id, spec in before.items():
        assert gym.registry[env_id] is spec


def test_unknown_id_raises_gymnasium_error_naming_it() -> None:
    with pytest.raises(gym.error.Error) as err:
        gym.make("mm_gym/Nope-v0")
    assert "Nope" in str(err.value)
    with pytest.raises(gym.error.Error) as err:
        gym.make_vec("mm_gym/Nope-v0", num_envs=2, vectorization_mode="vector_entry_point")
    assert "Nope" in str(err.value)


@pytest.mark.parametrize("env_id", IDS)
def test_unknown_version_raises_gymnasium_error(env_id: str) -> None:
    wrong = env_id.rsplit("-v", 1)[0] + "-v99"
    with pytest.raises(gym.error.Error, match="v99"):
        gym.make(wrong)


# ---------------------------------------------------------------- env checkers


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_env_checker(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env)
    assert user_warnings(caught) == []
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_stable_baselines3_env_checker(env_id: str) -> None:
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = gym.make(env_id).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_checker.check_env(env, warn=True)
    assert user_warnings(caught) == []
    env.close()


# ---------------------------------------------------------------- gym.make


@pytest.mark.parametrize("env_id", IDS)
def test_make_after_import(env_id: str) -> None:
    env = gym.make(env_id)
    assert env.spec is not None and env.spec.id == env_id
    assert type(env.unwrapped) is load_env_creator(ENV_IDS[env_id].entry_point)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert isinstance(info, dict)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    assert isinstance(reward, float)
    assert isinstance(terminated, bool) and isinstance(truncated, bool)
    env.close()


FRESH_PROCESS = textwrap.dedent(
    """
    import sys

    import gymnasium as gym

    env_id = sys.argv[1]
    assert not [m for m in sys.modules if m.split(".")[0] == "mm_gym"], "mm_gym imported early"
    env = gym.make("mm_gym:" + env_id)
    assert env.spec.id == env_id, env.spec.id
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    obs, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    print("OK", type(env.unwrapped).__name__)
    """
)


@pytest.mark.parametrize("env_id", IDS)
def test_make_with_module_prefix_in_fresh_process(env_id: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, env_id],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = load_env_creator(ENV_IDS[env_id].entry_point).__name__
    assert proc.stdout.split() == ["OK", expected]


# ---------------------------------------------------------------- gym.make_vec


@pytest.mark.parametrize("env_id", IDS)
def test_make_vec_gives_the_native_vector_env(env_id: str) -> None:
    n = 64
    vec = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    single = gym.make(env_id)
    assert type(vec) is load_env_creator(ENV_IDS[env_id].vector_entry_point)
    assert vec.num_envs == n
    assert vec.single_observation_space == single.observation_space
    assert vec.single_action_space == single.action_space
    assert vec.observation_space == batch_space(single.observation_space, n)
    assert vec.action_space == batch_space(single.action_space, n)
    mode = vec.metadata["autoreset_mode"]
    assert isinstance(mode, AutoresetMode)
    assert mode == data_for(env_id).autoreset

    obs, info = vec.reset(seed=0)
    assert vec.observation_space.contains(obs)
    assert isinstance(info, dict)
    obs, reward, terminated, truncated, info = vec.step(vec.action_space.sample())
    assert vec.observation_space.contains(obs)
    assert np.asarray(reward).shape == (n,)
    for flags in (terminated, truncated):
        assert flags.shape == (n,) and flags.dtype == np.bool_
    vec.close()
    single.close()


# ---------------------------------------------------------------- keyword arguments


@pytest.mark.parametrize("env_id", IDS)
def test_keyword_arguments_reach_the_validated_config(env_id: str) -> None:
    good = data_for(env_id).good
    env = gym.make(env_id, **good)
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **good)
    for obj in (env.unwrapped, vec):
        for field, value in good.items():
            assert getattr(obj.config, field) == value
    default = gym.make(env_id).unwrapped.config
    for field, value in good.items():
        assert getattr(default, field) != value, "PER_ID.good must differ from the default"


@pytest.mark.parametrize("env_id", IDS)
def test_bad_keyword_arguments_raise_config_error(env_id: str) -> None:
    field, value = data_for(env_id).bad
    with pytest.raises(ConfigError) as err:
        gym.make(env_id, **{field: value})
    assert f"{field}={value!r}" in str(err.value)
    with pytest.raises(ConfigError) as err:
        gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **{field: value})
    assert f"{field}={value!r}" in str(err.value)
    with pytest.raises(ConfigError, match="no_such_option"):
        gym.make(env_id, no_such_option=1)
    with pytest.raises(ConfigError, match="no_such_option"):
        gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", no_such_option=1)
