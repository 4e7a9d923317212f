"""A one-line notice when the market kernels are about to compile.

numba compiles the kernels on their first call in a fresh install (about a minute on a
2-core machine) and caches the machine code (next to the modules, or under
``NUMBA_CACHE_DIR`` where the package is read-only); later processes load it in a second.
Without a word, that first minute looks like a hang.
"""

from __future__ import annotations

import sys
from pathlib import Path

_announced = False


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
        f"mm_gym: compiling the market kernels for this machine (once, about a minute; "
        f"cached in {cache})",
        file=sys.stderr,
        flush=True,
    )
