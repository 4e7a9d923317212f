"""The command-line reference, generated from ``mm-gym``'s parsers (``docs/cli.md``); the one
module above ``cli``.

``python -m mm_gym.cli_reference > docs/cli.md`` writes it; a test checks that the page is
what the parsers say, so an option added or changed without the page fails there.
"""

from __future__ import annotations

import argparse

from mm_gym.cli import build_parser

__all__ = ["cli_reference"]

HEADER = """# CLI reference

Generated from the parsers (`python -m mm_gym.cli_reference > docs/cli.md`); the
[command line](commands.md) page says what each command is for. Commands of installed
plug-ins (the agents' `train`, `compare`, `watch`, ...) are listed as their packages add them.
"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if action.nargs != 0:
                name += f" {action.metavar or action.dest.upper()}"
        else:
            name = action.metavar or action.dest.upper()
            if action.nargs in ("+", "*"):
                name += " ..."
        default = action.default
        shown = "" if default in (None, False, argparse.SUPPRESS) else f"`{default}`"
        if action.choices is not None and not isinstance(action.choices, dict):
            choices = ", ".join(map(str, action.choices))
            help_text = f"{action.help or ''} (one of: {choices})"
        else:
            help_text = action.help or ""
        rows.append(f"| `{_cell(name)}` | {_cell(help_text)} | {_cell(shown)} |")
    return rows


def _section(name: str, parser: argparse.ArgumentParser, level: int) -> list[str]:
    lines = [f"{'#' * level} {name}", ""]
    about = parser.description or ""
    if about:
        lines += [_cell(about), ""]
    rows = _option_rows(parser)
    if rows:
        lines += ["| argument | what | default |", "|---|---|---|", *rows, ""]
    for sub_name, sub in _subcommands(parser).items():
        lines += _section(f"{name} {sub_name}", sub, level + 1)
    return lines


def cli_reference(parser: argparse.ArgumentParser) -> str:
    """The markdown reference of every command of ``parser`` (``mm-gym``'s), in name order."""
    lines = [HEADER]
    for name, sub in sorted(_subcommands(parser).items()):
        lines += _section(f"mm-gym {name}", sub, 2)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(cli_reference(build_parser()), end="")
