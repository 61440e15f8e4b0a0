"""agentsim: multi-agent social simulation with scripted, RL and LLM agents.

Public entry points: :func:`make_env`, :func:`make_gym_env`, :func:`list_envs`,
:class:`Agent`, :class:`Decision`, :func:`run_episode`, :func:`make_agent`,
:class:`PolicyAgent` (a trained policy as an agent); a new environment registers its
:class:`Study` with :func:`register_study`; the command line is ``agentsim.cli.main(argv)``.
"""

import importlib
import types

from agentsim.agents.base import Agent, Decision, Usage
from agentsim.agents.policy import PolicyAgent
from agentsim.agents.registry import register_agent
from agentsim.envs.gym_view import make_gym_env
from agentsim.envs.registry import list_envs, make_env, register_env
from agentsim.envs.study import (
    Estimate,
    Experiment,
    LLMBinding,
    Study,
    agent_kinds,
    get_study,
    make_agent,
    register_study,
)
from agentsim.runtime.llm_runtime import llm_context
from agentsim.runtime.runner import EpisodeResult, arun_episode, run_episode

__all__ = [
    "Agent",
    "Decision",
    "EpisodeResult",
    "Estimate",
    "Experiment",
    "LLMBinding",
    "PolicyAgent",
    "Study",
    "Usage",
    "agent_kinds",
    "arun_episode",
    "get_study",
    "list_envs",
    "llm_context",
    "make_agent",
    "make_env",
    "make_gym_env",
    "register_agent",
    "register_env",
    "register_study",
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
