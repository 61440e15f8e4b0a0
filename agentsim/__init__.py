"""agentsim: multi-agent social simulation with scripted, RL and LLM agents.

Public entry points: :func:`make_env`, :func:`list_envs`, :class:`Agent`,
:class:`Decision`, :func:`run_episode`, :func:`make_agent`.
"""

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
