"""The notice printed when the market kernels have no cached machine code."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

from mm_gym.market import compile_notice
from mm_gym.market.event_loop import advance
from mm_gym.market.sim import MarketSim


def _fresh_kernel(tmp_path):
    """A ``cache=True`` function in a module of its own that has never been compiled."""
    src = tmp_path / "fresh_kernel.py"
    src.write_text(
        "import numba as nb\n\n\n@nb.njit(cache=True)\ndef twice(x):\n    return 2 * x\n"
    )
    spec = importlib.util.spec_from_file_location("fresh_kernel", src)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fresh_kernel"] = module
    spec.loader.exec_module(module)
    return module.twice


def test_a_compiled_kernel_is_in_the_cache_and_no_notice_is_printed(monkeypatch, capsys):
    sim = MarketSim(2)
    sim.reset(np.arange(2))
    sim.advance(1.0, np.tile([1.0, 0.5, 1.0], (2, 1)))
    assert not compile_notice.cache_missing(advance)
    monkeypatch.setattr(compile_notice, "_announced", False)
    MarketSim(2)
    assert capsys.readouterr().err == ""


def test_a_kernel_without_cache_is_announced_once_then_cached(tmp_path, monkeypatch, capsys):
    twice = _fresh_kernel(tmp_path)
    monkeypatch.setattr(compile_notice, "_announced", False)
    assert compile_notice.cache_missing(twice)
    compile_notice.announce_first_compile(twice)
    compile_notice.announce_first_compile(twice)
    err = capsys.readouterr().err
    assert err.count("compiling the market kernels") == 1
    assert str(tmp_path) in err  # says where the cache goes
    assert twice(3) == 6
    assert not compile_notice.cache_missing(twice)


def test_a_function_without_a_cache_is_never_announced(monkeypatch, capsys):
    monkeypatch.setattr(compile_notice, "_announced", False)
    compile_notice.announce_first_compile(len)  # not a numba function: nothing to tell
    assert not compile_notice.cache_missing(len)
    assert capsys.readouterr().err == ""
