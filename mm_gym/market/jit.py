"""``njit_unliteral``: ``numba.njit(cache=True)`` for the kernel functions that other kernels
call with constant arguments (a side, a message slot, a flag); each compiles once.

Called from another jitted function, a numba function sees a constant argument as its value
(``receive(i, 0, ...)`` passes ``Literal[int](0)``, ``market_order(..., True, ...)``
``Literal[bool](True)``) and compiles once more for each combination of values it is passed,
on top of its compile for the plain types: 17 more compiles of the kernels, ``market_order``
alone 2 to 4 seconds each, a quarter of their first compile. An ``njit_unliteral`` function
is compiled for its arguments' plain types (``int64``, ``bool``) whatever its callers pass:
one compile for every caller, a constant converted as for any call. A branch on such an
argument is taken at run time, not pruned at compile time (LLVM still folds it wherever it
inlines the call).
"""

from __future__ import annotations

from numba import config
from numba.core import types
from numba.core.registry import CPUDispatcher


class UnliteralDispatcher(CPUDispatcher):
    """numba's CPU dispatcher, typing a call from jitted code by its arguments' plain types."""

    def get_call_template(self, args, kws):
        """numba's hook for a call from jitted code (``types.Dispatcher.get_call_type``):
        compiles for, and types the call with, the arguments stripped of their literal
        values."""
        args = tuple(types.unliteral(a) for a in args)
        kws = {k: types.unliteral(v) for k, v in kws.items()}
        return super().get_call_template(args, kws)


def njit_unliteral(func):
    """``numba.njit(cache=True)(func)``, compiled once per argument types (see above)."""
    if config.DISABLE_JIT:
        return func
    dispatcher = UnliteralDispatcher(
        py_func=func, locals={}, targetoptions={"nopython": True, "boundscheck": None}
    )
    dispatcher.enable_caching()
    return dispatcher
