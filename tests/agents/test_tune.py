"""``mm-gym tune agent``: trials train tiny agents, report held-out paired differences to the
pruner, and the best trial comes out as an agent YAML that ``mm-gym train --config`` takes."""

from __future__ import annotations

import warnings

import optuna
import pytest

from mm_gym.config import resolve_config
from mm_gym.evaluation.seeds import EVAL_SEED_BASE
from mm_gym.tuning.space import SearchSpace
from mm_gym.tuning.study import default_storage
from mm_gym_agents.config import AgentConfig
from tests.agents.conftest import tiny, write_yaml

pytest.importorskip("optuna")

SPACE = {
    "hyperparameters.learning_rate": {"low": 1.0e-4, "high": 1.0e-3, "log": True},
    "hyperparameters.n_epochs": {"low": 1, "high": 3, "int": True},
    "policy_kwargs.net_arch": {"choices": {"two": [16, 16], "one": [8]}},
}


def test_the_shipped_ppo_space_fits_the_shipped_ppo_configs():
    space = SearchSpace.from_yaml(resolve_config("spaces", "ppo"))
    for name in ("ppo", "ppo_residual"):
        config = AgentConfig.from_yaml(resolve_config("agents", name))
        space.check_against(config.to_dict(), AgentConfig.from_dict)


def mm_gym(*argv) -> int:
    """``mm-gym ARGV`` in this process, every command available."""
    from mm_gym import cli

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cli.main([str(a) for a in argv])


def test_a_tiny_agent_study_exports_a_trainable_config(tmp_path):
    config = tiny(total_timesteps=5_000, eval_freq=1_000)
    config_path = write_yaml(tmp_path / "tiny.yaml", config.to_dict())
    space_path = write_yaml(tmp_path / "space.yaml", SPACE)
    out = tmp_path / "study"
    rc = mm_gym(
        "tune", "agent", "--config", config_path, "--space", space_path, "--timesteps", 128,
        "--eval-every", 64, "--eval-episodes", 2, "--trials", 3, "--out", out, "--seed", 0,
        "--no-progress",
    )  # fmt: skip
    assert rc == 0
    study = optuna.load_study(study_name="agent-ppo", storage=default_storage(out))
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 3  # the median pruner waits for 5 trials before it prunes
    for trial in complete:
        assert sorted(trial.intermediate_values) == [64, 128]
        assert trial.value == pytest.approx(trial.intermediate_values[128])
        assert trial.user_attrs["episodes"] == 2
        assert (out / "trials" / f"trial_{trial.number:04d}" / "final_model.zip").is_file()
    setup = study.user_attrs["setup"]
    assert setup["eval_seeds"] == [EVAL_SEED_BASE, 2]
    assert setup["objective"] == "mean paired episode_return: agent - baseline"

    best = AgentConfig.from_yaml(out / "best_agent.yaml")
    params = study.best_trial.params
    assert best.hyperparameters["learning_rate"] == pytest.approx(
        params["hyperparameters.learning_rate"]
    )
    assert best.hyperparameters["n_epochs"] == params["hyperparameters.n_epochs"]
    assert (
        best.policy_kwargs["net_arch"]
        == SPACE["policy_kwargs.net_arch"]["choices"][params["policy_kwargs.net_arch"]]
    )
    assert best.total_timesteps == 5_000 and best.eval_freq == 1_000  # the config's own
    searched = ("hyperparameters", "policy_kwargs")
    unchanged = {k: v for k, v in best.to_dict().items() if k not in searched}
    assert unchanged == {k: v for k, v in config.to_dict().items() if k not in searched}
    assert best.hyperparameters["n_steps"] == config.hyperparameters["n_steps"]
    assert (out / "report.md").is_file() and (out / "history.png").is_file()
    assert (
        mm_gym(
            "train",
            "--config",
            out / "best_agent.yaml",
            "--timesteps",
            64,
            "--runs-dir",
            tmp_path / "runs",
            "--no-progress",
        )
        == 0
    )
