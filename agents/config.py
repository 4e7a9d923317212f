"""``AgentConfig``: what to train, on which env, with which hyperparameters (YAML, validated).

One YAML file per algorithm and env, shipped in ``mm_gym/configs/agents/``
(rl-baselines3-zoo style)::

    algo: ppo
    env_id: MarketMaking-v0
    env: {session_s: 900}            # EnvConfig (or ASConfig) overrides
    n_envs: 256
    total_timesteps: 2_000_000
    policy_kwargs: {net_arch: [64, 64], activation_fn: tanh}
    hyperparameters: {n_steps: 64, batch_size: 4096, learning_rate: lin_3e-4}
    normalize: {obs: true, reward: true}

``hyperparameters`` go to the SB3 constructor and are checked against its signature; values
``lin_<x>`` for ``learning_rate`` / ``clip_range`` are linear schedules from ``x`` to 0.
``train_env`` overrides the env of the training markets only, on top of ``env``: e.g.
``{reward_carry: expected}``, a training reward that reads hidden state; the evaluation
callback, ``evaluate`` and ``compare`` always play ``env``.
``privileged_critic: true`` (PPO/A2C, with ``env.expose_regime: true``): an asymmetric
actor-critic, the critic reads the true regime and the actor does not (``agents.asymmetric``).
``bootstrap_time_limit: false`` makes the end of an episode terminal for the algorithm (no
bootstrap from the value of its last observation): for envs whose observation carries the
time left, such as AvellanedaStoikov-v0, where that value is 0 by definition.
Seeds (``mm_gym.evaluation.seeds``): training markets are spawned from ``seed`` (no two runs share a
market), the evaluation callback plays ``EVAL_SEED_BASE + i``, evaluate/compare the
development, final or replication family: none of them overlap.
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from mm_gym.config import Config, check_bool, check_choice, check_range, deep_merge
from mm_gym.envs.registration import env_entry
from mm_gym.errors import ConfigError
from mm_gym.evaluation.seeds import MAX_RUN_SEED

ALGOS = ("ppo", "sac", "td3", "a2c", "recurrent_ppo")
ON_POLICY = ("ppo", "a2c", "recurrent_ppo")
OFF_POLICY = ("sac", "td3")
ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu", "gelu", "silu", "selu")
ACTION_NOISES = ("normal", "ornstein_uhlenbeck")


# constructor arguments the runner sets itself (or that YAML cannot express)
RESERVED = {
    "self": "",
    "policy": "use the top-level 'policy'",
    "env": "the runner builds the env",
    "policy_kwargs": "use the top-level 'policy_kwargs'",
    "seed": "use the top-level 'seed'",
    "device": "use the top-level 'device'",
    "verbose": "the runner sets it",
    "tensorboard_log": "the run folder holds it",
    "_init_setup_model": "",
    "action_noise": "use the top-level 'action_noise' and 'action_noise_std'",
    "replay_buffer_class": "not settable from YAML",
    "rollout_buffer_class": "not settable from YAML",
}
POLICY_RESERVED = ("self", "observation_space", "action_space", "lr_schedule")
SCHEDULABLE = ("learning_rate", "clip_range", "clip_range_vf")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


def algo_class(algo: str) -> type:
    """The SB3 (or sb3-contrib) class of an algorithm name."""
    check_choice("algo", algo, ALGOS)
    if algo == "recurrent_ppo":
        from sb3_contrib import RecurrentPPO

        return RecurrentPPO
    import stable_baselines3 as sb3

    return {"ppo": sb3.PPO, "sac": sb3.SAC, "td3": sb3.TD3, "a2c": sb3.A2C}[algo]


def activation(name: str) -> type:
    """torch activation class by name."""
    from torch import nn

    table = {
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "elu": nn.ELU,
        "leaky_relu": nn.LeakyReLU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "selu": nn.SELU,
    }
    check_choice("policy_kwargs.activation_fn", name, ACTIVATIONS)
    return table[name]


def linear_schedule(start: float) -> Callable[[float], float]:
    """``progress_remaining`` (1 -> 0) times ``start``."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start

    return schedule


@dataclasses.dataclass(frozen=True)
class NormalizeConfig(Config):
    """``VecNormalize`` settings; ``gamma`` defaults to the algorithm's discount."""

    obs: bool = True
    reward: bool = True
    clip_obs: float = 10.0
    clip_reward: float = 10.0
    gamma: float | None = None

    def validate(self) -> None:
        check_bool("normalize.obs", self.obs)
        check_bool("normalize.reward", self.reward)
        check_range("normalize.clip_obs", self.clip_obs, 0.0, None, low_open=True)
        check_range("normalize.clip_reward", self.clip_reward, 0.0, None, low_open=True)
        if self.gamma is not None:
            check_range("normalize.gamma", self.gamma, 0.0, 1.0, low_open=True)

    @property
    def enabled(self) -> bool:
        return self.obs or self.reward


@dataclasses.dataclass(frozen=True)
class AgentConfig(Config):
    """An SB3 agent on an mm_gym env; see the module docstring."""

    algo: str = "ppo"
    env_id: str = "MarketMaking-v0"
    env: dict = dataclasses.field(default_factory=dict)
    train_env: dict = dataclasses.field(default_factory=dict)
    n_envs: int = 64
    total_timesteps: int = 1_000_000
    seed: int = 0
    policy: str | None = None
    policy_kwargs: dict = dataclasses.field(default_factory=dict)
    hyperparameters: dict = dataclasses.field(default_factory=dict)
    normalize: NormalizeConfig = dataclasses.field(default_factory=NormalizeConfig)
    action_noise: str | None = None
    action_noise_std: float = 0.1
    eval_freq: int = 0
    eval_episodes: int = 8
    checkpoint_freq: int = 0
    keep_checkpoints: int = 2
    device: str = "cpu"
    torch_threads: int = 1
    env_threads: int | None = None
    bootstrap_time_limit: bool = True
    privileged_critic: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.normalize, bool):
            flag = self.normalize
            object.__setattr__(self, "normalize", NormalizeConfig(obs=flag, reward=flag))
        for name in ("env", "train_env", "policy_kwargs", "hyperparameters"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, {})
            elif not isinstance(value, Mapping):
                raise ConfigError(f"{name}={value!r}: expected a mapping")
            else:
                object.__setattr__(self, name, dict(value))
        hp = dict(self.hyperparameters)
        for key, value in hp.items():  # YAML reads 3e-4 as a string: take it as the number
            if isinstance(value, str) and _FLOAT_RE.match(value):
                hp[key] = float(value)
        object.__setattr__(self, "hyperparameters", hp)
        if self.policy is None and self.algo in ALGOS:
            default = "MlpLstmPolicy" if self.algo == "recurrent_ppo" else "MlpPolicy"
            object.__setattr__(self, "policy", default)
        if isinstance(self.env_id, str) and self.env_id.startswith("mm_gym/"):
            object.__setattr__(self, "env_id", env_entry(self.env_id).short)
        super().__post_init__()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        check_choice("algo", self.algo, ALGOS)
        if not isinstance(self.env_id, str):
            raise ConfigError(f"env_id={self.env_id!r}: expected a string")
        env_entry(self.env_id)
        self.env_config()
        self.train_env_config()
        _check_int("n_envs", self.n_envs, 1, 65_536)
        _check_int("total_timesteps", self.total_timesteps, 1, 10**12)
        _check_int("seed", self.seed, 0, MAX_RUN_SEED)
        _check_int("eval_freq", self.eval_freq, 0, 10**12)
        if self.eval_freq and env_entry(self.env_id).engine == "multi_maker":
            raise ConfigError(
                f"eval_freq={self.eval_freq}: {self.env_id} has no held-out evaluation during "
                "training (mm-gym compare scores its runs); set 0"
            )
        _check_int("eval_episodes", self.eval_episodes, 1, 100_000)
        _check_int("checkpoint_freq", self.checkpoint_freq, 0, 10**12)
        _check_int("keep_checkpoints", self.keep_checkpoints, 1, 1000)
        _check_int("torch_threads", self.torch_threads, 0, 1024)
        if self.env_threads is not None:
            _check_int("env_threads", self.env_threads, 1, 1024)
        check_bool("bootstrap_time_limit", self.bootstrap_time_limit)
        self._validate_privileged_critic()
        check_choice("device", self.device, ("cpu", "cuda", "auto"))
        if self.action_noise is not None:
            check_choice("action_noise", self.action_noise, ACTION_NOISES)
            if self.algo not in OFF_POLICY:
                raise ConfigError(
                    f"action_noise={self.action_noise!r}: only for off-policy algorithms "
                    f"({', '.join(OFF_POLICY)}), not {self.algo!r}"
                )
        check_range("action_noise_std", self.action_noise_std, 0.0, 10.0)
        self._validate_policy()
        self._validate_hyperparameters()

    def _validate_privileged_critic(self) -> None:
        check_bool("privileged_critic", self.privileged_critic)
        if not self.privileged_critic:
            return
        if self.algo not in ("ppo", "a2c") or self.policy != "MlpPolicy":
            raise ConfigError(
                f"privileged_critic=True: needs algo 'ppo' or 'a2c' with policy 'MlpPolicy', "
                f"not {self.algo!r} with {self.policy!r}"
            )
        if not getattr(self.env_config(), "expose_regime", False):
            raise ConfigError(
                "privileged_critic=True: needs env.expose_regime: true (the regime columns "
                "that the critic reads and the actor does not)"
            )

    def _validate_policy(self) -> None:
        cls = algo_class(self.algo)
        aliases = getattr(cls, "policy_aliases", {})
        check_choice("policy", self.policy, tuple(aliases))
        allowed = [
            p
            for p in inspect.signature(aliases[self.policy].__init__).parameters
            if p not in POLICY_RESERVED
        ]
        for key, value in self.policy_kwargs.items():
            if key not in allowed:
                raise ConfigError(
                    f"policy_kwargs.{key}: unknown key for {self.policy} of {self.algo}; "
                    f"allowed keys are {', '.join(sorted(allowed))}"
                )
            if key == "activation_fn":
                check_choice("policy_kwargs.activation_fn", value, ACTIVATIONS)
            elif key == "net_arch":
                _check_net_arch(value)
            elif key == "log_std_init" and isinstance(value, list):
                self._check_log_std_list(value)
            elif key in ("features_extractor_class", "optimizer_class"):
                raise ConfigError(f"policy_kwargs.{key}: not settable from YAML")

    def _check_log_std_list(self, value: list) -> None:
        """A list of log standard deviations, one per action dimension (checked against the
        env's action space when the model is built): on-policy algorithms only."""
        if not self.on_policy:
            raise ConfigError(
                f"policy_kwargs.log_std_init={value!r}: a list (one per action dimension) "
                f"needs an on-policy algorithm ({', '.join(ON_POLICY)}); {self.algo} takes one "
                "number"
            )
        for k, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ConfigError(f"policy_kwargs.log_std_init[{k}]={v!r}: expected a number")
            check_range(f"policy_kwargs.log_std_init[{k}]", float(v), -20.0, 2.0)

    def _validate_hyperparameters(self) -> None:
        cls = algo_class(self.algo)
        params = inspect.signature(cls.__init__).parameters
        for key, value in self.hyperparameters.items():
            name = f"hyperparameters.{key}"
            if key in RESERVED:
                why = RESERVED[key] or "set by the runner"
                raise ConfigError(f"{name}: not allowed here ({why})")
            if key not in params:
                allowed = sorted(p for p in params if p not in RESERVED)
                raise ConfigError(
                    f"{name}: unknown hyperparameter for {self.algo}; allowed keys are "
                    f"{', '.join(allowed)}"
                )
            _check_hyperparameter(name, key, value)
        hp = self.hyperparameters
        if self.algo in ("ppo", "recurrent_ppo"):
            n_steps = hp.get("n_steps", params["n_steps"].default)
            batch = hp.get("batch_size", params["batch_size"].default)
            if n_steps * self.n_envs < 2:
                raise ConfigError(
                    f"hyperparameters.n_steps={n_steps!r}: n_steps * n_envs must be at least 2"
                )
            if batch > n_steps * self.n_envs:
                raise ConfigError(
                    f"hyperparameters.batch_size={batch!r}: allowed range is "
                    f"[2, n_steps * n_envs = {n_steps * self.n_envs}]"
                )

    # ------------------------------------------------------------------ derived objects
    def env_config(self) -> Any:
        """The env's own config object (``EnvConfig`` or ``ASConfig``) from ``env``."""
        return self._env_from(self.env, "env.")

    def train_env_config(self) -> Any:
        """The env config of the training markets: ``env`` with ``train_env`` merged in."""
        if not self.train_env:
            return self.env_config()
        return self._env_from(deep_merge(self.env, self.train_env), "train_env.")

    def _env_from(self, overrides: Mapping[str, Any], prefix: str) -> Any:
        return env_entry(self.env_id).config_type().from_dict(overrides, prefix=prefix)

    def with_env(self, extra: Mapping[str, Any]) -> AgentConfig:
        """A copy whose env overrides have ``extra`` merged in."""
        return self.replace(env=deep_merge(self.env, extra))

    def resolved(self) -> AgentConfig:
        """A copy whose ``env`` holds the full env config (every field written down)."""
        return self.replace(env=self.env_config().to_dict())

    @property
    def on_policy(self) -> bool:
        return self.algo in ON_POLICY

    @property
    def gamma(self) -> float:
        params = inspect.signature(algo_class(self.algo).__init__).parameters
        return float(self.hyperparameters.get("gamma", params["gamma"].default))

    def sb3_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the SB3 constructor (besides policy, env, seed, logging)."""
        kwargs: dict[str, Any] = {}
        for key, value in self.hyperparameters.items():
            if key in SCHEDULABLE and isinstance(value, str):
                value = linear_schedule(float(value[4:]))
            elif key == "train_freq" and isinstance(value, list):
                value = tuple(value)
            kwargs[key] = value
        policy_kwargs = dict(self.policy_kwargs)
        if "activation_fn" in policy_kwargs:
            policy_kwargs["activation_fn"] = activation(policy_kwargs["activation_fn"])
        if isinstance(policy_kwargs.get("net_arch"), Mapping):
            policy_kwargs["net_arch"] = dict(policy_kwargs["net_arch"])
        if isinstance(policy_kwargs.get("log_std_init"), list):
            del policy_kwargs["log_std_init"]  # set per dimension once built: log_std_per_dim
        kwargs["policy_kwargs"] = policy_kwargs
        return kwargs

    @property
    def log_std_per_dim(self) -> list[float] | None:
        """``policy_kwargs.log_std_init`` when it is a list: the initial log standard
        deviation of each action dimension (None: one number, or the algorithm's default)."""
        value = self.policy_kwargs.get("log_std_init")
        return [float(v) for v in value] if isinstance(value, list) else None

    def make_action_noise(self, action_dim: int) -> Any:
        """The off-policy exploration noise object (or None)."""
        if self.action_noise is None:
            return None
        import numpy as np
        from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

        mean = np.zeros(action_dim)
        sigma = np.full(action_dim, self.action_noise_std)
        if self.action_noise == "normal":
            return NormalActionNoise(mean, sigma)
        return OrnsteinUhlenbeckActionNoise(mean, sigma)


# ---------------------------------------------------------------------- value checks
_POSITIVE = (
    "learning_rate",
    "clip_range",
    "clip_range_vf",
    "max_grad_norm",
    "target_kl",
    "rms_prop_eps",
)
_NON_NEGATIVE = ("ent_coef", "vf_coef", "target_policy_noise", "target_noise_clip")
_UNIT = ("gamma", "tau")
_UNIT_CLOSED = ("gae_lambda",)
_INT_MIN = {
    "n_steps": 1,
    "batch_size": 2,
    "n_epochs": 1,
    "buffer_size": 1,
    "learning_starts": 0,
    "policy_delay": 1,
    "target_update_interval": 1,
    "stats_window_size": 1,
    "sde_sample_freq": -1,
    "gradient_steps": -1,
}
_BOOLS = (
    "normalize_advantage",
    "use_sde",
    "use_sde_at_warmup",
    "optimize_memory_usage",
    "use_rms_prop",
)


def _check_hyperparameter(name: str, key: str, value: Any) -> None:
    if key in SCHEDULABLE and isinstance(value, str):
        try:
            start = float(value[4:]) if value.startswith("lin_") else None
        except ValueError:
            start = None
        if start is None or not start > 0:
            raise ConfigError(f"{name}={value!r}: expected a positive number or 'lin_<number>'")
        return
    if key in ("target_kl", "clip_range_vf") and value is None:
        return
    if key == "ent_coef" and isinstance(value, str):
        if value == "auto" or value.startswith("auto_"):
            return
        raise ConfigError(f"{name}={value!r}: expected a number >= 0, 'auto' or 'auto_<number>'")
    if key == "target_entropy" and value == "auto":
        return
    if key == "train_freq":
        if isinstance(value, list | tuple):
            ok = (
                len(value) == 2
                and _is_int(value[0])
                and value[0] >= 1
                and value[1] in ("step", "episode")
            )
            if not ok:
                raise ConfigError(f"{name}={value!r}: expected N or [N, 'step' | 'episode']")
            return
        _check_int(name, value, 1, 10**9)
        return
    if key in _POSITIVE:
        check_range(name, value, 0.0, None, low_open=True)
    elif key in _NON_NEGATIVE:
        check_range(name, value, 0.0, None)
    elif key in _UNIT:
        check_range(name, value, 0.0, 1.0, low_open=True)
    elif key in _UNIT_CLOSED:
        check_range(name, value, 0.0, 1.0)
    elif key in _INT_MIN:
        _check_int(name, value, _INT_MIN[key], 10**12)
    elif key in _BOOLS:
        check_bool(name, value)
    elif not isinstance(value, str | bool | numbers.Number | list | dict | type(None)):
        raise ConfigError(f"{name}={value!r}: expected a YAML scalar, list or mapping")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if not _is_int(value):
        raise ConfigError(f"{name}={value!r}: expected an integer in [{low}, {high}]")
    check_range(name, value, low, high)


def _check_net_arch(value: Any) -> None:
    def layers(v: Any, where: str) -> None:
        if not isinstance(v, list) or not all(_is_int(x) and x >= 1 for x in v):
            raise ConfigError(f"{where}={v!r}: expected a list of positive layer sizes")

    if isinstance(value, Mapping):
        for key, v in value.items():
            if key not in ("pi", "vf", "qf"):
                raise ConfigError(
                    f"policy_kwargs.net_arch.{key}: unknown key; allowed keys are pi, qf, vf"
                )
            layers(v, f"policy_kwargs.net_arch.{key}")
    else:
        layers(value, "policy_kwargs.net_arch")
