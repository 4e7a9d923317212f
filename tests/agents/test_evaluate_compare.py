"""`mm-gym evaluate`, `mm-gym compare` (report.md + PNGs), the demo, and their errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from mm_gym.envs.observations import NUM_BASE_OBS
from mm_gym.errors import ConfigError, RunError
from mm_gym_agents.demo import run_demo
from mm_gym_agents.evaluate import evaluate_run
from mm_gym_agents.policy import AgentPolicy, load_policy
from mm_gym_agents.report import compare_and_report
from mm_gym_agents.run_dir import RunDir


def _quiet(_: str) -> None:
    pass


def test_evaluate_prints_a_table_and_writes_csv(mm_run, cli, capsys):
    assert cli("evaluate", mm_run, "--episodes", "3") == 0
    out = capsys.readouterr().out
    assert "pnl" in out and "95% CI" in out and "final_all_episodes.csv" in out
    episodes = pd.read_csv(mm_run / "eval" / "final_all_episodes.csv")
    assert episodes["seed"].tolist() == [2_000_000, 2_000_001, 2_000_002]
    summary = pd.read_csv(mm_run / "eval" / "final_all_summary.csv", index_col=0)
    assert {"mean", "ci_low", "ci_high"} <= set(summary.columns)
    assert (
        cli(
            "evaluate",
            mm_run,
            "--episodes",
            "2",
            "--regime",
            "high_vol",
            "--model",
            "best",
            "--seed",
            "2000100",
        )
        == 0
    )
    assert (mm_run / "eval" / "best_high_vol_episodes.csv").is_file()


def test_evaluation_is_deterministic_and_uses_the_normalisation(mm_run):
    a = evaluate_run(mm_run, episodes=2, log=_quiet).results.episodes
    b = evaluate_run(mm_run, episodes=2, log=_quiet).results.episodes
    pd.testing.assert_frame_equal(a, b)
    policy = load_policy(RunDir.open(mm_run))
    assert policy.obs_rms is not None
    obs = np.random.default_rng(0).uniform(0, 1, (4, NUM_BASE_OBS)).astype(np.float32)
    raw, _ = policy.model.predict(policy.normalize(obs), deterministic=True)
    wrapped, _ = policy.predict(obs, deterministic=True)
    np.testing.assert_array_equal(raw, wrapped)
    assert not np.allclose(policy.normalize(obs), obs)
    assert isinstance(policy, AgentPolicy)


def test_compare_writes_report_with_plots(mm_run, cli, capsys):
    assert cli("compare", mm_run, "--episodes", "3") == 0
    out = capsys.readouterr().out
    assert "beats" in out or "no clear difference" in out or "loses to" in out
    assert "development seeds: not a claim" in out and "report.md" in out
    report = (mm_run / "report.md").read_text()
    for regime in ("ranging", "trending_up", "trending_down", "high_vol"):
        assert f"Regime pinned: {regime}" in report
        assert f"In the {regime} regime, the agent" in report
    assert "Overall, the agent" in report and "t interval over the seeds of one run" in report
    assert report.index("## Summary") < report.index("## Verdict")
    assert "baseline table" in report
    images = [
        line.split("(")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")
    ]
    assert len(images) >= 8
    for rel in images:
        png = mm_run / rel
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", rel
    paired = pd.read_csv(mm_run / "compare" / "paired.csv")
    assert {"diff", "ci_low", "ci_high", "p_value"} <= set(paired.columns)
    assert set(paired["condition"]) == {
        "overall",
        "ranging",
        "trending_up",
        "trending_down",
        "high_vol",
    }


def test_common_random_numbers(mm_run):
    """Agent and baseline play the same markets: identical seeds, identical news counts."""
    comp, _ = compare_and_report(mm_run, episodes=2, regimes=False, log=_quiet)
    agent = comp.results["overall"]["agent"].episodes
    base = comp.results["overall"]["baseline"].episodes
    assert agent["seed"].tolist() == base["seed"].tolist()
    assert agent["news_events"].tolist() == base["news_events"].tolist()


def test_compare_on_avellaneda_stoikov_uses_the_closed_form_agents(as_run):
    comp, report = compare_and_report(as_run, episodes=4, log=_quiet)
    assert comp.references == ["CJP", "GLFT", "AS"]
    assert comp.conditions == ["overall"]
    text = report.read_text()
    assert "the CJP agent" in text and "of CJP's mean objective" in text
    assert (as_run / "compare" / "quotes_by_inventory.png").is_file()
    with pytest.raises(ConfigError, match="no regimes"):
        evaluate_run(as_run, episodes=2, regime="ranging", log=_quiet)


def test_errors_of_evaluate_and_compare(mm_run, tmp_path, cli, capsys):
    assert cli("evaluate", mm_run, "--regime", "sideways") == 2
    err = capsys.readouterr().err
    assert "--regime='sideways'" in err and "ranging" in err and len(err.splitlines()) == 1
    assert cli("evaluate", tmp_path) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert cli("compare", tmp_path / "nope") == 2
    assert "no such folder" in capsys.readouterr().err
    assert cli("compare", mm_run, "--metric", "fills") == 2
    assert "--metric fills: allowed values are" in capsys.readouterr().err

    broken = tmp_path / "broken"
    shutil.copytree(mm_run, broken)
    model = broken / "final_model.zip"
    model.write_bytes(model.read_bytes()[:200])  # truncated
    assert cli("evaluate", broken, "--episodes", "1") == 2
    err = capsys.readouterr().err
    assert "final_model.zip" in err and "corrupt or truncated" in err
    with pytest.raises(RunError, match="best_model.zip"):
        (broken / "best_model.zip").write_bytes(b"PK\x03\x04 not a zip at all")
        load_policy(RunDir.open(broken), "best")
    (broken / "vecnormalize.pkl").write_bytes(b"garbage")
    model.write_bytes((mm_run / "final_model.zip").read_bytes())
    with pytest.raises(RunError, match="vecnormalize.pkl"):
        load_policy(RunDir.open(broken))
    (broken / "vecnormalize.pkl").unlink()
    with pytest.raises(RunError, match="no such file"):
        load_policy(RunDir.open(broken))
    (broken / "config.yaml").write_text("just: a mapping\n")
    assert cli("compare", broken) == 2
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_is_deterministic_and_writes_a_report(tmp_path):
    kwargs = {
        "timesteps": 8192,
        "episodes": 2,
        "progress_bar": False,
        "log": _quiet,
        "env_overrides": {"session_s": 32},
    }
    first = run_demo(out=tmp_path, **kwargs)
    second = run_demo(out=tmp_path / "again", **kwargs)
    assert first.parent.name == "demo_seed0" and second.parent.name == "demo_seed0"
    assert first.is_file() and second.is_file()
    pa = load_policy(RunDir.open(first.parent)).model.policy.state_dict()
    pb = load_policy(RunDir.open(second.parent)).model.policy.state_dict()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    a = pd.read_csv(first.parent / "compare" / "episodes_overall_agent.csv")
    b = pd.read_csv(second.parent / "compare" / "episodes_overall_agent.csv")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_compare_over_workers_gives_the_same_tables(mm_run, tmp_path):
    tables = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        compare_and_report(mm_run, episodes=2, workers=workers, out=out, log=_quiet)
        tables.append([pd.read_csv(out / "compare" / f) for f in ("summary.csv", "paired.csv")])
    for serial, parallel in zip(*tables, strict=True):
        pd.testing.assert_frame_equal(serial, parallel)


def test_compare_on_a_recording_writes_beside_the_simulated_report(mm_run, cli, capsys, recordings):
    before = {p: p.read_bytes() for p in mm_run.glob("report.md")}
    data = recordings["GOOG"]
    assert cli("compare", mm_run, "--episodes", "3", "--data", data, "--no-progress") == 0
    out = mm_run / "recording_GOOG"
    report = (out / "report.md").read_text()
    assert f"Market: the recording {data}" in report and "not a claim" in report
    assert "(windows of a recording: not a claim.)" in capsys.readouterr().out
    assert "true_regime" not in report and "Regime pinned" not in report
    meta = json.loads((out / "compare" / "meta.json").read_text())
    assert meta["data"] == str(data.resolve())
    summary = pd.read_csv(out / "compare" / "summary.csv")
    assert set(summary["condition"]) == {"overall"}
    assert set(summary["policy"]) == {"agent", "baseline"}
    assert {p: p.read_bytes() for p in mm_run.glob("report.md")} == before  # nothing overwritten
    capsys.readouterr()
    assert cli("compare", mm_run, "--data", mm_run / "nope.parquet") == 2
    assert "no such file" in capsys.readouterr().err
