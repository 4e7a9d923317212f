"""``mm-gym data convert|info`` from the command line."""

from __future__ import annotations

from pathlib import Path

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
