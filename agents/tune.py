"""``mm-gym tune agent``: an Optuna search over an agent's hyperparameters.

Each trial trains the agent config with sampled values (search space: ``configs/spaces/<algo>
.yaml`` or ``--space``) for ``timesteps`` steps on the training seeds, the same in every trial.
Every ``eval_every`` steps the deterministic policy plays the held-out evaluation seeds
(``EVAL_SEED_BASE ...``) and the paired difference agent - reference on those seeds (common
random numbers; the reference is the rule baseline, or CJP on ``AvellanedaStoikov-v0``) is
reported to the pruner; the last one is the trial's value. The best trial is exported as an
agent YAML that ``mm-gym train --config`` takes (the config's own ``total_timesteps``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from stable_baselines3.common.callbacks import BaseCallback

from mm_gym.config import load_yaml_mapping, resolve_config
from mm_gym.envs.registration import env_entry
from mm_gym.errors import ConfigError
from mm_gym.evaluation.rollout import run_policy
from mm_gym.evaluation.seeds import EVAL_SEED_BASE
from mm_gym.tuning.plots import plot_history, plot_importances
from mm_gym.tuning.report import (
    fmt,
    md_table,
    n_complete,
    param_importances,
    study_lines,
    trials_table,
)
from mm_gym.tuning.space import SearchSpace, get_path
from mm_gym.tuning.study import StudyHandle, StudyOptions, record_values, require_optuna
from mm_gym_agents.callbacks import find_vecnormalize
from mm_gym_agents.compare import reference_policies
from mm_gym_agents.config import AgentConfig
from mm_gym_agents.policy import AgentPolicy
from mm_gym_agents.train import train

__all__ = ["AgentStudy", "PairedEvalCallback", "run", "tune_agent"]


class PairedEvalCallback(BaseCallback):
    """Every ``freq`` steps (and at the end): the deterministic policy on the evaluation
    seeds, the paired difference with the reference's returns on the same seeds, reported to
    the trial; stops training when the pruner says so."""

    def __init__(
        self, trial: Any, config: AgentConfig, seeds: list[int], reference: np.ndarray, freq: int
    ) -> None:
        super().__init__()
        self.trial = trial
        self.config = config
        self.env_config = config.env_config()
        self.seeds = seeds
        self.reference = reference
        self.freq = freq
        self.metric = env_entry(config.env_id).primary_metric
        self.diffs = np.array([])  # agent - reference per seed, at the last evaluation
        self.last_step = -1
        self.pruned = False
        self._next = freq

    def evaluate(self) -> float:
        """Play the seeds, report the mean paired difference to the trial and return it."""
        policy = AgentPolicy(self.model, find_vecnormalize(self.model.get_env()))
        res = run_policy(self.config.env_id, self.env_config, policy, self.seeds)
        self.diffs = res.episodes[self.metric].to_numpy(dtype=float) - self.reference
        self.last_step = int(self.model.num_timesteps)
        mean = float(self.diffs.mean())
        self.trial.report(mean, step=self.last_step)
        return mean

    def _on_step(self) -> bool:
        if self.model.num_timesteps < self._next:
            return True
        self._next = (self.model.num_timesteps // self.freq + 1) * self.freq
        self.evaluate()
        self.pruned = self.trial.should_prune()
        return not self.pruned

    def _on_training_end(self) -> None:
        if not self.pruned and self.last_step != self.model.num_timesteps:
            self.evaluate()


@dataclasses.dataclass
class AgentStudy:
    """What ``tune_agent`` found and wrote."""

    handle: StudyHandle
    config: AgentConfig
    best: AgentConfig | None
    out: Path
    files: list[Path]
    ran: int


def _quiet(_: str) -> None:
    """Trials train without printing (the study's bar shows progress)."""


def tune_agent(
    config: AgentConfig,
    space: SearchSpace,
    options: StudyOptions,
    *,
    timesteps: int,
    eval_every: int,
    eval_episodes: int,
    out: Path,
    log: Callable[[str], None] = print,
) -> AgentStudy:
    """Search ``space`` around ``config``; export the best trial's config and a report."""
    base = config.to_dict()
    space.check_against(base, AgentConfig.from_dict)
    seeds = [EVAL_SEED_BASE + i for i in range(eval_episodes)]
    env_config = config.env_config()
    ref_name, (ref_policy, ref_config) = next(
        iter(reference_policies(config.env_id, env_config).items())
    )
    metric = env_entry(config.env_id).primary_metric
    setup = {
        "task": "agent",
        "objective": f"mean paired {metric}: agent - {ref_name}",
        "space": space.spec(),
        "config": base,
        "timesteps": timesteps,
        "eval_every": eval_every,
        "eval_seeds": [seeds[0], len(seeds)],
    }
    handle = options.open("maximize", setup, space.starting_values(base))
    optuna = require_optuna()
    reference = (
        run_policy(config.env_id, ref_config, ref_policy, seeds)
        .episodes[metric]
        .to_numpy(dtype=float)
    )

    def objective(trial: Any) -> float:
        try:
            trial_config = AgentConfig.from_dict(space.apply(base, space.sample(trial)))
        except ConfigError as err:  # a combination the config rejects (e.g. batch > rollout)
            trial.set_user_attr("invalid", str(err))
            raise optuna.TrialPruned(f"invalid config: {err}") from None
        trial_config = trial_config.replace(total_timesteps=timesteps, eval_freq=0)
        callback = PairedEvalCallback(trial, trial_config, seeds, reference, eval_every)
        train(
            trial_config,
            run_name=f"trial_{trial.number:04d}",
            runs_dir=out / "trials",
            progress_bar=False,
            log=_quiet,
            callbacks=[callback],
        )
        value = record_values(trial, callback.diffs)  # evaluated at the end at the latest
        if callback.pruned:
            raise optuna.TrialPruned(f"{value:.4g} at step {callback.last_step}")
        return value

    ran = options.optimize(handle, objective)
    out.mkdir(parents=True, exist_ok=True)
    result = AgentStudy(handle, config, None, out, [], ran)
    study = handle.study
    if not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        log(f"study {study.study_name}: no complete trial yet")
        return result
    result.best = AgentConfig.from_dict(space.apply(base, study.best_trial.params))
    result.files = _write_outputs(result, space, setup)
    return result


def _write_outputs(result: AgentStudy, space: SearchSpace, setup: dict) -> list[Path]:
    out, study = result.out, result.handle.study
    best = study.best_trial
    assert result.best is not None
    header = (
        f"# Agent config with the hyperparameters of study {study.study_name!r}, trial "
        f"{best.number} ({setup['objective']} = {best.value:.4g} after {setup['timesteps']} "
        "steps). Train it with: mm-gym train --config THIS_FILE\n"
    )
    files = [out / "best_agent.yaml", out / "trials.csv"]
    files[0].write_text(header + yaml.safe_dump(result.best.to_dict(), sort_keys=False))
    trials_table(study).to_csv(files[1], index=False)
    files.append(plot_history(study, out / "history.png", f"tune agent: {study.study_name}"))
    importances = param_importances(study)
    if importances:
        files.append(plot_importances(importances, out / "importances.png", n_complete(study)))
    base, tuned = result.config.to_dict(), result.best.to_dict()
    rows = [[p.name, get_path(base, p.name), get_path(tuned, p.name)] for p in space.params]
    lines = [
        f"# Tuned agent: study `{study.study_name}`",
        "",
        *study_lines(study, result.handle.url),
        f"- objective: {setup['objective']} on {setup['eval_seeds'][1]} held-out evaluation "
        f"seeds from {setup['eval_seeds'][0]}, after {setup['timesteps']} training steps "
        f"(reported every {setup['eval_every']} steps to the pruner)",
        f"- best: trial {best.number}, {best.value:.4g} ± {best.user_attrs.get('se', math.nan):.2g}"
        " (SE)",
        "- `best_agent.yaml`: the config with the best values; train it in full with "
        "`mm-gym train --config best_agent.yaml`, then `mm-gym compare` on the test seeds",
        "",
        md_table(["parameter", "config", "best"], [[n, _show(a), _show(b)] for n, a, b in rows]),
        "",
        "## Optimisation history",
        "",
        "![history](history.png)",
        "",
    ]
    if importances:
        lines += ["## Parameter importances", "", "![importances](importances.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    return [out / "report.md", *files]


def _show(value: Any) -> str:
    """A config value in a table cell (None: the key is not set, SB3's default applies)."""
    if value is None:
        return "(default)"
    if isinstance(value, float):
        return fmt(value)
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def run(args: argparse.Namespace) -> int:
    """The ``tune agent`` subcommand (options parsed by ``mm_gym.commands.tune``)."""
    from mm_gym.commands.output import int_arg
    from mm_gym.commands.tune import out_path, study_options, tune_on_cluster
    from mm_gym.tuning.study import display_url

    config = AgentConfig.from_yaml(resolve_config("agents", args.config))
    if args.env_config is not None:
        config = config.with_env(load_yaml_mapping(resolve_config("envs", args.env_config)))
    space = SearchSpace.from_yaml(resolve_config("spaces", args.space or config.algo))
    timesteps = int_arg("--timesteps", args.timesteps, 1)
    eval_every = (
        max(1, timesteps // 4)
        if args.eval_every is None
        else int_arg("--eval-every", args.eval_every, 1)
    )
    eval_episodes = int_arg("--eval-episodes", args.eval_episodes, 2)
    name = args.study or f"agent-{config.algo}"
    out = out_path(args, name)
    if args.ray is not None:
        return tune_on_cluster(args, name, out)
    options = study_options(args, name, out)
    if args.storage is None:  # the SQLite file lives in --out
        out.mkdir(parents=True, exist_ok=True)
    print(f"tune agent: study {name!r} in {display_url(options.storage)}")
    res = tune_agent(
        config,
        space,
        options,
        timesteps=timesteps,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        out=out,
    )
    if res.best is not None:
        best = res.handle.study.best_trial
        print(
            f"best trial {best.number}: agent - reference {best.value:+.4g}; this worker "
            f"finished {res.ran} trial(s)\nbest config: {out / 'best_agent.yaml'}; report: "
            f"{out / 'report.md'}"
        )
    return 0
