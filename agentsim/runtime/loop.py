"""The generation loop of an experiment, written to a run directory.

Each generation: build the members' agents, play one episode (one generation of
the env), record the env's results, select survivors, create new members through
the reproduction hook, checkpoint. The env provides its results through three
methods, so the same loop serves every generational env:

- ``scores()``: selection score per seat;
- ``episode_records(ids)``: result records of the episode (e.g. the donor game's
  ``game_end``), with member ids;
- ``generation_stats(ids)``: fields added to the ``generation_end`` record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agentsim.core.errors import BudgetExceeded, ReplayMiss, UserError
from agentsim.core.records import Record, make_record
from agentsim.core.seeding import SeedStreams
from agentsim.envs.registry import make_env
from agentsim.evolution.population import Member, MutationReproducer, Reproducer, parse_population
from agentsim.evolution.selection import select_survivors
from agentsim.runtime.experiment import EvolutionSettings, ExperimentConfig, experiment_spec
from agentsim.runtime.rundir import LLM_CACHE, EventLog, RunDir
from agentsim.runtime.runner import NullRecorder, Recorder, arun_episode
from agentsim.runtime.summary import summarise

if TYPE_CHECKING:
    from agentsim.agents.llm.donor import LLMContext
    from agentsim.runtime.llm_runtime import CallBuffer


class _MemberRecorder:
    """Renames seats to member ids in records, adds the generation, and on every flush
    releases the buffered LLM call records (in a concurrency-independent order)."""

    FIELDS = ("agent", "donor", "recipient")

    def __init__(
        self,
        inner: Recorder,
        seats: Mapping[str, str],
        generation: int,
        log: EventLog,
        calls: CallBuffer | None,
    ) -> None:
        self.inner, self.seats, self.generation = inner, seats, generation
        self.log, self.calls = log, calls
        self.discard = getattr(inner, "discard", False)

    def record(self, record: Record) -> None:
        for key in self.FIELDS:
            if key in record:
                record[key] = self.seats.get(record[key], record[key])
        record.setdefault("generation", self.generation)
        self.inner.record(record)

    def flush(self) -> None:
        drain_calls(self.calls, self.log, self.generation)
        self.inner.flush()
        self.log.flush()


def drain_calls(calls: CallBuffer | None, log: EventLog, generation: int) -> None:
    """Write the buffered ``llm_call`` records, stamped with the generation they served."""
    for r in calls.drain() if calls else []:
        if r.get("generation") is None:
            r["generation"] = generation
        log.record(r)


class RunStopped(UserError):
    """A run stopped early at its last checkpoint (budget spent, provider failing)."""


ProgressFn = Callable[[int, int], None]


async def run_experiment(
    run: RunDir,
    config: ExperimentConfig,
    *,
    progress: ProgressFn | None = None,
    cache_path: Path | None = None,
) -> dict[str, Any]:
    """Run (or resume, if the run has a checkpoint) an experiment; returns the summary.

    Raises:
        RunStopped: when the LLM budget is spent or the provider keeps failing; the run
            directory then ends with a ``run_end`` record of status ``stopped`` and can
            be resumed from its last checkpoint.
    """
    settings = config.settings
    streams = SeedStreams(config.seed)
    checkpoint = run.checkpoint()
    previous = run.summary()
    if checkpoint and previous and previous["status"] == "completed":
        return previous  # resuming a finished run changes nothing
    log = run.event_log(truncate_to=checkpoint["events_offset"] if checkpoint else 0)
    start, members = _starting_point(checkpoint, settings)
    log.record(
        make_record(
            "run_start",
            run_id=run.path.name,
            experiment=config.experiment,
            env=experiment_spec(config.experiment).env_id,
            seed=config.seed,
            resumed_from=checkpoint["generation"] if checkpoint else None,
        )
    )
    from agentsim.agents.llm.donor import LLMTransmission
    from agentsim.llm.types import LLMError
    from agentsim.runtime.llm_runtime import CallBuffer

    calls = CallBuffer() if config.llm.model else None
    try:
        context = _llm_context(run, config, calls, cache_path)
        reproducer: Reproducer = (
            LLMTransmission(context, MutationReproducer(settings.mutation))
            if context
            else MutationReproducer(settings.mutation)
        )
        if context and checkpoint is None:
            members = await context_initialize(reproducer, members, log, calls)
        env = make_env(experiment_spec(config.experiment).env_id, **config.env)
        recorder: Recorder = log if settings.record == "full" else NullRecorder()
        for generation in range(start, settings.generations + 1):
            members = await _play_generation(
                env,
                members,
                generation,
                config,
                streams,
                reproducer,
                log,
                _MemberRecorder(recorder, {}, generation, log, calls),
                context,
            )
            drain_calls(calls, log, generation)  # the next members' strategy calls
            log.record(make_record("checkpoint", generation=generation))
            run.write_checkpoint(
                {
                    "generation": generation,
                    "members": [m.to_json() for m in members],
                    "events_offset": log.offset(),
                }
            )
            if progress:
                progress(generation, settings.generations)
    except (BudgetExceeded, LLMError, ReplayMiss) as exc:
        return _stop(run, log, calls, checkpoint_generation(run), exc)
    log.record(
        make_record("run_end", status="completed", generations_completed=settings.generations)
    )
    log.close()
    summary = summarise(run.file("events.jsonl"))
    run.write_summary(summary)
    return summary


def checkpoint_generation(run: RunDir) -> int:
    checkpoint = run.checkpoint()
    return int(checkpoint["generation"]) if checkpoint else 0


def _stop(
    run: RunDir, log: EventLog, calls: CallBuffer | None, done: int, exc: Exception
) -> dict[str, Any]:
    drain_calls(calls, log, done + 1)
    reason = f"{type(exc).__name__}: {exc}"
    log.record(make_record("run_end", status="stopped", reason=reason, generations_completed=done))
    log.close()
    run.write_summary(summarise(run.file("events.jsonl")))
    raise RunStopped(
        f"run stopped after generation {done} ({reason}); the last checkpoint is kept: "
        f"resume with `agentsim run --resume {run.path}` (a budget can be raised with "
        f"--set budget_calls=N / budget_tokens=N / budget_usd=X)"
    ) from exc


def _llm_context(
    run: RunDir, config: ExperimentConfig, calls: CallBuffer | None, cache_path: Path | None
) -> LLMContext | None:
    from agentsim.runtime.llm_runtime import build_context, spent_before

    if not config.llm.model or calls is None:
        return None
    return build_context(
        config.llm,
        config.env,
        config.seed,
        cache_path=cache_path or run.file(LLM_CACHE),
        sink=calls,
        already_spent=spent_before(
            config.llm, cache_path or run.file(LLM_CACHE), run.file("events.jsonl")
        ),
    )


async def context_initialize(
    reproducer: Reproducer, members: list[Member], log: EventLog, calls: CallBuffer | None
) -> list[Member]:
    """Generation-1 strategies for LLM members (recorded like reproduction)."""
    init = getattr(reproducer, "initialize", None)
    if init is None:
        return members
    members = await init(members, 1)
    drain_calls(calls, log, 1)
    for m in members:
        if m.kind == "llm":
            log.record(
                make_record(
                    "reproduction",
                    generation=1,
                    child=m.id,
                    parents=[],
                    kind=m.kind,
                    params=m.params,
                )
            )
    log.flush()
    return members


def _starting_point(
    checkpoint: dict[str, Any] | None, settings: EvolutionSettings
) -> tuple[int, list[Member]]:
    if checkpoint is None:
        return 1, parse_population(settings.population)
    return checkpoint["generation"] + 1, [Member.from_json(m) for m in checkpoint["members"]]


async def _play_generation(
    env: Any,
    members: list[Member],
    generation: int,
    config: ExperimentConfig,
    streams: SeedStreams,
    reproducer: Reproducer,
    log: Any,
    recorder: _MemberRecorder,
    context: LLMContext | None,
) -> list[Member]:
    """One generation: play, record results, select, reproduce; returns the next population."""
    seats = dict(zip(env.possible_agents, (m.id for m in members), strict=True))
    recorder.seats = seats
    if context is not None:
        context.names = [m.id for m in members]
    log.record(
        make_record(
            "generation_start",
            generation=generation,
            seats=list(seats.values()),
            kinds={m.id: m.kind for m in members},
        )
    )
    agents = {seat: m.build() for seat, m in zip(env.possible_agents, members, strict=True)}
    for agent in agents.values():
        if context is not None and hasattr(agent, "bind"):
            agent.bind(context)
    await arun_episode(
        env,
        agents,
        seed=streams.env(generation),
        recorder=recorder,
        options={"generation": generation},
    )
    ids = [m.id for m in members]
    for record in env.episode_records(ids):
        log.record(record)
    scores = env.scores()
    next_members = members
    if generation < config.settings.generations:
        next_members = await _next_generation(
            members, scores, generation, config.settings, streams, reproducer, log
        )
    log.record(make_record("generation_end", generation=generation, **env.generation_stats(ids)))
    return next_members


async def _next_generation(
    members: list[Member],
    scores: np.ndarray,
    generation: int,
    settings: EvolutionSettings,
    streams: SeedStreams,
    reproducer: Reproducer,
    log: Any,
) -> list[Member]:
    rng = streams.generation_rng(generation)
    n_keep = round(settings.survival_fraction * len(members))
    keep = select_survivors(scores, n_keep, settings.selection, rng)
    survivors = [members[i] for i in keep]
    removed = [m.id for i, m in enumerate(members) if i not in set(keep.tolist())]
    log.record(
        make_record(
            "selection",
            generation=generation,
            method=settings.selection,
            scores={m.id: float(s) for m, s in zip(members, scores, strict=True)},
            survivors=[m.id for m in survivors],
            removed=removed,
        )
    )
    children = await reproducer.reproduce(
        survivors, [float(scores[i]) for i in keep], len(members) - n_keep, generation + 1, rng
    )
    for child in children:
        log.record(
            make_record(
                "reproduction",
                generation=generation + 1,
                child=child.id,
                parents=list(child.parents),
                kind=child.kind,
                params=child.params,
            )
        )
    return survivors + children
