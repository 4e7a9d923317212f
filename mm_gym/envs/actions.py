"""Checking actions of every env: shape, finiteness, clipping to the Box(-1, 1)."""

from __future__ import annotations

import numpy as np

from mm_gym.errors import ActionError


def check_actions(actions: object, num_envs: int, dim: int) -> np.ndarray:
    """Return actions as float64 ``(num_envs, dim)``; raise ActionError on shape, NaN or inf.

    A single env passes ``num_envs=1`` and an action of shape ``(dim,)`` or ``(1, dim)``.
    """
    want = f"({dim},)" if num_envs == 1 else f"({num_envs}, {dim})"
    try:
        arr = np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError):
        hint = ""
        if isinstance(actions, tuple) and len(actions) == 2:
            hint = " (predict returns (actions, state): pass its first element)"
        raise ActionError(f"action {actions!r}: expected numbers of shape {want}{hint}") from None
    if num_envs == 1 and arr.shape == (dim,):
        arr = arr.reshape(1, dim)
    if arr.shape != (num_envs, dim):
        raise ActionError(f"action shape {arr.shape}: expected {want}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ActionError(
            f"action[{', '.join(map(str, bad))}]={arr[tuple(bad)]}: NaN or infinity is not allowed"
        )
    return arr


def clip_unit(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clip to [-1, 1]; return the clipped array and, per env, how many components were clipped."""
    clipped = np.clip(arr, -1.0, 1.0)
    return clipped, (clipped != arr).sum(axis=1)
