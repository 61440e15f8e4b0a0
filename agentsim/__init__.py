"""agentsim: multi-agent social simulation with scripted, RL and LLM agents.

Public entry points: :func:`make_env`, :func:`list_envs`, :class:`Agent`,
:class:`Decision`, :func:`run_episode`, :func:`make_agent`; the command line is
``agentsim.cli.main(argv)``.
"""

import importlib
import types

from agentsim.agents.base import Agent, Decision, Usage
from agentsim.agents.registry import agent_kinds, make_agent, register_agent
from agentsim.envs.gym_view import make_gym_env
from agentsim.envs.registry import list_envs, make_env, register_env
from agentsim.runtime.runner import EpisodeResult, arun_episode, run_episode

__all__ = [
    "Agent",
    "Decision",
    "EpisodeResult",
    "Usage",
    "agent_kinds",
    "arun_episode",
    "list_envs",
    "make_agent",
    "make_env",
    "make_gym_env",
    "register_agent",
    "register_env",
    "run_episode",
]
__version__ = "0.1.0"

# Submodules reachable as attributes without an import of their own (``agentsim.cli.main``,
# as the README shows); imported on first use so ``import agentsim`` stays cheap.
_LAZY_SUBMODULES = ("cli",)


def __getattr__(name: str) -> types.ModuleType:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"agentsim.{name}")
    raise AttributeError(f"module 'agentsim' has no attribute {name!r}")
