"""Trained agents as policies on raw observations: an SB3 model plus its normalisation stats.

A model trained under ``VecNormalize`` saw normalised observations; ``AgentPolicy.predict``
applies the saved statistics (frozen: ``training=False``; rewards are never normalised here),
so the agent runs through the same evaluation code as the rule baseline.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from mm_gym.errors import ConfigError, RunError
from mm_gym_agents.config import AgentConfig, algo_class
from mm_gym_agents.run_dir import RunDir, check_model_file, loading

__all__ = ["AgentPolicy", "load_model", "load_policy", "load_vecnormalize"]

MODEL_CHOICES = ("final", "best")


class AgentPolicy:
    """``predict(raw obs)`` of an SB3 model, with its ``VecNormalize`` statistics applied."""

    def __init__(self, model: Any, vecnormalize: Any = None) -> None:
        self.model = model
        self.obs_rms = None
        state = vars(vecnormalize) if vecnormalize is not None else {}
        if state.get("norm_obs", False) and "obs_rms" in state:
            self.obs_rms = copy.deepcopy(vecnormalize.obs_rms)  # frozen: training=False
            self.clip_obs = float(vecnormalize.clip_obs)
            self.epsilon = float(vecnormalize.epsilon)

    def normalize(self, observation: np.ndarray) -> np.ndarray:
        """The observation as the model saw it in training."""
        obs = np.asarray(observation, dtype=np.float32)
        if self.obs_rms is None:
            return obs
        out = (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.epsilon)
        return np.clip(out, -self.clip_obs, self.clip_obs).astype(np.float32)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        """Stable-Baselines3 signature on raw observations."""
        obs = self.normalize(observation)
        return self.model.predict(
            obs, state=state, episode_start=episode_start, deterministic=deterministic
        )


def load_vecnormalize(path: str | Path) -> Any:
    """A saved ``VecNormalize`` (without its venv), frozen for evaluation."""
    p = Path(path)
    if not p.is_file():
        raise RunError(f"normalisation statistics {str(p)!r}: no such file")
    with loading(p, "normalisation statistics"), open(p, "rb") as f:
        vecnorm = pickle.load(f)
    from stable_baselines3.common.vec_env import VecNormalize

    # an unpickled VecNormalize has no venv: look into __dict__, never hasattr/getattr
    if not isinstance(vecnorm, VecNormalize) or "norm_obs" not in vars(vecnorm):
        raise RunError(f"normalisation statistics {str(p)!r}: not a VecNormalize file")
    vecnorm.training = False
    vecnorm.norm_reward = False
    return vecnorm


def load_model(
    config: AgentConfig,
    path: str | Path,
    env: Any = None,
    device: str = "cpu",
    for_training: bool = False,
) -> Any:
    """Load an SB3 zip; RunError naming the file when it is missing, truncated or corrupt."""
    p = check_model_file(path)
    cls = algo_class(config.algo)
    custom: dict[str, Any] = {}
    if not for_training:  # schedules are not needed to act; avoid unpickling them
        custom = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}
    with loading(p, "model"):
        model = cls.load(p, env=env, device=device, custom_objects=custom)
    return model


def load_policy(run: RunDir, which: str = "final", device: str = "cpu") -> AgentPolicy:
    """The run's final (or best) model with the matching normalisation statistics."""
    if which not in MODEL_CHOICES:
        raise ConfigError(f"model={which!r}: allowed values are {', '.join(MODEL_CHOICES)}")
    config = run.config()
    model_path = run.model_path(which)
    if which == "final" and not model_path.exists():
        latest = run.latest_checkpoint()
        if latest is not None:  # an interrupted run: its last checkpoint
            model_path = latest[1] / "model.zip"
            model = load_model(config, model_path, device=device)
            vn_path = latest[1] / "vecnormalize.pkl"
            vecnorm = load_vecnormalize(vn_path) if config.normalize.enabled else None
            return AgentPolicy(model, vecnorm)
    if which == "best" and not model_path.exists():
        if config.eval_freq == 0 or config.eval_freq > config.total_timesteps:
            why = (
                f"eval_freq={config.eval_freq} with {config.total_timesteps} steps never evaluates"
            )
        else:
            why = "no held-out evaluation has written one yet"
        raise RunError(f"run {str(run.path)!r} has no best model ({why}); use --model final")
    model = load_model(config, model_path, device=device)
    vecnorm = None
    if config.normalize.enabled:
        vecnorm = load_vecnormalize(run.vecnormalize_path(which))
    return AgentPolicy(model, vecnorm)
