"""Experiments and their configuration.

An experiment is named (``donor-game``), pairs an env with a population evolving
over generations, and is configured by three frozen, validated dataclasses: the
generation loop (:class:`EvolutionSettings`), the env's own config, and the LLM
settings; every field of each is a ``--set key=value`` key. The loop itself is in
:mod:`agentsim.runtime.loop`.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentsim.agents.llm.settings import LLMSettings
from agentsim.agents.registry import make_agent
from agentsim.core.config import (
    build_config,
    check_choice,
    check_number,
    config_dict,
    field_names,
    parse_overrides,
    plain_scalar,
)
from agentsim.core.errors import ConfigError, UserError
from agentsim.envs.registry import env_factory
from agentsim.evolution.population import population_parts
from agentsim.evolution.selection import SELECTION_METHODS
from agentsim.llm.types import safe_api_base

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
        max_events_gb: the largest event log (estimated up front, see
            :func:`estimate_run_size`) a run may write; a bigger run is refused with the
            record level or the override that fits.
    """

    generations: int = 10
    survival_fraction: float = 0.5
    selection: str = "top"
    mutation: float = 0.05
    population: str = DEFAULT_POPULATION
    record: str = "full"
    max_events_gb: float = 5.0

    def __post_init__(self) -> None:
        check_number("generations", self.generations, low=1, high=100_000, integer=True)
        check_number("survival_fraction", self.survival_fraction, low=0.0, high=1.0)
        check_choice("selection", self.selection, SELECTION_METHODS)
        check_number("mutation", self.mutation, low=0.0, high=1.0)
        check_choice("record", self.record, RECORD_LEVELS)
        check_number("max_events_gb", self.max_events_gb, low=0.0)
        population_parts(self.population)  # validates kinds, parameters and counts


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
            # Credentials in an endpoint URL are not stored: pass --api-base again to resume.
            "llm": {**config_dict(self.llm), "api_base": safe_api_base(self.llm.api_base)},
            "agentsim_version": importlib.metadata.version("agentsim"),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any], overrides: Iterable[str] = ()) -> ExperimentConfig:
        """The config of a ``config.json``; a malformed one is a UserError."""
        try:
            return make_config(
                data["experiment"],
                data["seed"],
                overrides,
                settings=data["settings"],
                env=data["env"],
                llm=data.get("llm", {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"config.json is malformed ({type(exc).__name__}: {exc})") from None


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
    seed = plain_scalar(seed)  # np.int64 seeds are fine, but config.json needs an int
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
    elif not explicit_population:
        default = sections["settings"][1].get("population", DEFAULT_POPULATION)
        sections["settings"][1]["population"] = scale_population(default, env_obj.agents)
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
    parts = population_parts(settings_obj.population)
    n_members = sum(n for _, _, n in parts)
    agents = getattr(env_obj, "agents", n_members)
    if n_members != agents:
        raise ConfigError(
            "population",
            settings_obj.population,
            f"kind:count,... with counts summing to agents={agents}",
        )
    env_dict = config_dict(env_obj)
    check_env_requirements(parts, env_dict, experiment)
    config = ExperimentConfig(experiment, seed, settings_obj, env_dict, llm_obj)
    check_run_size(config)
    return config


def check_env_requirements(
    parts: Iterable[tuple[str, Mapping[str, Any], int]], env: Mapping[str, Any], experiment: str
) -> None:
    """Refuse member parameters that cannot act under the env's config.

    An agent class lists such parameters in ``ENV_REQUIREMENTS`` (``param -> (env key,
    value)``): e.g. ``image_scoring[punish=0.3]`` needs ``punishment=costly``; elsewhere its
    punishments would be recorded as decisions the env never carried out.

    Args:
        parts: the population's ``(kind, params, count)`` parts (``population_parts``).
        env: the env's config.
        experiment: the experiment's name, for the message.

    Raises:
        ConfigError: naming the member, the parameter and the fix.
    """
    for kind, params, count in parts:
        if not count:
            continue
        # Optional class data of the agent (agents need not inherit from anything).
        requirements: Mapping[str, tuple[str, Any]] = getattr(
            type(make_agent(kind, **params)), "ENV_REQUIREMENTS", {}
        )
        for param, (key, needed) in requirements.items():
            if params.get(param) and env.get(key) != needed:
                raise ConfigError(
                    f"population member {kind}: {param}",
                    params[param],
                    f"0 with {key}={env.get(key)} ({param} > 0 acts only with {key}={needed}): "
                    f"--set {key}={needed}, or drop {param} from the population of {experiment}",
                )


# Sizes measured on donor-game runs (events.jsonl bytes, peak RSS), rounded up; the
# estimate is meant to be right within a factor of about 2, to catch runs that are
# orders of magnitude bigger than their user expects.
_DECISION_BYTES = 480  # record=full: one decision and one transfer record per donation
_MEMBER_BYTES = 220  # per member and generation: seats, selection, reproduction, statistics
_MEMBER_GAME_BYTES = 30  # per member and game: final resources
_LLM_CALL_BYTES = 2_500  # per LLM call record (reply text and metadata), at both levels
_BASE_MEMORY = 80e6
_MEMBER_MEMORY = 5_000  # observations, agents and per-seat state of one generation


@dataclass(frozen=True)
class RunSize:
    """A rough estimate of what a run writes and holds (see :func:`estimate_run_size`).

    Attributes:
        events_bytes: ``events.jsonl`` at the run's record level.
        summary_events_bytes: the same run with ``record=summary``.
        memory_bytes: peak memory of the process.
    """

    events_bytes: float
    summary_events_bytes: float
    memory_bytes: float

    def describe(self) -> str:
        """One line for messages: events and memory in GB."""
        return (
            f"about {self.events_bytes / 1e9:.3g} GB of events "
            f"({self.summary_events_bytes / 1e9:.3g} GB with record=summary) and "
            f"{self.memory_bytes / 1e9:.3g} GB of memory"
        )


def estimate_run_size(config: ExperimentConfig) -> RunSize:
    """Estimate a run's event log and memory from agents x rounds x games x generations.

    Example:
        >>> size = estimate_run_size(make_config("donor-game", 0))
        >>> 1e5 < size.events_bytes < 1e7, size.summary_events_bytes < size.events_bytes
        (True, True)
    """
    env, settings = config.env, config.settings
    agents = int(env.get("agents", 2))
    games = int(env.get("games", 1))
    donations = agents // 2 * int(env.get("rounds", 1)) * games  # one generation
    llm_members = sum(n for kind, _, n in population_parts(settings.population) if kind == "llm")
    llm_calls = donations * llm_members / max(agents, 1)
    per_generation = (
        agents * (_MEMBER_BYTES + games * _MEMBER_GAME_BYTES) + llm_calls * _LLM_CALL_BYTES
    )
    summary = settings.generations * per_generation
    full = summary + settings.generations * donations * _DECISION_BYTES
    events = full if settings.record == "full" else summary
    return RunSize(events, summary, _BASE_MEMORY + agents * _MEMBER_MEMORY)


def check_run_size(config: ExperimentConfig) -> None:
    """Refuse, before anything is written, a run whose event log would exceed the limit.

    Raises:
        ConfigError: naming ``record`` when ``record=summary`` would fit, otherwise
            ``max_events_gb`` (the override), with the estimate.
    """
    settings = config.settings
    size = estimate_run_size(config)
    limit = settings.max_events_gb * 1e9
    if size.events_bytes <= limit:
        return
    needed = f"--set max_events_gb={math.ceil(size.events_bytes / 1e9)}"
    if settings.record == "full" and size.summary_events_bytes <= limit:
        raise ConfigError(
            "record",
            settings.record,
            f"summary for a run this size ({size.describe()}; "
            f"max_events_gb={settings.max_events_gb:g}): --set record=summary, or {needed} "
            "to keep every decision",
        )
    raise ConfigError(
        "max_events_gb",
        settings.max_events_gb,
        f"at least the run's size ({size.describe()}): fewer generations or agents, or {needed}",
    )


def scale_population(spec: str, n: int) -> str:
    """A ``kind:count,...`` mix rescaled to ``n`` members (largest remainders), in order.

    Example:
        >>> scale_population("trace_average:4,image_scoring:2,standing:2,defector:4", 6)
        'trace_average:2,image_scoring:1,standing:1,defector:2'
    """
    parts = [p.strip().rpartition(":") for p in spec.split(",")]
    counts = [int(c) for _, _, c in parts]
    total = sum(counts)
    if total == n or total == 0:
        return spec
    exact = [c * n / total for c in counts]
    scaled = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (scaled[i] - exact[i], i))
    for i in by_remainder[: n - sum(scaled)]:
        scaled[i] += 1
    return ",".join(f"{kind}:{c}" for (kind, _, _), c in zip(parts, scaled, strict=True) if c)


def run_name(config: ExperimentConfig, stamp: str) -> str:
    """Run directory name: experiment, seed and time."""
    return f"{config.experiment}-seed{config.seed}-{stamp}"
