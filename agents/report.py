"""``report.md`` and its PNG plots from a ``Comparison`` (agent vs reference policies).

Sections: verdicts (overall and per pinned regime, "beats" / "does not beat" with the paired
t-test), a table per condition (mean and 95% CI per policy, paired difference agent -
reference with CI and p-value), bar charts of the means with CIs, the paired differences,
equity curves, and the quoting parameters the agent chose next to the baseline's table
(per regime on the order-book market; by inventory against CJP on the AS market).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from agents.compare import (  # noqa: E402
    AGENT,
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    OVERALL,
    Comparison,
    compare_run,
    is_as,
)
from agents.run_dir import atomic_write  # noqa: E402

__all__ = ["compare_and_report", "verdict", "write_report"]

ALPHA = 0.05
LABELS = {
    "pnl": "PnL per episode",
    "episode_return": "the env's objective (episode return)",
    "sharpe": "Sharpe ratio",
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
DPI = 100


def _g(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4g}"


def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return "n/a"
    return "< 1e-4" if p < 1e-4 else f"{p:.3g}"


def _p_eq(p: float) -> str:
    """``p = 0.03`` or ``p < 1e-4`` for sentences."""
    text = _p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def verdict(comp: Comparison, condition: str, reference: str) -> str:
    """One plain sentence: does the agent beat ``reference`` on the primary metric?"""
    m = comp.primary
    d = comp.diff(condition, reference, m)
    higher = m in HIGHER_IS_BETTER
    better = d["diff"] > 0 if higher else d["diff"] < 0
    significant = d["p_value"] < ALPHA
    ref = "the rule baseline" if reference == "baseline" else f"the {reference} agent"
    if significant and better:
        word, why = "**beats**", "significant"
    elif significant:
        word, why = "does **not** beat", f"{ref} is significantly better"
    else:
        word, why = "does **not** beat", "no significant difference"
    where = "Overall" if condition == OVERALL else f"In the {condition} regime"
    text = (
        f"{where}, the agent {word} {ref} on {LABELS.get(m, m)}: difference "
        f"{d['diff']:+.4g} (95% CI [{_g(d['ci_low'])}, {_g(d['ci_high'])}], paired t-test "
        f"{_p_eq(d['p_value'])}, {int(d['n'])} seeds; {why} at the 5% level)."
    )
    if is_as(comp.config.env_id):
        a = comp.stat(condition, AGENT, m)["mean"]
        r = comp.stat(condition, reference, m)["mean"]
        if r > 0:
            text += f" The agent reaches {a / r:.1%} of {reference}'s mean objective."
    else:
        other = "pnl" if m != "pnl" else "episode_return"
        if other in comp.metrics:
            o = comp.diff(condition, reference, other)
            text += (
                f" On {LABELS[other]} the difference is {o['diff']:+.4g} (95% CI "
                f"[{_g(o['ci_low'])}, {_g(o['ci_high'])}], {_p_eq(o['p_value'])})."
            )
    return text


def _condition_table(comp: Comparison, condition: str) -> list[str]:
    refs = comp.references
    head = ["metric", "agent"] + refs + [f"agent - {r}" for r in refs] + [f"p ({r})" for r in refs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in comp.metrics:
        cells = [LABELS.get(m, m)]
        for policy in [AGENT, *refs]:
            s = comp.stat(condition, policy, m)
            cells.append(f"{_g(s['mean'])} [{_g(s['ci_low'])}, {_g(s['ci_high'])}]")
        for r in refs:
            d = comp.diff(condition, r, m)
            cells.append(f"{d['diff']:+.4g} [{_g(d['ci_low'])}, {_g(d['ci_high'])}]")
        for r in refs:
            cells.append(_p(comp.diff(condition, r, m)["p_value"]))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# ---------------------------------------------------------------------- plots
def _plot_metrics(comp: Comparison, condition: str, path: Path) -> Path:
    metrics = comp.metrics
    policies = [AGENT, *comp.references]
    ncols = 4
    nrows = math.ceil(len(metrics) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.8 * nrows))
    axes = np.atleast_1d(axes).ravel()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, m in zip(axes, metrics, strict=False):
        for k, policy in enumerate(policies):
            s = comp.stat(condition, policy, m)
            err = np.array([[s["mean"] - s["ci_low"]], [s["ci_high"] - s["mean"]]])
            err = np.nan_to_num(err)
            ax.bar(
                k,
                np.nan_to_num(s["mean"]),
                yerr=err,
                color=colors[k % len(colors)],
                capsize=4,
                edgecolor="black",
                lw=0.5,
            )
        ax.set_xticks(range(len(policies)), policies, fontsize=8)
        ax.set_title(LABELS.get(m, m), fontsize=9)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(f"{condition}: mean and 95% CI over {len(comp.seeds)} seeds")
    return _save(fig, path)


def _diff_color(metric: str, diff: float, p: float) -> str:
    """Green: significantly better for the agent; red: worse; blue: different, no better or
    worse (e.g. fills); gray: not significant."""
    if not p < ALPHA:
        return "tab:gray"
    if metric in HIGHER_IS_BETTER:
        return "tab:green" if diff > 0 else "tab:red"
    if metric in LOWER_IS_BETTER:
        return "tab:green" if diff < 0 else "tab:red"
    return "tab:blue"


def _plot_paired(comp: Comparison, reference: str, path: Path) -> Path:
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
            color = _diff_color(m, d["diff"], d["p_value"])
            if not (math.isnan(lo) or math.isnan(hi)):
                ax.plot([lo, hi], [k, k], color=color, lw=2)
            ax.plot([d["diff"]], [k], "o", color=color)
        ax.axvline(0.0, color="black", lw=0.8)
        ax.set_yticks(y, conds, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(LABELS.get(m, m), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(
        f"paired difference agent - {reference}, 95% CI "
        "(green: agent significantly better, red: worse, blue: different)"
    )
    return _save(fig, path)


def _plot_equity(comp: Comparison, path: Path) -> Path:
    by_policy = comp.results[OVERALL]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    unit = "time, model units" if is_as(comp.config.env_id) else "time, minutes"
    scale = 1.0 if is_as(comp.config.env_id) else 60.0
    for k, (policy, res) in enumerate(by_policy.items()):
        eq = res.paths["equity"]
        steps = eq.shape[1]
        dt = _dt(comp)
        t = np.arange(0, steps + 1) * dt / scale
        v = np.concatenate([np.zeros((eq.shape[0], 1)), eq], axis=1)
        color = colors[k % len(colors)]
        for row in v[:20]:
            ax.plot(t, row, color=color, lw=0.5, alpha=0.2)
        ax.plot(t, np.nanmean(v, axis=0), color=color, lw=2.2, label=f"{policy} mean")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xlabel(unit)
    ax.set_ylabel("mark-to-market equity")
    ax.set_title(f"equity, {OVERALL} (thin: first 20 seeds; bold: mean over {len(comp.seeds)})")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _dt(comp: Comparison) -> float:
    env = comp.config.env_config()
    return float(env.dt) if is_as(comp.config.env_id) else env.decision_interval_ms / 1000.0


def _plot_as_quotes(comp: Comparison, path: Path) -> Path:
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
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()

    def write(tmp: str) -> None:
        fig.savefig(tmp, dpi=DPI, format="png")

    atomic_write(path, write, suffix=".png")
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- params by regime
def _params_section(comp: Comparison, folder: Path, images: Path) -> list[str]:
    from mm_gym.plots import plot_params_by_regime

    overall = comp.results[OVERALL]
    tables = {policy: res.per_regime for policy, res in overall.items()}
    img = plot_params_by_regime(
        tables,
        images / "params_by_regime.png",
        title="Quoting parameters chosen, by true regime (overall run)",
    )
    base = comp.config.env_config().baseline
    table_rows = {
        "ranging": base.normal,
        "trending_up": base.trending,
        "trending_down": base.trending,
        "high_vol": base.high_vol,
        "news": base.news,
    }
    lines = [
        "## Quoting parameters by regime",
        "",
        "Mean spread multiplier / inventory skew / size fraction chosen in each true regime: "
        "in the overall run (regimes switching) and in the runs with the regime pinned; the "
        "last column is the baseline's configured table (high vol: the spread widens up to "
        f"{base.high_vol_max_spread}x with volatility; news: no quoting).",
        "",
        "| regime | agent (overall) | baseline (overall) | agent (pinned) | baseline (pinned) "
        "| baseline table |",
        "|---|---|---|---|---|---|",
    ]
    for regime, row in table_rows.items():
        cells = [regime]
        for cond in (OVERALL, regime):
            for policy in (AGENT, "baseline"):
                if cond not in comp.results or policy not in comp.results[cond]:
                    cells.append("-")
                    continue
                pr = comp.results[cond][policy].per_regime
                if regime not in pr.index or not pr.loc[regime, "steps"]:
                    cells.append("-")
                    continue
                r = pr.loc[regime]
                cells.append(
                    f"{r['spread_multiplier']:.2f} / {r['inventory_skew']:.2f} / "
                    f"{r['size_fraction']:.2f}"
                )
        cells.append(" / ".join(f"{v:g}" for v in row))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"![parameters by regime]({img.relative_to(folder).as_posix()})", ""]
    return lines


def _reward_name(comp: Comparison) -> str:
    env = comp.config.env_config()
    return getattr(env, "reward", "cjp_objective")


# ---------------------------------------------------------------------- the report
def write_report(comp: Comparison, folder: str | Path) -> Path:
    """Write ``folder/report.md`` and its PNGs under ``folder/compare/``; return the path."""
    folder = Path(folder)
    images = folder / "compare"
    images.mkdir(parents=True, exist_ok=True)
    cfg = comp.config
    as_env = is_as(cfg.env_id)
    primary_ref = comp.references[0]
    name = comp.run.name if comp.run is not None else folder.name
    ref_text = (
        "the closed-form reference agents CJP (optimal for this objective), GLFT and AS"
        if as_env
        else "the rule-based baseline (RuleBasedPolicy: regime detection + "
        "the parameter table of docs/market-maker-strategy.md)"
    )
    lines = [
        f"# Report: {name}",
        "",
        f"- Agent: {cfg.algo.upper()} on {cfg.env_id}, {cfg.total_timesteps} timesteps "
        f"({cfg.n_envs} markets), {comp.model} model, deterministic actions.",
        f"- Compared with {ref_text}, on the same {len(comp.seeds)} test seeds "
        f"{comp.seeds[0]}..{comp.seeds[-1]} (common random numbers; training seeds are "
        "below 1,000,000, evaluation-callback seeds from 1,000,000).",
        f"- The verdicts use {LABELS.get(comp.primary, comp.primary)}"
        + (
            f": the sum of the env's rewards ('{_reward_name(comp)}', see "
            "mm_gym.envs.rewards), which the agent maximises; PnL is the final "
            "mark-to-market equity. Each verdict is a separate test at the 5% level (no "
            "correction for the several regimes compared)."
            if comp.primary == "episode_return"
            else "."
        ),
        "- Intervals: 95% t-intervals over seeds; differences are paired per seed "
        "(agent - reference) with a two-sided paired t-test.",
        "",
        "## Verdict",
        "",
    ]
    for cond in comp.conditions:
        lines.append(f"- {verdict(comp, cond, primary_ref)}")
    lines.append("")
    for cond in comp.conditions:
        title = "Overall (regimes switching)" if cond == OVERALL else f"Regime pinned: {cond}"
        if as_env:
            title = "Overall"
        img = _plot_metrics(comp, cond, images / f"metrics_{cond}.png")
        lines += [
            f"## {title}",
            "",
            *_condition_table(comp, cond),
            "",
            f"![metrics {cond}]({img.relative_to(folder).as_posix()})",
            "",
        ]
    lines += ["## Paired differences", ""]
    for ref in comp.references:
        img = _plot_paired(comp, ref, images / f"paired_{ref}.png")
        lines.append(f"![paired differences vs {ref}]({img.relative_to(folder).as_posix()})")
    lines.append("")
    img = _plot_equity(comp, images / "equity.png")
    lines += ["## Equity curves", "", f"![equity]({img.relative_to(folder).as_posix()})", ""]
    if as_env:
        img = _plot_as_quotes(comp, images / "quotes_by_inventory.png")
        lines += [
            "## Quotes by inventory",
            "",
            "Mean half-spread and skew the agent chose at each inventory, next to the "
            "closed-form agents'.",
            "",
            f"![quotes]({img.relative_to(folder).as_posix()})",
            "",
        ]
    else:
        lines += _params_section(comp, folder, images)
    text = "\n".join(lines) + "\n"
    path = folder / "report.md"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text), suffix=".md")
    return path


def compare_and_report(run_path: str | Path, **kwargs: Any) -> tuple[Comparison, Path]:
    """``compare_run`` (same keyword arguments), then ``write_report``: the comparison and
    the path of ``report.md``."""
    comp = compare_run(run_path, **kwargs)
    return comp, write_report(comp, comp.run.path)
