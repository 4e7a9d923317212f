"""Pieces of a study's report: Markdown tables and PNGs (optimisation history, parameter
importances, the baseline's table per regime against the starting one, held-out paired
differences)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.evaluation import PARAM_NAMES
from mm_gym.plots import save_figure
from mm_gym.tuning.study import display_url, require_optuna

__all__ = [
    "TABLE_ROWS",
    "fmt",
    "md_table",
    "param_importances",
    "plot_history",
    "plot_importances",
    "plot_paired",
    "plot_table",
    "study_lines",
    "table_rows",
    "trials_table",
]

TABLE_ROWS = ("normal", "trending", "high_vol", "news")  # BaselineConfig's rows


def fmt(x: Any) -> str:
    """A number in 4 significant digits (integers and text as they are)."""
    if isinstance(x, bool) or not isinstance(x, float | np.floating):
        return str(x)
    if math.isnan(x):
        return "nan"
    return f"{x:.4g}"


def md_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def trials_table(study: Any) -> pd.DataFrame:
    """One row per trial: number, state, value, parameters, user attributes, times."""
    attrs = ("number", "state", "value", "params", "user_attrs", "datetime_start", "duration")
    df = study.trials_dataframe(attrs=attrs)
    if "state" in df:
        df["state"] = df["state"].astype(str).str.replace("TrialState.", "").str.lower()
    return df


def param_importances(study: Any) -> dict[str, float]:
    """Optuna's fANOVA importances of the complete trials; empty when they cannot be told
    apart yet (fewer than two complete trials, or no spread in the values)."""
    optuna = require_optuna()
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def plot_history(study: Any, path: Path, title: str) -> Path:
    """Objective per trial (error bar: the trial's standard error), the best so far, and the
    pruned trials at their last reported value."""
    import matplotlib.pyplot as plt

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
    ax.set_ylabel("objective")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return save_figure(fig, path)


def plot_importances(importances: dict[str, float], path: Path) -> Path:
    """Horizontal bars, the most important parameter on top."""
    import matplotlib.pyplot as plt

    names = list(importances)[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.2))
    ax.barh(names, [importances[n] for n in names], color="C0")
    ax.set_xlabel("importance (fANOVA, share of the objective's variance)")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def study_lines(study: Any, url: str) -> list[str]:
    """Markdown bullets: where the study is and what its trials did."""
    df = trials_table(study)
    states = df["state"].value_counts().to_dict() if len(df) else {}
    workers = df["user_attrs_worker"].nunique() if "user_attrs_worker" in df else 0
    counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"
    return [
        f"- study `{study.study_name}` in `{display_url(url)}` (open it with "
        f"`optuna-dashboard {display_url(url)}`)",
        f"- trials: {counts}; {workers} worker(s)",
    ]


def table_rows(start: dict, tuned: dict) -> list[list[Any]]:
    rows = []
    for row in TABLE_ROWS:
        a, b = start["baseline"][row], tuned["baseline"][row]
        cells: list[Any] = [row]
        for k in range(len(PARAM_NAMES)):
            cells += [float(a[k]), float(b[k])]
        rows.append(cells)
    return rows


def plot_table(start: dict, tuned: dict, path: Path) -> Path:
    """The table's rows, starting against tuned, one panel per column."""
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt

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
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
