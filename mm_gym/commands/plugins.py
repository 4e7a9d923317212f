"""Commands that other installed packages add to ``mm-gym``, through entry points.

- ``mm_gym.commands``: ``add_parser(subparsers)`` callables, one per package or module; each
  registers its subcommands as the modules of ``mm_gym.commands`` do.
- ``mm_gym.tune_targets``: ``add_parser(subparsers)`` callables that add a target to
  ``mm-gym tune`` (the agents' ``tune agent``), with ``add_study_options`` of
  ``mm_gym.commands.tune`` for the study's options.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import entry_points

__all__ = ["COMMAND_GROUP", "TUNE_TARGET_GROUP", "load_plugins"]

COMMAND_GROUP = "mm_gym.commands"
TUNE_TARGET_GROUP = "mm_gym.tune_targets"


def load_plugins(group: str) -> list[Callable]:
    """The loaded objects of entry-point ``group``, in name order. One that fails to load is
    skipped with a one-line warning: a broken package must not take the other commands down."""
    loaded = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            loaded.append(ep.load())
        except Exception as err:  # noqa: BLE001 - any failure inside someone else's package
            print(
                f"mm-gym: warning: entry point {ep.name!r} of {group} ({ep.value}): {err}",
                file=sys.stderr,
            )
    return loaded
