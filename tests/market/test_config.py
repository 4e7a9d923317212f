"""Market configuration: every bad value fails at construction, naming field and value."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from mm_gym.config import SHIPPED_CONFIGS
from mm_gym.errors import ConfigError
from mm_gym.market.config import MarketConfig, NewsConfig, RegimeParams
from mm_gym.market.sim import MarketSim

CONFIGS = SHIPPED_CONFIGS / "markets"

BAD_MARKET = [
    ("tick_size", 0.0),
    ("tick_size", -0.05),
    ("tick_size", math.nan),
    ("tick_size", "0.05"),
    ("initial_price", -100.0),
    ("initial_price", math.inf),
    ("window_levels", 16),
    ("window_levels", 5000),
    ("window_levels", 64.0),
    ("window_levels", True),
    ("initial_depth", -1),
    ("initial_depth", 2.5),
    ("initial_levels", 0),
    ("initial_levels", 33),  # more than a quarter of the 128-level window
    ("initial_spread_ticks", 0),  # a locked initial book
    ("initial_spread_ticks", 2.5),
    ("initial_spread_ticks", 40),
    ("limit_rate", 0.0),
    ("limit_rate", -3.0),
    ("limit_size_mean", 0.5),
    ("limit_distance_mean", 0.5),
    ("limit_distance_mean", 17.0),  # beyond window_levels / 8
    ("limit_fair_fraction", 1.5),
    ("limit_fair_offset_ticks", -1.0),
    ("limit_pull_ticks", -1.0),
    ("limit_pull_ticks", "near"),
    ("cancel_rate", 0.0),
    ("market_rate", -1.0),
    ("market_size_mean", 0.0),
    ("informed_rate", -0.1),
    ("informed_size_mean", 0.9),
    ("informed_edge_ticks", -1.0),
    ("metaorder_alpha", 0.5),
    ("metaorder_alpha", 6.0),
    ("metaorder_max_orders", 0),
    ("pin_regime", "sideways"),
    ("pin_regime", "news"),
    ("latency_ms", -1.0),
    ("latency_ms", 20_000.0),
    ("maker_fee_bps", 200.0),
    ("taker_fee_bps", -200.0),
    ("sample_interval_ms", 0.5),
    ("feature_interval_s", 0.01),  # shorter than the sampling interval
    ("vol_short_halflife_s", 0.0),
    ("vol_long_halflife_s", -5.0),
    ("trend_halflife_s", math.nan),
    ("fill_log_capacity", -1),
    ("fill_log_capacity", 10.5),
    ("markout_queue", 4),
]

BAD_NEWS = [
    ("rate_per_hour", -1.0),
    ("rate_per_hour", 4000.0),
    ("announced_fraction", 1.5),
    ("announce_lead_s", -1.0),
    ("jump_bps_mean", -1.0),
    ("duration_s", 0.0),
    ("informed_rate_mult", -1.0),
    ("limit_rate_mult", 0.0),
    ("cancel_rate_mult", 0.0),
    ("depth_pull_fraction", 1.0),
    ("depth_pull_fraction", -0.1),
    ("depth_pull_fraction", None),
]

BAD_REGIME = [
    ("mean_duration_s", 0.0),
    ("drift_bps_per_s", 200.0),
    ("vol_bps_per_sqrt_s", -1.0),
    ("limit_rate_mult", 0.0),
    ("cancel_rate_mult", 0.0),
    ("market_rate_mult", 0.0),
    ("informed_rate_mult", -1.0),
    ("weight", -1.0),
    ("weight", "heavy"),
    ("trend_flow_rate", -1.0),
    ("trend_flow_size_mean", 0.5),
]


def assert_names(err: pytest.ExceptionInfo, field: str, value: object) -> None:
    msg = str(err.value)
    assert f"{field}={value!r}" in msg, msg


@pytest.mark.parametrize("field, value", BAD_MARKET)
def test_market_bad_value(field, value):
    with pytest.raises(ConfigError) as err:
        MarketConfig(**{field: value})
    assert_names(err, field, value)
    with pytest.raises(ConfigError) as err:  # same through a mapping (YAML)
        MarketConfig.from_dict({field: value})
    assert_names(err, field, value)


@pytest.mark.parametrize("field, value", BAD_NEWS)
def test_news_bad_value(field, value):
    with pytest.raises(ConfigError) as err:
        NewsConfig(**{field: value})
    assert_names(err, field, value)
    with pytest.raises(ConfigError) as err:
        MarketConfig(news={field: value})
    assert_names(err, f"news.{field}", value)


@pytest.mark.parametrize("field, value", BAD_REGIME)
def test_regime_bad_value(field, value):
    with pytest.raises(ConfigError) as err:
        RegimeParams(**{field: value})
    assert_names(err, field, value)
    with pytest.raises(ConfigError) as err:
        MarketConfig(regimes={"high_vol": {field: value}})
    assert_names(err, f"regimes.high_vol.{field}", value)


def test_messages_give_the_allowed_range():
    with pytest.raises(ConfigError, match=r"latency_ms=-1\.0: allowed range is \[0\.0, 10000\.0\]"):
        MarketConfig(latency_ms=-1.0)
    with pytest.raises(ConfigError, match=r"initial_price/tick_size=200: allowed range"):
        MarketConfig(initial_price=10.0, tick_size=0.05)
    with pytest.raises(ConfigError, match="unknown regime; allowed are ranging"):
        MarketConfig(pin_regime="sideways")


def test_regime_table_errors():
    with pytest.raises(ConfigError, match=r"regimes='calm'"):
        MarketConfig(regimes="calm")
    with pytest.raises(ConfigError, match=r"regimes='sideways'"):
        MarketConfig(regimes={"sideways": {}})
    with pytest.raises(ConfigError, match=r"regimes\.ranging=5"):
        MarketConfig(regimes={"ranging": 5})
    zero = {
        name: {"weight": 0.0} for name in ("ranging", "trending_up", "trending_down", "high_vol")
    }
    with pytest.raises(ConfigError, match="weight"):
        MarketConfig(regimes=zero)
    # a partial mapping overrides only what it names
    cfg = MarketConfig(regimes={"high_vol": {"vol_bps_per_sqrt_s": 5.0}})
    assert cfg.regimes["high_vol"].vol_bps_per_sqrt_s == 5.0
    assert (
        cfg.regimes["high_vol"].market_rate_mult
        == MarketConfig().regimes["high_vol"].market_rate_mult
    )
    assert cfg.regimes["ranging"] == MarketConfig().regimes["ranging"]


def test_unknown_keys():
    with pytest.raises(ConfigError, match=r"^tick: unknown key for MarketConfig"):
        MarketConfig.from_dict({"tick": 0.01})
    with pytest.raises(ConfigError, match=r"^news\.rate: unknown key for NewsConfig"):
        MarketConfig.from_dict({"news": {"rate": 1.0}})
    with pytest.raises(ConfigError, match=r"^regimes\.ranging\.vol: unknown key"):
        MarketConfig.from_dict({"regimes": {"ranging": {"vol": 1.0}}})
    with pytest.raises(ConfigError, match=r"^drift: unknown key for RegimeParams"):
        RegimeParams.from_dict({"drift": 1.0})


def test_frozen_and_replace_validates():
    cfg = MarketConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.tick_size = 0.1  # type: ignore[misc]
    new = cfg.replace(latency_ms=10.0, news={"rate_per_hour": 0.0})
    assert new.latency_ms == 10.0 and new.news.rate_per_hour == 0.0
    assert new.news.jump_bps_mean == cfg.news.jump_bps_mean
    with pytest.raises(ConfigError, match=r"news\.duration_s=0\.0"):
        cfg.replace(news={"duration_s": 0.0})


def test_yaml_round_trip(tmp_path):
    cfg = MarketConfig(
        tick_size=0.01,
        initial_price=50.0,
        window_levels=64,
        initial_levels=10,
        limit_rate=7.5,
        pin_regime="trending_down",
        latency_ms=0.0,
        fill_log_capacity=100,
        news={"rate_per_hour": 4.0, "announced_fraction": 1.0},
        regimes={"high_vol": {"vol_bps_per_sqrt_s": 3.0, "weight": 0.3}},
    )
    path = tmp_path / "market.yaml"
    path.write_text(yaml.safe_dump(cfg.to_dict()))
    back = MarketConfig.from_yaml(path)
    assert back == cfg
    assert isinstance(back.news, NewsConfig)
    assert all(isinstance(r, RegimeParams) for r in back.regimes.values())
    # overrides merge into nested sections
    over = MarketConfig.from_yaml(path, news={"rate_per_hour": 0.0}, latency_ms=5.0)
    assert over.news.rate_per_hour == 0.0 and over.news.announced_fraction == 1.0
    assert over.latency_ms == 5.0 and over.tick_size == 0.01
    # a partial file keeps the defaults for the rest
    part = tmp_path / "part.yaml"
    part.write_text("latency_ms: 20\nnews:\n  rate_per_hour: 0\n")
    p = MarketConfig.from_yaml(part)
    assert p.latency_ms == 20 and p.news.rate_per_hour == 0 and p.tick_size == 0.05


def test_yaml_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        MarketConfig.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tick_size: [0.05\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        MarketConfig.from_yaml(bad)
    seq = tmp_path / "seq.yaml"
    seq.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        MarketConfig.from_yaml(seq)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("window_levels: 8\n")
    with pytest.raises(ConfigError, match="window_levels=8"):
        MarketConfig.from_yaml(wrong)


def _market_files() -> list[Path]:
    return sorted(CONFIGS.glob("*.yaml")) + sorted(CONFIGS.glob("*.yml"))


@pytest.mark.parametrize("path", _market_files() or [None], ids=lambda p: p.name if p else "none")
def test_shipped_market_configs_load_and_run(path):
    if path is None:
        pytest.skip("no configs/markets/*.yaml yet")
    data = yaml.safe_load(path.read_text()) or {}
    if "market" in data and isinstance(data["market"], dict):  # a file with sections
        cfg = MarketConfig.from_dict(data["market"])
    else:
        cfg = MarketConfig.from_yaml(path)
    sim = MarketSim(2, market=cfg, threads=1)
    sim.reset([0, 1])
    sim.advance(5.0, np.tile([1.0, 0.5, 1.0], (2, 1)))
    assert np.all(sim.time == 5.0)
