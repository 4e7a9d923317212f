"""numba's cache of the kernels: a one-line notice when they are about to compile, and
caches cleared when any kernel source changed.

numba compiles the kernels on their first call in a fresh install (about 20 s on an idle
2-core machine, 40 s on a busy one; each kernel function compiles once,
``jit.njit_unliteral``) and caches the machine code (next to the modules, or under
``NUMBA_CACHE_DIR`` where the package is read-only); later processes load it in a second.
Without a word, that wait looks like a hang.

numba checks a cached function against its own source file only: a caller compiled before
an edit of a function it calls in another module, or of a layout constant it reads, keeps
the old machine code. ``clear_stale_caches`` keeps a digest of every kernel source beside the
caches and clears them when it no longer matches.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # mm_gym/
KERNEL_PACKAGES = ("market", "strategy")  # kernels and the layouts whose constants compile in
STAMP = "mm_gym_kernels.sha256"  # the digest the caches in a folder were compiled from

_announced = False
_checked = False


def cache_missing(dispatcher) -> bool:
    """Whether numba's cache holds no machine code for ``dispatcher`` (a ``cache=True``
    function); False when that cannot be told (another numba, or caching off)."""
    try:
        index = Path(dispatcher._cache._cache_file._index_path)
    except AttributeError:
        return False
    return not index.exists()


def announce_first_compile(dispatcher) -> None:
    """Print, once per process, that the kernels compile now when ``dispatcher`` has no
    cached machine code."""
    global _announced
    if _announced or not cache_missing(dispatcher):
        return
    _announced = True
    cache = Path(dispatcher._cache._cache_path)
    print(
        f"mm_gym: compiling the market kernels for this machine (once, 30 to 50 s on 2 cores; "
        f"cached in {cache})",
        file=sys.stderr,
        flush=True,
    )


def kernel_sources(package: Path = PACKAGE) -> list[Path]:
    """The sources the kernels compile from: every module of ``KERNEL_PACKAGES`` and every
    other module of the package that uses numba, sorted."""
    found = set()
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).parts
        if rel[0] in KERNEL_PACKAGES or "numba" in path.read_text(errors="replace"):
            found.add(path)
    return sorted(found)


def sources_digest(paths: Iterable[Path], root: Path = PACKAGE) -> str:
    """sha256 over the files' names (relative to ``root``) and contents."""
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def clear_stale(cache_dirs: Iterable[Path], digest: str) -> list[Path]:
    """In each folder whose stamp is not ``digest``, delete numba's cache files (``*.nbi``,
    ``*.nbc``) and write the stamp; returns the folders cleared. A folder that cannot be
    written is left as it is (numba then compiles without caching there)."""
    cleared = []
    for folder in cache_dirs:
        stamp = folder / STAMP
        try:
            if stamp.read_text().strip() == digest:
                continue
        except OSError:
            pass
        try:
            for cached in [*folder.glob("*.nbi"), *folder.glob("*.nbc")]:
                cached.unlink(missing_ok=True)
            folder.mkdir(parents=True, exist_ok=True)
            stamp.write_text(digest + "\n")
        except OSError:
            continue
        cleared.append(folder)
    return cleared


def _cache_dirs() -> set[Path]:
    """The cache folders of the numba functions of the loaded modules of the package."""
    dirs = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("mm_gym.") or module is None:
            continue
        for obj in vars(module).values():
            try:
                dirs.add(Path(obj._cache._cache_path))
            except (AttributeError, TypeError):
                continue
    return dirs


def clear_stale_caches() -> list[Path]:
    """Once per process: clear the kernels' caches compiled from other sources."""
    global _checked
    if _checked:
        return []
    _checked = True
    return clear_stale(_cache_dirs(), sources_digest(kernel_sources()))
