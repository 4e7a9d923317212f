"""``mm-gym watch``: a video of a trained agent and the rule baseline side by side.

Both trade the same seed of the same market: the regime chain, news and fair value are the
same under any policy, so the two halves differ only by what each policy did. Each half is
the env's ``rgb_array`` frame of its market, captioned with the policy's running PnL.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mm_gym.errors import ConfigError
from mm_gym_agents.commands import AGENTS_EXTRA

if TYPE_CHECKING:
    from mm_gym.envs.config import EnvConfig

__all__ = ["DEFAULT_SECONDS", "add_parser", "watch_run"]

DEFAULT_SECONDS = 120.0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds > 0")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``watch``."""
    p = subparsers.add_parser(
        "watch",
        help="video of the agent and the baseline side by side on one seed",
        description="Run the trained agent of RUN and the rule baseline on the same seed (the "
        "same market path) and write a video of both side by side, each captioned with its "
        "running PnL. MP4 needs the [video] extra; GIF works without it.",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="run folder, e.g. runs/ppo_x")
    p.add_argument("--episode-seed", type=int, default=None, help="market seed (default: 2000000)")
    p.add_argument(
        "--regime", help="pin the hidden regime: ranging, trending_up, trending_down, high_vol"
    )
    p.add_argument(
        "--seconds",
        type=_seconds,
        default=DEFAULT_SECONDS,
        help=f"market seconds to show, from the session start (default: {DEFAULT_SECONDS:g})",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="video file, .mp4 or .gif (default: RUN/watch/<model>_seed<S>_<regime>.mp4, "
        ".gif without imageio-ffmpeg)",
    )
    p.add_argument("--model", choices=("final", "best"), default="final", help="default: final")
    p.set_defaults(func=_watch, requires=AGENTS_EXTRA)


def _watch(args: argparse.Namespace) -> int:
    watch_run(
        args.run,
        episode_seed=args.episode_seed,
        regime=args.regime,
        seconds=args.seconds,
        out=args.out,
        which=args.model,
    )
    return 0


class _Player:
    """One policy trading its own rendering env, stepped one decision at a time."""

    def __init__(self, label: str, policy: Any, env_config: EnvConfig, seed: int) -> None:
        from mm_gym.envs.market_making import MarketMakingEnv

        self.label = label
        self.policy = policy
        self.env = MarketMakingEnv(config=env_config, render_mode="rgb_array")
        obs, self.info = self.env.reset(seed=seed)
        self.obs = obs[None]
        self.state: Any = None
        self.start = np.ones(1, dtype=bool)
        self.done = False

    def step(self) -> None:
        """One decision; nothing once its episode has ended (the daily stop)."""
        if self.done:
            return
        action, self.state = self.policy.predict(
            self.obs, state=self.state, episode_start=self.start, deterministic=True
        )
        self.start[:] = False
        obs, _, terminated, truncated, self.info = self.env.step(np.asarray(action)[0])
        self.obs = obs[None]
        self.done = terminated or truncated

    def frame(self, along: list[_Player]) -> np.ndarray:
        """The market now, captioned with this policy's running PnL, on the scales of the
        players ``along``."""
        caption = f"{self.label}: PnL {self.info['equity']:+.2f}"
        return self.env.view.render(caption, along=[p.env.view for p in along])


def _frames(players: list[_Player], steps: int) -> Iterator[np.ndarray]:
    """The first frame, then one per decision step: the players' frames side by side."""
    for k in range(steps + 1):
        if k:
            for player in players:
                player.step()
        yield np.hstack([p.frame([o for o in players if o is not p]) for p in players])


def watch_run(
    run_path: str | Path,
    *,
    episode_seed: int | None = None,
    regime: str | None = None,
    seconds: float = DEFAULT_SECONDS,
    out: str | Path | None = None,
    which: str = "final",
    log: Callable[[str], None] = print,
) -> Path:
    """Write the video of ``run_path``'s agent next to the baseline; returns its path."""
    from mm_gym import RuleBasedPolicy
    from mm_gym.envs.registration import ENV_IDS, env_entry
    from mm_gym.evaluation.seeds import DEV_SEED_BASE
    from mm_gym.rendering.snapshot import RENDER_FPS
    from mm_gym.rendering.video import MP4_HINT, check_video_path, mp4_available, write_video
    from mm_gym_agents.evaluate import env_config_for
    from mm_gym_agents.policy import load_policy
    from mm_gym_agents.run_dir import RunDir, atomic_write

    run = RunDir.open(run_path)
    config = run.config()
    if not env_entry(config.env_id).renders:
        drawable = ", ".join(e.short for e in ENV_IDS.values() if e.renders)
        raise ConfigError(
            f"{run.name}: {config.env_id} has no renderer; watch draws runs of {drawable}"
        )
    env_config = env_config_for(config, regime)
    seed = DEV_SEED_BASE if episode_seed is None else episode_seed
    if seed < 0:
        raise ConfigError(f"--episode-seed={seed}: expected an integer >= 0")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"--seconds={seconds!r}: expected a number of seconds > 0")
    if out is None:
        mp4 = mp4_available()
        if not mp4:
            log(f"note: writing a GIF ({MP4_HINT})")
        out = run.path / "watch" / f"{which}_seed{seed}_{regime or 'all'}.{'mp4' if mp4 else 'gif'}"
    out = check_video_path(Path(out))
    agent = load_policy(run, which)
    dt = env_config.decision_interval_ms / 1000.0
    steps = min(env_config.steps_per_episode, max(1, math.ceil(seconds / dt - 1e-9)))
    players = [
        _Player(f"agent {config.algo} ({which})", agent, env_config, seed),
        _Player("rule baseline", RuleBasedPolicy(env_config), env_config, seed),
    ]
    log(f"{run.name}: {steps} steps of seed {seed}, regime {regime or 'switching'} -> {out}")
    atomic_write(
        out, lambda tmp: write_video(tmp, _frames(players, steps), RENDER_FPS), suffix=out.suffix
    )
    pnl = ", ".join(f"{p.label} {p.info['equity']:+.2f}" for p in players)
    log(f"{out}: {steps + 1} frames at {RENDER_FPS} fps; PnL {pnl}")
    return out
