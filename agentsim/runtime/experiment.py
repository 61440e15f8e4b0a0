"""Experiments: an env plus a population evolving over generations, written to a run directory.

An experiment is named (``donor-game``), has one frozen settings dataclass for
the generation loop and uses its env's config dataclass for the rules; both are
overridable with ``--set key=value``. Each generation: build the members'
agents, play one episode (one generation of the env), select survivors, create
new members through the reproduction hook, write records, checkpoint.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.config import (
    build_config,
    check_choice,
    check_number,
    config_dict,
    field_names,
    parse_overrides,
)
from agentsim.core.errors import BudgetExceeded, ConfigError, ReplayMiss, UserError
from agentsim.core.records import Record, make_record
from agentsim.core.seeding import SeedStreams
from agentsim.envs.registry import env_factory, make_env
from agentsim.evolution.population import Member, MutationReproducer, Reproducer, parse_population
from agentsim.evolution.selection import SELECTION_METHODS, select_survivors
from agentsim.runtime.rundir import LLM_CACHE, EventLog, RunDir
from agentsim.runtime.runner import NullRecorder, Recorder, arun_episode
from agentsim.runtime.summary import summarise

if TYPE_CHECKING:
    from agentsim.agents.llm.donor import LLMContext
    from agentsim.runtime.llm_runtime import CallBuffer

RECORD_LEVELS = ("full", "summary")
DEFAULT_POPULATION = "trace_average:4,image_scoring:2,standing:2,fixed_fraction:2,defector:2"


@dataclass(frozen=True)
class EvolutionSettings:
    """The generation loop (defaults follow Vallinder & Hughes 2024).

    Attributes:
        generations: number of generations (paper: 10).
        survival_fraction: share of the population that survives (paper: top 50%).
        selection: ``top``, ``random`` or ``proportional`` (score-proportional).
        mutation: std of scripted parameter mutation, as a fraction of each range.
        population: generation-1 members as ``kind:count,...`` (must sum to ``agents``).
        record: ``full`` (every decision and transfer) or ``summary`` (per game/generation).
    """

    generations: int = 10
    survival_fraction: float = 0.5
    selection: str = "top"
    mutation: float = 0.05
    population: str = DEFAULT_POPULATION
    record: str = "full"

    def __post_init__(self) -> None:
        check_number("generations", self.generations, low=1, high=100_000, integer=True)
        check_number("survival_fraction", self.survival_fraction, low=0.0, high=1.0)
        check_choice("selection", self.selection, SELECTION_METHODS)
        check_number("mutation", self.mutation, low=0.0, high=1.0)
        check_choice("record", self.record, RECORD_LEVELS)
        parse_population(self.population)  # validates kinds and counts


@dataclass(frozen=True)
class ExperimentSpec:
    """A named experiment: which env, which env settings differ from the env's defaults."""

    name: str
    env_id: str
    description: str
    env_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    settings_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)


EXPERIMENTS: dict[str, ExperimentSpec] = {
    "donor-game": ExperimentSpec(
        "donor-game",
        "donor_game_v0",
        "Vallinder & Hughes 2024 donor game with cultural evolution (no punishment)",
    ),
    "donor-game-punishment": ExperimentSpec(
        "donor-game-punishment",
        "donor_game_v0",
        "the costly-punishment variant (donor pays x, recipient loses 2x)",
        env_defaults={"punishment": "costly"},
        settings_defaults={
            "population": (
                "trace_average:4,image_scoring[punish=0.3]:4,standing[punish=0.3]:2,defector:2"
            ),
        },
    ),
}


def experiment_spec(name: str) -> ExperimentSpec:
    if name not in EXPERIMENTS:
        raise ConfigError("experiment", name, sorted(EXPERIMENTS))
    return EXPERIMENTS[name]


def env_config_class(env_id: str) -> type:
    """The config dataclass of an env (its factory's ``config`` type)."""
    from agentsim.games.donor import DonorGameConfig

    env_factory(env_id)  # validates the id
    return DonorGameConfig


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything needed to rerun an experiment; serialised as ``config.json``."""

    experiment: str
    seed: int
    settings: EvolutionSettings
    env: Mapping[str, Any]
    llm: LLMSettings = dataclasses.field(default_factory=LLMSettings)

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "env_id": experiment_spec(self.experiment).env_id,
            "seed": self.seed,
            "settings": config_dict(self.settings),
            "env": dict(self.env),
            "llm": config_dict(self.llm),
            "agentsim_version": importlib.metadata.version("agentsim"),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any], overrides: Iterable[str] = ()) -> ExperimentConfig:
        return make_config(
            data["experiment"],
            data["seed"],
            overrides,
            settings=data["settings"],
            env=data["env"],
            llm=data.get("llm", {}),
        )


#: LLM settings that a resumed run may change: they do not change what agents decide.
RESUMABLE_KEYS = (
    "budget_calls",
    "budget_tokens",
    "budget_usd",
    "concurrency",
    "rpm",
    "tpm",
    "timeout_s",
    "max_attempts",
    "retry_base_delay_s",
    "api_base",
)


def make_config(
    experiment: str,
    seed: int,
    overrides: Iterable[str] = (),
    *,
    settings: Mapping[str, Any] | None = None,
    env: Mapping[str, Any] | None = None,
    llm: Mapping[str, Any] | None = None,
) -> ExperimentConfig:
    """Validated config from defaults, explicit values and ``key=value`` overrides.

    Overrides may name a key of the generation loop (:class:`EvolutionSettings`), of the
    env's config, or of :class:`LLMSettings`. With a ``model`` and no explicit
    ``population``, every member is an LLM agent (the paper's homogeneous population).
    """
    spec = experiment_spec(experiment)
    check_number("seed", seed, low=0, integer=True)
    env_cls = env_config_class(spec.env_id)
    sections: dict[str, tuple[type, dict[str, Any]]] = {
        "settings": (EvolutionSettings, {**spec.settings_defaults, **(settings or {})}),
        "env": (env_cls, {**spec.env_defaults, **(env or {})}),
        "llm": (LLMSettings, dict(llm or {})),
    }
    all_keys = sorted(k for cls, _ in sections.values() for k in field_names(cls))
    explicit_population = settings is not None and "population" in settings
    for item in overrides:
        key, sep, _ = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("--set", item, "key=value with key one of " + ", ".join(all_keys))
        section = next((v for v in sections.values() if key in field_names(v[0])), None)
        if section is None:
            raise ConfigError.unknown_key(key, all_keys)
        section[1].update(parse_overrides(section[0], [item]))
        explicit_population |= key == "population"
    llm_obj = build_config(LLMSettings, sections["llm"][1])
    env_obj: Any = build_config(env_cls, sections["env"][1])
    if llm_obj.model and not explicit_population:
        sections["settings"][1]["population"] = f"llm:{env_obj.agents}"
    settings_obj = build_config(EvolutionSettings, sections["settings"][1])
    if "llm" in settings_obj.population and not llm_obj.model:
        raise ConfigError(
            "model", None, "a LiteLLM model string (--model): the population has llm members"
        )
    if round(settings_obj.survival_fraction * getattr(env_obj, "agents", 2)) < 1:
        raise ConfigError(
            "survival_fraction",
            settings_obj.survival_fraction,
            "a fraction that keeps at least one member",
        )
    n_members = len(parse_population(settings_obj.population))
    agents = getattr(env_obj, "agents", n_members)
    if n_members != agents:
        raise ConfigError(
            "population",
            settings_obj.population,
            f"kind:count,... with counts summing to agents={agents}",
        )
    return ExperimentConfig(experiment, seed, settings_obj, config_dict(env_obj), llm_obj)


def run_name(config: ExperimentConfig, stamp: str) -> str:
    """Run directory name: experiment, seed and time."""
    return f"{config.experiment}-seed{config.seed}-{stamp}"


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
        if self.calls is not None:
            for r in self.calls.drain():
                r.setdefault("generation", self.generation)
                self.log.record(r)
        self.inner.flush()
        self.log.flush()


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
    for r in calls.drain() if calls else []:
        log.record(r)
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
        already_spent=spent_before(run.file("events.jsonl")),
    )


async def context_initialize(
    reproducer: Reproducer, members: list[Member], log: EventLog, calls: CallBuffer | None
) -> list[Member]:
    """Generation-1 strategies for LLM members (recorded like reproduction)."""
    init = getattr(reproducer, "initialize", None)
    if init is None:
        return members
    members = await init(members, 1)
    for r in calls.drain() if calls else []:
        log.record(r)
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
    for game, final in enumerate(env.final_resources):
        log.record(
            make_record(
                "game_end",
                generation=generation,
                game=game,
                final_resources=dict(zip(ids, final.tolist(), strict=True)),
            )
        )
    scores = env.scores()
    next_members = members
    if generation < config.settings.generations:
        next_members = await _next_generation(
            members, scores, generation, config.settings, streams, reproducer, log
        )
    log.record(
        make_record(
            "generation_end",
            generation=generation,
            mean_final_resources=float(env.final_resources.mean()),
            mean_donation_fraction=dict(
                zip(ids, env.mean_donation_fraction().tolist(), strict=True)
            ),
            donor_decisions=int(env.donor_decisions.sum()),
            punishments=int(env.punishments.sum()),
        )
    )
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
