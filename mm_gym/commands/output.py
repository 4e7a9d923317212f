"""Shared pieces of the console commands: argument checks, output folders, tables."""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import shlex
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mm_gym.errors import ConfigError, RunError


def int_arg(name: str, text: str, low: int) -> int:
    """``text`` as an integer >= ``low``; ConfigError naming ``name`` otherwise."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{name}={text!r}: expected an integer >= {low}") from None
    if value < low:
        raise ConfigError(f"{name}={value}: expected an integer >= {low}")
    return value


def number_arg(name: str, text: str, what: str, low: float = 0.0, *, least: bool = False) -> float:
    """``text`` as a finite number above ``low`` (or equal to it, with ``least``);
    ConfigError naming ``name`` and saying ``what`` is expected otherwise."""
    try:
        value = float(str(text).strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and (value >= low if least else value > low)):
        raise ConfigError(f"{name}={text!r}: expected {what} {'>=' if least else '>'} {low:.4g}")
    return value


def seconds_arg(name: str, text: str) -> float:
    """``text`` as a number of seconds > 0; ConfigError naming ``name`` otherwise."""
    return number_arg(name, text, "a number of seconds")


def out_dir(out: str | None, prefix: str, option: str = "--out") -> Path:
    """``out`` (the value of ``option``), or ``runs/<prefix>-<time>``; RunError when it
    exists and is not empty."""
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path("runs") / f"{prefix}-{stamp}"
    else:
        path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RunError(f"{option} {str(path)!r}: exists and is not an empty folder; choose another")
    return path


def fmt(x: float) -> str:
    """A number in 3-4 significant digits (``nan`` for None or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    ax = abs(x)
    if ax != 0 and (ax >= 1e5 or ax < 1e-3):
        return f"{x:.3g}"
    return f"{x:.4g}" if ax >= 100 else f"{x:.3f}"


def text_table(rows: list[list[str]], head: list[str]) -> str:
    """A plain-text table with aligned columns for the console."""
    widths = [max(len(str(r[k])) for r in [head, *rows]) for k in range(len(head))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(df: pd.DataFrame, index_name: str | None = None) -> str:
    """A Markdown table of ``df`` (floats through ``fmt``)."""
    head = [index_name or df.index.name or ""] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    columns = []
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_float_dtype(col):
            columns.append([fmt(float(v)) for v in col])
        else:
            columns.append([str(v) for v in col])
    for k, idx in enumerate(df.index):
        lines.append("| " + " | ".join([str(idx)] + [col[k] for col in columns]) + " |")
    return "\n".join(lines)


def command_line(
    command: str, args: argparse.Namespace, options: Sequence[str], positional: Sequence[str] = ()
) -> str:
    """The shell line that reruns ``mm-gym COMMAND`` as given: ``positional`` values, then
    each of ``options`` (the namespace's names, e.g. ``session_s`` for ``--session-s``) the
    user set, quoted for the shell."""
    argv = list(positional)
    for name in options:
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return f"mm-gym {command} " + shlex.join(argv)


def add_data_options(p: argparse.ArgumentParser) -> None:
    """``--data`` (replay a recording instead of the simulated market) and ``--shares-per-lot``."""
    p.add_argument(
        "--data",
        metavar="FILE",
        help="replay this recording (mm-gym data convert's Parquet) instead of the simulated "
        "market: episodes are windows of it, no market impact (our fills take nothing from "
        "the recorded flow), regimes unknown",
    )
    p.add_argument(
        "--shares-per-lot",
        metavar="N",
        dest="shares_per_lot",
        help="with --data: the recording's size units in one lot (default 10: a 100-share "
        "round lot is 10 lots)",
    )


def data_options(args: argparse.Namespace) -> tuple[str | None, float | None]:
    """``(data, shares_per_lot)`` from ``add_data_options``' options, checked."""
    per_lot = args.shares_per_lot
    if per_lot is not None:
        if args.data is None:
            raise ConfigError("--shares-per-lot: needs --data (the recording whose sizes it sets)")
        per_lot = number_arg("--shares-per-lot", per_lot, "a size", 0.0)
    return args.data, per_lot
