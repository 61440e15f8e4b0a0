"""Validated, frozen configuration dataclasses and ``--set key=value`` overrides.

Config classes are frozen dataclasses that validate themselves in
``__post_init__`` with the checks below; every failure is a
:class:`~agentsim.core.errors.ConfigError` naming the key and the allowed values.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import numpy as np

from agentsim.core.errors import ConfigError

T = TypeVar("T")


def check_choice(key: str, value: object, allowed: Iterable[object]) -> None:
    """Raise ConfigError unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(key, value, allowed)


def check_number(
    key: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> None:
    """Raise ConfigError unless ``value`` is a number (an int if ``integer``) in [low, high].

    numpy scalars count as numbers (``np.int64(12)`` is an integer); bools never do.

    Example:
        >>> import numpy as np
        >>> check_number("agents", np.int64(12), low=2, integer=True)
        >>> check_number("agents", True, low=2, integer=True)
        Traceback (most recent call last):
        ...
        agentsim.core.errors.ConfigError: invalid agents=True; allowed: an integer >= 2
    """
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, numbers.Integral if integer else numbers.Real)
    if isinstance(value, bool | np.bool_) or not ok_type:
        raise ConfigError(key, value, _range_text(kind, low, high))
    # Python and numpy numbers compare with floats; typed as float for mypy (checked above).
    number = typing.cast(float, value)
    if not (integer or _is_finite_float(number)):
        raise ConfigError(key, value, "a finite " + _range_text(kind, low, high)[2:])
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(key, value, _range_text(kind, low, high))


def _is_finite_float(number: float) -> bool:
    # An int beyond float range (10**400) would turn into inf in any float arithmetic.
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def plain_scalar(value: Any) -> Any:
    """``value`` as a Python scalar if it is a numpy scalar (so configs serialise as JSON).

    Example:
        >>> import numpy as np
        >>> type(plain_scalar(np.int64(12))).__name__, plain_scalar("paper")
        ('int', 'paper')
    """
    return value.item() if isinstance(value, np.generic) else value


def _range_text(kind: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{kind} in [{low}, {high}]"
    if low is not None:
        return f"{kind} >= {low}"
    if high is not None:
        return f"{kind} <= {high}"
    return kind


def field_names(cls: type) -> list[str]:
    """Names of a config dataclass's fields, in declaration order."""
    return [f.name for f in dataclasses.fields(cls)]


def build_config(cls: type[T], values: Mapping[str, Any]) -> T:
    """Build ``cls`` from a mapping, rejecting unknown keys with the list of known ones.

    numpy scalar values are passed on as Python scalars (see :func:`plain_scalar`).
    """
    known = field_names(cls)
    for key in values:
        if key not in known:
            raise ConfigError.unknown_key(key, known)
    return cls(**{key: plain_scalar(value) for key, value in values.items()})


def parse_overrides(cls: type, items: Iterable[str]) -> dict[str, Any]:
    """Parse ``key=value`` strings into typed values for the fields of ``cls``.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class C:
        ...     rounds: int = 12
        ...     pairing: str = "paper"
        >>> parse_overrides(C, ["rounds=6", "pairing=released_code"])
        {'rounds': 6, 'pairing': 'released_code'}
    """
    hints = typing.get_type_hints(cls)
    known = field_names(cls)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("--set", item, "key=value with key one of " + ", ".join(known))
        if key not in known:
            raise ConfigError.unknown_key(key, known)
        out[key] = _coerce(key, raw.strip(), hints[key])
    return out


def _coerce(key: str, raw: str, hint: Any) -> Any:
    args = typing.get_args(hint)
    if type(None) in args and raw.lower() in ("none", "null", ""):
        return None
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    try:
        if base is bool:
            if raw.lower() in ("true", "1", "yes", "on"):
                return True
            if raw.lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError(raw)
        if base is int:
            return int(raw)
        if base is float:
            return float(raw)
    except ValueError:
        raise ConfigError(key, raw, f"a value of type {base.__name__}") from None
    return raw


def config_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass."""
    return dataclasses.asdict(config)
