"""Run a policy over a set of seeded episodes and tabulate what it did.

``run_episodes`` steps every episode at once in one ``MarketMakingCore`` (one market per seed)
and works with anything that has the Stable-Baselines3 ``predict`` signature: the
``RuleBasedPolicy``, an SB3 model or the agents' wrappers (recurrent state and
``episode_start`` are passed through). A market whose episode terminated early (daily stop)
keeps being stepped with the batch but stops counting: its results are taken at termination.

Columns of ``EpisodeResults.episodes`` (one row per seed; currency unless said):

- ``pnl``: final mark-to-market equity (the session starts flat with zero cash).
- ``episode_return``: sum of the env's rewards.
- ``sharpe``: the episode's Sharpe ratio per hour: mean per-step equity change over the
  square root of its Newey-West long-run variance (lags spanning ``SHARPE_LAG_S``), times
  ``sqrt(3600 / dt)``. Marked at the mid, equity changes revert (lag-1 autocorrelation about
  -0.15), so the i.i.d. scaling would understate it by a policy-dependent factor.
- ``max_drawdown``: largest fall of equity below its running peak, at decision steps.
- ``fills``, ``maker_fills``: the agent's fills (taker fills come from stops and exits).
- ``fill_rate``: maker fills per minute with at least one quote resting in the book
  (NaN if it never quoted).
- ``volume``: lots traded; ``spread_captured``: sum over maker fills of side * (mid - price)
  * lots at the fill; ``fees``: fees paid (rebates negative).
- ``markout_1s`` / ``_10s`` / ``_60s``: size-weighted mean mid move per lot after a fill,
  signed by the fill's side (positive: the fill was not adversely selected); NaN with no fill.
- ``inventory_mean_abs`` (mean |inventory| at decision steps), ``inventory_max_abs`` (largest
  |inventory| after any fill), ``inventory_penalty_integral`` (time mean of inventory^2,
  lots^2, sampled every ``sample_interval_ms``).
- ``time_quoting``: fraction of the time with at least one quote resting.
- ``stop_losses``, ``daily_stop``, ``spread_pauses``, ``exits``: risk-rule counts; ``steps``:
  decision steps in the episode; ``news_events``; ``final_inventory``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import MarketMakingCore, detected_regime
from mm_gym.errors import ConfigError
from mm_gym.evaluation.metrics import max_drawdown, mean_ci, sharpe
from mm_gym.market import layout as lay
from mm_gym.market.regimes import LABEL_NAMES, NUM_LABELS
from mm_gym.strategy.baseline import DETECTED_NAMES
from mm_gym.strategy.layout import PARAM_NAMES

__all__ = [
    "EPISODE_COLUMNS",
    "SHARPE_LAG_S",
    "EpisodeResults",
    "confusion_matrix",
    "run_episodes",
    "summarize",
]

MIN_RATE_S = 600.0  # market seconds in a regime (all episodes) below which no per-hour rate
SHARPE_LAG_S = 60.0  # seconds; the equity changes' variance ratio is flat beyond about a minute
EPISODE_COLUMNS = (
    "seed",
    "pnl",
    "episode_return",
    "sharpe",
    "max_drawdown",
    "fills",
    "maker_fills",
    "fill_rate",
    "volume",
    "spread_captured",
    "fees",
    "markout_1s",
    "markout_10s",
    "markout_60s",
    "inventory_mean_abs",
    "inventory_max_abs",
    "inventory_penalty_integral",
    "time_quoting",
    "stop_losses",
    "daily_stop",
    "spread_pauses",
    "exits",
    "steps",
    "news_events",
    "final_inventory",
)
# per-step paths: float ones are NaN after an episode ends, integer ones -1
_FLOAT_PATHS = (
    "time",
    "equity",
    "reward",
    "inventory",
    "mid",
    "bid_quote",
    "ask_quote",
    *PARAM_NAMES,
    "fills",
    "buy_lots",
    "sell_lots",
)
_INT_PATHS = ("regime", "detected_regime")

if DETECTED_NAMES != LABEL_NAMES:  # pragma: no cover - both tables must stay aligned
    raise ImportError("detected regime names must match the true regime labels")


@dataclasses.dataclass
class EpisodeResults:
    """What ``run_episodes`` measured.

    ``episodes``: one row per seed (columns in the module docstring). ``per_regime``: one row
    per true regime label (news included): ``time_share`` of the decision steps, ``pnl`` (equity
    change over the steps that began in the regime, per episode), ``pnl_per_hour`` (the same per
    hour spent in the regime; NaN under ``MIN_RATE_S`` of market time there), the mean chosen
    quoting parameters, ``fills`` per episode and ``steps``. ``paths`` (with ``record_paths``):
    per-step arrays ``(episodes, steps)``: values at the end of each step, except ``regime``
    (true label at the step's start), ``detected_regime`` (the baseline detector on the
    observation the policy saw) and the quoting parameters used during the step.
    ``bid_quote``/``ask_quote`` are the prices the engine wanted at the step's end (NaN when not
    quoting). ``fills``: the fill logs (``MarketConfig.fill_log_capacity > 0``), else None.
    """

    episodes: pd.DataFrame
    per_regime: pd.DataFrame
    paths: dict[str, np.ndarray] | None = None
    fills: list[np.ndarray] | None = None
    config: EnvConfig | None = None

    def summary(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean and 95% confidence interval of episode metrics (see ``summarize``)."""
        return summarize(self.episodes, columns)


def run_episodes(
    policy: Any,
    config: EnvConfig,
    seeds: Sequence[int] | np.ndarray,
    *,
    record_paths: bool = False,
    deterministic: bool = True,
    progress: bool = False,
) -> EpisodeResults:
    """One episode per seed, all seeds batched; see the module docstring for the metrics."""
    if not isinstance(config, EnvConfig):
        raise ConfigError(f"config={config!r}: expected an EnvConfig")
    if not callable(getattr(policy, "predict", None)):
        raise ConfigError(f"policy {policy!r}: expected an object with a predict() method")
    seed_arr = np.asarray(list(seeds), dtype=np.int64)
    if seed_arr.ndim != 1 or seed_arr.size == 0:
        raise ConfigError(f"seeds={seeds!r}: expected a non-empty list of integers")
    n = int(seed_arr.size)
    core = MarketMakingCore(n, config)
    sim = core.sim
    tick = config.market.tick_size
    max_steps = core.max_steps

    paths = {name: np.full((max_steps, n), np.nan) for name in _FLOAT_PATHS}
    paths.update({name: np.full((max_steps, n), -1, dtype=np.int64) for name in _INT_PATHS})
    # the markets' final state (one maker per market: its rows are the markets')
    final_fs = np.zeros_like(sim.fs)
    final_ints = np.zeros_like(sim.ints)
    final_mfs = np.zeros_like(sim.mfs)
    final_mints = np.zeros_like(sim.mints)
    steps = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)

    obs = core.reset(seed_arr)
    state = None
    episode_start = np.ones(n, dtype=bool)
    bar = _progress_bar(max_steps, n) if progress else None
    try:
        for k in range(max_steps):
            live = active.copy()
            regime = sim.regime
            detected = detected_regime(obs, config)
            actions, state = policy.predict(
                obs.copy(), state=state, episode_start=episode_start, deterministic=deterministic
            )
            episode_start = np.zeros(n, dtype=bool)
            obs, reward, terminated, truncated, _ = core.step(actions)
            st = sim.step_stats
            row = {
                "time": sim.time - core.t_start,
                "equity": sim.equity,
                "reward": reward,
                "inventory": sim.inventory,
                "mid": sim.mid,
                "bid_quote": sim.mfs[:, lay.MF_BID_QUOTE] * tick,
                "ask_quote": sim.mfs[:, lay.MF_ASK_QUOTE] * tick,
                **{name: core.params[:, k] for k, name in enumerate(PARAM_NAMES)},
                "fills": st[:, lay.S_FILLS],
                "buy_lots": st[:, lay.S_BUY_LOTS],
                "sell_lots": st[:, lay.S_SELL_LOTS],
                "regime": regime,
                "detected_regime": detected,
            }
            for name, value in row.items():
                paths[name][k, live] = np.asarray(value)[live]
            done = (terminated | truncated) & live
            if done.any():
                final_fs[done] = sim.fs[done]
                final_ints[done] = sim.ints[done]
                final_mfs[done] = sim.mfs[done]
                final_mints[done] = sim.mints[done]
                steps[done] = k + 1
                active &= ~done
            if bar is not None:
                bar.update(1)
            if not active.any():
                break
    finally:
        if bar is not None:
            bar.close()
    if active.any():  # pragma: no cover - every episode truncates at max_steps
        final_fs[active] = sim.fs[active]
        final_ints[active] = sim.ints[active]
        final_mfs[active] = sim.mfs[active]
        final_mints[active] = sim.mints[active]
        steps[active] = max_steps

    fills = None
    if config.market.fill_log_capacity > 0:
        fills = []
        for i in range(n):
            log = sim.fills(i)
            fills.append(log[log["time"] <= final_fs[i, lay.F_T]])
    out_paths = {name: np.ascontiguousarray(v.T) for name, v in paths.items()}
    episodes = _episode_table(
        seed_arr, final_fs, final_ints, final_mfs, final_mints, steps, out_paths, core.dt
    )
    per_regime = _regime_table(out_paths, core.dt, n)
    return EpisodeResults(
        episodes=episodes,
        per_regime=per_regime,
        paths=out_paths if record_paths else None,
        fills=fills,
        config=config,
    )


def _progress_bar(total: int, n: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{n} episode(s)", unit="step", leave=False)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _equity_changes(equity: np.ndarray) -> np.ndarray:
    """Per-step equity change (rows: episodes), starting from the flat, zero-cash start."""
    start = np.zeros((equity.shape[0], 1))
    return np.diff(np.concatenate([start, equity], axis=1), axis=1)


def _episode_table(
    seeds: np.ndarray,
    fs: np.ndarray,
    ints: np.ndarray,
    mfs: np.ndarray,
    mints: np.ndarray,
    steps: np.ndarray,
    paths: dict[str, np.ndarray],
    dt: float,
) -> pd.DataFrame:
    n = seeds.size
    equity = paths["equity"]
    changes = _equity_changes(equity)
    sampled = fs[:, lay.F_SAMPLED_TIME]
    weights = mfs[:, lay.MF_MOW1 : lay.MF_MOW60 + 1]
    markouts = _ratio(mfs[:, lay.MF_MO1 : lay.MF_MO60 + 1], weights)
    rows = []
    for i in range(n):
        m = int(steps[i])
        eq = equity[i, :m]
        rows.append(
            {
                "sharpe": sharpe(changes[i, :m], dt, lags=round(SHARPE_LAG_S / dt)),
                "max_drawdown": max_drawdown(np.concatenate([[0.0], eq])),
                "episode_return": float(np.sum(paths["reward"][i, :m])),
                "inventory_mean_abs": float(np.mean(np.abs(paths["inventory"][i, :m]))),
                "pnl": float(eq[-1]) if m else 0.0,
            }
        )
    table = pd.DataFrame(rows)
    maker = mints[:, lay.MI_N_MAKER_FILLS]
    data = {
        "seed": seeds,
        "pnl": table["pnl"].to_numpy(),
        "episode_return": table["episode_return"].to_numpy(),
        "sharpe": table["sharpe"].to_numpy(),
        "max_drawdown": table["max_drawdown"].to_numpy(),
        "fills": mints[:, lay.MI_N_FILLS],
        "maker_fills": maker,
        "fill_rate": _ratio(maker.astype(np.float64), mfs[:, lay.MF_QUOTING_TIME] / 60.0),
        "volume": mfs[:, lay.MF_VOLUME],
        "spread_captured": mfs[:, lay.MF_SPREAD_CAPTURED],
        "fees": mfs[:, lay.MF_FEES],
        "markout_1s": markouts[:, 0],
        "markout_10s": markouts[:, 1],
        "markout_60s": markouts[:, 2],
        "inventory_mean_abs": table["inventory_mean_abs"].to_numpy(),
        "inventory_max_abs": mfs[:, lay.MF_MAX_ABS_INV],
        "inventory_penalty_integral": _ratio(mfs[:, lay.MF_INV_SQ_TIME], sampled),
        "time_quoting": _ratio(mfs[:, lay.MF_QUOTING_TIME], sampled),
        "stop_losses": mints[:, lay.MI_STOP_LOSSES],
        "daily_stop": mints[:, lay.MI_HALTED] == 1,
        "spread_pauses": mints[:, lay.MI_SPREAD_PAUSES],
        "exits": mints[:, lay.MI_EXITS],
        "steps": steps,
        "news_events": ints[:, lay.I_NEWS_COUNT],
        "final_inventory": mints[:, lay.MI_INV],
    }
    return pd.DataFrame(data, columns=list(EPISODE_COLUMNS))


def _regime_table(paths: dict[str, np.ndarray], dt: float, n: int) -> pd.DataFrame:
    regime = paths["regime"]
    valid = regime >= 0
    # steps after an episode ended are padding: they count in no regime
    changes = np.where(valid, _equity_changes(np.where(valid, paths["equity"], 0.0)), 0.0)
    total_steps = max(int(valid.sum()), 1)
    rows = []
    for r, name in enumerate(LABEL_NAMES):
        mask = regime == r
        count = int(mask.sum())
        pnl_sum = float(changes[mask].sum())
        row = {
            "regime": name,
            "time_share": count / total_steps,
            "pnl": pnl_sum / n,
            # a rate extrapolated from a few minutes says nothing: NaN below MIN_RATE_S
            "pnl_per_hour": pnl_sum / (count * dt / 3600.0) if count * dt >= MIN_RATE_S else np.nan,
        }
        for p in PARAM_NAMES:
            row[p] = float(paths[p][mask].mean()) if count else np.nan
        row["fills"] = float(paths["fills"][mask].sum()) / n
        row["steps"] = count
        rows.append(row)
    return pd.DataFrame(rows).set_index("regime")


def confusion_matrix(paths: dict[str, np.ndarray]) -> pd.DataFrame:
    """Decision steps by true regime (rows) and detected regime (columns).

    Columns ``total`` and ``accuracy`` (share of the row's steps detected as its own regime);
    a last row ``all`` holds the column totals and the overall accuracy, also in
    ``df.attrs["accuracy"]``.
    """
    true = np.asarray(paths["regime"]).ravel()
    detected = np.asarray(paths["detected_regime"]).ravel()
    ok = (true >= 0) & (detected >= 0)
    counts = np.zeros((NUM_LABELS, NUM_LABELS), dtype=np.int64)
    np.add.at(counts, (true[ok], detected[ok]), 1)
    df = pd.DataFrame(counts, index=list(LABEL_NAMES), columns=list(DETECTED_NAMES))
    df.loc["all"] = counts.sum(axis=0)
    totals = df.sum(axis=1)
    diag = np.append(np.diag(counts), np.trace(counts))
    df["total"] = totals
    with np.errstate(divide="ignore", invalid="ignore"):
        df["accuracy"] = np.where(totals > 0, diag / np.maximum(totals, 1), np.nan)
    df.index.name = "true"
    df.columns.name = "detected"
    df.attrs["accuracy"] = float(df.loc["all", "accuracy"])
    return df


def summarize(episodes: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and t-based 95% confidence interval per column: ``mean, ci_low, ci_high, n``."""
    cols = (
        list(columns)
        if columns is not None
        else [
            c
            for c in episodes.columns
            if c != "seed" and np.issubdtype(episodes[c].dtype, np.number)
        ]
    )
    rows = []
    for c in cols:
        if c not in episodes.columns:
            raise ConfigError(f"column {c!r}: not in the episode table")
        ci = mean_ci(episodes[c].to_numpy(dtype=np.float64))
        rows.append({"metric": c, "mean": ci.mean, "ci_low": ci.low, "ci_high": ci.high, "n": ci.n})
    return pd.DataFrame(rows).set_index("metric")
