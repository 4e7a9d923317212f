"""Rule makers competing in one book: the table's figures add up, and more makers split the
flow."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.errors import ConfigError
from mm_gym.evaluation.competition import COMPETITION_COLUMNS, competition


@pytest.fixture(scope="module")
def table():
    return competition(makers=(1, 4), books=6, hours=0.1, seed=3)


def test_the_makers_earn_what_the_takers_lose_less_their_fees(table):
    lhs = table["makers_pnl_per_h"]
    rhs = table["takers_cost_per_h"] - table["makers_fees_per_h"]
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(table["makers_pnl_per_h"], table["maker_pnl_per_h"] * table.index)


def test_quotes_never_widen_the_inside_spread_and_more_makers_split_the_fills(table):
    assert (table["inside_spread_bps"] <= table["background_spread_bps"] + 1e-12).all()
    assert table.at[4, "maker_fills_per_h"] < table.at[1, "maker_fills_per_h"]
    assert table.at[4, "makers_volume_per_h"] > table.at[1, "makers_volume_per_h"]
    assert (table["maker_spread_captured_per_h"] > 0).all()  # quotes fill away from the mid
    assert list(table.columns) == [*COMPETITION_COLUMNS, *(c + "_se" for c in COMPETITION_COLUMNS)]
    assert (table.filter(like="_se") >= 0).all().all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"makers": (0,)}, r"makers=0: expected integers from 1 to 8"),
        ({"makers": (9,)}, r"makers=9"),
        ({"books": 1}, r"books=1: expected an integer >= 2"),
        ({"hours": 0.0}, r"hours=0.0: expected a number of hours >= 1/60"),
        ({"hours": float("nan")}, r"hours=nan"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        competition(**kwargs)


def test_play_books_with_the_rule_policy_is_the_rule_in_the_seat():
    from mm_gym.envs.baseline_policy import RuleBasedPolicy
    from mm_gym.envs.multi_maker import MultiMakerConfig
    from mm_gym.evaluation.competition import play_books

    cfg = MultiMakerConfig(session_s=120.0, makers={"n_makers": 3, "rivals": ["document", "tuned"]})
    rule = play_books(cfg, [5, 6, 7])
    same = play_books(cfg, [5, 6, 7], RuleBasedPolicy(cfg))
    np.testing.assert_array_equal(rule.seat_return, same.seat_return)
    np.testing.assert_array_equal(rule.rival_pnl, same.rival_pnl)
    assert np.isfinite(rule.rival_return).all() and rule.seeds.tolist() == [5, 6, 7]
    with pytest.raises(ConfigError, match=r"seeds=\[\]: expected a non-empty list"):
        play_books(cfg, [])
