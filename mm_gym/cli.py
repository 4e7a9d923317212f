"""The ``mm-gym`` command: one entry point, one subcommand per job.

Each command module exposes ``add_parser(subparsers)``, which sets ``func`` on its parser. The
env's own commands are the modules of ``mm_gym.commands``; other installed packages add theirs
through the ``mm_gym.commands`` entry-point group (the agents' train, evaluate, compare,
results, demo and watch come that way), so ``mm_gym`` names no package above it. A parser that
sets ``requires`` (module names) gets them imported before its command writes anything.

A user's mistake (``ConfigError``) prints one line on stderr and exits with status 2; nothing
is overwritten.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mm_gym.commands import backtest, bench, calibrate, competition, data, facts, tune
from mm_gym.commands.plugins import COMMAND_GROUP, load_plugins
from mm_gym.errors import ConfigError

__all__ = ["build_parser", "main"]

BUILT_IN = (bench, backtest, facts, competition, calibrate, data, tune)
# third-party modules of the extras: a command missing one says what to install
EXTRA_OF = {
    "torch": "agents",
    "stable_baselines3": "agents",
    "sb3_contrib": "agents",
    "tensorboard": "agents",
    "pyarrow": "data",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mm-gym",
        description="Market-making environments, the rule-based baseline and RL agents.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in BUILT_IN:
        module.add_parser(sub)
    for add_parser in load_plugins(COMMAND_GROUP):
        add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        for name in getattr(args, "requires", ()):  # before the command writes anything
            importlib.import_module(name)
        return int(args.func(args) or 0)
    except ConfigError as err:
        print(f"mm-gym {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        extra = EXTRA_OF.get((err.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"mm-gym {args.command}: error: this command needs the {extra} extra "
            f"(no module named {err.name!r}): pip install 'mm-gym[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except OSError as err:  # an unwritable output folder, a full disk, ...
        print(f"mm-gym {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mm-gym {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
