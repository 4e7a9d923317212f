"""Order messages and their latency: what the quoting engine sends, and when it lands.

Each maker has three queues of messages in flight (``pend`` and ``pend_time``; slot 0 the
bid, 1 the ask, both replace or cancel, and 2 market orders), each in the order sent.
``send`` queues a message to land ``order_latency`` later, ``receive`` takes the first off
a queue; ``send_replace`` and ``send_flatten`` are what the engine asks for. What happens
when a message lands (a quote rests, a market order matches) is ``matching.land_messages``.

Latency is read in one place, ``order_latency``: a latency that varies (with time, or drawn
per message) is a change there. A feed latency adds to it (``MarketConfig.feed_latency_ms``:
the engine, acting on a clock and on its fills, acting on data F old is the same as acting
F earlier, its orders landing F later).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.jit import njit_unliteral
from mm_gym.market.layout import (
    INF,
    MI_INV,
    MI_QUOTES_SENT,
    MP_LATENCY,
    O_ACTIVE,
    O_PRICE,
    O_SIZE,
    P_PRICE,
    P_SIZE,
)
from mm_gym.market.state import MarketParams, MarketState


@nb.njit(cache=True, inline="always")
def order_latency(a: int, t: float, mp: np.ndarray) -> float:
    """Seconds between maker ``a`` sending an order message at ``t`` and its landing."""
    return mp[MP_LATENCY]


@njit_unliteral
def in_flight(a: int, slot: int, pend_time: np.ndarray) -> int:
    """Messages in flight on ``slot`` (0 bid, 1 ask, 2 market orders)."""
    k = 0
    while k < pend_time.shape[2] and pend_time[a, slot, k] < INF:
        k += 1
    return k


@njit_unliteral
def send(a, slot, price, lots, t, pend, pend_time, mp):
    """Queue a message on ``slot``: it lands after the latency, after those already in flight
    (the queues are sized for the most that can be in flight: ``sim.messages_in_flight``)."""
    k = in_flight(a, slot, pend_time)
    if k == pend_time.shape[2]:
        raise RuntimeError("order message queue full")
    pend[a, slot, k, P_PRICE] = price
    pend[a, slot, k, P_SIZE] = lots
    pend_time[a, slot, k] = t + order_latency(a, t, mp)


@njit_unliteral
def receive(a, slot, pend, pend_time):
    """Take the first message off ``slot``: (price, lots)."""
    price = pend[a, slot, 0, P_PRICE]
    lots = pend[a, slot, 0, P_SIZE]
    k = 1
    while k < pend_time.shape[2] and pend_time[a, slot, k] < INF:
        pend[a, slot, k - 1, P_PRICE] = pend[a, slot, k, P_PRICE]
        pend[a, slot, k - 1, P_SIZE] = pend[a, slot, k, P_SIZE]
        pend_time[a, slot, k - 1] = pend_time[a, slot, k]
        k += 1
    pend_time[a, slot, k - 1] = INF
    return price, lots


@njit_unliteral
def send_replace(a, side, price, lots, t, s: MarketState, p: MarketParams):
    """Ask for maker ``a``'s order on ``side`` to become (price, lots); lots 0 cancels.
    Nothing is sent when that is what the order will be once the messages in flight have
    landed."""
    orders = s.orders
    pend = s.pend
    k = in_flight(a, side, s.pend_time)
    if k > 0:
        last_lots = pend[a, side, k - 1, P_SIZE]
        if lots == 0 and last_lots == 0:
            return
        if lots > 0 and last_lots == lots and pend[a, side, k - 1, P_PRICE] == price:
            return
    elif lots == 0:
        if orders[a, side, O_ACTIVE] == 0:
            return
    elif (
        orders[a, side, O_ACTIVE] == 1
        and orders[a, side, O_PRICE] == price
        and orders[a, side, O_SIZE] == lots
    ):
        return
    send(a, side, price if lots > 0 else -1, lots, t, pend, s.pend_time, p.mp)
    s.mints[a, MI_QUOTES_SENT] += 1


@nb.njit(cache=True)
def send_flatten(a, t, s: MarketState, p: MarketParams):
    """Maker ``a`` cancels both quotes and sends a market order for the whole inventory."""
    for side in range(2):
        send_replace(a, side, 0, 0, t, s, p)
    inv = s.mints[a, MI_INV]
    if inv != 0:
        send(a, 2, 0, -inv, t, s.pend, s.pend_time, p.mp)
