"""Bad input to ``mm-gym tune``: one line on stderr, exit status 2, an existing study as it
was. Also: ``mm_gym`` and its commands import without Optuna."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import optuna
import pytest
import yaml

from mm_gym import cli
from mm_gym.tuning.study import default_storage, engine_url
from tests.tuning.conftest import REPO, free_port

TINY = ["--episodes", "2", "--holdout-episodes", "0", "--no-progress", "--seed", "0"]


@pytest.fixture
def tiny_env(tmp_path: Path) -> Path:
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump({"session_s": 30.0}))
    return path


def tune(capsys, *argv) -> tuple[int, str]:
    """``mm-gym tune ARGV`` in this process: (exit status, stderr)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = cli.main(["tune", *map(str, argv)])
    return rc, capsys.readouterr().err


def one_line_error(rc: int, err: str, *fragments: str) -> None:
    assert rc == 2, err
    assert err.startswith("mm-gym tune: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


def snapshot(storage: str, name: str) -> str:
    study = optuna.load_study(study_name=name, storage=engine_url(storage))
    trials = [(t.number, t.state.name, t.value, t.params) for t in study.trials]
    return json.dumps([study.direction.name, study.user_attrs, trials], default=str)


def test_unknown_sampler_pruner_and_bad_numbers_touch_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    one_line_error(*tune(capsys, "baseline", "--sampler", "grid", "--out", out), "'tpe', 'cmaes'")
    one_line_error(*tune(capsys, "agent", "--config", "ppo", "--pruner", "hyperband"), "'median'")
    one_line_error(*tune(capsys, "baseline", "--trials", "0", "--out", out), "--trials=0")
    one_line_error(*tune(capsys, "baseline", "--timeout", "-1", "--out", out), "--timeout")
    assert not out.exists()


def test_unreachable_or_unknown_storage(tmp_path, capsys):
    url = f"postgresql://mm:secret@127.0.0.1:{free_port()}/studies"
    rc, err = tune(capsys, "baseline", "--storage", url, "--out", tmp_path / "o", *TINY)
    one_line_error(rc, err, "cannot open it", "127.0.0.1")
    assert "secret" not in err
    one_line_error(*tune(capsys, "baseline", "--storage", "nosuch://x", *TINY), "nosuch://x")


def test_a_space_with_an_inverted_range_names_the_parameter(tmp_path, capsys, tiny_env):
    bad = tmp_path / "space.yaml"
    bad.write_text("strategy.trend_threshold: {low: 2.0, high: 0.5}\n")
    rc, err = tune(capsys, "baseline", "--space", bad, "--env-config", tiny_env, *TINY)
    one_line_error(rc, err, "'strategy.trend_threshold': inverted range [2.0, 0.5]")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_study_with_another_direction_or_space_is_left_as_it_was(
    kind, tmp_path, capsys, tiny_env, request
):
    out = tmp_path / "out"
    out.mkdir()
    pg = kind == "postgresql"
    storage = request.getfixturevalue("postgres_url") if pg else default_storage(out)
    name = f"mismatch-{kind}-{os.getpid()}"
    args = ["baseline", "--env-config", tiny_env, "--out", out, "--storage", storage]
    args += ["--study", name, "--trials", "2", *TINY]
    assert tune(capsys, *args)[0] == 0
    before = snapshot(storage, name)
    # another search space under the same name
    space = tmp_path / "space.yaml"
    space.write_text("baseline.normal.spread_multiplier: {low: 0.5, high: 2.0}\n")
    rc, err = tune(capsys, *args, "--space", space, "--trials", "4")
    one_line_error(rc, err, f"study '{name}' exists with another search space", "left as it was")
    # another setup: more training seeds
    rc, err = tune(capsys, *args, "--episodes", "3", "--trials", "4")
    one_line_error(rc, err, "train_seeds")
    assert snapshot(storage, name) == before
    # a study made elsewhere that minimises
    other = f"{name}-min"
    optuna.create_study(storage=engine_url(storage), study_name=other, direction="minimize")
    rc, err = tune(capsys, "baseline", "--out", out, "--storage", storage, "--study", other, *TINY)
    one_line_error(rc, err, f"study '{other}' exists with direction minimize, not maximize")
    assert optuna.load_study(study_name=other, storage=engine_url(storage)).trials == []


def test_mm_gym_and_the_tune_command_import_without_optuna():
    code = (
        "import sys; import mm_gym.cli as c; c.build_parser(); "
        "import mm_gym.tuning.space, mm_gym.tuning.study, mm_gym.tuning.report, "
        "mm_gym.tuning.baseline; "
        "assert 'optuna' not in sys.modules, 'optuna imported'; "
        "assert 'torch' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)


def test_without_optuna_the_command_says_what_to_install(tmp_path, capsys, monkeypatch, tiny_env):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna -> ModuleNotFoundError
    rc, err = tune(capsys, "baseline", "--env-config", tiny_env, "--out", tmp_path / "o", *TINY)
    one_line_error(rc, err, "pip install 'mm-gym[tune]'")
