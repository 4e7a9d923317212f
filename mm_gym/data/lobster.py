"""LOBSTER recordings (message file + orderbook file, any level count) into the event schema.

LOBSTER's message file has one row per event: time (seconds after midnight), type (1 new
limit order, 2 partial cancel, 3 delete, 4 execution of a visible order, 5 execution of a
hidden order, 6 cross trade, 7 trading halt), order id, size (shares), price (USD x 10,000)
and direction (the resting order's side: 1 buy, -1 sell). The orderbook file has one row per
message, the book after it: ask price 1, ask size 1, bid price 1, bid size 1, ... for L
levels (empty levels: price +-9999999999, size 0).

Each message becomes, in order: a trade (types 4 and 6; the aggressor is opposite the resting
order, a cross has none) or a hidden trade (type 5) or a market-state event (type 7: price
-1 halt, 0 quotes resume, 1 trading resumes); then the level events that turn the previous
orderbook row into this one. The first row is a snapshot (a clear, then its levels). A price
that leaves the L shown levels because better ones arrived is not an event: a rebuilt book
keeps the best L prices (``mm_gym.data.book``). Both files stream in chunks of
``chunk_rows``, so a day never loads whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mm_gym.data.schema import (
    CLEAR,
    HALT,
    HIDDEN_TRADE,
    LEVEL,
    QUOTES_RESUME,
    SCHEMA_VERSION,
    TRADE,
    TRADING_RESUMES,
)
from mm_gym.errors import DataError

__all__ = ["LobsterFiles", "find_lobster", "read_lobster"]

PRICE_UNIT = 1e-4  # LOBSTER prices are USD x 10,000
EMPTY_ASK, EMPTY_BID = 9_999_999_999, -9_999_999_999
MESSAGE_COLUMNS = 6
MESSAGE_TYPES = frozenset(range(1, 8))
HALT_CODES = {-1: HALT, 0: QUOTES_RESUME, 1: TRADING_RESUMES}
NAME = re.compile(
    r"(?P<ticker>[^_/]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
    r"(?P<what>message|orderbook)_(?P<levels>\d+)\.csv$"
)
DEFAULT_TZ = "America/New_York"  # NASDAQ: LOBSTER's times are seconds after local midnight


@dataclasses.dataclass(frozen=True)
class LobsterFiles:
    """A LOBSTER recording's two files: paths, or members of ``archive`` (a zip)."""

    message: str
    orderbook: str
    ticker: str
    date: str
    levels: int
    archive: Path | None = None

    @contextlib.contextmanager
    def open(self, member: str) -> Iterator[IO[bytes]]:
        if self.archive is None:
            with open(member, "rb") as f:
                yield f
        else:
            with zipfile.ZipFile(self.archive) as zf, zf.open(member) as f:
                yield f


def find_lobster(src: str | Path) -> LobsterFiles:
    """The recording at ``src``: a LOBSTER zip, a message file (its orderbook file beside it)
    or an orderbook file (its message file beside it)."""
    path = Path(src)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if NAME.search(n)]
        archive = path
    else:
        names = [str(p) for p in path.parent.glob("*.csv") if NAME.search(p.name)]
        archive = None
        if not NAME.search(path.name):
            raise DataError(
                f"{path}: not a LOBSTER file name (expected TICKER_DATE_START_END_message_L.csv "
                "or _orderbook_L.csv, or a zip holding both)"
            )
        names = [n for n in names if _key(n) == _key(str(path))]
    messages = [n for n in names if NAME.search(n)["what"] == "message"]
    books = [n for n in names if NAME.search(n)["what"] == "orderbook"]
    if len(messages) != 1 or len(books) != 1 or _key(messages[0]) != _key(books[0]):
        raise DataError(
            f"{path}: expected one message file and its orderbook file "
            f"(found {len(messages)} message and {len(books)} orderbook files)"
        )
    m = NAME.search(messages[0])
    return LobsterFiles(
        messages[0], books[0], m["ticker"], m["date"], int(m["levels"]), archive=archive
    )


def _key(name: str) -> tuple:
    m = NAME.search(name)
    return (m["ticker"], m["date"], m["start"], m["end"], m["levels"])


def read_lobster(
    src: str | Path | LobsterFiles,
    *,
    tz: str = DEFAULT_TZ,
    chunk_rows: int = 200_000,
) -> tuple[dict[str, str], Iterator[dict[str, np.ndarray]]]:
    """``(metadata, chunks)``: the recording's metadata and an iterator of event chunks
    (column arrays of ``mm_gym.data.schema.COLUMNS``). A bad row raises ``DataError``
    naming the file, the line and what was expected, when its chunk is read."""
    files = src if isinstance(src, LobsterFiles) else find_lobster(src)
    midnight = dt.datetime.fromisoformat(files.date).replace(tzinfo=ZoneInfo(tz))
    metadata = {
        "schema_version": SCHEMA_VERSION,
        "source": "lobster",
        "instrument": files.ticker,
        "date": files.date,
        "price_unit": repr(PRICE_UNIT),
        "levels": str(files.levels),
        "tz": tz,
    }
    base_ns = int(midnight.timestamp()) * 1_000_000_000
    return metadata, _chunks(files, base_ns, chunk_rows)


def _read_csv(f: IO[bytes], name: str, columns: int, chunk_rows: int):
    try:
        yield from pd.read_csv(f, header=None, chunksize=chunk_rows, dtype=np.float64, engine="c")
    except pd.errors.ParserError as err:
        found = re.search(r"fields in line (\d+), saw (\d+)", str(err))
        what = (
            f"line {found[1]}: {found[2]} columns" if found else str(err).strip().splitlines()[-1]
        )
        raise DataError(f"{name}: {what}; expected {columns} columns") from None
    except ValueError as err:
        raise DataError(f"{name}: {err}; expected {columns} numeric columns") from None


def _chunks(files: LobsterFiles, base_ns: int, chunk_rows: int):
    levels = files.levels
    msg_name, book_name = Path(files.message).name, Path(files.orderbook).name
    state = _State(levels)
    with files.open(files.message) as mf, files.open(files.orderbook) as bf:
        messages = _read_csv(mf, msg_name, MESSAGE_COLUMNS, chunk_rows)
        books = _read_csv(bf, book_name, 4 * levels, chunk_rows)
        first_line = 1
        for msg in messages:
            book = next(books, None)
            n = len(msg)
            if book is not None and len(book) > n:
                raise DataError(
                    f"{book_name}: more rows than the {first_line - 1 + n} messages of "
                    f"{msg_name}; expected one orderbook row per message"
                )
            if book is None or len(book) < n:
                have = first_line - 1 + (0 if book is None else len(book))
                raise DataError(
                    f"{book_name}: {have} rows for more messages in {msg_name}; expected one "
                    "orderbook row per message"
                )
            m = _checked(msg.to_numpy(), msg_name, MESSAGE_COLUMNS, first_line)
            b = _checked(book.to_numpy(), book_name, 4 * levels, first_line)
            yield state.events(m, b, base_ns, msg_name, book_name, first_line)
            first_line += n
        if next(books, None) is not None:
            raise DataError(
                f"{book_name}: more rows than the {first_line - 1} messages of {msg_name}; "
                "expected one orderbook row per message"
            )


def _checked(a: np.ndarray, name: str, columns: int, first_line: int) -> np.ndarray:
    if a.shape[1] != columns:
        raise DataError(f"{name}: line {first_line}: {a.shape[1]} columns; expected {columns}")
    bad = np.isnan(a).any(axis=1)
    if bad.any():
        line = first_line + int(np.argmax(bad))
        raise DataError(f"{name}: line {line}: missing or non-numeric values; expected {columns}")
    return a


class _State:
    """What carries from one chunk to the next: the last time and the shown book."""

    def __init__(self, levels: int) -> None:
        self.levels = levels
        self.last_time = -np.inf
        self.view: tuple[dict[int, float], dict[int, float]] | None = None  # bids, asks

    def events(self, m, b, base_ns, msg_name, book_name, first_line) -> dict[str, np.ndarray]:
        times = m[:, 0]
        back = np.flatnonzero(np.diff(np.concatenate([[self.last_time], times])) < 0)
        if back.size:
            k = int(back[0])
            raise DataError(
                f"{msg_name}: line {first_line + k}: time {times[k]:.9f} before the previous "
                f"row's; expected times in order"
            )
        types = m[:, 1].astype(np.int64)
        unknown = ~np.isin(types, list(MESSAGE_TYPES))
        if unknown.any():
            k = int(np.argmax(unknown))
            raise DataError(
                f"{msg_name}: line {first_line + k}: event type {m[k, 1]:g}; expected 1-7"
            )
        ask1, bid1 = b[:, 0], b[:, 2]
        crossed = (ask1 != EMPTY_ASK) & (bid1 != EMPTY_BID) & (ask1 <= bid1)
        if crossed.any():
            k = int(np.argmax(crossed))
            raise DataError(
                f"{book_name}: line {first_line + k}: crossed book (ask 1 {ask1[k]:.0f} <= "
                f"bid 1 {bid1[k]:.0f}); expected ask 1 > bid 1"
            )
        self.last_time = float(times[-1])
        ts = base_ns + np.round(times * 1e9).astype(np.int64)
        out: dict[str, list] = {"ts": [], "kind": [], "side": [], "price": [], "size": []}
        book = b.astype(np.int64)
        for k in range(len(m)):
            t = int(ts[k])
            typ, size, price, direction = int(types[k]), m[k, 3], int(m[k, 4]), int(m[k, 5])
            if typ in (4, 6):
                _emit(out, t, TRADE, -direction if typ == 4 else 0, price, size)
            elif typ == 5:
                _emit(out, t, HIDDEN_TRADE, -direction, price, size)
            elif typ == 7:
                if price not in HALT_CODES:
                    raise DataError(
                        f"{msg_name}: line {first_line + k}: halt message with price {price}; "
                        "expected -1 (halt), 0 (quotes resume) or 1 (trading resumes)"
                    )
                _emit(out, t, HALT_CODES[price], 0, 0, 0.0)
            self._levels(out, t, book[k])
        n = len(out["ts"])
        return {
            "ts": np.asarray(out["ts"], np.int64),
            "local_ts": np.asarray(out["ts"], np.int64),
            "kind": np.asarray(out["kind"], np.int8),
            "side": np.asarray(out["side"], np.int8),
            "price": np.asarray(out["price"], np.int64),
            "size": np.asarray(out["size"], np.float64).reshape(n),
        }

    def _levels(self, out, t: int, row: np.ndarray) -> None:
        """The level events that turn the shown book into ``row``: removals first (a price
        gone from inside the shown range, or from a side showing fewer than L levels), then
        new prices and changed sizes."""
        bids = {
            int(p): float(s) for p, s in zip(row[2::4], row[3::4], strict=True) if p != EMPTY_BID
        }
        asks = {
            int(p): float(s) for p, s in zip(row[0::4], row[1::4], strict=True) if p != EMPTY_ASK
        }
        if self.view is None:
            _emit(out, t, CLEAR, 0, 0, 0.0)
            self.view = ({}, {})
        for side, new, old in ((1, bids, self.view[0]), (-1, asks, self.view[1])):
            full = len(new) == self.levels
            worst = (min(new) if side > 0 else max(new)) if new else None
            for p in old:
                if p not in new and (not full or (p > worst if side > 0 else p < worst)):
                    _emit(out, t, LEVEL, side, p, 0.0)
            for p, s in new.items():
                if old.get(p) != s:
                    _emit(out, t, LEVEL, side, p, s)
        self.view = (bids, asks)


def _side(prices: np.ndarray, sizes: np.ndarray, empty: int) -> dict[int, float]:
    return {int(p): float(s) for p, s in zip(prices, sizes, strict=True) if p != empty}


def _emit(out: dict[str, list], t: int, kind: int, side: int, price: int, size: float) -> None:
    out["ts"].append(t)
    out["kind"].append(kind)
    out["side"].append(side)
    out["price"].append(price)
    out["size"].append(size)
