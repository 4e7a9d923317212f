"""RGB frames of a market snapshot, drawn on matplotlib's Agg canvas (no display, no pyplot).

A ``FrameRenderer`` makes its Figure and artists once; ``draw`` updates their data and draws
the canvas, so every frame has the same size (``FRAME_SIZE``) and layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from mm_gym.rendering.snapshot import LADDER_HALF, Quote, Snapshot
from mm_gym.rendering.text import quote_text, status_line

__all__ = ["FRAME_SIZE", "REGIME_COLORS", "FrameRenderer"]

FRAME_SIZE = (960, 540)  # width, height in pixels
DPI = 100
REGIME_COLORS = {
    "ranging": "#9ecae1",
    "trending_up": "#a1d99b",
    "trending_down": "#fdae6b",
    "high_vol": "#bcbddc",
    "news": "#fc9272",
}
SIDE_COLORS = ("#3182bd", "#de2d26")  # bid, ask
BEHIND_COLORS = ("#9ecae1", "#fc9272")  # background lots queued behind the agent's order
AGENT_COLOR = "#ffb000"
ROWS = 2 * LADDER_HALF + 1
MIN_SPAN_S = 60.0  # shortest time axis of the history panels


class FrameRenderer:
    """Draws ``Snapshot`` + history into ``(540, 960, 3)`` uint8 frames with one Figure."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.fig = Figure(figsize=(FRAME_SIZE[0] / DPI, FRAME_SIZE[1] / DPI), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        fig = self.fig
        self.title = fig.text(0.012, 0.955, "", fontsize=13, weight="bold", va="center")
        self.clock = fig.text(0.988, 0.955, "", fontsize=10, ha="right", va="center")
        self.regime = fig.text(0.012, 0.895, "", fontsize=9, va="center")
        self.news = fig.text(0.45, 0.895, "", fontsize=9, va="center", weight="bold")
        self._book_axes()
        self._history_axes()
        self._account_axes()

    # ------------------------------------------------------------------ layout, made once
    def _book_axes(self) -> None:
        ax = self.book = self.fig.add_axes((0.075, 0.06, 0.27, 0.76))
        ax.set_title("book: lots per level (bids | asks)", fontsize=9)
        rows = np.arange(ROWS)
        self.depth = [ax.barh(rows, np.zeros(ROWS), color=c, height=0.8) for c in SIDE_COLORS]
        self.mine = [
            ax.barh([0], [0], color=AGENT_COLOR, height=0.8, ec="black", lw=0.6)[0]
            for _ in SIDE_COLORS
        ]
        self.behind = [ax.barh([0], [0], color=c, height=0.8)[0] for c in BEHIND_COLORS]
        self.notes = [
            ax.text(0, 0, "", fontsize=7, va="center", ha=ha, color="black")
            for ha in ("left", "right")
        ]
        self.mid_line = ax.axhline(0.0, color="black", lw=0.8, ls=":")
        ax.axvline(0.0, color="black", lw=0.5)
        ax.set_ylim(-0.6, ROWS - 0.4)
        ax.set_yticks(rows)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{abs(x):g}"))

    def _history_axes(self) -> None:
        ax = self.prices = self.fig.add_axes((0.41, 0.50, 0.31, 0.32))
        ax.set_title("mid and your resting quotes", fontsize=9)
        self.mid_path = ax.plot([], [], color="black", lw=1.0, label="mid")[0]
        self.quote_paths = [
            ax.plot([], [], color=c, lw=1.0, drawstyle="steps-post", label=name)[0]
            for c, name in zip(SIDE_COLORS, ("your bid", "your ask"), strict=True)
        ]
        ax.legend(loc="upper left", fontsize=7, ncols=3, frameon=False)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.tick_params(labelsize=7)
        ax = self.equity = self.fig.add_axes((0.41, 0.09, 0.31, 0.28))
        ax.set_title("equity (PnL, currency)", fontsize=9)
        ax.axhline(0.0, color="grey", lw=0.6)
        self.equity_path = ax.plot([], [], color="#31a354", lw=1.2)[0]
        ax.set_xlabel("seconds before now", fontsize=7)
        ax.tick_params(labelsize=7)

    def _account_axes(self) -> None:
        ax = self.inventory = self.fig.add_axes((0.765, 0.68, 0.215, 0.08))
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        self.inv_title = ax.set_title("", fontsize=8.5)
        self.inv_bar = ax.barh([0.5], [0.0], height=0.8)[0]
        self.soft_lines = [ax.axvline(0, color="#e6550d", ls="--", lw=1) for _ in range(2)]
        self.hard_lines = [ax.axvline(0, color="#a50f15", lw=1.5) for _ in range(2)]
        ax.set_ylim(0, 1)
        self.account = self.fig.text(
            0.765, 0.58, "", fontsize=8.5, family="monospace", va="top", linespacing=1.6
        )

    # ------------------------------------------------------------------ per frame
    def draw(
        self,
        snap: Snapshot,
        history: Mapping[str, np.ndarray],
        title: str,
        along: Sequence[Mapping[str, np.ndarray]] = (),
    ) -> np.ndarray:
        """One frame: ``(height, width, 3)`` uint8 RGB. The history panels' y-axes also span
        the histories ``along`` (frames shown side by side then share their scales)."""
        self.title.set_text(title)
        self.clock.set_text(f"t = {snap.time:,.0f} s of {snap.session_s:,.0f} s")
        self.regime.set_text(f"regime: {snap.regime} (true, hidden from the agent)")
        self.regime.set_bbox({"facecolor": REGIME_COLORS[snap.regime], "edgecolor": "none"})
        self.news.set_text("news flag ON" if snap.news else "news flag off")
        self.news.set_color("#a50f15" if snap.news else "grey")
        self._draw_book(snap)
        self._draw_history(history, snap.tick, along)
        self._draw_account(snap)
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[:, :, :3].copy()

    def _draw_book(self, snap: Snapshot) -> None:
        widest = max(5.0, float(snap.bid_depth.max()), float(snap.ask_depth.max()))
        for side, sign in ((0, -1.0), (1, 1.0)):
            lots = (snap.bid_depth, snap.ask_depth)[side].astype(float)
            quote = (snap.bid, snap.ask)[side]
            row = self._row(snap, quote)
            for k, bar in enumerate(self.depth[side]):
                # on the agent's row the depth bar holds the lots ahead of it only
                width = min(quote.ahead, lots[k]) if k == row else lots[k]
                bar.set_x(min(0.0, sign * width))
                bar.set_width(width)
            mine, behind, note = self.mine[side], self.behind[side], self.notes[side]
            mine.set_visible(row is not None)
            behind.set_visible(row is not None)
            if row is None:
                note.set_text(self._off_ladder(snap, side, quote))
                note.set_position((-sign * 0.5, 0 if side == 0 else ROWS - 1))
                continue
            ahead = min(quote.ahead, lots[row])
            parts = ((mine, ahead, quote.size), (behind, ahead + quote.size, lots[row] - ahead))
            for patch, start, width in parts:
                patch.set_y(row - 0.4)
                patch.set_x(min(sign * start, sign * (start + width)))
                patch.set_width(width)
            note.set_text(f"you {quote.size} ({quote.ahead} ahead)")
            note.set_position((-sign * 0.5, row))
            widest = max(widest, lots[row] + quote.size)
        self.book.set_xlim(-1.15 * widest, 1.15 * widest)
        self.book.set_yticklabels([snap.price(int(level)) for level in snap.levels])
        mid_row = snap.mid / snap.tick - snap.levels[0]
        self.mid_line.set_ydata([mid_row, mid_row])

    @staticmethod
    def _row(snap: Snapshot, quote: Quote | None) -> int | None:
        if quote is None or not snap.levels[0] <= quote.level <= snap.levels[-1]:
            return None
        return int(quote.level - snap.levels[0])

    @staticmethod
    def _off_ladder(snap: Snapshot, side: int, quote: Quote | None) -> str:
        if quote is None:
            return ""
        return f"your {('bid', 'ask')[side]} {quote.size} @ {snap.price(quote.level)} (off view)"

    def _draw_history(
        self,
        history: Mapping[str, np.ndarray],
        tick: float,
        along: Sequence[Mapping[str, np.ndarray]],
    ) -> None:
        t = history["time"]
        x = t - t[-1] if len(t) else t
        # the time axis grows with the episode: at least a minute, at most the window
        span = min(self.window_s, max(MIN_SPAN_S, float(-x[0]) if len(x) else 0.0))
        for ax in (self.prices, self.equity):
            ax.set_xlim(-span, 0.0)
        self.mid_path.set_data(x, history["mid"])
        for path, name in zip(self.quote_paths, ("bid", "ask"), strict=True):
            path.set_data(x, history[name])
        self.equity_path.set_data(x, history["equity"])
        spans = [_spans(h) for h in (history, *along)]
        _set_ylim(self.prices, np.concatenate([p for p, _ in spans]), pad=2 * tick)
        _set_ylim(self.equity, np.concatenate([e for _, e in spans]), pad=1.0)

    def _draw_account(self, snap: Snapshot) -> None:
        limit = snap.max_inventory
        inv = snap.inventory
        self.inventory.set_xlim(-1.05 * limit, 1.05 * limit)
        self.inv_title.set_text(f"inventory {inv:+d} (soft ±{snap.soft_limit:g}, hard ±{limit})")
        self.inv_bar.set_x(min(0, inv))
        self.inv_bar.set_width(abs(inv))
        level = abs(inv)
        color = "#31a354" if level <= snap.soft_limit else "#e6550d" if level < limit else "#a50f15"
        self.inv_bar.set_color(color)
        for line, x in zip(self.soft_lines, (-snap.soft_limit, snap.soft_limit), strict=True):
            line.set_xdata([x, x])
        for line, x in zip(self.hard_lines, (-limit, limit), strict=True):
            line.set_xdata([x, x])
        spread, skew, size = snap.params
        self.account.set_text(
            "\n".join(
                [
                    f"equity {snap.equity:+.2f}",
                    f"fills  {snap.fills}",
                    f"bid    {quote_text(snap, snap.bid)}",
                    f"ask    {quote_text(snap, snap.ask)}",
                    f"state  {status_line(snap)}",
                    "",
                    "chosen parameters",
                    f"  spread multiplier {spread:.2f}",
                    f"  inventory skew    {skew:.2f}",
                    f"  size fraction     {size:.2f}",
                ]
            )
        )


def _spans(history: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The values the price and the equity panels of ``history`` must show (equity: and 0)."""
    prices = np.concatenate([history["mid"], history["bid"], history["ask"]])
    return prices, np.append(history["equity"], 0.0)


def _set_ylim(ax, values: np.ndarray, pad: float) -> None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return
    lo, hi = float(finite.min()), float(finite.max())
    margin = max(0.08 * (hi - lo), pad)
    ax.set_ylim(lo - margin, hi + margin)
