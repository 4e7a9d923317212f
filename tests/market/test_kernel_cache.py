"""The notice printed when the market kernels have no cached machine code."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

from mm_gym.market import kernel_cache
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
    assert not kernel_cache.cache_missing(advance)
    capsys.readouterr()  # a notice of this first compile, if the cache was cold
    monkeypatch.setattr(kernel_cache, "_announced", False)
    MarketSim(2)
    assert capsys.readouterr().err == ""


def test_a_kernel_without_cache_is_announced_once_then_cached(tmp_path, monkeypatch, capsys):
    twice = _fresh_kernel(tmp_path)
    monkeypatch.setattr(kernel_cache, "_announced", False)
    assert kernel_cache.cache_missing(twice)
    kernel_cache.announce_first_compile(twice)
    kernel_cache.announce_first_compile(twice)
    err = capsys.readouterr().err
    assert err.count("compiling the market kernels") == 1
    assert str(tmp_path) in err  # says where the cache goes
    assert twice(3) == 6
    assert not kernel_cache.cache_missing(twice)


def test_a_function_without_a_cache_is_never_announced(monkeypatch, capsys):
    monkeypatch.setattr(kernel_cache, "_announced", False)
    kernel_cache.announce_first_compile(len)  # not a numba function: nothing to tell
    assert not kernel_cache.cache_missing(len)
    assert capsys.readouterr().err == ""


def test_stale_caches_are_cleared_and_fresh_ones_kept(tmp_path):
    folder = tmp_path / "__pycache__"
    folder.mkdir()
    for name in ("flow.pull_stale-95.py311.nbi", "flow.pull_stale-95.py311.1.nbc", "flow.pyc"):
        (folder / name).write_text("x")
    assert kernel_cache.clear_stale([folder], "aaa") == [folder]  # no stamp yet: stale
    assert sorted(p.name for p in folder.iterdir()) == ["flow.pyc", kernel_cache.STAMP]
    (folder / "flow.pull_stale-95.py311.nbi").write_text("x")
    assert kernel_cache.clear_stale([folder], "aaa") == []  # compiled from these sources
    assert (folder / "flow.pull_stale-95.py311.nbi").exists()
    assert kernel_cache.clear_stale([folder], "bbb") == [folder]  # a source changed
    assert not (folder / "flow.pull_stale-95.py311.nbi").exists()
    assert (folder / kernel_cache.STAMP).read_text().strip() == "bbb"


def test_the_digest_covers_every_kernel_source_and_changes_with_any(tmp_path):
    sources = kernel_cache.kernel_sources()
    names = {p.relative_to(kernel_cache.PACKAGE).as_posix() for p in sources}
    # the event loop, a layout whose constants compile in, the envs' numba module
    assert {"market/event_loop.py", "market/layout.py", "envs/observations.py"} <= names
    assert "cli.py" not in names  # no numba there: editing it keeps the caches
    copy = tmp_path / "mm_gym"
    for path in sources:
        target = copy / path.relative_to(kernel_cache.PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    copied = kernel_cache.kernel_sources(copy)
    digest = kernel_cache.sources_digest(copied, copy)
    assert digest == kernel_cache.sources_digest(sources)
    layout = copy / "market" / "layout.py"
    layout.write_text(layout.read_text() + "\n")
    assert kernel_cache.sources_digest(copied, copy) != digest


def test_the_loaded_kernels_caches_carry_the_current_stamp():
    MarketSim(2)  # checks once per process
    dirs = kernel_cache._cache_dirs()
    assert dirs, "no numba cache folders found for the loaded kernels"
    digest = kernel_cache.sources_digest(kernel_cache.kernel_sources())
    for folder in dirs:
        assert (folder / kernel_cache.STAMP).read_text().strip() == digest
