"""Training on MultiMaker-v0 and ``mm-gym compare`` of its runs: a learner against the rule
maker of its book, and against the document's table in its own seat."""

from __future__ import annotations

import pandas as pd
import pytest

from mm_gym import cli
from mm_gym.config import resolve_config
from mm_gym.errors import ConfigError
from mm_gym_agents.config import AgentConfig
from mm_gym_agents.train import train

SMALL = {
    "n_envs": 8,
    "total_timesteps": 256,
    "hyperparameters": {"n_steps": 16, "batch_size": 64, "n_epochs": 1},
    "policy_kwargs": {"net_arch": [8]},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name in ("multi_maker", "multi_maker_self_play"):
        cfg = AgentConfig.from_yaml(
            resolve_config("agents", name), **SMALL, env={"session_s": 30.0}
        )
        paths = []
        for seed in (0, 1):
            result = train(
                cfg.replace(seed=seed),
                runs_dir=root,
                run_name=f"{name}_s{seed}",
                progress_bar=False,
                log=lambda _: None,
            )
            paths.append(result.run.path)
        out[name] = paths
    return out


def test_compare_scores_runs_against_the_rule_maker(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", *map(str, runs["multi_maker"]), "--episodes", "3", "--out", str(out)]
    assert cli.main(argv) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary["comparison"].tolist() == ["learner - rival", "learner - rule in its seat"]
    assert (summary["runs"] == 2).all() and (summary["n"] == 6).all()
    episodes = pd.read_csv(out / "episodes.csv")
    assert len(episodes) == 6 and set(episodes["run"]) == {"multi_maker_s0", "multi_maker_s1"}
    # each run its own block of development seeds
    assert episodes.groupby("run")["seed"].min().nunique() == 2
    printed = capsys.readouterr().out
    assert "learner - rule in its seat:" in printed and "report:" in printed


def test_self_play_runs_are_scored_beside_a_rule_maker(runs, tmp_path):
    out = tmp_path / "sp"
    argv = [
        "compare",
        *map(str, runs["multi_maker_self_play"]),
        "--episodes",
        "2",
        "--out",
        str(out),
    ]
    assert cli.main(argv) == 0
    report = (out / "report.md").read_text()
    assert "trained with makers {'n_makers': 2, 'agents': 2" in report
    assert "the rivals ['document']" in report


def test_single_maker_options_are_refused_for_multi_maker_runs(runs, capsys, tmp_path):
    argv = ["compare", str(runs["multi_maker"][0]), "--baseline", "tuned", "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    assert "--baseline: not for MultiMaker-v0 runs" in capsys.readouterr().err


def test_no_evaluation_callback_on_multi_maker():
    with pytest.raises(ConfigError, match=r"eval_freq=1000: MultiMaker-v0 has no held-out"):
        AgentConfig.from_yaml(resolve_config("agents", "multi_maker"), eval_freq=1000)
