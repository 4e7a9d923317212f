"""Training: every algorithm, the run folder, exact resume, and the errors of `mm-gym train`."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mm_gym.envs.observations import NUM_BASE_OBS
from mm_gym.errors import ConfigError, RunError
from mm_gym_agents.policy import load_policy, load_vecnormalize
from mm_gym_agents.run_dir import RunDir
from mm_gym_agents.train import train

from .conftest import tiny, write_yaml


def _quiet(_: str) -> None:
    pass


@pytest.mark.parametrize("algo", ["ppo", "a2c", "sac", "td3", "recurrent_ppo"])
def test_each_algorithm_trains_and_writes_a_run(tmp_path, algo):
    cfg = tiny(
        algo,
        total_timesteps=2048,
        checkpoint_freq=512,
        eval_freq=1024,
        eval_episodes=2,
        action_noise="normal" if algo == "td3" else None,
    )
    result = train(cfg, run_name=algo, runs_dir=tmp_path, progress_bar=False, log=_quiet)
    run = result.run
    assert result.num_timesteps >= cfg.total_timesteps
    for name in (
        "config.yaml",
        "final_model.zip",
        "vecnormalize.pkl",
        "best_model.zip",
        "best_vecnormalize.pkl",
        "eval_log.csv",
    ):
        assert (run.path / name).is_file(), name
    assert any(run.tensorboard.rglob("events.out.tfevents.*"))
    ckpts = run.list_checkpoints()
    assert 1 <= len(ckpts) <= cfg.keep_checkpoints
    assert (ckpts[-1][1] / "replay_buffer.pkl").is_file() == (algo in ("sac", "td3"))
    assert not list(run.path.rglob(".*.tmp*"))  # no temporary files left behind
    assert run.config() == cfg.resolved()
    policy = load_policy(RunDir.open(run.path))
    obs = np.zeros((3, NUM_BASE_OBS), dtype=np.float32)
    actions, _ = policy.predict(obs, deterministic=True)
    assert actions.shape == (3, 3) and np.isfinite(actions).all()


def _market_tags(run: RunDir) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set[str] = set()
    for f in run.tensorboard.rglob("events.out.tfevents.*"):
        acc = EventAccumulator(str(f))
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    return tags


def test_tensorboard_gets_market_metrics(mm_run):
    tags = _market_tags(RunDir.open(mm_run))
    for tag in (
        "market/equity",
        "market/inventory_abs",
        "market/fills_per_minute",
        "market/spread_captured",
        "market/markout_1s",
        "market/reward_ranging",
        "eval/mean_return",
    ):
        assert tag in tags, tag


@pytest.mark.parametrize(
    ("algo", "env_id"),
    [("ppo", "MarketMaking-v0"), ("sac", "MarketMaking-v0"), ("ppo", "AvellanedaStoikov-v0")],
)
def test_resume_equals_uninterrupted(tmp_path, algo, env_id):
    """Stop half way, resume: same step counter, VecNormalize stats, optimiser, weights."""
    cfg = tiny(algo, env_id, total_timesteps=256, checkpoint_freq=64)
    full = train(cfg, run_name="full", runs_dir=tmp_path, progress_bar=False, log=_quiet)
    train(
        cfg, run_name="part", runs_dir=tmp_path, total_timesteps=128, progress_bar=False, log=_quiet
    )
    part = RunDir.open(tmp_path / "part")
    assert part.latest_checkpoint()[0] == 128
    resumed = train(
        None,
        run_name="part",
        runs_dir=tmp_path,
        resume=True,
        total_timesteps=256,
        progress_bar=False,
        log=_quiet,
    )
    assert resumed.num_timesteps == full.num_timesteps == 256
    assert resumed.model._n_updates == full.model._n_updates
    a = load_vecnormalize(tmp_path / "full" / "vecnormalize.pkl")
    b = load_vecnormalize(tmp_path / "part" / "vecnormalize.pkl")
    assert a.obs_rms.count == b.obs_rms.count
    np.testing.assert_array_equal(a.obs_rms.mean, b.obs_rms.mean)
    np.testing.assert_array_equal(a.obs_rms.var, b.obs_rms.var)
    np.testing.assert_array_equal(a.ret_rms.var, b.ret_rms.var)
    pa, pb = full.model.policy.state_dict(), resumed.model.policy.state_dict()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert part.config().total_timesteps == 256


@pytest.mark.parametrize("algo", ["ppo", "a2c", "recurrent_ppo"])
def test_log_std_init_per_action_dimension(tmp_path, algo):
    policy_kwargs = dict(tiny(algo).policy_kwargs, log_std_init=[-2.0, -1.0, -0.5])
    cfg = tiny(algo, total_timesteps=64, checkpoint_freq=0, policy_kwargs=policy_kwargs)
    model = train(cfg, run_name="a", runs_dir=tmp_path, progress_bar=False, log=_quiet).model
    # a few small updates move each dimension's log std a little from where it started
    log_std = model.policy.log_std.detach().numpy()
    np.testing.assert_allclose(log_std, [-2.0, -1.0, -0.5], atol=0.05)
    wrong = tiny(algo, policy_kwargs=dict(policy_kwargs, log_std_init=[-1.0, -1.0]))
    with pytest.raises(ConfigError, match=r"2 numbers for an action of 3 dimensions"):
        train(wrong, run_name="b", runs_dir=tmp_path, progress_bar=False, log=_quiet)


def test_training_is_deterministic_given_the_seed(tmp_path):
    cfg = tiny(total_timesteps=128, checkpoint_freq=0)
    a = train(cfg, run_name="a", runs_dir=tmp_path, progress_bar=False, log=_quiet)
    b = train(cfg, run_name="b", runs_dir=tmp_path, progress_bar=False, log=_quiet)
    pa, pb = a.model.policy.state_dict(), b.model.policy.state_dict()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)


def test_cli_train_and_its_errors(tmp_path, cli, capsys):
    cfg = tiny(total_timesteps=128).to_dict()
    path = write_yaml(tmp_path / "ppo.yaml", cfg)
    env_path = write_yaml(tmp_path / "env.yaml", {"session_s": 32})
    runs = tmp_path / "runs"
    assert (
        cli(
            "train",
            "--config",
            path,
            "--env-config",
            env_path,
            "--run-name",
            "r1",
            "--runs-dir",
            runs,
            "--no-progress",
            "--seed",
            "3",
        )
        == 0
    )
    run = RunDir.open(runs / "r1")
    assert run.config().env["session_s"] == 32 and run.config().seed == 3
    final = run.model_path("final")
    before = (final.read_bytes(), final.stat().st_mtime_ns, run.config_path.read_text())

    capsys.readouterr()
    # the run name is taken: one line, exit 2, nothing overwritten
    assert (
        cli("train", "--config", path, "--run-name", "r1", "--runs-dir", runs, "--no-progress") == 2
    )
    err = capsys.readouterr().err.strip()
    assert "already exists" in err and "--resume" in err and len(err.splitlines()) == 1
    assert (final.read_bytes(), final.stat().st_mtime_ns, run.config_path.read_text()) == before

    bad = {**cfg, "algo": "dqn"}
    assert cli("train", "--config", write_yaml(tmp_path / "bad.yaml", bad), "--runs-dir", runs) == 2
    assert "algo='dqn'" in capsys.readouterr().err
    bad = {**cfg, "hyperparameters": {"learning_ratee": 1.0}}
    assert (
        cli("train", "--config", write_yaml(tmp_path / "bad2.yaml", bad), "--runs-dir", runs) == 2
    )
    assert "hyperparameters.learning_ratee" in capsys.readouterr().err
    bad = {**cfg, "hyperparameters": {"gamma": 2.0}}
    assert (
        cli("train", "--config", write_yaml(tmp_path / "bad3.yaml", bad), "--runs-dir", runs) == 2
    )
    assert "gamma=2.0" in capsys.readouterr().err
    assert cli("train", "--config", tmp_path / "missing.yaml", "--runs-dir", runs) == 2
    assert "no such file" in capsys.readouterr().err
    assert sorted(p.name for p in runs.iterdir()) == ["r1"]  # no half-made run folders

    # resume: a folder that is not a run, a run with nothing to resume from
    (runs / "junk").mkdir()
    assert cli("train", "--resume", "--run-name", "junk", "--runs-dir", runs) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert (
        cli(
            "train",
            "--resume",
            "--run-name",
            "r1",
            "--runs-dir",
            runs,
            "--timesteps",
            "256",
            "--no-progress",
        )
        == 0
    )
    assert RunDir.open(runs / "r1").latest_checkpoint()[0] == 256
    # the original command plus --resume works; a different config does not
    same = (
        "train",
        "--config",
        path,
        "--env-config",
        env_path,
        "--run-name",
        "r1",
        "--runs-dir",
        runs,
        "--no-progress",
        "--resume",
    )
    assert cli(*same, "--seed", "4", "--timesteps", "512") == 2
    assert "differs from" in capsys.readouterr().err
    assert cli(*same, "--seed", "3", "--timesteps", "384") == 0
    assert RunDir.open(runs / "r1").latest_checkpoint()[0] == 384


def test_cli_train_takes_a_market(tmp_path, cli, capsys):
    from mm_gym.market.config import MarketConfig

    path = write_yaml(tmp_path / "ppo.yaml", tiny(total_timesteps=64, checkpoint_freq=0).to_dict())
    runs = tmp_path / "runs"
    argv = ("train", "--config", path, "--runs-dir", runs, "--no-progress", "--run-name")
    assert cli(*argv, "m", "--market", "legacy") == 0
    assert RunDir.open(runs / "m").config().env_config().market == MarketConfig.preset("legacy")
    capsys.readouterr()
    assert cli(*argv, "m2", "--market", "nope") == 2
    assert "market config 'nope'" in capsys.readouterr().err
    assert cli("train", "--resume", "--run-name", "m", "--runs-dir", runs, "--market", "x") == 2
    assert "drop --env-config/--market/--seed" in capsys.readouterr().err


def test_resume_without_checkpoint_trains_the_run_from_step_zero(tmp_path):
    run = RunDir.create(tmp_path, "empty", tiny(total_timesteps=64))
    assert not run.is_complete
    result = train(
        None, run_name="empty", runs_dir=tmp_path, resume=True, progress_bar=False, log=_quiet
    )
    assert result.started_at == 0 and result.num_timesteps == 64
    assert run.is_complete and run.model_path("final").is_file()


@pytest.mark.parametrize("bootstrap", [True, False])
def test_build_env_passes_the_time_limit_choice(bootstrap):
    from mm_gym_agents.train import build_env

    env = build_env(tiny(env_id="AvellanedaStoikov-v0", bootstrap_time_limit=bootstrap))
    assert env.unwrapped.bootstrap_time_limit is bootstrap
    env.close()


def test_bad_run_names(tmp_path):
    run = RunDir.create(tmp_path, "empty", tiny())
    with pytest.raises(ConfigError, match="run name"):
        train(tiny(), run_name="../escape", runs_dir=tmp_path, log=_quiet)
    with pytest.raises(RunError, match="no such folder"):
        train(None, run_name="nope", runs_dir=tmp_path, resume=True, log=_quiet)
    assert run.path.is_dir()


def test_atomic_writes_leave_the_old_file_on_failure(tmp_path):
    from mm_gym_agents.run_dir import atomic_write

    target = tmp_path / "model.zip"
    target.write_bytes(b"old")

    def fail(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, fail, suffix=".zip")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.zip"]
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    plain = tmp_path / "plain.csv"
    plain.write_text("x")  # a run's files are as readable as a plain new file beside them
    assert target.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_checkpoint_holds_the_resume_state(mm_run):
    _, folder = RunDir.open(mm_run).latest_checkpoint()
    state = pickle.loads((folder / "resume_state.pkl").read_bytes())
    assert state["env"]["kind"] == "core" and set(state["rng"]) == {"python", "numpy", "torch"}


def test_runs_train_on_markets_spawned_from_their_own_seed():
    """Two training runs share no market: each run's markets come from its seed."""
    from stable_baselines3 import PPO

    from mm_gym.evaluation.seeds import training_market_seeds
    from mm_gym_agents.train import build_env

    seen = []
    for seed in (0, 1):
        cfg = tiny(seed=seed)
        env = build_env(cfg)
        PPO("MlpPolicy", env, seed=seed, n_steps=16, batch_size=32)  # SB3 seeds the env
        env.reset()
        core = env.venv.venv.venv.core  # VecNormalize -> VecMonitor -> adapter -> native
        assert np.array_equal(core.seeds, training_market_seeds(seed, cfg.n_envs))
        seen.append(set(core.seeds.tolist()))
        env.close()
    assert not seen[0] & seen[1]


@pytest.mark.slow
def test_train_seeds_side_by_side_and_a_failed_run_is_one_line(tmp_path):
    from mm_gym_agents.train import RunsFailed, train_seeds

    (tmp_path / "many_seed2").mkdir()  # taken: that run fails, the others go on
    (tmp_path / "many_seed2" / "config.yaml").write_text("algo: ppo\n")
    lines: list[str] = []
    with pytest.raises(RunsFailed, match="1 run\\(s\\) failed: many_seed2"):
        train_seeds(
            tiny(total_timesteps=128),
            [0, 1, 2],
            run_name="many",
            runs_dir=tmp_path,
            workers=2,
            log=lines.append,
        )
    for seed in (0, 1):
        assert RunDir.open(tmp_path / f"many_seed{seed}").is_complete
    failed = [line for line in lines if "failed" in line]
    assert len(failed) == 1 and "many_seed2" in failed[0] and "\n" not in failed[0]


def test_workers_need_seeds(cli, capsys):
    assert cli("train", "--config", "ppo", "--workers", "2") == 2
    assert "--workers: needs --seeds" in capsys.readouterr().err


def test_budget_warnings_say_what_the_step_budget_will_do():
    from types import SimpleNamespace

    from mm_gym_agents.train import budget_warnings

    cfg = tiny(total_timesteps=100, eval_freq=1000)  # rollouts of 16 steps x 4 markets
    warnings = budget_warnings(cfg, SimpleNamespace(n_steps=16), 100)
    assert "not a whole number of rollouts of 64" in warnings[0] and "128 will" in warnings[0]
    assert "no best model is written" in warnings[1]
    assert budget_warnings(tiny(total_timesteps=128), SimpleNamespace(n_steps=16), 128) == []


def test_a_missing_best_model_says_what_to_use(tmp_path):
    cfg = tiny(total_timesteps=64, eval_freq=0)
    lines: list[str] = []
    run = train(cfg, run_name="nobest", runs_dir=tmp_path, progress_bar=False, log=lines.append)
    assert not any(line.startswith("WARNING") for line in lines)
    with pytest.raises(RunError, match=r"no best model \(eval_freq=0 with 64 steps never"):
        load_policy(run.run, "best")


def test_every_tensorboard_tag_of_a_run_is_documented(mm_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for events in (mm_run / "tensorboard").rglob("events.out.tfevents.*"):
        acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    ours = {t for t in tags if t.split("/")[0] in ("market", "eval")}
    assert {"market/reward_per_step", "market/episode_pnl", "eval/mean_return"} <= ours
    page = (Path(__file__).resolve().parents[2] / "docs" / "agents.md").read_text()
    regimes = re.compile(r"market/reward_(ranging|trending_up|trending_down|high_vol|news)$")
    missing = sorted(
        t
        for t in ours
        if f"`{t}`" not in page and not (regimes.match(t) and "market/reward_<regime>" in page)
    )
    assert not missing, f"tags logged but not in docs/agents.md: {missing}"
