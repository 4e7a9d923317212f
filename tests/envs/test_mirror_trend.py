"""``mirror_trend=True``: a falling market is shown as its mirror image; nothing else changes."""

from __future__ import annotations

import numpy as np

from mm_gym import RuleBasedPolicy
from mm_gym.envs.market_making import MarketMakingVectorEnv
from mm_gym.envs.observations import FEATURE_NAMES, IDX, NUM_BASE_OBS
from mm_gym.market.regimes import LABEL_NAMES, NUM_LABELS

CFG = {"session_s": 900.0, "market_features": True, "expose_regime": True, "threads": 1}


def _mirror_by_hand(obs: np.ndarray) -> np.ndarray:
    out = obs.copy()
    down = obs[:, IDX["trend"]] < 0
    for name in ("inventory", "trend", "imbalance"):
        out[down, IDX[name]] *= -1
    out[down, NUM_BASE_OBS + FEATURE_NAMES.index("order_flow_imbalance")] *= -1
    pairs = [
        (IDX["bid_live"], IDX["ask_live"]),
        (IDX["detected_trending_up"], IDX["detected_trending_down"]),
        (
            obs.shape[1] - NUM_LABELS + LABEL_NAMES.index("trending_up"),
            obs.shape[1] - NUM_LABELS + LABEL_NAMES.index("trending_down"),
        ),
    ]
    for a, b in pairs:
        out[down, a], out[down, b] = obs[down, b], obs[down, a]
    return out


def test_mirrored_observations_rewards_and_baseline_actions():
    plain = MarketMakingVectorEnv(16, **CFG)
    mirrored = MarketMakingVectorEnv(16, mirror_trend=True, **CFG)
    o1, _ = plain.reset(seed=4)
    o2, _ = mirrored.reset(seed=4)
    p1, p2 = RuleBasedPolicy(plain.config), RuleBasedPolicy(mirrored.config)
    rng = np.random.default_rng(0)
    falling = 0
    for _ in range(int(CFG["session_s"]) + 30):  # across an autoreset
        np.testing.assert_array_equal(o2, _mirror_by_hand(o1))
        assert (o2[:, IDX["trend"]] >= 0).all()
        falling += int((o1[:, IDX["trend"]] < 0).sum())
        np.testing.assert_array_equal(p1.predict(o1)[0], p2.predict(o2)[0])  # same table row
        action = rng.uniform(-1, 1, (16, 3))
        o1, r1, te1, tr1, i1 = plain.step(action)
        o2, r2, te2, tr2, i2 = mirrored.step(action)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(i1["equity"], i2["equity"])
        assert (te1 == te2).all() and (tr1 == tr2).all()
    assert falling > 0
