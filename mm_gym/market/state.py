"""The arrays the market kernels pass around, bundled: ``MarketState`` holds everything that
changes as the markets run, ``MarketParams`` what does not (gymnax's ``step(key, state,
action, params)``; the action is the quoting parameters ``act[N * M, NACT]``, one row per maker).

Both are ``typing.NamedTuple``s of arrays, which numba takes as arguments (and caches the
functions that do). Their fields are the very arrays ``MarketSim`` holds, so the kernels write
into the sim's arrays. The columns of each array are named in ``layout`` (``sp``'s and
``act``'s in ``mm_gym.strategy.layout``).

A call that numba does not inline passes every array of both bundles (pointer, shape and
strides of each, some 160 machine words): the functions called every few events (the flow
and cancellation events, message landing, the quote refresh) are therefore inlined into the
event loop; passing the bundles to them cost 6% of the default market's throughput.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class MarketState(NamedTuple):
    """The state of a batch of N markets with M market makers each: row ``i`` of the
    per-market arrays is market ``i``'s, row ``a = i * M + m`` of the per-maker arrays its
    maker ``m``'s (M is ``MarketParams.mp[MP_MAKERS]``)."""

    book: np.ndarray  # [N, 2, L] int64: background lots per price level, bids then asks
    fs: np.ndarray  # [N, NFS] float64: per-market floats (F_*)
    ints: np.ndarray  # [N, NIS] int64: per-market integers (I_*)
    mfs: np.ndarray  # [N * M, NMF] float64: per-maker floats (MF_*)
    mints: np.ndarray  # [N * M, NMI] int64: per-maker integers (MI_*)
    orders: np.ndarray  # [N * M, 2, NORD] int64: each maker's resting bid and ask (O_*)
    order_time: np.ndarray  # [N * M, 2] float64: when each of them joined its queue
    pend: np.ndarray  # [N * M, 3, C, NPEND] int64: order messages in flight (P_*)
    pend_time: np.ndarray  # [N * M, 3, C] float64: when they land (INF: slot unused)
    step_stats: np.ndarray  # [N * M, NSTEP] float64: counters of the decision step (S_*)
    log: np.ndarray  # [N * M, C, NLOG] float64: the fill log (L_*)
    mq: np.ndarray  # [N * M, 3, Q, NMQ] float64: fills waiting for their markouts (MQ_*)
    mq_head: np.ndarray  # [N * M, 3] int64: first entry of each markout queue
    mq_count: np.ndarray  # [N * M, 3] int64: entries in each markout queue
    tape: np.ndarray  # [N, C, NTAPE] float64: background market orders (C may be 0)
    rng: np.ndarray  # [3N] uint64: the random streams (``rng``)
    rates: np.ndarray  # [N, NRATE] float64: scratch, the event rates in effect (RATE_*)


class MarketParams(NamedTuple):
    """What the kernels read and never write."""

    mp: np.ndarray  # [NMP] float64: the market (MP_*)
    rp: np.ndarray  # [NUM_REGIMES, NRP] float64: the regime table (RP_*)
    sp: np.ndarray  # [NSP] float64: the quoting engine and risk limits (SP_*)
