"""LOBSTER into the event schema: what each message becomes, the rebuilt book against the
orderbook file at every row (own files and the shipped slices), chunking, and one-line
errors naming the file, the line and what was expected."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mm_gym.data.book import LevelBook
from mm_gym.data.lobster import EMPTY_ASK, EMPTY_BID, read_lobster
from mm_gym.data.schema import (
    CLEAR,
    HALT,
    HIDDEN_TRADE,
    LEVEL,
    QUOTES_RESUME,
    TRADE,
    TRADING_RESUMES,
)
from mm_gym.errors import DataError

HERE = Path(__file__).resolve().parent
SLICES = {
    "AAPL": (HERE / "LOBSTER_AAPL_2012-06-21_0930-0935_1.zip", 1),
    "GOOG": (HERE / "LOBSTER_GOOG_2012-06-21_0930-0932_10.zip", 10),
}


def write_lobster(folder: Path, messages: list[list], books: list[list], levels: int) -> Path:
    """A message and an orderbook file named as LOBSTER names them; the message file's path."""
    stem = f"TEST_2012-06-21_34200000_57600000_{{}}_{levels}.csv"
    msg = folder / stem.format("message")
    pd.DataFrame(messages).to_csv(msg, header=False, index=False)
    pd.DataFrame(books).to_csv(folder / stem.format("orderbook"), header=False, index=False)
    return msg


def events(src, **kwargs) -> dict[str, np.ndarray]:
    _, chunks = read_lobster(src, **kwargs)
    parts = list(chunks)
    return {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}


def rows_of(ev: dict[str, np.ndarray]) -> list[tuple]:
    return list(
        zip(
            ev["kind"].tolist(),
            ev["side"].tolist(),
            ev["price"].tolist(),
            ev["size"].tolist(),
            strict=True,
        )
    )


def row(asks: list[tuple], bids: list[tuple], levels: int) -> list:
    """An orderbook row from (price, size) lists, best first, padded as LOBSTER pads."""
    asks = asks + [(EMPTY_ASK, 0)] * (levels - len(asks))
    bids = bids + [(EMPTY_BID, 0)] * (levels - len(bids))
    return [x for k in range(levels) for x in (*asks[k], *bids[k])]


def test_each_message_becomes_its_events(tmp_path):
    t = 34200.0
    messages = [
        [t + 0.1, 1, 1, 100, 1000000, 1],  # a new bid
        [t + 0.2, 4, 2, 30, 1000100, -1],  # a visible ask executed: a buy trade
        [t + 0.3, 5, 3, 10, 1000050, 1],  # a hidden bid executed: a hidden sell trade
        [t + 0.4, 7, 0, 0, -1, -1],  # halt
        [t + 0.5, 7, 0, 0, 0, -1],  # quotes resume
        [t + 0.6, 7, 0, 0, 1, -1],  # trading resumes
        [t + 0.7, 6, 4, 50, 1000050, 1],  # a cross trade
    ]
    books = [
        row([(1000100, 50)], [(1000000, 100)], 1),
        row([(1000100, 20)], [(1000000, 100)], 1),
        *[row([(1000100, 20)], [(1000000, 100)], 1)] * 5,
    ]
    ev = events(write_lobster(tmp_path, messages, books, 1))
    assert rows_of(ev) == [
        (CLEAR, 0, 0, 0.0),
        (LEVEL, 1, 1000000, 100.0),
        (LEVEL, -1, 1000100, 50.0),
        (TRADE, 1, 1000100, 30.0),
        (LEVEL, -1, 1000100, 20.0),
        (HIDDEN_TRADE, -1, 1000050, 10.0),
        (HALT, 0, 0, 0.0),
        (QUOTES_RESUME, 0, 0, 0.0),
        (TRADING_RESUMES, 0, 0, 0.0),
        (TRADE, 0, 1000050, 50.0),
    ]
    # nanoseconds since the epoch: 9:30:00.1 in New York on 2012-06-21 is 13:30:00.1 UTC
    assert ev["ts"][0] == pd.Timestamp("2012-06-21 13:30:00.1", tz="UTC").value
    assert np.array_equal(ev["ts"], ev["local_ts"])


def test_a_price_pushed_out_of_view_is_not_an_event_but_one_gone_inside_it_is(tmp_path):
    t = 34200.0
    messages = [[t + k, 1, k, 1, 1, 1] for k in range(3)]
    books = [
        row([(200, 1), (201, 1)], [(100, 5), (99, 5)], 2),
        row([(200, 1), (201, 1)], [(101, 5), (100, 5)], 2),  # 101 arrives: 99 out of view
        row([(200, 1), (201, 1)], [(101, 5)], 2),  # 100 gone, one level left: a removal
    ]
    ev = events(write_lobster(tmp_path, messages, books, 2))
    changes = [r for r in rows_of(ev) if r[0] == LEVEL and r[1] == 1][2:]
    assert changes == [(LEVEL, 1, 101, 5.0), (LEVEL, 1, 100, 0.0)]


@pytest.mark.parametrize("name", sorted(SLICES))
def test_the_rebuilt_book_equals_the_orderbook_file_at_every_row(name):
    path, levels = SLICES[name]
    ev = events(path)
    with zipfile.ZipFile(path) as zf:
        [msg_name] = [n for n in zf.namelist() if "message" in n]
        [book_name] = [n for n in zf.namelist() if "orderbook" in n]
        msg = pd.read_csv(zf.open(msg_name), header=None).to_numpy()
        shown = pd.read_csv(zf.open(book_name), header=None).to_numpy(np.float64).copy()
    shown[(shown == EMPTY_ASK) | (shown == EMPTY_BID)] = 0
    # a row's events end where the next message's begin: messages of one nanosecond share
    # their events, so compare the book after the last message of each time
    times = ev["ts"]
    ends = np.append(np.flatnonzero(np.diff(times)), len(times) - 1)
    msg_ns = np.round(msg[:, 0] * 1e9).astype(np.int64)
    last_rows = np.append(np.flatnonzero(np.diff(msg_ns)), len(msg_ns) - 1)
    assert len(ends) == len(last_rows)
    book, j = LevelBook(levels), 0
    for end, r in zip(ends, last_rows, strict=True):
        book.apply_all({c: ev[c][j : end + 1] for c in ("kind", "side", "price", "size")})
        j = end + 1
        assert np.array_equal(book.top(levels), shown[r]), f"line {r + 1}"


@pytest.mark.parametrize("name", sorted(SLICES))
def test_chunks_change_nothing(name):
    path, _ = SLICES[name]
    whole, small = events(path), events(path, chunk_rows=37)
    assert all(np.array_equal(whole[c], small[c]) for c in whole)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda levels: st.tuples(
            st.just(levels),
            st.lists(
                st.tuples(
                    st.sets(st.integers(1, 12), max_size=levels),  # bid prices in view
                    st.sets(st.integers(13, 24), max_size=levels),  # ask prices in view
                    st.integers(1, 9),
                ),
                min_size=1,
                max_size=25,
            ),
        )
    )
)
def test_any_sequence_of_views_is_rebuilt_exactly(tmp_path_factory, case):
    levels, views = case
    folder = tmp_path_factory.mktemp("views")
    books = [
        row(
            [(p, size + p % 3) for p in sorted(asks)],
            [(p, size + p % 2) for p in sorted(bids, reverse=True)],
            levels,
        )
        for bids, asks, size in views
    ]
    messages = [[34200.0 + k, 1, k, 1, 1, 1] for k in range(len(views))]
    ev = events(write_lobster(folder, messages, books, levels), chunk_rows=3)
    book = LevelBook(levels)
    j = 0
    for k, shown in enumerate(books):
        end = np.searchsorted(ev["ts"], ev["ts"][0] + k * 1_000_000_000, "right")
        book.apply_all({c: ev[c][j:end] for c in ("kind", "side", "price", "size")})
        j = end
        expected = np.where(np.isin(shown, (EMPTY_ASK, EMPTY_BID)), 0, shown)
        assert np.array_equal(book.top(levels), expected)


# ----------------------------------------------------------------------------- bad files
GOOD_BOOK = row([(1000100, 50)], [(1000000, 100)], 1)


@pytest.mark.parametrize(
    ("messages", "books", "match"),
    [
        ([[34200.1, 1, 1, 100, 1000000, 1, 9]], [GOOD_BOOK], "expected 6"),
        (
            [[34200.2, 1, 1, 1, 1, 1], [34200.1, 1, 2, 1, 1, 1]],
            [GOOD_BOOK] * 2,
            r"message_1.csv: line 2: time 34200.100000000 before .*expected times in order",
        ),
        ([[34200.1, 8, 1, 1, 1, 1]], [GOOD_BOOK], r"line 1: event type 8; expected 1-7"),
        (
            [[34200.1, 1, 1, 1, 1, 1]],
            [row([(1000000, 5)], [(1000100, 5)], 1)],
            r"orderbook_1.csv: line 1: crossed book .*expected ask 1 > bid 1",
        ),
        ([[34200.1, 7, 0, 0, 5, -1]], [GOOD_BOOK], r"halt message with price 5"),
        ([[34200.1, 1, 1, 1, 1, 1]] * 2, [GOOD_BOOK], r"expected one orderbook row per message"),
        ([[34200.1, 1, 1, 1, 1, 1]], [GOOD_BOOK] * 2, r"more rows than the 1 messages"),
        ([[34200.1, 1, 1, 1, "x", 1]], [GOOD_BOOK], r"message_1.csv: .*numeric"),
    ],
)
def test_bad_files_are_one_line_naming_the_file_and_line(tmp_path, messages, books, match):
    if len(messages[0]) == 7:  # a ragged file: a 6-column row, then a 7-column one
        msg = write_lobster(tmp_path, [[34200.0, 1, 9, 1, 1, 1]], [GOOD_BOOK] * 2, 1)
        msg.write_text(msg.read_text() + ",".join(map(str, messages[0])) + "\n")
    else:
        msg = write_lobster(tmp_path, messages, books, 1)
    with pytest.raises(DataError, match=match) as err:
        events(msg)
    assert "\n" not in str(err.value)


def test_a_file_that_is_not_lobster_is_named(tmp_path):
    other = tmp_path / "prices.csv"
    other.write_text("1,2\n")
    with pytest.raises(DataError, match="not a LOBSTER file name"):
        read_lobster(other)
    with pytest.raises(DataError, match="no such file"):
        read_lobster(tmp_path / "missing.zip")
