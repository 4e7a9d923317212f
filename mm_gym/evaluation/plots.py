"""PNG plots of backtests, evaluations and ``mm-gym facts`` (matplotlib, Agg backend: no
display needed).

Each function takes plain data (arrays, a DataFrame, the ``paths`` of ``run_episodes``, the
arrays of ``mm_gym.market.realism`` and the real reference values of its ``FACTS``) and a file
path, writes one PNG and returns the path. Drawing never touches the simulation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mm_gym.market.realism import (  # noqa: E402
    FACTS_BY_KEY,
    INTERVAL_LABELS,
    REAL_DEPTH_GOOG,
    REAL_SIGNATURE,
)
from mm_gym.market.regimes import LABEL_NAMES  # noqa: E402
from mm_gym.rendering.frame import REGIME_COLORS  # noqa: E402

__all__ = [
    "REGIME_COLORS",
    "plot_abs_return_acf",
    "plot_competition",
    "plot_depth_profile",
    "plot_economics",
    "plot_equity",
    "plot_inventory",
    "plot_params_by_regime",
    "plot_params_over_episode",
    "plot_quotes",
    "plot_regimes",
    "plot_return_acf",
    "plot_signature",
    "plot_trade_sign_acf",
]

DPI = 110


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` as PNG, atomically (a reader never sees half a file), and
    close it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # leave room above the axes for a figure title
    fig.tight_layout(rect=(0, 0, 1, 0.95) if fig._suptitle is not None else None)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.stem}.", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, dpi=DPI, format="png")
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return p


def _as_curves(values: np.ndarray | Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if isinstance(values, Mapping):
        return {str(k): np.atleast_2d(np.asarray(v, dtype=np.float64)) for k, v in values.items()}
    return {"": np.atleast_2d(np.asarray(values, dtype=np.float64))}


def _with_start(time: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prepend the flat start (time 0, value 0) to per-step paths (rows: episodes)."""
    t = np.concatenate([[0.0], np.asarray(time, dtype=np.float64)])
    v = np.concatenate([np.zeros((values.shape[0], 1)), values], axis=1)
    return t, v


def plot_equity(
    time: np.ndarray,
    equity: np.ndarray | Mapping[str, np.ndarray],
    path: str | Path,
    title: str = "Equity",
) -> Path:
    """Equity curves: one thin line per episode and the mean in bold, per group.

    ``time``: seconds ``(steps,)``; ``equity``: ``(episodes, steps)``, or a mapping of group
    name (e.g. agent, baseline) to such arrays. NaN after an episode ended is left out.
    """
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, curves) in enumerate(_as_curves(equity).items()):
        t, v = _with_start(time, curves)
        color = colors[k % len(colors)]
        for row in v:
            ax.plot(t / 60.0, row, color=color, alpha=0.25 if v.shape[0] > 1 else 1.0, lw=0.7)
        if v.shape[0] > 1:
            ax.plot(
                t / 60.0,
                np.nanmean(v, axis=0),
                color=color,
                lw=2.2,
                label=f"{name} mean" if name else "mean",
            )
        elif name:
            ax.lines[-1].set_label(name)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xlabel("time, minutes")
    ax.set_ylabel("mark-to-market equity, USD")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_inventory(
    time: np.ndarray,
    inventory: np.ndarray,
    path: str | Path,
    max_inventory: float | None = None,
    soft_limit: float | None = None,
    title: str = "Inventory",
) -> Path:
    """Inventory paths ``(episodes, steps)`` (or one path), with the hard and soft limits."""
    inv = np.atleast_2d(np.asarray(inventory, dtype=np.float64))
    t, v = _with_start(time, inv)
    fig, ax = plt.subplots(figsize=(9, 4))
    alpha = 0.35 if v.shape[0] > 1 else 1.0
    for row in v:
        ax.plot(t / 60.0, row, color="tab:blue", lw=0.7, alpha=alpha)
    for level, style, label in (
        (max_inventory, "-", "hard limit"),
        (soft_limit, ":", "soft limit"),
    ):
        if level is not None:
            ax.axhline(level, color="tab:red", ls=style, lw=1, label=label)
            ax.axhline(-level, color="tab:red", ls=style, lw=1)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xlabel("time, minutes")
    ax.set_ylabel("inventory, lots")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def _shade_regimes(ax, time: np.ndarray, regime: np.ndarray | None) -> None:
    if regime is None:
        return
    reg = np.asarray(regime)
    n = min(len(time), len(reg))
    start = 0
    seen = set()
    for k in range(1, n + 1):
        if k == n or reg[k] != reg[start]:
            r = int(reg[start])
            if 0 <= r < len(LABEL_NAMES):
                name = LABEL_NAMES[r]
                left = time[start - 1] if start > 0 else 0.0
                ax.axvspan(
                    left,
                    time[k - 1],
                    color=REGIME_COLORS[name],
                    alpha=0.35,
                    lw=0,
                    label=None if name in seen else name,
                )
                seen.add(name)
            start = k


def plot_quotes(
    paths: Mapping[str, np.ndarray],
    path: str | Path,
    episode: int = 0,
    zoom_s: float | None = 300.0,
    title: str = "Quotes around the mid",
) -> Path:
    """The engine's bid and ask around the mid for one episode, fills marked, the true regime
    shaded. ``paths`` as from ``run_episodes(record_paths=True)``; with ``zoom_s`` a second
    panel shows the first ``zoom_s`` seconds."""
    steps = np.isfinite(paths["time"][episode])
    t = paths["time"][episode][steps]
    mid = paths["mid"][episode][steps]
    bid = paths["bid_quote"][episode][steps]
    ask = paths["ask_quote"][episode][steps]
    buys = paths["buy_lots"][episode][steps] > 0
    sells = paths["sell_lots"][episode][steps] > 0
    regime = paths["regime"][episode][steps] if "regime" in paths else None
    windows = [(0.0, t[-1] if t.size else 1.0)]
    if zoom_s is not None and t.size and zoom_s < t[-1]:
        windows.append((0.0, zoom_s))
    fig, axes = plt.subplots(len(windows), 1, figsize=(10, 3.6 * len(windows)), squeeze=False)
    for ax, (lo, hi) in zip(axes[:, 0], windows, strict=True):
        w = (t >= lo) & (t <= hi)
        _shade_regimes(ax, t[w], regime[w] if regime is not None else None)
        ax.step(t[w], mid[w], where="post", color="black", lw=0.8, label="mid")
        ax.step(t[w], bid[w], where="post", color="tab:green", lw=0.8, label="bid quote")
        ax.step(t[w], ask[w], where="post", color="tab:red", lw=0.8, label="ask quote")
        bw, sw = w & buys, w & sells
        ax.scatter(
            t[bw],
            np.where(np.isfinite(bid[bw]), bid[bw], mid[bw]),
            marker="^",
            color="tab:green",
            s=18,
            zorder=3,
            label="bought",
        )
        ax.scatter(
            t[sw],
            np.where(np.isfinite(ask[sw]), ask[sw], mid[sw]),
            marker="v",
            color="tab:red",
            s=18,
            zorder=3,
            label="sold",
        )
        ax.set_xlim(lo, hi)
        ax.set_xlabel("time, s")
        ax.set_ylabel("price")
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(f"{title} (episode {episode})")
    axes[0, 0].legend(loc="upper left", fontsize=7, ncol=5)
    return save_figure(fig, path)


def plot_regimes(
    per_regime: pd.DataFrame | Mapping[str, pd.DataFrame],
    path: str | Path,
    title: str = "By regime",
) -> Path:
    """Bars per true regime: share of time, PnL per episode, fills per episode.

    ``per_regime`` as ``EpisodeResults.per_regime``; or a mapping of group name to such tables
    for side-by-side bars (e.g. agent and baseline)."""
    tables = per_regime if isinstance(per_regime, Mapping) else {"": per_regime}
    cols = [
        ("time_share", "share of time"),
        ("pnl", "PnL per episode"),
        ("fills", "fills per episode"),
    ]
    return _grouped_bars(tables, cols, path, title)


def plot_params_by_regime(
    per_regime: pd.DataFrame | Mapping[str, pd.DataFrame],
    path: str | Path,
    title: str = "Quoting parameters by regime",
) -> Path:
    """Mean spread multiplier, inventory skew and size fraction chosen in each true regime."""
    tables = per_regime if isinstance(per_regime, Mapping) else {"": per_regime}
    cols = [
        ("spread_multiplier", "spread multiplier"),
        ("inventory_skew", "inventory skew"),
        ("size_fraction", "size fraction"),
    ]
    return _grouped_bars(tables, cols, path, title)


def plot_params_over_episode(
    paths: Mapping[str, Mapping[str, np.ndarray]],
    path: str | Path,
    episode: int = 0,
    title: str = "Quoting parameters over one episode",
) -> Path:
    """Spread multiplier, inventory skew and size fraction that each policy chose at every
    step of one episode, the true regime shaded. ``paths``: policy name -> the ``paths`` of
    ``run_episodes(record_paths=True)`` on the same seeds (the regime is the first's)."""
    cols = (
        ("spread_multiplier", "spread multiplier"),
        ("inventory_skew", "inventory skew"),
        ("size_fraction", "size fraction"),
    )
    fig, axes = plt.subplots(len(cols), 1, figsize=(10, 2.6 * len(cols)), sharex=True)
    first = next(iter(paths.values()))
    live = np.isfinite(first["time"][episode])
    minutes = first["time"][episode][live] / 60.0
    for ax, (key, label) in zip(axes, cols, strict=True):
        _shade_regimes(ax, minutes, first["regime"][episode][live])
        for name, p in paths.items():
            ok = np.isfinite(p["time"][episode])
            t = p["time"][episode][ok] / 60.0
            ax.step(t, p[key][episode][ok], where="pre", lw=1.0, label=name)
        ax.set_ylabel(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=7, ncol=5)
    axes[-1].set_xlabel("time, minutes")
    axes[0].set_title(f"{title} (episode {episode}; shading: true regime)")
    return save_figure(fig, path)


def _grouped_bars(
    tables: Mapping[str, pd.DataFrame],
    cols: Sequence[tuple[str, str]],
    path: str | Path,
    title: str,
) -> Path:
    fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 3.8))
    names = list(next(iter(tables.values())).index)
    x = np.arange(len(names))
    width = 0.8 / len(tables)
    for ax, (col, label) in zip(np.atleast_1d(axes), cols, strict=True):
        for g, (group, table) in enumerate(tables.items()):
            values = table.reindex(names)[col].to_numpy(dtype=np.float64)
            colors = [REGIME_COLORS.get(n, "gray") for n in names] if len(tables) == 1 else None
            ax.bar(
                x + (g - (len(tables) - 1) / 2) * width,
                np.nan_to_num(values),
                width,
                color=colors,
                edgecolor="black",
                lw=0.5,
                label=group or None,
            )
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.grid(axis="y", alpha=0.3)
    if len(tables) > 1:
        np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.suptitle(title)
    return save_figure(fig, path)


# --- the market's stylised facts beside the real ones (mm-gym facts) ---

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


def plot_return_acf(
    acfs: Mapping[str, np.ndarray],
    path: str | Path,
    recorded: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """ACF of returns at lags 1..k for each interval (``{"1s": acf, ...}``), real lag 1 marked;
    ``recorded``: a recording's, dashed, beside each."""
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
        if recorded is not None and name in recorded:
            rec = recorded[name]
            label = f"{INTERVAL_LABELS.get(name, name)} returns (recording)"
            ax.plot(np.arange(1, len(rec) + 1), rec, "s--", color=color, label=label)
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


def _positive_curve(ax, acf: np.ndarray | None, label: str, **style: Any) -> None:
    """An ACF on log axes: its positive values, the label saying so."""
    if acf is None:
        return
    lags = np.arange(1, len(acf) + 1)
    pos = acf > 0
    ax.plot(lags[pos], acf[pos], "o", ms=3, label=f"{label} (values <= 0 not shown)", **style)


def plot_abs_return_acf(
    acf: np.ndarray | None, path: str | Path, recorded: np.ndarray | None = None
) -> Path:
    """ACF of 1-min |returns| against the lag in minutes, on log axes (positive values);
    ``recorded``: a recording's, beside it."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _positive_curve(ax, acf, "simulated")
    _positive_curve(ax, recorded, "recording", color="tab:purple")
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


def _at60(seconds: np.ndarray, rv: np.ndarray) -> float:
    return rv[np.flatnonzero(seconds == 60.0)[0]] if (seconds == 60.0).any() else np.nan


def plot_signature(
    seconds: np.ndarray,
    rv: np.ndarray,
    path: str | Path,
    recorded: tuple[np.ndarray, np.ndarray] | None = None,
) -> Path:
    """Realised variance per second against the sampling interval; right: relative to 60 s.
    ``recorded``: a recording's ``(seconds, rv)``, beside it."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, relative, ylabel in (
        (axes[0], False, "RV per second, bps^2 / s"),
        (axes[1], True, "RV per second / RV per second at 60 s"),
    ):
        scale = {t: v[60] if relative else 1.0 for t, v in REAL_SIGNATURE.items()}
        ax.plot(seconds, rv / (_at60(seconds, rv) if relative else 1.0), "o-", label="simulated")
        if recorded is not None:
            rec_s, rec_rv = recorded
            norm = _at60(rec_s, rec_rv) if relative else 1.0
            ax.plot(rec_s, rec_rv / norm, "s-", color="tab:purple", label="recording")
        points = {t: [(s, v / scale[t]) for s, v in d.items()] for t, d in REAL_SIGNATURE.items()}
        _real_points(ax, points)
        ax.set_xscale("log")
        ax.set_xlabel("sampling interval, s")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[1].axhspan(0.7, 1.4, color="tab:green", alpha=0.12, lw=0)
    axes[1].axhline(1.0, color="black", lw=0.6)
    fig.suptitle("Signature plot (a flat curve would mean no microstructure noise)")
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


def plot_trade_sign_acf(
    acf: np.ndarray | None, path: str | Path, recorded: np.ndarray | None = None
) -> Path:
    """ACF of the merged trade signs against the lag in trades (log axes), real values marked;
    ``recorded``: a recording's, beside it."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _positive_curve(ax, recorded, "recording", color="tab:purple")
    if acf is not None:
        _positive_curve(ax, acf, "simulated")
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
        ax.set_ylabel("USD per hour")
        ax.set_title(quoter.replace("_", " "))
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Market maker per pinned regime: PnL per hour and its parts")
    return save_figure(fig, path)


def plot_competition(table: pd.DataFrame, path: str | Path) -> Path:
    """Against the number of makers in a book: the inside and background spreads, one maker's
    and all makers' PnL per hour, and one maker's fills per hour (error bars: 95% over books)."""
    makers = table.index.to_numpy()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    panels = (
        (
            axes[0],
            (
                ("inside_spread_bps", "inside (makers' quotes too)"),
                ("background_spread_bps", "background"),
            ),
            "spread, bps of the mid",
            "Spread",
        ),
        (
            axes[1],
            (("maker_pnl_per_h", "one maker"), ("makers_pnl_per_h", "all makers of a book")),
            "USD per hour",
            "PnL",
        ),
        (axes[2], (("maker_fills_per_h", "one maker"),), "resting fills per hour", "Fills"),
    )
    for ax, curves, ylabel, title in panels:
        for col, label in curves:
            ax.errorbar(
                makers,
                table[col],
                yerr=1.96 * table[f"{col}_se"],
                marker="o",
                capsize=3,
                label=label,
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(makers, [str(m) for m in makers])
        ax.set_xlabel("makers in the book")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Rule makers of the document's table competing in one book")
    return save_figure(fig, path)


def plot_calibration(
    ratios: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, str],
    band: tuple[float, float],
    path: str | Path,
) -> Path:
    """Each market's facts over the recording's (``ratios[market][fact]``), on a log axis,
    with the band of a matched fact shaded (mm-gym calibrate)."""
    facts = list(labels)
    x = np.arange(len(facts))
    width = 0.8 / max(len(ratios), 1)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.axhspan(*band, color="tab:green", alpha=0.12, label=f"matched: {band[0]:g}x to {band[1]:g}x")
    ax.axhline(1.0, color="black", lw=0.8)
    for g, (market, values) in enumerate(ratios.items()):
        y = np.array([values.get(f, np.nan) for f in facts], dtype=np.float64)
        known = np.isfinite(y)  # a fact the recording cannot tell gets no bar
        ax.bar((x + (g - (len(ratios) - 1) / 2) * width)[known], y[known] - 1.0, width,
               bottom=1.0, label=market, edgecolor="black", lw=0.5)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks(x, [labels[f] for f in facts], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("market's fact / recording's fact")
    ax.set_title("Stylised facts against the recording (1 = the recording's value)")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
