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
