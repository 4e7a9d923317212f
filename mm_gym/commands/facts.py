"""``mm-gym facts``: the simulated market's stylised facts beside real NASDAQ data.

Runs N markets (seeds S..S+N-1) for H hours with no quotes of the agent, measures the facts of
``mm_gym.market.realism.FACTS`` and the market maker's economics per pinned regime, and writes
to the output folder: ``report.md`` (each fact's value, band, verdict and the real AAPL and
GOOG values), ``facts.csv``, ``return_acf.csv``, ``economics.csv``, ``economics_episodes.csv``
and the plots ``return_acf.png``, ``abs_return_acf.png``, ``signature.png``, ``depth.png``,
``trade_sign_acf.png``, ``economics.png``. With ``--data``, a recording's facts, measured by
the same code (``mm_gym.market.recorded``), stand in a column beside the simulated ones.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mm_gym.commands.output import (
    command_line,
    fmt,
    int_arg,
    md_table,
    number_arg,
    out_dir,
    text_table,
)
from mm_gym.config import resolve_config
from mm_gym.errors import ConfigError
from mm_gym.evaluation.economics import Economics, economics_values, mm_economics
from mm_gym.market import realism as rz
from mm_gym.market.config import MarketConfig

DEFAULT_MARKETS = 64
DEFAULT_HOURS = 4.0
MIN_MARKETS = 2  # pooled statistics and confidence intervals need two markets
MIN_HOURS = 1.0 / 60.0
_SMALL_SAMPLE = (
    "note: {mh:g} market-hours, fewer than the default {default:g}: a FAIL here may be sampling "
    "noise; measure with the defaults before reading it as a fault of the market"
)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "facts",
        help="measure the simulated market's stylised facts against real data",
        description=(
            "Measure the stylised facts of the simulated market (returns, autocorrelations, "
            "kurtosis, volatility clustering, signature plot, spread, depth, flow, trade signs) "
            "and the market maker's economics per regime; report each against its target band "
            "and the real AAPL and GOOG values."
        ),
    )
    p.add_argument(
        "--market",
        metavar="NAME|FILE",
        help="MarketConfig YAML, or the name of a shipped preset (default: built-in defaults)",
    )
    p.add_argument(
        "--markets",
        metavar="N",
        default=str(DEFAULT_MARKETS),
        help=f"markets simulated, one per seed (default {DEFAULT_MARKETS})",
    )
    p.add_argument(
        "--hours",
        metavar="H",
        default=str(DEFAULT_HOURS),
        help=f"hours of market time per market (default {DEFAULT_HOURS:g})",
    )
    p.add_argument("--seed", metavar="S", default="0", help="first seed (default 0)")
    p.add_argument(
        "--data", metavar="PATH", help="a recording (mm-gym data convert): its facts too"
    )
    p.add_argument("--tick", metavar="PRICE", help="the recording's tick (default: inferred)")
    p.add_argument(
        "--out", metavar="DIR", help="output folder, new or empty (default runs/facts-<timestamp>)"
    )
    p.set_defaults(func=run)
    return p


# ----------------------------------------------------------------------------- inputs
def resolve_market(text: str | None) -> tuple[MarketConfig, str]:
    """The market of ``--market``: a YAML file or a shipped market preset's name; with its
    description."""
    if text is None:
        return MarketConfig(), "built-in default"
    path = resolve_config("markets", text)
    return MarketConfig.from_yaml(path), str(text) if str(path) != str(text) else str(path)


# ----------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    markets = int_arg("--markets", args.markets, 1)
    if markets < MIN_MARKETS:
        raise ConfigError(
            f"--markets={markets}: too few markets; expected >= {MIN_MARKETS} (pooled "
            "statistics and confidence intervals need two)"
        )
    hours = number_arg("--hours", args.hours, "a number of hours", MIN_HOURS, least=True)
    seed = int_arg("--seed", args.seed, 0)
    market, market_name = resolve_market(args.market)
    if args.tick is not None and args.data is None:
        raise ConfigError("--tick: only with --data (the recording's tick)")
    tick = None if args.tick is None else number_arg("--tick", args.tick, "a price")
    out = out_dir(args.out, "facts")

    started = time.perf_counter()
    recording = None if args.data is None else _recording(args.data, tick)
    stats = rz.market_stats(rz.collect(market, markets, hours, seed))
    econ = mm_economics(market, markets, hours, seed)
    facts = rz.evaluate_facts(stats, markets, hours, economics_values(econ))
    if recording is not None:
        values = recording[1].values
        facts.insert(1, "recording", [values.get(key, math.nan) for key in facts.index])
    elapsed = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    facts.to_csv(out / "facts.csv")
    _acf_table(stats).to_csv(out / "return_acf.csv")
    econ.table.to_csv(out / "economics.csv")
    econ.episodes.to_csv(out / "economics_episodes.csv", index=False)
    _plots(out, stats, recording[1] if recording is not None else None, econ)

    command = command_line(
        "facts", args, ("market", "markets", "hours", "seed", "data", "tick", "out")
    )
    header = _describe(market, market_name, markets, hours, seed, stats)
    if recording is not None:
        header += f"; beside it, {recording[0]}"
    (out / "report.md").write_text(_report(command, header, elapsed, stats, facts, econ))
    print(f"mm-gym facts: {header}")
    columns = ["fact", "value", *(["recording"] if recording else []), "band", "verdict"]
    print(text_table(_fact_rows(facts), columns))
    if (facts.verdict == "FAIL").any() and markets * hours < DEFAULT_MARKETS * DEFAULT_HOURS:
        print(_SMALL_SAMPLE.format(mh=markets * hours, default=DEFAULT_MARKETS * DEFAULT_HOURS))
    print(f"ran in {elapsed:.1f} s; report and plots in {out}/")
    return 0


def _recording(path: str, tick: float | None) -> tuple[str, rz.MarketStats]:
    """The recording's description and facts (needs the data extra)."""
    from mm_gym.data.store import read_metadata
    from mm_gym.market.recorded import record_recording

    meta = read_metadata(path)
    record = record_recording(path, tick=tick)
    what = " ".join(x for x in (meta.get("instrument"), meta.get("date")) if x)
    tick_bps = record.tick_size / record.mid[0, 0] * 1e4
    text = (
        f"the recording {path} ({what or meta.get('source', 'recording')}, "
        f"{record.hours:.2f} h; tick {record.tick_size:g} = {tick_bps:.3g} bps at the start)"
    )
    return text, rz.market_stats(record)


def _plots(out: Path, stats: rz.MarketStats, rec: rz.MarketStats | None, econ: Economics) -> None:
    """The report's figures; a recording's curves (``rec``) beside the simulated ones."""
    from mm_gym.evaluation import plots as rp  # matplotlib only when run

    def curve(s: rz.MarketStats | None, key: str) -> np.ndarray | None:
        return None if s is None else s.curves.get(key)

    def acfs(s: rz.MarketStats | None) -> dict[str, np.ndarray] | None:
        if s is None:
            return None
        return {k: s.curves[f"acf_{k}"] for k in rz.RETURN_INTERVALS_S if f"acf_{k}" in s.curves}

    rp.plot_return_acf(acfs(stats), out / "return_acf.png", acfs(rec))
    abs_acf = curve(stats, "abs_acf_1min")
    rp.plot_abs_return_acf(abs_acf, out / "abs_return_acf.png", curve(rec, "abs_acf_1min"))
    if "signature_rv" in stats.curves:
        sig = (stats.curves["signature_s"], stats.curves["signature_rv"])
        rec_sig = None
        if rec is not None and "signature_rv" in rec.curves:
            rec_sig = (rec.curves["signature_s"], rec.curves["signature_rv"])
        rp.plot_signature(*sig, out / "signature.png", rec_sig)
    if "depth_bid" in stats.tables:
        rp.plot_depth_profile(
            stats.tables["depth_bid"], stats.tables["depth_ask"], out / "depth.png"
        )
    rp.plot_trade_sign_acf(
        curve(stats, "sign_acf"), out / "trade_sign_acf.png", curve(rec, "sign_acf")
    )
    rp.plot_economics(econ.table, out / "economics.png")


# ----------------------------------------------------------------------------- report
def _describe(
    market: MarketConfig, name: str, markets: int, hours: float, seed: int, stats: rz.MarketStats
) -> str:
    tick_bps = market.tick_size / market.initial_price * 1e4
    size = "small" if rz.is_small_tick(stats) else "large"
    regime = market.pin_regime or "switching regimes"
    return (
        f"market {name}, {markets} markets x {hours:g} h (seeds {seed}..{seed + markets - 1}), "
        f"{regime}; tick {market.tick_size:g} = {tick_bps:.3g} bps ({size} tick)"
    )


def _value(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt(float(x))


def _fact_rows(facts: pd.DataFrame) -> list[list[str]]:
    recorded = "recording" in facts.columns
    return [
        [r.fact, _value(r.value), *([_value(r.recording)] if recorded else []), r.band, r.verdict]
        for r in facts.itertuples()
    ]


def _facts_md(facts: pd.DataFrame) -> str:
    recorded = "recording" in facts.columns
    head = ["fact", "simulated", *(["recording"] if recorded else []), "AAPL", "GOOG", "band"]
    head += ["verdict", "legacy default", "band source"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in facts.itertuples():
        verdict = f"**{r.verdict}**" if r.verdict == "FAIL" else r.verdict
        cells = [r.fact, _value(r.value), *([_value(r.recording)] if recorded else [])]
        cells += [_value(r.AAPL), _value(r.GOOG), r.band, verdict]
        cells += [_value(r.legacy), r.source]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _acf_table(stats: rz.MarketStats) -> pd.DataFrame:
    rows = {}
    for name in rz.RETURN_INTERVALS_S:
        acf = stats.curves.get(f"acf_{name}", np.full(rz.RETURN_ACF_LAGS, np.nan))
        rows[f"{rz.INTERVAL_LABELS[name]} returns"] = {
            f"lag {k + 1}": float(v) for k, v in enumerate(acf)
        }
    df = pd.DataFrame(rows).T
    df.index.name = "interval"
    return df


def _signature_md(stats: rz.MarketStats) -> str:
    if "signature_rv" not in stats.curves:
        return "Not estimable: " + stats.notes.get("sig_ratio", "too few samples") + "."
    df = pd.DataFrame(
        {"RV per second (bps^2/s)": stats.curves["signature_rv"]},
        index=pd.Index([f"{s:g} s" for s in stats.curves["signature_s"]], name="sampling"),
    )
    return md_table(df)


def _economics_md(econ: Economics) -> str:
    cols = ["pnl", "pnl_low", "pnl_high", "spread_captured", "fees", "inventory_carry"]
    cols += ["markout_1s", "markout_10s", "markout_60s", "fills"]
    df = econ.table[cols].copy()
    df.index = [f"{q} / {r}" for q, r in df.index]
    return md_table(df, "quoter / pinned regime")


def _report(
    command: str,
    header: str,
    elapsed: float,
    stats: rz.MarketStats,
    facts: pd.DataFrame,
    econ: Economics,
) -> str:
    spread = md_table(stats.tables["spread"], "unit") if "spread" in stats.tables else "-"
    depth = "-"
    if "depth_bid" in stats.tables:
        both = pd.concat(
            {"bid": stats.tables["depth_bid"], "ask": stats.tables["depth_ask"]}, axis=1
        )
        both.columns = [f"{side} {q}" for side, q in both.columns]
        depth = md_table(both)
    v = stats.values
    return f"""# Stylised facts of the simulated market

`{command}` ({elapsed:.1f} s)

{header}.

The background market is measured without the agent's quotes, after {rz.WARMUP_S:g} s of warm-up,
on a 1 s clock. Returns are log returns of the mid in bps; autocorrelations are pooled over
markets (each market demeaned on its own, lagged products summed within markets). Real
values: LOBSTER sample day 2012-06-21, AAPL and GOOG (NASDAQ). Legacy default: the default
market before its recalibration to these facts (`realism.LEGACY_DEFAULT`). A fact reads "not
estimable" when the sample is smaller than it needs (the verdict says how many markets x hours
would do). A "recording" column holds the same measures of the recording given with `--data`
(one market, its whole span on the same clock); the verdicts are the simulated market's.

## Facts

{_facts_md(facts)}

## Return autocorrelation, lags 1-5

{md_table(_acf_table(stats))}

![return ACF](return_acf.png)

## Volatility clustering

ACF of 1-min |returns| up to lag 60 min (log axes).

![|r| ACF](abs_return_acf.png)

## Signature plot

{_signature_md(stats)}

![signature plot](signature.png)

## Spread

Samples with both sides quoted; a side was empty in {_value(100 * v["empty_side_share"])}% of
the samples; the spread was one tick in {_value(100 * v["one_tick_share"])}%.

{spread}

## Depth on the first occupied levels (lots)

{depth}

![depth](depth.png)

## Flow

Background events {_value(v["events_per_s"])} per second (limit orders, cancellations, market
orders), {_value(v["volume_per_s"])} lots traded per second; correlation of 1-min |return| and
1-min volume {_value(v.get("vol_vol_corr", math.nan))}.

Executions (the kernel's trade tape): {_value(v["executions_per_s"])} background market orders
per second that traded, one walking several price levels counting once; the ACF of their signs
in trade time, pooled over markets, is {_value(v["sign_acf_lag1"])} at lag 1,
{_value(v["sign_acf_lag10"])} at lag 10 and {_value(v["sign_acf_lag100"])} at lag 100.

![trade signs](trade_sign_acf.png)

## Market maker per pinned regime (currency per hour)

The rule baseline (regime detector and parameter table) and the rule-free Normal-row quoter
(the table's normal row in every state; no trend asymmetry, pauses or stops), on the same
seeds, each regime pinned (news still happen). PnL = spread captured - fees + inventory
carry; spread captured is `side x (mid - price) x lots` over maker fills, the carry is the
rest (the mid's moves on the inventory, taker fills' crossing); markouts (the mid's move
after each fill, signed by its side, summed per hour) are the adverse-selection part of the
carry. `pnl_low`/`pnl_high`: 95% t interval over markets.

{_economics_md(econ)}

![economics](economics.png)
"""
