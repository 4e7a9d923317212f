"""``run_episodes`` (the shared evaluation loop) and the ``mm-gym backtest`` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mm_gym import cli
from mm_gym.envs.baseline_policy import RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.evaluation.episodes import EPISODE_COLUMNS, confusion_matrix, run_episodes
from mm_gym.market.config import MarketConfig
from mm_gym.market.regimes import LABEL_NAMES
from mm_gym.strategy.config import StrategyConfig

SHORT = EnvConfig(session_s=60.0)


@pytest.fixture(scope="module")
def short_run():
    return run_episodes(RuleBasedPolicy(SHORT), SHORT, [11, 12, 13], record_paths=True)


# ----------------------------------------------------------------------------- run_episodes
def test_episode_table(short_run):
    ep = short_run.episodes
    assert list(ep.columns) == list(EPISODE_COLUMNS)
    assert ep["seed"].tolist() == [11, 12, 13]
    assert (ep["steps"] == 60).all() and not ep["daily_stop"].any()
    paths = short_run.paths
    assert paths["equity"].shape == (3, 60)
    assert ep["pnl"].to_numpy() == pytest.approx(paths["equity"][:, -1])
    assert ep["episode_return"].to_numpy() == pytest.approx(paths["reward"].sum(axis=1))
    assert ep["fills"].to_numpy() == pytest.approx(paths["fills"].sum(axis=1))
    assert (ep["fills"] >= ep["maker_fills"]).all()
    assert ((ep["time_quoting"] >= 0) & (ep["time_quoting"] <= 1)).all()
    assert (ep["max_drawdown"] >= 0).all()
    assert (ep["inventory_max_abs"] <= SHORT.strategy.max_inventory).all()
    assert paths["time"][0, :3] == pytest.approx([1.0, 2.0, 3.0])


def test_paths_hold_the_chosen_params_and_quotes(short_run):
    paths = short_run.paths
    policy = RuleBasedPolicy(SHORT)
    assert set(np.unique(paths["regime"])) <= set(range(len(LABEL_NAMES)))
    # the baseline's parameters are its table's, for the regime it detected
    normal = paths["detected_regime"] == 0
    assert paths["spread_multiplier"][normal] == pytest.approx(1.0, abs=1e-6)
    assert paths["size_fraction"][normal] == pytest.approx(1.0, abs=1e-6)
    quoting = np.isfinite(paths["bid_quote"]) & np.isfinite(paths["ask_quote"])
    assert quoting.any()
    assert (paths["bid_quote"][quoting] < paths["ask_quote"][quoting]).all()
    assert policy.config is SHORT


def test_per_regime_table_adds_up(short_run):
    pr = short_run.per_regime
    assert list(pr.index) == list(LABEL_NAMES)
    assert pr["time_share"].sum() == pytest.approx(1.0)
    assert pr["pnl"].sum() == pytest.approx(short_run.episodes["pnl"].mean())
    assert pr["fills"].sum() == pytest.approx(short_run.episodes["fills"].mean())
    assert pr["steps"].sum() == 3 * 60


def test_confusion_matrix(short_run):
    cm = confusion_matrix(short_run.paths)
    assert list(cm.index) == [*LABEL_NAMES, "all"]
    assert cm.loc["all", "total"] == 3 * 60
    assert 0.0 <= cm.attrs["accuracy"] <= 1.0
    body = cm.loc[list(LABEL_NAMES), list(LABEL_NAMES)].to_numpy()
    assert cm.attrs["accuracy"] == pytest.approx(np.trace(body) / body.sum())
    paths = {
        "regime": np.array([[0, 0, 3, 4, -1]]),
        "detected_regime": np.array([[0, 3, 3, 0, -1]]),
    }
    small = confusion_matrix(paths)
    assert small.loc["ranging", "accuracy"] == 0.5 and small.loc["news", "accuracy"] == 0.0
    assert small.attrs["accuracy"] == 0.5


def test_runs_are_reproducible_and_markets_independent(short_run):
    again = run_episodes(RuleBasedPolicy(SHORT), SHORT, [12])
    row = short_run.episodes.iloc[[1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(again.episodes, row)
    assert again.paths is None and again.fills is None


def test_early_termination_stops_accumulating():
    # a tiny capital: the daily stop (5%) is a loss of 0.05
    cfg = EnvConfig(
        session_s=120.0,
        strategy=StrategyConfig(capital=1.0),
        market=MarketConfig(fill_log_capacity=500),
    )
    res = run_episodes(RuleBasedPolicy(cfg), cfg, [0, 1, 2, 3], record_paths=True)
    ep = res.episodes
    stopped = ep["daily_stop"].to_numpy()
    assert stopped.any()
    steps = ep["steps"].to_numpy()
    assert (steps[stopped] < 120).all() and (steps[~stopped] == 120).all()
    for i in np.flatnonzero(stopped):
        m = steps[i]
        assert ep["pnl"][i] == pytest.approx(res.paths["equity"][i, m - 1])
        assert np.isnan(res.paths["equity"][i, m:]).all()
        assert (res.paths["regime"][i, m:] == -1).all()
        assert (res.fills[i]["time"] <= m * 1.0 + 1e-9).all()
    assert res.per_regime["steps"].sum() == steps.sum()
    assert len(res.fills) == 4 and sum(len(f) for f in res.fills) == ep["fills"].sum()


class RecordingPolicy:
    """A recurrent-style policy: checks that state and episode_start pass through."""

    def __init__(self):
        self.starts = []
        self.states = []

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        self.starts.append(np.asarray(episode_start).copy())
        self.states.append(state)
        n = observation.shape[0]
        return np.zeros((n, 3), dtype=np.float32), (0 if state is None else state + 1)


def test_recurrent_state_and_episode_start_pass_through():
    cfg = EnvConfig(session_s=5.0)
    policy = RecordingPolicy()
    run_episodes(policy, cfg, [1, 2])
    assert policy.starts[0].tolist() == [True, True]
    assert all(not s.any() for s in policy.starts[1:])
    assert policy.states == [None, 0, 1, 2, 3]


def test_run_episodes_rejects_bad_input():
    from mm_gym.errors import ConfigError

    with pytest.raises(ConfigError, match="seeds"):
        run_episodes(RuleBasedPolicy(SHORT), SHORT, [])
    with pytest.raises(ConfigError, match="predict"):
        run_episodes(object(), SHORT, [1])


# ----------------------------------------------------------------------------- CLI
@pytest.fixture
def main():
    """``cli.main``: the env's commands and those of installed packages."""
    return cli.main


def test_backtest_writes_its_files(main, tmp_path, capsys):
    out = tmp_path / "bt"
    rc = main(
        ["backtest", "--episodes", "2", "--session-s", "120", "--seed", "5", "--out", str(out)]
    )
    assert rc == 0
    for name in (
        "config.yaml",
        "episodes.csv",
        "per_regime.csv",
        "confusion.csv",
        "summary.md",
        "equity.png",
        "inventory.png",
        "quotes.png",
        "regimes.png",
        "params.png",
    ):
        assert (out / name).stat().st_size > 0, name
    printed = capsys.readouterr().out
    assert "PnL" in printed and "detector accuracy" in printed and str(out) in printed
    episodes = pd.read_csv(out / "episodes.csv")
    assert episodes["seed"].tolist() == [5, 6] and (episodes["steps"] == 120).all()
    # the written config is the resolved one and loads back
    cfg = EnvConfig.from_yaml(out / "config.yaml")
    assert cfg.session_s == 120.0 and cfg.market.pin_regime is None
    confusion = pd.read_csv(out / "confusion.csv", index_col=0)
    assert confusion.loc["all", "total"] == 240


def test_backtest_with_a_config_file_and_a_pinned_regime(main, tmp_path):
    cfg_file = tmp_path / "env.yaml"
    cfg_file.write_text("session_s: 30\nstrategy:\n  quote_size: 3\n")
    out = tmp_path / "bt"
    rc = main(
        [
            "backtest",
            "--config",
            str(cfg_file),
            "--episodes",
            "1",
            "--regime",
            "high_vol",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    cfg = EnvConfig.from_yaml(out / "config.yaml")
    assert cfg.session_s == 30 and cfg.strategy.quote_size == 3
    assert cfg.market.pin_regime == "high_vol"
    per_regime = pd.read_csv(out / "per_regime.csv", index_col=0)
    assert per_regime.loc[["ranging", "trending_up", "trending_down"], "steps"].sum() == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--regime", "sideways"], "--regime='sideways': unknown regime"),
        (["--episodes", "0"], "--episodes=0"),
        (["--episodes", "many"], "--episodes='many'"),
        (["--session-s", "-5"], "--session-s"),
        (["--config", "no/such/file.yaml"], "no such file"),
        (["--param-noise", "0.1,0.1"], "--param-noise='0.1,0.1': expected three numbers"),
        (["--param-noise", "0.1,-1,0"], "--param-noise inventory_skew='-1'"),
        (["--param-noise", "x,0,0"], "--param-noise spread_multiplier='x'"),
    ],
)
def test_backtest_bad_input_is_one_line_and_exit_2(main, tmp_path, capsys, args, message):
    out = tmp_path / "bt"
    assert main(["backtest", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("mm-gym backtest: error:")
    assert not out.exists()  # nothing written


def test_backtest_with_parameter_noise(main, tmp_path, capsys):
    args = ["backtest", "--episodes", "2", "--session-s", "60", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "plain")]) == 0
    assert main([*args, "--param-noise", "0,0,0", "--out", str(tmp_path / "zero")]) == 0
    assert main([*args, "--param-noise", "0.5,0.2,0.2", "--out", str(tmp_path / "noisy")]) == 0
    printed = capsys.readouterr().out
    assert "sd: spread_multiplier 0.5, inventory_skew 0.2, size_fraction 0.2" in printed
    assert "objective (episode return)" in printed
    plain, zero, noisy = (
        pd.read_csv(tmp_path / name / "episodes.csv") for name in ("plain", "zero", "noisy")
    )
    pd.testing.assert_frame_equal(plain, zero)  # no noise: the baseline exactly
    assert not plain["fills"].equals(noisy["fills"])
    assert "--param-noise 0.5,0.2,0.2" in (tmp_path / "noisy" / "summary.md").read_text()


def test_backtest_refuses_a_non_empty_output_folder(main, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["backtest", "--episodes", "1", "--session-s", "5", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an empty folder" in err
    assert (tmp_path / "keep.txt").read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["backtest", "--episodes", "1", "--session-s", "5", "--out", str(empty)]) == 0


# ----------------------------------------------------------------------------- YAML configs
def test_shipped_configs_load():
    from mm_gym.config import SHIPPED_CONFIGS as root

    assert EnvConfig.from_yaml(root / "envs" / "default.yaml") == EnvConfig(), (
        "the shipped envs/default.yaml must match the EnvConfig defaults"
    )
    assert MarketConfig.from_yaml(root / "markets" / "default.yaml") == MarketConfig()
    for regime in ("ranging", "trending_up", "trending_down", "high_vol"):
        cfg = MarketConfig.from_yaml(root / "markets" / f"{regime}.yaml")
        assert cfg.pin_regime == regime
        assert cfg == MarketConfig(pin_regime=regime)
        env = EnvConfig(market=cfg)  # usable as an env's market
        assert env.market.pin_regime == regime


# ----------------------------------------------------------------------------- recordings
def test_backtest_on_a_recording_writes_no_regime_tables(main, tmp_path, capsys, recordings):
    out = tmp_path / "bt"
    argv = ["backtest", "--data", str(recordings["GOOG"]), "--episodes", "2", "--out", str(out)]
    assert main([*argv, "--session-s", "40", "--shares-per-lot", "50"]) == 0
    printed = capsys.readouterr().out
    assert "of the recording" in printed and "no market impact, regimes unknown" in printed
    assert "detector accuracy" not in printed
    assert not (out / "per_regime.csv").exists() and not (out / "confusion.csv").exists()
    assert "Unknown on a recording" in (out / "summary.md").read_text()
    cfg = EnvConfig.from_yaml(out / "config.yaml")
    assert cfg.data == str(recordings["GOOG"]) and cfg.shares_per_lot == 50.0
    assert "--shares-per-lot 50" in (out / "config.yaml").read_text()
    assert len(pd.read_csv(out / "episodes.csv")) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shares-per-lot", "100"], "--shares-per-lot: needs --data"),
        (["--data", "{GOOG}", "--shares-per-lot", "0"], "--shares-per-lot='0': expected a size"),
        (["--data", "{GOOG}", "--regime", "high_vol"], "market.pin_regime='high_vol' with data="),
        (["--data", "no/such.parquet"], "data='no/such.parquet': no such file"),
    ],
)
def test_backtest_on_a_recording_bad_input(main, tmp_path, capsys, recordings, args, message):
    out = tmp_path / "bt"
    args = [a.format(GOOG=recordings["GOOG"]) for a in args]
    assert main(["backtest", "--out", str(out), "--session-s", "30", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()
