"""``mm-gym tune baseline``: search the rule strategy's regime table and detector thresholds.

Every trial runs ``RuleBasedPolicy`` with a candidate table on the same training seeds
(``TRAIN_SEED_BASE ...``: common random numbers, so trials differ by their table, not by their
luck); the objective is the mean episode objective (``episode_return``, the sum of the env's
rewards), with its standard error kept as the trial's ``se``. The study's first trial is the
starting table (the env config's own). After the study, the best table and the starting one
play held-out seeds (``HELD_OUT_SEED_BASE ...``), regimes switching and each regime pinned,
beside an ablation: the starting table looked up with the true regime instead of the
detector's. Paired differences per seed give the confidence intervals.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mm_gym.envs.baseline_policy import RuleBasedPolicy, TrueRegimePolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError
from mm_gym.evaluation.episodes import run_episodes
from mm_gym.evaluation.metrics import mean_ci, paired_difference
from mm_gym.evaluation.seeds import DEV_SEED_BASE, TUNING_SEED_BASE
from mm_gym.market.regimes import REGIME_NAMES
from mm_gym.strategy.layout import PARAM_NAMES
from mm_gym.tuning.plots import plot_history, plot_importances, plot_paired, plot_table
from mm_gym.tuning.report import (
    TABLE_ROWS,
    fmt,
    md_table,
    n_complete,
    param_importances,
    study_lines,
    table_rows,
    trials_table,
)
from mm_gym.tuning.space import SearchSpace, get_path
from mm_gym.tuning.study import StudyHandle, StudyOptions, record_values, require_optuna

__all__ = [
    "HELD_OUT_SEED_BASE",
    "OBJECTIVE",
    "TRAIN_SEED_BASE",
    "BaselineStudy",
    "episode_objective",
    "holdout_check",
    "tune_baseline",
]

OBJECTIVE = "episode_return"
TRAIN_SEED_BASE = TUNING_SEED_BASE  # the tuning family (mm_gym.evaluation.seeds)
HELD_OUT_SEED_BASE = DEV_SEED_BASE  # a choice is checked on the development family
OVERALL = "overall"
RUNGS = 4  # with a pruner, the training seeds are run in this many parts, reported after each
TUNED, START, TRUE_REGIME = "tuned", "start", "start, true regime"


def episode_objective(
    config: EnvConfig, seeds: Sequence[int], trial: Any = None, rungs: int = 1
) -> np.ndarray:
    """The episode objective of the baseline with ``config``'s table, one value per seed.

    With ``rungs > 1`` the seeds run in that many parts and the mean so far is reported to
    ``trial`` after each (step = episodes run); a pruned trial raises ``TrialPruned``.
    """
    policy = RuleBasedPolicy(config)
    parts = np.array_split(np.asarray(seeds, dtype=np.int64), max(1, min(rungs, len(seeds))))
    values: list[float] = []
    for part in parts:
        res = run_episodes(policy, config, part)
        values.extend(res.episodes[OBJECTIVE].tolist())
        if trial is not None and len(parts) > 1:
            trial.report(float(np.mean(values)), step=len(values))
            if trial.should_prune():
                optuna = require_optuna()
                record_values(trial, np.asarray(values))
                raise optuna.TrialPruned(f"mean {np.mean(values):.4g} after {len(values)} episodes")
    return np.asarray(values)


def holdout_check(
    start: EnvConfig,
    tuned: EnvConfig,
    seeds: Sequence[int],
    *,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tuned table, the starting one and the starting one with the true regime on the
    same held-out seeds, regimes switching and each pinned.

    Returns ``(summary, paired)``: mean and 95% CI of the objective per condition and policy,
    and the paired differences ``tuned - start`` and ``start, true regime - start``.
    """
    conditions: list[tuple[str, dict]] = [(OVERALL, {})]
    conditions += [(r, {"market": {"pin_regime": r}}) for r in REGIME_NAMES]
    truth = start.replace(expose_regime=True, action_mode="absolute")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=3 * len(conditions), desc="held-out check", unit="run", leave=False)
    rows, pairs = [], []
    try:
        for name, change in conditions:
            runs = {}
            for label, cfg, cls in (
                (TUNED, tuned, RuleBasedPolicy),
                (START, start, RuleBasedPolicy),
                (TRUE_REGIME, truth, TrueRegimePolicy),
            ):
                cfg = cfg.replace(**change)
                runs[label] = run_episodes(cls(cfg), cfg, seeds).episodes[OBJECTIVE].to_numpy()
                ci = mean_ci(runs[label])
                rows.append(
                    {
                        "condition": name,
                        "policy": label,
                        "mean": ci.mean,
                        "ci_low": ci.low,
                        "ci_high": ci.high,
                        "n": ci.n,
                    }
                )
                if bar is not None:
                    bar.update(1)
            for label in (TUNED, TRUE_REGIME):
                d = paired_difference(runs[label], runs[START])
                pairs.append(
                    {
                        "condition": name,
                        "comparison": f"{label} - {START}",
                        "diff": d.mean_diff,
                        "ci_low": d.low,
                        "ci_high": d.high,
                        "p_value": d.p_value,
                        "n": d.n,
                    }
                )
    finally:
        if bar is not None:
            bar.close()
    return pd.DataFrame(rows), pd.DataFrame(pairs)


@dataclasses.dataclass
class BaselineStudy:
    """What ``tune_baseline`` found and wrote."""

    handle: StudyHandle
    start: EnvConfig
    tuned: EnvConfig | None
    train_seeds: list[int]
    start_values: np.ndarray
    tuned_values: np.ndarray | None
    summary: pd.DataFrame | None
    paired: pd.DataFrame | None
    out: Path
    files: list[Path]
    ran: int

    @property
    def best_trial(self) -> Any:
        return self.handle.study.best_trial


def _setup(start: EnvConfig, space: SearchSpace, seeds: list[int]) -> dict[str, Any]:
    return {
        "task": "baseline",
        "objective": f"mean {OBJECTIVE} of RuleBasedPolicy",
        "space": space.spec(),
        "env": start.to_dict(),
        "train_seeds": [seeds[0], len(seeds)],
    }


def tune_baseline(
    start: EnvConfig,
    space: SearchSpace,
    options: StudyOptions,
    *,
    episodes: int,
    holdout_episodes: int,
    out: Path,
    log: Callable[[str], None] = print,
) -> BaselineStudy:
    """Search the table from ``start`` (the env config's own), check the best one on
    ``holdout_episodes`` held-out seeds and write the outputs to ``out``."""
    base = start.to_dict()
    space.check_against(base, EnvConfig.from_dict)
    seeds = list(range(TRAIN_SEED_BASE, TRAIN_SEED_BASE + episodes))
    x0 = space.starting_values(base)
    handle = options.open("maximize", _setup(start, space, seeds), x0)
    study = handle.study
    if handle.created and x0 is None:
        log("the starting table is outside the search space: not run as the first trial")
    optuna = require_optuna()

    def objective(trial: Any) -> float:
        values = space.sample(trial)
        try:
            config = EnvConfig.from_dict(space.apply(base, values))
        except ConfigError as err:  # ranges that cross (e.g. two thresholds)
            trial.set_user_attr("invalid", str(err))
            raise optuna.TrialPruned(f"invalid table: {err}") from None
        return record_values(
            trial, episode_objective(config, seeds, trial, RUNGS if options.pruning else 1)
        )

    ran = options.optimize(handle, objective)
    out.mkdir(parents=True, exist_ok=True)
    result = BaselineStudy(handle, start, None, seeds, np.array([]), None, None, None, out, [], ran)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        log(f"study {study.study_name}: no complete trial yet")
        return result
    tuned = EnvConfig.from_dict(space.apply(base, study.best_trial.params))
    result.tuned = tuned
    result.start_values = episode_objective(start, seeds)
    result.tuned_values = episode_objective(tuned, seeds)
    if holdout_episodes > 0:
        held = list(range(HELD_OUT_SEED_BASE, HELD_OUT_SEED_BASE + holdout_episodes))
        result.summary, result.paired = holdout_check(start, tuned, held, progress=options.progress)
    result.files = _write_outputs(result, tuned, space)
    return result


def _write_outputs(result: BaselineStudy, tuned: EnvConfig, space: SearchSpace) -> list[Path]:
    """``baseline.yaml`` (the tuned EnvConfig), ``trials.csv``, ``holdout.csv``, the report."""
    out = result.out
    study = result.handle.study
    best = study.best_trial
    header = (
        f"# EnvConfig with the rule baseline's table tuned by `mm-gym tune baseline`: study "
        f"{study.study_name!r}, trial {best.number}, mean {OBJECTIVE} {best.value:.4g} on "
        f"training seeds {result.train_seeds[0]}..{result.train_seeds[-1]}.\n"
        "# Use with --env-config, `mm-gym backtest --config` or EnvConfig.from_yaml.\n"
    )
    files = [out / "baseline.yaml", out / "trials.csv"]
    files[0].write_text(header + yaml.safe_dump(tuned.to_dict(), sort_keys=False))
    trials_table(study).to_csv(files[1], index=False)
    if result.paired is not None and result.summary is not None:
        files.append(out / "holdout.csv")
        pd.concat(
            [result.paired.assign(kind="paired"), result.summary.assign(kind="policy")]
        ).to_csv(files[-1], index=False)
    files += _report(result, tuned, space)
    return files


def _report(result: BaselineStudy, tuned_config: EnvConfig, space: SearchSpace) -> list[Path]:
    """``report.md`` and its PNGs; returns the files written."""
    out, study = result.out, result.handle.study
    start, tuned = result.start.to_dict(), tuned_config.to_dict()
    best = study.best_trial
    files = [
        plot_history(study, out / "history.png", f"tune baseline: {study.study_name}"),
        plot_table(start, tuned, out / "table.png"),
    ]
    importances = param_importances(study)
    if importances:
        files.append(plot_importances(importances, out / "importances.png", n_complete(study)))
    train = paired_difference(result.tuned_values, result.start_values)
    seeds = result.train_seeds
    head = ["row"] + [f"{p} {w}" for p in PARAM_NAMES for w in ("start", "tuned")]
    in_table = tuple(f"baseline.{r}." for r in TABLE_ROWS)
    others = [
        [p.name, get_path(start, p.name), get_path(tuned, p.name)]
        for p in space.params
        if not p.name.startswith(in_table)
    ]
    se = best.user_attrs.get("se", math.nan)
    lines = [
        f"# Tuned rule baseline: study `{study.study_name}`",
        "",
        *study_lines(study, result.handle.url),
        f"- objective: mean `{OBJECTIVE}` (the env's objective) over {len(seeds)} training "
        f"seeds {seeds[0]}..{seeds[-1]}, the same in every trial; episodes of "
        f"{result.start.session_s:g} s",
        f"- best: trial {best.number}, {best.value:.4g} ± {se:.2g} (SE)",
        f"- on the training seeds, tuned - start = {train.mean_diff:.4g} "
        f"[{train.low:.4g}, {train.high:.4g}] (paired 95% CI; the best of many trials on the "
        "same seeds is optimistic: the held-out check is the fair comparison)",
        "",
        "Files: `baseline.yaml` (the tuned EnvConfig: `--env-config`, `mm-gym backtest "
        "--config`), `trials.csv`, `holdout.csv`.",
        "",
        "## Table per detected regime: start and tuned",
        "",
        md_table(head, table_rows(start, tuned)),
        "",
        "![table](table.png)",
        "",
    ]
    if others:
        lines += [md_table(["parameter", "start", "tuned"], others), ""]
    if result.paired is not None and result.summary is not None:
        files.append(plot_paired(result.paired, out / "holdout.png"))
        rows = [
            [r.condition, r.comparison, r.diff, f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]", r.p_value]
            for r in result.paired.itertuples()
        ]
        means = result.summary.pivot(index="condition", columns="policy", values="mean")
        conditions = list(dict.fromkeys(result.summary["condition"]))
        lines += [
            f"## Held-out check ({int(result.paired['n'].max())} seeds from {HELD_OUT_SEED_BASE})",
            "",
            "Paired differences per seed (common random numbers), 95% CI, paired t-test; "
            f"`{TRUE_REGIME}` is the starting table looked up with the true regime instead "
            "of the detector's (an ablation). Per-regime rows are uncorrected tests.",
            "",
            md_table(["condition", "comparison", "mean diff", "95% CI", "p"], rows),
            "",
            "Mean objective per policy:",
            "",
            md_table(
                ["condition", *means.columns], [[c, *means.loc[c].tolist()] for c in conditions]
            ),
            "",
            "![held-out](holdout.png)",
            "",
        ]
    lines += ["## Optimisation history", "", "![history](history.png)", ""]
    if importances:
        lines += ["## Parameter importances", "", "![importances](importances.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    return [out / "report.md", *files]
