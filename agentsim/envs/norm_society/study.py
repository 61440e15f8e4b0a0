"""The study of ``norm_society_v0``: Li, Sun, Cheng & Qiu (2024, arXiv:2401.04620).

An approximate reproduction of EvolutionaryAgent (the paper's norm texts, questionnaire and
rubric are not public; ours are written from its description). One episode is one time
step (2 simulated years); eras of 5 steps change the norms. After every step the top
``survival_fraction`` survive and each removed member's seat (a node of the network) goes
to a child of two random survivors: uniform crossover of the traits, each trait (each
element of a trait vector) mutated with probability ``run.mutation`` (m): perturbed by
N(0, ``mutation_sigma``^2) (scripted trait vectors), rewritten by the run's model from both
parents' traits (LLM text traits), or, without a model, drawn afresh from the bank.

The scripted mode shows the classical result of random mutation (faster adaptation after
a norm change, lower and noisier steady fitness: mutation load), the opposite of the
paper's LLM finding that a higher m raises mean fitness (guided rewrites); see
``norm-shift``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from agentsim.agents.llm.norm_society import LLMNormAgent
from agentsim.agents.llm.settings import LLMSettings
from agentsim.agents.scripted.norm_society import NORM_AGENTS
from agentsim.core.errors import ConfigError
from agentsim.core.records import Record
from agentsim.envs.norm_society.batch import play_batch
from agentsim.envs.norm_society.catalogue import PERSONA_LISTS, load_bank
from agentsim.envs.norm_society.config import NormSocietyConfig
from agentsim.envs.norm_society.env import FIELD_TYPES, RECORD_FIELDS, NormSocietyEnv
from agentsim.envs.norm_society.llm import BINDING, text_mutation
from agentsim.envs.study import Crossover, Experiment, Study, register_study

ENV_ID = "norm_society_v0"
#: Persona traits of LLM members (text), rewritten or redrawn when they mutate.
TEXT_TRAITS = tuple(PERSONA_LISTS)
#: Every inherited trait: the scripted trait vector and the LLM members' texts.
TRAITS = ("traits", *TEXT_TRAITS)
#: Params a child does not inherit, by kind: a reflective agent's remembered score, an LLM
#: member's memories (its ``memory`` param is the memory switch, which a child keeps).
FRESH = {"reflective": ("memory",), "llm": ("memory_state",)}


#: ``mutate(key, value, parents, child_id, rng) -> value`` (or an awaitable of it).
Mutate = Callable[[str, Any, Any, str, np.random.Generator], Any]


def reproducer(settings: Any, env: Mapping[str, Any], context: Any) -> Crossover:
    """The run's reproduction: crossover of the traits each kind carries (the runtime
    mutates them at ``run.mutation``; see the module docstring)."""
    sigma = float(env.get("mutation_sigma", 0.1))
    bank = load_bank(env.get("bank_dir") or None)
    rewrite = _llm_rewrite(context)

    def mutate(key: str, value: Any, parents: Any, child: str, rng: np.random.Generator) -> Any:
        if key == "traits":  # an element of the trait vector
            return float(np.clip(float(value) + rng.normal(0.0, sigma), 0.0, 1.0))
        if rewrite is not None:
            return rewrite(key, value, parents, child, rng)
        pool = bank.personas[key]
        return pool[int(rng.integers(len(pool)))]

    return Crossover(TRAITS, mutate, FRESH)


def _llm_rewrite(context: Any) -> Mutate | None:
    """The LLM text-trait rewrite bound to the run's context (None without a model)."""
    return None if context is None else text_mutation(context)


def _check(
    config: NormSocietyConfig,
    parts: Sequence[tuple[str, Mapping[str, Any], int]],
    llm: LLMSettings,
) -> None:
    """An LLM observer (or audit judge) needs a model."""
    allowed = {"observer": "rule", "audit_observer": "'' or rule"}
    for key, other in allowed.items():
        if getattr(config, key) == "llm" and not llm.model:
            raise ConfigError(key, "llm", f"{other} without --model (an LLM judge needs a model)")


def summarise(records: Iterable[Record]) -> dict[str, Any]:
    """Per-step rows: era, year, mean and best score, violation and adherence rates."""
    rows = []
    for r in records:
        if r["type"] == "generation_end" and "mean_score" in r:
            rows.append(
                {
                    "step": r["generation"],
                    **{
                        k: r.get(k)
                        for k in (
                            "era",
                            "year",
                            "mean_score",
                            "best_score",
                            "violation_rate",
                            "adherence_rate",
                            "diversity",
                            "norm_distance",
                        )
                    },
                }
            )
    rows.sort(key=lambda row: row["step"])
    return {
        "steps_completed": len(rows),
        "steps": rows,
        "final_mean_score": rows[-1]["mean_score"] if rows else None,
    }


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The per-step table ``agentsim run`` prints, and the headline."""
    lines = [f"{'step':>4} {'year':>5} {'era':<10} {'mean':>5} {'best':>5} {'viol':>5} {'adh':>5}"]
    for row in summary.get("steps", []):
        lines.append(
            f"{row['step']:>4} {row['year']:>5} {str(row['era'])[:10]:<10} "
            f"{_num(row['mean_score'])} {_num(row['best_score'])} "
            f"{_num(row['violation_rate'])} {_num(row['adherence_rate'])}"
        )
    final = summary.get("final_mean_score")
    lines.append(
        f"final mean score: {'n/a' if final is None else f'{final:.2f}'}/7"
        f" after {summary.get('steps_completed', 0)} steps"
    )
    return lines


def _num(value: Any) -> str:
    return "  n/a" if value is None else f"{value:5.2f}"


_PAPER_RUN = {"episodes": 20, "survival_fraction": 0.5, "mutation": 0.8}

EXPERIMENTS = {
    "norm-society": Experiment(
        "norm-society",
        "Li et al. 2024 EvolutionaryAgent (approximate reproduction): 10 evolving agents, "
        "20 steps of 2 years over 4 eras, top 50% survive, mutation m = 0.8",
        run={**_PAPER_RUN, "population": "evolutionary:10"},
    ),
    "norm-society-static": Experiment(
        "norm-society-static",
        "Li et al. 2024's direct baseline: 10 static agents, no memory, no evolution",
        run={**_PAPER_RUN, "population": "static:10", "survival_fraction": 1.0},
    ),
    "norm-society-reflection": Experiment(
        "norm-society-reflection",
        "Li et al. 2024's Reflexion-style baseline: 10 agents learning from the observer's "
        "feedback, no evolution",
        run={**_PAPER_RUN, "population": "reflective:10", "survival_fraction": 1.0},
    ),
    "norm-society-network": Experiment(
        "norm-society-network",
        "beyond the paper: 100 evolving agents on a small-world network (WS, k = 4, "
        "p = 0.1), conforming to their neighbours (k = 0.1)",
        env={"n_agents": 100, "network": "small_world"},
        run={**_PAPER_RUN, "population": "evolutionary[conformity=0.1]:100"},
    ),
    "norm-shift": Experiment(
        "norm-shift",
        "trait-vector oracle: 20 noiseless agents, norm 0.3 -> 0.7 at step 61 of 120, "
        "m = 0.2 (scripted mutation adapts faster but settles lower: mutation load)",
        env={"n_agents": 20, "norm_schedule": "shift", "shift_step": 61},
        run={
            "episodes": 120,
            "survival_fraction": 0.5,
            "mutation": 0.2,
            "population": "evolutionary[noise=0]:20",
        },
    ),
}

STUDY = register_study(
    Study(
        env_id=ENV_ID,
        make_env=NormSocietyEnv,
        config=NormSocietyConfig,
        record_types=RECORD_FIELDS,
        field_types=FIELD_TYPES,
        agent_kinds={**{cls.kind: cls for cls in NORM_AGENTS}, LLMNormAgent.kind: LLMNormAgent},
        default_population="evolutionary:10",
        summarise=summarise,
        summary_lines=summary_lines,
        experiments=EXPERIMENTS,
        seats=lambda config: int(config.n_agents),
        evolution=True,
        llm=BINDING,
        episode_name="step",
        aliases={"steps": "episodes"},
        seats_key="n_agents",
        decisions_per_episode=lambda c: int(c.n_agents) * (int(c.situations_per_step) + 2),
        check=_check,
        reproducer=reproducer,
        fixed_seats=True,
        batch=play_batch,
    )
)
