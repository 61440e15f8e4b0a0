"""Environment registry: ``make_env`` and ``list_envs``.

Every study registers its env (see :mod:`agentsim.envs.study`); :func:`register_env`
adds a bare env factory (no study: it can be made and played with ``run_episode``,
but ``agentsim run`` needs a study).

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

# env id -> "module:factory" or a factory, for envs registered without a study.
_ENVS: dict[str, str | Callable[..., Any]] = {}


def register_env(env_id: str, entry_point: str | Callable[..., Any]) -> None:
    """Register an environment factory (``"module:attr"`` or a callable) under an id."""
    _ENVS[env_id] = entry_point


def list_envs() -> list[str]:
    """Ids of all registered environments (with or without a study), sorted."""
    from agentsim.envs.study import study_ids

    return sorted({*_ENVS, *study_ids()})


def env_factory(env_id: str) -> Callable[..., Any]:
    """The factory registered for ``env_id``; unknown ids raise ConfigError."""
    from agentsim.envs.study import STUDIES

    entry = _ENVS.get(env_id)
    if entry is None:
        if env_id not in STUDIES:
            raise ConfigError("env", env_id, list_envs())
        return STUDIES.get(env_id).make_env
    if callable(entry):
        return entry
    module, _, attr = entry.partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return factory


def make_env(env_id: str, api: str | None = None, **config: Any) -> Any:
    """Build a PettingZoo env (``ParallelEnv`` or ``AECEnv``) by id.

    Args:
        env_id: a registered id (:func:`list_envs`).
        api: ``None`` for the env as registered; ``"aec"`` for its AEC view: a parallel
            env wrapped in :func:`agentsim.envs.aec.aec_env` (turns as PettingZoo's
            ``parallel_to_aec`` plays them, at less cost), an AEC env as it is.
        **config: the env's settings.

    Raises:
        ConfigError: (a ``ValueError``) for an unknown id, an unknown ``api`` or an invalid
            config value.
    """
    if api not in (None, "aec"):
        raise ConfigError("api", api, [None, "aec"])
    env = env_factory(env_id)(**config)
    if api == "aec":
        from agentsim.envs.aec import aec_env

        return aec_env(env)
    return env
