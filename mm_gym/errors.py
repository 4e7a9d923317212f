"""The one error type for invalid user input."""


class ConfigError(ValueError):
    """An invalid configuration value, action, file or name.

    The message names the field, the value given and what is allowed.
    """


class ActionError(ConfigError):
    """An action of the wrong shape, or holding NaN or infinity."""


class RunError(ConfigError):
    """A run folder, model file or checkpoint that is missing, corrupt or already taken."""


class DataError(ConfigError):
    """A recording that cannot be read: names the file, the line and what was expected."""


def first_line(err: BaseException) -> str:
    """The first line of an error's message (its type's name when the message is empty):
    what a one-line report of an error from elsewhere (a database, a worker) quotes."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
