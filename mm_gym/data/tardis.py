"""tardis-style CSV recordings (``incremental_book_L2`` and ``trades``, as ``tardis-dev``
writes them, plain or gzipped) into the event schema.

``incremental_book_L2``: ``exchange, symbol, timestamp, local_timestamp, is_snapshot, side
(bid|ask), price, amount`` with ``amount`` the level's new size (0: removed); a run of
``is_snapshot`` rows after updates starts a new book (a clear event first). ``trades``:
``exchange, symbol, timestamp, local_timestamp, id, side (buy|sell|unknown: the aggressor),
price, amount``. Timestamps are microseconds since the epoch; events are ordered by receipt
(``local_timestamp``), a trade before a book update of the same microsecond. Prices become
integers in units of ``price_unit``. Both files stream in chunks.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from mm_gym.data.schema import CLEAR, COLUMNS, LEVEL, SCHEMA_VERSION, TRADE
from mm_gym.errors import DataError

__all__ = ["BOOK_COLUMNS", "TRADE_COLUMNS", "read_tardis", "tardis_kind"]

BOOK_COLUMNS = (
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "is_snapshot",
    "side",
    "price",
    "amount",
)
TRADE_COLUMNS = (
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "id",
    "side",
    "price",
    "amount",
)
BOOK_SIDES = {"bid": 1, "ask": -1}
TRADE_SIDES = {"buy": 1, "sell": -1, "unknown": 0}
DEFAULT_PRICE_UNIT = 1e-8


def _header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as f:
            return f.readline().strip().split(",")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be read as CSV ({err})") from None


def tardis_kind(path: str | Path) -> str | None:
    """``"book"`` or ``"trades"`` when ``path`` has the header of one, else None."""
    head = _header(Path(path))
    if tuple(head[: len(BOOK_COLUMNS)]) == BOOK_COLUMNS:
        return "book"
    if tuple(head[: len(TRADE_COLUMNS)]) == TRADE_COLUMNS:
        return "trades"
    return None


def read_tardis(
    book: str | Path | None,
    trades: str | Path | None = None,
    *,
    price_unit: float = DEFAULT_PRICE_UNIT,
    chunk_rows: int = 200_000,
) -> tuple[dict[str, str], Iterator[dict[str, np.ndarray]]]:
    """``(metadata, chunks)`` of a book file and/or a trades file of one instrument."""
    if book is None and trades is None:
        raise DataError("tardis: expected an incremental_book_L2 file, a trades file or both")
    if not (np.isfinite(price_unit) and price_unit > 0):
        raise DataError(f"price_unit={price_unit!r}: expected a number > 0")
    streams, instrument = [], None
    for path, kind, columns in ((book, "book", BOOK_COLUMNS), (trades, "trades", TRADE_COLUMNS)):
        if path is None:
            continue
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: no such file")
        if tardis_kind(p) != kind:
            raise DataError(f"{p}: header {_header(p)}; expected {', '.join(columns)}")
        first = pd.read_csv(p, nrows=1)
        instrument = instrument or f"{first['exchange'].iloc[0]}:{first['symbol'].iloc[0]}"
        parse = _book_events if kind == "book" else _trade_events
        streams.append(_stream(p, chunk_rows, parse, price_unit))
    metadata = {
        "schema_version": SCHEMA_VERSION,
        "source": "tardis",
        "instrument": instrument or "",
        "date": "",
        "price_unit": repr(float(price_unit)),
        "levels": "0",
        "tz": "UTC",
    }
    return metadata, _merge(streams)


def _stream(path: Path, chunk_rows: int, parse, price_unit: float):
    state = {"last": -np.inf, "snapshot": None}
    line = 2  # the header is line 1
    try:
        reader = pd.read_csv(path, chunksize=chunk_rows, dtype={"side": str, "symbol": str})
        for df in reader:
            yield parse(df, path, line, state, price_unit)
            line += len(df)
    except pd.errors.ParserError as err:
        raise DataError(f"{path}: {err}") from None


def _times(df: pd.DataFrame, path: Path, line: int, state: dict) -> tuple[np.ndarray, np.ndarray]:
    try:
        ts = df["timestamp"].to_numpy(np.int64) * 1000
        local = df["local_timestamp"].to_numpy(np.int64) * 1000
    except (ValueError, TypeError):
        bad = pd.to_numeric(df["local_timestamp"], errors="coerce").isna().to_numpy()
        bad |= pd.to_numeric(df["timestamp"], errors="coerce").isna().to_numpy()
        k = int(np.argmax(bad))
        raise DataError(f"{path}: line {line + k}: expected integer timestamps (µs)") from None
    back = np.flatnonzero(np.diff(np.concatenate([[state["last"]], local])) < 0)
    if back.size:
        k = int(back[0])
        raise DataError(
            f"{path}: line {line + k}: local_timestamp {local[k] // 1000} before the previous "
            "row's; expected rows in time order"
        )
    state["last"] = float(local[-1])
    return ts, local


def _prices(df: pd.DataFrame, path: Path, line: int, unit: float) -> tuple[np.ndarray, np.ndarray]:
    price = pd.to_numeric(df["price"], errors="coerce").to_numpy(np.float64)
    size = pd.to_numeric(df["amount"], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(price) | (price <= 0) | ~np.isfinite(size) | (size < 0)
    if bad.any():
        k = int(np.argmax(bad))
        raise DataError(
            f"{path}: line {line + k}: price {df['price'].iloc[k]!r}, amount "
            f"{df['amount'].iloc[k]!r}; expected a price > 0 and an amount >= 0"
        )
    ticks = np.round(price / unit)
    off = np.abs(price / unit - ticks) > 1e-6 * np.maximum(1.0, np.abs(ticks))
    if off.any():
        k = int(np.argmax(off))
        raise DataError(
            f"{path}: line {line + k}: price {price[k]!r} is not a multiple of price_unit "
            f"{unit!r}; expected a finer --price-unit"
        )
    return ticks.astype(np.int64), size


def _sides(df: pd.DataFrame, path: Path, line: int, allowed: dict[str, int]) -> np.ndarray:
    raw = df["side"].astype(str).str.lower()
    side = raw.map(allowed)
    if side.isna().any():
        k = int(np.argmax(side.isna().to_numpy()))
        raise DataError(
            f"{path}: line {line + k}: side {df['side'].iloc[k]!r}; expected one of "
            f"{', '.join(allowed)}"
        )
    return side.to_numpy(np.int8)


def _book_events(df, path, line, state, unit) -> dict[str, np.ndarray]:
    ts, local = _times(df, path, line, state)
    price, size = _prices(df, path, line, unit)
    side = _sides(df, path, line, BOOK_SIDES)
    snap = df["is_snapshot"].astype(str).str.lower().isin(("true", "1")).to_numpy()
    previous = np.concatenate([[state["snapshot"] is not False], snap[:-1]])
    starts = np.flatnonzero(snap & ~previous)  # a snapshot after updates: a new book
    if state["snapshot"] is None and len(snap) and snap[0]:
        starts = np.concatenate([[0], starts])
    state["snapshot"] = bool(snap[-1]) if len(snap) else state["snapshot"]
    out = {
        "ts": ts,
        "local_ts": local,
        "kind": np.full(len(df), LEVEL, np.int8),
        "side": side,
        "price": price,
        "size": size,
    }
    if starts.size:  # a clear event before each snapshot's first row
        at = np.sort(np.unique(starts))
        for c in out:
            fill = CLEAR if c == "kind" else 0
            values = out[c][at] if c in ("ts", "local_ts") else np.full(at.size, fill)
            out[c] = np.insert(out[c], at, values.astype(out[c].dtype))
    out["_order"] = np.ones(len(out["ts"]), np.int8)  # after trades of the same microsecond
    return out


def _trade_events(df, path, line, state, unit) -> dict[str, np.ndarray]:
    ts, local = _times(df, path, line, state)
    price, size = _prices(df, path, line, unit)
    return {
        "ts": ts,
        "local_ts": local,
        "kind": np.full(len(df), TRADE, np.int8),
        "side": _sides(df, path, line, TRADE_SIDES),
        "price": price,
        "size": size,
        "_order": np.zeros(len(df), np.int8),
    }


def _take(chunk: dict[str, np.ndarray], n: int) -> tuple[dict, dict]:
    return {c: v[:n] for c, v in chunk.items()}, {c: v[n:] for c, v in chunk.items()}


def _merge(streams: list[Iterator[dict[str, np.ndarray]]]) -> Iterator[dict[str, np.ndarray]]:
    """One stream in receipt order from streams each in receipt order, chunk by chunk."""
    buffers: list[dict[str, np.ndarray] | None] = [None] * len(streams)
    live = [True] * len(streams)
    while True:
        for i, stream in enumerate(streams):
            while live[i] and (buffers[i] is None or len(buffers[i]["ts"]) == 0):
                buffers[i] = next(stream, None)
                live[i] = buffers[i] is not None
        held = [b for b in buffers if b is not None and len(b["ts"])]
        if not held:
            return
        # everything up to the earliest last-receipt time among the streams still reading
        cutoff = min(
            (
                int(b["local_ts"][-1])
                for b, on in zip(buffers, live, strict=True)
                if on and b is not None
            ),
            default=None,
        )
        parts = []
        for i, b in enumerate(buffers):
            if b is None or not len(b["ts"]):
                continue
            n = (
                len(b["ts"])
                if cutoff is None
                else int(np.searchsorted(b["local_ts"], cutoff, "right"))
            )
            part, buffers[i] = _take(b, n)
            parts.append(part)
        merged = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
        order = np.lexsort((merged["_order"], merged["local_ts"]))
        yield {c: merged[c][order] for c in COLUMNS}
