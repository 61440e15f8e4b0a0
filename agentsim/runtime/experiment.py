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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.config import (
    build_config,
    check_choice,
    check_number,
    config_dict,
    field_names,
    parse_overrides,
)
from agentsim.core.errors import ConfigError, UserError
from agentsim.envs.registry import env_factory
from agentsim.evolution.population import parse_population
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
    n_members = len(parse_population(settings_obj.population))
    agents = getattr(env_obj, "agents", n_members)
    if n_members != agents:
        raise ConfigError(
            "population",
            settings_obj.population,
            f"kind:count,... with counts summing to agents={agents}",
        )
    return ExperimentConfig(experiment, seed, settings_obj, config_dict(env_obj), llm_obj)


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
