"""rl_zoo3 trains on ``mm_gym/MarketMaking-v0`` and records a video of the trained model.

rl_zoo3 is not a dependency of mm_gym: the test runs where it is installed.
``rl_zoo3.record_video`` has no ``--gym-packages`` option, so the ids are registered by
importing mm_gym before running it (the command in the README).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("rl_zoo3")

REPO = Path(__file__).resolve().parents[2]
HYPERPARAMS = """\
mm_gym/MarketMaking-v0:
  n_envs: 2
  n_timesteps: 128
  policy: MlpPolicy
  n_steps: 32
  batch_size: 32
  n_epochs: 1
  normalize: true
  policy_kwargs: "dict(net_arch=[16, 16])"
"""
RECORD = "import mm_gym, runpy; runpy.run_module('rl_zoo3.record_video', run_name='__main__')"


@pytest.mark.slow
def test_record_video_of_a_zoo_trained_model(tmp_path: Path) -> None:
    (tmp_path / "hp.yml").write_text(HYPERPARAMS)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    common = ["--algo", "ppo", "--env", "mm_gym/MarketMaking-v0", "-f", "logs"]
    train = [sys.executable, "-m", "rl_zoo3.train", *common, "--gym-packages", "mm_gym"]
    train += ["-conf", "hp.yml", "--env-kwargs", "session_s:16.0", "--seed", "0"]
    train += ["--eval-freq", "-1", "--num-threads", "1"]
    subprocess.run(train, cwd=tmp_path, env=env, check=True, capture_output=True)
    record = [sys.executable, "-c", RECORD, *common, "--exp-id", "1", "-n", "20", "-o", "videos"]
    subprocess.run(record, cwd=tmp_path, env=env, check=True, capture_output=True)
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0
