"""Environment registry: ``make_env`` and ``list_envs``.

Example:
    >>> from agentsim.envs.registry import list_envs, make_env
    >>> "donor_game_v0" in list_envs()
    True
    >>> env = make_env("donor_game_v0", agents=4)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from agentsim.core.errors import ConfigError

# env id -> "module:factory"; imported lazily so that listing envs is cheap.
_ENVS: dict[str, str] = {
    "donor_game_v0": "agentsim.envs.donor_game:DonorGameEnv",
}


def register_env(env_id: str, entry_point: str | Callable[..., Any]) -> None:
    """Register an environment factory (``"module:attr"`` or a callable) under an id."""
    if isinstance(entry_point, str):
        _ENVS[env_id] = entry_point
    else:
        _ENVS[env_id] = f"{entry_point.__module__}:{entry_point.__qualname__}"


def list_envs() -> list[str]:
    """Ids of all registered environments, sorted."""
    return sorted(_ENVS)


def env_factory(env_id: str) -> Callable[..., Any]:
    """The factory registered for ``env_id``; unknown ids raise ConfigError."""
    if env_id not in _ENVS:
        raise ConfigError("env", env_id, list_envs())
    module, _, attr = _ENVS[env_id].partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return factory


def make_env(env_id: str, **config: Any) -> Any:
    """Build a PettingZoo env (``ParallelEnv`` or ``AECEnv``) by id.

    Raises:
        ConfigError: (a ``ValueError``) for an unknown id or an invalid config value.
    """
    return env_factory(env_id)(**config)
