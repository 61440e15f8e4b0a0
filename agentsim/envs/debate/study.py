"""The study of ``debate_v0``: what the runtime, CLI and report need to run debates.

Taubenfeld et al. (2024, arXiv:2402.04049) debates and the Salvi et al. (2024,
arXiv:2403.14380) persuasion protocol. One episode is one debate; repetitions are
episodes with fresh personas (and, for Salvi, fresh propositions, sides and profiles).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agentsim.agents.llm.debate import (
    DebateLLMContext,
    LLMDebater,
    load_debate_prompts,
    write_personas,
)
from agentsim.agents.llm.settings import LLMSettings
from agentsim.agents.scripted.debate import DEBATERS
from agentsim.agents.scripted.persuasion import AGENTS as PERSUASION_AGENTS
from agentsim.core import records
from agentsim.core.errors import ConfigError, UserError
from agentsim.core.records import Record, make_record
from agentsim.envs.debate.config import DebateConfig
from agentsim.envs.debate.env import RECORD_FIELDS, DebateEnv
from agentsim.envs.debate.offline import debate_reply
from agentsim.envs.study import Estimate, Experiment, LLMBinding, Study, register_study
from agentsim.llm.types import LanguageModel

_CHARS_PER_TOKEN = 4
_UTTERANCE_TOKENS = 120  # a contribution of ~90 words
_SURVEY_TOKENS = 3


def _seats(config: DebateConfig) -> int:
    return 2 if config.protocol == "salvi" else config.seats


def _decisions(config: DebateConfig) -> int:
    """Utterances plus surveys of one debate."""
    if config.protocol == "salvi":
        return 6 + 2 * 2
    return config.iterations + config.seats * (config.iterations + 1)


_SALVI_SEATS = (("persuader", "llm"), ("persuadee", "llm"))
_SALVI_ONLY = {"persuader", "persuadee"}


def _check(
    config: DebateConfig, parts: Sequence[tuple[str, Mapping[str, Any], int]], llm: LLMSettings
) -> None:
    """Kinds that fit the protocol's seats; a model for ``persona_source=model``."""
    kinds = [kind for kind, _, n in parts for _ in range(n)]
    if config.protocol == "salvi":
        for seat, (kind, allowed) in enumerate(zip(kinds, _SALVI_SEATS, strict=False)):
            if kind not in allowed:
                raise ConfigError(
                    "population",
                    ",".join(kinds),
                    f"seat {seat} ({allowed[0]}) played by {' or '.join(allowed)}: "
                    "population=persuader:1,persuadee:1, or llm seats with --model",
                )
    elif _SALVI_ONLY & set(kinds):
        raise ConfigError(
            "population",
            ",".join(sorted(set(kinds))),
            "debaters (degroot, bounded_confidence, drift_to_prior, stubborn, llm): "
            "persuader and persuadee play protocol=salvi only",
        )
    if config.persona_source == "model":
        if not llm.model:
            raise ConfigError(
                "persona_source", "model", "package without --model (the model writes them)"
            )
        if config.personas_file is not None:
            raise ConfigError(
                "personas_file",
                config.personas_file,
                "none with persona_source=model (the model writes the pools)",
            )


def _context(
    model: LanguageModel, settings: LLMSettings, env: Mapping[str, Any], seeds: Any
) -> DebateLLMContext:
    return DebateLLMContext(
        model, settings, load_debate_prompts(settings.prompt_dir), int(env["max_utterance_chars"])
    )


def _estimate(env: Mapping[str, Any], run: Any, settings: LLMSettings, n_llm: int) -> Estimate:
    """Calls and tokens of ``run.episodes`` debates with ``n_llm`` LLM seats.

    Surveys: every seat before the debate and after every utterance (Taubenfeld), or
    before and after the debate (Salvi). Prompts grow with the transcript, so the prompt
    tokens of call t are the fixed text plus t contributions.
    """
    config = DebateConfig(**env)
    episodes = int(run.episodes)
    seats = _seats(config)
    utterances = 6 if config.protocol == "salvi" else config.iterations
    surveys_per_seat = 2 if config.protocol == "salvi" else utterances + 1
    speak_calls = -(-utterances * n_llm // seats)  # seats speak in turn: round up
    survey_calls = surveys_per_seat * n_llm
    fixed = 250  # system prompt and instructions, in tokens
    mean_transcript = _UTTERANCE_TOKENS * utterances / 2
    per_call_prompt = fixed + mean_transcript
    persona_calls = (
        len({r.strip() for r in config.roles.split(",")})
        if config.persona_source == "model" and config.protocol != "salvi"
        else 0
    )
    calls = (speak_calls + survey_calls) * episodes + persona_calls
    return Estimate(
        calls=calls,
        prompt_tokens=int(calls * per_call_prompt),
        completion_tokens=episodes
        * (speak_calls * _UTTERANCE_TOKENS + survey_calls * _SURVEY_TOKENS)
        + persona_calls * 60 * PERSONAS_PER_ROLE,
        detail={
            "speak": speak_calls * episodes,
            "survey": survey_calls * episodes,
            **({"persona pool": persona_calls} if persona_calls else {}),
        },
    )


PERSONAS_FILE = "personas.json"
PERSONAS_PER_ROLE = 40  # Taubenfeld et al.: 40 personas per party


async def _prepare(
    ctx: DebateLLMContext, env: Mapping[str, Any], run_dir: Path, fresh: bool
) -> tuple[dict[str, Any], list[Record]]:
    """With ``persona_source=model``, the run's model writes each role's persona pool once
    into ``RUN_DIR/personas.json`` (a role whose reply never parses keeps the package pool,
    recorded as such); a resume reuses the file."""
    if env.get("persona_source") != "model" or env.get("protocol") == "salvi":
        return {}, []
    path, digest = run_dir / PERSONAS_FILE, run_dir / f"{PERSONAS_FILE}.sha256"
    if not fresh and path.is_file():
        if not digest.is_file() or digest.read_text().strip() != _sha256(path):
            raise UserError(
                f"{path} is not the file this run's model wrote (it was changed or its digest "
                "is missing): restore it, or start a new run"
            )
        return {"personas_file": str(path)}, []
    roles = sorted({r.strip() for r in str(env["roles"]).split(",")})
    pools, records = {}, []
    for role in roles:
        answer = await write_personas(ctx, role, PERSONAS_PER_ROLE)
        if answer.value is not None:
            pools[role] = answer.value
        records.append(
            make_record(
                "personas",
                role=role,
                source="model" if answer.value is not None else "package (the reply never parsed)",
                count=len(answer.value or []),
                parse_status=answer.status,
                file=PERSONAS_FILE,
            )
        )
    if not pools:
        return {}, records
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"personas": pools}, indent=1, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)
    digest.write_text(_sha256(path) + "\n")
    return {"personas_file": str(path)}, records


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summarise(records: Iterable[Record]) -> dict[str, Any]:
    """Per-debate rows: topic or proposition, roles, and each member's first and last score."""
    rows: dict[int, dict[str, Any]] = {}
    for r in records:
        episode = int(r.get("episode", 0))
        if r["type"] == "debate_start":
            rows[episode] = {
                "episode": episode,
                "protocol": r["protocol"],
                "topic": r.get("topic_id") or r.get("proposition_id") or r["topic"],
                "roles": r["roles"],
                "initial": {},
                "final": {},
                "survey_failures": 0,
            }
        elif r["type"] == "survey" and episode in rows:
            row = rows[episode]
            if r["score"] is None:
                row["survey_failures"] += 1
            else:
                row["initial"].setdefault(r["agent"], r["score"])
                row["final"][r["agent"]] = r["score"]
    return {"episodes": [rows[e] for e in sorted(rows)]}


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """One line per debate: each member's role and first -> last survey score."""
    lines = []
    for row in summary.get("episodes", []):
        moves = ", ".join(
            f"{row['roles'].get(a, a)} {row['initial'].get(a)}->{row['final'].get(a)}"
            for a in row["final"]
        )
        failures = f" ({row['survey_failures']} failed surveys)" if row["survey_failures"] else ""
        lines.append(f"debate {row['episode']:>3} {row['topic']}: {moves}{failures}")
    return lines


STUDY = register_study(
    Study(
        env_id="debate_v0",
        make_env=DebateEnv,
        config=DebateConfig,
        record_types={
            **RECORD_FIELDS,
            # A role's persona pool written by the run's model (persona_source=model).
            "personas": ("role", "source", "count", "parse_status"),
        },
        field_types={"iteration": records.INTEGER, "score": records.FINITE_OR_NULL},
        agent_kinds={
            **{cls.kind: cls for cls in DEBATERS},
            **{cls.kind: cls for cls in PERSUASION_AGENTS},
            LLMDebater.kind: LLMDebater,
        },
        default_population="drift_to_prior:3",
        summarise=summarise,
        summary_lines=summary_lines,
        seats=_seats,
        evolution=False,
        episode_name="debate",
        unrecorded_observation=("transcript",),
        decisions_per_episode=_decisions,
        check=_check,
        llm=LLMBinding(
            context=_context,
            estimate=_estimate,
            offline_policy=debate_reply,
            check_prompts=load_debate_prompts,
            prepare=_prepare,
            # The donor game's prompt switches; debate prompts have no such variants.
            unused_settings=(
                "inherit_scores",
                "system_prompt",
                "advice_order",
                "structured_output",
            ),
        ),
        experiments={
            "debate": Experiment(
                "debate",
                "Taubenfeld et al. 2024: Republican, Democrat and Default debate a topic, "
                "0-10 survey after every utterance",
                run={"episodes": 40},
            ),
            "debate-echo": Experiment(
                "debate-echo",
                "Taubenfeld et al. 2024 echo chamber: two Republicans",
                env={"roles": "republican,republican"},
                run={"episodes": 40, "population": "drift_to_prior:2"},
            ),
            "persuasion": Experiment(
                "persuasion",
                "Salvi et al. 2024: persuader vs persuadee, opening/rebuttal/conclusion, "
                "1-5 agreement before and after",
                env={"protocol": "salvi"},
                run={"episodes": 40, "population": "persuader:1,persuadee:1"},
            ),
        },
    )
)
