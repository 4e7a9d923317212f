"""PNG plots of ``mm-gym facts``: the simulated market's stylised facts beside the real ones.

Each function takes the arrays of ``mm_gym.market.realism`` (and the real reference values of
its ``FACTS``), writes one PNG and returns its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mm_gym.market.realism import FACTS_BY_KEY, INTERVAL_LABELS, REAL_DEPTH_GOOG, REAL_SIGNATURE
from mm_gym.plots import plt, save_figure

__all__ = [
    "plot_abs_return_acf",
    "plot_depth_profile",
    "plot_economics",
    "plot_return_acf",
    "plot_signature",
    "plot_trade_sign_acf",
]

REAL_STYLE = {"AAPL": {"marker": "*", "s": 90}, "GOOG": {"marker": "D", "s": 40}}


def _real_points(ax, points: Mapping[str, list[tuple[float, float]]], color: str = "k") -> None:
    """Scatter real values ``{ticker: [(x, y), ...]}`` with one legend entry per ticker."""
    for ticker, xy in points.items():
        xy = [(x, y) for x, y in xy if y is not None]
        if xy:
            x, y = zip(*xy, strict=True)
            ax.scatter(x, y, color=color, label=f"{ticker} (real)", zorder=3, **REAL_STYLE[ticker])


def _real(key: str) -> dict[str, float | None]:
    fact = FACTS_BY_KEY[key]
    return {"AAPL": fact.aapl, "GOOG": fact.goog}


def plot_return_acf(acfs: Mapping[str, np.ndarray], path: str | Path) -> Path:
    """ACF of returns at lags 1..k for each interval (``{"1s": acf, ...}``), real lag 1 marked."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, (name, acf) in enumerate(acfs.items()):
        color = colors[j % len(colors)]
        lags = np.arange(1, len(acf) + 1)
        ax.plot(
            lags,
            acf,
            "o-",
            color=color,
            label=f"{INTERVAL_LABELS.get(name, name)} returns (simulated)",
        )
        real = _real(f"acf1_{name}") if f"acf1_{name}" in FACTS_BY_KEY else {}
        for ticker, value in real.items():
            if value is not None:
                ax.scatter([1], [value], color=color, edgecolor="k", zorder=3, **REAL_STYLE[ticker])
    for ticker, style in REAL_STYLE.items():
        ax.scatter([], [], color="w", edgecolor="k", label=f"{ticker} lag 1 (real)", **style)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xticks(np.arange(1, max((len(a) for a in acfs.values()), default=1) + 1))
    ax.set_xlabel("lag (in units of the return interval)")
    ax.set_ylabel("autocorrelation")
    ax.set_title("Autocorrelation of mid returns")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_abs_return_acf(acf: np.ndarray | None, path: str | Path) -> Path:
    """ACF of 1-min |returns| against the lag in minutes, on log axes (positive values)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if acf is not None:
        lags = np.arange(1, len(acf) + 1)
        pos = acf > 0
        ax.plot(lags[pos], acf[pos], "o", ms=3, label="simulated (values <= 0 not shown)")
    lags = {"abs_acf_lag1": 1, "abs_acf_lag10": 10, "abs_acf_lag30": 30}
    points: dict[str, list[tuple[float, float]]] = {"AAPL": [], "GOOG": []}
    for key, lag in lags.items():
        for ticker, value in _real(key).items():
            points[ticker].append((lag, value))
    _real_points(ax, points)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("lag, minutes")
    ax.set_ylabel("autocorrelation of |1-min return|")
    ax.set_title("Volatility clustering")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


def plot_signature(seconds: np.ndarray, rv: np.ndarray, path: str | Path) -> Path:
    """Realised variance per second against the sampling interval; right: relative to 60 s."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    at60 = rv[np.flatnonzero(seconds == 60.0)[0]] if (seconds == 60.0).any() else np.nan
    for ax, scale, ylabel in (
        (axes[0], {"sim": 1.0, "AAPL": 1.0, "GOOG": 1.0}, "RV per second, bps^2 / s"),
        (
            axes[1],
            {"sim": at60, **{t: v[60] for t, v in REAL_SIGNATURE.items()}},
            "RV per second / RV per second at 60 s",
        ),
    ):
        ax.plot(seconds, rv / scale["sim"], "o-", label="simulated")
        points = {t: [(s, v / scale[t]) for s, v in d.items()] for t, d in REAL_SIGNATURE.items()}
        _real_points(ax, points)
        ax.set_xscale("log")
        ax.set_xlabel("sampling interval, s")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[1].axhspan(0.7, 1.4, color="tab:green", alpha=0.12, lw=0)
    axes[1].axhline(1.0, color="black", lw=0.6)
    fig.suptitle("Signature plot (flat: no microstructure noise)")
    return save_figure(fig, path)


def plot_depth_profile(bid: pd.DataFrame, ask: pd.DataFrame, path: str | Path) -> Path:
    """Mean lots on the occupied levels 1..5 of each side; right: each side's profile over
    its own mean, beside GOOG's."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    levels = bid.index.to_numpy()
    axes[0].bar(-levels, bid["mean"], color="tab:green", label="bid")
    axes[0].bar(levels, ask["mean"], color="tab:red", label="ask")
    axes[0].set_xticks(np.concatenate([-levels, levels]), [*map(str, levels), *map(str, levels)])
    axes[0].set_xlabel("occupied level (bid left, ask right)")
    axes[0].set_ylabel("mean lots")
    axes[0].legend(fontsize=8)
    for side, table, color in (("bid", bid, "tab:green"), ("ask", ask, "tab:red")):
        mean = table["mean"].to_numpy()
        axes[1].plot(levels, mean / mean.mean(), "o-", color=color, label=f"{side} (simulated)")
        real = np.asarray(REAL_DEPTH_GOOG[side], dtype=np.float64)
        n = min(len(real), len(levels))
        axes[1].plot(levels[:n], real[:n] / real.mean(), "--", color=color, label=f"{side} GOOG")
    axes[1].set_xticks(levels)
    axes[1].set_xlabel("occupied level")
    axes[1].set_ylabel("depth / mean depth of levels 1-5")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("Depth profile")
    return save_figure(fig, path)


def plot_trade_sign_acf(acf: np.ndarray | None, path: str | Path) -> Path:
    """ACF of the merged trade signs against the lag in trades (log axes), real values marked."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if acf is not None:
        lags = np.arange(1, len(acf) + 1)
        pos = acf > 0
        ax.plot(lags[pos], acf[pos], "o", ms=3, label="simulated (values <= 0 not shown)")
    else:
        text = "simulated: not estimable (see the report)"
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", fontsize=10)
    points: dict[str, list[tuple[float, float]]] = {"AAPL": [], "GOOG": []}
    for lag in (1, 10, 100):
        for ticker, value in _real(f"sign_acf_lag{lag}").items():
            points[ticker].append((lag, value))
    _real_points(ax, points)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("lag, executions (same-time executions merged)")
    ax.set_ylabel("autocorrelation of trade signs")
    ax.set_title("Order-flow persistence")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


ECONOMICS_BARS = (
    ("pnl", "PnL"),
    ("spread_captured", "spread captured"),
    ("fees", "- fees"),
    ("inventory_carry", "inventory carry"),
    ("markout_60s", "markout 60 s"),
)


def plot_economics(table: pd.DataFrame, path: str | Path) -> Path:
    """Per quoter, bars per pinned regime: PnL per hour and its parts (fees negated)."""
    quoters = list(dict.fromkeys(table.index.get_level_values(0)))
    fig, axes = plt.subplots(1, len(quoters), figsize=(6 * len(quoters), 4.2), squeeze=False)
    width = 0.8 / len(ECONOMICS_BARS)
    for ax, quoter in zip(axes[0], quoters, strict=True):
        sub = table.loc[quoter]
        x = np.arange(len(sub))
        for j, (col, label) in enumerate(ECONOMICS_BARS):
            values = sub[col].to_numpy() * (-1.0 if col == "fees" else 1.0)
            ax.bar(x + (j - (len(ECONOMICS_BARS) - 1) / 2) * width, values, width, label=label)
        ax.set_xticks(x, list(sub.index), rotation=20, ha="right", fontsize=8)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_ylabel("currency per hour")
        ax.set_title(quoter.replace("_", " "))
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Market maker per pinned regime: PnL per hour and its parts")
    return save_figure(fig, path)
