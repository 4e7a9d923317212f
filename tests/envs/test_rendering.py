"""Rendering of ``MarketMaking-v0``: RGB frames, the text ladder, videos; and nothing at all
when no ``render_mode`` is set."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mm_gym import ConfigError, RuleBasedPolicy
from mm_gym.envs.market_making import MarketMakingEnv, MarketMakingVectorEnv
from mm_gym.rendering.frame import FRAME_SIZE
from mm_gym.rendering.snapshot import RENDER_FPS, History
from mm_gym.rendering.video import check_video_path, mp4_available, write_video

ENV_ID = "mm_gym/MarketMaking-v0"
SHORT = {"session_s": 20.0}
FRAME_SHAPE = (FRAME_SIZE[1], FRAME_SIZE[0], 3)
REPO = Path(__file__).resolve().parents[2]


def baseline_run(env: gym.Env, steps: int, seed: int = 0) -> list:
    """Reset with ``seed`` and step the rule baseline; render after every reset and step."""
    policy = RuleBasedPolicy(env.unwrapped.config)
    obs, _ = env.reset(seed=seed)
    out = [env.render()]
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(policy.predict(obs)[0])
        out.append(env.render())
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(env.render())
    return out


@pytest.mark.parametrize("mode", [None, "rgb_array", "ansi"])
def test_gymnasium_env_checker_in_each_render_mode(mode: str | None) -> None:
    env = gym.make(ENV_ID, render_mode=mode, **SHORT).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert [str(w.message) for w in caught if issubclass(w.category, UserWarning)] == []
    env.close()


def test_metadata_declares_the_modes_and_fps() -> None:
    for cls in (MarketMakingEnv, MarketMakingVectorEnv):
        assert cls.metadata["render_modes"] == ["rgb_array", "ansi"]
        assert cls.metadata["render_fps"] == RENDER_FPS


@pytest.mark.slow
def test_rgb_frames_keep_shape_and_dtype_across_steps_and_episodes() -> None:
    env = gym.make(ENV_ID, render_mode="rgb_array", session_s=30.0)
    frames = baseline_run(env, 45)  # crosses an episode end and a reset
    assert len(frames) == 47
    for frame in frames:
        assert isinstance(frame, np.ndarray)
        assert frame.shape == FRAME_SHAPE and frame.dtype == np.uint8
    # the picture changes as the market moves, and frames are not one reused buffer
    assert not np.array_equal(frames[1], frames[30])
    assert frames[0] is not frames[1]
    env.close()


def test_ansi_ladder_shows_book_quotes_account_and_hidden_regime() -> None:
    env = gym.make(ENV_ID, render_mode="ansi", **SHORT)
    texts = baseline_run(env, 10)
    assert all(isinstance(t, str) for t in texts)
    last = texts[-1]
    lines = last.splitlines()
    assert lines[0].startswith("MarketMaking-v0 | t 10/20 s")
    assert "(true, hidden from the agent)" in lines[0]
    assert "bid" in lines[1] and "price" in lines[1] and "ask" in lines[1]
    assert lines[-2].startswith("equity ") and "soft 25, hard 50" in lines[-2]
    assert lines[-1].startswith("spread x")
    # some step of the baseline rests a quote: the ladder marks it with its queue position
    assert any("you " in t and " ahead)" in t for t in texts)


def test_no_render_mode_keeps_no_view_and_renders_none() -> None:
    env = MarketMakingEnv(**SHORT)
    assert env.render_mode is None and env.view is None
    env.reset(seed=0)
    env.step(env.action_space.sample())
    assert env.render() is None
    venv = MarketMakingVectorEnv(num_envs=2, **SHORT)
    assert venv.view is None and venv.render() is None


def test_a_run_without_render_mode_imports_no_drawing_code() -> None:
    code = textwrap.dedent(
        """
        import sys
        import gymnasium as gym
        import mm_gym
        env = gym.make("mm_gym/MarketMaking-v0", session_s=5.0)
        env.reset(seed=0)
        for _ in range(5):
            env.step(env.action_space.sample())
        venv = gym.make_vec("mm_gym/MarketMaking-v0", num_envs=2,
                            vectorization_mode="vector_entry_point", session_s=5.0)
        venv.reset(seed=0)
        venv.step(venv.action_space.sample())
        loaded = [m for m in ("matplotlib", "mm_gym.rendering.frame") if m in sys.modules]
        print(loaded)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_rendering_does_not_change_the_run() -> None:
    plain = MarketMakingEnv(**SHORT)
    drawn = MarketMakingEnv(render_mode="rgb_array", **SHORT)
    actions = np.random.default_rng(1).uniform(-1, 1, (20, 3)).astype(np.float32)
    a, b = plain.reset(seed=7), drawn.reset(seed=7)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    for action in actions:
        drawn.render()
        a, b = plain.step(action), drawn.step(action)
        assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]


def test_bad_render_mode_is_a_config_error() -> None:
    for make in (MarketMakingEnv, MarketMakingVectorEnv):
        with pytest.raises(ConfigError, match="render_mode='human'.*'rgb_array', 'ansi'"):
            make(render_mode="human")


def test_vector_env_renders_market_0_as_the_single_env_would() -> None:
    venv = MarketMakingVectorEnv(num_envs=3, render_mode="ansi", session_s=5.0)
    single = MarketMakingEnv(render_mode="ansi", session_s=5.0)
    venv.reset(seed=11)
    single.reset(seed=11)
    actions = np.random.default_rng(2).uniform(-1, 1, (8, 3, 3)).astype(np.float32)
    for k, action in enumerate(actions):
        venv.step(action)
        _, _, terminated, truncated, _ = single.step(action[0])
        if terminated or truncated:
            single.reset()
        (text,) = venv.render()
        title, rest = text.split(" | ", 1)
        assert title == "MarketMaking-v0 · market 0 of 3"
        assert rest == single.render().split(" | ", 1)[1], f"step {k}"
    rgb = MarketMakingVectorEnv(num_envs=2, render_mode="rgb_array", **SHORT)
    rgb.reset(seed=0)
    frames = rgb.render()
    assert isinstance(frames, tuple) and len(frames) == 1 and frames[0].shape == FRAME_SHAPE


def test_history_starts_again_with_each_episode() -> None:
    venv = MarketMakingVectorEnv(num_envs=2, render_mode="ansi", session_s=5.0)
    venv.reset(seed=0)
    counts = []
    for _ in range(7):
        venv.step(np.zeros((2, 3), np.float32))
        counts.append(venv.view.history.count)
    assert counts == [2, 3, 4, 5, 1, 2, 3]  # the 5th step ends the episode: a new one begins


def test_history_ring_keeps_the_latest_rows_oldest_first() -> None:
    h = History(4)
    assert h.series()["time"].size == 0
    for t in range(6):
        h.append((t, 100.0 + t, np.nan, np.nan, 0.0))
    assert h.series()["time"].tolist() == [2, 3, 4, 5]
    assert h.series()["mid"].tolist() == [102, 103, 104, 105]
    h.clear()
    h.append((9, 1.0, 1.0, 1.0, 1.0))
    assert h.series()["time"].tolist() == [9]


def test_gymnasium_record_video_writes_a_file(tmp_path: Path) -> None:
    pytest.importorskip("moviepy")
    from gymnasium.wrappers import RecordVideo

    env = RecordVideo(
        gym.make(ENV_ID, render_mode="rgb_array", session_s=8.0),
        video_folder=str(tmp_path / "videos"),
        episode_trigger=lambda episode: episode == 0,
        disable_logger=True,
    )
    env.reset(seed=0)
    for _ in range(8):
        env.step(env.action_space.sample())
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0


def _frames(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (36, 64, 3), dtype=np.uint8) for _ in range(n)]


def test_write_gif(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "v.gif"
    assert write_video(path, iter(_frames(5)), fps=10) == 5
    with Image.open(path) as im:
        assert im.size == (64, 36) and im.n_frames == 5 and im.info["duration"] == 100


@pytest.mark.skipif(not mp4_available(), reason="needs the [video] extra")
def test_write_mp4(tmp_path: Path) -> None:
    import imageio.v3 as iio

    path = tmp_path / "v.mp4"
    assert write_video(path, iter(_frames(6)), fps=10) == 6
    assert iio.imread(path, index=None).shape == (6, 36, 64, 3)


def test_video_path_errors_are_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    cases = [
        (tmp_path / "v.avi", "expected a .mp4 or .gif"),
        (tmp_path, "expected a .mp4 or .gif"),
        (blocker / "v.gif", "is not a folder"),
        (blocker / "sub" / "v.gif", "cannot write in"),
    ]
    for path, fragment in cases:
        with pytest.raises(ConfigError, match=fragment) as err:
            check_video_path(path)
        assert "\n" not in str(err.value)
    (tmp_path / "d.gif").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        check_video_path(tmp_path / "d.gif")
    assert check_video_path(tmp_path / "new" / "v.gif") == tmp_path / "new" / "v.gif"


def test_views_rendered_along_each_other_share_their_history_scales() -> None:
    envs = [MarketMakingEnv(render_mode="rgb_array", **SHORT) for _ in range(2)]
    for env, seed in zip(envs, (0, 5), strict=True):
        baseline_run(env, 15, seed=seed)
    alone = [env.view._renderer.equity.get_ylim() for env in envs]
    assert alone[0] != alone[1]  # different markets, different PnL paths
    a, b = (env.view for env in envs)
    a.render(along=[b])
    b.render(along=[a])
    for panel in ("prices", "equity"):
        ylims = [getattr(v._renderer, panel).get_ylim() for v in (a, b)]
        assert ylims[0] == ylims[1], panel
    # each shared range holds both views' own
    shared = a._renderer.equity.get_ylim()
    for lo, hi in alone:
        assert shared[0] <= lo + 1e-9 and hi - 1e-9 <= shared[1]
