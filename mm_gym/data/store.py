"""Recordings on disk: event chunks into one Parquet file (a row group per chunk), and back
out in batches, so neither direction holds a whole day in memory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mm_gym.data.schema import COLUMNS, SCHEMA, SCHEMA_VERSION
from mm_gym.errors import DataError

__all__ = ["read_events", "read_metadata", "write_events"]


def write_events(
    chunks: Iterable[dict[str, np.ndarray]], metadata: dict[str, str], path: str | Path
) -> int:
    """Write event chunks and ``metadata`` to ``path`` (atomically: a failed conversion leaves
    nothing behind); the number of events written."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, SCHEMA) as writer:
            for chunk in chunks:
                table = pa.table({c: chunk[c] for c in COLUMNS}, schema=SCHEMA)
                writer.write_table(table)
                rows += table.num_rows
            writer.add_key_value_metadata({**metadata, "rows": str(rows)})
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows


def _open(path: str | Path) -> pq.ParquetFile:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        f = pq.ParquetFile(p)
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"{p}: not a Parquet file ({err})") from None
    missing = [c for c in COLUMNS if c not in f.schema_arrow.names]
    if missing:
        raise DataError(f"{p}: columns {missing} missing; expected {list(COLUMNS)}")
    return f


def read_metadata(path: str | Path) -> dict[str, str]:
    """The recording's metadata (``mm_gym.data.schema``)."""
    raw = _open(path).metadata.metadata or {}
    meta = {k.decode(): v.decode() for k, v in raw.items() if not k.startswith(b"ARROW")}
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise DataError(
            f"{path}: schema_version {meta.get('schema_version')!r}; expected {SCHEMA_VERSION!r} "
            "(convert the source again with mm-gym data convert)"
        )
    return meta


def read_events(path: str | Path, batch_rows: int = 1_000_000) -> Iterator[dict[str, np.ndarray]]:
    """The recording's events in batches of up to ``batch_rows``, as column arrays."""
    read_metadata(path)
    for batch in _open(path).iter_batches(batch_size=batch_rows, columns=list(COLUMNS)):
        yield {c: batch.column(c).to_numpy(zero_copy_only=False) for c in COLUMNS}
