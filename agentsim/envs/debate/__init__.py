"""``debate_v0``: Taubenfeld et al. 2024 debates and Salvi et al. 2024 persuasion (AEC)."""

from agentsim.envs.debate.config import DebateConfig
from agentsim.envs.debate.env import DebateEnv

__all__ = ["DebateConfig", "DebateEnv"]
