"""``mm-gym calibrate``: the simulator fitted to a recording (the shipped five minutes of
LOBSTER's AAPL sample) matches its facts; the intraday pattern's fit; errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyarrow", reason="the data extra reads recordings")

from mm_gym.cli import main  # noqa: E402
from mm_gym.data.convert import convert  # noqa: E402
from mm_gym.market import realism as rz  # noqa: E402
from mm_gym.market.calibrate import (  # noqa: E402
    TARGETS,
    calibrate,
    fit_intraday_amplitude,
)
from mm_gym.market.config import MarketConfig  # noqa: E402
from mm_gym.market.recorded import record_recording  # noqa: E402

pytestmark = pytest.mark.slow

AAPL = Path(__file__).resolve().parents[1] / "data" / "LOBSTER_AAPL_2012-06-21_0930-0935_1.zip"


@pytest.fixture(scope="module")
def aapl(tmp_path_factory) -> Path:
    return convert([AAPL], tmp_path_factory.mktemp("rec") / "aapl.parquet")["path"]


@pytest.fixture(scope="module")
def fitted(aapl):
    record = record_recording(aapl)
    return record, calibrate(
        record, markets=4, hours=0.25, rounds=4, shares_per_lot=10, log=lambda _: None
    )


def test_five_minutes_tell_only_the_1_s_std_and_the_volatility_is_fitted_to_it(fitted):
    record, cal = fitted
    matched = cal.matched()
    # the facts' own sample rules: 300 one-second returns are enough, 300 clock samples
    # (spread, executions) or a few hundred trades (sign ACF) are not
    assert matched == {
        "ret_std_1s": True,
        "ret_std_1min": None,
        "spread_bps": None,
        "executions_per_s": None,
        "sign_acf_lag1": None,
    }, cal.ratios()
    assert cal.rounds["ret_std_1s ratio"].iloc[0] < 0.67  # the start was far off
    assert 0.95 <= cal.ratios()["ret_std_1s"] <= 1.05


def test_the_levers_of_a_known_market_are_recovered():
    """A 'recording' simulated from a market with known levers: the calibration, on other
    seeds, finds them again and matches every fact, also on seeds it never saw."""
    start = MarketConfig.preset("small_tick")
    truth = start.replace(
        market_rate=0.7, limit_fair_offset_ticks=6.0, limit_pull_ticks=5.5, metaorder_alpha=1.9
    )
    truth = truth.replace(
        regimes={
            n: {"vol_bps_per_sqrt_s": p.vol_bps_per_sqrt_s * 1.3} for n, p in truth.regimes.items()
        }
    )
    record = rz.collect(truth, 8, 1.0, seed=500)
    cal = calibrate(record, markets=8, hours=1.0, seed=0, rounds=6, log=lambda _: None)
    assert cal.start == "small_tick"
    assert all(cal.matched().values()), cal.ratios()
    m = cal.market
    assert m.market_rate == pytest.approx(0.7, rel=0.15)
    assert m.limit_fair_offset_ticks == pytest.approx(6.0, abs=1.0)
    assert m.metaorder_alpha == pytest.approx(1.9, abs=0.3)
    # the markets' slow log-volatility factor (sd 0.35, 8 h half-life) draws each market's
    # level: the mean of 8 markets' volatility has a standard error of about 12%
    vol = m.regimes["ranging"].vol_bps_per_sqrt_s
    assert vol == pytest.approx(truth.regimes["ranging"].vol_bps_per_sqrt_s, rel=0.3)
    held_out = rz.market_stats(rz.collect(m, 8, 1.0, seed=2000)).values
    for key in TARGETS:
        assert 0.67 <= held_out[key] / cal.recording.values[key] <= 1.5, key


def test_a_recording_too_cheap_for_the_grid_is_one_line(fitted):
    import dataclasses

    from mm_gym.errors import ConfigError
    from mm_gym.market.calibrate import starting_market

    record, cal = fitted
    cheap = dataclasses.replace(record, mid=record.mid / 100.0)  # about $5.86 on a 1-cent grid
    with pytest.raises(ConfigError, match="586 ticks of 0.01; the simulator needs at least 1000"):
        starting_market(cheap, cal.recording)


def test_it_starts_from_the_nearest_market_on_the_recordings_grid(fitted):
    record, cal = fitted
    assert cal.start == "small_tick"  # AAPL's spread is about 15 ticks
    assert cal.market.tick_size == pytest.approx(record.tick_size)
    assert cal.market.initial_price == pytest.approx(record.mid[0, 0], abs=record.tick_size)
    assert cal.intraday_amplitude is None  # five minutes are not a day
    assert any("intraday pattern" in n and "kept the start's" in n for n in cal.notes)
    assert list(cal.rounds["round"]) == list(range(1, len(cal.rounds) + 1))


def _record(mid: np.ndarray) -> rz.MarketRecord:
    steps = mid.size - 1
    return rz.MarketRecord(
        market=None, tick_size=0.01, seeds=np.zeros(1, np.int64), dt=1.0, mid=mid[None],
        spread_ticks=np.ones((1, steps)), depth_bid=np.zeros((0, 1, 5), np.int64),
        depth_ask=np.zeros((0, 1, 5), np.int64), events=np.zeros((1, steps)),
        volume=np.zeros((1, steps)), trade_times=[np.zeros(0)], trade_signs=[np.zeros(0)],
        trades_dropped=0,
    )  # fmt: skip


@pytest.mark.parametrize("amplitude", [0.0, 0.3, 0.6])
def test_the_intraday_amplitude_is_recovered_from_a_day(amplitude):
    day = 23_400
    u = (np.arange(day) + 0.5) / day
    level = 1.0 + amplitude * (3.0 * (2.0 * u - 1.0) ** 2 - 1.0)
    r = np.random.default_rng(7).standard_normal(day) * level * 1e-4
    mid = 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))
    fitted = fit_intraday_amplitude(_record(mid), day)
    assert fitted == pytest.approx(amplitude, abs=0.08)
    assert fit_intraday_amplitude(_record(mid[: day // 2]), day) is None  # half a day


def test_the_command_writes_a_market_that_market_accepts(aapl, tmp_path, capsys):
    out = tmp_path / "aapl.yaml"
    report = tmp_path / "report"
    argv = ["calibrate", str(aapl), "--out", str(out), "--markets", "2", "--hours", "0.1",
            "--rounds", "2", "--report", str(report)]  # fmt: skip
    assert main(argv) == 0
    market = MarketConfig.preset(str(out))
    assert market.tick_size == pytest.approx(0.01)
    text = (report / "report.md").read_text()
    assert "## Facts side by side" in text and "| default |" in text.replace(" default /", "")
    for png in ("calibration.png", "trade_sign_acf.png"):
        assert (report / png).stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "m.txt"], "--out 'm.txt': expected a .yaml file"),
        (["--out", "m.yaml", "--rounds", "0"], "--rounds"),
        (["--out", "m.yaml", "--shares-per-lot", "-1"], "--shares-per-lot"),
    ],
)
def test_bad_options_are_one_line(aapl, tmp_path, capsys, args, message):
    argv = ["calibrate", str(aapl), *args, "--report", str(tmp_path / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
