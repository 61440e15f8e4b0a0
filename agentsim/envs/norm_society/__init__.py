"""``norm_society_v0``: Li et al. 2024 (EvolutionaryAgent) norm-evolving society (Parallel).

An approximate reproduction (the paper's norm texts, questionnaire and rubric are not
public; ours are written from its description), on a social network.
"""

from agentsim.envs.norm_society.config import NormSocietyConfig
from agentsim.envs.norm_society.env import NormSocietyEnv

__all__ = ["NormSocietyConfig", "NormSocietyEnv"]
