"""One small registry type for every named table (envs, studies, agent kinds, report sections).

A registry loads its built-ins lazily, before the first lookup *or* registration, so a
user who registers a kind of their own first does not hide the built-in kinds.

Example:
    >>> colours = Registry[str]("colour", builtins=lambda r: r.register("red", "#f00"))
    >>> colours.register("blue", "#00f")
    >>> colours.names()
    ['blue', 'red']
    >>> colours.get("red")
    '#f00'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from agentsim.core.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind; unknown names raise ConfigError listing the known ones.

    Args:
        what: the entry's name in error messages ("env", "agent kind", ...).
        builtins: called once with the registry before its first use, to register the
            package's own entries (imported lazily, so listing stays cheap).
    """

    def __init__(self, what: str, builtins: Callable[[Registry[T]], None] | None = None) -> None:
        self.what = what
        self._entries: dict[str, T] = {}
        self._builtins = builtins
        self._loading = threading.RLock()
        self._loaded = builtins is None

    def _ensure(self) -> None:
        if self._loaded:
            return
        with self._loading:
            if self._loaded:
                return
            self._loaded = True  # set first: the loader itself registers through us
            assert self._builtins is not None  # _loaded is False only with a loader
            try:
                self._builtins(self)
            except BaseException:
                self._loaded = False
                raise

    def register(self, name: str, entry: T, *, replace: bool = True) -> None:
        """Register ``entry`` under ``name`` (built-ins are loaded first)."""
        self._ensure()
        if not replace and name in self._entries:
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._entries[name] = entry

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a no-op if it is not registered)."""
        self._ensure()
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry named ``name``; unknown names raise ConfigError with the known ones."""
        self._ensure()
        if name not in self._entries:
            raise ConfigError(self.what, name, self.names())
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        self._ensure()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._ensure()
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs, sorted by name."""
        self._ensure()
        return sorted(self._entries.items())
