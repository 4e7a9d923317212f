"""The PNG plots of the tuning reports: a study's history and parameter importances, the
baseline's table per regime against the starting one, held-out paired differences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from mm_gym.evaluation.plots import plt, save_figure
from mm_gym.strategy.layout import PARAM_NAMES
from mm_gym.tuning.report import TABLE_ROWS

__all__ = ["plot_history", "plot_importances", "plot_paired", "plot_table"]


def plot_history(study: Any, path: Path, title: str) -> Path:
    """Objective per trial (error bar: the trial's standard error), the best so far, and the
    pruned trials at their last reported value."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    done = [t for t in study.trials if t.value is not None]
    if done:
        x = np.array([t.number for t in done])
        y = np.array([t.value for t in done])
        se = np.array([t.user_attrs.get("se", np.nan) for t in done], dtype=float)
        ax.errorbar(x, y, yerr=np.nan_to_num(se), fmt="o", ms=4, lw=0.8, label="trial (± SE)")
        ax.step(x, np.maximum.accumulate(y), where="post", color="C3", label="best so far")
    pruned = [t for t in study.trials if t.value is None and t.intermediate_values]
    if pruned:
        last = [t.intermediate_values[max(t.intermediate_values)] for t in pruned]
        ax.plot([t.number for t in pruned], last, "x", color="0.5", label="pruned (last report)")
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("objective")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return save_figure(fig, path)


def plot_importances(importances: dict[str, float], path: Path, n_trials: int) -> Path:
    """Horizontal bars, the most important parameter on top (from ``n_trials`` trials)."""
    names = list(importances)[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.2))
    ax.barh(names, [importances[n] for n in names], color="C0")
    ax.set_xlabel("importance (fANOVA, share of the objective's variance)")
    ax.set_title(f"parameter importances over {n_trials} complete trials")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def plot_table(start: dict, tuned: dict, path: Path) -> Path:
    """The table's rows, starting against tuned, one panel per column."""
    fig, axes = plt.subplots(1, len(PARAM_NAMES), figsize=(11, 3.6))
    x = np.arange(len(TABLE_ROWS))
    for k, (ax, name) in enumerate(zip(axes, PARAM_NAMES, strict=True)):
        ax.bar(x - 0.2, [start["baseline"][r][k] for r in TABLE_ROWS], 0.4, label="start")
        ax.bar(x + 0.2, [tuned["baseline"][r][k] for r in TABLE_ROWS], 0.4, label="tuned")
        ax.set_xticks(x, TABLE_ROWS, rotation=20)
        ax.set_title(name)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    return save_figure(fig, path)


def plot_paired(paired: pd.DataFrame, path: Path) -> Path:
    """Paired differences with their 95% CIs, per condition and comparison."""
    conditions = list(dict.fromkeys(paired["condition"]))
    comparisons = list(dict.fromkeys(paired["comparison"]))
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(comparisons)
    for k, comp in enumerate(comparisons):
        sub = paired[paired["comparison"] == comp].set_index("condition").loc[conditions]
        x = np.arange(len(conditions)) + (k - (len(comparisons) - 1) / 2) * width
        err = [sub["diff"] - sub["ci_low"], sub["ci_high"] - sub["diff"]]
        ax.bar(x, sub["diff"], width, yerr=err, capsize=3, label=comp)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(conditions)), conditions)
    ax.set_ylabel("paired difference of the episode objective")
    ax.set_title("held-out paired differences, mean and 95% CI")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
