"""``report.md`` from a ``Comparison`` (agent vs reference policies); its PNGs are drawn by
``mm_gym_agents.plots``.

Sections: the setup (seeds and what kind they are, the verdict's metric and its correction),
verdicts (overall and per pinned regime against each reference but the ablation, each saying
whether its test is corrected), the pairing variance ratio, what detection and the table cost
(true-regime and tuned baselines against the baseline), the runs one by one (several runs), a
table per condition (estimate and 95% CI per policy, paired differences with p-values and
Holm-adjusted ones, n), bar charts, the paired differences, equity curves, the PnL
decomposition, and the quoting parameters chosen by regime and over one episode (on the AS
market: quotes by inventory against the closed-form agents).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mm_gym.evaluation.seeds import (
    DEV_SEED_BASE,
    EVAL_SEED_BASE,
    FAMILIES,
    FINAL_SEED_BASE,
    REPLICATION_SEED_BASE,
)
from mm_gym_agents.compare import (
    AGENT,
    BASELINE,
    HIGHER_IS_BETTER,
    OVERALL,
    TRUE_REGIME,
    Comparison,
    compare_run,
)
from mm_gym_agents.plots import (
    ALPHA,
    LABELS,
    label,
    plot_as_quotes,
    plot_decomposition,
    plot_equity,
    plot_metrics,
    plot_paired,
)
from mm_gym_agents.run_dir import atomic_write

__all__ = ["compare_and_report", "verdict", "write_report"]


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


def _signed(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.4g}"


def _ci_text(low: float, high: float) -> str:
    return f"[{_g(low)}, {_g(high)}]"


def _policy_text(comp: Comparison, name: str) -> str:
    if not comp.env.rule_baseline:
        return f"the {name} agent"
    if name == BASELINE:
        return "the rule baseline"
    if name == TRUE_REGIME:
        return "the document's table with the true regime"
    return f"the tuned baseline {name}"


def _count(comp: Comparison, n: int) -> str:
    runs = len(comp.agents)
    return f"{n} seeds" if runs == 1 else f"{runs} runs x {n // runs} seeds"


WIN_SHARE = 0.8
"""Share of runs that must win, beside the interval, for 'beats' (``PROTOCOL``)."""


def outcome(comp: Comparison, condition: str, reference: str) -> str:
    """``beats``, ``loses to`` or ``no clear difference``: the agent beats ``reference`` on
    the primary metric when the interval (Holm-adjusted test with ``holm``) excludes 0 in its
    favour and, over several runs, at least ``WIN_SHARE`` of the runs win."""
    m = comp.primary
    return decide(comp.diff(condition, reference, m), m in HIGHER_IS_BETTER, comp.holm)


def decide(row: Any, higher_is_better: bool, holm: bool = False) -> str:
    """``outcome`` of one row of ``paired.csv``."""
    p = row["p_holm"] if holm else row["p_value"]
    better = row["diff"] > 0 if higher_is_better else row["diff"] < 0
    significant = p < ALPHA
    if significant and better and (row["runs"] < 2 or row["wins"] >= WIN_SHARE):
        return "beats"
    if significant and not better:
        return "loses to"
    return "no clear difference"


def verdict(comp: Comparison, condition: str, reference: str) -> str:
    """One plain sentence: does the agent beat ``reference`` on the primary metric? It says
    over what the interval runs (training runs, or one run's seeds), how the p-value was
    corrected and whether the seeds allow a claim."""
    m = comp.primary
    d = comp.diff(condition, reference, m)
    result = outcome(comp, condition, reference)
    ref = _policy_text(comp, reference)
    word = {"beats": "**beats**", "loses to": "**loses to**"}.get(
        result, "shows **no clear difference** with"
    )
    where = "Overall" if condition == OVERALL else f"In the {condition} regime"
    who = "the agent (one run)" if not comp.multi else f"the agent ({len(comp.agents)} runs)"
    over = (
        f"t interval over {int(d['runs'])} runs"
        if d["interval"] == "runs"
        else "t interval over the seeds of one run: a result about this network, not its config"
    )
    k = len(comp.conditions)
    p_text = (
        f"{_p_eq(d['p_holm'])} Holm-adjusted across the {k} conditions"
        if comp.holm
        else f"{_p_eq(d['p_value'])}, Holm-adjusted {_p(d['p_holm'])}"
    )
    text = (
        f"{where}, {who} {word} {ref} on {label(comp, m)}: difference {_signed(d['diff'])} "
        f"(95% {over} {_ci_text(d['ci_low'], d['ci_high'])}, {p_text}; "
        f"{_count(comp, int(d['n']))}"
    )
    if comp.multi:
        text += (
            f"; {d['wins']:.0%} of runs win; hierarchical bootstrap "
            f"{_ci_text(d['boot_low'], d['boot_high'])}; probability of improvement "
            f"{d['poi']:.2f}"
        )
    text += ")."
    if comp.recording is not None:
        text += " (windows of a recording: not a claim.)"
    elif not comp.claim:
        text += f" ({comp.family} seeds: not a claim.)"
    if comp.env.references:
        s = comp.stat(condition, AGENT, m)
        r = comp.stat(condition, reference, m)["value"]
        if r > 0:
            text += f" The agent reaches {s['value'] / r:.1%} of {reference}'s mean objective."
    else:
        other = "pnl" if m != "pnl" else "episode_return"
        if other in comp.metrics:
            o = comp.diff(condition, reference, other)
            text += (
                f" On {LABELS[other]} the difference is {_signed(o['diff'])} (95% CI "
                f"{_ci_text(o['ci_low'], o['ci_high'])})."
            )
    return text


def _summary_table(comp: Comparison) -> list[str]:
    """Per condition and reference: the agent's mean, the reference's, their difference
    (they subtract) with its interval, and the outcome in words."""
    m = comp.primary
    refs = comp.verdict_references
    head = ["condition", "agent"]
    for r in refs:
        head += [r, f"agent - {r} (95% CI)", "outcome"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cond in comp.conditions:
        cells = [cond, _g(comp.stat(cond, AGENT, m)["value"])]
        for r in refs:
            d = comp.diff(cond, r, m)
            cells += [
                _g(comp.stat(cond, r, m)["value"]),
                f"{_signed(d['diff'])} {_ci_text(d['ci_low'], d['ci_high'])}",
                outcome(comp, cond, r),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _estimate(comp: Comparison, condition: str, policy: str, metric: str) -> str:
    s = comp.stat(condition, policy, metric)
    return f"{_g(s['value'])} {_ci_text(s['ci_low'], s['ci_high'])}"


def _condition_table(comp: Comparison, condition: str) -> list[str]:
    refs = comp.references
    est = " (mean of runs)" if comp.multi else ""
    head = (
        ["metric", "n", f"agent{est}"]
        + [f"{r}{est}" for r in refs]
        + [f"agent - {r}" for r in refs]
        + [f"p / Holm ({r})" for r in refs]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in comp.metrics:
        n = int(comp.diff(condition, refs[0], m)["n"])
        cells = [label(comp, m), _count(comp, n)]
        cells += [_estimate(comp, condition, p, m) for p in [AGENT, *refs]]
        for r in refs:
            d = comp.diff(condition, r, m)
            cells.append(f"{_signed(d['diff'])} {_ci_text(d['ci_low'], d['ci_high'])}")
        for r in refs:
            d = comp.diff(condition, r, m)
            cells.append(f"{_p(d['p_value'])} / {_p(d['p_holm'])}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _pairing_section(comp: Comparison) -> list[str]:
    m = comp.primary
    refs = comp.references
    lines = [
        "## Pairing",
        "",
        f"Variance ratio var(agent - reference) / (var agent + var reference) of "
        f"{label(comp, m)} over the paired episodes: what the common random numbers leave of "
        "an unpaired comparison's variance (1: no gain; lower: the pairing removes more of the "
        "market's luck).",
        "",
        "| condition | " + " | ".join(f"agent - {r}" for r in refs) + " |",
        "|---|" + "---|" * len(refs),
    ]
    for cond in comp.conditions:
        cells = [f"{comp.diff(cond, r, m)['var_ratio']:.3g}" for r in refs]
        lines.append(f"| {cond} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _ablation_section(comp: Comparison) -> list[str]:
    """Detection cost (true regime - baseline) and table cost (tuned - baseline)."""
    others = [r for r in comp.references if r != BASELINE]
    if not others:
        return []
    parts = []
    if TRUE_REGIME in others:
        parts.append(
            "the document's table driven by the true regime instead of the detector (what "
            "detection costs)"
        )
    if len(others) > (TRUE_REGIME in others):
        parts.append("each tuned baseline (what the table costs)")
    lines = [
        "## Detection and table",
        "",
        "Paired differences against the rule baseline on the same seeds: "
        + ", and ".join(parts)
        + ". Paired t-tests; Holm across conditions.",
        "",
    ]
    for m in dict.fromkeys([comp.primary, "pnl"]):
        lines += [
            f"{label(comp, m)}:",
            "",
            "| condition | " + " | ".join(f"{r} - baseline (p / Holm)" for r in others) + " |",
            "|---|" + "---|" * len(others),
        ]
        for cond in comp.conditions:
            cells = []
            for r in others:
                d = comp.diff(cond, BASELINE, m, policy=r)
                cells.append(
                    f"{_signed(d['diff'])} {_ci_text(d['ci_low'], d['ci_high'])} "
                    f"({_p(d['p_value'])} / {_p(d['p_holm'])})"
                )
            lines.append(f"| {cond} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _runs_section(comp: Comparison) -> list[str]:
    m = comp.primary
    ref = comp.references[0]
    lines = [
        "## Runs",
        "",
        f"Each training run on its own block of seeds: the mean of {label(comp, m)} and, in "
        f"brackets, the paired difference with {_policy_text(comp, ref)} on that block and its "
        "paired t-test p-value.",
        "",
        "| run | " + " | ".join(comp.conditions) + " |",
        "|---|" + "---|" * len(comp.conditions),
    ]
    for run in comp.agents:
        cells = []
        for cond in comp.conditions:
            d = comp.diff(cond, ref, m, policy=run)
            value = comp.stat(cond, run, m)["value"]
            cells.append(f"{_g(value)} ({_signed(d['diff'])}, {_p_eq(d['p_value'])})")
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
    return [*lines, ""]


# ---------------------------------------------------------------------- plots


# ---------------------------------------------------------------------- order-book sections
def _params_section(comp: Comparison, folder: Path, images: Path) -> list[str]:
    from mm_gym.evaluation.plots import plot_params_by_regime, plot_params_over_episode

    agent = comp.agents[0]
    overall = comp.results[OVERALL]
    img = plot_params_by_regime(
        {policy: res.per_regime for policy, res in overall.items()},
        images / "params_by_regime.png",
        title="Quoting parameters chosen, by true regime (overall run)",
    )
    over = plot_params_over_episode(
        {policy: res.paths for policy, res in overall.items()},
        images / "params_over_episode.png",
        title=f"Quoting parameters chosen in the overall run, seed {comp.seeds[0]}",
    )
    base = comp.config.env_config().baseline
    table_rows = {
        "ranging": base.normal,
        "trending_up": base.trending,
        "trending_down": base.trending,
        "high_vol": base.high_vol,
        "news": base.news,
    }
    who = "agent" if not comp.multi else f"agent {agent}"
    lines = [
        "## Quoting parameters by regime",
        "",
        "Mean spread multiplier / inventory skew / size fraction chosen in each true regime: "
        "in the overall run (regimes switching) and in the runs with the regime pinned; the "
        "last column is the baseline's configured table (high vol: the spread widens up to "
        f"{base.high_vol_max_spread}x with volatility; news: no quoting).",
        "",
        f"| regime | {who} (overall) | baseline (overall) | {who} (pinned) | "
        "baseline (pinned) | baseline table |",
        "|---|---|---|---|---|---|",
    ]
    for regime, row in table_rows.items():
        cells = [regime]
        for cond in (OVERALL, regime):
            for policy in (agent, BASELINE):
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
    lines += [
        "",
        f"![parameters by regime]({img.relative_to(folder).as_posix()})",
        "",
        "Every policy's parameters over the first episode of the overall run, against the true "
        "regime (shaded):",
        "",
        f"![parameters over an episode]({over.relative_to(folder).as_posix()})",
        "",
    ]
    return lines


DECOMPOSITION = (
    ("pnl", "PnL"),
    ("spread_captured", "spread captured"),
    ("carry", "inventory carry"),
    ("fees", "fees"),
    ("markout_1s", "markout 1 s"),
    ("markout_10s", "markout 10 s"),
    ("markout_60s", "markout 60 s"),
    ("sharpe_hourly", "Sharpe / h across episodes"),
)


def _decomposition_section(comp: Comparison, folder: Path, images: Path) -> list[str]:
    table = comp.decomposition
    lines = [
        "## Where the PnL comes from",
        "",
        "Means per episode (the agent's over all its runs): PnL = spread captured + inventory "
        "carry - fees, where the spread captured is side x (mid - price) x lots at each maker "
        "fill and the carry is the rest (the inventory's mark-to-market). Markouts: mean mid "
        "move per lot after a fill, signed so that positive means not adversely selected. "
        "Sharpe / h across episodes: mean / standard deviation of the episode PnL, scaled to "
        "one hour (non-overlapping episodes: no autocorrelation to correct).",
        "",
    ]
    for cond in comp.conditions:
        rows = table[table.condition == cond].set_index("policy")
        lines += [
            f"{cond}:",
            "",
            "| policy | " + " | ".join(label for _, label in DECOMPOSITION) + " |",
            "|---|" + "---|" * len(DECOMPOSITION),
        ]
        for policy, row in rows.iterrows():
            lines.append(f"| {policy} | " + " | ".join(_g(row[c]) for c, _ in DECOMPOSITION) + " |")
        cols = [c for c, _ in DECOMPOSITION]
        edge = rows.loc[AGENT, cols] - rows.loc[BASELINE, cols]
        lines.append(
            "| agent - baseline | "
            + " | ".join(_g(edge[c]) if c != "sharpe_hourly" else "" for c, _ in DECOMPOSITION)
            + " |"
        )
        lines.append("")
    img = plot_decomposition(comp, images / "pnl_decomposition.png")
    return [*lines, f"![PnL decomposition]({img.relative_to(folder).as_posix()})", ""]


def _reward_name(comp: Comparison) -> str:
    env = comp.config.env_config()
    return getattr(env, "reward", "cjp_objective")


# ---------------------------------------------------------------------- the report
def _header(comp: Comparison, folder: Path) -> list[str]:
    cfg = comp.config
    if comp.multi:
        seeds = ", ".join(str(r.config().seed) for r in comp.runs)
        title = f"{folder.name} ({len(comp.runs)} runs)"
        who = (
            f"{len(comp.runs)} runs of one config, training seeds {seeds} "
            f"({', '.join(comp.agents)})"
        )
    else:
        title = comp.runs[0].name
        who = "one run"
    tuned = [r for r in comp.references if r not in (BASELINE, TRUE_REGIME)]
    if not comp.env.rule_baseline:
        first, *others = comp.references
        ref_text = f"the closed-form reference agents {first} (optimal for this objective)" + (
            f", {', '.join(others)}" if others else ""
        )
    else:
        ref_text = (
            "the rule baseline (RuleBasedPolicy: regime detection + the parameter table of "
            "docs/market-maker-strategy.md)"
            + (
                f", the tuned baseline(s) {', '.join(tuned)} (the baseline and strategy "
                "sections of the --baseline files)"
                if tuned
                else ""
            )
            + (
                f" and, as an ablation, the document's table driven by the true regime "
                f"({TRUE_REGIME})"
                if TRUE_REGIME in comp.references
                else ""
            )
        )
    blocks = "; ".join(f"{key} {seeds[0]}..{seeds[-1]}" for key, seeds in comp.blocks.items())
    claim = (
        f"a **{comp.family}** family, for stating claims"
        if comp.claim
        else f"**{comp.family}** seeds: a result for choices, **not a claim**"
    )
    lines = [
        f"# Report: {title}",
        "",
        f"- Agent: {cfg.algo.upper()} on {cfg.env_id}, {who}, {cfg.total_timesteps} timesteps "
        f"({cfg.n_envs} markets), {comp.model} model, deterministic actions.",
        f"- Compared with {ref_text}. Each run plays its own block of seeds and every "
        f"reference plays the same block (common random numbers): {blocks}. Seeds: {claim} "
        "(families: training markets spawned per run, evaluation callback "
        f"{EVAL_SEED_BASE:,}.., development {DEV_SEED_BASE:,}.., final {FINAL_SEED_BASE:,}.., "
        f"replication {REPLICATION_SEED_BASE:,}..).",
    ]
    data = comp.recording
    if data is not None:
        lines.append(
            f"- **Market: the recording {data}**, replayed: each seed draws a window of "
            f"{cfg.env_config().session_s:g} s. Windows of one recording overlap, so episodes "
            "are not independent and the intervals are too narrow: a result about this "
            "recording, **not a claim**. No market impact: the fills of the agent and of the "
            "references take nothing from the recorded flow. Regimes are unknown."
        )
    if comp.family not in FAMILIES:
        lines.append(
            "- **These seeds are not of a scoring family: they trained, tuned or selected a "
            "model, so results on them are biased upwards.**"
        )
    correction = (
        "Verdicts use Holm-adjusted p-values across the conditions (--holm)."
        if comp.holm
        else "Each verdict is an uncorrected per-regime test at the 5% level; the "
        "Holm-adjusted p-values across the conditions are given beside it."
    )
    objective = (
        f": the sum of the env's rewards ('{_reward_name(comp)}', see mm_gym.envs.rewards), "
        "which the agent maximises; PnL is the final mark-to-market equity"
        if comp.primary == "episode_return"
        else ""
    )
    lines.append(f"- The verdicts use {label(comp, comp.primary)}{objective}. {correction}")
    if comp.multi:
        lines.append(
            "- The unit is the training run: per run, the mean over its block of agent - "
            "reference; the estimate is their mean, with a 95% Student t interval over the "
            f"runs ({len(comp.agents) - 1} degrees of freedom). 'Beats' needs the interval "
            f"above 0 and at least {WIN_SHARE:.0%} of runs winning. Beside it: a hierarchical "
            "bootstrap interval (runs, then seeds), and rliable's probability of improvement "
            "and IQM over the per-run means."
        )
    else:
        lines.append(
            "- One run: 95% t-intervals over its seeds; differences are paired per seed "
            "(agent - reference) with a two-sided paired t-test. That is a result about this "
            "network; a claim about the configuration needs several runs (`--seeds` in train)."
        )
    lines.append(
        "- One seed set per row: a seed where any policy's value is missing (e.g. a markout "
        "without fills) is dropped for every policy; n says how many are left."
    )
    return [*lines, ""]


def write_report(comp: Comparison, folder: str | Path) -> Path:
    """Write ``folder/report.md`` and its PNGs under ``folder/compare/``; return the path."""
    folder = Path(folder)
    images = folder / "compare"
    images.mkdir(parents=True, exist_ok=True)
    env = comp.env
    lines = [*_header(comp, folder), "## Summary", "", *_summary_table(comp), "", "## Verdict", ""]
    for ref in comp.verdict_references:
        lines += [f"- {verdict(comp, cond, ref)}" for cond in comp.conditions]
    lines.append("")
    lines += _pairing_section(comp)
    if env.rule_baseline:
        lines += _ablation_section(comp)
    if comp.multi:
        lines += _runs_section(comp)
    for cond in comp.conditions:
        title = "Overall (regimes switching)" if cond == OVERALL else f"Regime pinned: {cond}"
        if not env.regimes:
            title = "Overall"
        img = plot_metrics(comp, cond, images / f"metrics_{cond}.png")
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
        img = plot_paired(comp, ref, images / f"paired_{ref}.png")
        lines.append(f"![paired differences vs {ref}]({img.relative_to(folder).as_posix()})")
    lines.append("")
    img = plot_equity(comp, images / "equity.png")
    lines += ["## Equity curves", "", f"![equity]({img.relative_to(folder).as_posix()})", ""]
    if env.engine == "avellaneda_stoikov":  # its paths carry the half-spread and skew
        img = plot_as_quotes(comp, images / "quotes_by_inventory.png")
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
        lines += _decomposition_section(comp, folder, images)
        lines += _params_section(comp, folder, images)
    text = "\n".join(lines) + "\n"
    path = folder / "report.md"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text), suffix=".md")
    return path


def compare_and_report(
    run_path: str | Path | Sequence[str | Path], **kwargs: Any
) -> tuple[Comparison, Path]:
    """``compare_run`` (same arguments), then ``write_report`` into its output folder: the
    comparison and the path of ``report.md``."""
    comp = compare_run(run_path, **kwargs)
    return comp, write_report(comp, comp.out)
