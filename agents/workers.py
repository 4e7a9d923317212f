"""Processes for work that runs side by side (training runs, comparison conditions), here or
on a Ray cluster."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from typing import Any

from mm_gym.errors import ConfigError

__all__ = ["check_workers", "job_pool", "process_pool"]


def check_workers(workers: Any) -> int:
    """``workers`` as given, or a ConfigError naming it unless it is an integer >= 1."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers={workers!r}: expected an integer >= 1")
    return workers


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of ``workers`` fresh (spawned) processes: nothing of the parent's torch or numba
    threads is inherited."""
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))


def job_pool(workers: int, ray: str | None = None) -> cf.Executor:
    """``workers`` local processes, or with ``ray`` (an address) one-CPU tasks on that Ray
    cluster (``mm_gym_agents.cluster``)."""
    if ray is None:
        return process_pool(workers)
    if workers > 1:
        raise ConfigError("--workers: not with --ray (the cluster's CPUs set how many run at once)")
    from mm_gym_agents.cluster import RayPool

    return RayPool(ray)
