"""Competition among market makers: the same rule maker, alone and with copies of itself in one
book. What it does to the inside spread, to each maker's fills and PnL, and to what the
takers pay.

Every maker quotes the strategy document's table (``RuleBasedPolicy``'s parameters, from its
own observation) through the same quoting engine; they differ only in their place in the
queues. Books are independent markets, one seed each; a figure's standard error is over books
(the makers of one book are not independent). The takers' cost is the background's loss on
its trades with the makers, marked at the mid at the end: what the makers earn from the
background, before their fees.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import MarketMakingCore
from mm_gym.envs.multi_maker import MakersCore, MultiMakerConfig, rule_params
from mm_gym.errors import ConfigError
from mm_gym.market import layout as lay
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MAX_MAKERS

__all__ = ["COMPETITION_COLUMNS", "COMPETITION_MAKERS", "BookResults", "competition", "play_books"]

COMPETITION_MAKERS = (1, 2, 4, 8)
COMPETITION_COLUMNS = (
    "inside_spread_bps",  # time-mean inside spread (background and makers' quotes), bps
    "background_spread_bps",  # the background book's alone
    "maker_fills_per_h",  # resting fills of one maker per hour
    "maker_pnl_per_h",  # one maker's PnL per hour, USD (after fees)
    "maker_spread_captured_per_h",  # one maker's spread captured (fills against the mid), USD
    "makers_pnl_per_h",  # all the book's makers together
    "takers_cost_per_h",  # the background's loss on its trades with the makers, USD per hour
    "makers_volume_per_h",  # lots the book's makers traded per hour
    "makers_fees_per_h",  # the fees they paid, USD (rebates negative): PnL = takers' cost - fees
    "maker_halted",  # share of makers stopped by their daily stop
)


def competition(
    makers: Sequence[int] = COMPETITION_MAKERS,
    books: int = 64,
    hours: float = 1.0,
    seed: int = 0,
    market: MarketConfig | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """One row per number of makers: the mean over ``books`` books (seeds ``seed`` ..) of each
    of ``COMPETITION_COLUMNS``, and its standard error over books (``<column>_se``)."""
    for m in makers:
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= MAX_MAKERS:
            raise ConfigError(f"makers={m!r}: expected integers from 1 to {MAX_MAKERS}")
    if isinstance(books, bool) or not isinstance(books, int) or books < 2:
        raise ConfigError(f"books={books!r}: expected an integer >= 2 (a standard error)")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not hours >= 1 / 60:
        raise ConfigError(f"hours={hours!r}: expected a number of hours >= 1/60 (a minute)")
    config = EnvConfig(session_s=hours * 3600.0, market=market or MarketConfig())
    rows = {m: _play(m, books, seed, config, threads) for m in makers}
    out = pd.DataFrame(
        {
            **{c: [rows[m][c].mean() for m in makers] for c in COMPETITION_COLUMNS},
            **{
                f"{c}_se": [rows[m][c].std(ddof=1) / np.sqrt(books) for m in makers]
                for c in COMPETITION_COLUMNS
            },
        },
        index=pd.Index(list(makers), name="makers"),
    )
    return out


def _play(
    makers: int, books: int, seed: int, config: EnvConfig, threads: int | None
) -> dict[str, np.ndarray]:
    """One session of ``books`` books with ``makers`` rule makers each: per-book values."""
    core = MarketMakingCore(books, config, threads, makers=makers)
    sim = core.sim
    core.reset(seed + np.arange(books))
    document = EnvConfig()
    no_clip = np.zeros(core.rows, dtype=np.int64)
    every = slice(None)
    inside = np.zeros(books)
    background = np.zeros(books)
    counted = np.zeros(books)
    for _ in range(core.max_steps):
        core.step_params(rule_params(core, every, document), no_clip)
        spread, bg_spread = _spreads(sim, makers)
        ok = np.isfinite(spread) & np.isfinite(bg_spread)
        inside[ok] += spread[ok]
        background[ok] += bg_spread[ok]
        counted += ok
    hours = core.max_steps * core.dt / 3600.0
    per_book = (books, makers)
    pnl = sim.equity.reshape(per_book) / hours
    fills = sim.mints[:, lay.MI_N_MAKER_FILLS].reshape(per_book) / hours
    captured = sim.mfs[:, lay.MF_SPREAD_CAPTURED].reshape(per_book) / hours
    tick = sim.market.tick_size
    takers = -(sim.fs[:, lay.F_BG_CASH] + sim.ints[:, lay.I_BG_INV] * sim.fs[:, lay.F_MID] * tick)
    return {
        "inside_spread_bps": inside / np.maximum(counted, 1),
        "background_spread_bps": background / np.maximum(counted, 1),
        "maker_fills_per_h": fills.mean(axis=1),
        "maker_pnl_per_h": pnl.mean(axis=1),
        "maker_spread_captured_per_h": captured.mean(axis=1),
        "makers_pnl_per_h": pnl.sum(axis=1),
        "takers_cost_per_h": takers / hours,
        "makers_volume_per_h": sim.mfs[:, lay.MF_VOLUME].reshape(per_book).sum(axis=1) / hours,
        "makers_fees_per_h": sim.mfs[:, lay.MF_FEES].reshape(per_book).sum(axis=1) / hours,
        "maker_halted": sim.mints[:, lay.MI_HALTED].reshape(per_book).mean(axis=1),
    }


def _spreads(sim, makers: int) -> tuple[np.ndarray, np.ndarray]:
    """Inside and background spreads of every book now, bps of the mid (nan: a side empty)."""
    o = sim.orders.reshape(sim.n, makers, 2, lay.NORD)
    live = o[..., lay.O_ACTIVE] == 1
    price = o[..., lay.O_PRICE].astype(np.float64)
    bb = sim.ints[:, lay.I_BEST_BID].astype(np.float64)
    ba = sim.ints[:, lay.I_BEST_ASK].astype(np.float64)
    bb[bb < 0] = np.nan
    ba[ba < 0] = np.nan
    mid = sim.fs[:, lay.F_MID]
    quoted = np.where(live, price, np.nan)  # [books, makers, side]
    best_bid = np.fmax(bb, np.fmax.reduce(quoted[..., 0], axis=1))
    best_ask = np.fmin(ba, np.fmin.reduce(quoted[..., 1], axis=1))
    return (best_ask - best_bid) / mid * 1e4, (ba - bb) / mid * 1e4


@dataclasses.dataclass(frozen=True)
class BookResults:
    """Per-seed results of ``play_books``, one book per seed: the learners' seats' and the
    rivals' episode return (the env's objective: the sum of its rewards) and PnL, each the
    mean over those makers of the book."""

    seeds: np.ndarray
    seat_return: np.ndarray
    rival_return: np.ndarray
    seat_pnl: np.ndarray
    rival_pnl: np.ndarray


def play_books(
    config: MultiMakerConfig,
    seeds: Sequence[int],
    policy: Any | None = None,
    *,
    deterministic: bool = True,
    threads: int | None = None,
) -> BookResults:
    """One episode per seed of a book of ``config.makers``: the learners' seats played by
    ``policy`` (SB3's ``predict`` on their observations, one policy for every seat), or, with
    no policy, by the strategy document's table (what a rule maker earns in those seats);
    the rivals by their rules."""
    seed_arr = np.asarray(list(seeds), dtype=np.int64)
    if seed_arr.ndim != 1 or seed_arr.size == 0:
        raise ConfigError(f"seeds={seeds!r}: expected a non-empty list of integers")
    game = MakersCore(int(seed_arr.size), config, threads)
    core = game.core
    core.reset(seed_arr)
    document = EnvConfig()
    seats = game.agent_rows
    returns = np.zeros(core.rows)
    state = None
    start = np.ones(seats.size, dtype=bool)
    no_clip = np.zeros(seats.size, dtype=np.int64)
    for _ in range(core.max_steps):
        if policy is None:
            _, reward, _, _ = game.step_seats(rule_params(core, seats, document), no_clip)
        else:
            actions, state = policy.predict(
                core.obs[seats], state=state, episode_start=start, deterministic=deterministic
            )
            start[:] = False
            _, reward, _, _ = game.step(actions)
        returns += reward
    m, a = config.makers.n_makers, config.makers.agents
    books = (seed_arr.size, m)
    returns = returns.reshape(books)
    pnl = core.sim.equity.reshape(books)
    rivals = slice(a, m)
    nan = np.full(seed_arr.size, np.nan)
    return BookResults(
        seeds=seed_arr,
        seat_return=returns[:, :a].mean(axis=1),
        rival_return=returns[:, rivals].mean(axis=1) if m > a else nan,
        seat_pnl=pnl[:, :a].mean(axis=1),
        rival_pnl=pnl[:, rivals].mean(axis=1) if m > a else nan,
    )
