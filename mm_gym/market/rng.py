"""Per-market random streams: splitmix64 inside numba kernels.

Every market owns its uint64 states (one per stream), so a market draws the same numbers
whether it runs alone or inside a batch of any size. A batch of N markets has three streams
per market (``rng[i]``, ``rng[N + i]``, ``rng[2N + i]``): the flow (arrival times, kinds, sizes
and distances of limit, market and informed orders); the exogenous path (``exo``); and the
cancellations (``cancels``). The agent never advances the first two, so two policies on the
same seed see the same arrivals and the same regimes, news and fair value.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@nb.njit(cache=True, inline="always")
def exo(i: int, fs: np.ndarray) -> int:
    """Index of market ``i``'s second stream (``fs`` has a row per market), which drives only
    what the agent cannot change (regime switches, news, the fair value), so those are the
    same under any policy."""
    return i + fs.shape[0]


@nb.njit(cache=True, inline="always")
def cancels(i: int, fs: np.ndarray) -> int:
    """Index of market ``i``'s third stream: cancellations, whose rate, level and queue
    share depend on the book, which the agent's orders change."""
    return i + 2 * fs.shape[0]


def seed_states(
    seeds: np.ndarray, episodes: np.ndarray | None = None, stream: int = 0
) -> np.ndarray:
    """Initial generator states for integer seeds (one per market), decorrelated by hashing.

    ``episodes`` (optional) numbers the episodes drawn from one seed: episode k of seed s has
    its own stream, the same wherever market s runs. ``stream`` > 0 gives further independent
    streams of the same seed and episode. Distinct (seed, episode, stream) triples of 64-bit
    integers give distinct inputs to the hash: the seed is the entropy, and the episode's two
    32-bit halves and the stream are the spawn key.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    out = np.empty(seeds.shape[0], dtype=np.uint64)
    for i, s in enumerate(seeds):
        episode = 0 if episodes is None else int(episodes[i]) % 2**64
        key = (episode & 0xFFFFFFFF, episode >> 32, stream)
        ss = np.random.SeedSequence(int(s) % 2**64, spawn_key=key)
        out[i] = ss.generate_state(1, dtype=np.uint64)[0]
    return out


@nb.njit(cache=True)
def next_u64(rng: np.ndarray, i: int) -> np.uint64:
    """Advance market ``i``'s stream and return 64 random bits."""
    s = rng[i] + _GOLDEN
    rng[i] = s
    z = s
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@nb.njit(cache=True)
def to_unit(bits: np.uint64) -> float:
    """Map 64 random bits to a float in [0, 1)."""
    return float(bits >> _S11) * _INV53


@nb.njit(cache=True)
def uniform(rng: np.ndarray, i: int) -> float:
    """A float in [0, 1)."""
    return to_unit(next_u64(rng, i))


@nb.njit(cache=True)
def uniform_open(rng: np.ndarray, i: int) -> float:
    """A float in (0, 1]: safe under log."""
    return 1.0 - uniform(rng, i)


@nb.njit(cache=True)
def exponential(rng: np.ndarray, i: int, rate: float) -> float:
    """An exponential waiting time with the given rate."""
    return -np.log(uniform_open(rng, i)) / rate


@nb.njit(cache=True)
def normal(rng: np.ndarray, i: int) -> float:
    """A standard normal draw (Box-Muller, one of the pair)."""
    u1 = uniform_open(rng, i)
    u2 = uniform(rng, i)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def geometric_log_q(mean: float) -> float:
    """The constant ``log(1 - 1/mean)`` that ``geometric`` takes (0.0 for mean 1)."""
    return 0.0 if mean <= 1.0 else float(np.log(1.0 - 1.0 / mean))


@nb.njit(cache=True)
def geometric(rng: np.ndarray, i: int, log_q: float) -> int:
    """A size >= 1 from the geometric distribution with ``log_q = geometric_log_q(mean)``."""
    if log_q >= 0.0:
        return 1
    return 1 + int(np.log(uniform_open(rng, i)) / log_q)


# streams of a (seed, episode) beyond the kernels' three, drawn in Python at an episode's start
PIN_STREAM = 3  # which episodes a training curriculum pins, and to which regime
WINDOW_STREAM = 4  # where a replay window starts in its recording


def episode_generators(
    seeds: np.ndarray, episodes: np.ndarray | None, stream: int
) -> list[np.random.Generator]:
    """A numpy Generator per market, from its seed and episode on ``stream`` (``seed_states``),
    for draws made in Python when an episode starts."""
    return [np.random.default_rng(int(state)) for state in seed_states(seeds, episodes, stream)]
