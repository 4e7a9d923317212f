"""The true-regime ablation: the document's table looked up in the true regime."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.envs.baseline_policy import RuleBasedPolicy, TrueRegimePolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError
from mm_gym.evaluation.episodes import run_episodes
from mm_gym.market.regimes import LABEL_NAMES


def test_true_regime_policy_uses_the_table_row_of_the_true_regime():
    cfg = EnvConfig(session_s=300, expose_regime=True)
    res = run_episodes(TrueRegimePolicy(cfg), cfg, [0, 1, 2], record_paths=True)
    p = res.paths
    rows = {
        "ranging": cfg.baseline.normal,
        "trending_up": cfg.baseline.trending,
        "trending_down": cfg.baseline.trending,
        "high_vol": cfg.baseline.high_vol,
        "news": cfg.baseline.news,
    }
    seen = set()
    for r, name in enumerate(LABEL_NAMES):
        mask = p["regime"] == r
        if not mask.any():
            continue
        seen.add(name)
        first = 1 if name == "high_vol" else 0  # the high-vol spread ramps with volatility
        for k, param in enumerate(("spread_multiplier", "inventory_skew", "size_fraction")):
            if k >= first:
                np.testing.assert_allclose(p[param][mask], rows[name][k])
    assert len(seen) >= 2
    # the same market as the detecting baseline's (common random numbers)
    base = run_episodes(RuleBasedPolicy(cfg), cfg, [0, 1, 2]).episodes
    assert base["news_events"].tolist() == res.episodes["news_events"].tolist()


def test_true_regime_policy_needs_the_regime_and_absolute_actions():
    with pytest.raises(ConfigError, match="expose_regime"):
        TrueRegimePolicy(EnvConfig())
    with pytest.raises(ConfigError, match="absolute"):
        TrueRegimePolicy(EnvConfig(expose_regime=True, action_mode="residual"))
