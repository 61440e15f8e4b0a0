"""The norm society's vectorised episode: a scripted population decides as arrays.

The study's :attr:`~agentsim.envs.study.Study.batch` (the mechanism of the donor game's,
:mod:`agentsim.envs.donor_batch`): when every member is a scripted trait agent
(:mod:`agentsim.agents.scripted.norm_society`) and the observer and audit judge are
rule-based, a step of ``norm_society_v0`` (Li et al. 2024, arXiv:2401.04620) is played
on the env itself, whose rounds are already whole-population array operations, with all
agents' actions of a round computed at once
(:func:`~agentsim.agents.scripted.norm_society.act_population`) instead of one ``act``
call per agent through the runner. The env writes the records, so they are the
PettingZoo path's; its state across steps (norms, graph) stays in the env.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agentsim.agents.base import Decision
from agentsim.agents.scripted.norm_society import TraitAgent, act_population
from agentsim.envs.norm_society.env import NormSocietyEnv
from agentsim.envs.study import BatchPlay, BatchStep


def play_batch(
    env: Any,
    agents: Mapping[str, Any],
    *,
    seed: int | None,
    options: Mapping[str, Any],
    record: bool,
    reset: Callable[[str], None],
) -> BatchPlay | None:
    """The norm society's :class:`~agentsim.envs.study.BatchEpisode`.

    Returns None unless ``env`` is a ``norm_society_v0`` env judged by rules (an LLM
    judge settles asynchronously, which only the runner does) and every agent a trait
    agent whose ``act`` is the class's own.
    """
    society = env.unwrapped
    if not isinstance(society, NormSocietyEnv) or "llm" in (
        society.config.observer,
        society.config.audit_observer,
    ):
        return None
    seated = [agents[a] for a in society.possible_agents]
    if not all(isinstance(a, TraitAgent) and type(a).act is TraitAgent.act for a in seated):
        return None
    for name in society.possible_agents:
        reset(name)  # every trait agent seeds its noise (and its first traits)
    return _episode(env, society, seated, seed, dict(options), record)


def _episode(
    env: Any,
    society: NormSocietyEnv,
    agents: list[TraitAgent],
    seed: int | None,
    options: dict[str, Any],
    record: bool,
) -> BatchPlay:
    names = society.possible_agents
    observations, _ = env.reset(seed=seed, options=options)
    while env.agents:
        seen = [observations[a] for a in names]
        actions = act_population(agents, seen)
        decisions = (
            [(a, Decision(action=actions[i]), seen[i]) for i, a in enumerate(names)]
            if record
            else []
        )
        observations, *_ = env.step(dict(zip(names, actions, strict=True)))
        yield BatchStep(decisions, society.pop_records() if record else [])
    return society
