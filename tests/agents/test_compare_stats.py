"""The comparison's statistics and options: one seed set per row, several runs, Holm, seed
ranges, tuned baselines, multi-seed training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agents.compare import AGENT, BASELINE, TRUE_REGIME, load_baselines, tabulate
from agents.run_dir import RunDir
from mm_gym.errors import ConfigError
from mm_gym.evaluation import EpisodeResults

from .conftest import tiny, write_yaml


def _results(**columns: list[float]) -> EpisodeResults:
    """Episode results holding one metric column ``m`` per policy given."""
    (values,) = columns.values()
    return EpisodeResults(pd.DataFrame({"m": values}), pd.DataFrame())


def _table(by_policy: dict[str, list[float]]) -> dict[str, dict[str, EpisodeResults]]:
    return {"overall": {p: _results(m=v) for p, v in by_policy.items()}}


def test_a_seed_missing_for_the_baseline_is_dropped_for_every_policy():
    results = _table(
        {
            AGENT: [1.0, 2.0, 3.0, 100.0],
            BASELINE: [0.0, 1.0, 1.0, np.nan],
            TRUE_REGIME: [0.5, 0.5, 0.5, 0.5],
        }
    )
    pairs = [(AGENT, BASELINE), (AGENT, TRUE_REGIME), (TRUE_REGIME, BASELINE)]
    summary, paired = tabulate(results, ["m"], [AGENT], [BASELINE, TRUE_REGIME], pairs)
    assert set(summary["n"]) == {3} and set(paired["n"]) == {3}
    agent = summary[summary.policy == AGENT].iloc[0]
    assert agent["value"] == pytest.approx(2.0) and agent["estimator"] == "mean"
    d = paired[(paired.policy == AGENT) & (paired.reference == BASELINE)].iloc[0]
    assert d["diff"] == pytest.approx(4.0 / 3.0) and d["test"] == "paired t"
    assert d["poi"] == pytest.approx(1.0)
    assert {"p_holm", "var_ratio", "poi_low", "poi_high"} <= set(paired.columns)


def test_several_runs_give_iqm_rows_and_bootstrap_differences():
    rng = np.random.default_rng(0)
    base = rng.normal(size=40)
    results = _table(
        {
            "run_seed0": base + 1.0 + 0.1 * rng.normal(size=40),
            "run_seed1": base + 1.2 + 0.1 * rng.normal(size=40),
            BASELINE: base,
        }
    )
    runs = ["run_seed0", "run_seed1"]
    pairs = [(AGENT, BASELINE), *[(r, BASELINE) for r in runs]]
    summary, paired = tabulate(results, ["m"], runs, [BASELINE], pairs)
    rows = summary.set_index("policy")
    assert rows.loc[AGENT, "estimator"] == "iqm" and rows.loc[AGENT, "n"] == 80
    assert rows.loc[BASELINE, "estimator"] == "iqm" and rows.loc[BASELINE, "n"] == 40
    assert rows.loc["run_seed0", "estimator"] == "mean" and rows.loc["run_seed1", "n"] == 40
    pooled = paired[paired.policy == AGENT].iloc[0]
    assert pooled["test"] == "bootstrap" and pooled["n"] == 80
    assert pooled["diff"] == pytest.approx(1.1, abs=0.05)
    assert 0.9 < pooled["ci_low"] < 1.1 < pooled["ci_high"] < 1.3
    assert pooled["poi"] == 1.0 and pooled["p_value"] < 0.01
    assert pooled["var_ratio"] < 0.05  # the common market removes almost all the variance


def test_holm_adjusts_across_conditions():
    rng = np.random.default_rng(1)
    results = {
        cond: {AGENT: _results(m=rng.normal(shift, 1, 12)), BASELINE: _results(m=np.zeros(12))}
        for cond, shift in (("overall", 1.5), ("ranging", 0.8), ("high_vol", 0.0))
    }
    _, paired = tabulate(results, ["m"], [AGENT], [BASELINE], [(AGENT, BASELINE)])
    p = paired["p_value"].to_numpy()
    order = np.argsort(p)
    assert paired["p_holm"].to_numpy()[order[0]] == pytest.approx(3 * p[order[0]])
    assert np.all(paired["p_holm"] >= paired["p_value"])


def test_compare_refuses_evaluation_seeds(mm_run, cli, capsys):
    assert cli("compare", mm_run, "--seed", "1000000", "--episodes", "2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "1000000..1999999" in err and "--allow-eval-seeds" in err
    assert cli("compare", mm_run, "--seed", "999999", "--episodes", "2") == 2  # straddles
    capsys.readouterr()
    out = mm_run.parent / "eval_seeds"
    args = ("--seed", "1000000", "--episodes", "2", "--no-regimes", "--out", out)
    assert cli("compare", mm_run, *args, "--allow-eval-seeds", "--metric", "pnl") == 0
    printed = capsys.readouterr().out
    assert "WARNING" in printed and "evaluation seeds, not test seeds" in printed
    assert "uncorrected per-regime test" in printed  # with any --metric, on the console
    report = (out / "report.md").read_text()
    assert "same 2 evaluation seeds, not test seeds 1000000..1000001" in report
    assert "**These are evaluation seeds" in report


def test_compare_with_a_tuned_baseline(mm_run, tmp_path, cli, capsys):
    tuned = write_yaml(
        tmp_path / "tuned.yaml",
        {"baseline": {"normal": [1.4, 0.7, 0.9]}, "strategy": {"trend_threshold": 1.5}},
    )
    out = tmp_path / "with_tuned"
    args = ("--episodes", "2", "--no-regimes", "--out", out, "--holm")
    assert cli("compare", mm_run, *args, "--baseline", tuned) == 0
    printed = capsys.readouterr().out
    assert "the tuned baseline tuned" in printed and "Holm" in printed
    paired = pd.read_csv(out / "compare" / "paired.csv")
    assert {(AGENT, "tuned"), ("tuned", BASELINE), (TRUE_REGIME, BASELINE)} <= set(
        zip(paired.policy, paired.reference, strict=True)
    )
    report = (out / "report.md").read_text()
    assert "tuned - baseline" in report and "true_regime - baseline" in report
    assert "Holm's correction" in report
    assert (out / "compare" / "episodes_overall_tuned.csv").is_file()
    assert (out / "compare" / "params_over_episode.png").is_file()
    assert (out / "compare" / "decomposition.csv").is_file()


def test_a_baseline_by_shipped_name_reads_its_sections():
    from mm_gym.config import SHIPPED_CONFIGS, load_yaml_mapping

    shipped = load_yaml_mapping(SHIPPED_CONFIGS / "envs" / "tuned.yaml")
    loaded = load_baselines(["tuned"], "MarketMaking-v0")
    assert list(loaded) == ["tuned"]
    assert loaded["tuned"] == {"baseline": shipped["baseline"], "strategy": shipped["strategy"]}
    with pytest.raises(ConfigError, match=r"'nonesuch': no such file, and not a shipped name"):
        load_baselines(["nonesuch"], "MarketMaking-v0")


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("a: [1, 2\nb: 3", "not valid YAML"),
        ("session_s: 60\n", "no 'baseline' or 'strategy' section"),
        ("baseline: {normal: [1.0, 0.5, 2.0]}\n", "size_fraction"),
        ("baseline: {colour: 1}\n", "colour"),
    ],
)
def test_a_bad_baseline_file_is_one_line(mm_run, tmp_path, cli, capsys, content, message):
    path = tmp_path / "bad.yaml"
    if content is not None:
        path.write_text(content)
    assert cli("compare", mm_run, "--episodes", "1", "--baseline", path) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_train_seeds_and_compare_several_runs(tmp_path, cli, capsys):
    config = write_yaml(tmp_path / "ppo.yaml", tiny(total_timesteps=64).to_dict())
    runs = tmp_path / "runs"
    base = ("train", "--config", config, "--runs-dir", runs, "--no-progress")
    assert cli(*base, "--seeds", "0,1", "--run-name", "tiny") == 0
    assert sorted(p.name for p in runs.iterdir()) == ["tiny_seed0", "tiny_seed1"]
    assert [RunDir.open(runs / f"tiny_seed{k}").config().seed for k in (0, 1)] == [0, 1]
    for wrong in (("--seeds", "0,0"), ("--seeds", "2", "--seed", "3")):  # argparse: exit 2
        with pytest.raises(SystemExit) as exit_:
            cli(*base, *wrong)
        assert exit_.value.code == 2
    assert "repeats" in capsys.readouterr().err

    paths = (runs / "tiny_seed0", runs / "tiny_seed1")
    capsys.readouterr()
    assert cli("compare", *paths, "--episodes", "2", "--no-regimes") == 0
    printed = capsys.readouterr().out
    assert "the agent (2 runs)" in printed and "stratified bootstrap" in printed
    folder = runs / "tiny_compare"
    summary = pd.read_csv(folder / "compare" / "summary.csv")
    agent = summary[(summary.policy == AGENT) & (summary.metric == "pnl")].iloc[0]
    assert agent["estimator"] == "iqm" and agent["n"] == 4
    assert {"tiny_seed0", "tiny_seed1"} <= set(summary.policy)
    report = (folder / "report.md").read_text()
    assert "## Runs" in report and "IQM" in report and "2 runs x 2 seeds" in report

    other = write_yaml(tmp_path / "other.yaml", tiny(total_timesteps=64, n_envs=2).to_dict())
    assert cli("train", "--config", other, "--runs-dir", runs, "--run-name", "odd") == 0
    capsys.readouterr()
    assert cli("compare", paths[0], runs / "odd", "--episodes", "1") == 2
    assert "differs" in capsys.readouterr().err
