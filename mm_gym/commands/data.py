"""``mm-gym data convert|info``: recorded markets into the event schema, and what a converted
recording holds (``mm_gym.data``; needs pyarrow, the data extra)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mm_gym.commands.output import int_arg

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``data`` with ``convert`` and ``info``."""
    p = subparsers.add_parser(
        "data",
        help="convert recorded order books (LOBSTER, tardis CSV) into the event schema",
        description="Recorded markets: LOBSTER (a zip, or a message/orderbook file) or "
        "tardis-style incremental_book_L2 and trades CSV files, into one Parquet file of "
        "the event schema (docs/data.md).",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    c = sub.add_parser(
        "convert",
        help="convert a recording into a Parquet file of events",
        description="Convert one recording; the format is detected from the files' names "
        "and headers. Streams the source in chunks; a bad row stops the conversion with one "
        "line naming the file, the line and what was expected, and writes nothing.",
    )
    c.add_argument("src", nargs="+", metavar="SRC", help="the recording's file(s)")
    c.add_argument("--out", required=True, type=Path, metavar="FILE", help="the Parquet file")
    c.add_argument(
        "--price-unit",
        default="1e-8",
        metavar="U",
        help="tardis: prices are stored as integers in units of U (default 1e-8); LOBSTER's "
        "unit is 1e-4 USD",
    )
    c.add_argument("--tz", help="LOBSTER: the exchange's time zone (default America/New_York)")
    c.add_argument("--chunk-rows", default="200000", metavar="N", help="rows read at a time")
    c.set_defaults(func=_convert, requires=("pyarrow",))
    i = sub.add_parser("info", help="what a converted recording holds")
    i.add_argument("path", type=Path, metavar="FILE")
    i.set_defaults(func=_info, requires=("pyarrow",))


def _convert(args: argparse.Namespace) -> int:
    from mm_gym.data.convert import convert
    from mm_gym.errors import ConfigError

    try:
        unit = float(args.price_unit)
    except ValueError:
        raise ConfigError(f"--price-unit={args.price_unit!r}: expected a number > 0") from None
    res = convert(
        args.src,
        args.out,
        price_unit=unit,
        tz=args.tz,
        chunk_rows=int_arg("--chunk-rows", args.chunk_rows, 1),
    )
    print(
        f"{res['format']} {res['instrument']} {res['date']}: {res['rows']:,} events in "
        f"{res['seconds']:.1f} s -> {res['path']}"
    )
    return 0


def _info(args: argparse.Namespace) -> int:
    import numpy as np

    from mm_gym.data.schema import KINDS
    from mm_gym.data.store import read_events, read_metadata

    meta = read_metadata(args.path)
    counts = dict.fromkeys(KINDS, 0)
    first = last = None
    for batch in read_events(args.path):
        kinds, n = np.unique(batch["kind"], return_counts=True)
        for k, c in zip(kinds.tolist(), n.tolist(), strict=True):
            counts[k] = counts.get(k, 0) + c
        if len(batch["ts"]):
            first = batch["ts"][0] if first is None else first
            last = batch["ts"][-1]
    for key, value in meta.items():
        print(f"{key:22s} {value}")
    if first is not None:
        print(f"{'span':22s} {(last - first) / 1e9:,.3f} s")
    for k, name in KINDS.items():
        print(f"{name + ' events':22s} {counts[k]:,}")
    return 0
