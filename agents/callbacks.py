"""Training callbacks: market metrics to TensorBoard, atomic checkpoints, held-out evaluation.

- ``MarketMetricsCallback`` reads the adapter's batch info arrays (no per-env dicts) and logs
  under ``market/``: equity, |inventory|, fills per minute, spread captured, fees, markouts,
  the quoting parameters chosen and the mean raw reward per step in each true regime.
- ``CheckpointCallback`` writes ``checkpoints/step_<N>/`` at the start of a rollout (all data
  so far trained on, nothing half-collected): VecNormalize statistics, the replay buffer
  (off-policy), then the model, each through a temporary file and ``os.replace``; the model is
  written last, so a folder with ``model.zip`` is complete. It also checkpoints at the end.
- ``HeldOutEvalCallback`` runs the deterministic policy on held-out seeds
  (``EVAL_SEED_BASE + i``) through the evaluation code, logs ``eval/``, appends to
  ``eval_log.csv`` and keeps ``best_model.zip`` (+ ``best_vecnormalize.pkl``).
"""

from __future__ import annotations

import copy
import csv
import math
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize

from mm_gym.evaluation.rollout import run_policy
from mm_gym.evaluation.seeds import EVAL_SEED_BASE
from mm_gym_agents.config import AgentConfig
from mm_gym_agents.policy import AgentPolicy
from mm_gym_agents.run_dir import (
    RunDir,
    atomic_write,
    save_model,
    save_replay_buffer,
    save_vecnormalize,
)
from mm_gym_agents.vec_env import MarketVecEnv

__all__ = [
    "CheckpointCallback",
    "HeldOutEvalCallback",
    "MarketMetricsCallback",
    "find_vecnormalize",
    "resume_state",
]

REGIME_NAMES = ("ranging", "trending_up", "trending_down", "high_vol", "news")


def find_vecnormalize(env: VecEnv | None) -> VecNormalize | None:
    """The ``VecNormalize`` in a wrapper chain, if any."""
    while env is not None:
        if isinstance(env, VecNormalize):
            return env
        env = env.venv if isinstance(env, VecEnvWrapper) else None
    return None


class MarketMetricsCallback(BaseCallback):
    """Market metrics from the training env's info arrays, logged under ``market/``."""

    def __init__(self, on_policy: bool, flush_every: int = 0) -> None:
        super().__init__()
        self.on_policy = on_policy
        self.flush_every = flush_every
        self._adapter: MarketVecEnv | None = None
        self._vecnorm: VecNormalize | None = None

    def _on_training_start(self) -> None:
        env = self.training_env.unwrapped if self.training_env is not None else None
        self._adapter = env if isinstance(env, MarketVecEnv) else None
        self._vecnorm = find_vecnormalize(self.training_env)
        if self._adapter is not None:
            self._dt = _step_seconds(self._adapter.config)
            self._prev_inv = np.zeros(self._adapter.num_envs)
        self._reset_sums()
        if not self.flush_every:
            self.flush_every = max(1, 2048 // max(1, self.training_env.num_envs))

    def _reset_sums(self) -> None:
        self._steps = 0
        self._sum: dict[str, float] = {}
        self._ends: dict[str, list[float]] = {}
        self._reg_reward = np.zeros(len(REGIME_NAMES))
        self._reg_count = np.zeros(len(REGIME_NAMES))

    def _add(self, key: str, value: float) -> None:
        self._sum[key] = self._sum.get(key, 0.0) + value

    def _on_step(self) -> bool:
        ad = self._adapter
        if ad is None or not ad.batch_info:
            return True
        info, done = ad.batch_info, ad.batch_done
        if self._vecnorm is not None:
            reward = np.asarray(self._vecnorm.get_original_reward(), dtype=np.float64)
        else:
            reward = np.asarray(self.locals.get("rewards", np.zeros(ad.num_envs)), np.float64)
        inv = np.asarray(info["inventory"], dtype=np.float64)
        equity = info["equity"] if "equity" in info else info["cash"] + inv * info["mid"]
        self._steps += 1
        self._add("reward", float(reward.mean()))
        self._add("equity", float(np.mean(equity)))
        self._add("inventory_abs", float(np.abs(inv).mean()))
        if "fills" in info:
            fills = np.asarray(info["fills"], dtype=np.float64)
        else:
            fills = np.abs(inv - self._prev_inv)
        self._add("fills", float(fills.mean()))
        for key in ("spread_multiplier", "inventory_skew", "size_fraction"):
            if key in info:
                self._add(key, float(np.mean(info[key])))
        if "regime_id" in info:
            reg = np.asarray(info["regime_id"], dtype=np.int64)
            ok = (reg >= 0) & (reg < len(REGIME_NAMES))
            np.add.at(self._reg_reward, reg[ok], reward[ok])
            np.add.at(self._reg_count, reg[ok], 1)
        if done.any():
            self._end("episode_pnl", equity[done])
            for key in ("spread_captured", "fees", "markout_1s", "markout_10s", "markout_60s"):
                if key in info:
                    self._end(key, np.asarray(info[key], dtype=np.float64)[done])
        self._prev_inv = np.where(done, 0.0, inv)
        if not self.on_policy and self._steps >= self.flush_every:
            self._flush()
        return True

    def _end(self, key: str, values: np.ndarray) -> None:
        self._ends.setdefault(key, []).extend(values.tolist())

    def _on_rollout_end(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self._adapter is None or self._steps == 0:
            return
        k = self._steps
        rec = self.logger.record
        rec("market/reward_per_step", self._sum["reward"] / k)
        rec("market/equity", self._sum["equity"] / k)
        rec("market/inventory_abs", self._sum["inventory_abs"] / k)
        rec("market/fills_per_minute", self._sum["fills"] / k * 60.0 / self._dt)
        for key in ("spread_multiplier", "inventory_skew", "size_fraction"):
            if key in self._sum:
                rec(f"market/{key}", self._sum[key] / k)
        for key, values in self._ends.items():
            finite = [v for v in values if math.isfinite(v)]
            if finite:
                rec(f"market/{key}", float(np.mean(finite)))
        for r, name in enumerate(REGIME_NAMES):
            if self._reg_count[r] > 0:
                rec(f"market/reward_{name}", self._reg_reward[r] / self._reg_count[r])
        self._reset_sums()


def _step_seconds(env_config: Any) -> float:
    if hasattr(env_config, "decision_interval_ms"):
        return env_config.decision_interval_ms / 1000.0
    return float(env_config.dt)


class CheckpointCallback(BaseCallback):
    """Periodic, atomic, complete checkpoints in ``run/checkpoints/step_<N>/``."""

    def __init__(self, run: RunDir, freq: int, keep: int = 2, save_replay: bool = False) -> None:
        super().__init__()
        self.run = run
        self.freq = freq
        self.keep = keep
        self.save_replay = save_replay
        self._next = 0
        self._last_saved = -1

    def _on_training_start(self) -> None:
        n = self.model.num_timesteps
        self._next = (n // self.freq + 1) * self.freq if self.freq > 0 else math.inf
        self._last_saved = n

    def _on_rollout_start(self) -> None:
        if self.model.num_timesteps >= self._next:
            self.save()
            n = self.model.num_timesteps
            self._next = (n // self.freq + 1) * self.freq

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self.model.num_timesteps != self._last_saved:
            self.save()

    def save(self) -> None:
        """Write one complete checkpoint for the current step count, then prune old ones."""
        n = self.model.num_timesteps
        folder = self.run.checkpoint_dir(n)
        folder.mkdir(parents=True, exist_ok=True)
        vecnorm = find_vecnormalize(self.model.get_env())
        if vecnorm is not None:
            save_vecnormalize(vecnorm, folder / "vecnormalize.pkl")
        state = resume_state(self.model)
        atomic_write(
            folder / "resume_state.pkl",
            lambda tmp: Path(tmp).write_bytes(pickle.dumps(state)),
            suffix=".pkl",
        )
        if self.save_replay and getattr(self.model, "replay_buffer", None) is not None:
            save_replay_buffer(self.model, folder / "replay_buffer.pkl")
        save_model(self.model, folder / "model.zip")
        self._last_saved = n
        self.run.prune_checkpoints(self.keep)
        if self.verbose:
            print(f"checkpoint: {folder}")


def resume_state(model: Any) -> dict[str, Any]:
    """What SB3 does not save but an exact continuation needs: where the markets stand, the
    last observations' episode starts, VecNormalize's running returns, LSTM states and the
    Python, NumPy and torch generators."""
    import random

    import torch

    env = model.get_env()
    adapter = env.unwrapped if env is not None else None
    vecnorm = find_vecnormalize(env)
    return {
        "num_timesteps": int(model.num_timesteps),
        "env": adapter.get_state() if isinstance(adapter, MarketVecEnv) else None,
        "returns": None if vecnorm is None else np.array(vecnorm.returns, copy=True),
        "last_episode_starts": copy.deepcopy(getattr(model, "_last_episode_starts", None)),
        "lstm_states": copy.deepcopy(getattr(model, "_last_lstm_states", None)),
        "rng": {
            "python": random.getstate(),
            "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
        },
    }


class HeldOutEvalCallback(BaseCallback):
    """Evaluate on held-out seeds every ``freq`` timesteps; keep the best model."""

    def __init__(self, run: RunDir, config: AgentConfig, freq: int, episodes: int) -> None:
        super().__init__()
        self.run = run
        self.config = config
        self.freq = freq
        self.seeds = [EVAL_SEED_BASE + i for i in range(episodes)]
        self.env_config = config.env_config()
        self.best = -math.inf
        self._next = math.inf
        self.log_path = run.path / "eval_log.csv"

    def _on_training_start(self) -> None:
        n = self.model.num_timesteps
        self._next = (n // self.freq + 1) * self.freq
        if self.log_path.is_file():  # a resumed run keeps its best so far
            with open(self.log_path) as f:
                returns = [float(r["mean_return"]) for r in csv.DictReader(f)]
            self.best = max(returns, default=-math.inf)

    def _on_step(self) -> bool:
        if self.model.num_timesteps >= self._next:
            self._next = (self.model.num_timesteps // self.freq + 1) * self.freq
            self.evaluate()
        return True

    def evaluate(self) -> float:
        """One deterministic episode per held-out seed; returns the mean episode return."""
        start = time.perf_counter()
        vecnorm = find_vecnormalize(self.model.get_env())
        policy = AgentPolicy(self.model, vecnorm)
        res = run_policy(self.config.env_id, self.env_config, policy, self.seeds)
        ep = res.episodes
        mean_return = float(ep["episode_return"].mean())
        row = {
            "timesteps": self.model.num_timesteps,
            "mean_return": mean_return,
            "std_return": float(ep["episode_return"].std(ddof=1)) if len(ep) > 1 else 0.0,
            "mean_pnl": float(ep["pnl"].mean()),
            "mean_sharpe": float(ep["sharpe"].mean()),
        }
        for key, value in row.items():
            if key != "timesteps":
                self.logger.record(f"eval/{key}", value)
        new_file = not self.log_path.is_file()
        with open(self.log_path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)
        if mean_return > self.best:
            self.best = mean_return
            if vecnorm is not None:
                save_vecnormalize(vecnorm, self.run.vecnormalize_path("best"))
            save_model(self.model, self.run.model_path("best"))
            self.logger.record("eval/best_return", mean_return)
        self.logger.record("eval/seconds", time.perf_counter() - start)
        return mean_return
