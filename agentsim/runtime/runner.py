"""Play one episode of any PettingZoo env with any agents.

``run_episode`` works for ``ParallelEnv`` and ``AECEnv`` and for agents with a
sync ``act`` or an async ``aact``. In a parallel env, all decisions of a step are
issued concurrently, so a round of LLM agents costs one model latency, not six.

Agents that do not act this step (``infos[agent]["acting"] is False``, e.g. the
recipients of a donor-game round) are not asked; the env gets a no-op action.

Example:
    >>> import agentsim
    >>> from agentsim.agents.scripted.donor import Cooperator
    >>> env = agentsim.make_env("donor_game_v0", agents=4, rounds=4)
    >>> result = run_episode(env, {a: Cooperator() for a in env.possible_agents}, seed=0)
    >>> result.steps, round(sum(result.returns.values()))
    (8, 880)
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from agentsim.agents.base import Decision, decide, has_async
from agentsim.core.records import Record, make_record
from agentsim.core.seeding import seat_seed
from agentsim.llm.recording import collect_prompt_hashes
from agentsim.llm.types import gather_or_cancel

_CONTEXT_KEYS = ("generation", "game", "round")


#: What a decision record holds for an observation part rendered from other records.
RENDERED = {"rendered_from_records": True}


@runtime_checkable
class LeavesOut(Protocol):
    """A recorder that wants some observation keys left out of decision records (a study's
    parts rendered from other records, such as a debate's transcript): not even copied."""

    unrecorded: tuple[str, ...]


@runtime_checkable
class RecordSource(Protocol):
    """An env that hands the runner its own records after each step."""

    def pop_records(self) -> list[Record]: ...


@runtime_checkable
class Settles(Protocol):
    """An env whose step can leave asynchronous work for the runner (an LLM judge's
    verdicts): after every step the runner awaits ``asettle(observations)`` and the agents
    see the observations it returns. Used synchronously, such an env settles by itself."""

    async def asettle(self, observations: dict[str, Any]) -> dict[str, Any]: ...


class Recorder(Protocol):
    """Where records go: the run directory's event log, a list, ..."""

    def record(self, record: Record) -> None: ...

    def flush(self) -> None: ...


def discards(rec: Recorder) -> bool:
    """Whether a recorder drops everything (the runner then skips building records)."""
    return isinstance(rec, NullRecorder) or bool(getattr(rec, "discard", False))


class NullRecorder:
    """Discards records (summary-only runs); the runner skips building them."""

    discard = True

    def record(self, record: Record) -> None:
        pass

    def flush(self) -> None:
        pass


class ListRecorder:
    """Keeps records in memory (what ``run_episode`` returns when no recorder is given)."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def record(self, record: Record) -> None:
        self.records.append(record)

    def flush(self) -> None:
        pass


@dataclass
class EpisodeResult:
    """Outcome of one episode: summed rewards per agent, steps, and the records written."""

    returns: dict[str, float]
    steps: int
    records: list[Record] = field(default_factory=list)


def run_episode(
    env: Any,
    agents: Mapping[str, Any],
    *,
    seed: int | None,
    recorder: Recorder | None = None,
    options: dict[str, Any] | None = None,
) -> EpisodeResult:
    """Play one episode and return its result (records are also sent to ``recorder``).

    Raises:
        ValueError: if an env agent has no agent in ``agents``.
        RuntimeError: if called from a running event loop with async agents
            (use :func:`arun_episode` there).
    """
    return asyncio.run(arun_episode(env, agents, seed=seed, recorder=recorder, options=options))


async def arun_episode(
    env: Any,
    agents: Mapping[str, Any],
    *,
    seed: int | None,
    recorder: Recorder | None = None,
    options: dict[str, Any] | None = None,
) -> EpisodeResult:
    """Async form of :func:`run_episode`, for running many episodes concurrently."""
    missing = [a for a in env.possible_agents if a not in agents]
    if missing:
        raise ValueError(f"no agent given for {', '.join(missing)}")
    keep = recorder is None
    rec: Recorder = ListRecorder() if recorder is None else recorder
    if isinstance(env, AECEnv):
        returns, steps = await _run_aec(env, agents, seed, rec, options)
    else:
        returns, steps = await _run_parallel(env, agents, seed, rec, options)
    rec.flush()
    records = rec.records if keep and isinstance(rec, ListRecorder) else []
    return EpisodeResult(returns, steps, records)


def run_batch_episode(
    play: Any,
    env: Any,
    agents: Mapping[str, Any],
    *,
    seed: int | None,
    recorder: Recorder,
    options: dict[str, Any] | None = None,
) -> Any | None:
    """Play a study's vectorised episode (``play``, an
    :class:`~agentsim.envs.study.BatchEpisode`) into ``recorder``, as :func:`arun_episode`
    records the PettingZoo episode: the agents are reset with the same seeds, each step's
    decisions are recorded by the same code, then the env's records, then a flush.

    Returns:
        The episode's results (the env's ``EpisodeResults``), or None when ``play``
        declined these agents (nothing was recorded; play the PettingZoo episode).
    """
    record = not discards(recorder)
    index = {a: i for i, a in enumerate(env.possible_agents)}

    def reset(seat: str) -> None:
        agents[seat].reset(seed=agent_seed(seed, index[seat]))

    steps = play(env, agents, seed=seed, options=dict(options or {}), record=record, reset=reset)
    if steps is None:
        return None
    step = 0
    while True:
        try:
            batch_step = next(steps)
        except StopIteration as done:
            recorder.flush()  # as arun_episode ends
            return done.value
        for seat, decision, observation in batch_step.decisions:
            _record_decision(recorder, step, seat, decision, observation, [])
        for r in batch_step.records:
            recorder.record(r)
        recorder.flush()
        step += 1


#: A decision and the prompt hashes of the LLM calls made for it.
Traced = tuple[Decision, list[str]]


async def _traced(agent: Any, observation: Any) -> Traced:
    with collect_prompt_hashes() as hashes:
        decision = await decide(agent, observation)
    return decision, hashes


async def _decide_all(
    agents: Mapping[str, Any], acting: list[str], observations: Mapping[str, Any]
) -> list[Traced]:
    """All decisions of a step: async agents concurrently, sync agents called directly."""
    pending = [a for a in acting if has_async(agents[a])]
    gathered = await gather_or_cancel([_traced(agents[a], observations[a]) for a in pending])
    by_agent: dict[str, Traced] = dict(zip(pending, gathered, strict=True))
    return [
        by_agent[a] if a in by_agent else await _traced(agents[a], observations[a]) for a in acting
    ]


async def _run_parallel(
    env: Any,
    agents: Mapping[str, Any],
    seed: int | None,
    rec: Recorder,
    options: dict[str, Any] | None,
) -> tuple[dict[str, float], int]:
    observations, infos = env.reset(seed=seed, options=options)
    _reset_agents(agents, env.possible_agents, seed)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    settles = env.unwrapped if isinstance(env.unwrapped, Settles) else None
    step = 0
    while env.agents:
        acting = [a for a in env.agents if infos.get(a, {}).get("acting", True)]
        decisions = await _decide_all(agents, acting, observations)
        actions = {a: _noop(env.action_space(a)) for a in env.agents}
        for a, (d, hashes) in zip(acting, decisions, strict=True):
            actions[a] = d.action
            _record_decision(rec, step, a, d, observations[a], hashes)
        observations, rewards, _, _, infos = env.step(actions)
        if settles is not None:
            observations = await settles.asettle(observations)
        for a, r in rewards.items():
            returns[a] += float(r)
        _record_env(rec, env)
        rec.flush()
        step += 1
    return returns, step


async def _run_aec(
    env: Any,
    agents: Mapping[str, Any],
    seed: int | None,
    rec: Recorder,
    options: dict[str, Any] | None,
) -> tuple[dict[str, float], int]:
    env.reset(seed=seed, options=options)
    _reset_agents(agents, env.possible_agents, seed)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    settles = env.unwrapped if isinstance(env.unwrapped, Settles) else None
    step = 0
    for a in env.agent_iter():
        observation, reward, terminated, truncated, _ = env.last()
        returns[a] += float(reward)
        if terminated or truncated:
            env.step(None)
            continue
        d, hashes = await _traced(agents[a], observation)
        _record_decision(rec, step, a, d, observation, hashes)
        env.step(d.action)
        if settles is not None:
            await settles.asettle({})  # an AEC env's agents observe through last()
        _record_env(rec, env)
        rec.flush()
        step += 1
    return returns, step


def _reset_agents(agents: Mapping[str, Any], order: list[str], seed: int | None) -> None:
    # Each agent gets its own seed derived from the episode seed and its seat.
    seeds = np.random.SeedSequence(seed).spawn(len(order)) if seed is not None else None
    for i, a in enumerate(order):
        agent_seed = int(seeds[i].generate_state(1)[0]) if seeds is not None else None
        agents[a].reset(seed=agent_seed)


def agent_seed(seed: int | None, index: int) -> int | None:
    """The seed :func:`_reset_agents` gives seat ``index`` (see ``core.seeding.seat_seed``)."""
    return seat_seed(seed, index)


def _noop(space: spaces.Space[Any]) -> Any:
    if isinstance(space, spaces.Box):
        return np.zeros(space.shape, dtype=space.dtype)
    if isinstance(space, spaces.Discrete):
        return int(space.start)
    return space.sample()


def _record_decision(
    rec: Recorder, step: int, agent: str, d: Decision, obs: Any, hashes: list[str]
) -> None:
    """Record a decision with what the agent observed and the prompts of its LLM calls.

    ``observation`` holds the observation (less the context keys, recorded beside it),
    so a decision can be read without rebuilding the env state; ``prompt_hashes`` names
    the calls, whose full messages the run keeps (``agentsim show RUN --decision N``).
    """
    if discards(rec):
        return
    is_map = isinstance(obs, Mapping)
    context = {
        k: c for k in _CONTEXT_KEYS if is_map and (c := _context_int(obs.get(k))) is not None
    }
    # LeavesOut's check, without a runtime protocol check per decision (~20 µs each).
    skip: tuple[str, ...] = getattr(rec, "unrecorded", ())
    seen = (
        {k: RENDERED if k in skip else _plain(v) for k, v in obs.items() if k not in context}
        if is_map
        else _plain(obs)
    )
    extra = dict(d.extra)
    # An agent that reports its own calls (the LLM driver does) is trusted over the trace.
    hashes = list(extra.pop("prompt_hashes", None) or hashes)
    usage = d.usage
    rec.record(
        make_record(
            "decision",
            step=step,
            agent=agent,
            action=_plain(d.action),
            parse_status=d.parse_status,
            rationale=d.rationale,
            raw=d.raw,
            llm_calls=usage.calls,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            **context,
            observation=seen,
            **({"prompt_hashes": hashes} if hashes else {}),
            **extra,
        )
    )


def _context_int(value: Any) -> int | None:
    """An observation's context value (generation, game, round) as the int the schema wants:
    an int, or a one-element integer-valued array (``Box(shape=(1,))``); None otherwise (it
    then stays in the recorded observation only)."""
    arr = np.asarray(value) if value is not None else None
    if arr is None or arr.size != 1 or arr.dtype.kind not in "iuf" or isinstance(value, bool):
        return None
    number = arr.reshape(()).item()
    return int(number) if float(number).is_integer() else None


def _record_env(rec: Recorder, env: Any) -> None:
    if discards(rec):
        return
    # Envs of a study declare pop_records (EpisodeResults); other PettingZoo envs have none.
    if isinstance(env.unwrapped, RecordSource):
        for r in env.unwrapped.pop_records():
            rec.record(r)


def _plain(value: Any) -> Any:
    """JSON-ready copy of an action or observation value."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    return value
