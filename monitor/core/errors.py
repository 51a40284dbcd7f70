"""Errors a user can act on.

The CLI prints them as one `error:` line (exit 2); the UI shows them with st.error.
"""


class MonitorError(Exception):
    """Base class: the message says what is wrong and what to do."""


class ConfigError(MonitorError):
    """monitor.toml (or an environment variable) is invalid."""


class InputError(MonitorError):
    """A command-line argument, file or filter value is invalid."""
