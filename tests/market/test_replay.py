"""The replay market: the recorded book rebuilt exactly, our fills only where the recorded
trades reach our price and queue, the queue models on recorded cancellations, windows drawn
from seeds, and the env on a recording."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import mm_gym  # noqa: F401  (registers the envs)
from mm_gym import RuleBasedPolicy
from mm_gym.data.lobster import EMPTY_ASK, EMPTY_BID
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError, DataError
from mm_gym.market.config import MarketConfig
from mm_gym.market.layout import (
    I_BEST_BID,
    I_ORIGIN,
    MF_CASH,
    MI_INV,
    O_ACTIVE,
    O_AHEAD,
    O_ORIG_SIZE,
    O_PRICE,
    O_SIZE,
)
from mm_gym.market.replay import Tape, replay_event, replay_start
from mm_gym.market.replay_sim import Recording, ReplaySim, load_recording
from tests.conftest import AAPL_SLICE as AAPL
from tests.conftest import GOOG_SLICE as GOOG

LEVEL, TRADE, HIDDEN = 1, 2, 3


def _top(sim: ReplaySim, levels: int, unit_per_tick: float) -> np.ndarray:
    """Market 0's book as a LOBSTER orderbook row (ask price, ask size, bid price, bid size)."""
    book, origin = sim.book[0], sim.ints[0, I_ORIGIN]
    asks = [(origin + j, book[1, j]) for j in np.flatnonzero(book[1])][:levels]
    bids = [(origin + j, book[0, j]) for j in np.flatnonzero(book[0])[::-1]][:levels]
    out = np.zeros(4 * levels)
    for k, (p, q) in enumerate(asks):
        out[4 * k], out[4 * k + 1] = p * unit_per_tick, q
    for k, (p, q) in enumerate(bids):
        out[4 * k + 2], out[4 * k + 3] = p * unit_per_tick, q
    return out


@pytest.mark.parametrize("name", ["AAPL", "GOOG"])
def test_the_replayed_book_equals_the_orderbook_file_at_every_time(recordings, name):
    src = AAPL if name == "AAPL" else GOOG
    rec = load_recording(recordings[name], shares_per_lot=1.0)
    with zipfile.ZipFile(src) as zf:
        [msg_name] = [n for n in zf.namelist() if "message" in n]
        [book_name] = [n for n in zf.namelist() if "orderbook" in n]
        msg = pd.read_csv(zf.open(msg_name), header=None).to_numpy()
        shown = pd.read_csv(zf.open(book_name), header=None).to_numpy(np.float64).copy()
    shown[(shown == EMPTY_ASK) | (shown == EMPTY_BID)] = 0
    msg_ns = np.round(msg[:, 0] * 1e9).astype(np.int64)
    msg_s = (msg_ns - msg_ns[0]) / 1e9  # as the tape's times are made: exactly equal floats
    last_rows = np.append(np.flatnonzero(np.diff(msg_ns)), len(msg) - 1)
    sim = ReplaySim(1, rec, session_s=1.0, warmup_s=0.0, threads=1)
    unit_per_tick = rec.tick / float(rec.metadata["price_unit"])
    mask = np.ones(1, dtype=bool)
    for r in last_rows:  # every time of the file (the last row of each)
        start = np.array([msg_s[r]])
        replay_start(
            mask, start, 0.0, rec.tape, sim.cursor, rec.levels, sim.state, sim.market_params
        )
        assert np.array_equal(_top(sim, rec.levels, unit_per_tick), shown[r]), f"line {r + 1}"


# ---------------------------------------------------------------- our orders in a hand-made book

TICK = 0.01


def _hand_sim(events: list[tuple], levels: int = 0, queue_model: str = "random_lot"):
    """A one-market replay of ``events`` ((t, kind, side, price, lots)), started before the
    first event: the tape and the sim, to apply the events one by one."""
    t, kind, side, price, lots = (np.array(c) for c in zip(*events, strict=True))
    tape = Tape(
        t=t.astype(np.float64),
        kind=kind.astype(np.int64),
        side=side.astype(np.int64),
        price=price.astype(np.int64),
        lots=lots.astype(np.int64),
    )
    rec = Recording(
        path="hand",
        tape=tape,
        tick=TICK,
        shares_per_lot=1.0,
        levels=levels,
        duration_s=1e6,
        day0_s=0.0,
        centre_ticks=10_000.0,
        window_levels=128,
        metadata={},
    )
    market = MarketConfig(queue_model=queue_model, maker_fee_bps=0.0, taker_fee_bps=0.0)
    sim = ReplaySim(1, rec, session_s=1.0, market=market, warmup_s=0.0, threads=1)
    replay_start(
        np.ones(1, dtype=bool),
        np.array([-1.0]),
        0.0,
        tape,
        sim.cursor,
        levels,
        sim.state,
        sim.market_params,
    )
    return tape, sim


def _rest(sim, side: int, price: int, lots: int, ahead: int) -> None:
    sim.orders[0, side, [O_ACTIVE, O_PRICE, O_SIZE, O_AHEAD, O_ORIG_SIZE]] = (
        1,
        price,
        lots,
        ahead,
        lots,
    )


def _apply(tape, sim, k: int, levels: int = 0) -> None:
    replay_event(0, k, float(tape.t[k]), tape, levels, sim.state, sim.market_params)


BOOK = [(0.0, LEVEL, 1, 10_000, 5), (0.0, LEVEL, -1, 10_002, 5)]


def test_a_trade_fills_our_order_with_what_the_lots_ahead_leave():
    tape, sim = _hand_sim(BOOK + [(1.0, TRADE, -1, 10_000, 3), (2.0, TRADE, -1, 10_000, 3)])
    _apply(tape, sim, 0)
    _apply(tape, sim, 1)
    _rest(sim, 0, 10_000, 2, ahead=5)
    _apply(tape, sim, 2)  # 3 of the 5 ahead traded: no fill
    assert sim.mints[0, MI_INV] == 0 and sim.orders[0, 0, O_AHEAD] == 2
    _apply(tape, sim, 3)  # 3 more: 2 ahead, then 1 of ours
    assert sim.mints[0, MI_INV] == 1
    assert sim.orders[0, 0, O_SIZE] == 1 and sim.orders[0, 0, O_ACTIVE] == 1
    assert sim.mfs[0, MF_CASH] == pytest.approx(-10_000 * TICK)


@pytest.mark.parametrize(
    ("ours", "ahead", "kind", "aggressor", "filled"),
    [
        (10_001, 0, TRADE, -1, 2),  # better than the trade: the seller met us first
        (10_000, 0, TRADE, -1, 2),  # at its price, first in the queue
        (9_999, 0, TRADE, -1, 0),  # worse: the trade did not reach us
        (10_001, 0, HIDDEN, -1, 2),  # a hidden execution at a worse price than ours
        (10_000, 0, HIDDEN, -1, 0),  # hidden at our price: hidden orders traded, not ours
        (10_001, 0, TRADE, 0, 0),  # no aggressor (an auction cross): nothing of ours
        (10_001, 0, TRADE, 1, 0),  # a buy takes asks, not our bid
    ],
)
def test_which_recorded_trades_reach_our_bid(ours, ahead, kind, aggressor, filled):
    tape, sim = _hand_sim(BOOK + [(1.0, kind, aggressor, 10_000, 4)])
    _apply(tape, sim, 0)
    _apply(tape, sim, 1)
    _rest(sim, 0, ours, 2, ahead=ahead)
    _apply(tape, sim, 2)
    assert sim.mints[0, MI_INV] == filled


def test_a_trade_without_an_aggressor_leaves_the_book_to_the_level_events():
    tape, sim = _hand_sim(BOOK + [(1.0, TRADE, 0, 10_002, 3)])
    for k in range(3):
        _apply(tape, sim, k)
    assert sim.book[0, 1, 10_002 - sim.ints[0, I_ORIGIN]] == 5


def test_lots_arriving_through_our_quote_fill_it():
    """A recorded ask at or below our resting bid would have traded with it."""
    tape, sim = _hand_sim(BOOK + [(1.0, LEVEL, -1, 10_001, 3), (2.0, LEVEL, -1, 10_001, 5)])
    _apply(tape, sim, 0)
    _apply(tape, sim, 1)
    _rest(sim, 0, 10_001, 4, ahead=0)
    _apply(tape, sim, 2)  # 3 lots offered at our bid's price: 3 of ours fill
    assert sim.mints[0, MI_INV] == 3 and sim.orders[0, 0, O_SIZE] == 1
    _apply(tape, sim, 3)  # 2 more: the last lot of ours
    assert sim.mints[0, MI_INV] == 4 and sim.orders[0, 0, O_ACTIVE] == 0
    assert sim.book[0, 1, 10_001 - sim.ints[0, I_ORIGIN]] == 5  # the level as recorded


def test_our_fill_takes_nothing_from_the_recorded_book():
    tape, sim = _hand_sim(BOOK + [(1.0, TRADE, 1, 10_002, 3)])
    _apply(tape, sim, 0)
    _apply(tape, sim, 1)
    _rest(sim, 1, 10_001, 2, ahead=0)
    _apply(tape, sim, 2)
    assert sim.mints[0, MI_INV] == -2
    j = 10_002 - sim.ints[0, I_ORIGIN]
    assert sim.book[0, 1, j] == 2  # the recorded trade still took its 3 lots


def test_risk_averse_cancellations_come_from_behind_us_first():
    tape, sim = _hand_sim(
        BOOK + [(1.0, LEVEL, 1, 10_000, 8), (2.0, LEVEL, 1, 10_000, 4)], queue_model="risk_averse"
    )
    _apply(tape, sim, 0)
    _apply(tape, sim, 1)
    _rest(sim, 0, 10_000, 1, ahead=5)
    _apply(tape, sim, 2)  # 3 lots join behind us
    assert sim.orders[0, 0, O_AHEAD] == 5
    _apply(tape, sim, 3)  # 4 leave: 3 from behind, then 1 from ahead
    assert sim.orders[0, 0, O_AHEAD] == 4


def test_ten_levels_deep_a_level_coming_into_view_goes_ahead_of_us():
    """A two-level source drops its best bid, then shows the level that comes into view: the
    lots there may have rested before ours."""
    events = [
        (0.0, LEVEL, 1, 10_000, 5),
        (0.0, LEVEL, 1, 9_999, 5),
        (0.0, LEVEL, -1, 10_002, 5),
        (1.0, LEVEL, 1, 10_000, 0),
        (1.0, LEVEL, 1, 9_998, 7),
        (2.0, TRADE, -1, 9_998, 2),
    ]
    tape, sim = _hand_sim(events, levels=2)
    for k in range(3):
        _apply(tape, sim, k, levels=2)
    _rest(sim, 0, 9_998, 1, ahead=0)
    for k in range(3, 6):
        _apply(tape, sim, k, levels=2)
    assert sim.orders[0, 0, O_AHEAD] == 5 and sim.mints[0, MI_INV] == 0


def test_a_new_best_price_is_in_view_and_joins_behind_us():
    events = [(0.0, LEVEL, 1, 10_000, 5), (0.0, LEVEL, -1, 10_003, 5), (1.0, LEVEL, 1, 10_001, 4)]
    tape, sim = _hand_sim(events, levels=10)
    _apply(tape, sim, 0, levels=10)
    _apply(tape, sim, 1, levels=10)
    _rest(sim, 0, 10_001, 1, ahead=0)  # we improved the bid; others join after us
    _apply(tape, sim, 2, levels=10)
    assert sim.orders[0, 0, O_AHEAD] == 0


def test_lots_shown_from_beyond_the_recorded_depth_are_placed_ahead_of_us():
    events = [
        (0.0, LEVEL, 1, 10_000, 5),
        (0.0, LEVEL, -1, 10_002, 5),
        (1.0, LEVEL, 1, 10_000, 0),
        (1.0, LEVEL, 1, 9_999, 7),  # shown only now: the source (1 level) hid it before
        (2.0, LEVEL, 1, 10_001, 2),  # a better price: shown, and the one level kept
    ]
    tape, sim = _hand_sim(events, levels=1)
    _apply(tape, sim, 0, levels=1)
    _apply(tape, sim, 1, levels=1)
    _rest(sim, 0, 9_999, 1, ahead=0)
    _apply(tape, sim, 2, levels=1)
    _apply(tape, sim, 3, levels=1)
    assert sim.orders[0, 0, O_AHEAD] == 7
    _apply(tape, sim, 4, levels=1)
    # the book keeps one level a side, as the source shows; 9,999 is hidden again
    assert sim.ints[0, I_BEST_BID] == 10_001
    assert (sim.book[0, 0] > 0).sum() == 1


def test_a_quoter_that_never_crosses_fills_only_where_trades_reach_it(recordings):
    """On the GOOG slice with the document's quoting: every maker fill is at a time when the
    recording traded at or through its price on its side, or when lots arrived on the other
    side at or through its price (an order that would have traded with it)."""
    rec = load_recording(recordings["GOOG"])
    market = MarketConfig(fill_log_capacity=10_000)
    sim = ReplaySim(8, rec, session_s=90.0, market=market, warmup_s=20.0, threads=1)
    sim.reset(np.arange(8))
    params = np.tile([0.5, 0.0, 1.0], (8, 1))
    for _ in range(90):
        sim.advance(1.0, params)
    tape = rec.tape
    trades = np.isin(tape.kind, (TRADE, HIDDEN)) & (tape.side != 0)
    levels = tape.kind == LEVEL
    n = 0
    for i in range(8):
        f = sim.fills(i)
        f = f[f["maker"] == 1]
        for t, side, price_ccy in zip(f["time"], f["side"], f["price"], strict=True):
            price = round(price_ccy / rec.tick)
            now = np.abs(tape.t - t) < 1e-9
            # a buy of ours (side +1) is hit by a sell (aggressor -1) at or below our price,
            # or met by an ask (level side -1) offered at or below it
            through = tape.price <= price if side > 0 else tape.price >= price
            traded = (trades & now & (tape.side == -side) & through).any()
            offered = (levels & now & (tape.side == -side) & through & (tape.lots > 0)).any()
            assert traded or offered, (i, t, side, price)
            n += 1
    assert n > 0  # the check saw fills


def test_the_same_window_and_seed_give_the_same_fills_bit_for_bit(recordings):
    rec = load_recording(recordings["AAPL"])
    runs = []
    for _ in range(2):
        sim = ReplaySim(3, rec, session_s=120.0, threads=1)
        sim.reset(np.array([5, 6, 7]))
        for _ in range(120):
            sim.advance(1.0, np.tile([0.5, 0.5, 1.0], (3, 1)))
        runs.append((sim.start.copy(), sim.fs.copy(), sim.ints.copy(), sim.log.copy()))
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
    other = ReplaySim(3, rec, session_s=120.0, threads=1)
    other.reset(np.array([8, 9, 10]))
    assert not np.array_equal(other.start, runs[0][0])
    assert ((runs[0][0] >= 60.0) & (runs[0][0] <= rec.duration_s - 120.0)).all()


# ---------------------------------------------------------------- the env on a recording


def test_the_env_plays_a_recording_with_the_rule_baseline(recordings):
    env = gym.make("mm_gym/MarketMaking-v0", data=str(recordings["AAPL"]), session_s=120.0)
    obs, info = env.reset(seed=1)
    assert info["regime"] == "unknown" and info["regime_id"] == -1
    policy = RuleBasedPolicy(env.unwrapped.config)
    done = False
    steps = 0
    while not done:
        action, _ = policy.predict(obs)
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        steps += 1
    assert steps == 120 and info["regime"] == "unknown"
    assert np.isfinite(info["equity"])


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"expose_regime": True}, "expose_regime"),
        ({"reward_carry": "expected"}, "reward_carry"),
        ({"pinned_episodes": 0.5}, "pinned_episodes"),
        ({"market": "trending_up"}, "market.pin_regime"),
    ],
)
def test_what_needs_the_true_regime_is_refused_on_a_recording(extra, field):
    with pytest.raises(ConfigError, match=rf"{field}=.* with data=.*no known regime"):
        EnvConfig(data="x.parquet", **extra)


def test_a_missing_recording_and_a_too_short_one_are_named(recordings, tmp_path):
    with pytest.raises(ConfigError, match=r"data='.*nope.parquet': no such file"):
        gym.make("mm_gym/MarketMaking-v0", data=str(tmp_path / "nope.parquet"))
    with pytest.raises(ConfigError, match=r"session_s=3600.0: .* holds 1\d\d s"):
        gym.make("mm_gym/MarketMaking-v0", data=str(recordings["GOOG"]))


# ---------------------------------------------------------------- a recording of our simulator


def _book_levels(book: np.ndarray, origin: int) -> dict[tuple[int, int], int]:
    return {(sd, origin + j): int(book[sd, j]) for sd in (0, 1) for j in np.flatnonzero(book[sd])}


def test_a_recording_of_the_simulator_replays_to_its_book(tmp_path):
    """The simulator's book, recorded as level events every 50 ms of a passive market, is
    rebuilt by the replay at every recorded time."""
    from mm_gym.market.sim import MarketSim

    sim = MarketSim(1, MarketConfig(), threads=1)
    sim.reset(np.array([11]))
    idle = np.array([[1.0, 0.0, 0.0]])  # no size: the agent never quotes
    ns = 1_000_000_000
    rows, snapshots, last = [], [], {}
    for k in range(1200):
        now = _book_levels(sim.book[0], int(sim.ints[0, I_ORIGIN]))
        ts = 1_600_000_000 * ns + k * 50_000_000
        for sd, price in sorted(set(last) | set(now)):
            if last.get((sd, price)) != now.get((sd, price)):
                rows.append((ts, LEVEL, 1 if sd == 0 else -1, price, now.get((sd, price), 0)))
        snapshots.append(now)
        last = now
        sim.advance(0.05, idle)
    path = _write(
        tmp_path / "sim.parquet",
        rows,
        source="mm_gym",
        instrument="SIM",
        price_unit=repr(MarketConfig().tick_size),
        tz="UTC",
    )
    rec = load_recording(path, shares_per_lot=1.0)
    replay = ReplaySim(1, rec, session_s=1.0, warmup_s=0.0, threads=1)
    assert rec.tick == pytest.approx(MarketConfig().tick_size)  # the tape counts the same ticks
    mask = np.ones(1, dtype=bool)
    step = 0.05
    for k in range(1200):
        replay_start(
            mask,
            np.array([k * step]),
            0.0,
            rec.tape,
            replay.cursor,
            0,
            replay.state,
            replay.market_params,
        )
        assert _book_levels(replay.book[0], int(replay.ints[0, I_ORIGIN])) == snapshots[k], k


# ---------------------------------------------------------------- what a recording holds

ROWS = [
    (0, LEVEL, 1, 20_000, 50.0),
    (0, LEVEL, -1, 20_002, 50.0),
    (10**9, 3, -1, 20_001, 40.0),  # a hidden sell at half a tick (price unit 0.005)
    (200 * 10**9, LEVEL, 1, 20_000, 60.0),
]
META = {
    "schema_version": "1",
    "source": "test",
    "instrument": "X",
    "date": "2020-01-02",
    "price_unit": "0.005",
    "levels": "0",
    "tz": "America/New_York",
}


def _write(path, rows=ROWS, **meta) -> Path:
    from mm_gym.data.store import write_events

    ts, kind, side, price, size = (np.array(c) for c in zip(*rows, strict=True))
    chunk = {
        "ts": ts.astype(np.int64),
        "local_ts": ts.astype(np.int64),
        "kind": kind.astype(np.int8),
        "side": side.astype(np.int8),
        "price": price.astype(np.int64),
        "size": size.astype(np.float64),
    }
    write_events([chunk], {**META, **meta}, path)
    return path


def test_a_trade_between_ticks_counts_from_the_tick_its_aggressor_did_not_reach(tmp_path):
    rec = load_recording(_write(tmp_path / "r.parquet"), shares_per_lot=10.0)
    assert rec.tick == pytest.approx(0.01)
    assert rec.tape.price.tolist() == [10_000, 10_001, 10_000, 10_000]  # the sell: floor
    assert rec.tape.lots.tolist() == [5, 5, 4, 6]
    sim = ReplaySim(1, rec, session_s=60.0, threads=1)
    assert sim.trades(0).size == 0  # the simulator's trade tape is still its own


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"price_unit": "cents"}, "metadata price_unit='cents'; expected a number > 0"),
        ({"levels": "ten"}, "metadata levels='ten'; expected an integer >= 0"),
        ({"tz": "Mars/Olympus"}, "metadata tz='Mars/Olympus'; expected an IANA time zone"),
    ],
)
def test_bad_metadata_is_one_line_naming_the_file(tmp_path, meta, message):
    path = _write(tmp_path / "r.parquet", **meta)
    with pytest.raises(DataError, match=re.escape(f"{path}: {message}")):
        load_recording(path)


def test_receipt_times_out_of_order_are_named(tmp_path):
    rows = [ROWS[0], ROWS[1], (5 * 10**9, LEVEL, 1, 20_000, 40.0), (10**9, LEVEL, 1, 20_000, 30.0)]
    path = _write(tmp_path / "r.parquet", rows)
    with pytest.raises(DataError, match=r"row 3: local_ts goes back in time"):
        load_recording(path)


def test_one_price_is_too_few_to_find_the_tick_and_the_file_is_named(tmp_path):
    rows = [(0, LEVEL, 1, 20_000, 50.0), (10**9, LEVEL, 1, 20_000, 40.0)]
    path = _write(tmp_path / "r.parquet", rows)
    with pytest.raises(DataError, match=re.escape(f"{path}: too few distinct prices")):
        load_recording(path)


def test_a_window_starts_with_its_counters_and_clocks_fresh(recordings):
    from mm_gym.market import layout as lay

    rec = load_recording(recordings["AAPL"])
    sim = ReplaySim(4, rec, session_s=120.0, threads=1)
    sim.reset(np.arange(4))
    start = sim.start
    for c in (lay.I_EVENTS, lay.I_VOL_ADDED, lay.I_VOL_CANCELLED, lay.I_VOL_TRADED):
        assert (sim.ints[:, c] == 0).all(), c
    assert (sim.mints[:, lay.MI_N_FILLS] == 0).all()
    np.testing.assert_array_equal(sim.time, start)
    np.testing.assert_allclose(sim.fs[:, lay.F_NEXT_SAMPLE], start + 0.1)
    np.testing.assert_array_equal(sim.mfs[:, lay.MF_NEXT_REFRESH], start)
    for c in (lay.F_NEXT_REGIME, lay.F_NEXT_NEWS, lay.F_NEWS_END):
        assert (sim.fs[:, c] == lay.INF).all()
    # the cursor stands at the first event after the start; the book is the one at the start
    t = rec.tape.t
    assert ((t[sim.cursor - 1] <= start) & (start < t[sim.cursor])).all()
    assert (sim.best_bid < sim.best_ask).all() and not sim.orders[:, :, O_ACTIVE].any()


def test_a_tardis_recording_with_snapshots_replays_to_its_book(tmp_path):
    """Full depth, a snapshot halfway: the replayed book equals the rebuilt one at every
    second, and our resting quotes are dropped by the snapshot and sent again after it."""
    from mm_gym.data.book import LevelBook
    from mm_gym.data.convert import convert
    from mm_gym.data.store import read_events
    from mm_gym.data.tardis import BOOK_COLUMNS
    from tests.data.test_tardis import book_rows, write

    rng = np.random.default_rng(3)
    rows, mid = [], 20_000
    for k in range(400):  # a level a side moves every half second; a snapshot at 100 s
        t = k * 500_000
        snapshot = k in (0, 200)
        if snapshot:
            for d in range(1, 6):
                rows.append((t, True, "bid", f"{(mid - d) / 100:.2f}", str(rng.integers(1, 9))))
                rows.append((t, True, "ask", f"{(mid + d) / 100:.2f}", str(rng.integers(1, 9))))
            continue
        side, d = ("bid", -1) if k % 2 else ("ask", 1)
        rows.append((t, False, side, f"{(mid + d * rng.integers(1, 6)) / 100:.2f}", str(k % 7)))
    book = write(tmp_path / "book.csv", BOOK_COLUMNS, book_rows(rows))
    path = convert([book], tmp_path / "btc.parquet", price_unit=0.01)["path"]
    rec = load_recording(path, shares_per_lot=1.0)
    ev = {c: np.concatenate([b[c] for b in read_events(path)]) for c in ("kind", "side")}
    ev |= {c: np.concatenate([b[c] for b in read_events(path)]) for c in ("price", "size")}
    sim = ReplaySim(1, rec, session_s=1.0, warmup_s=0.0, threads=1)
    mask = np.ones(1, dtype=bool)
    for second in range(0, 199, 3):
        replay_start(
            mask,
            np.array([float(second)]),
            0.0,
            rec.tape,
            sim.cursor,
            0,
            sim.state,
            sim.market_params,
        )
        reference = LevelBook(0)
        k = int(sim.cursor[0])
        reference.apply_all({c: ev[c][:k] for c in ("kind", "side", "price", "size")})
        assert np.array_equal(_top(sim, 5, 1.0), reference.top(5)), second
    quoting = ReplaySim(1, rec, session_s=150.0, warmup_s=10.0, threads=1)
    quoting.reset(np.zeros(1, dtype=np.int64))
    params = np.tile([0.5, 0.0, 1.0], (1, 1))
    quoting.advance(99.9 - quoting.time[0], params)
    assert quoting.orders[0, :, O_ACTIVE].all()
    quoting.advance(0.1001, params)  # the snapshot at 100 s; new quotes land 5 ms after it
    assert not quoting.orders[0, :, O_ACTIVE].any()
    quoting.advance(1.0, params)
    assert quoting.orders[0, :, O_ACTIVE].all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": ""}, r"data='': expected the path of a recording"),
        ({"shares_per_lot": 0.0}, r"shares_per_lot=0.0: allowed range is \(0.0, inf\)"),
    ],
)
def test_bad_replay_fields_are_named(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        EnvConfig(**kwargs)


def test_a_negative_warm_up_is_named(recordings):
    rec = load_recording(recordings["AAPL"])
    with pytest.raises(ConfigError, match=r"warmup_s=-1.0: allowed range is \[0.0, inf\)"):
        ReplaySim(1, rec, session_s=60.0, warmup_s=-1.0, threads=1)


def test_bench_replays_a_recording_and_names_a_missing_one(recordings, capsys, tmp_path):
    import json

    from mm_gym import cli

    assert cli.main(["bench", "--data", str(recordings["AAPL"]), "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for ms in ("1000ms", "100ms"):
        assert out[f"refresh_{ms}_events"] > 0 and out[f"refresh_{ms}_events_per_s"] > 0
        assert out[f"refresh_{ms}_quotes_sent"] > 0  # the engine re-quoted
    assert cli.main(["bench", "--data", str(tmp_path / "nope.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
