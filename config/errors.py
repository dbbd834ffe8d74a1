"""Configuration errors that entry points report as one line instead of a traceback."""


class ConfigError(Exception):
    """Raised for bad settings or an unusable database; the message is shown to the user as is."""
