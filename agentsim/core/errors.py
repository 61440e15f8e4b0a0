"""Exception types shared by every layer.

User errors (bad config, bad CLI arguments, a missing run directory) derive from
:class:`UserError`; the CLI prints them as one line and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable


class AgentsimError(Exception):
    """Base class of every error agentsim raises on purpose."""


class UserError(AgentsimError):
    """Something the user can fix: a bad argument, a missing file, a wrong mode."""


class ConfigError(UserError, ValueError):
    """An invalid configuration value; names the key and what is allowed.

    Example:
        >>> raise ConfigError("pairing", "zigzag", ["paper", "released_code"])
        Traceback (most recent call last):
        ...
        agentsim.core.errors.ConfigError: invalid pairing='zigzag'; allowed: paper, released_code
    """

    def __init__(self, key: str, value: object, allowed: Iterable[object] | str) -> None:
        self.key = key
        self.value = value
        allowed_text = allowed if isinstance(allowed, str) else ", ".join(str(a) for a in allowed)
        self.allowed = allowed_text
        super().__init__(f"invalid {key}={_short_repr(value)}; allowed: {allowed_text}")

    @classmethod
    def unknown_key(cls, key: str, known: Iterable[str]) -> ConfigError:
        """Error for a key that is not a setting at all."""
        err = cls(key, None, sorted(known))
        err.args = (f"unknown key {key!r}; allowed keys: {err.allowed}",)
        return err


def _short_repr(value: object, limit: int = 200) -> str:
    # repr escapes control characters; the cut keeps a hostile value to one line (and
    # repr of an int over 4300 digits would itself raise).
    if isinstance(value, int) and abs(value) >= 10**limit:
        return f"<an integer of {value.bit_length()} bits>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class BudgetExceeded(AgentsimError):
    """The run's LLM budget (calls, tokens or dollars) is spent; the run stops at a checkpoint."""


class ReplayMiss(AgentsimError):
    """Replay mode found no cached reply for a request; replay never calls a provider."""
