"""Search spaces: parsing, one-line errors naming the parameter, paths into configs."""

from __future__ import annotations

import pytest

from mm_gym.config import resolve_config, shipped_configs
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError
from mm_gym.tuning.space import SearchSpace, get_path, set_path


def space(**entries) -> SearchSpace:
    return SearchSpace.from_mapping({k.replace("__", "."): v for k, v in entries.items()})


def test_the_shipped_spaces_parse_and_fit_their_configs():
    assert {"baseline", "ppo"} <= set(shipped_configs("spaces"))
    base = SearchSpace.from_yaml(resolve_config("spaces", "baseline"))
    assert "baseline.trending.size_fraction" in base.names
    base.check_against(EnvConfig().to_dict(), EnvConfig.from_dict)
    assert base.starting_values(EnvConfig().to_dict())["baseline.trending.spread_multiplier"] == 1.5
    ppo = SearchSpace.from_yaml(resolve_config("spaces", "ppo"))
    arch = next(p for p in ppo.params if p.name == "policy_kwargs.net_arch")
    assert arch.choices == ("small", "wide") and arch.config_value("wide")["pi"] == [256, 256]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"low": 1.0, "high": 1.0}, r"'strategy.trend_threshold': empty range \[1.0, 1.0\]"),
        ({"low": 2.0, "high": 1.0}, r"'strategy.trend_threshold': inverted range \[2.0, 1.0\]"),
        ({"low": 0.0, "high": 1.0, "log": True}, "log: true needs low > 0"),
        ({"low": 0.0, "high": 1.0, "step": 2.0}, r"step=2.0: allowed range is \(0, high - low\]"),
        ({"low": 0.5, "high": 3, "int": True}, r"low=0.5: expected a whole number"),
        ({"low": "a", "high": 1.0}, "low='a': expected a finite number"),
        ({"low": 1.0}, "needs both low and high"),
        ({"low": 0.0, "high": 1.0, "lo": 2}, "unknown key 'lo'"),
        ({"choices": []}, "empty list of choices"),
        ({"choices": [1, 1]}, "repeated choices"),
        ({"choices": [[1, 2]]}, "name structured values"),
        (3.0, r"expected a mapping \{low, high\} or \{choices\}"),
    ],
)
def test_bad_entries_are_one_line_errors_naming_the_parameter(entry, message):
    with pytest.raises(ConfigError, match=message) as err:
        SearchSpace.from_mapping({"strategy.trend_threshold": entry}, source="space.yaml")
    assert "\n" not in str(err.value) and str(err.value).startswith("space.yaml:")


def test_an_empty_space_and_bad_paths_are_errors():
    with pytest.raises(ConfigError, match="no parameters"):
        SearchSpace.from_mapping({})
    with pytest.raises(ConfigError, match="dotted path"):
        space(**{"strategy..x": {"low": 0.0, "high": 1.0}})
    base = EnvConfig().to_dict()
    bad = space(strategy__trend_treshold={"low": 0.5, "high": 1.0})
    with pytest.raises(ConfigError, match="'strategy.trend_treshold' at 0.5: .*unknown key"):
        bad.check_against(base, EnvConfig.from_dict)
    outside = space(baseline__normal__size_fraction={"low": 0.5, "high": 2.0})
    with pytest.raises(
        ConfigError, match=r"'baseline.normal.size_fraction' at 2.0: .*\[0.0, 1.0\]"
    ):
        outside.check_against(base, EnvConfig.from_dict)
    with pytest.raises(ConfigError, match="'spread' is not an index"):
        set_path(base, "baseline.normal.spread", 1.0)


def test_paths_reach_table_columns_and_create_missing_mapping_keys():
    data = {"baseline": {"normal": (1.0, 0.5, 1.0)}, "env": {}}
    set_path(data, "baseline.normal.inventory_skew", 0.9)
    set_path(data, "env.strategy.trend_threshold", 2.0)
    assert data == {
        "baseline": {"normal": [1.0, 0.9, 1.0]},
        "env": {"strategy": {"trend_threshold": 2.0}},
    }
    assert get_path(data, "baseline.normal.2") == 1.0
    assert get_path(data, "env.missing") is None


def test_sampled_values_go_into_a_copy_and_the_start_is_a_trial_when_inside():
    s = space(
        baseline__high_vol__spread_multiplier={"low": 1.0, "high": 3.0},
        strategy__high_volatility_bps={"low": 2.5, "high": 4.0},
    )
    base = EnvConfig().to_dict()
    out = s.apply(base, {"baseline.high_vol.spread_multiplier": 2.5})
    assert EnvConfig.from_dict(out).baseline.high_vol == (2.5, 1.0, 0.5)
    assert base["baseline"]["high_vol"] == [2.0, 1.0, 0.5]
    assert s.starting_values(base) is None  # high_volatility_bps 2.1 is below 2.5
    assert s.spec()["strategy.high_volatility_bps"] == {"low": 2.5, "high": 4.0}
