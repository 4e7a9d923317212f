"""A compact text ladder of a market snapshot (``render_mode="ansi"``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mm_gym.rendering.snapshot import Quote, Snapshot

__all__ = ["ladder_text", "quote_text", "status_line"]

TEXT_DEPTH = 5  # price levels shown beyond each side's best


def status_line(snap: Snapshot) -> str:
    """What the quoting engine is doing: halted, paused, quoting which sides, or not."""
    if snap.halted:
        return "halted (daily stop)"
    if snap.paused:
        return "paused (risk rule)"
    sides = [name for name, q in (("bid", snap.bid), ("ask", snap.ask)) if q is not None]
    return f"quoting {' and '.join(sides)}" if sides else "no quote resting"


def quote_text(snap: Snapshot, quote: Quote | None) -> str:
    """``SIZE @ PRICE, LOTS ahead`` of a resting order, or ``none``."""
    if quote is None:
        return "none"
    return f"{quote.size} @ {snap.price(quote.level)}, {quote.ahead} ahead"


def _note(quote: Quote | None, level: int) -> str:
    if quote is None or quote.level != level:
        return ""
    return f"you {quote.size} ({quote.ahead} ahead)"


def ladder_text(snap: Snapshot, title: str) -> str:
    """Header, the book around the touch (asks above, bids below; the agent's resting orders
    marked ``you SIZE (LOTS ahead)``) and the account, one line each."""
    bb = snap.best_bid if snap.best_bid >= 0 else snap.best_ask
    ba = snap.best_ask if snap.best_ask >= 0 else snap.best_bid
    mine = {q.level for q in (snap.bid, snap.ask) if q is not None}
    lines = [
        f"{title} | t {snap.time:.0f}/{snap.session_s:.0f} s | mid {snap.mid:.4f} | "
        f"regime {snap.regime} (true, hidden from the agent) | news {'ON' if snap.news else '-'}",
        f"{'':>18} {'bid':>5} {'price':>10} {'ask':<5}",
    ]
    for k in range(len(snap.levels) - 1, -1, -1):
        level = int(snap.levels[k])
        if not (bb - TEXT_DEPTH < level < ba + TEXT_DEPTH or level in mine):
            continue
        bid = int(snap.bid_depth[k]) or ""
        ask = int(snap.ask_depth[k]) or ""
        lines.append(
            f"{_note(snap.bid, level):>18} {bid:>5} {snap.price(level):>10} {ask!s:<5} "
            f"{_note(snap.ask, level)}".rstrip()
        )
    spread, skew, size = snap.params
    lines.append(
        f"equity {snap.equity:+.2f} | inventory {snap.inventory:+d} lots "
        f"(soft {snap.soft_limit:g}, hard {snap.max_inventory}) | fills {snap.fills}"
    )
    lines.append(
        f"spread x{spread:.2f} | skew {skew:.2f} | size {size:.2f} | {status_line(snap)} | "
        f"bid {quote_text(snap, snap.bid)} | ask {quote_text(snap, snap.ask)}"
    )
    return "\n".join(lines)
