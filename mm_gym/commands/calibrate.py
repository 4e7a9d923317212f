"""``mm-gym calibrate PATH --out market.yaml``: fit the simulator to a recording
(``mm_gym.market.calibrate``) and write a market config that ``--market`` accepts, with a
report of the facts of the recording, the calibrated market and ``default`` side by side."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import pandas as pd
import yaml

from mm_gym.commands.output import command_line, int_arg, md_table, number_arg, out_dir, text_table
from mm_gym.errors import ConfigError
from mm_gym.market import realism as rz
from mm_gym.market.config import DEFAULT_SHARES_PER_LOT, MarketConfig

__all__ = ["add_parser", "run"]

REPORT_FACTS = (
    "ret_std_1s",
    "ret_std_1min",
    "ret_std_5min",
    "kurt_1s",
    "sig_ratio",
    "spread_bps",
    "spread_ticks",
    "executions_per_s",
    "events_per_s",
    "sign_acf_lag1",
    "sign_acf_lag10",
)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "calibrate",
        help="fit the simulated market to a recording; write a market YAML",
        description="Fit the simulator's volatility (intraday pattern included), market-order "
        "rates and sizes, spread and metaorder runs to a recording (mm-gym data convert) so "
        "that its stylised facts match, and write a MarketConfig YAML for --market. The "
        "report puts the facts of the recording, the calibrated market and default side by "
        "side.",
    )
    p.add_argument("data", metavar="PATH", help="the recording (Parquet, mm-gym data convert)")
    p.add_argument("--out", metavar="FILE", required=True, help="the market YAML to write")
    p.add_argument("--tick", metavar="PRICE", help="the recording's tick (default: inferred)")
    p.add_argument(
        "--shares-per-lot",
        metavar="Q",
        default=f"{DEFAULT_SHARES_PER_LOT:g}",
        help=f"the recording's size units per simulated lot (default "
        f"{DEFAULT_SHARES_PER_LOT:g}: a 100-share round lot is 10 lots, as the shipped "
        "small_tick market)",
    )
    p.add_argument("--markets", metavar="N", default="8", help="markets per round (default 8)")
    p.add_argument("--hours", metavar="H", default="1", help="hours per market (default 1)")
    p.add_argument("--rounds", metavar="R", default="6", help="rounds at most (default 6)")
    p.add_argument("--seed", metavar="S", default="0", help="first seed (default 0)")
    p.add_argument(
        "--report", metavar="DIR", help="report folder (default runs/calibrate-<timestamp>)"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from mm_gym.market.calibrate import TARGETS, TOLERANCE, calibrate
    from mm_gym.market.recorded import record_recording

    markets = int_arg("--markets", args.markets, 2)
    hours = number_arg("--hours", args.hours, "a number of hours", 0.1, least=True)
    rounds = int_arg("--rounds", args.rounds, 1)
    seed = int_arg("--seed", args.seed, 0)
    lot = number_arg("--shares-per-lot", args.shares_per_lot, "a size", 0.0)
    tick = None if args.tick is None else number_arg("--tick", args.tick, "a price")
    target = Path(args.out)
    if target.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"--out {args.out!r}: expected a .yaml file (the market config)")
    report = out_dir(args.report, "calibrate", option="--report")

    started = time.perf_counter()
    record = record_recording(args.data, tick=tick)
    cal = calibrate(
        record, markets=markets, hours=hours, seed=seed, rounds=rounds, shares_per_lot=lot
    )
    default = rz.market_stats(rz.collect(MarketConfig(), markets, hours, seed))
    elapsed = time.perf_counter() - started

    command = command_line(
        "calibrate",
        args,
        ("out", "tick", "shares_per_lot", "markets", "hours", "rounds", "seed"),
        positional=[args.data],
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# MarketConfig fitted to the recording {args.data} by `{command}`\n"
        f"# ({len(cal.rounds)} round(s) of {markets} markets x {hours:g} h; report in {report})\n"
    )
    text = yaml.safe_dump(cal.market.to_dict(), sort_keys=False)
    if MarketConfig.from_dict(yaml.safe_load(text)) != cal.market:  # what --market will read
        raise ConfigError(f"--out {args.out!r}: the fitted market does not survive its YAML")
    target.write_text(header + text)

    labels = {key: rz.FACTS_BY_KEY[key].label for key in REPORT_FACTS}
    facts = pd.DataFrame(
        {
            "recording": [cal.recording.values.get(k, math.nan) for k in REPORT_FACTS],
            "calibrated": [cal.fitted.values.get(k, math.nan) for k in REPORT_FACTS],
            "default": [default.values.get(k, math.nan) for k in REPORT_FACTS],
        },
        index=[labels[k] for k in REPORT_FACTS],
    )
    facts["calibrated / recording"] = facts.calibrated / facts.recording
    facts["default / recording"] = facts["default"] / facts.recording
    report.mkdir(parents=True, exist_ok=True)
    facts.to_csv(report / "facts.csv")
    cal.rounds.to_csv(report / "rounds.csv", index=False)
    figures = _plots(report, cal, default, TARGETS, TOLERANCE)
    matched = cal.matched()
    verdicts = [
        f"- {TARGETS[k]}: x{cal.ratios()[k]:.2f} — "
        + ("not estimable on the recording" if ok is None else "matched" if ok else "NOT matched")
        for k, ok in matched.items()
    ]
    (report / "report.md").write_text(
        "\n\n".join(
            [
                f"# Calibration to {args.data}",
                f"`{command}`: {len(cal.rounds)} round(s) of {markets} markets x {hours:g} h "
                f"(seeds {seed}..{seed + markets - 1}); wrote `{target}` in {elapsed:.0f} s.",
                "## The matched facts (calibrated over recording; matched within "
                f"{TOLERANCE[0]:g}x to {TOLERANCE[1]:g}x)\n\n" + "\n".join(verdicts),
                "![facts against the recording](calibration.png)",
                "## Facts side by side\n\n" + md_table(facts, "fact"),
                "## How it was fitted\n\n" + "\n".join(f"- {n}" for n in cal.notes),
                "## Rounds (levers, and facts simulated over recorded)\n\n"
                + md_table(cal.rounds.set_index("round"), "round"),
                "\n\n".join(f"![{name}]({name}.png)" for name in figures),
                "A calibration matches facts, not paths. Background events per second compare "
                "only on a full-depth recording: one of the best levels shows fewer changes.",
            ]
        )
        + "\n"
    )
    rows = [
        [TARGETS[k], _num(cal.recording.values[k]), _num(cal.fitted.values[k]), f"x{r:.2f}"]
        for k, r in cal.ratios().items()
    ]
    print(text_table(rows, ["fact", "recording", "calibrated", "ratio"]))
    print(f"wrote {target} ({len(cal.rounds)} rounds, {elapsed:.0f} s); report: {report}/")
    return 0


def _num(x: float) -> str:
    return "nan" if not math.isfinite(x) else f"{x:.4g}"


def _plots(report: Path, cal, default: rz.MarketStats, targets, tolerance) -> list[str]:
    """The report's figures beyond the ratios' chart; the names of those written."""
    from mm_gym.evaluation import plots as rp  # matplotlib only when run
    from mm_gym.market.calibrate import ratio

    written = []
    rec = cal.recording
    ratios = {
        "calibrated": cal.ratios(),
        "default": {k: ratio(default.values[k], rec.values[k]) for k in targets},
    }
    rp.plot_calibration(ratios, targets, tolerance, report / "calibration.png")
    if "signature_rv" in cal.fitted.curves and "signature_rv" in rec.curves:
        rp.plot_signature(
            cal.fitted.curves["signature_s"],
            cal.fitted.curves["signature_rv"],
            report / "signature.png",
            (rec.curves["signature_s"], rec.curves["signature_rv"]),
        )
        written.append("signature")
    rp.plot_trade_sign_acf(
        cal.fitted.curves.get("sign_acf"), report / "trade_sign_acf.png", rec.curves.get("sign_acf")
    )
    return [*written, "trade_sign_acf"]
