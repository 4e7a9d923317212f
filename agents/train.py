"""Train an SB3 agent on a batched mm_gym env into a run folder; resume from its checkpoints.

``train(config, ...)`` builds ``MarketVecEnv`` (N markets, one process) under ``VecMonitor``
and ``VecNormalize``, the model from ``AgentConfig``, and learns with the market-metrics,
checkpoint and held-out evaluation callbacks. ``resume=True`` reopens the run, loads the
latest checkpoint (model with its optimiser state and step counter, VecNormalize statistics,
replay buffer) and continues with ``reset_num_timesteps=False`` up to ``total_timesteps``.
``train_seeds`` trains (or resumes) one run per training seed, ``<name>_seed<k>``, several
side by side in processes with ``workers``.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mm_gym.errors import ConfigError, RunError, first_line
from mm_gym.evaluation.seeds import training_market_seeds
from mm_gym_agents.config import AgentConfig, algo_class
from mm_gym_agents.run_dir import (
    COMPLETE,
    INCOMPLETE,
    RUNNING,
    RunDir,
    check_run_name,
    loading,
    save_model,
    save_vecnormalize,
)
from mm_gym_agents.vec_env import MarketVecEnv, make_native_vec_env
from mm_gym_agents.workers import check_workers, process_pool

__all__ = [
    "RunsFailed",
    "TrainResult",
    "budget_warnings",
    "build_env",
    "progress_bar_available",
    "seed_everything",
    "train",
    "train_seeds",
]


@dataclasses.dataclass
class TrainResult:
    """What a training session did."""

    run: RunDir
    num_timesteps: int
    started_at: int
    seconds: float
    model: Any = None

    @property
    def steps_per_second(self) -> float:
        return (self.num_timesteps - self.started_at) / max(self.seconds, 1e-9)


def seed_everything(seed: int, torch_threads: int = 0) -> None:
    """Python, NumPy and torch generators (SB3's ``set_random_seed``) and torch's threads."""
    import torch
    from stable_baselines3.common.utils import set_random_seed

    if torch_threads:
        torch.set_num_threads(torch_threads)
    torch.manual_seed(seed)
    set_random_seed(seed)


def build_env(config: AgentConfig, vecnormalize_path: Path | None = None) -> Any:
    """``MarketVecEnv`` -> ``VecMonitor`` -> ``VecNormalize`` (fresh, or loaded to continue).
    The markets are spawned from the run's seed
    (``mm_gym.evaluation.seeds.training_market_seeds``)."""
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    native = make_native_vec_env(
        config.env_id, config.n_envs, config.train_env_config(), threads=config.env_threads
    )
    n = config.n_envs
    adapter = MarketVecEnv(
        native, config.bootstrap_time_limit, market_seeds=lambda s: training_market_seeds(s, n)
    )
    env: Any = VecMonitor(adapter)
    norm = config.normalize
    if vecnormalize_path is not None and vecnormalize_path.is_file():
        with loading(vecnormalize_path, "normalisation statistics"):
            env = VecNormalize.load(str(vecnormalize_path), env)
        env.training = True
    elif norm.enabled:
        gamma = norm.gamma if norm.gamma is not None else config.gamma
        env = VecNormalize(
            env,
            norm_obs=norm.obs,
            norm_reward=norm.reward,
            clip_obs=norm.clip_obs,
            clip_reward=norm.clip_reward,
            gamma=gamma,
        )
    return env


def _check_same_run(config: AgentConfig, stored: AgentConfig, run: RunDir) -> None:
    """ConfigError unless ``config`` is the run's own (the step budget may differ)."""
    given = config.resolved().replace(total_timesteps=stored.total_timesteps).to_dict()
    have = stored.to_dict()
    for key in have:
        if given.get(key) != have.get(key):
            raise ConfigError(
                f"--resume: the given config differs from {str(run.config_path)!r} in "
                f"'{key}'; a run continues with its own config (only --timesteps may change)"
            )


def restore_resume_state(model: Any, env: Any, path: Path, config: AgentConfig) -> bool:
    """Put the markets, the last observations and the generators back as they were at the
    checkpoint (``callbacks.resume_state``). Without the file (or the env's state), the env
    restarts from its training seeds and the generators are reseeded; returns whether the
    continuation is exact."""
    import pickle
    import random

    import numpy as np
    import torch

    from mm_gym_agents.callbacks import find_vecnormalize

    state = None
    if path.is_file():
        with loading(path, "resume state"), open(path, "rb") as f:
            state = pickle.load(f)
    if state is None or state.get("env") is None:
        seed_everything(config.seed + int(model.num_timesteps), config.torch_threads)
        env.seed(config.seed)
        return False
    adapter = env.unwrapped
    obs = adapter.set_state(state["env"])
    vecnorm = find_vecnormalize(env)
    if vecnorm is not None:
        vecnorm.old_obs = obs
        if state["returns"] is not None:
            vecnorm.returns = np.array(state["returns"], copy=True)
        model._last_obs = vecnorm.normalize_obs(obs)
        model._last_original_obs = obs
    else:
        model._last_obs = obs
        model._last_original_obs = obs
    starts = state.get("last_episode_starts")
    if state["env"]["kind"] == "core" or starts is None:  # every episode (re)starts here
        starts = np.ones(adapter.num_envs, dtype=bool)
        if vecnorm is not None:
            vecnorm.returns = np.zeros(adapter.num_envs)
    model._last_episode_starts = starts
    if state.get("lstm_states") is not None and hasattr(model, "_last_lstm_states"):
        model._last_lstm_states = state["lstm_states"]
    rng = state["rng"]
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    return True


def _new_model(config: AgentConfig, env: Any, run: RunDir, verbose: int) -> Any:
    cls = algo_class(config.algo)
    kwargs = config.sb3_kwargs()
    policy: Any = config.policy
    if config.privileged_critic:
        from mm_gym.market.regimes import NUM_LABELS
        from mm_gym_agents.asymmetric import AsymmetricActorCriticPolicy

        policy = AsymmetricActorCriticPolicy
        kwargs["policy_kwargs"]["critic_only_obs"] = NUM_LABELS
    if config.algo in ("sac", "td3"):
        kwargs["action_noise"] = config.make_action_noise(env.action_space.shape[0])
    try:
        model = cls(
            policy,
            env,
            seed=config.seed,
            device=config.device,
            verbose=verbose,
            tensorboard_log=str(run.tensorboard),
            **kwargs,
        )
    except (ValueError, TypeError, AssertionError) as err:
        raise ConfigError(f"{config.algo} hyperparameters: {err}") from None
    _set_log_std(model, config.log_std_per_dim)
    return model


def _set_log_std(model: Any, values: list[float] | None) -> None:
    """Start each action dimension's log standard deviation at ``values`` (None: as built)."""
    if values is None:
        return
    import torch

    log_std = model.policy.log_std  # (action_dim,), or (latent, action_dim) with gSDE
    if len(values) != log_std.shape[-1]:
        raise ConfigError(
            f"policy_kwargs.log_std_init={values!r}: {len(values)} numbers for an action of "
            f"{log_std.shape[-1]} dimensions"
        )
    with torch.no_grad():
        log_std.copy_(torch.tensor(values, dtype=log_std.dtype).expand_as(log_std))


def train(
    config: AgentConfig | None = None,
    *,
    run_name: str | None = None,
    runs_dir: str | Path = "runs",
    resume: bool = False,
    total_timesteps: int | None = None,
    progress_bar: bool = True,
    verbose: int = 0,
    log: Callable[[str], None] = print,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train ``config`` into ``runs_dir/run_name`` (a new folder), or resume that run.

    ``callbacks``: SB3 callbacks run after the run's own (metrics, checkpoints, evaluation).
    """
    runs_dir = Path(runs_dir)
    if resume:
        if run_name is None:
            raise ConfigError("--resume needs --run-name NAME (the run to continue)")
        run = RunDir.open(runs_dir / check_run_name(run_name))
        stored = run.config()
        if config is not None:  # the same command again with --resume: it must match the run
            _check_same_run(config, stored, run)
            if total_timesteps is None:
                total_timesteps = config.total_timesteps
        config = (
            stored if total_timesteps is None else stored.replace(total_timesteps=total_timesteps)
        )
        latest = run.latest_checkpoint()
        ckpt = None
        if latest is None:
            log(f"run {run.path} has no checkpoint: training it again from step 0")
        else:
            ckpt_steps, ckpt = latest
            if ckpt_steps >= config.total_timesteps and run.is_complete:
                log(f"run {run.path}: already at {ckpt_steps} of {config.total_timesteps} steps")
                return TrainResult(run, ckpt_steps, ckpt_steps, 0.0)
        run.write_config(config)
    else:
        if config is None:
            raise ConfigError("train: a config is needed")
        if total_timesteps is not None:
            config = config.replace(total_timesteps=total_timesteps)
        name = check_run_name(run_name) if run_name else RunDir.unique_name(runs_dir, config)
        run = RunDir.create(runs_dir, name, config)
        ckpt = None

    # where it trains: a run on a cluster can be found (and its worker told apart) from here
    run.set_status(
        RUNNING, total_timesteps=config.total_timesteps, host=socket.gethostname(), pid=os.getpid()
    )
    try:
        result = _learn(config, run, ckpt, progress_bar, verbose, log, callbacks)
    except BaseException as err:
        latest = run.latest_checkpoint()
        reason = "interrupted" if isinstance(err, KeyboardInterrupt) else type(err).__name__
        run.set_status(
            INCOMPLETE,
            reason=reason,
            detail=str(err)[:500],
            last_checkpoint=latest[0] if latest else None,
            total_timesteps=config.total_timesteps,
        )
        where = f"step {latest[0]}" if latest else "step 0: no checkpoint yet"
        log(
            f"run {run.path} is incomplete ({reason}); `mm-gym train --resume --run-name "
            f"{run.name} --runs-dir {run.path.parent}` continues it from {where}"
        )
        raise
    run.set_status(
        COMPLETE,
        timesteps=result.num_timesteps,
        seconds=round(result.seconds, 1),
        resumed_from=result.started_at,
    )
    return result


def train_seeds(
    config: AgentConfig | None,
    seeds: Sequence[int],
    *,
    run_name: str | None = None,
    runs_dir: str | Path = "runs",
    resume: bool = False,
    workers: int = 1,
    ray: str | None = None,
    log: Callable[[str], None] = print,
    **kwargs: Any,
) -> list[TrainResult | None]:
    """``train`` once per training seed into ``runs_dir/<run_name>_seed<k>``, the config
    otherwise the same (``run_name`` defaults to ``<algo>_<env>_<time>``); with ``resume``,
    each of those runs continues. ``workers`` > 1 trains that many runs side by side, each in
    its own process (no progress bar); ``ray`` (a cluster's address, or ``auto``) trains each
    run as a Ray task on that cluster instead (``mm_gym_agents.cluster``: ``runs_dir`` must be
    on a filesystem every node mounts). A run that fails is one line and the others go on; at
    the end a ``RunsFailed`` names the failed runs (each is resumable). ``kwargs`` go to
    ``train``. Returns each seed's result (None for a run trained in another process)."""
    if resume and run_name is None:
        raise ConfigError("--resume --seeds needs --run-name NAME (the runs NAME_seed<k>)")
    if config is None and not resume:
        raise ConfigError("train: a config is needed")
    check_workers(workers)
    if ray is not None and workers > 1:
        raise ConfigError("--workers: not with --ray (the cluster's CPUs set how many run at once)")
    base = run_name or RunDir.unique_name(runs_dir, config)
    jobs = [
        {
            "config": config.replace(seed=seed) if config is not None else None,
            "run_name": f"{base}_seed{seed}",
            "runs_dir": str(runs_dir),
            "resume": resume,
            **kwargs,
        }
        for seed in seeds
    ]
    if workers == 1 and ray is None:
        results, failed = _train_here(seeds, jobs, log)
    else:
        results, failed = [None] * len(jobs), _train_elsewhere(jobs, runs_dir, workers, ray, log)
    if failed:
        raise RunsFailed(failed, runs_dir)
    return results


def _train_here(
    seeds: Sequence[int], jobs: list[dict[str, Any]], log: Callable[[str], None]
) -> tuple[list[TrainResult | None], list[str]]:
    """``train_seeds``'s runs one after the other in this process; their results and the
    names of the runs that failed."""
    results: list[TrainResult | None] = []
    failed: list[str] = []
    for seed, job in zip(seeds, jobs, strict=True):
        log(f"training seed {seed} of {', '.join(map(str, seeds))}")
        try:
            results.append(train(log=log, **job))
        except Exception as err:  # one line; the next runs go on
            log(f"run {job['run_name']} failed: {type(err).__name__}: {err}")
            failed.append(job["run_name"])
            results.append(None)
    return results, failed


def _train_elsewhere(
    jobs: list[dict[str, Any]],
    runs_dir: str | Path,
    workers: int,
    ray: str | None,
    log: Callable[[str], None],
) -> list[str]:
    """``train_seeds``'s runs in local processes, or as Ray tasks on the cluster at ``ray``;
    the names of the runs that failed. Interrupted (Ctrl-C), the runs still training on the
    cluster are stopped and marked ``incomplete`` (each resumable)."""
    import concurrent.futures as cf

    jobs = [{**job, "progress_bar": False} for job in jobs]
    if ray is None:
        log(f"training {len(jobs)} runs, {workers} at a time, one process each")
        pool: cf.Executor = process_pool(workers)
    else:
        from mm_gym_agents.cluster import RayPool

        runs_dir = Path(runs_dir).resolve()  # the tasks' working folder is not ours
        jobs = [{**job, "runs_dir": str(runs_dir), "continue_started": True} for job in jobs]
        started = [j for j in jobs if RunDir(runs_dir / j["run_name"]).config_path.exists()]
        if started and not jobs[0]["resume"]:  # a retried task continues its own run only
            raise ConfigError(
                f"--run-name: {', '.join(j['run_name'] for j in started)} already in "
                f"{str(runs_dir)!r}; choose another name, or --resume to continue them"
            )
        config = jobs[0]["config"]
        if config is None and started:  # --resume without --config: the runs' own
            config = RunDir.open(runs_dir / started[0]["run_name"]).config()
        if config is None:
            raise ConfigError("--resume: none of these runs was started; train them with --config")
        pool = RayPool(ray, cpus=task_cpus(config))
    failed: list[str] = []
    with pool:
        if ray is not None:
            pool.check_shared(runs_dir)
            log(
                f"training {len(jobs)} runs on the Ray cluster at {ray} ({pool.workers} at a "
                f"time, {pool.cpus} CPU(s) each), into {str(runs_dir)!r}"
            )
        futures = {pool.submit(_train_in_process, job): job["run_name"] for job in jobs}
        try:
            for future in cf.as_completed(futures):
                name = futures[future]
                error = future.exception()
                if error is None:
                    log(f"run {name}: {future.result()}")
                else:
                    first = first_line(error)
                    log(f"run {name} failed: {type(error).__name__}: {first}")
                    failed.append(name)
                    if ray is not None:  # e.g. its worker died more often than Ray retries
                        mark_incomplete(Path(runs_dir) / name, type(error).__name__, first, log)
        except KeyboardInterrupt:
            if ray is not None:
                pool.shutdown(cancel_futures=True)
                for job in jobs:
                    mark_incomplete(
                        Path(runs_dir) / job["run_name"],
                        "interrupted",
                        "the driver was interrupted and stopped the run's Ray task",
                        log,
                    )
            raise
    return failed


def task_cpus(config: AgentConfig) -> int:
    """CPUs a training run needs: its torch threads or its env threads, whichever is more
    (the two take turns: rollouts, then gradient steps)."""
    return max(1, config.torch_threads, config.env_threads or 1)


def mark_incomplete(path: Path, reason: str, detail: str, log: Callable[[str], None]) -> None:
    """Mark a run still ``running`` (its worker stopped or died without saying so)
    ``incomplete`` with ``reason``; a complete run, or one its worker marked, stays as it is."""
    run = RunDir(path)
    if not run.config_path.exists() or run.status().get("state") != RUNNING:
        return
    latest = run.latest_checkpoint()
    run.set_status(
        INCOMPLETE, reason=reason, detail=detail, last_checkpoint=latest[0] if latest else None
    )
    log(
        f"run {run.path} is incomplete ({reason}); `mm-gym train --resume --run-name "
        f"{run.name} --runs-dir {run.path.parent}` continues it"
    )


class RunsFailed(RunError):
    """Some of several training runs failed (each is left resumable)."""

    def __init__(self, names: Sequence[str], runs_dir: str | Path) -> None:
        self.names = list(names)
        super().__init__(
            f"{len(self.names)} run(s) failed: {', '.join(self.names)}; each continues with "
            f"`mm-gym train --resume --run-name NAME --runs-dir {runs_dir}`"
        )


def _train_in_process(job: dict[str, Any]) -> str:
    """One run of ``train_seeds`` in a worker process or Ray task; a short line of what it
    did. With ``continue_started`` (a Ray task, which Ray runs again when its worker died), a
    run this task already started continues from its last checkpoint."""
    job = dict(job)
    if job.pop("continue_started", False):
        started = RunDir(Path(job["runs_dir"]) / job["run_name"]).config_path.exists()
        if not started and job["config"] is None:
            raise ConfigError(f"run {job['run_name']} was never started: train it with --config")
        job["resume"] = started
    result = train(**job)
    return (
        f"{result.num_timesteps} timesteps in {result.seconds:.0f} s "
        f"({result.steps_per_second:.0f} steps/s)"
    )


def budget_warnings(config: AgentConfig, model: Any, remaining: int) -> list[str]:
    """What the step budget will not do as written: an on-policy algorithm trains whole
    rollouts (``n_steps`` x ``n_envs``), and an evaluation period above the budget writes no
    best model."""
    out = []
    rollout = int(getattr(model, "n_steps", 0)) * config.n_envs if config.on_policy else 0
    if rollout and remaining % rollout:
        trained = -(-remaining // rollout) * rollout
        out.append(
            f"{remaining} timesteps is not a whole number of rollouts of {rollout} "
            f"(n_steps x n_envs): {trained} will be trained"
        )
    if config.eval_freq > config.total_timesteps:
        out.append(
            f"eval_freq={config.eval_freq} is above total_timesteps={config.total_timesteps}: "
            "no held-out evaluation runs and no best model is written (use --model final)"
        )
    return out


def progress_bar_available() -> bool:
    """SB3's progress bar needs tqdm and rich."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("tqdm", "rich"))


def _learn(
    config: AgentConfig,
    run: RunDir,
    ckpt: Path | None,
    progress_bar: bool,
    verbose: int,
    log: Callable[[str], None],
    extra_callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Build the env and the model (fresh, or from checkpoint ``ckpt``), learn, save."""
    if progress_bar and not progress_bar_available():
        log("no progress bar: it needs tqdm and rich (pip install 'mm-gym[agents]')")
        progress_bar = False
    seed_everything(config.seed, config.torch_threads)
    if ckpt is None:
        env = build_env(config)
        model = _new_model(config, env, run, verbose)
    else:
        env = build_env(config, ckpt / "vecnormalize.pkl")
        from mm_gym_agents.policy import load_model

        model = load_model(
            config, ckpt / "model.zip", env=env, device=config.device, for_training=True
        )
        model.tensorboard_log = str(run.tensorboard)
        replay = ckpt / "replay_buffer.pkl"
        if not config.on_policy and replay.is_file():
            with loading(replay, "replay buffer"):
                model.load_replay_buffer(str(replay))
        restore_resume_state(model, env, ckpt / "resume_state.pkl", config)

    from stable_baselines3.common.callbacks import CallbackList

    from mm_gym_agents.callbacks import (
        CheckpointCallback,
        HeldOutEvalCallback,
        MarketMetricsCallback,
    )

    callbacks: list[Any] = [MarketMetricsCallback(on_policy=config.on_policy)]
    if config.checkpoint_freq > 0:
        callbacks.append(
            CheckpointCallback(
                run,
                config.checkpoint_freq,
                config.keep_checkpoints,
                save_replay=not config.on_policy,
            )
        )
    else:  # still one checkpoint at the end, so the run can be resumed
        callbacks.append(
            CheckpointCallback(run, 0, config.keep_checkpoints, save_replay=not config.on_policy)
        )
    if config.eval_freq > 0:
        callbacks.append(HeldOutEvalCallback(run, config, config.eval_freq, config.eval_episodes))
    callbacks.extend(extra_callbacks)
    started = int(model.num_timesteps)
    remaining = config.total_timesteps - started
    for warning in budget_warnings(config, model, remaining):
        log(f"WARNING: {warning}")
    log(
        f"training {config.algo} on {config.env_id}: {config.n_envs} markets, "
        f"{started} -> {config.total_timesteps} timesteps; run {run.path}"
    )
    t0 = time.perf_counter()
    model.learn(
        total_timesteps=remaining,
        callback=CallbackList(callbacks),
        reset_num_timesteps=ckpt is None,
        progress_bar=progress_bar,
        tb_log_name="sb3",
    )
    seconds = time.perf_counter() - t0
    save_model(model, run.model_path("final"))
    from mm_gym_agents.callbacks import find_vecnormalize

    vecnorm = find_vecnormalize(env)
    if vecnorm is not None:
        save_vecnormalize(vecnorm, run.vecnormalize_path("final"))
    env.close()
    result = TrainResult(run, int(model.num_timesteps), started, seconds, model)
    log(
        f"done: {result.num_timesteps} timesteps in {seconds:.1f} s "
        f"({result.steps_per_second:.0f} steps/s); final model {run.model_path('final')}"
    )
    return result
