"""The comparison's statistics and options: one seed set per row, several runs, Holm, seed
ranges, tuned baselines, multi-seed training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mm_gym.errors import ConfigError
from mm_gym.evaluation.episodes import EpisodeResults
from mm_gym_agents.compare import AGENT, BASELINE, TRUE_REGIME, load_baselines, tabulate
from mm_gym_agents.run_dir import RunDir

from .conftest import tiny, write_yaml


def _results(values, seeds) -> EpisodeResults:
    """Episode results holding one metric column ``m`` on ``seeds``."""
    return EpisodeResults(pd.DataFrame({"seed": list(seeds), "m": values}), pd.DataFrame())


def _table(
    by_policy: dict[str, list[float]], seeds: list[int]
) -> dict[str, dict[str, EpisodeResults]]:
    return {"overall": {p: _results(v, seeds) for p, v in by_policy.items()}}


def test_a_seed_missing_for_the_baseline_is_dropped_for_every_policy():
    seeds = [10, 11, 12, 13]
    results = _table(
        {
            AGENT: [1.0, 2.0, 3.0, 100.0],
            BASELINE: [0.0, 1.0, 1.0, np.nan],
            TRUE_REGIME: [0.5, 0.5, 0.5, 0.5],
        },
        seeds,
    )
    pairs = [(AGENT, BASELINE), (AGENT, TRUE_REGIME), (TRUE_REGIME, BASELINE)]
    summary, paired = tabulate(results, ["m"], {AGENT: seeds}, [BASELINE, TRUE_REGIME], pairs)
    assert set(summary["n"]) == {3} and set(paired["n"]) == {3}
    agent = summary[summary.policy == AGENT].iloc[0]
    assert agent["value"] == pytest.approx(2.0) and agent["runs"] == 1
    d = paired[(paired.policy == AGENT) & (paired.reference == BASELINE)].iloc[0]
    assert d["diff"] == pytest.approx(4.0 / 3.0) and d["interval"] == "seeds"
    assert d["wins"] == 1.0 and np.isnan(d["poi"])  # one run: no probability over runs
    assert {"p_holm", "var_ratio", "boot_low", "boot_high"} <= set(paired.columns)


def test_each_run_plays_its_own_block_and_the_interval_is_over_runs():
    rng = np.random.default_rng(0)
    blocks = {"run_seed0": list(range(100, 140)), "run_seed1": list(range(200, 240))}
    market = {s: rng.normal() for b in blocks.values() for s in b}
    results = {
        "overall": {
            "run_seed0": _results(
                [market[s] + 1.0 for s in blocks["run_seed0"]], blocks["run_seed0"]
            ),
            "run_seed1": _results(
                [market[s] + 1.2 for s in blocks["run_seed1"]], blocks["run_seed1"]
            ),
            # the reference played every block, in another order
            BASELINE: _results(
                [market[s] for s in sorted(market, reverse=True)], sorted(market, reverse=True)
            ),
        }
    }
    runs = list(blocks)
    pairs = [(AGENT, BASELINE), *[(r, BASELINE) for r in runs]]
    summary, paired = tabulate(results, ["m"], blocks, [BASELINE], pairs)
    rows = summary.set_index("policy")
    assert rows.loc[AGENT, "runs"] == 2 and rows.loc[AGENT, "n"] == 80
    assert rows.loc[BASELINE, "runs"] == 2 and rows.loc[BASELINE, "n"] == 80
    assert rows.loc["run_seed0", "runs"] == 1 and rows.loc["run_seed1", "n"] == 40
    pooled = paired[paired.policy == AGENT].iloc[0]
    assert pooled["interval"] == "runs" and pooled["runs"] == 2 and pooled["n"] == 80
    assert pooled["diff"] == pytest.approx(1.1)
    # the table's columns subtract: agent mean - baseline mean = the difference
    assert rows.loc[AGENT, "value"] - rows.loc[BASELINE, "value"] == pytest.approx(1.1)
    assert pooled["per_run"] == "1 1.2"
    assert pooled["wins"] == 1.0 and pooled["poi"] == 1.0
    assert pooled["var_ratio"] < 0.05  # the common market removes almost all the variance


def test_holm_adjusts_across_conditions():
    rng = np.random.default_rng(1)
    seeds = list(range(12))
    results = {
        cond: {
            AGENT: _results(rng.normal(shift, 1, 12), seeds),
            BASELINE: _results(np.zeros(12), seeds),
        }
        for cond, shift in (("overall", 1.5), ("ranging", 0.8), ("high_vol", 0.0))
    }
    _, paired = tabulate(results, ["m"], {AGENT: seeds}, [BASELINE], [(AGENT, BASELINE)])
    p = paired["p_value"].to_numpy()
    order = np.argsort(p)
    assert paired["p_holm"].to_numpy()[order[0]] == pytest.approx(3 * p[order[0]])
    assert np.all(paired["p_holm"] >= paired["p_value"])


def test_compare_refuses_seeds_outside_its_family(mm_run, cli, capsys):
    assert cli("compare", mm_run, "--seed", "1000000", "--episodes", "2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "evaluation seeds" in err and "--allow-eval-seeds" in err
    assert cli("compare", mm_run, "--seed", "999999", "--episodes", "2") == 2  # straddles
    assert "mixed seeds" in capsys.readouterr().err
    # a final claim cannot be made on development seeds, nor the other way round
    args = ("--family", "final", "--seed", "2000000", "--episodes", "2")
    assert cli("compare", mm_run, *args) == 2
    err = capsys.readouterr().err
    assert "development family, not in --family final (from 3,000,000)" in err
    out = mm_run.parent / "eval_seeds"
    args = ("--seed", "1000000", "--episodes", "2", "--no-regimes", "--out", out)
    assert cli("compare", mm_run, *args, "--allow-eval-seeds", "--metric", "pnl") == 0
    printed = capsys.readouterr().out
    assert "WARNING" in printed and "evaluation seeds" in printed and "not a claim" in printed
    report = (out / "report.md").read_text()
    assert "agent 1000000..1000001" in report and "**evaluation** seeds" in report
    assert "**These seeds are not of a scoring family" in report


def test_compare_on_the_final_family_states_a_claim(mm_run, cli, capsys):
    out = mm_run.parent / "final"
    args = ("--family", "final", "--episodes", "2", "--no-regimes", "--out", out)
    assert cli("compare", mm_run, *args) == 0
    assert "not a claim" not in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "agent 3000000..3000001" in report and "a **final** family" in report
    assert report.index("## Summary") < report.index("## Verdict")

    # README's results are generated from these files, between two markers
    from mm_gym_agents.results import BEGIN, END

    readme = mm_run.parent / "README.md"
    readme.write_text(f"# x\n\n{BEGIN}\nold numbers\n{END}\n\nafter\n")
    capsys.readouterr()
    assert cli("results", out, "--readme", readme) == 0
    text = readme.read_text()
    assert "old numbers" not in text and text.endswith(f"{END}\n\nafter\n")
    assert "**Final family** (1 training runs" in text
    summary = pd.read_csv(out / "compare" / "summary.csv")
    row = summary[(summary.policy == AGENT) & (summary.metric == "episode_return")].iloc[0]
    assert f"| overall | {row['value']:.2f} |" in text
    # the same differences as a figure, one row per condition and reference
    from mm_gym_agents.results import results_differences

    diffs = results_differences([out])
    paired = pd.read_csv(out / "compare" / "paired.csv")
    first = paired[(paired.policy == AGENT) & (paired.metric == "episode_return")].iloc[0]
    got = diffs[(diffs.condition == first.condition) & (diffs.reference == first.reference)]
    assert got["diff"].iloc[0] == pytest.approx(first["diff"])
    figure = mm_run.parent / "results.png"
    assert cli("results", out, "--figure", figure) == 0
    assert figure.stat().st_size > 5000
    assert cli("results", mm_run.parent / "nothing") == 2
    assert "no meta.json (expected a folder written by compare)" in capsys.readouterr().err


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
    assert "Holm-adjusted across" in report
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
    assert "the agent (2 runs)" in printed and "t interval over 2 runs" in printed
    folder = runs / "tiny_compare"
    summary = pd.read_csv(folder / "compare" / "summary.csv")
    agent = summary[(summary.policy == AGENT) & (summary.metric == "pnl")].iloc[0]
    assert agent["runs"] == 2 and agent["n"] == 4
    assert {"tiny_seed0", "tiny_seed1"} <= set(summary.policy)
    episodes = pd.read_csv(folder / "compare" / "episodes_overall_tiny_seed1.csv")
    assert episodes["seed"].tolist() == [2_010_000, 2_010_001]  # run 1's own block
    report = (folder / "report.md").read_text()
    assert "## Runs" in report and "IQM" in report and "2 runs x 2 seeds" in report

    other = write_yaml(tmp_path / "other.yaml", tiny(total_timesteps=64, n_envs=2).to_dict())
    assert cli("train", "--config", other, "--runs-dir", runs, "--run-name", "odd") == 0
    capsys.readouterr()
    assert cli("compare", paths[0], runs / "odd", "--episodes", "1") == 2
    assert "differs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("compare", "RUN", "--workers", "0"), "expected a whole number >= 1"),
        (("compare", "RUN", "--family", "test"), "invalid choice: 'test'"),
        (("train", "--config", "ppo", "--seeds", "0-2", "--workers", "0"), ">= 1"),
        (("train", "--config", "ppo", "--seeds", "3-1"), "a range runs upwards, like 0-9"),
    ],
)
def test_bad_worker_family_and_seed_range_options_are_one_line(cli, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        cli(*argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_worker_counts_are_checked_where_they_are_used(bad):
    from mm_gym_agents.workers import check_workers

    with pytest.raises(ConfigError, match=rf"--workers={bad!r}: expected an integer >= 1"):
        check_workers(bad)
