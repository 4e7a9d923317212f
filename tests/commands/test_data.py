"""``mm-gym data convert|info`` from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mm_gym import cli

SLICE = Path(__file__).resolve().parents[1] / "data" / "LOBSTER_GOOG_2012-06-21_0930-0932_10.zip"


def test_convert_then_info(tmp_path, capsys):
    out = tmp_path / "goog.parquet"
    assert cli.main(["data", "convert", str(SLICE), "--out", str(out)]) == 0
    assert "lobster GOOG 2012-06-21" in capsys.readouterr().out and out.is_file()
    assert cli.main(["data", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "levels                 10" in text and "trade events" in text


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "GOOG_2012-06-21_1_2_message_10.csv"
    bad.write_text("1,2,3\n")
    out = tmp_path / "x.parquet"
    assert cli.main(["data", "convert", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mm-gym data: error:") and "\n" not in err
    assert not out.exists()
    assert cli.main(["data", "convert", str(SLICE), "--out", str(out), "--chunk-rows", "0"]) == 2
    assert "--chunk-rows=0" in capsys.readouterr().err


def test_facts_of_a_recording_stand_beside_the_simulated_ones(tmp_path, capsys):
    rec = tmp_path / "goog.parquet"
    assert cli.main(["data", "convert", str(SLICE), "--out", str(rec)]) == 0
    out = tmp_path / "facts"
    args = ["facts", "--markets", "2", "--hours", "0.05", "--data", str(rec), "--out", str(out)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "recording" in printed and "GOOG 2012-06-21" in printed
    report = (out / "report.md").read_text()
    assert "| fact | simulated | recording | AAPL | GOOG |" in report
    facts = pd.read_csv(out / "facts.csv", index_col="key")
    # two minutes of GOOG: a spread of many one-cent ticks, a few bps
    assert facts.loc["spread_ticks", "recording"] > 5
    assert 1 < facts.loc["spread_bps", "recording"] < 20
    assert np.isnan(facts.loc["mm_baseline_up_vs_ranging", "recording"])
    for name in ("return_acf", "abs_return_acf", "signature", "trade_sign_acf"):
        assert (out / f"{name}.png").stat().st_size > 1000  # the recording's curves beside


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tick", "0.01"], "--tick: only with --data"),
        (["--data", "missing.parquet"], "missing.parquet: no such file"),
        (["--data", "x.parquet", "--tick", "abc"], "--tick='abc': expected a price > 0"),
    ],
)
def test_facts_data_errors_are_one_line(tmp_path, capsys, args, message):
    out = tmp_path / "x"
    assert cli.main(["facts", "--markets", "2", "--hours", "0.05", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()
