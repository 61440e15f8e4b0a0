"""The study of ``donor_game_v0``: Vallinder & Hughes (2024, arXiv:2412.10270).

One episode is one generation (two games of twelve rounds by default); evolution
(selection of the top half, reproduction with mutation or LLM cultural transmission)
runs between episodes. The scripted kinds are discriminators and fixed donors
(:mod:`agentsim.agents.scripted.donor`); ``llm`` is the paper's LLM agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from agentsim.agents.llm.donor import LLMContext, LLMDonorAgent, write_strategy
from agentsim.agents.llm.prompts import DonorPrompts
from agentsim.agents.llm.settings import LLMSettings
from agentsim.agents.scripted.donor import STRATEGIES
from agentsim.core.records import Record
from agentsim.core.seeding import SeedStreams
from agentsim.envs.donor_batch import play_batch
from agentsim.envs.donor_game import FIELD_TYPES, RECORD_TYPES, DonorGameEnv
from agentsim.envs.study import Estimate, Experiment, LLMBinding, Study, register_study
from agentsim.games.donor import DonorGameConfig
from agentsim.llm.types import LanguageModel

ENV_ID = "donor_game_v0"
DEFAULT_POPULATION = "trace_average:4,image_scoring:2,standing:2,fixed_fraction:2,defector:2"


def prompt_rules(env_config: Mapping[str, Any]) -> dict[str, Any]:
    """The env rules that the donor-game prompts state."""
    return {
        "endowment": env_config["endowment"],
        "multiplier": env_config["multiplier"],
        "trace_depth": env_config["trace_depth"],
        "punishment": env_config["punishment"] == "costly",
        "punishment_loss": env_config["punishment_loss"],
    }


def _context(
    model: LanguageModel, settings: LLMSettings, env: Mapping[str, Any], seeds: SeedStreams
) -> LLMContext:
    return LLMContext(
        model, settings, DonorPrompts.load(settings.prompt_dir), prompt_rules(env), seeds
    )


def estimate(
    env: Mapping[str, Any],
    run: Any,
    settings: LLMSettings,
    n_llm: int,
) -> Estimate:
    """Dry-run estimate of LLM calls and tokens, assuming every reply parses first time.

    Token counts: prompts are rendered for a representative state and counted at ~4
    characters per token; replies are assumed to use 150 (decision) and 250 (strategy)
    tokens. Calls are exact for homogeneous LLM populations.
    """
    n = int(env["agents"])
    share = n_llm / n
    generations = int(run.episodes)
    decisions = generations * env["games"] * env["rounds"] * (n // 2) * share
    n_new = n - round(run.survival_fraction * n)
    strategies = n_llm + (generations - 1) * n_new * share
    prompts = DonorPrompts.load(settings.prompt_dir)
    rules = prompt_rules(env)
    system = prompts.system(**rules)
    decision = prompts.decision(
        _sample_observation(env),
        name="3_4",
        strategy="My strategy will be " + "x " * 40,
        names=["1_1"] * n,
        punishment=rules["punishment"],
        multiplier=rules["multiplier"],
        punishment_loss=rules["punishment_loss"],
    )
    strategy = prompts.strategy(
        name="3_4",
        advice=[("My strategy will be " + "x " * 40, 100.0)] * (n - n_new),
        punishment=rules["punishment"],
        punishment_loss=rules["punishment_loss"],
        trace_depth=rules["trace_depth"],
    )
    # The rules travel as a system prompt only when system prompts are on.
    head = len(system) if settings.system_prompt else 0
    p_dec = (head + len(decision)) / 4
    p_str = (len(system) + len(strategy)) / 4
    return Estimate(
        calls=round(decisions + strategies),
        prompt_tokens=int(decisions * p_dec + strategies * p_str),
        completion_tokens=int(decisions * 150 + strategies * 250),
        detail={"decisions": round(decisions), "strategies": round(strategies)},
    )


def _sample_observation(env_config: Mapping[str, Any]) -> dict[str, Any]:
    d = int(env_config["trace_depth"])
    return {
        "generation": 3,
        "round": 4,
        "partner": 1,
        "own_resources": 74.0,
        "partner_resources": 56.0,
        "trace_length": d,
        "trace_round": np.arange(d)[::-1],
        "trace_donor": np.arange(1, d + 1),
        "trace_recipient": np.arange(2, d + 2) % 2,
        "trace_fraction": np.full(d, 0.5),
    }


def summarise(records: Iterable[Record]) -> dict[str, Any]:
    """Per-generation headline figures: mean final resources, donation, punishments."""
    generations: dict[int, dict[str, Any]] = {}
    for r in records:
        t = r["type"]
        if t == "generation_end":
            fractions = list(r.get("mean_donation_fraction", {}).values())
            generations.setdefault(r["generation"], {}).update(
                {
                    "generation": r["generation"],
                    "mean_final_resources": r.get("mean_final_resources"),
                    "mean_donation_fraction": sum(fractions) / len(fractions)
                    if fractions
                    else None,
                    "punishments": r.get("punishments", 0),
                    "donor_decisions": r.get("donor_decisions", 0),
                }
            )
        elif t == "selection":
            generations.setdefault(r["generation"], {})["survivors"] = r["survivors"]
    rows = [generations[g] for g in sorted(generations) if "generation" in generations[g]]
    for row in rows:
        row.setdefault("survivors", None)
    return {
        "generations_completed": len(rows),
        "generations": rows,
        "final_mean_resources": rows[-1]["mean_final_resources"] if rows else None,
    }


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The per-generation table ``agentsim run`` prints, and the headline."""
    lines = [f"{'gen':>4} {'mean final resources':>21} {'mean donation':>14}"]
    for g in summary.get("generations", []):
        res, don = g["mean_final_resources"], g["mean_donation_fraction"]
        shown = "None" if don is None else f"{don:.3f}"
        lines.append(f"{g['generation']:>4} {res:>21.2f} {shown:>14}")
    final = summary.get("final_mean_resources")
    lines.append(
        f"final mean resources: {'n/a' if final is None else f'{final:.2f}'}"
        f" after {summary.get('generations_completed', 0)} generations"
    )
    return lines


STUDY = register_study(
    Study(
        env_id=ENV_ID,
        make_env=DonorGameEnv,
        config=DonorGameConfig,
        record_types=RECORD_TYPES,
        field_types=FIELD_TYPES,
        agent_kinds={**{cls.kind: cls for cls in STRATEGIES}, LLMDonorAgent.kind: LLMDonorAgent},
        default_population=DEFAULT_POPULATION,
        summarise=summarise,
        summary_lines=summary_lines,
        seats=lambda config: int(config.agents),
        evolution=True,
        episode_name="generation",
        aliases={"generations": "episodes"},
        member_fields=("agent", "donor", "recipient"),
        seats_key="agents",
        batch=play_batch,
        summary_types=frozenset({"generation_end", "selection"}),
        decisions_per_episode=lambda c: int(c.agents) // 2 * int(c.rounds) * int(c.games),
        llm=LLMBinding(
            context=_context,
            estimate=estimate,
            write_strategy=write_strategy,
            check_prompts=DonorPrompts.load,
            offline_name="donor",
        ),
        experiments={
            "donor-game": Experiment(
                "donor-game",
                "Vallinder & Hughes 2024 donor game with cultural evolution (no punishment)",
                run={"episodes": 10},
            ),
            "donor-game-punishment": Experiment(
                "donor-game-punishment",
                "the costly-punishment variant (donor pays x, recipient loses 2x)",
                env={"punishment": "costly"},
                run={
                    "episodes": 10,
                    "population": "trace_average:4,image_scoring[punish=0.3]:4,"
                    "standing[punish=0.3]:2,defector:2",
                },
            ),
        },
    )
)
