"""What a picture shows of one market, as plain numbers: a ``Snapshot`` of its state now and
a ``History`` of its last minutes. The envs fill them (``mm_gym.envs.market_view``); the
drawing modules read them and never touch a simulation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = [
    "HISTORY_S",
    "LADDER_HALF",
    "MAX_HISTORY",
    "RENDER_FPS",
    "RENDER_MODES",
    "History",
    "Quote",
    "Snapshot",
]

RENDER_MODES = ("rgb_array", "ansi")
RENDER_FPS = 10  # video frames per second: one frame per decision step
HISTORY_S = 300.0  # market seconds of mid, quotes and equity kept for the panels
MAX_HISTORY = 3000  # decision steps kept at most (for short decision intervals)
LADDER_HALF = 12  # price levels shown above and below the centre of the book


@dataclasses.dataclass(frozen=True)
class Quote:
    """One of the agent's resting orders."""

    level: int  # absolute tick
    size: int  # lots left
    ahead: int  # background lots ahead of it in the queue at its price


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One market at a decision step, as plain numbers."""

    time: float  # seconds into the session
    session_s: float
    tick: float  # currency per tick
    mid: float  # currency
    levels: np.ndarray  # absolute ticks of the ladder rows, ascending
    bid_depth: np.ndarray  # background lots resting on each row
    ask_depth: np.ndarray
    best_bid: int  # absolute tick, -1 if the side is empty
    best_ask: int
    bid: Quote | None
    ask: Quote | None
    inventory: int
    soft_limit: float
    max_inventory: int
    equity: float  # currency (the session starts flat with zero cash)
    fills: int  # the agent's fills so far this episode
    params: tuple[float, float, float]  # spread multiplier, inventory skew, size fraction
    regime: str  # the true label, hidden from the agent
    news: bool  # the observable news flag
    paused: bool  # a risk rule stops quoting (pause or daily stop)
    halted: bool  # the daily stop was hit

    def price(self, level: int) -> str:
        """A price level (absolute tick) in currency, to the tick's decimals."""
        return f"{level * self.tick:.{_decimals(self.tick)}f}"


def _decimals(tick: float) -> int:
    return next((d for d in range(10) if abs(round(tick, d) - tick) < 1e-9 * tick), 10)


class History:
    """The last ``capacity`` decision steps of one market, oldest first."""

    COLUMNS = ("time", "mid", "bid", "ask", "equity")  # bid/ask: resting quote or NaN

    def __init__(self, capacity: int) -> None:
        self.rows = np.full((capacity, len(self.COLUMNS)), np.nan)
        self.count = 0

    def clear(self) -> None:
        self.count = 0

    def append(self, row: tuple[float, ...]) -> None:
        self.rows[self.count % len(self.rows)] = row
        self.count += 1

    def series(self) -> dict[str, np.ndarray]:
        """One array per column, oldest first."""
        cap = len(self.rows)
        if self.count <= cap:
            rows = self.rows[: self.count]
        else:  # the oldest row is the next one to be overwritten
            rows = np.roll(self.rows, -(self.count % cap), axis=0)
        return {name: rows[:, k] for k, name in enumerate(self.COLUMNS)}
