"""A recording on the facts' clock (``mm_gym.market.recorded``): the samples against a book
rebuilt by hand and against LOBSTER's own orderbook file; errors."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mm_gym.data.convert import convert
from mm_gym.data.schema import (
    CLEAR,
    HIDDEN_TRADE,
    LEVEL,
    SCHEMA_VERSION,
    TRADE,
    empty_events,
)
from mm_gym.data.store import write_events
from mm_gym.errors import ConfigError, DataError
from mm_gym.market import realism as rz
from mm_gym.market.recorded import infer_tick, record_recording

AAPL = Path(__file__).resolve().parents[1] / "data" / "LOBSTER_AAPL_2012-06-21_0930-0935_1.zip"
S = 1_000_000_000  # ns
T0 = 1_340_285_400 * S  # a whole second
UNIT = 0.01  # price unit: cents


def write(path: Path, rows: list[tuple], levels: int = 0) -> Path:
    """A recording of ``(ts, kind, side, price, size)`` rows."""
    ev = empty_events(len(rows))
    for k, (ts, kind, side, price, size) in enumerate(rows):
        ev["ts"][k] = ev["local_ts"][k] = ts
        ev["kind"][k], ev["side"][k], ev["price"][k], ev["size"][k] = kind, side, price, size
    meta = {
        "schema_version": SCHEMA_VERSION,
        "source": "test",
        "price_unit": str(UNIT),
        "levels": str(levels),
    }
    write_events(iter([ev]), meta, path)
    return path


def test_samples_follow_the_book_and_the_trades(tmp_path):
    rows = [
        (T0, CLEAR, 0, 0, 0.0),
        (T0, LEVEL, 1, 10_000, 5.0),  # bid 100.00 x 5
        (T0, LEVEL, 1, 9_998, 7.0),
        (T0, LEVEL, -1, 10_004, 3.0),  # ask 100.04 x 3
        (T0 + S // 2, LEVEL, -1, 10_002, 1.0),  # ask 100.02 at 0.5 s
        (T0 + 2 * S + 10, TRADE, 1, 10_002, 1.0),  # a buy takes it at 2 s + 10 ns...
        (T0 + 2 * S + 10, LEVEL, -1, 10_002, 0.0),
        (T0 + 2 * S + 10, TRADE, 1, 10_004, 2.0),  # ... and walks to 100.04
        (T0 + 2 * S + 10, LEVEL, -1, 10_004, 1.0),
        (T0 + 2 * S + 20, HIDDEN_TRADE, -1, 10_001, 4.0),  # a hidden sell between ticks
        (T0 + 3 * S, LEVEL, 1, 10_000, 0.0),  # exactly on the clock: in that sample
    ]
    rec = record_recording(write(tmp_path / "r.parquet", rows))
    assert rec.dt == 1.0 and rec.markets == 1
    assert rec.tick_size == pytest.approx(0.02)  # the book's prices: 2-cent steps
    # samples at 0, 1, 2 and 3 s; a sample holds the events up to its time, inclusive
    assert np.allclose(rec.mid[0], [100.02, 100.01, 100.01, (99.98 + 100.04) / 2])
    # spread in ticks at the end of each step
    assert np.allclose(rec.spread_ticks[0], [1.0, 1.0, 3.0])
    # book changes per step: snapshot levels do not count, the hidden execution does
    assert rec.events[0].tolist() == [1, 0, 4]
    assert rec.volume[0].tolist() == [0.0, 0.0, 7.0]
    # trades: every execution with an aggressor, seconds from the clock's start
    assert np.allclose(rec.trade_times[0], [2 + 1e-8, 2 + 1e-8, 2 + 2e-8])
    assert rec.trade_signs[0].tolist() == [1.0, 1.0, -1.0]


def test_a_source_showing_one_level_keeps_one_level(tmp_path):
    rows = [
        (T0, LEVEL, 1, 10_000, 5.0),
        (T0, LEVEL, -1, 10_002, 5.0),
        (T0 + S, LEVEL, 1, 10_001, 2.0),  # a better bid pushes 100.00 out of view
        (T0 + 2 * S, LEVEL, 1, 10_001, 0.0),  # gone: the view is empty, not back to 100.00
        (T0 + 3 * S, LEVEL, 1, 9_999, 1.0),
    ]
    rec = record_recording(write(tmp_path / "r.parquet", rows, levels=1))
    assert np.allclose(rec.mid[0], [100.01, 100.015, 100.015, 100.005])
    assert np.isnan(rec.spread_ticks[0][1])  # one side empty at 2 s
    assert rec.depth_bid.shape[1:] == (1, rz.DEPTH_LEVELS)


def test_the_mid_equals_lobsters_orderbook_file_on_every_second(tmp_path):
    path = convert([AAPL], tmp_path / "aapl.parquet")["path"]
    rec = record_recording(path)
    with zipfile.ZipFile(AAPL) as zf:
        [msg_name] = [n for n in zf.namelist() if "message" in n]
        [book_name] = [n for n in zf.namelist() if "orderbook" in n]
        msg = pd.read_csv(zf.open(msg_name), header=None).to_numpy()
        book = pd.read_csv(zf.open(book_name), header=None).to_numpy(np.float64)
    times = np.round(msg[:, 0] * 1e9).astype(np.int64)
    clock = times[0] + np.arange(rec.mid.shape[1], dtype=np.int64) * S
    rows = np.searchsorted(times, clock, side="right") - 1
    oracle = (book[rows, 0] + book[rows, 2]) / 2 * 1e-4
    assert rec.mid.shape[1] == 301  # five minutes and the last book
    assert np.allclose(rec.mid[0], oracle, rtol=0, atol=1e-9)
    assert rec.tick_size == pytest.approx(0.01)
    stats = rz.market_stats(rec)
    assert 0 < stats.values["ret_std_1s"] < 5
    assert stats.values["spread_ticks"] >= 1


def test_tick_inference_and_errors(tmp_path):
    assert infer_tick(np.array([10_000, 10_005, 10_010, 0])) == 5
    with pytest.raises(DataError, match="too few distinct prices"):
        infer_tick(np.array([10_000, 10_000]))
    one_sided = [(T0, LEVEL, 1, 10_000, 1.0), (T0 + 5 * S, LEVEL, 1, 10_001, 1.0)]
    with pytest.raises(DataError, match="no two-sided book"):
        record_recording(write(tmp_path / "bids.parquet", one_sided))
    book = [(T0, LEVEL, 1, 10_000, 1.0), (T0, LEVEL, -1, 10_002, 1.0)]
    ok = write(tmp_path / "ok.parquet", [*book, (T0 + 2 * S, LEVEL, 1, 9_998, 1.0)])
    for name, kwargs in (("clock_s", {"clock_s": 0.0}), ("tick", {"tick": -1.0})):
        with pytest.raises(ConfigError, match=name):
            record_recording(ok, **kwargs)
    with pytest.raises(DataError, match="no such file"):
        record_recording(tmp_path / "missing.parquet")
    assert math.isfinite(record_recording(ok, tick=0.02).tick_size)


def test_a_low_priced_recording_needs_no_simulated_market(tmp_path):
    """A $5 stock with a one-cent tick is 500 ticks: too coarse for a simulated market's
    window, and nothing a recording's facts need."""
    rows = [(T0, LEVEL, 1, 500, 10.0), (T0, LEVEL, -1, 502, 10.0), (T0 + 3 * S, LEVEL, 1, 501, 2.0)]
    rec = record_recording(write(tmp_path / "penny.parquet", rows))
    assert rec.market is None and rec.tick_size == pytest.approx(0.01)
    assert np.allclose(rec.mid[0], [5.01, 5.01, 5.01, 5.015])
    assert np.allclose(rec.spread_ticks[0], [2.0, 2.0, 1.0])
