"""``mm-gym competition``: rule market makers competing in one book, 1, 2, 4 and 8 of them.

Runs B books (seeds S..S+B-1) for H hours with each number of makers, every maker quoting the
strategy document's table (``mm_gym.evaluation.competition``), and writes to the output
folder: ``competition.csv`` (per number of makers, each figure's mean over books and its
standard error), ``competition.png`` and ``report.md``.
"""

from __future__ import annotations

import argparse
import time

from mm_gym.commands.facts import resolve_market
from mm_gym.commands.output import command_line, fmt, int_arg, number_arg, out_dir, text_table
from mm_gym.config import shipped_configs
from mm_gym.errors import ConfigError
from mm_gym.evaluation.competition import COMPETITION_MAKERS, competition
from mm_gym.market.sim import MAX_MAKERS

DEFAULT_BOOKS = 64
DEFAULT_HOURS = 1.0
SHOWN = {  # console and report columns: figure -> heading
    "inside_spread_bps": "inside spread bps",
    "background_spread_bps": "background spread bps",
    "maker_fills_per_h": "fills/h per maker",
    "maker_pnl_per_h": "PnL/h per maker",
    "maker_spread_captured_per_h": "spread captured/h per maker",
    "makers_pnl_per_h": "PnL/h all makers",
    "takers_cost_per_h": "takers' cost/h",
    "makers_volume_per_h": "makers' lots/h",
    "makers_fees_per_h": "makers' fees/h",
    "maker_halted": "halted share",
}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "competition",
        help="rule market makers competing in one book: spreads, fills, PnL, takers' cost",
        description=(
            "Run books with 1, 2, 4 and 8 market makers, each quoting the strategy document's "
            "table, and report the inside spread, each maker's fills and PnL per hour and the "
            "takers' cost, with standard errors over books."
        ),
    )
    p.add_argument(
        "--market",
        metavar="NAME|FILE",
        help="MarketConfig YAML, or the name of a shipped market "
        f"({', '.join(shipped_configs('markets'))}; default: built-in defaults)",
    )
    p.add_argument(
        "--makers",
        metavar="M,M,..",
        default=",".join(map(str, COMPETITION_MAKERS)),
        help=f"makers per book, each a run (default {','.join(map(str, COMPETITION_MAKERS))})",
    )
    p.add_argument(
        "--books",
        metavar="B",
        default=str(DEFAULT_BOOKS),
        help=f"books per run, one seed each (default {DEFAULT_BOOKS})",
    )
    p.add_argument(
        "--hours", metavar="H", default=str(DEFAULT_HOURS), help="hours per book (default 1)"
    )
    p.add_argument("--seed", metavar="S", default="0", help="first seed (default 0)")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output folder, new or empty (default runs/competition-<timestamp>)",
    )
    p.set_defaults(func=run)
    return p


def makers_arg(text: str) -> tuple[int, ...]:
    """``--makers`` as a tuple of distinct counts from 1 to ``MAX_MAKERS``."""
    try:
        values = tuple(int(x) for x in str(text).split(","))
    except ValueError:
        values = ()
    if (
        not values
        or any(not 1 <= v <= MAX_MAKERS for v in values)
        or len(set(values)) < len(values)
    ):
        raise ConfigError(
            f"--makers={text!r}: expected distinct integers from 1 to {MAX_MAKERS}, "
            "comma-separated (e.g. 1,2,4,8)"
        )
    return values


def run(args: argparse.Namespace) -> int:
    makers = makers_arg(args.makers)
    books = int_arg("--books", args.books, 2)
    hours = number_arg("--hours", args.hours, "a number of hours", 1.0 / 60.0, least=True)
    seed = int_arg("--seed", args.seed, 0)
    market, market_name = resolve_market(args.market)
    out = out_dir(args.out, "competition")

    started = time.perf_counter()
    table = competition(makers, books, hours, seed, market)
    elapsed = time.perf_counter() - started

    from mm_gym.evaluation.plots import plot_competition  # matplotlib only when run

    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "competition.csv")
    plot_competition(table, out / "competition.png")
    header = (
        f"market {market_name}, {books} books x {hours:g} h (seeds {seed}..{seed + books - 1}), "
        "every maker quoting the strategy document's table"
    )
    rows = [[str(m)] + [_cell(table, m, c) for c in SHOWN] for m in table.index]
    console = text_table(rows, ["makers", *SHOWN.values()])
    command = command_line(
        "competition", args, ("market", "makers", "books", "hours", "seed", "out")
    )
    (out / "report.md").write_text(_report(command, header, elapsed, rows))
    print(f"mm-gym competition: {header}")
    print(console)
    print("(mean over books +- standard error; USD; takers' cost: the background's loss on its")
    print(" trades with the makers, marked at the final mid)")
    print(f"ran in {elapsed:.1f} s; report and plot in {out}/")
    return 0


def _cell(table, m: int, column: str) -> str:
    return f"{fmt(float(table.at[m, column]))} +- {fmt(float(table.at[m, column + '_se']))}"


def _report(command: str, header: str, elapsed: float, rows: list[list[str]]) -> str:
    head = ["makers", *SHOWN.values()]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(
        [
            "# Market makers competing in one book",
            "",
            f"{header}. Ran in {elapsed:.1f} s: `{command}`",
            "",
            "Each figure is the mean over books, +- its standard error over books (a book's "
            "makers share its market and are not independent). Per hour; USD. The inside "
            "spread counts the makers' quotes, the background spread only the background "
            "book's; both are time means over the decision steps. The takers' cost is the "
            "background's loss on its trades with the makers, marked at the final mid: what "
            "the makers earn from the takers before their fees.",
            "",
            *lines,
            "",
            "![competition](competition.png)",
            "",
        ]
    )
