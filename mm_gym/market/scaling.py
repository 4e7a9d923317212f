"""Linear maps between the unit box [-1, 1] and parameter ranges (actions <-> parameters)."""

from __future__ import annotations

import numpy as np


def unit_to_range(arr: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Map [-1, 1] linearly onto [low, high] per component."""
    return low + (arr + 1.0) * 0.5 * (high - low)


def range_to_unit(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Inverse of ``unit_to_range``: map [low, high] back onto [-1, 1]."""
    return 2.0 * (np.asarray(values, dtype=np.float64) - low) / (high - low) - 1.0
