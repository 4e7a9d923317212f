"""``mm-gym watch``: the agent and the baseline side by side on one seed, as a video."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mm_gym import RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.rendering.frame import FRAME_SIZE
from mm_gym.rendering.video import mp4_available
from mm_gym_agents.watch import _frames, _Player


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_watch_writes_a_gif_of_both_policies_side_by_side(mm_run: Path, tmp_path: Path, cli):
    from PIL import Image

    out = tmp_path / "w.gif"
    assert cli("watch", mm_run, "--seconds", 5, "--episode-seed", 3, "--out", out) == 0
    assert out.stat().st_size > 0
    with Image.open(out) as im:
        assert im.size == (2 * FRAME_SIZE[0], FRAME_SIZE[1])
        assert im.n_frames == 6  # the start, then one per one-second decision step


@pytest.mark.skipif(not mp4_available(), reason="needs the [video] extra")
def test_watch_writes_an_mp4_by_default(mm_run: Path, cli, capsys):
    assert cli("watch", mm_run, "--seconds", 3, "--regime", "high_vol") == 0
    out = mm_run / "watch" / "final_seed2000000_high_vol.mp4"
    assert out.stat().st_size > 0
    assert str(out) in capsys.readouterr().out


@pytest.mark.slow
def test_both_policies_trade_the_same_market_path() -> None:
    config = EnvConfig(session_s=30.0)
    # seed 8: the baseline gets a fill within the 30 s (on seeds 3-6 neither policy does)
    players = [_Player(name, RuleBasedPolicy(config), config, 8) for name in ("a", "b")]
    players[1].policy = _Wide()
    regimes: list[list[str]] = [[], []]
    for frame in _frames(players, 30):
        assert frame.shape == (FRAME_SIZE[1], 2 * FRAME_SIZE[0], 3)
        for k, player in enumerate(players):
            regimes[k].append(player.info["regime"])
    assert regimes[0] == regimes[1]
    assert players[0].info["equity"] != players[1].info["equity"]  # different policies


class _Wide:
    """Quotes at the widest spread and the smallest size of the range."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return np.tile(np.array([1.0, -1.0, -0.5], np.float32), (len(obs), 1)), state


def test_unknown_regime_is_a_one_line_error(mm_run: Path, tmp_path: Path, cli, capsys):
    assert cli("watch", mm_run, "--regime", "sideways", "--out", tmp_path / "w.gif") == 2
    err = one_line_error(capsys)
    assert "--regime" in err and "sideways" in err and "ranging" in err


def test_run_folder_without_a_model_is_a_one_line_error(mm_run: Path, tmp_path, cli, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(mm_run / "config.yaml", bare / "config.yaml")
    assert cli("watch", bare, "--out", tmp_path / "w.gif") == 2
    err = one_line_error(capsys)
    assert "final_model.zip" in err and "no such file" in err
    assert cli("watch", tmp_path / "nowhere", "--out", tmp_path / "w.gif") == 2
    assert "no such folder" in one_line_error(capsys)


def test_unwritable_out_is_a_one_line_error(mm_run: Path, tmp_path: Path, cli, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert cli("watch", mm_run, "--out", blocker / "w.gif") == 2
    assert "is not a folder" in one_line_error(capsys)
    assert cli("watch", mm_run, "--out", tmp_path / "w.avi") == 2
    assert "expected a .mp4 or .gif" in one_line_error(capsys)


def test_mp4_without_its_writer_names_what_to_install(mm_run, tmp_path, cli, capsys, monkeypatch):
    import mm_gym.rendering.video as video

    monkeypatch.setattr(video, "mp4_available", lambda: False)
    assert cli("watch", mm_run, "--out", tmp_path / "w.mp4") == 2
    assert "pip install 'mm-gym[video]'" in one_line_error(capsys)


def test_avellaneda_stoikov_runs_are_refused(as_run: Path, tmp_path: Path, cli, capsys):
    assert cli("watch", as_run, "--out", tmp_path / "w.gif") == 2
    assert "MarketMaking-v0" in one_line_error(capsys)
