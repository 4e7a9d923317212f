"""A recording's source files into one Parquet file of the event schema, the format detected:
a LOBSTER zip or message/orderbook file, or tardis-style ``incremental_book_L2`` and/or
``trades`` CSV files."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

from mm_gym.data.lobster import NAME, read_lobster
from mm_gym.data.store import write_events
from mm_gym.data.tardis import DEFAULT_PRICE_UNIT, read_tardis, tardis_kind
from mm_gym.errors import DataError

__all__ = ["ConvertResult", "convert", "detect_format"]


def detect_format(sources: Sequence[str | Path]) -> str:
    """``"lobster"`` or ``"tardis"``, from the files' names and headers."""
    paths = [Path(s) for s in sources]
    for p in paths:
        if not p.is_file():
            raise DataError(f"{p}: no such file")
    if len(paths) == 1 and (zipfile.is_zipfile(paths[0]) or NAME.search(paths[0].name)):
        return "lobster"
    kinds = [tardis_kind(p) for p in paths]
    if all(kinds) and len(set(kinds)) == len(kinds) <= 2:
        return "tardis"
    raise DataError(
        f"{', '.join(map(str, paths))}: not a recording mm_gym reads; expected a LOBSTER zip "
        "or message/orderbook file, or tardis incremental_book_L2 and/or trades CSV files "
        "(one of each at most)"
    )


class ConvertResult(dict):
    """What a conversion wrote: ``rows``, ``seconds``, ``path`` and the metadata."""


def convert(
    sources: Sequence[str | Path],
    out: str | Path,
    *,
    price_unit: float = DEFAULT_PRICE_UNIT,
    tz: str | None = None,
    chunk_rows: int = 200_000,
) -> ConvertResult:
    """Convert ``sources`` (one recording) into the Parquet file ``out``."""
    started = time.perf_counter()
    fmt = detect_format(sources)
    if fmt == "lobster":
        kwargs = {"chunk_rows": chunk_rows} | ({"tz": tz} if tz else {})
        metadata, chunks = read_lobster(sources[0], **kwargs)
    else:
        by_kind = {tardis_kind(s): s for s in sources}
        metadata, chunks = read_tardis(
            by_kind.get("book"), by_kind.get("trades"), price_unit=price_unit, chunk_rows=chunk_rows
        )
    rows = write_events(chunks, metadata, out)
    return ConvertResult(
        metadata, rows=rows, seconds=time.perf_counter() - started, path=Path(out), format=fmt
    )
