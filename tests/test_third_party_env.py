"""A third party adds an environment from outside agentsim: the proof that the study contract holds.

Everything a new environment needs is defined in this file, none of it in the package: a
repeated linear public-goods game (Ledyard 1995, "Public goods: a survey of experimental
research", Handbook of Experimental Economics; the groups of four of Fehr & Gaechter 2000,
American Economic Review 90(4)) as a PettingZoo ``ParallelEnv``, its config, its record
types, two scripted kinds, an LLM kind built from the generic prompted agent, an offline
policy, a dry-run estimate, a summariser, experiments and a report section. The tests then
drive the whole product through ``agentsim.cli.main`` only: run, report, dry run (priced
and offline), an offline-LLM run with re-asked replies, show, replay, resume, and the
listings.

The registrations are undone after the module (see :func:`_undo_registrations`), so the
rest of the suite sees the package's own studies only.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.test import parallel_api_test, parallel_seed_test

import agentsim
from agentsim.agents.llm.generic import PromptedAgent, PromptedPolicy, prompted_context
from agentsim.agents.llm.parsers import ParseResult
from agentsim.cli import main
from agentsim.core.config import build_config, check_number
from agentsim.core.errors import ConfigError
from agentsim.core.records import Record, make_record
from agentsim.envs.study import (
    Estimate,
    Experiment,
    LLMBinding,
    Study,
    register_study,
    study_ids,
    unregister_study,
)
from analysis.report import Section, register_section, unregister_sections

ENV_ID = "public_goods_v0"
EVO_ENV_ID = "public_goods_evo_v0"
EXPERIMENT = "public-goods"
EVO_EXPERIMENT = "public-goods-evolution"
OFFLINE_MODEL = "offline/public_goods"

# ---------------------------------------------------------------------------------------
# The game: config, env, record types
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicGoodsConfig:
    """One repeated public-goods game (the ``env.*`` keys).

    Attributes:
        players: players in the group (Fehr & Gaechter 2000: 4).
        rounds: rounds played with the same group.
        endowment: tokens each player receives every round.
        multiplier: the pot is multiplied by this and shared equally; a social dilemma
            needs 1 < multiplier < players (Fehr & Gaechter 2000: 1.6, an MPCR of 0.4).
    """

    players: int = 4
    rounds: int = 3
    endowment: float = 10.0
    multiplier: float = 1.6

    def __post_init__(self) -> None:
        check_number("players", self.players, low=2, high=64, integer=True)
        check_number("rounds", self.rounds, low=1, high=100, integer=True)
        check_number("endowment", self.endowment, low=0.001, high=1e6)
        check_number("multiplier", self.multiplier, low=1.0, high=float(self.players))


#: Required fields of this study's own record types.
RECORD_TYPES: Mapping[str, tuple[str, ...]] = {
    # One player's move in one round (written every step, at record=full).
    "contribution": ("round", "agent", "fraction", "amount", "payoff"),
    # Per episode: each member's total payoff and mean contributed fraction.
    "earnings": ("totals", "mean_fraction"),
}


class PublicGoodsEnv(ParallelEnv):  # type: ignore[misc]
    """A repeated linear public-goods game (Ledyard 1995), all players moving at once.

    Each round every player gets ``endowment`` tokens and puts a fraction of them into a
    pot (the action, ``Box(0, 1, (1,))``); the pot times ``multiplier`` is shared
    equally, and the reward is what the player kept plus its share. The observation
    states the rules and the previous round (own and the others' mean contribution, in
    tokens); the rules are in it because the generic LLM agent renders its prompt from
    the observation alone. Deterministic: nothing is random.

    Version History:
        v0: initial.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": ENV_ID,
        "render_modes": [],
        "is_parallelizable": True,
    }

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        self.config = build_config(PublicGoodsConfig, config)
        self.render_mode = render_mode
        c = self.config
        self.possible_agents = [f"player_{i}" for i in range(c.players)]
        self.agents: list[str] = []
        tokens = spaces.Box(0.0, c.endowment, (1,), np.float32)
        self._observation_space = spaces.Dict(
            {
                "round": spaces.Discrete(c.rounds + 1),
                "rounds_left": spaces.Discrete(c.rounds + 1),
                "players": spaces.Discrete(c.players + 1),
                "endowment": tokens,
                "multiplier": spaces.Box(1.0, float(c.players), (1,), np.float32),
                "own_last": tokens,
                "others_last": tokens,
            }
        )
        self._action_space = spaces.Box(0.0, 1.0, (1,), np.float32)
        self._reset_state()

    def _reset_state(self) -> None:
        n = self.config.players
        self._round = 0
        self._last = np.zeros(n)
        self._totals = np.zeros(n)
        self._fraction_sum = np.zeros(n)
        self._records: list[Record] = []

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._observation_space

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self._action_space

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        self._reset_state()
        self.agents = list(self.possible_agents)
        return self._observations(), {a: {} for a in self.agents}

    def step(self, actions: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
        if not self.agents:
            raise ValueError(f"{ENV_ID}: the episode is over; call reset()")
        c = self.config
        fractions = np.array([self._fraction(actions, a) for a in self.possible_agents])
        amounts = fractions * c.endowment
        share = c.multiplier * amounts.sum() / c.players
        payoffs = c.endowment - amounts + share
        self._records = [
            make_record(
                "contribution",
                round=self._round,
                agent=a,
                fraction=float(fractions[i]),
                amount=float(amounts[i]),
                payoff=float(payoffs[i]),
            )
            for i, a in enumerate(self.possible_agents)
        ]
        self._last, self._round = amounts, self._round + 1
        self._totals += payoffs
        self._fraction_sum += fractions
        done = self._round >= c.rounds
        observations = self._observations()
        rewards = {a: float(payoffs[i]) for i, a in enumerate(self.possible_agents)}
        terminations = dict.fromkeys(self.possible_agents, done)
        truncations = dict.fromkeys(self.possible_agents, False)
        infos: dict[str, Any] = {a: {} for a in self.possible_agents}
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _fraction(self, actions: Mapping[str, Any], agent: str) -> float:
        if not isinstance(actions, Mapping) or agent not in actions:
            raise ValueError(f"{ENV_ID}: no action for {agent}; give one per live agent")
        value = np.asarray(actions[agent], dtype=np.float64).reshape(-1)
        if value.shape != (1,) or not np.isfinite(value[0]):
            raise ValueError(
                f"{ENV_ID}: action {actions[agent]!r} of {agent} is not in {self._action_space}"
            )
        return float(np.clip(value[0], 0.0, 1.0))

    def _observations(self) -> dict[str, Any]:
        c, n = self.config, self.config.players
        others = (self._last.sum() - self._last) / (n - 1)
        return {
            a: {
                "round": self._round,
                "rounds_left": c.rounds - self._round,
                "players": n,
                "endowment": np.array([c.endowment], np.float32),
                "multiplier": np.array([c.multiplier], np.float32),
                "own_last": np.array([self._last[i]], np.float32),
                "others_last": np.array([others[i]], np.float32),
            }
            for i, a in enumerate(self.possible_agents)
        }

    # --- agentsim's EpisodeResults protocol -------------------------------------------

    def pop_records(self) -> list[Record]:
        """The last step's ``contribution`` records, once (seat names; the loop renames)."""
        out, self._records = self._records, []
        return out

    def episode_records(self, ids: Sequence[str]) -> list[Record]:
        """One ``earnings`` record per episode, by member id."""
        mean = self._fraction_sum / max(self._round, 1)
        return [
            make_record(
                "earnings",
                totals=dict(zip(ids, self._totals.tolist(), strict=True)),
                mean_fraction=dict(zip(ids, mean.tolist(), strict=True)),
            )
        ]

    def episode_stats(self, ids: Sequence[str]) -> dict[str, Any]:
        """The episode-end figures: mean contributed fraction and efficiency."""
        c = self.config
        best = c.players * c.endowment * c.multiplier * max(self._round, 1)
        return {
            "mean_contribution": float(self._fraction_sum.mean() / max(self._round, 1)),
            "efficiency": float(self._totals.sum() / best),
        }


class ScoredPublicGoodsEnv(PublicGoodsEnv):
    """The same game for populations that evolve: selection by total payoff.

    Version History:
        v0: initial.
    """

    metadata: ClassVar[dict[str, Any]] = {**PublicGoodsEnv.metadata, "name": EVO_ENV_ID}

    def scores(self) -> np.ndarray:
        """Total payoff per seat (agentsim's Scored protocol)."""
        if self._round < self.config.rounds:
            raise RuntimeError(f"{EVO_ENV_ID}: scores() needs a finished episode")
        return self._totals.copy()


# ---------------------------------------------------------------------------------------
# Agents: two scripted kinds and the LLM kind
# ---------------------------------------------------------------------------------------


class FreeRider:
    """Contributes nothing: the one-shot game's dominant strategy (Ledyard 1995)."""

    kind = "free_rider"

    def __init__(self) -> None:
        self.name = self.kind

    def params(self) -> dict[str, Any]:
        return {}

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Mapping[str, Any]) -> agentsim.Decision:
        return agentsim.Decision(action=np.zeros(1, np.float32))


class ConditionalCooperator:
    """Puts in ``initial`` of its tokens, then what the others put in on average last round.

    The most common type in Fischbacher, Gaechter & Fehr (2001, Economics Letters 71(3),
    "Are people conditionally cooperative?").
    """

    kind = "conditional_cooperator"

    def __init__(self, initial: float = 1.0) -> None:
        if not 0.0 <= initial <= 1.0:
            raise ConfigError("conditional_cooperator initial", initial, "a number in [0, 1]")
        self.name, self.initial = self.kind, float(initial)

    def params(self) -> dict[str, Any]:
        return {"initial": self.initial}

    def mutated_params(self, rng: np.random.Generator, sigma: float) -> dict[str, Any]:
        return {"initial": float(np.clip(self.initial + rng.normal(0.0, sigma), 0.0, 1.0))}

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Mapping[str, Any]) -> agentsim.Decision:
        if observation["round"] == 0:
            fraction = self.initial
        else:
            fraction = float(observation["others_last"][0] / observation["endowment"][0])
        return agentsim.Decision(action=np.array([fraction], np.float32))


_CONTRIBUTION = re.compile(r"Contribution:\s*\**\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
ANSWER_FORM = "End your reply with 'Contribution: <number of tokens>'."


def contribution_messages(obs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The prompt of one contribution, rendered from the observation alone."""
    e, r = float(obs["endowment"][0]), float(obs["multiplier"][0])
    system = (
        f"You play a public goods game with {int(obs['players'])} players. Every round each "
        f"player receives {e:g} tokens and puts some of them into a common pot; the pot is "
        f"multiplied by {r:g} and shared equally among all players. You keep the rest."
    )
    if obs["round"] == 0:
        history = "This is the first round."
    else:
        history = (
            f"Last round you put in {float(obs['own_last'][0]):.2f} tokens; on average the "
            f"other players put in {float(obs['others_last'][0]):.2f} tokens."
        )
    user = (
        f"Round {int(obs['round']) + 1} ({int(obs['rounds_left'])} left, this one included). "
        f"You have {e:g} tokens. {history} How many tokens do you put into the pot? "
        f"Think briefly. {ANSWER_FORM}"
    )
    return [("system", system), ("user", user)]


def parse_contribution(text: str, obs: Mapping[str, Any]) -> ParseResult[np.ndarray]:
    """The fraction of the endowment a reply puts in (never raises)."""
    endowment = float(obs["endowment"][0])
    found = _CONTRIBUTION.search(text)
    if found is None:
        return ParseResult(False, error=ANSWER_FORM)
    tokens = float(found.group(1))
    if tokens > endowment:
        return ParseResult(False, error=f"You can put in at most {endowment:g} tokens.")
    reason = text[: found.start()].strip() or None
    return ParseResult(True, np.array([tokens / endowment], np.float32), justification=reason)


POLICY = PromptedPolicy(
    messages=contribution_messages,
    parse=parse_contribution,
    fallback=lambda obs: np.zeros(1, np.float32),
    purpose="contribution",
)

_ROUND = re.compile(r"Round (\d+)")
_HAVE = re.compile(r"You have (\d+(?:\.\d+)?) tokens")
_OTHERS = re.compile(r"other players put in (\d+(?:\.\d+)?) tokens")
EVASIVE = "I would rather keep my options open this round."


def public_goods_reply(messages: Sequence[Mapping[str, str]]) -> str:
    """What ``offline/public_goods`` answers: a pure function of the messages.

    A conditional cooperator (half the endowment first, then the others' mean), except
    that its first answer in round 2 names no number, so the driver's re-ask path runs.
    """
    first = next((m["content"] for m in messages if m["role"] == "user"), "")
    rnd, have = _ROUND.search(first), _HAVE.search(first)
    if rnd is None or have is None:
        return "Contribution: 0"
    if rnd.group(1) == "2" and messages[-1]["content"] == first:
        return EVASIVE
    others = _OTHERS.search(first)
    tokens = float(have.group(1)) / 2 if others is None else float(others.group(1))
    return f"I match what the group gives. Contribution: {tokens:.2f}"


class CountingPolicy:
    """An offline policy that counts its calls (to prove a dry run calls nothing)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, messages: Sequence[Mapping[str, str]]) -> str:
        self.calls += 1
        return public_goods_reply(messages)


# ---------------------------------------------------------------------------------------
# The study: estimate, summary, experiments; the report section
# ---------------------------------------------------------------------------------------

COMPLETION_TOKENS = 30  # a short reason and the answer


def estimate(env: Mapping[str, Any], run: Any, settings: Any, n_llm: int) -> Estimate:
    """One call per LLM player and round; prompt tokens at ~4 characters per token."""
    config = PublicGoodsConfig(**env)
    calls = int(run.episodes) * config.rounds * n_llm
    sample = contribution_messages(PublicGoodsEnv(**env).reset()[0]["player_0"])
    per_call = sum(len(text) for _, text in sample) // 4
    return Estimate(calls, calls * per_call, calls * COMPLETION_TOKENS, {"contributions": calls})


def summarise(records: Any) -> dict[str, Any]:
    """Per episode: the mean contributed fraction and the group's total payoff."""
    rows = []
    for r in records:
        if r["type"] == "earnings":
            fractions = list(r["mean_fraction"].values())
            rows.append(
                {
                    "episode": r["episode"],
                    "mean_fraction": sum(fractions) / len(fractions),
                    "total_payoff": sum(r["totals"].values()),
                }
            )
    return {"public_goods": rows}


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    return [
        f"episode {row['episode']}: mean contribution {row['mean_fraction']:.1%}, "
        f"group payoff {row['total_payoff']:.2f}"
        for row in summary.get("public_goods", [])
    ]


def section_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """Mean contributed fraction by round (1-based) and by agent kind, from records only."""
    kinds: dict[str, str] = {}
    by_round: dict[str, list[float]] = {}
    by_kind: dict[str, list[float]] = {}
    for r in records:
        if r["type"] in ("episode_start", "generation_start"):
            kinds.update(r["kinds"])
        elif r["type"] == "contribution":
            by_round.setdefault(str(r["round"] + 1), []).append(r["fraction"])
            by_kind.setdefault(kinds.get(r["agent"], "?"), []).append(r["fraction"])
    return {
        "by_round": {k: float(np.mean(v)) for k, v in by_round.items()},
        "by_kind": {k: float(np.mean(v)) for k, v in sorted(by_kind.items())},
    }


def section_text(stats: Mapping[str, Any]) -> str:
    rounds = ", ".join(f"{k}: {v:.1%}" for k, v in stats["by_round"].items())
    kinds = ", ".join(f"{k} {v:.1%}" for k, v in stats["by_kind"].items())
    return f"public goods: mean contribution by round {rounds}\nby kind: {kinds}"


SECTION = Section("public_goods", section_statistics, section_text)
DEFAULT_POPULATION = "conditional_cooperator:2,free_rider:2"
AGENT_KINDS = {
    FreeRider.kind: FreeRider,
    ConditionalCooperator.kind: ConditionalCooperator,
    "llm": PromptedAgent.factory(POLICY),
}


def make_study(policy: CountingPolicy) -> Study:
    return Study(
        env_id=ENV_ID,
        make_env=PublicGoodsEnv,
        config=PublicGoodsConfig,
        record_types=RECORD_TYPES,
        agent_kinds=AGENT_KINDS,
        default_population=DEFAULT_POPULATION,
        summarise=summarise,
        summary_lines=summary_lines,
        seats=lambda config: int(config.players),
        seats_key="players",
        llm=LLMBinding(context=prompted_context, estimate=estimate, offline_policy=policy),
        experiments={
            EXPERIMENT: Experiment(
                EXPERIMENT,
                "a repeated public-goods game (Fehr & Gaechter 2000 groups of four)",
                run={"episodes": 2},
            )
        },
    )


def make_evolution_study() -> Study:
    return Study(
        env_id=EVO_ENV_ID,
        make_env=ScoredPublicGoodsEnv,
        config=PublicGoodsConfig,
        record_types=RECORD_TYPES,
        agent_kinds={k: v for k, v in AGENT_KINDS.items() if k != "llm"},
        default_population=DEFAULT_POPULATION,
        summarise=summarise,
        summary_lines=summary_lines,
        seats=lambda config: int(config.players),
        seats_key="players",
        evolution=True,
        episode_name="generation",
        experiments={
            EVO_EXPERIMENT: Experiment(
                EVO_EXPERIMENT,
                "public goods with selection of the top half by payoff",
                run={"episodes": 3},
            )
        },
    )


# ---------------------------------------------------------------------------------------
# Registration (undone after the module)
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _undo_registrations(env_ids: list[str]) -> Iterator[None]:
    """Unregister the studies (kinds, record types, offline policy) and report sections."""
    try:
        yield
    finally:
        for env_id in env_ids:
            unregister_study(env_id)
            unregister_sections(env_id)


@dataclass
class Registered:
    policy: CountingPolicy
    before_status: int
    before_stderr: str


def _quiet_main(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(args)
    return status, err.getvalue()


@pytest.fixture(scope="module")
def registered() -> Iterator[Registered]:
    # Tried before registering, so the test of the failure does not depend on test order.
    status, stderr = _quiet_main(["run", EXPERIMENT, "--dry-run"])
    with _undo_registrations([ENV_ID, EVO_ENV_ID]):
        policy = CountingPolicy()
        register_study(make_study(policy))
        register_study(make_evolution_study())
        register_section(ENV_ID, SECTION)
        register_section(EVO_ENV_ID, SECTION)
        yield Registered(policy, status, stderr)


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Path, str]:
    """``agentsim run`` into a fresh folder; returns the run directory and stdout."""
    out = tmp_path / "runs"
    status = main(["run", *args, "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    (run_dir,) = out.iterdir()
    return run_dir, captured.out


def _events(run_dir: Path, record_type: str) -> list[Record]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["type"] == record_type]


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


def test_the_env_passes_pettingzoo_checks_and_validates_its_config(
    registered: Registered,  # the env makes records of its study's types
) -> None:
    parallel_api_test(PublicGoodsEnv(), num_cycles=50)
    parallel_seed_test(lambda: PublicGoodsEnv(players=3, rounds=5), num_cycles=20)
    with pytest.raises(ConfigError, match=r"multiplier=9.*\[1.0, 4.0\]"):
        PublicGoodsEnv(multiplier=9)
    with pytest.raises(ConfigError, match="unknown key 'player'"):
        PublicGoodsEnv(player=4)
    env = PublicGoodsEnv()
    env.reset()
    with pytest.raises(ValueError, match="not in Box"):
        env.step({a: np.array([np.nan]) for a in env.possible_agents})


def test_an_unregistered_experiment_fails_cleanly(registered: Registered) -> None:
    assert registered.before_status == 2
    assert registered.before_stderr.startswith("agentsim: error: invalid experiment='public-goods'")
    assert "Traceback" not in registered.before_stderr
    assert EXPERIMENT not in registered.before_stderr.partition("allowed:")[2].strip().split(", ")


def test_registration_checks_the_declared_seams(registered: Registered) -> None:
    class Unscored(PublicGoodsEnv):
        pass

    class NoResults(ParallelEnv):  # type: ignore[misc]
        possible_agents: ClassVar[list[str]] = ["a"]

        def close(self) -> None:
            pass

    evo = make_evolution_study()
    with pytest.raises(TypeError, match="does not implement Scored"):
        register_study(Study(**{**evo.__dict__, "env_id": "unscored_v0", "make_env": Unscored}))
    with pytest.raises(TypeError, match="does not implement EpisodeResults"):
        register_study(Study(**{**evo.__dict__, "env_id": "bare_v0", "make_env": NoResults}))
    assert "unscored_v0" not in study_ids() and "bare_v0" not in study_ids()


def test_envs_experiments_and_agents_list_the_study(
    registered: Registered, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["envs"]) == 0
    assert {ENV_ID, EVO_ENV_ID, "donor_game_v0"} <= set(capsys.readouterr().out.split())
    assert main(["experiments"]) == 0
    listed = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()}
    assert listed[EXPERIMENT] == ENV_ID and listed[EVO_EXPERIMENT] == EVO_ENV_ID
    assert main(["agents"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{ENV_ID}: conditional_cooperator, free_rider, llm" in lines
    assert f"{EVO_ENV_ID}: conditional_cooperator, free_rider" in lines
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "  multiplier=1.6: a number in [1.0, 4.0]" in capsys.readouterr().out


def test_a_scripted_run_and_its_report(
    registered: Registered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, out = _run(tmp_path, capsys, EXPERIMENT, "--set", "multiplier=2")
    # By hand, endowment 10, multiplier 2, two free riders and two conditional
    # cooperators: the cooperators put in 1, 1/3, 1/9 of their tokens; a free rider earns
    # 20 + 40/3 + 100/9 = 400/9, a cooperator 10 in every round.
    assert "episode 1: mean contribution 24.1%, group payoff 148.89" in out
    assert "status: completed; episodes: 2" in out
    (earnings, _) = _events(run_dir, "earnings")
    assert earnings["totals"] == pytest.approx(
        {"player_0": 30, "player_1": 30, "player_2": 400 / 9, "player_3": 400 / 9}
    )
    assert len(_events(run_dir, "contribution")) == 2 * 3 * 4
    (end, _) = _events(run_dir, "episode_end")
    assert end["mean_contribution"] == pytest.approx((1 + 1 / 3 + 1 / 9) / 6)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env_id"] == ENV_ID and len(summary["public_goods"]) == 2

    assert main(["report", str(run_dir)]) == 0
    text = capsys.readouterr().out
    assert f"env {ENV_ID}" in text
    assert "public goods: mean contribution by round 1: 50.0%, 2: 16.7%, 3: 5.6%" in text
    assert "by kind: conditional_cooperator 48.1%, free_rider 0.0%" in text
    assert main(["report", str(run_dir), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["env_id"] == ENV_ID
    assert stats["public_goods"]["by_round"] == pytest.approx({"1": 0.5, "2": 1 / 6, "3": 1 / 18})
    assert stats["public_goods"]["by_kind"] == pytest.approx(
        {"conditional_cooperator": 13 / 27, "free_rider": 0.0}
    )
    assert stats["run"]["decisions"] == {"scripted": 24}


def test_resume_of_a_finished_run_says_completed_and_extends(
    registered: Registered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = _run(tmp_path, capsys, EXPERIMENT)
    events = (run_dir / "events.jsonl").read_bytes()
    assert main(["run", "--resume", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "already completed (2 episodes); nothing to do (extend it with --set episodes=N)" in out
    assert (run_dir / "events.jsonl").read_bytes() == events
    assert main(["run", "--resume", str(run_dir), "--set", "episodes=3", "--quiet"]) == 0
    assert "status: completed; episodes: 3" in capsys.readouterr().out
    assert [r["episode"] for r in _events(run_dir, "earnings")] == [1, 2, 3]


def test_dry_runs_price_the_study_and_call_nothing(
    registered: Registered,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import litellm

    def no_call(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a dry run called LiteLLM")

    monkeypatch.setattr(litellm, "completion", no_call)
    monkeypatch.setattr(litellm, "acompletion", no_call)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "runs"
    base = ["run", EXPERIMENT, "--out", str(out), "--dry-run"]
    policy_calls = registered.policy.calls
    # 2 episodes x 3 rounds x 4 LLM players.
    calls = "LLM calls:  24 (24 contributions; more if replies need re-asking)"

    assert main(base) == 0
    assert "scripted agents only: 0 LLM calls" in capsys.readouterr().out
    assert main([*base, "--model", "openai/gpt-4o-mini"]) == 0
    text = capsys.readouterr().out
    assert calls in text and "nothing was called (dry run)" in text
    cost = re.search(r"cost:\s+\$(\d+\.\d\d)\n", text)
    assert cost is not None, text  # LiteLLM prices gpt-4o-mini; no key needed to price it
    assert main([*base, "--model", OFFLINE_MODEL]) == 0
    text = capsys.readouterr().out
    assert calls in text and "cost:       $0.00" in text
    assert registered.policy.calls == policy_calls
    assert not out.exists()
    # The same command without --dry-run needs the key, and says so before writing anything.
    assert main(["run", EXPERIMENT, "--out", str(out), "--model", "openai/gpt-4o-mini"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    assert not out.exists()


def test_an_offline_llm_run_records_calls_and_parse_statuses(
    registered: Registered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    population = "population=llm:2,free_rider:1,conditional_cooperator:1"
    args = [EXPERIMENT, "--model", OFFLINE_MODEL, "--set", population, "--set", "multiplier=2"]
    calls_before = registered.policy.calls
    run_dir, out = _run(tmp_path, capsys, *args)
    # Per episode: 2 LLM players x 3 rounds; round 2's first replies are re-asked.
    assert "LLM: 16 calls (0 from the cache" in out
    assert "decisions ok 8, re-asked 4, fallback 0" in out
    assert registered.policy.calls - calls_before == 16

    decisions = _events(run_dir, "decision")
    statuses = Counter((d["agent"], d["round"], d["parse_status"]) for d in decisions)
    for agent in ("player_0", "player_1"):
        assert statuses[(agent, 0, "ok")] == statuses[(agent, 2, "ok")] == 2
        assert statuses[(agent, 1, "reasked")] == 2
    assert statuses[("player_2", 0, "scripted")] == 2
    first = next(d for d in decisions if d["agent"] == "player_0")
    assert first["action"] == [0.5] and first["asks"] == 1  # half of 10 tokens
    assert first["rationale"] == "I match what the group gives."
    reasked = next(d for d in decisions if d["parse_status"] == "reasked")
    assert reasked["asks"] == 2 and len(reasked["prompt_hashes"]) == 2

    llm_calls = _events(run_dir, "llm_call")
    assert len(llm_calls) == 16
    assert {c["model"] for c in llm_calls} == {OFFLINE_MODEL}
    assert {c["purpose"] for c in llm_calls} == {"contribution"}
    assert all(c["error"] is None and not c["cached"] and c["cost_usd"] > 0 for c in llm_calls)
    assert sum(c["reply"] == EVASIVE for c in llm_calls) == 4
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["decisions"] == {"scripted": 12, "ok": 8, "reasked": 4, "fallback": 0}

    index = decisions.index(reasked)
    assert main(["show", str(run_dir), "--decision", str(index)]) == 0
    shown = capsys.readouterr().out
    assert "How many tokens do you put into the pot?" in shown and EVASIVE in shown
    assert "Your reply could not be used: " + ANSWER_FORM in shown
    assert main(["replay", str(run_dir), "--quiet"]) == 0
    assert "replay identical" in capsys.readouterr().out
    assert registered.policy.calls - calls_before == 16  # the replay paid nothing
    assert main(["report", str(run_dir), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["run"]["llm_calls"] == 16 and "public_goods" in stats


def test_the_evolution_variant_selects_by_scores(
    registered: Registered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, out = _run(tmp_path, capsys, EVO_EXPERIMENT)
    assert "status: completed; generations: 3" in out
    starts = _events(run_dir, "generation_start")
    first = starts[0]["kinds"]
    riders = {m for m, kind in first.items() if kind == "free_rider"}
    # Free riders out-earn cooperators whenever anyone contributes (multiplier < players).
    selection = _events(run_dir, "selection")
    assert set(selection[0]["survivors"]) == riders
    assert set(starts[1]["kinds"].values()) == {"free_rider"}
    assert [r["kind"] for r in _events(run_dir, "reproduction")] == ["free_rider"] * 4
    assert main(["report", str(run_dir), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["public_goods"]["by_round"]["1"] == pytest.approx((0.5 + 0 + 0) / 3)
