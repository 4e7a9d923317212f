"""The ``mm-gym`` command: one entry point, one subcommand per job.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``, which sets
``func`` on its parser. A user's mistake (``ConfigError``) prints one line on stderr and
exits with status 2; nothing is overwritten.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mm_gym.errors import ConfigError

# subcommand name -> module; agents' commands import torch only when run
AGENTS_EXTRA = ("torch", "stable_baselines3", "sb3_contrib", "tensorboard")
COMMANDS = {
    "bench": "mm_gym.commands.bench",
    "backtest": "mm_gym.commands.backtest",
    "facts": "mm_gym.commands.facts",
    "train": "agents.commands",
    "evaluate": "agents.commands",
    "compare": "agents.commands",
    "results": "agents.commands",
    "demo": "agents.commands",
    "watch": "agents.watch",
    "tune": "mm_gym.commands.tune",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mm-gym",
        description="Market-making environments, the rule-based baseline and RL agents.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    seen = set()
    for module_name in COMMANDS.values():
        if module_name in seen:
            continue
        seen.add(module_name)
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        if COMMANDS.get(args.command, "").startswith("agents."):
            for name in AGENTS_EXTRA[:2]:  # before the command writes anything
                importlib.import_module(name)
        return int(args.func(args) or 0)
    except ConfigError as err:
        print(f"mm-gym {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] not in AGENTS_EXTRA:
            raise
        print(
            f"mm-gym {args.command}: error: this command needs the agents extra "
            f"(no module named {err.name!r}): pip install 'mm-gym[agents]'",
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
