"""Throughput of the simulated order-book market (what ``mm-gym bench`` reports).

Two headline figures, both with the default market (or the one given) and the quoting engine
live (parameters
``[1.0, 0.5, 1.0]``), after a warm-up so that numba compilation is not counted:

- ``lob_events_per_s``: background order-book events (limit orders, cancellations, market
  orders) processed per wall-clock second, on ``threads`` threads (one by default);
- ``lob_market_seconds_per_s``: simulated market-seconds per wall-clock second, summed over
  the batch, on every core (``os.cpu_count()`` threads).

``breakdown`` splits a vector-env step's time into background events, the sampling clock,
quoting and the Python side; ``scaling`` gives the rates and memory per market over batch sizes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time

import numpy as np

from mm_gym.errors import ConfigError
from mm_gym.market import layout as lay
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.config import StrategyConfig

BENCH_PARAMS = (1.0, 0.5, 1.0)
NO_QUOTES = (1.0, 0.5, 0.0)  # size 0: the engine sends no orders
WARMUP_S = 5.0  # simulated seconds run before timing (compiles or loads the kernels)
SCALING_MARKETS = (1, 16, 256, 4096)
MAKERS_MEASURED = (2, 4)  # makers per book of the multi-maker figures (256 books, 2 threads)
ONE_REFRESH_MS = 3_600_000.0  # the longest refresh interval allowed: one refresh, at the start
SPARSE_SAMPLE_MS = 10_000.0  # the longest sampling interval allowed: 1/100 of the default's ticks


def _measure(
    num_markets: int,
    seconds: float,
    threads: int,
    step_s: float,
    market: MarketConfig,
    strategy: StrategyConfig,
    seed: int,
    params: tuple[float, float, float] = BENCH_PARAMS,
) -> dict:
    sim = MarketSim(num_markets, market=market, strategy=strategy, threads=threads)
    sim.reset(np.arange(seed, seed + num_markets))
    batch = np.tile(params, (num_markets, 1))
    sim.advance(WARMUP_S, batch)
    events0 = int(sim.ints[:, lay.I_EVENTS].sum())
    t_sim0 = float(sim.time.sum())
    steps = 0
    start, cpu = time.perf_counter(), time.process_time()
    while True:
        sim.advance(step_s, batch)
        steps += 1
        wall = time.perf_counter() - start
        if wall >= seconds:
            break
    cpu = time.process_time() - cpu
    events = int(sim.ints[:, lay.I_EVENTS].sum()) - events0
    market_seconds = float(sim.time.sum()) - t_sim0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "steps": steps,
        "events": events,
        "market_seconds": market_seconds,
        "threads": sim.threads,
        "bytes_per_market": sim.bytes_per_market,
    }


def bench_market(
    num_markets: int = 256,
    seconds: float = 4.0,
    threads: int = 1,
    *,
    step_s: float = 1.0,
    market: MarketConfig | None = None,
    strategy: StrategyConfig | None = None,
    seed: int = 0,
) -> dict:
    """Measure the market simulator's throughput; each measurement runs about ``seconds``.

    ``threads`` is used for the event rate; the market-seconds rate uses every core. Returns
    a flat dict of numbers: the two headline figures plus what they were measured with
    (including the load average, since a busy machine lowers them).
    """
    if isinstance(num_markets, bool) or not isinstance(num_markets, int) or num_markets < 1:
        raise ConfigError(f"num_markets={num_markets!r}: expected an integer >= 1")
    if not isinstance(seconds, int | float) or not 0.0 < seconds <= 3600.0:
        raise ConfigError(f"seconds={seconds!r}: allowed range is (0, 3600]")
    if not isinstance(step_s, int | float) or not 0.0 < step_s <= 3600.0:
        raise ConfigError(f"step_s={step_s!r}: allowed range is (0, 3600]")
    market = market or MarketConfig()
    strategy = strategy or StrategyConfig()
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    one = _measure(num_markets, seconds, threads, step_s, market, strategy, seed)
    every = _measure(num_markets, seconds, cores, step_s, market, strategy, seed)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "lob_events_per_s": one["events"] / one["wall_s"],
        "lob_events_per_cpu_s": one["events"] / one["cpu_s"],
        "lob_market_seconds_per_s": every["market_seconds"] / every["wall_s"],
        "lob_events_per_s_all_cores": every["events"] / every["wall_s"],
        "lob_market_seconds_per_s_one": one["market_seconds"] / one["wall_s"],
        "events_per_market_second": one["events"] / max(one["market_seconds"], 1e-12),
        "num_markets": num_markets,
        "step_s": step_s,
        "threads": one["threads"],
        "threads_all": every["threads"],
        "cpu_count": cores,
        "wall_s": one["wall_s"] + every["wall_s"],
        "load_avg_1min": max(load_before, load_after),
    }


def breakdown(
    seconds: float = 2.0,
    num_markets: int = 256,
    seed: int = 0,
    market: MarketConfig | None = None,
) -> dict:
    """Where a native vector env step's time goes, in shares that sum to 1 (see ``method``).

    The market (the default unless given) runs three ways on one thread: as it is; without
    quoting (one refresh at the start, size 0); and without quoting with the sampling clock
    at 10 s instead of 100 ms. The CPU time per market-second of the last is the background
    events'; the differences are the sampling clock's and quoting's. The vector env's step
    minus its ``MarketSim.advance`` is its Python side.
    """
    market = market or MarketConfig()
    strategy = StrategyConfig()
    quiet = dataclasses.replace(strategy, quote_refresh_ms=ONE_REFRESH_MS)
    sparse = dataclasses.replace(
        market, sample_interval_ms=SPARSE_SAMPLE_MS, feature_interval_s=SPARSE_SAMPLE_MS / 1000
    )
    runs = {
        "full": _measure(num_markets, seconds, 1, 1.0, market, strategy, seed),
        "no_quotes": _measure(num_markets, seconds, 1, 1.0, market, quiet, seed, NO_QUOTES),
        "background": _measure(num_markets, seconds, 1, 1.0, sparse, quiet, seed, NO_QUOTES),
    }
    ns = {k: 1e9 * m["cpu_s"] / m["market_seconds"] for k, m in runs.items()}
    step_cpu, advance_cpu = _vector_split(num_markets, seconds, seed, market)
    per_ns = advance_cpu / step_cpu / ns["full"]  # share of the step per ns of advance
    return {
        "method": (
            f"CPU time, one thread, {num_markets} markets; MarketSim.advance as it is, "
            "without quoting (one refresh, size 0) and also with the sampling clock at 10 s: "
            "the last is the background "
            "events, the differences the sampling clock and the quote refreshes with order "
            "activations; their shares of advance are scaled to its share of a vector env "
            "step (random actions), the rest of which is the step's Python side"
        ),
        "background_events": per_ns * ns["background"],
        "sampling_clock": per_ns * (ns["no_quotes"] - ns["background"]),
        "quotes_and_orders": per_ns * (ns["full"] - ns["no_quotes"]),
        "python_step": 1.0 - advance_cpu / step_cpu,
        "ns_per_market_second": ns,
        "events_per_market_second": {k: m["events"] / m["market_seconds"] for k, m in runs.items()},
        "vector_env_step_us": 1e6 * step_cpu,
        "vector_env_advance_us": 1e6 * advance_cpu,
    }


def _vector_split(
    num_envs: int, seconds: float, seed: int, market: MarketConfig
) -> tuple[float, float]:
    """CPU seconds per step of the native vector env on one thread, random actions, and per
    ``MarketSim.advance`` of its markets for as many steps with the last parameters."""
    import gymnasium as gym

    env = gym.make_vec(
        "mm_gym/MarketMaking-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        threads=1,
        market=market,
    )
    pool = np.random.default_rng(seed).uniform(-1, 1, (16, num_envs, 3)).astype(np.float32)
    env.reset(seed=seed)
    for k in range(3):
        env.step(pool[k])
    steps = 0
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        env.step(pool[steps % 16])
        steps += 1
    step_cpu = (time.process_time() - cpu) / steps
    core = env.unwrapped.core
    params = core.params.copy()
    cpu = time.process_time()
    for _ in range(steps):
        core.sim.advance(core.dt, params)
    advance_cpu = (time.process_time() - cpu) / steps
    env.close()
    return step_cpu, advance_cpu


def scaling(
    seconds: float = 1.0,
    seed: int = 0,
    sizes: tuple[int, ...] = SCALING_MARKETS,
    market: MarketConfig | None = None,
) -> dict:
    """Rates and memory per market for batches of ``sizes`` markets (the default market unless
    given, agent quoting, 1 s steps): events/s on one thread (wall and CPU time),
    market-seconds/s on one thread and on every core."""
    market = market or MarketConfig()
    strategy = StrategyConfig()
    cores = os.cpu_count() or 1
    out = {}
    for n in sizes:
        one = _measure(n, seconds, 1, 1.0, market, strategy, seed)
        every = _measure(n, seconds, cores, 1.0, market, strategy, seed)
        out[str(n)] = {
            "events_per_s": one["events"] / one["wall_s"],
            "events_per_cpu_s": one["events"] / one["cpu_s"],
            "market_seconds_per_s_one": one["market_seconds"] / one["wall_s"],
            "market_seconds_per_s": every["market_seconds"] / every["wall_s"],
            "threads_all": every["threads"],
            "bytes_per_market": one["bytes_per_market"],
        }
    return out


def bench_env_single(
    seconds: float = 3.0, seed: int = 0, market: MarketConfig | None = None
) -> float:
    """Steps per second of one ``MarketMaking-v0`` env through ``gymnasium.make``, random
    actions (drawn beforehand), resets included."""
    import gymnasium as gym

    env = gym.make("mm_gym/MarketMaking-v0", market=market or MarketConfig())
    pool = np.random.default_rng(seed).uniform(-1, 1, (1024, 3)).astype(np.float32)
    env.reset(seed=seed)
    for k in range(10):
        env.step(pool[k])
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for k in range(256):
            _, _, terminated, truncated, _ = env.step(pool[(steps + k) % 1024])
            if terminated or truncated:
                env.reset()
        steps += 256
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate


def bench_env_vector(
    num_envs: int = 256, seconds: float = 4.0, seed: int = 0, market: MarketConfig | None = None
) -> float:
    """Env steps per second (``num_envs`` per call) of the native ``MarketMaking-v0`` vector
    env from ``gymnasium.make_vec``, random actions, all cores."""
    import gymnasium as gym

    env = gym.make_vec(
        "mm_gym/MarketMaking-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        market=market or MarketConfig(),
    )
    pool = np.random.default_rng(seed).uniform(-1, 1, (16, num_envs, 3)).astype(np.float32)
    env.reset(seed=seed)
    for k in range(3):
        env.step(pool[k])
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(pool[calls % 16])
        calls += 1
    rate = num_envs * calls / (time.perf_counter() - start)
    env.close()
    return rate


def bench_makers(
    makers: int,
    num_books: int = 256,
    seconds: float = 4.0,
    threads: int = 2,
    seed: int = 0,
    market: MarketConfig | None = None,
) -> dict[str, float]:
    """Maker steps per second (one maker's decision interval: ``num_books * makers`` per
    call) with ``makers`` per book on ``threads`` threads: of the kernel (``MarketSim``
    advancing one decision interval, every maker quoting the bench's parameters) and of the
    multi-maker vector env (every maker a learner slot, random actions)."""
    from mm_gym.envs.config import EnvConfig
    from mm_gym.envs.multi_maker import MultiMakerVectorEnv

    market = market or MarketConfig()
    dt = EnvConfig().decision_interval_ms / 1000.0
    sim = MarketSim(num_books, market=market, threads=threads, makers=makers)
    sim.reset(np.arange(seed, seed + num_books))
    batch = np.tile(BENCH_PARAMS, (num_books * makers, 1))
    sim.advance(WARMUP_S, batch)
    kernel = _rate(lambda: sim.advance(dt, batch), seconds) * num_books * makers
    env = MultiMakerVectorEnv(
        num_books * makers, n_makers=makers, agents=makers, threads=threads, market=market
    )
    pool = np.random.default_rng(seed).uniform(-1, 1, (16, env.num_envs, 3)).astype(np.float32)
    env.reset(seed=seed)
    calls = iter(range(10**12))
    env_rate = _rate(lambda: env.step(pool[next(calls) % 16]), seconds) * env.num_envs
    return {"kernel": kernel, "env": env_rate}


def _rate(call, seconds: float) -> float:
    """Calls per second of ``call`` over about ``seconds`` (after three not timed)."""
    for _ in range(3):
        call()
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        calls += 1
    return calls / (time.perf_counter() - start)


REPLAY_REFRESH_MS = (1000.0, 100.0)  # the agent re-quotes every second, then every 100 ms


def bench_replay(
    path: str,
    *,
    seconds: float = 60.0,
    refresh_ms: tuple[float, ...] = REPLAY_REFRESH_MS,
    repeats: int = 3,
    shares_per_lot: float | None = None,
) -> dict:
    """Replay speed on one thread: one market plays the recording at ``path`` from the end of
    its warm-up to its end (or for ``seconds`` of wall time), quoting with the document's
    parameters and re-quoting every ``refresh_ms``; events replayed per second of wall time,
    the fastest of ``repeats`` plays, per refresh interval. The warm-up (the recording's first
    minute, replayed without orders to set the book up) is timed apart."""
    from mm_gym.market.replay_sim import WARMUP_S, ReplaySim, load_recording

    started = time.perf_counter()
    rec = load_recording(path) if shares_per_lot is None else load_recording(path, shares_per_lot)
    out: dict = {"events": int(rec.tape.t.size), "load_s": time.perf_counter() - started}
    session = math.floor(rec.duration_s - WARMUP_S)
    batch = np.tile(BENCH_PARAMS, (1, 1))
    for ms in refresh_ms:
        strategy = StrategyConfig(quote_refresh_ms=ms)
        sim = ReplaySim(1, rec, session_s=session, strategy=strategy, threads=1)
        best = math.inf
        for _ in range(repeats):
            began = time.perf_counter()
            sim.reset(np.zeros(1, dtype=np.int64))
            warm = time.perf_counter() - began
            sim.advance(1.0, batch)  # the first call of a process compiles the replay loop
            events0 = int(sim.ints[0, lay.I_EVENTS])
            t0 = float(sim.time[0])
            began = time.perf_counter()
            while float(sim.time[0]) < sim.start[0] + session - 60.0:
                sim.advance(60.0, batch)
                if time.perf_counter() - began >= seconds:
                    break
            wall = time.perf_counter() - began
            best = min(best, wall)
        events = int(sim.ints[0, lay.I_EVENTS]) - events0
        key = f"refresh_{ms:g}ms"
        out[f"{key}_events_per_s"] = events / best
        out[f"{key}_wall_s"] = best
        out[f"{key}_events"] = events
        out[f"{key}_market_seconds"] = float(sim.time[0]) - t0
        out[f"{key}_quotes_sent"] = int(sim.mints[0, lay.MI_QUOTES_SENT])
        out[f"{key}_warmup_s"] = warm
    return out


def run_all(quick: bool = False, market: MarketConfig | None = None) -> dict:
    """Every figure of ``mm-gym bench``: the market and the envs (on ``market``, the default
    market unless given), the Avellaneda-Stoikov env, several makers per book (kernel and
    env), the breakdown of a vector env step and the scaling over batch sizes."""
    from mm_gym.envs.avellaneda_stoikov import bench_as_vec

    seconds = 1.0 if quick else 4.0
    out = bench_market(seconds=seconds, market=market)
    out["env_steps_per_s_single"] = bench_env_single(seconds=seconds, market=market)
    out["vec_env_steps_per_s"] = bench_env_vector(seconds=seconds, market=market)
    out["as_vec_steps_per_s"] = bench_as_vec(num_envs=10_000, steps=100 if quick else 1_000)
    for makers in MAKERS_MEASURED:
        rates = bench_makers(makers, seconds=seconds / 2, market=market)
        out[f"maker_steps_per_s_{makers}_makers"] = rates["kernel"]
        out[f"env_maker_steps_per_s_{makers}_makers"] = rates["env"]
    out["breakdown"] = breakdown(seconds=seconds / 2, market=market)
    out["scaling"] = scaling(seconds=seconds / 4, market=market)
    return out


if __name__ == "__main__":  # pragma: no cover - a quick look without the CLI
    for key, value in bench_market().items():
        print(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
