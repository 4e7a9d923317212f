"""Pieces of a study's report: Markdown tables, the trials, parameter importances, the
baseline's table rows (its PNGs are drawn by ``mm_gym.tuning.plots``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.strategy.layout import PARAM_NAMES
from mm_gym.tuning.study import display_url, require_optuna

__all__ = [
    "TABLE_ROWS",
    "fmt",
    "md_table",
    "n_complete",
    "param_importances",
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


MIN_IMPORTANCE_TRIALS = 20  # fANOVA's forest on fewer trials ranks noise


def n_complete(study: Any) -> int:
    """How many of the study's trials are complete."""
    optuna = require_optuna()
    return sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def param_importances(study: Any) -> dict[str, float]:
    """Optuna's fANOVA importances of the complete trials; empty with fewer than
    ``MIN_IMPORTANCE_TRIALS`` of them or no spread in their values."""
    optuna = require_optuna()
    if n_complete(study) < MIN_IMPORTANCE_TRIALS:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


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
