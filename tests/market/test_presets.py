"""Market presets: shipped markets by name, the legacy market reproduced, --market options."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mm_gym.config import SHIPPED_CONFIGS, shipped_configs
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MarketSim

# The default market before the issue-10 recalibration (commit dc9a6e5), field by field.
_OLD_REGIME = {"limit_rate_mult": 1.0, "cancel_rate_mult": 1.0, "market_rate_mult": 1.0}
OLD_DEFAULT = {
    "tick_size": 0.05,
    "initial_price": 100.0,
    "window_levels": 128,
    "initial_depth": 6,
    "initial_levels": 20,
    "limit_rate": 10.0,
    "limit_size_mean": 2.0,
    "limit_distance_mean": 2.0,
    "cancel_rate": 0.3,
    "market_rate": 1.5,
    "market_size_mean": 3.0,
    "informed_rate": 1.0,
    "informed_size_mean": 5.0,
    "informed_edge_ticks": 0.5,
    "regimes": {
        "ranging": {
            **_OLD_REGIME,
            "mean_duration_s": 900.0,
            "drift_bps_per_s": 0.0,
            "vol_bps_per_sqrt_s": 0.8,
            "informed_rate_mult": 1.0,
            "weight": 0.45,
        },
        "trending_up": {
            **_OLD_REGIME,
            "mean_duration_s": 600.0,
            "drift_bps_per_s": 0.1,
            "vol_bps_per_sqrt_s": 1.0,
            "informed_rate_mult": 1.5,
            "weight": 0.2,
        },
        "trending_down": {
            **_OLD_REGIME,
            "mean_duration_s": 600.0,
            "drift_bps_per_s": -0.1,
            "vol_bps_per_sqrt_s": 1.0,
            "informed_rate_mult": 1.5,
            "weight": 0.2,
        },
        "high_vol": {
            "mean_duration_s": 400.0,
            "drift_bps_per_s": 0.0,
            "vol_bps_per_sqrt_s": 2.4,
            "limit_rate_mult": 1.2,
            "cancel_rate_mult": 1.5,
            "market_rate_mult": 1.5,
            "informed_rate_mult": 2.0,
            "weight": 0.15,
        },
    },
    "news": {
        "rate_per_hour": 2.0,
        "announced_fraction": 0.5,
        "announce_lead_s": 60.0,
        "jump_bps_mean": 25.0,
        "duration_s": 30.0,
        "informed_rate_mult": 6.0,
        "limit_rate_mult": 0.4,
        "cancel_rate_mult": 3.0,
        "depth_pull_fraction": 0.6,
    },
    "pin_regime": None,
    "latency_ms": 5.0,
    "maker_fee_bps": 0.5,
    "taker_fee_bps": 2.0,
    "sample_interval_ms": 100.0,
    "feature_interval_s": 5.0,
    "vol_short_halflife_s": 30.0,
    "vol_long_halflife_s": 300.0,
    "trend_halflife_s": 180.0,
    "fill_log_capacity": 0,
    "markout_queue": 256,
}
# sha256 (first 16 hex digits) of the mid path of seeds 0, 1, 2 over 300 one-second steps of
# the old default market, quoting the table's normal row: recorded with the kernel of the
# commit before the recalibration (after the kernel fixes, which re-derived the random streams);
# re-pinned when the volatility estimates stopped starting at the hidden regime's level (the
# quotes, and so the book, differ in the first minutes)
LEGACY_MID_PATH = "722e8e97a697f13f"


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def mid_path_hash(cfg: MarketConfig) -> str:
    sim = MarketSim(3, market=cfg, threads=1)
    sim.reset([0, 1, 2])
    params = np.tile((1.0, 0.5, 1.0), (3, 1))
    mids = []
    for _ in range(300):
        sim.advance(1.0, params)
        mids.append(sim.mid.copy())
    return hashlib.sha256(np.array(mids).tobytes()).hexdigest()[:16]


def test_legacy_preset_is_the_old_default_field_by_field():
    cfg = MarketConfig.preset("legacy")
    legacy = _flatten(cfg.to_dict())
    for field, value in _flatten(OLD_DEFAULT).items():
        assert legacy[field] == value, field
    # and every model option added since is off
    assert cfg.initial_spread_ticks == 2 and cfg.limit_fair_fraction == 0.0
    assert cfg.limit_pull_ticks is None and cfg.metaorder_alpha == 0.0
    assert cfg.volatility.fast_sd == cfg.volatility.slow_sd == 0.0
    assert cfg.volatility.switch_ratio == 1.0
    assert all(r.trend_flow_rate == 0.0 for r in cfg.regimes.values())
    assert cfg != MarketConfig()


def test_legacy_preset_reproduces_the_old_mid_path():
    assert mid_path_hash(MarketConfig.preset("legacy")) == LEGACY_MID_PATH


def test_default_preset_is_the_dataclass_default():
    assert MarketConfig.preset("default") == MarketConfig()
    assert {"default", "legacy", "small_tick"} <= set(shipped_configs("markets"))


def test_preset_takes_a_name_or_a_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("latency_ms: 20.0\n")
    assert MarketConfig.preset(path) == MarketConfig(latency_ms=20.0)
    assert MarketConfig.preset("ranging") == MarketConfig(pin_regime="ranging")
    assert MarketConfig.preset("legacy") == MarketConfig.from_yaml(
        SHIPPED_CONFIGS / "markets" / "legacy.yaml"
    )


def test_unknown_preset_is_a_one_line_error_listing_the_names():
    with pytest.raises(ConfigError) as err:
        MarketConfig.preset("big_tick")
    msg = str(err.value)
    assert "\n" not in msg and "'big_tick'" in msg
    assert all(name in msg for name in shipped_configs("markets"))


# ----------------------------------------------------------------------------- commands
def test_backtest_takes_a_market_and_pins_a_regime_on_top(tmp_path, capsys):
    from mm_gym import cli

    out = tmp_path / "bt"
    argv = ["backtest", "--episodes", "1", "--session-s", "5", "--out", str(out)]
    assert cli.main([*argv, "--market", "legacy", "--regime", "high_vol"]) == 0
    cfg = EnvConfig.from_yaml(out / "config.yaml")
    assert cfg.market == MarketConfig.preset("legacy").replace(pin_regime="high_vol")
    assert "--market legacy" in (out / "summary.md").read_text()
    capsys.readouterr()
    assert cli.main([*argv[:-1], str(tmp_path / "bt2"), "--market", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "market config 'nope'" in err


def test_bench_takes_a_market(monkeypatch, capsys):
    from mm_gym import cli
    from mm_gym.evaluation import bench

    seen = {}

    def fake_run_all(quick: bool = False, market: MarketConfig | None = None) -> dict:
        seen["market"] = market
        return {"lob_events_per_s": 1.0}

    monkeypatch.setattr(bench, "run_all", fake_run_all)
    assert cli.main(["bench", "--quick", "--json", "--market", "small_tick"]) == 0
    assert seen["market"] == MarketConfig.preset("small_tick")
    assert cli.main(["bench", "--quick", "--market", "nope"]) == 2
    assert "market config 'nope'" in capsys.readouterr().err
