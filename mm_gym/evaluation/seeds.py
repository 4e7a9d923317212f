"""Seed families: which markets train, select, develop and judge, kept disjoint.

A market is its seed (``mm_gym.market.rng.seed_states`` hashes it), so disjoint seeds are
independent markets. The families:

- **training**: each training run's markets are spawned from the run's seed
  (``SeedSequence(run_seed).spawn(n)``) into ``[2**62, 2**63)``: no two runs share a market,
  and no other family reaches that range;
- **tuning** ``[0, 1e6)``: the rule baseline's tuning trials (``mm_gym.tuning.baseline``);
- **evaluation** ``[1e6, 2e6)``: the training callback that keeps the best model;
- **development** ``[2e6, 3e6)``: every choice (configs, checkpoints, thresholds, the
  baseline's held-out check); ``evaluate`` and ``compare`` default to it;
- **final** ``[3e6, 4e6)``: the results a claim is stated on (README's), frozen;
- **replication** ``[4e6, 5e6)``: a second final family, to show a claim holds on other seeds.

In a comparison of several training runs, run ``k`` (in the order given) plays its own block
of a family: ``base + k * BLOCK_STRIDE, ...`` (``PROTOCOL``: pairing inside the block).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mm_gym.errors import ConfigError

__all__ = [
    "BLOCK_STRIDE",
    "CLAIM_FAMILIES",
    "DEV_SEED_BASE",
    "EVAL_SEED_BASE",
    "FAMILIES",
    "FAMILY_SPAN",
    "FINAL_SEED_BASE",
    "REPLICATION_SEED_BASE",
    "SPAWNED_SEED_BASE",
    "TUNING_SEED_BASE",
    "block_seeds",
    "seed_family",
    "training_market_seeds",
]

TUNING_SEED_BASE = 0
EVAL_SEED_BASE = 1_000_000
DEV_SEED_BASE = 2_000_000
FINAL_SEED_BASE = 3_000_000
REPLICATION_SEED_BASE = 4_000_000
FAMILY_SPAN = 1_000_000
SPAWNED_SEED_BASE = 2**62
BLOCK_STRIDE = 10_000
MAX_RUN_SEED = 2**32 - 1

FAMILIES = {
    "development": DEV_SEED_BASE,
    "final": FINAL_SEED_BASE,
    "replication": REPLICATION_SEED_BASE,
}
"""The families a policy is scored on, by name -> first seed."""
CLAIM_FAMILIES = ("final", "replication")
"""Families on which a result is stated as a claim."""


def training_market_seeds(run_seed: int, n: int) -> np.ndarray:
    """The seeds of training run ``run_seed``'s ``n`` markets: ``SeedSequence(run_seed)``
    spawns one child per market, each child's 62 bits placed in ``[2**62, 2**63)``."""
    if isinstance(run_seed, bool) or not isinstance(run_seed, int | np.integer):
        raise ConfigError(f"seed={run_seed!r}: expected an integer in [0, {MAX_RUN_SEED}]")
    if not 0 <= int(run_seed) <= MAX_RUN_SEED:
        raise ConfigError(f"seed={run_seed}: expected an integer in [0, {MAX_RUN_SEED}]")
    children = np.random.SeedSequence(int(run_seed)).spawn(int(n))
    bits = np.array([c.generate_state(1, dtype=np.uint64)[0] for c in children], np.uint64)
    return (bits >> np.uint64(2) | np.uint64(SPAWNED_SEED_BASE)).astype(np.int64)


def block_seeds(family: str, run_index: int, episodes: int, first: int | None = None) -> list[int]:
    """Run ``run_index``'s block of ``episodes`` seeds in ``family`` (or from ``first``, a
    seed given by hand, blocks then ``BLOCK_STRIDE`` apart)."""
    if family not in FAMILIES:
        raise ConfigError(f"--family {family!r}: allowed values are {', '.join(FAMILIES)}")
    if isinstance(episodes, bool) or not isinstance(episodes, int) or not episodes >= 1:
        raise ConfigError(f"--episodes={episodes!r}: expected an integer >= 1")
    if episodes > BLOCK_STRIDE:
        raise ConfigError(f"--episodes={episodes}: at most {BLOCK_STRIDE} per run's block")
    if not 0 <= run_index < FAMILY_SPAN // BLOCK_STRIDE:
        raise ConfigError(f"{run_index + 1} runs: at most {FAMILY_SPAN // BLOCK_STRIDE} per family")
    base = FAMILIES[family] if first is None else first
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise ConfigError(f"--seed={first!r}: expected an integer >= 0")
    start = base + run_index * BLOCK_STRIDE
    return list(range(start, start + episodes))


def seed_family(seeds: Sequence[int]) -> str:
    """The family every seed of ``seeds`` falls in, or ``mixed`` when they span several;
    below the evaluation range it is ``tuning``, at or past 5e6 ``other``."""
    names = {_family_of(int(s)) for s in seeds}
    return names.pop() if len(names) == 1 else "mixed"


def _family_of(seed: int) -> str:
    if seed >= SPAWNED_SEED_BASE:
        return "training"
    if seed < EVAL_SEED_BASE:
        return "tuning"
    if seed < DEV_SEED_BASE:
        return "evaluation"
    for name, base in FAMILIES.items():
        if base <= seed < base + FAMILY_SPAN:
            return name
    return "other"
