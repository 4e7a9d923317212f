"""A run's status file, resuming an unfinished run, the demo's own folder, the progress bar
without its optional packages, and the agents' commands without the agents extra."""

from __future__ import annotations

import json
import sys

import pytest
from stable_baselines3.common.callbacks import BaseCallback

from mm_gym.config import shipped_configs
from mm_gym.errors import RunError
from mm_gym_agents import train as train_module
from mm_gym_agents.demo import run_demo
from mm_gym_agents.run_dir import COMPLETE, INCOMPLETE, RunDir
from mm_gym_agents.train import train

from .conftest import tiny


class _Boom(BaseCallback):
    """Raises once training has passed ``at`` timesteps (a crash mid-run)."""

    def __init__(self, at: int, error: type[BaseException]) -> None:
        super().__init__()
        self.at, self.error = at, error

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.at:
            raise self.error("boom")
        return True


def _crash_after(monkeypatch, at: int, error: type[BaseException]) -> None:
    """Make the next ``train`` crash after ``at`` timesteps, inside SB3's learn loop."""
    from stable_baselines3.common.base_class import BaseAlgorithm

    original = BaseAlgorithm._init_callback

    def init_callback(self, callback, progress_bar=False):
        from stable_baselines3.common.callbacks import CallbackList

        return original(self, CallbackList([callback, _Boom(at, error)]), progress_bar)

    monkeypatch.setattr(BaseAlgorithm, "_init_callback", init_callback)


def _quiet(msg: str) -> None:
    pass


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_crashed_run_is_marked_incomplete_and_resume_finishes_it(tmp_path, monkeypatch, error):
    cfg = tiny(total_timesteps=256, checkpoint_freq=64)
    lines: list[str] = []
    with monkeypatch.context() as m:
        _crash_after(m, 150, error)
        with pytest.raises(error):
            train(cfg, run_name="r", runs_dir=tmp_path, progress_bar=False, log=lines.append)
    run = RunDir.open(tmp_path / "r")
    status = json.loads(run.status_path.read_text())
    assert status["state"] == INCOMPLETE and not run.is_complete
    assert status["reason"] == ("interrupted" if error is KeyboardInterrupt else "RuntimeError")
    assert status["last_checkpoint"] == 128
    assert not run.model_path("final").exists()
    assert any("--resume --run-name r" in line for line in lines)

    result = train(
        None, run_name="r", runs_dir=tmp_path, resume=True, progress_bar=False, log=_quiet
    )
    assert result.started_at == 128 and result.num_timesteps == 256
    assert run.status()["state"] == COMPLETE and run.model_path("final").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no second folder


def test_status_of_a_folder_without_status_file(tmp_path):
    run = RunDir.create(tmp_path, "old", tiny())
    run.status_path.unlink(missing_ok=True)
    assert run.status()["state"] == INCOMPLETE
    run.model_path("final").write_bytes(b"zip")
    assert run.status()["state"] == COMPLETE
    run.status_path.write_text("{not json")
    assert run.status()["state"] == INCOMPLETE


DEMO = {"timesteps": 512, "episodes": 1, "progress_bar": False, "env_overrides": {"session_s": 8}}


@pytest.mark.slow
def test_demo_reuses_a_finished_run_and_replaces_an_unfinished_one(tmp_path, monkeypatch):
    lines: list[str] = []
    with monkeypatch.context() as m:
        _crash_after(m, 100, RuntimeError)
        with pytest.raises(RuntimeError):
            run_demo(out=tmp_path, log=lines.append, **DEMO)
    run = RunDir.open(tmp_path / "demo_seed0")
    assert run.status()["state"] == INCOMPLETE

    lines.clear()
    report = run_demo(out=tmp_path, log=lines.append, **DEMO)
    assert report == tmp_path / "demo_seed0" / "report.md" and report.is_file()
    assert any("replacing the incomplete run" in line for line in lines)
    assert run.is_complete
    model = run.model_path("final").read_bytes()

    lines.clear()
    run_demo(out=tmp_path, log=lines.append, **DEMO)  # finished, same config: reused
    assert any("reusing the trained demo run" in line for line in lines)
    assert not any(line.startswith("training ") for line in lines)
    assert run.model_path("final").read_bytes() == model

    with pytest.raises(RunError, match="other settings.*--replace"):
        run_demo(out=tmp_path, log=_quiet, **{**DEMO, "timesteps": 1024})
    lines.clear()
    run_demo(out=tmp_path, log=lines.append, replace=True, **DEMO)
    assert any("replacing the demo run" in line for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo_seed0"]


def test_demo_refuses_a_folder_that_is_not_its_run(tmp_path):
    (tmp_path / "demo_seed0").mkdir()
    (tmp_path / "demo_seed0" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="not a demo run folder"):
        run_demo(out=tmp_path, log=_quiet, **DEMO)
    assert (tmp_path / "demo_seed0" / "notes.txt").read_text() == "mine"


def test_training_without_rich_turns_the_progress_bar_off_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "progress_bar_available", lambda: False)
    lines: list[str] = []
    result = train(tiny(total_timesteps=64), run_name="p", runs_dir=tmp_path, log=lines.append)
    assert result.run.is_complete
    said = [line for line in lines if "no progress bar" in line]
    assert len(said) == 1 and "mm-gym[agents]" in said[0]


def test_progress_bar_dependencies_are_installed():
    """The agents extra declares what SB3's progress bar imports."""
    assert train_module.progress_bar_available()


@pytest.mark.parametrize("missing", ["stable_baselines3", "torch"])
def test_agent_commands_without_the_extra_say_what_to_install(
    cli, capsys, monkeypatch, tmp_path, missing
):
    monkeypatch.chdir(tmp_path)
    for name in [m for m in sys.modules if m.split(".")[0] in (missing, "agents")]:
        if name not in ("agents", "mm_gym_agents.commands"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, missing, None)  # import raises ModuleNotFoundError
    assert cli("train", "--config", "ppo") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "pip install 'mm-gym[agents]'" in err and missing in err
    assert list(tmp_path.iterdir()) == []  # no run folder was made


def test_train_help_lists_the_shipped_configs(cli, capsys):
    with pytest.raises(SystemExit):
        cli("train", "--help")
    out = " ".join(capsys.readouterr().out.split())
    for name in shipped_configs("agents"):
        assert name in out
    assert "ppo" in shipped_configs("agents")
