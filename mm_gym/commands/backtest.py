"""``mm-gym backtest``: the rule-based market maker over seeded episodes, with tables and plots.

Runs ``RuleBasedPolicy`` (regime detection + the strategy document's parameter table) on
seeds ``S .. S+N-1``, all batched in one simulation, and writes to the output folder:
``config.yaml`` (the resolved env config, loadable with ``--config``), ``episodes.csv``,
``per_regime.csv``, ``confusion.csv`` (detected vs true regime), ``equity.png``,
``inventory.png``, ``quotes.png`` (first episode), ``regimes.png``, ``params.png`` and
``summary.md``. ``--param-noise`` plays ``NoisyRuleBasedPolicy`` instead: the table with
Gaussian noise on its parameters, what exploring around it costs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mm_gym.commands.output import (
    add_data_options,
    command_line,
    data_options,
    fmt,
    int_arg,
    md_table,
    number_arg,
    out_dir,
    seconds_arg,
    text_table,
)
from mm_gym.config import shipped_configs
from mm_gym.envs.baseline_policy import NoisyRuleBasedPolicy, RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import make_config
from mm_gym.errors import ConfigError
from mm_gym.market.config import MarketConfig
from mm_gym.market.regimes import REGIME_NAMES, regime_index
from mm_gym.strategy.layout import PARAM_NAMES

DEFAULT_EPISODES = 32
PROGRESS_MIN_MARKET_STEPS = 50_000  # show a progress bar from this many market-steps on
SUMMARY_METRICS = (
    ("episode_return", "objective (episode return)"),
    ("pnl", "PnL"),
    ("sharpe", "Sharpe (1 h)"),
    ("max_drawdown", "max drawdown"),
    ("fills", "fills"),
    ("fill_rate", "fills / quoting min"),
    ("markout_1s", "markout 1 s / lot"),
    ("markout_10s", "markout 10 s / lot"),
    ("markout_60s", "markout 60 s / lot"),
    ("time_quoting", "time quoting"),
    ("inventory_mean_abs", "mean |inventory|"),
)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "backtest",
        help="run the rule-based market maker over seeded episodes",
        description=(
            "Run the rule-based market maker (regime detector + the strategy's parameter "
            "table) over seeds S..S+N-1 and write tables, plots and a summary."
        ),
    )
    p.add_argument(
        "--config",
        metavar="FILE|NAME",
        help="EnvConfig YAML file, or a shipped env config's name "
        f"({', '.join(shipped_configs('envs'))}; default: built-in defaults)",
    )
    p.add_argument(
        "--episodes",
        metavar="N",
        default=str(DEFAULT_EPISODES),
        help=f"number of episodes, one per seed (default {DEFAULT_EPISODES})",
    )
    p.add_argument("--seed", metavar="S", default="0", help="first seed (default 0)")
    p.add_argument(
        "--market",
        metavar="NAME|FILE",
        help="the market: a shipped market's name "
        f"({', '.join(shipped_configs('markets'))}) or a MarketConfig YAML file; replaces "
        "the config's market (default: the config's)",
    )
    p.add_argument(
        "--regime",
        metavar="NAME",
        help=f"pin the market regime: {', '.join(REGIME_NAMES)} (default: switching)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output folder, new or empty (default runs/backtest-<timestamp>)",
    )
    p.add_argument(
        "--session-s",
        metavar="SECONDS",
        dest="session_s",
        help="episode length in seconds (default: the config's session_s)",
    )
    p.add_argument(
        "--param-noise",
        metavar="SD,SD,SD",
        dest="param_noise",
        help="add Gaussian noise of these standard deviations to the table's spread "
        "multiplier, inventory skew and size fraction at every decision step (held to the "
        "action ranges; drawn from --seed): what exploring around the table costs",
    )
    add_data_options(p)
    p.set_defaults(func=run)
    return p


# ----------------------------------------------------------------------------- inputs
def backtest_config(
    config_path: str | None,
    regime: str | None,
    session_s: float | None,
    market: str | None = None,
    data: str | None = None,
    shares_per_lot: float | None = None,
) -> EnvConfig:
    """The env config of a backtest: the YAML file (or defaults) plus the command's options.

    ``market`` (a preset name or a file) replaces the config's market; ``regime`` pins it;
    ``data`` replays a recording instead (``shares_per_lot`` of its sizes a lot).
    """
    overrides: dict[str, Any] = {}
    if session_s is not None:
        overrides["session_s"] = session_s
    if data is not None:
        overrides["data"] = data
    if shares_per_lot is not None:
        overrides["shares_per_lot"] = shares_per_lot
    cfg = make_config(None, config_path, **overrides)
    if market is not None:
        cfg = cfg.replace(market=MarketConfig.preset(market))
    if regime is not None:
        regime_index(regime, field="--regime")
        cfg = cfg.replace(market={"pin_regime": regime})
    return cfg


def param_noise_arg(text: str) -> np.ndarray:
    """``--param-noise``'s three standard deviations (spread, skew, size), each >= 0."""
    parts = str(text).split(",")
    if len(parts) != len(PARAM_NAMES):
        raise ConfigError(
            f"--param-noise={text!r}: expected three numbers >= 0 ({', '.join(PARAM_NAMES)})"
        )
    return np.array(
        [
            number_arg(f"--param-noise {name}", part, "a standard deviation", least=True)
            for name, part in zip(PARAM_NAMES, parts, strict=True)
        ]
    )


# ----------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    episodes = int_arg("--episodes", args.episodes, 1)
    seed = int_arg("--seed", args.seed, 0)
    session_s = None if args.session_s is None else seconds_arg("--session-s", args.session_s)
    cfg = backtest_config(args.config, args.regime, session_s, args.market, *data_options(args))
    noise = None if args.param_noise is None else param_noise_arg(args.param_noise)
    if noise is None:
        policy = RuleBasedPolicy(cfg)
    else:
        # the baseline plays its table in either action mode; the noise is added in absolute
        cfg = cfg.replace(action_mode="absolute")
        policy = NoisyRuleBasedPolicy(cfg, noise, seed=seed)
    out = out_dir(args.out, "backtest")

    from mm_gym.evaluation import plots
    from mm_gym.evaluation.episodes import confusion_matrix, run_episodes

    seeds = list(range(seed, seed + episodes))
    progress = cfg.steps_per_episode * episodes >= PROGRESS_MIN_MARKET_STEPS and sys.stderr.isatty()
    started = time.perf_counter()
    res = run_episodes(policy, cfg, seeds, record_paths=True, progress=progress)
    elapsed = time.perf_counter() - started
    paths = res.paths
    recorded = cfg.data is not None  # regimes unknown: no per-regime tables or detector check
    confusion = None if recorded else confusion_matrix(paths)
    summary = res.summary([m for m, _ in SUMMARY_METRICS])

    out.mkdir(parents=True, exist_ok=True)
    command = command_line(
        "backtest",
        args,
        (
            "config",
            "episodes",
            "seed",
            "market",
            "regime",
            "out",
            "session_s",
            "data",
            "shares_per_lot",
            "param_noise",
        ),
    )
    header = f"# resolved env config of: {command}\n# seeds {seeds[0]}..{seeds[-1]}\n"
    (out / "config.yaml").write_text(header + yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    res.episodes.to_csv(out / "episodes.csv", index=False)
    if not recorded:
        res.per_regime.to_csv(out / "per_regime.csv")
        confusion.to_csv(out / "confusion.csv")
    summary.to_csv(out / "summary.csv")

    time_axis = np.nanmax(paths["time"], axis=0)
    strat = cfg.strategy
    plots.plot_equity(
        time_axis,
        paths["equity"],
        out / "equity.png",
        title=f"Rule-based market maker: equity ({episodes} episodes)",
    )
    plots.plot_inventory(
        time_axis,
        paths["inventory"],
        out / "inventory.png",
        max_inventory=strat.max_inventory,
        soft_limit=strat.soft_limit,
    )
    plots.plot_quotes(paths, out / "quotes.png", episode=0)
    if not recorded:
        plots.plot_regimes(res.per_regime, out / "regimes.png")
        plots.plot_params_by_regime(res.per_regime, out / "params.png")

    (out / "summary.md").write_text(
        _summary_md(command, cfg, seeds, res, summary, confusion, elapsed, noise)
    )
    _print_summary(cfg, seeds, res, summary, confusion, elapsed, out, noise)
    return 0


# ----------------------------------------------------------------------------- reporting
MIN_CI_EPISODES = 10  # below it a t interval over episodes is too wide to mean much


def _ci(row: pd.Series) -> str:
    if row["n"] < MIN_CI_EPISODES:
        return f"n = {int(row['n'])}: too few for an interval"
    return f"[{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]"


def _summary_rows(res, summary: pd.DataFrame, confusion: pd.DataFrame) -> list[list[str]]:
    rows = []
    for metric, label in SUMMARY_METRICS:
        r = summary.loc[metric]
        rows.append([label, fmt(r["mean"]), _ci(r)])
    ep = res.episodes
    rows.append(["daily stops", f"{int(ep['daily_stop'].sum())} of {len(ep)}", ""])
    rows.append(["stop losses", str(int(ep["stop_losses"].sum())), "total"])
    if confusion is not None:
        accuracy = f"{confusion.attrs['accuracy']:.1%}"
        rows.append(["detector accuracy", accuracy, "of decision steps"])
    return rows


def _describe(cfg: EnvConfig, seeds: list[int], noise: np.ndarray | None = None) -> str:
    if cfg.data is not None:
        text = (
            f"rule-based baseline, {len(seeds)} window(s) x {cfg.session_s:g} s of the recording "
            f"{cfg.data} (seeds {seeds[0]}..{seeds[-1]}); no market impact, regimes unknown"
        )
    else:
        text = (
            f"rule-based baseline, {len(seeds)} episode(s) x {cfg.session_s:g} s "
            f"(seeds {seeds[0]}..{seeds[-1]}), regime: {cfg.market.pin_regime or 'switching'}"
        )
    if noise is not None:
        sds = ", ".join(f"{name} {sd:g}" for name, sd in zip(PARAM_NAMES, noise, strict=True))
        text += f"; Gaussian noise on the table's parameters, sd: {sds}"
    return text


def _print_summary(cfg, seeds, res, summary, confusion, elapsed, out: Path, noise) -> None:
    print(f"mm-gym backtest: {_describe(cfg, seeds, noise)}")
    print(text_table(_summary_rows(res, summary, confusion), ["metric", "mean", "95% CI"]))
    print(f"ran in {elapsed:.1f} s; files in {out}/: {', '.join(_files(cfg))}")


def _files(cfg: EnvConfig) -> list[str]:
    regimes = ["per_regime.csv", "confusion.csv", "regimes.png", "params.png"]
    return [
        "config.yaml",
        "episodes.csv",
        "summary.csv",
        "summary.md",
        "equity.png",
        "inventory.png",
        "quotes.png",
        *([] if cfg.data is not None else regimes),
    ]


def _summary_md(command, cfg, seeds, res, summary, confusion, elapsed, noise) -> str:
    rows = _summary_rows(res, summary, confusion)
    metrics = "\n".join(
        ["| metric | mean | 95% CI |", "|---|---|---|"]
        + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    )
    s = cfg.strategy
    return f"""# Backtest: rule-based market maker

`{command}` ({elapsed:.1f} s)

{_describe(cfg, seeds, noise)}.

- decision step {cfg.decision_interval_ms:g} ms, quote refresh {s.quote_refresh_ms:g} ms
- base spread {s.base_spread_bps:g} bps, max inventory {s.max_inventory} lots, quote size \
{s.quote_size} lots
- order latency {cfg.market.latency_ms:g} ms, feed latency {cfg.market.feed_latency_ms:g} ms, \
fees maker {cfg.market.maker_fee_bps:g} / taker {cfg.market.taker_fee_bps:g} bps

Money is in currency units of the instrument; markouts are per lot (positive: the
fill was not adversely selected). Confidence intervals are t-based over episodes.

## Episodes

{metrics}

{_regime_sections(res, confusion)}
## Plots

![equity](equity.png)

![inventory](inventory.png)

![quotes](quotes.png)
"""


def _regime_sections(res, confusion: pd.DataFrame | None) -> str:
    if confusion is None:
        return (
            "## Regimes\n\nUnknown on a recording: no per-regime tables and no detector check. "
            "Replay has no market impact: our fills take nothing from the recorded flow. "
            "Windows of one recording overlap, so its episodes are not independent: the "
            "intervals above, which treat them as independent, are too narrow.\n"
        )
    return f"""## By true regime

PnL: equity change over the decision steps that began in the regime, per episode.

{md_table(res.per_regime)}

![regimes](regimes.png)

![params](params.png)

## Regime detector

Decision steps by true regime (rows) and the baseline's detected regime (columns).
The news flag goes up before announced news (the lead time), so "news" is detected during
the lead although the true label is still the regime underneath.

{md_table(confusion)}
"""
