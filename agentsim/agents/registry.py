"""Agent registry: build agents by kind from JSON-ready parameters.

Kinds are scoped: each environment's study registers its own kinds under its env id
(``llm`` is a different agent in the donor game and in a debate), and a user's
:func:`register_agent` without ``env`` adds a kind usable in every environment.
Populations store members as ``(kind, params)`` so that a checkpoint is plain JSON;
``make_agent`` turns them back into agents.

Example:
    >>> a = make_agent("fixed_fraction", name="1_1", fraction=0.25)
    >>> a.name, agent_params(a)
    ('1_1', {'fraction': 0.25})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentsim.core.errors import ConfigError
from agentsim.core.registry import Registry

Factory = Callable[..., Any]

#: Kinds of one environment, registered by its study: env id -> kind -> factory.
_SCOPED: dict[str, dict[str, Factory]] = {}


def _load_builtins(registry: Registry[Factory]) -> None:
    # The built-in envs' kinds live in this layer, so they load with the registry itself
    # (before the first lookup or registration), whether or not a study was loaded yet.
    from agentsim.agents.llm.debate import LLMDebater
    from agentsim.agents.llm.donor import LLMDonorAgent
    from agentsim.agents.llm.norm_society import LLMNormAgent
    from agentsim.agents.llm.web_shop import WebShopLLMAgent
    from agentsim.agents.scripted.debate import DEBATERS
    from agentsim.agents.scripted.donor import STRATEGIES
    from agentsim.agents.scripted.norm_society import NORM_AGENTS
    from agentsim.agents.scripted.persuasion import AGENTS as PERSUASION
    from agentsim.agents.scripted.web_shop import KINDS as WEB_SHOP

    builtins: dict[str, list[Any]] = {
        "donor_game_v0": [*STRATEGIES, LLMDonorAgent],
        "debate_v0": [*DEBATERS, *PERSUASION, LLMDebater],
        "web_shop_v0": [*WEB_SHOP, WebShopLLMAgent],
        "norm_society_v0": [*NORM_AGENTS, LLMNormAgent],
    }
    for env, classes in builtins.items():
        for cls in classes:
            _SCOPED.setdefault(env, {})[cls.kind] = cls


#: Kinds usable in every environment (registered by users without ``env``); loading it
#: also loads the built-in envs' kinds.
_GLOBAL: Registry[Factory] = Registry("agent kind", _load_builtins)


def register_agent(kind: str, factory: Factory, *, env: str | None = None) -> None:
    """Register a factory ``factory(**params) -> agent`` under ``kind``.

    Args:
        kind: the name used in populations (``mirror:6``).
        factory: builds the agent from its parameters.
        env: the env id the kind belongs to; None makes it usable in every env (and it
            then takes precedence over an env's own kind of the same name).
    """
    if env is None:
        _GLOBAL.register(kind, factory)
    else:
        _GLOBAL.names()  # built-ins first, so a study's kind replaces a built-in one
        _SCOPED.setdefault(env, {})[kind] = factory


def unregister_kinds(env: str) -> None:
    """Forget the kinds registered for ``env`` (its study is being removed)."""
    _GLOBAL.names()  # loads the built-ins, so they cannot come back later
    _SCOPED.pop(env, None)


def agent_kinds(env: str | None = None) -> list[str]:
    """Kinds usable in ``env`` (its own and the global ones); all kinds when env is None."""
    _GLOBAL.names()  # loads the built-ins
    scoped = _SCOPED.get(env, {}) if env is not None else _all_scoped()
    return sorted({*scoped, *_GLOBAL.names()})


def kinds_by_env() -> dict[str, list[str]]:
    """Each env's own kinds (``"*"``: the kinds usable everywhere)."""
    _GLOBAL.names()  # loads the built-ins
    out = {env: sorted(kinds) for env, kinds in sorted(_SCOPED.items())}
    if _GLOBAL.names():
        out["*"] = _GLOBAL.names()
    return out


def _all_scoped() -> dict[str, Factory]:
    return {k: f for kinds in _SCOPED.values() for k, f in kinds.items()}


def resolve_kind(kind: str, env: str | None = None) -> Factory:
    """The factory of ``kind`` in ``env`` (global kinds first).

    Without an env, a kind that several envs define differently is ambiguous.

    Raises:
        ConfigError: an unknown or ambiguous kind, naming the allowed kinds or envs.
    """
    if kind in _GLOBAL:  # (loads the built-ins)
        return _GLOBAL.get(kind)
    if env is not None:
        factory = _SCOPED.get(env, {}).get(kind)
        if factory is None and env not in _SCOPED:
            raise ConfigError("env", env, sorted(_SCOPED))
        if factory is None:
            raise ConfigError("agent kind", kind, agent_kinds(env))
        return factory
    owners = {e: kinds[kind] for e, kinds in _SCOPED.items() if kind in kinds}
    if len(set(owners.values())) == 1:
        return next(iter(owners.values()))
    if not owners:
        raise ConfigError("agent kind", kind, agent_kinds())
    raise ConfigError(
        "agent kind", kind, f"a kind of one env: {kind} exists in {', '.join(owners)}; pass env="
    )


def make_agent(kind: str, *, env: str | None = None, name: str | None = None, **params: Any) -> Any:
    """Build an agent of a registered kind; bad kinds or parameters raise ConfigError."""
    factory = resolve_kind(kind, env)
    try:
        agent = factory(**params)
    except TypeError as exc:
        raise ConfigError(f"{kind} parameters", params, str(exc)) from None
    if name is not None:
        agent.name = name
    return agent


def agent_params(agent: Any) -> dict[str, Any]:
    """The JSON-ready parameters of an agent built by :func:`make_agent` (``{}`` if none)."""
    params = getattr(agent, "params", None)
    return dict(params()) if callable(params) else {}
