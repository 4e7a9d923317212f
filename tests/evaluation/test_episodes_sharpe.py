"""The episode table's Sharpe ratio is the autocorrelation-consistent one."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.envs.baseline_policy import RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.evaluation.episodes import SHARPE_LAG_S, run_episodes
from mm_gym.evaluation.metrics import sharpe


def test_episode_sharpe_uses_the_long_run_variance():
    cfg = EnvConfig(session_s=300)
    res = run_episodes(RuleBasedPolicy(cfg), cfg, [0, 1], record_paths=True)
    equity = res.paths["equity"]
    changes = np.diff(np.concatenate([np.zeros((2, 1)), equity], axis=1), axis=1)
    lags = round(SHARPE_LAG_S / 1.0)
    for i in range(2):
        want = sharpe(changes[i], 1.0, lags=lags)
        assert res.episodes["sharpe"][i] == pytest.approx(want)
        assert want != pytest.approx(sharpe(changes[i], 1.0))
