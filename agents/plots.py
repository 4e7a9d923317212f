"""The PNG plots of ``report.md`` (agent vs reference policies), from a ``Comparison``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from mm_gym.evaluation.plots import plt, save_figure
from mm_gym_agents.compare import (
    AGENT,
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    OVERALL,
    PATH_EPISODES,
    Comparison,
)

__all__ = [
    "ALPHA",
    "LABELS",
    "label",
    "plot_as_quotes",
    "plot_decomposition",
    "plot_equity",
    "plot_metrics",
    "plot_paired",
]

ALPHA = 0.05  # the level of the verdicts and of the paired plots' colours
LABELS = {
    "pnl": "PnL per episode",
    "episode_return": "the env's objective (episode return)",
    "sharpe": "Sharpe ratio per hour (per episode, Newey-West)",
    "max_drawdown": "max drawdown",
    "fills": "fills",
    "fill_rate": "fill rate (fills / min quoting)",
    "spread_captured": "spread captured",
    "fees": "fees",
    "markout_1s": "markout 1 s",
    "markout_10s": "markout 10 s",
    "markout_60s": "markout 60 s",
    "inventory_mean_abs": "mean |inventory|",
    "inventory_max_abs": "max |inventory|",
    "final_inventory": "final inventory",
    "time_quoting": "time quoting",
    "stop_losses": "stop losses",
}


def label(comp: Comparison, metric: str) -> str:
    return comp.env.metric_labels.get(metric) or LABELS.get(metric, metric)


def diff_color(metric: str, diff: float, p: float) -> str:
    """Green: significantly better for the agent; red: worse; blue: different, no better or
    worse (e.g. fills); gray: not significant."""
    if not p < ALPHA:
        return "tab:gray"
    if metric in HIGHER_IS_BETTER:
        return "tab:green" if diff > 0 else "tab:red"
    if metric in LOWER_IS_BETTER:
        return "tab:green" if diff < 0 else "tab:red"
    return "tab:blue"


def plot_metrics(comp: Comparison, condition: str, path: Path) -> Path:
    policies = [AGENT, *comp.references]
    # a metric that is 0 for every policy (e.g. no stop loss anywhere) gets no empty panel
    metrics = [
        m for m in comp.metrics if any(comp.stat(condition, p, m)["value"] != 0 for p in policies)
    ] or comp.metrics[:1]
    ncols = 4
    nrows = math.ceil(len(metrics) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.8 * nrows))
    axes = np.atleast_1d(axes).ravel()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, m in zip(axes, metrics, strict=False):
        for k, policy in enumerate(policies):
            s = comp.stat(condition, policy, m)
            err = np.array([[s["value"] - s["ci_low"]], [s["ci_high"] - s["value"]]])
            err = np.nan_to_num(err)
            ax.bar(
                k,
                np.nan_to_num(s["value"]),
                yerr=err,
                color=colors[k % len(colors)],
                capsize=4,
                edgecolor="black",
                lw=0.5,
            )
        ax.set_xticks(range(len(policies)), policies, fontsize=7, rotation=20)
        ax.set_title(label(comp, m), fontsize=9)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.axis("off")
    what = (
        f"mean and 95% t interval over {len(comp.agents)} runs, each on its own "
        f"{len(comp.seeds) // len(comp.agents)} seeds"
        if comp.multi
        else f"mean and 95% CI over {len(comp.seeds)} seeds"
    )
    fig.suptitle(f"{condition}: {what}")
    return save_figure(fig, path)


def plot_paired(comp: Comparison, reference: str, path: Path) -> Path:
    metrics = comp.metrics
    conds = comp.conditions
    ncols = 4
    nrows = math.ceil(len(metrics) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols, 0.5 * len(conds) * nrows + 1.6 * nrows)
    )
    axes = np.atleast_1d(axes).ravel()
    for ax, m in zip(axes, metrics, strict=False):
        y = np.arange(len(conds))
        for k, cond in enumerate(conds):
            d = comp.diff(cond, reference, m)
            lo, hi = d["ci_low"], d["ci_high"]
            color = diff_color(m, d["diff"], d["p_value"])
            if not (math.isnan(lo) or math.isnan(hi)):
                ax.plot([lo, hi], [k, k], color=color, lw=2)
            ax.plot([d["diff"]], [k], "o", color=color)
        ax.axvline(0.0, color="black", lw=0.8)
        ax.set_yticks(y, conds, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(label(comp, m), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(
        f"paired difference agent - {reference}, 95% CI "
        "(green: agent significantly better, red: worse, blue: different)"
    )
    return save_figure(fig, path)


def plot_equity(comp: Comparison, path: Path) -> Path:
    by_policy = comp.results[OVERALL]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    env = comp.env
    for k, (policy, res) in enumerate(by_policy.items()):
        eq = res.paths["equity"]
        steps = eq.shape[1]
        dt = step_duration(comp)
        t = np.arange(0, steps + 1) * dt / env.time_scale
        v = np.concatenate([np.zeros((eq.shape[0], 1)), eq], axis=1)
        color = colors[k % len(colors)]
        for row in v[:20]:
            ax.plot(t, row, color=color, lw=0.5, alpha=0.2)
        ax.plot(t, np.nanmean(v, axis=0), color=color, lw=2.2, label=f"{policy} mean")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xlabel(f"time, {env.time_unit}")
    ax.set_ylabel("mark-to-market equity" + (f", {env.currency}" if env.currency else ""))
    shown = len(next(iter(by_policy.values())).paths["equity"])
    ax.set_title(
        f"equity, {OVERALL}: {min(20, shown)} episodes (thin) and the mean of "
        f"{min(PATH_EPISODES, shown)} (bold) of each policy"
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def step_duration(comp: Comparison) -> float:
    return comp.env.step_duration(comp.config.env_config())


def plot_as_quotes(comp: Comparison, path: Path) -> Path:
    by_policy = comp.results[OVERALL]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for policy, res in by_policy.items():
        p = res.paths
        inv = p["inventory"]
        before = np.concatenate([np.zeros((inv.shape[0], 1)), inv[:, :-1]], axis=1)
        qs = np.unique(before)
        for ax, key in zip(axes, ("half_spread", "skew"), strict=True):
            means = [p[key][before == q].mean() for q in qs]
            ax.plot(qs, means, "o-", ms=3, label=policy)
    for ax, title in zip(axes, ("half-spread by inventory", "skew by inventory"), strict=True):
        ax.set_xlabel("inventory before the step")
        ax.set_title(title + " (mean over steps)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_decomposition(comp: Comparison, path: Path) -> Path:
    table = comp.decomposition
    parts = (("spread_captured", "spread"), ("carry", "carry"), ("fees", "- fees"), ("pnl", "PnL"))
    conds = comp.conditions
    fig, axes = plt.subplots(1, len(conds), figsize=(3.6 * len(conds), 3.6), squeeze=False)
    policies = list(dict.fromkeys(table.policy))
    width = 0.8 / len(policies)
    x = np.arange(len(parts))
    for ax, cond in zip(axes[0], conds, strict=True):
        rows = table[table.condition == cond].set_index("policy")
        for k, policy in enumerate(policies):
            values = [
                -rows.loc[policy, c] if c == "fees" else rows.loc[policy, c] for c, _ in parts
            ]
            ax.bar(x + (k - (len(policies) - 1) / 2) * width, values, width, label=policy)
        ax.set_xticks(x, [label for _, label in parts], fontsize=8)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_title(cond, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("PnL per episode = spread captured + inventory carry - fees (means)")
    return save_figure(fig, path)


FAMILY_MARKERS = {"final": "o", "replication": "s", "development": "^"}
OUTCOME_COLORS = {"beats": "tab:green", "loses to": "tab:red"}


def plot_results(diffs: pd.DataFrame, path: Path) -> Path:
    """The agent's differences with each reference, per condition and seed family, with
    their 95% intervals over runs (``results.results_differences``); green: beats, red:
    loses to, grey: no clear difference."""
    refs = list(dict.fromkeys(diffs.reference))
    conds = list(dict.fromkeys(diffs.condition))
    families = list(dict.fromkeys(diffs.family))
    fig, axes = plt.subplots(1, len(refs), figsize=(4.6 * len(refs), 0.55 * len(conds) + 1.6))
    axes = np.atleast_1d(axes)
    for ax, ref in zip(axes, refs, strict=True):
        for k, fam in enumerate(families):
            sub = diffs[(diffs.reference == ref) & (diffs.family == fam)].set_index("condition")
            y = np.arange(len(conds)) + (k - (len(families) - 1) / 2) * 0.22
            for yy, cond in zip(y, conds, strict=True):
                if cond not in sub.index:
                    continue
                r = sub.loc[cond]
                color = OUTCOME_COLORS.get(r.outcome, "grey")
                ax.plot([r.ci_low, r.ci_high], [yy, yy], color=color, lw=2)
                ax.plot(r["diff"], yy, FAMILY_MARKERS.get(fam, "o"), color=color, ms=6)
        ax.axvline(0.0, color="black", lw=0.8)
        ax.set_yticks(np.arange(len(conds)), conds)
        ax.invert_yaxis()
        ax.set_xlabel(f"agent - {ref}")
        ax.set_title(f"vs {ref}")
        ax.grid(alpha=0.3, axis="x")
    for fam in families:
        axes[-1].plot([], [], FAMILY_MARKERS.get(fam, "o"), color="grey", label=f"{fam} family")
    axes[-1].legend(fontsize=8, loc="lower left")
    first = diffs.iloc[0]
    fig.suptitle(
        f"{LABELS.get(first.metric, first.metric)}: agent - reference, "
        f"95% t interval over {first.runs} runs"
    )
    return save_figure(fig, path)
