"""Recordings on disk: Parquet round trip with metadata, batches, atomic writes, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mm_gym.data.convert import convert, detect_format
from mm_gym.data.schema import COLUMNS, SCHEMA_VERSION, empty_events
from mm_gym.data.store import read_events, read_metadata, write_events
from mm_gym.errors import DataError

HERE = Path(__file__).resolve().parent
AAPL = HERE / "LOBSTER_AAPL_2012-06-21_0930-0935_1.zip"


def test_chunks_round_trip_with_their_metadata(tmp_path):
    rng = np.random.default_rng(0)
    chunks = []
    for n in (5, 0, 7):
        ev = empty_events(n)
        for c in COLUMNS:
            ev[c] = rng.integers(-5, 5, n).astype(COLUMNS[c])
        chunks.append(ev)
    path = tmp_path / "rec.parquet"
    assert write_events(iter(chunks), {"schema_version": SCHEMA_VERSION, "source": "x"}, path) == 12
    meta = read_metadata(path)
    assert meta["source"] == "x" and meta["rows"] == "12"
    back = list(read_events(path, batch_rows=4))
    assert [len(b["ts"]) for b in back] == [4, 4, 4]
    for c in COLUMNS:
        got = np.concatenate([b[c] for b in back])
        assert got.dtype == COLUMNS[c]
        assert np.array_equal(got, np.concatenate([ch[c] for ch in chunks]))


def test_a_failed_conversion_leaves_nothing(tmp_path):
    def chunks():
        yield empty_events(3)
        raise DataError("bad row")

    with pytest.raises(DataError):
        write_events(chunks(), {}, tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []


def test_bad_recordings_are_one_line(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_metadata(tmp_path / "none.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(DataError, match="not a Parquet file"):
        read_metadata(junk)
    old = tmp_path / "old.parquet"
    write_events([empty_events(1)], {"schema_version": "0"}, old)
    with pytest.raises(DataError, match="schema_version '0'; expected '1'"):
        list(read_events(old))


def test_convert_detects_the_format_and_writes_the_metadata(tmp_path):
    assert detect_format([AAPL]) == "lobster"
    res = convert([AAPL], tmp_path / "aapl.parquet", chunk_rows=1000)
    meta = read_metadata(res["path"])
    assert (meta["source"], meta["instrument"], meta["date"], meta["levels"]) == (
        "lobster",
        "AAPL",
        "2012-06-21",
        "1",
    )
    assert float(meta["price_unit"]) == 1e-4 and int(meta["rows"]) == res["rows"] > 4228
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="not a recording mm_gym reads"):
        detect_format([other])
