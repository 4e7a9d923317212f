"""The one event schema every recording is converted into (LOBSTER, tardis-style CSV).

A recording is a Parquet file of events in the order they happened (row order is event
order); its key-value metadata says where it came from. Columns:

- ``ts`` (int64): exchange time, nanoseconds since the Unix epoch (UTC).
- ``local_ts`` (int64): receipt time, nanoseconds since the epoch (``ts`` where the source
  has no receipt time, as LOBSTER).
- ``kind`` (int8): ``KINDS``, below.
- ``side`` (int8): level: +1 bid, -1 ask; trade: the aggressor, +1 buy (lifts asks), -1 sell,
  0 unknown or an auction cross; 0 otherwise.
- ``price`` (int64): price in units of ``price_unit`` (metadata, currency; 1e-4 USD for
  LOBSTER).
- ``size`` (float64): level: the level's whole resting size after the event (0: the level
  is gone); trade: the size traded; 0 otherwise.

Kinds:

- **clear** (0): the book is emptied; the levels that follow rebuild it (a snapshot).
- **level** (1): the resting size at one price of one side is now `size`.
- **trade** (2): an execution against visible resting orders at `price` (the level
  events that follow show what it took from the book).
- **hidden trade** (3): an execution against hidden orders (no visible level changes).
- **halt** (4), **quotes resume** (5), **trading resumes** (6): the market's state.

Metadata (strings): `schema_version`, `source` (lobster, tardis), `instrument`, `date`,
`price_unit`, `levels` (the depth the source shows, e.g. 10; "0": full depth), `tz` (the
exchange's time zone, for the time of day), `rows`.

A source that shows ``levels`` > 0 shows only the best ``levels`` prices of a side: a book
rebuilt from the events keeps the best ``levels`` prices of each side after every event
(``mm_gym.data.book``), and then equals the source's view at every event.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = [
    "CLEAR",
    "COLUMNS",
    "HALT",
    "HIDDEN_TRADE",
    "KINDS",
    "LEVEL",
    "QUOTES_RESUME",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TRADE",
    "TRADING_RESUMES",
    "empty_events",
]

SCHEMA_VERSION = "1"
CLEAR, LEVEL, TRADE, HIDDEN_TRADE, HALT, QUOTES_RESUME, TRADING_RESUMES = range(7)
KINDS = {
    CLEAR: "clear",
    LEVEL: "level",
    TRADE: "trade",
    HIDDEN_TRADE: "hidden trade",
    HALT: "halt",
    QUOTES_RESUME: "quotes resume",
    TRADING_RESUMES: "trading resumes",
}
COLUMNS = {
    "ts": np.int64,
    "local_ts": np.int64,
    "kind": np.int8,
    "side": np.int8,
    "price": np.int64,
    "size": np.float64,
}
SCHEMA = pa.schema([(name, pa.from_numpy_dtype(dtype)) for name, dtype in COLUMNS.items()])


def empty_events(n: int) -> dict[str, np.ndarray]:
    """Column arrays for ``n`` events, zeroed."""
    return {name: np.zeros(n, dtype) for name, dtype in COLUMNS.items()}
