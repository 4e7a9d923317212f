"""``mm-gym competition``: its files, its figure, and its one-line errors."""

from __future__ import annotations

import re

import matplotlib.image as mpimg
import pandas as pd
import pytest

from mm_gym import cli


def test_competition_writes_its_table_figure_and_report(tmp_path, capsys):
    out = tmp_path / "comp"
    rc = cli.main(
        ["competition", "--makers", "1,2", "--books", "3", "--hours", "0.05", "--out", str(out)]
    )
    assert rc == 0
    table = pd.read_csv(out / "competition.csv", index_col="makers")
    assert table.index.tolist() == [1, 2]
    report = (out / "report.md").read_text()
    assert "mm-gym competition --makers 1,2 --books 3 --hours 0.05" in report
    assert "| 2 |" in report and "![competition](competition.png)" in report
    assert mpimg.imread(out / "competition.png").shape[2] in (3, 4)
    printed = capsys.readouterr().out
    assert "fills/h per maker" in printed and "+-" in printed


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--makers", "1,9"], r"--makers='1,9': expected distinct integers from 1 to 8"),
        (["--makers", "2,2"], r"--makers='2,2'"),
        (["--makers", "two"], r"--makers='two'"),
        (["--books", "1"], r"--books=1: expected an integer >= 2"),
        (["--hours", "0"], r"--hours='0'"),
        (["--market", "nowhere"], r"nowhere"),
    ],
)
def test_bad_options_are_one_line_errors(argv, match, tmp_path, capsys):
    assert cli.main(["competition", *argv, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mm-gym competition: error:")
    assert re.search(match, err), err
    assert not (tmp_path / "x").exists()
