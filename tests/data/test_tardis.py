"""tardis-style CSV into the event schema: snapshots, merging book and trades by receipt time
across chunks, gzip, and one-line errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from mm_gym.data.book import LevelBook
from mm_gym.data.schema import CLEAR, LEVEL, TRADE
from mm_gym.data.tardis import BOOK_COLUMNS, TRADE_COLUMNS, read_tardis
from mm_gym.errors import DataError

T0 = 1_700_000_000_000_000  # µs since the epoch


def book_rows(rows: list[tuple]) -> list[str]:
    """(µs after T0, is_snapshot, side, price, amount) rows of incremental_book_L2."""
    return [
        f"ex,BTC-USD,{T0 + t},{T0 + t + 5},{str(s).lower()},{side},{p},{a}"
        for t, s, side, p, a in rows
    ]


def trade_rows(rows: list[tuple]) -> list[str]:
    """(µs after T0, side, price, amount) rows of trades."""
    return [f"ex,BTC-USD,{T0 + t},{T0 + t + 5},id{t},{side},{p},{a}" for t, side, p, a in rows]


def write(path: Path, columns: tuple, lines: list[str], gz: bool = False) -> Path:
    text = ",".join(columns) + "\n" + "\n".join(lines) + "\n"
    if gz:
        path = path.with_suffix(path.suffix + ".gz")
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def events(*args, **kwargs) -> dict[str, np.ndarray]:
    _, chunks = read_tardis(*args, **kwargs)
    parts = list(chunks)
    return {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}


BOOK = [
    (0, True, "bid", "100.5", "2"),
    (0, True, "ask", "101.0", "1"),
    (10, False, "bid", "100.5", "1.5"),
    (20, False, "ask", "101.0", "0"),
    (20, False, "ask", "101.5", "3"),
    (30, True, "bid", "99.0", "4"),  # a new snapshot: the book starts again
    (30, True, "ask", "99.5", "4"),
]
TRADES = [(10, "sell", "100.5", "0.5"), (20, "buy", "101.0", "1"), (25, "unknown", "101.5", "1")]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_book_and_trades_merge_in_receipt_order(tmp_path, gz, chunk_rows):
    book = write(tmp_path / "book.csv", BOOK_COLUMNS, book_rows(BOOK), gz)
    trades = write(tmp_path / "trades.csv", TRADE_COLUMNS, trade_rows(TRADES), gz)
    ev = events(book, trades, price_unit=0.5, chunk_rows=chunk_rows)
    got = list(
        zip(
            ev["kind"].tolist(),
            ev["side"].tolist(),
            ev["price"].tolist(),
            ev["size"].tolist(),
            strict=True,
        )
    )
    assert got == [
        (CLEAR, 0, 0, 0.0),
        (LEVEL, 1, 201, 2.0),
        (LEVEL, -1, 202, 1.0),
        (TRADE, -1, 201, 0.5),  # a trade before the book update of the same microsecond
        (LEVEL, 1, 201, 1.5),
        (TRADE, 1, 202, 1.0),
        (LEVEL, -1, 202, 0.0),
        (LEVEL, -1, 203, 3.0),
        (TRADE, 0, 203, 1.0),
        (CLEAR, 0, 0, 0.0),
        (LEVEL, 1, 198, 4.0),
        (LEVEL, -1, 199, 4.0),
    ]
    assert np.all(np.diff(ev["local_ts"]) >= 0)
    assert ev["local_ts"][0] - ev["ts"][0] == 5_000  # nanoseconds
    book_state = LevelBook()
    book_state.apply_all(ev)
    assert book_state.best() == (198, 199)


def test_one_file_alone_is_a_recording(tmp_path):
    trades = write(tmp_path / "trades.csv", TRADE_COLUMNS, trade_rows(TRADES))
    assert events(None, trades, price_unit=0.5)["kind"].tolist() == [TRADE] * 3


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        (
            book_rows([(10, False, "bid", "1", "1"), (5, False, "bid", "1", "1")]),
            r"line 3: .*expected rows in time order",
        ),
        (
            book_rows([(0, False, "middle", "1", "1")]),
            r"line 2: side 'middle'; expected one of bid, ask",
        ),
        (book_rows([(0, False, "bid", "-1", "1")]), r"line 2: .*expected a price > 0"),
        (book_rows([(0, False, "bid", "1.25", "1")]), r"not a multiple of price_unit 0.5"),
    ],
)
def test_bad_book_rows_are_one_line(tmp_path, lines, match):
    book = write(tmp_path / "book.csv", BOOK_COLUMNS, lines)
    with pytest.raises(DataError, match=match) as err:
        events(book, price_unit=0.5)
    assert "\n" not in str(err.value) and "book.csv" in str(err.value)


def test_a_wrong_header_is_named(tmp_path):
    bad = write(tmp_path / "book.csv", ("a", "b"), ["1,2"])
    with pytest.raises(DataError, match=r"book.csv: header \['a', 'b'\]; expected exchange"):
        read_tardis(bad)
    with pytest.raises(DataError, match="price_unit"):
        read_tardis(bad, price_unit=0.0)
