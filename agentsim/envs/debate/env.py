"""``debate_v0``: LLM-style debates as a PettingZoo ``AECEnv`` (two protocols).

``protocol="taubenfeld"`` (Taubenfeld et al. 2024, "Systematic Biases in LLM
Simulations of Debates", EMNLP 2024, arXiv:2402.04049): 2 to 8 debaters with roles
(Republican, Democrat, Default or user roles) take turns in a fixed round robin over a
shared transcript, one utterance per iteration (default 9). Every debater rates how
serious the topic is (0-10) before the debate and after every utterance; survey
replies never enter the transcript.

``protocol="salvi"`` (Salvi et al. 2024, "On the Conversational Persuasiveness of Large
Language Models: A Randomized Controlled Trial", arXiv:2403.14380): ``debater_0`` is the
persuader, ``debater_1`` the persuadee; sides pro/con are drawn at random, and the
debate runs opening, rebuttal, conclusion with pro speaking first in each phase.
Both rate their agreement with the proposition (1-5) before and after.

Turns: survey(all) -> speak -> survey(all) -> speak ... (salvi: survey(all), six
utterances, survey(all)). All agents terminate together after the last survey.

Observation (``Dict``, the same space for every agent):

================  ==========================================================
``phase``         0 = speak, 1 = survey (what the selected agent must do)
``iteration``     ``(1,)`` utterances so far
``role``          this agent's role
``persona``       ``"Name: background"``
``topic``         topic name or proposition text
``question``      the survey question
``transcript``    ``"Name (role): text"`` lines (salvi: ``(pro)``/``(con)``),
                  latest last, cut from the front to ``max_transcript_chars``
``stated``        ``(k,)`` the attitude each debater last expressed: its
                  ``[attitude: x]`` marker, or for an utterance without one
                  (an LLM's) its last survey score (0 where unknown; the
                  utterance record says which: ``stated_source``)
``stated_mask``   ``(k,)`` 1 where ``stated`` is known
``self_index``    this agent's seat
``extra``         ``key: value`` lines: protocol, scale, role description or
                  side and phase; for the persuader also ``opponent`` (the
                  condition it plays: human or llm) and, when personalised,
                  the persuadee's demographics (``games.debate.parse_extra``)
================  ==========================================================

Action: text (``Text(max_length=2000)``): the utterance or the survey reply, whose first
number on the scale is the score (``games.debate.parse_survey``). Rewards are 0.

Records (``pop_records()`` returns and clears them): ``debate_start``, ``utterance``,
``survey``, ``debate_end`` (fields in the module ``RECORD_FIELDS``). Utterance ``n``
(1-based) has ``iteration=n``; the survey after it has ``iteration=n``; the pre-debate
survey has ``iteration=0``.

Example:
    >>> env = DebateEnv(roles="republican,democrat", iterations=2)
    >>> env.reset(seed=0)
    >>> for agent in env.agent_iter():
    ...     obs, _, term, trunc, _ = env.last()
    ...     env.step(None if term or trunc else "5 [attitude: 5]")
    >>> [r["type"] for r in env.pop_records()][:3]
    ['debate_start', 'survey', 'survey']

Version History:
    v0: initial (Taubenfeld and Salvi protocols).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv

from agentsim.core.config import build_config, check_choice
from agentsim.core.records import Record
from agentsim.envs.debate import catalogue
from agentsim.envs.debate.config import MAX_ACTION_CHARS, DebateConfig
from agentsim.envs.text import env_record, fold, text_space
from agentsim.games import debate as rules

__all__ = ["CHARSET", "RECORD_FIELDS", "DebateConfig", "DebateEnv", "sanitize"]

#: Characters allowed in text observations and actions: printable ASCII and common
#: typographic punctuation and accented letters.
CHARSET = frozenset(string.printable) | frozenset(
    "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022€£°äöüßàáâçèéêëíîïñóôúûÄÖÜÉÑ"
)

#: Required fields per debate record type (the study registers them).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "debate_start": ("protocol", "topic", "question", "scale", "roles", "personas", "order"),
    "utterance": ("iteration", "agent", "role", "phase", "text", "stated"),
    "survey": ("iteration", "agent", "role", "score", "parse_status", "raw"),
    "debate_end": ("iterations",),
}


def sanitize(text: str, limit: int) -> str:
    """``text`` restricted to :data:`CHARSET` (others folded to ASCII or "?") and ``limit``."""
    return fold(text, CHARSET, limit)


def _text_space(max_length: int) -> spaces.Text:
    return text_space(max_length, CHARSET)


# pettingzoo ships no type information, so AECEnv is Any to mypy.
class DebateEnv(AECEnv[str, dict[str, Any], str]):  # type: ignore[misc]
    """Turn-based debate env (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "debate_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": False,
    }

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self.config = build_config(DebateConfig, config)
        self.render_mode = render_mode
        cfg = self.config
        self.possible_agents = [f"debater_{i}" for i in range(cfg.seats)]
        self.agents: list[str] = []
        self.scale = rules.SALVI_SCALE if cfg.protocol == "salvi" else rules.TAUBENFELD_SCALE
        self._topics = catalogue.load_topics(cfg.topics_file)
        self._role_text = catalogue.load_roles(cfg.roles_file)
        self._pools = catalogue.load_personas(cfg.personas_file)
        if cfg.protocol == "salvi":
            self._propositions = cfg.propositions()
            self._profiles = catalogue.load_demographics(cfg.demographics_file)
        obs_space = self._observation_space()
        act_space = _text_space(MAX_ACTION_CHARS)
        self._obs_spaces = dict.fromkeys(self.possible_agents, obs_space)
        self._act_spaces = dict.fromkeys(self.possible_agents, act_space)
        self.np_random, _ = seeding.np_random(None)
        self._records: list[Record] = []
        self._utterances: list[Record] = []
        self._last_scores: dict[str, float | None] = {}
        self._fallbacks = 0

    def _observation_space(self) -> spaces.Dict:
        k, lo, hi = self.config.seats, *self.scale
        return spaces.Dict(
            {
                "phase": spaces.Discrete(2),
                "iteration": spaces.Box(0, self.config.utterances, (1,), np.int64),
                "role": _text_space(64),
                "persona": _text_space(1000),
                "topic": _text_space(500),
                "question": _text_space(500),
                "transcript": _text_space(self.config.max_transcript_chars),
                # 0 marks "unknown", so the low bound includes 0 even on Salvi's 1-5 scale.
                "stated": spaces.Box(min(lo, 0.0), hi, (k,), np.float32),
                "stated_mask": spaces.MultiBinary(k),
                "self_index": spaces.Discrete(k),
                "extra": _text_space(1000),
            }
        )

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self._act_spaces[agent]

    # -- episode ---------------------------------------------------------------------------

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a debate: draw personas (and, for salvi, sides, proposition, persuadee)."""
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        cfg = self.config
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self.roles = dict(zip(self.agents, cfg.role_list, strict=True))
        self._records, self._utterances = [], []
        self._last_scores = dict.fromkeys(self.agents)
        self._fallbacks = 0
        self._stated = np.zeros(cfg.seats, dtype=np.float32)
        self._stated_mask = np.zeros(cfg.seats, dtype=np.int8)
        if cfg.protocol == "salvi":
            self._setup_salvi()
        else:
            self._setup_taubenfeld()
        self._cursor = 0
        self.agent_selection = self.possible_agents[self._plan[0].seat]
        self._records.append(self._start_record())

    def _persona_rng(self) -> np.random.Generator:
        if self.config.persona_seed is None:
            return self.np_random
        return np.random.default_rng(self.config.persona_seed)

    def _draw_personas(self, roles: list[str], rng: np.random.Generator) -> list[catalogue.Persona]:
        # Distinct personas within a role (an echo chamber has two different Republicans).
        used: dict[str, set[int]] = {}
        out = []
        for role in roles:
            key = role if role in self._pools else "default"  # roles without a pool share it
            pool = self._pools[key]
            taken = used.setdefault(key, set())
            free = [i for i in range(len(pool)) if i not in taken] or list(range(len(pool)))
            pick = int(free[int(rng.integers(len(free)))])
            taken.add(pick)
            out.append(pool[pick])
        return out

    def _setup_taubenfeld(self) -> None:
        cfg = self.config
        topic = self._topics[cfg.topic]
        self.topic_text, self.question = topic.name, topic.question
        self.personas = self._draw_personas(list(cfg.role_list), self._persona_rng())
        speakers = [(s, "debate") for s in rules.round_robin(cfg.seats, cfg.iterations)]
        self._plan = rules.turn_plan(speakers, cfg.seats, survey_every_utterance=True)
        self.sides: dict[str, str] = {}
        self.proposition: catalogue.Proposition | None = None
        self.demographics: dict[str, str] = {}
        self.profile_id: str | None = None

    def _setup_salvi(self) -> None:
        rng = self.np_random
        pro_seat = int(rng.integers(2))
        self.sides = {a: "pro" if i == pro_seat else "con" for i, a in enumerate(self.agents)}
        self.proposition = self._choose_proposition(rng)
        profile = dict(self._profiles[int(rng.integers(len(self._profiles)))])
        # The profile id is bookkeeping for analysis, not something a debater is shown.
        self.profile_id = profile.pop("id", None)
        self.demographics = profile
        self.topic_text = self.proposition.text
        lo, hi = self.scale
        self.question = (
            f"On a scale from {lo:g} (strongly disagree) to {hi:g} (strongly agree), how much "
            f'do you agree with the proposition "{self.proposition.text}"? '
            "Answer with a single number."
        )
        self.personas = [self._persuader_persona(), self._persuadee_persona()]
        speakers = rules.salvi_speakers(pro_seat)
        self._plan = rules.turn_plan(speakers, 2, survey_every_utterance=False)

    def _choose_proposition(self, rng: np.random.Generator) -> catalogue.Proposition:
        props = self._propositions
        if self.config.proposition:
            return next(p for p in props if p.id == self.config.proposition)
        return props[int(rng.integers(len(props)))]

    def _persuader_persona(self) -> catalogue.Persona:
        if self.config.opponent == "human":
            return self._draw_personas(["default"], self._persona_rng())[0]
        return catalogue.Persona("Assistant", "An AI language model arguing its assigned side.")

    def _persuadee_persona(self) -> catalogue.Persona:
        return catalogue.Persona("Participant", "A debate participant; " + self._profile_text())

    def _profile_text(self) -> str:
        return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in self.demographics.items())

    # -- step ------------------------------------------------------------------------------

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if not self.agents:
            raise RuntimeError("debate_v0: the episode is over; call reset() first")
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if not isinstance(action, str):
            raise ValueError(
                f"debate_v0: action of {agent!r} must be a str (an utterance or a survey "
                f"reply), got {type(action).__name__}"
            )
        turn = self._plan[self._cursor]
        self._cumulative_rewards[agent] = 0.0
        if turn.kind == "speak":
            self._speak(turn, agent, action)
        else:
            self._survey(turn, agent, action)
        self._cursor += 1
        if self._cursor == len(self._plan):
            self._finish()
        else:
            self.agent_selection = self.possible_agents[self._plan[self._cursor].seat]
        self._accumulate_rewards()

    def _speak(self, turn: rules.Turn, agent: str, action: str) -> None:
        text, stated = rules.parse_attitude_marker(action)
        text = sanitize(text, self.config.max_utterance_chars).rstrip()
        source = "marker" if stated is not None else None
        if stated is None and self._last_scores.get(agent) is not None:
            # An utterance without a marker (an LLM's) expresses, for scripted listeners,
            # the attitude its speaker last reported in the survey; LLM listeners never see
            # ``stated``, only the transcript.
            stated, source = self._last_scores[agent], "survey"
        if stated is not None:
            lo, hi = self.scale
            stated = min(max(stated, lo), hi)
            self._stated[turn.seat] = stated
            self._stated_mask[turn.seat] = 1
        record = env_record(
            "utterance",
            iteration=turn.iteration + 1,
            agent=agent,
            role=self.roles[agent],
            phase=turn.phase,
            text=text,
            stated=stated,
            stated_source=source,
            persona=self.personas[turn.seat].name,
        )
        if self.sides:
            record["side"] = self.sides[agent]
        self._utterances.append(record)
        self._records.append(record)

    def _survey(self, turn: rules.Turn, agent: str, action: str) -> None:
        score = rules.parse_survey(action, *self.scale)
        self._last_scores[agent] = score
        self._fallbacks += score is None
        self._records.append(
            env_record(
                "survey",
                iteration=turn.iteration,
                agent=agent,
                role=self.roles[agent],
                score=score,
                parse_status="ok" if score is not None else "fallback",
                raw=action[:MAX_ACTION_CHARS],
            )
        )

    def _finish(self) -> None:
        self.terminations = dict.fromkeys(self.agents, True)
        self._records.append(env_record("debate_end", iterations=self.config.utterances))
        self.agent_selection = self.agents[0]

    # -- observations ----------------------------------------------------------------------

    def observe(self, agent: str) -> dict[str, Any]:
        seat = self.possible_agents.index(agent)
        turn = self._plan[min(self._cursor, len(self._plan) - 1)]
        return {
            "phase": 0 if turn.kind == "speak" and self._cursor < len(self._plan) else 1,
            "iteration": np.array([len(self._utterances)], dtype=np.int64),
            "role": sanitize(self.roles[agent], 64),
            "persona": sanitize(self.personas[seat].text, 1000),
            "topic": sanitize(self.topic_text, 500),
            "question": sanitize(self.question, 500),
            "transcript": self.transcript(),
            "stated": self._stated.copy(),
            "stated_mask": self._stated_mask.copy(),
            "self_index": seat,
            "extra": sanitize(rules.format_extra(self._extra(agent, turn)), 1000),
        }

    def _extra(self, agent: str, turn: rules.Turn) -> dict[str, str]:
        lo, hi = self.scale
        extra = {"protocol": self.config.protocol, "scale": f"{lo:g}-{hi:g}"}
        if not self.sides:
            extra["role_description"] = self._role_text.get(self.roles[agent], self.roles[agent])
            return extra
        extra["side"] = self.sides[agent]
        extra["phase"] = turn.phase or ("pre_survey" if turn.iteration == 0 else "post_survey")
        if self.roles[agent] == "persuader":
            # The persuader plays the condition's opponent; the persuadee must not learn
            # whether it faces a human or an LLM (Salvi et al. 2024 kept participants blind).
            extra["opponent"] = self.config.opponent
            if self.config.personalised:
                extra["persuadee_demographics"] = self._profile_text()
        return extra

    def transcript(self) -> str:
        """The shared transcript rendered from the utterance records, latest last."""
        lines = []
        for u in self._utterances:
            label = u.get("side", u["role"])
            lines.append(f"{u['persona']} ({label}): {u['text']}")
        joined = "\n".join(lines)
        text = sanitize(joined, len(joined))
        limit = self.config.max_transcript_chars
        if len(text) <= limit:
            return text
        cut = text[-limit:]
        newline = cut.find("\n")
        return cut[newline + 1 :] if newline >= 0 else cut

    # -- records, rendering ----------------------------------------------------------------

    def _start_record(self) -> Record:
        cfg = self.config
        speakers = [t for t in self._plan if t.kind == "speak"]
        schedule = [self.possible_agents[t.seat] for t in speakers]
        fields: dict[str, Any] = {
            "protocol": cfg.protocol,
            "topic": self.topic_text,
            "question": self.question,
            "scale": list(self.scale),
            "roles": dict(self.roles),
            "personas": {a: p.name for a, p in zip(self.agents, self.personas, strict=True)},
            "order": list(dict.fromkeys(schedule)),
            "schedule": schedule,
        }
        if cfg.protocol == "taubenfeld":
            fields["topic_id"] = cfg.topic
        else:
            assert self.proposition is not None  # set by _setup_salvi
            fields.update(
                sides=dict(self.sides),
                persuader=self.agents[0],
                persuadee=self.agents[1],
                opponent=cfg.opponent,
                personalised=cfg.personalised,
                strength=self.proposition.strength,
                proposition_id=self.proposition.id,
                demographics=dict(self.demographics),
                profile_id=self.profile_id,
            )
        return env_record("debate_start", **fields)

    def pop_records(self) -> list[Record]:
        """The records made since the last call (oldest first), once."""
        out, self._records = self._records, []
        return out

    def episode_records(self, ids: Sequence[str]) -> list[Record]:
        """Nothing beyond :meth:`pop_records`: every debate record is written as it happens."""
        return []

    def episode_stats(self, ids: Sequence[str]) -> dict[str, Any]:
        """Headline figures of the episode (``ids``: member id per seat)."""
        return {
            "utterances": len(self._utterances),
            "survey_fallbacks": self._fallbacks,
            "final_scores": {
                ids[i]: self._last_scores.get(a) for i, a in enumerate(self.possible_agents)
            },
        }

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return self.transcript()

    def close(self) -> None:
        pass


def env(**config: Any) -> DebateEnv:
    """Factory in PettingZoo's style."""
    return DebateEnv(**config)
