"""Seed families: training runs share no market, blocks and families never overlap."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.errors import ConfigError
from mm_gym.evaluation.seeds import (
    BLOCK_STRIDE,
    DEV_SEED_BASE,
    EVAL_SEED_BASE,
    FAMILIES,
    FINAL_SEED_BASE,
    REPLICATION_SEED_BASE,
    SPAWNED_SEED_BASE,
    block_seeds,
    seed_family,
    training_market_seeds,
)


def test_training_runs_share_no_market() -> None:
    runs = [training_market_seeds(run, 256) for run in range(20)]
    every = np.concatenate(runs)
    assert np.unique(every).size == every.size
    assert every.min() >= SPAWNED_SEED_BASE and seed_family(every.tolist()) == "training"
    # the same run seed gives the same markets; the first markets do not depend on n
    assert np.array_equal(training_market_seeds(3, 256), runs[3])
    assert np.array_equal(training_market_seeds(3, 8), runs[3][:8])


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, True])
def test_training_seed_out_of_range_is_named(bad) -> None:
    with pytest.raises(ConfigError, match=r"seed=.*expected an integer in \[0, 4294967295\]"):
        training_market_seeds(bad, 4)


def test_blocks_of_runs_are_disjoint_and_inside_their_family() -> None:
    for family, base in FAMILIES.items():
        blocks = [block_seeds(family, k, 500) for k in range(20)]
        every = [s for b in blocks for s in b]
        assert len(set(every)) == len(every)
        assert blocks[0][0] == base and blocks[1][0] == base + BLOCK_STRIDE
        assert seed_family(every) == family


def test_seed_family_names_each_range() -> None:
    assert seed_family([0, 999_999]) == "tuning"
    assert seed_family([EVAL_SEED_BASE]) == "evaluation"
    assert seed_family([DEV_SEED_BASE, FINAL_SEED_BASE - 1]) == "development"
    assert seed_family([FINAL_SEED_BASE]) == "final"
    assert seed_family([REPLICATION_SEED_BASE]) == "replication"
    assert seed_family([FINAL_SEED_BASE - 1, FINAL_SEED_BASE]) == "mixed"
    assert seed_family([5_000_000]) == "other"


def test_block_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match="--family 'test'"):
        block_seeds("test", 0, 10)
    with pytest.raises(ConfigError, match="--episodes=10001"):
        block_seeds("final", 0, BLOCK_STRIDE + 1)
    with pytest.raises(ConfigError, match="--episodes=0"):
        block_seeds("final", 0, 0)
    with pytest.raises(ConfigError, match="101 runs"):
        block_seeds("final", 100, 10)
