"""Commands that other installed packages add to ``mm-gym``, through entry points.

- ``mm_gym.commands``: ``add_parser(subparsers)`` callables, one per package or module; each
  registers its subcommands as the modules of ``mm_gym.commands`` do.
- ``mm_gym.tune_targets``: ``add_parser(subparsers)`` callables that add a target to
  ``mm-gym tune`` (the agents' ``tune agent``), with ``add_study_options`` of
  ``mm_gym.commands.tune`` for the study's options.
- ``mm_gym.executors``: ``concurrent.futures.Executor`` classes that spread a command's work
  over machines, by name; ``ray`` (the agents' ``RayPool``, with the cluster extra) backs
  every command's ``--ray ADDRESS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import entry_points

from mm_gym.errors import ConfigError

__all__ = [
    "COMMAND_GROUP",
    "EXECUTOR_GROUP",
    "TUNE_TARGET_GROUP",
    "add_ray_option",
    "load_executor",
    "load_plugins",
]

COMMAND_GROUP = "mm_gym.commands"
TUNE_TARGET_GROUP = "mm_gym.tune_targets"
EXECUTOR_GROUP = "mm_gym.executors"


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


def add_ray_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--ray ADDRESS``: ``what`` the command does on a Ray cluster (the cluster extra)."""
    p.add_argument(
        "--ray",
        metavar="ADDRESS",
        help=f"{what}; ADDRESS: the head's HOST:PORT or auto (needs the cluster extra)",
    )


def load_executor(name: str) -> Callable:
    """The executor class registered as ``name`` in ``mm_gym.executors``, or a ConfigError
    saying what installs it."""
    for ep in entry_points(group=EXECUTOR_GROUP, name=name):
        try:
            return ep.load()
        except ImportError as err:
            raise ConfigError(
                f"--{name}: its executor {ep.value} does not load ({err}); "
                "pip install 'mm-gym[agents,cluster]'"
            ) from None
    raise ConfigError(f"--{name}: no executor installed; pip install 'mm-gym[agents,cluster]'")
