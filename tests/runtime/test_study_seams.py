"""The loop's seams for studies with state across episodes, on a toy study defined here.

A "tally" society: every episode is one step in which each agent reports a count it carries
from episode to episode (``Carries``); the env keeps a running total across episodes
(``PersistentState``), scores seats by their count, and seats are places (``fixed_seats``);
the study brings its own reproducer. A second env leaves an async verdict that the runner
must settle before the agents see the next observation (``Settles``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo import ParallelEnv

import agentsim
from agentsim.cli import main
from agentsim.core.config import build_config, check_number
from agentsim.core.records import Record, make_record
from agentsim.envs.study import Experiment, Study, register_study, unregister_study
from agentsim.evolution.population import Member, new_member_ids

ENV_ID = "tally_v0"


@dataclass(frozen=True)
class TallyConfig:
    seats: int = 4

    def __post_init__(self) -> None:
        check_number("seats", self.seats, low=2, high=16, integer=True)


class TallyEnv(ParallelEnv):  # type: ignore[misc]
    metadata: ClassVar[dict[str, Any]] = {"name": ENV_ID, "render_modes": []}

    def __init__(self, **config: Any) -> None:
        self.config = build_config(TallyConfig, config)
        self.possible_agents = [f"seat_{i}" for i in range(self.config.seats)]
        self.agents: list[str] = []
        self.total = 0.0  # across episodes: the persistent state
        self._scores = np.zeros(self.config.seats)
        self._records: list[Record] = []

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return spaces.Box(0.0, 1e9, (1,), np.float64)

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return spaces.Box(0.0, 1e9, (1,), np.float64)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        self.agents = list(self.possible_agents)
        obs = {a: np.array([self.total]) for a in self.agents}
        return obs, {a: {} for a in self.agents}

    def step(self, actions: Mapping[str, Any]) -> Any:
        counts = np.array([float(np.asarray(actions[a])[0]) for a in self.possible_agents])
        self._scores = counts
        self.total += float(counts.sum())
        self._records.append(make_record("tally", total=self.total))
        done = dict.fromkeys(self.agents, True)
        obs = {a: np.array([self.total]) for a in self.agents}
        rewards = dict.fromkeys(self.agents, 0.0)
        infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self.agents = []
        return obs, rewards, done, dict.fromkeys(done, False), infos

    def pop_records(self) -> list[Record]:
        out, self._records = self._records, []
        return out

    def episode_records(self, ids: Sequence[str]) -> list[Record]:
        return []

    def episode_stats(self, ids: Sequence[str]) -> dict[str, Any]:
        return {"total": self.total}

    def scores(self) -> np.ndarray:
        return self._scores

    def env_state(self) -> dict[str, Any]:
        return {"total": self.total}

    def restore_env_state(self, state: dict[str, Any]) -> None:
        self.total = float(state.get("total", 0.0))


class Counter:
    """Reports a count that grows by ``step`` every episode and carries it on."""

    kind = "counter"

    def __init__(self, step: float = 1.0, count: float = 0.0) -> None:
        self.step, self.count, self.name = float(step), float(count), "counter"

    def params(self) -> dict[str, Any]:
        return {"step": self.step}

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Any) -> agentsim.Decision:
        self.count += self.step
        return agentsim.Decision(action=np.array([self.count]))

    def carried(self) -> dict[str, Any]:
        return {"count": self.count}


@dataclass(frozen=True)
class FreshStart:
    """Children copy the best survivor's step and start counting from zero."""

    async def reproduce(
        self,
        survivors: Sequence[Member],
        scores: Sequence[float],
        n_new: int,
        generation: int,
        rng: np.random.Generator,
    ) -> list[Member]:
        best = survivors[int(np.argmax(scores))]
        return [
            Member(i, best.kind, {"step": best.params["step"]}, generation, (best.id,))
            for i in new_member_ids(generation, n_new)
        ]


@pytest.fixture(scope="module", autouse=True)
def tally_study() -> Iterator[None]:
    register_study(
        Study(
            env_id=ENV_ID,
            make_env=TallyEnv,
            config=TallyConfig,
            record_types={"tally": ("total",)},
            agent_kinds={"counter": Counter},
            default_population="counter:4",
            summarise=lambda records: {},
            summary_lines=lambda summary: [],
            experiments={"tally": Experiment("tally", "a toy tally", run={"episodes": 4})},
            seats=lambda config: config.seats,
            evolution=True,
            seats_key="seats",
            reproducer=lambda settings, env, context: FreshStart(),
            fixed_seats=True,
        )
    )
    yield
    unregister_study(ENV_ID)


def _run(out: Path, *args: str) -> Path:
    assert main(["run", "tally", "--seed", "3", "--out", str(out), *args]) == 0
    (run,) = out.iterdir()
    return run


def _records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


POPULATION = "--set", "population=counter[step=1]:1,counter[step=3]:1,counter[step=2]:2"


def test_carried_state_persistent_env_state_fixed_seats_and_study_reproducer(
    tmp_path: Path,
) -> None:
    run = _run(tmp_path / "r", *POPULATION)
    records = _records(run)
    starts = [r["seats"] for r in records if r["type"] == "generation_start"]
    # Generation 1 -> 2: the two lowest counts (step 1 and one step-2 seat) are replaced
    # in place; survivors keep their seats.
    selection = next(r for r in records if r["type"] == "selection")
    for before, after in itertools.pairwise(starts):
        for seat, member in enumerate(after):
            if member in before:
                assert before.index(member) == seat
    assert all(m not in starts[1] for m in selection["removed"])
    # Carried counts: the step-3 member counts 3, 6, 9, 12 over four episodes.
    totals = [r["total"] for r in records if r["type"] == "tally"]
    decisions = [r for r in records if r["type"] == "decision" and r["agent"] == "1_2"]
    assert [d["action"][0] for d in decisions] == [3.0, 6.0, 9.0, 12.0]
    # Children come from the study's reproducer: they start at zero with the best step.
    children = [r for r in records if r["type"] == "reproduction"]
    assert children and all(c["params"] == {"step": 3.0} for c in children)
    # The env's running total crosses episodes and is kept in the checkpoint.
    checkpoint = json.loads((run / "checkpoint.json").read_text())
    assert checkpoint["env_state"] == {"total": totals[-1]}
    assert totals == sorted(totals) and len(set(totals)) == 4


def test_extended_run_restores_env_state_and_carried_params(tmp_path: Path) -> None:
    full = _run(tmp_path / "full", *POPULATION)
    short = _run(tmp_path / "short", *POPULATION, "--set", "episodes=2")
    assert main(["run", "--resume", str(short), "--set", "episodes=4"]) == 0
    strip = {"run_start", "run_end"}

    def events(out: Path) -> list[dict[str, Any]]:
        return [r for r in _records(out) if r["type"] not in strip]

    assert events(short) == events(full)


class Verdict(ParallelEnv):  # type: ignore[misc]
    """Step 1 leaves an async verdict; the agents must see it settled at step 2."""

    metadata: ClassVar[dict[str, Any]] = {"name": "verdict", "render_modes": []}
    possible_agents: ClassVar[list[str]] = ["a", "b"]

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return spaces.Discrete(3)

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return spaces.Discrete(2)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        self.agents, self.t, self.pending = ["a", "b"], 0, False
        return dict.fromkeys(self.agents, 0), {a: {} for a in self.agents}

    def step(self, actions: Mapping[str, Any]) -> Any:
        self.t += 1
        self.pending = self.t == 1
        done = self.t == 2
        obs = dict.fromkeys(self.agents, 1)
        out = (
            obs,
            dict.fromkeys(self.agents, 0.0),
            dict.fromkeys(self.agents, done),
            dict.fromkeys(self.agents, False),
            {a: {} for a in self.agents},
        )
        if done:
            self.agents = []
        return out

    async def asettle(self, observations: dict[str, Any]) -> dict[str, Any]:
        if not self.pending:
            return observations
        await asyncio.sleep(0)  # an LLM judge's verdict arrives
        self.pending = False
        return dict.fromkeys(observations, 2)


class Seen:
    name, kind = "seen", "seen"

    def __init__(self) -> None:
        self.seen: list[int] = []

    def reset(self, *, seed: int | None = None) -> None:
        pass

    def act(self, observation: Any) -> agentsim.Decision:
        self.seen.append(int(observation))
        return agentsim.Decision(action=0)


def test_runner_settles_an_env_before_its_agents_observe() -> None:
    agents = {"a": Seen(), "b": Seen()}
    agentsim.run_episode(Verdict(), agents, seed=0)
    assert agents["a"].seen == [0, 2] and agents["b"].seen == [0, 2]
