"""The batch path: scripted populations play the study's vectorised episode, with the
records and results of the PettingZoo path, byte for byte (``AGENTSIM_BATCH=off`` forces
the PettingZoo path)."""

import asyncio
import json
import os
from pathlib import Path

import numpy as np
import pytest

import agentsim.runtime.loop as loop
from agentsim.agents import registry
from agentsim.agents.base import Decision
from agentsim.agents.scripted.donor import (
    STRATEGIES,
    DonorStrategy,
    ImageScoring,
    TraceBatch,
    row_rule,
)
from agentsim.core.errors import UserError
from agentsim.core.records import load_records
from agentsim.envs.study import get_study
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.replay import normalise
from agentsim.runtime.rundir import EventLog, RunDir

CASES = {
    "default-full": ("donor-game", ["agents=12", "generations=3"]),
    "punishment-full": ("donor-game-punishment", ["agents=12", "generations=3"]),
    "mixed-kinds-full": (
        "donor-game",
        [
            "agents=14",
            "generations=3",
            "population=random:2,trace_average:2,standing[punish=0.2]:2,"
            "image_scoring:2,fixed_fraction[fraction=0.3]:2,cooperator:2,defector:2",
            "punishment=costly",
        ],
    ),
    "released-code-summary": (
        "donor-game",
        [
            "agents=40",
            "generations=4",
            "record=summary",
            "pairing=released_code",
            "selection_score=released_code",
        ],
    ),
    "deep-traces-full": (
        "donor-game",
        ["agents=10", "generations=2", "rounds=14", "games=3", "trace_depth=9"],
    ),
    "no-traces-summary": (
        "donor-game",
        ["agents=8", "generations=3", "trace_depth=0", "record=summary"],
    ),
    "norm-society-full": ("norm-society", ["episodes=4"]),
    "norm-mixed-kinds-evolve-full": (
        "norm-society",
        [
            "episodes=7",
            "steps_per_era=2",
            "norm_schedule=evolve",
            "population=evolutionary[conformity=0.2]:3,static:3,reflective:4",
        ],
    ),
    "norm-network-summary": (
        "norm-society-network",
        ["episodes=3", "n_agents=40", "record=summary", "audit_observer=rule"],
    ),
}


def _play(tmp_path: Path, where: str, experiment: str, overrides: list[str], mode: str):
    """Run in ``tmp_path/where/run`` (the same run id for both paths); count the
    PettingZoo episodes played."""
    config = make_config(experiment, 5, overrides)
    run = RunDir.create(tmp_path / where, "run", config.to_json())
    played = []
    original = loop.arun_episode

    async def counted(*args, **kwargs):
        played.append(1)
        return await original(*args, **kwargs)

    before = os.environ.get(loop.BATCH_VARIABLE)
    os.environ[loop.BATCH_VARIABLE] = mode
    loop.arun_episode = counted
    try:
        asyncio.run(run_experiment(run, config))
    finally:
        loop.arun_episode = original
        if before is None:
            os.environ.pop(loop.BATCH_VARIABLE)
        else:
            os.environ[loop.BATCH_VARIABLE] = before
    return run, len(played)


@pytest.mark.parametrize("case", sorted(CASES))
def test_batch_path_writes_the_pettingzoo_paths_files_byte_for_byte(tmp_path, case):
    experiment, overrides = CASES[case]
    slow, slow_episodes = _play(tmp_path, "off", experiment, overrides, "off")
    fast, fast_episodes = _play(tmp_path, "auto", experiment, overrides, "auto")
    assert slow_episodes > 0 and fast_episodes == 0  # each path really played
    for name in ("events.jsonl", "summary.json"):
        assert fast.file(name).read_bytes() == slow.file(name).read_bytes(), name
    checkpoint = json.loads(fast.file("checkpoint.json").read_text())
    assert checkpoint == json.loads(slow.file("checkpoint.json").read_text())


class _ActsOtherwise(ImageScoring):
    """Its ``act`` is not its batch rule: it must be played through PettingZoo."""

    kind = "acts_otherwise"

    def act(self, observation):
        return Decision(action=super().act(observation).action * 0.5)


def test_a_population_the_batch_cannot_play_falls_back_to_pettingzoo(tmp_path, monkeypatch):
    get_study("donor_game_v0")  # built-in kinds first
    monkeypatch.setitem(registry._SCOPED["donor_game_v0"], "acts_otherwise", _ActsOtherwise)
    overrides = ["agents=6", "generations=2", "population=acts_otherwise:2,standing:4"]
    slow, _ = _play(tmp_path, "off", "donor-game", overrides, "off")
    fast, fast_episodes = _play(tmp_path, "auto", "donor-game", overrides, "auto")
    assert fast_episodes == 2
    assert fast.file("events.jsonl").read_bytes() == slow.file("events.jsonl").read_bytes()


def test_an_unknown_batch_mode_is_refused_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(loop.BATCH_VARIABLE, "sometimes")
    with pytest.raises(UserError, match="AGENTSIM_BATCH='sometimes' is not one of auto, off"):
        loop.batch_mode()


class Killed(BaseException):
    """Stands in for SIGKILL: nothing catches it and unflushed lines are lost."""


def _kill_at_flush(monkeypatch, n):
    original = EventLog.flush
    count = {"flushes": 0}

    def flush(self):
        count["flushes"] += 1
        if count["flushes"] == n:
            self._pending.clear()  # lines not yet written die with the process
            raise Killed
        original(self)

    monkeypatch.setattr(EventLog, "flush", flush)
    return count


def test_a_batch_run_killed_anywhere_resumes_to_the_pettingzoo_paths_events(tmp_path, monkeypatch):
    overrides = ["agents=6", "rounds=3", "generations=3", "population=random:2,standing:4"]
    slow, _ = _play(tmp_path, "off", "donor-game", overrides, "off")
    reference = normalise(load_records(slow.file("events.jsonl")))
    config = make_config("donor-game", 5, overrides)
    counter = _kill_at_flush(monkeypatch, -1)
    monkeypatch.setenv(loop.BATCH_VARIABLE, "auto")
    asyncio.run(run_experiment(RunDir.create(tmp_path, "count", config.to_json()), config))
    total = counter["flushes"]
    monkeypatch.undo()
    assert total > 10
    for n in range(2, total, 3):
        run = RunDir.create(tmp_path, f"kill{n}", config.to_json())
        _kill_at_flush(monkeypatch, n)
        monkeypatch.setenv(loop.BATCH_VARIABLE, "auto")
        with pytest.raises(Killed):
            asyncio.run(run_experiment(run, config))
        monkeypatch.undo()
        monkeypatch.setenv(loop.BATCH_VARIABLE, "auto")
        asyncio.run(run_experiment(run, config))
        assert normalise(load_records(run.file("events.jsonl"))) == reference, f"killed at {n}"


def test_a_norm_society_batch_run_killed_anywhere_resumes_to_the_same_events(tmp_path, monkeypatch):
    overrides = ["episodes=4", "n_agents=6", "steps_per_era=2", "norm_schedule=evolve",
                 "population=evolutionary[conformity=0.3]:3,reflective:3"]  # fmt: skip
    slow, _ = _play(tmp_path, "off", "norm-society", overrides, "off")
    reference = normalise(load_records(slow.file("events.jsonl")))
    config = make_config("norm-society", 5, overrides)
    counter = _kill_at_flush(monkeypatch, -1)
    monkeypatch.setenv(loop.BATCH_VARIABLE, "auto")
    asyncio.run(run_experiment(RunDir.create(tmp_path, "count", config.to_json()), config))
    total = counter["flushes"]
    monkeypatch.undo()
    for n in range(3, total, 4):
        run = RunDir.create(tmp_path, f"kill{n}", config.to_json())
        _kill_at_flush(monkeypatch, n)
        monkeypatch.setenv(loop.BATCH_VARIABLE, "auto")
        with pytest.raises(Killed):
            asyncio.run(run_experiment(run, config))
        monkeypatch.undo()
        monkeypatch.setenv(loop.BATCH_VARIABLE, "auto")
        asyncio.run(run_experiment(run, config))
        assert normalise(load_records(run.file("events.jsonl"))) == reference, f"killed at {n}"


def test_act_population_acts_as_each_agent_alone_and_leaves_the_same_state():
    from agentsim.agents.scripted.norm_society import NORM_AGENTS, act_population

    def population(seed):
        rng = np.random.default_rng(seed)
        agents = []
        for i in range(30):
            cls = NORM_AGENTS[i % len(NORM_AGENTS)]
            params = {"noise": float(rng.uniform(0, 0.3))}
            if cls.kind == "evolutionary":
                params["conformity"] = float(rng.choice([0.0, 0.4]))
            if i % 4:
                params["traits"] = rng.uniform(0, 1, 5).tolist()
            agents.append(cls(**params))
            agents[-1].reset(seed=seed * 100 + i)
        return agents

    rng = np.random.default_rng(0)
    ours, theirs = population(1), population(1)
    for phase in (0, 0, 1, 2, 0, 1, 2):
        observations = [
            {
                "phase": phase,
                "neighbours": rng.uniform(0, 1, 5).astype(np.float32),
                "neighbours_known": int(rng.integers(2)),
                "advice": rng.uniform(-1, 1, 5).astype(np.float32),
                "score": np.array([rng.uniform(1, 7)], np.float32),
            }
            for _ in ours
        ]
        got = act_population(ours, observations)
        alone = np.stack([a.act(o).action for a, o in zip(theirs, observations, strict=True)])
        assert got.dtype == alone.dtype and got.tobytes() == alone.tobytes(), phase
    assert [a.carried() for a in ours] == [a.carried() for a in theirs]


def _random_agents(cls, rng, count):
    agents = []
    for _ in range(count):
        params = {k: float(rng.uniform(low, high)) for k, (low, high) in cls.BOUNDS.items()}
        if "punish" in params and rng.random() < 0.5:
            params["punish"] = 0.0  # -0.0 decisions: the sign must survive
        if "decay" in params and rng.random() < 0.1:
            params["decay"] = 0.0
        agents.append(cls(**params))
    return agents


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 7, 8, 12, 64])
@pytest.mark.parametrize("cls", [c for c in STRATEGIES if row_rule(c) is not None])
def test_row_rules_decide_each_row_as_its_own_agent_alone_bit_for_bit(cls, depth):
    rng = np.random.default_rng(depth)
    agents = _random_agents(cls, rng, 300)
    lengths = rng.integers(-1, depth + 2, len(agents))
    fractions = rng.uniform(-1.2, 1.2, (len(agents), depth))
    fractions[rng.random(fractions.shape) < 0.2] = 0.0
    fractions[rng.random(fractions.shape) < 0.1] = -0.0
    fractions[rng.random(fractions.shape) < 0.01] = np.nan
    params = {k: np.array([getattr(a, k) for a in agents]) for k in cls.BOUNDS}
    for layout in (fractions, np.asfortranarray(fractions)):
        got = row_rule(cls)(params, TraceBatch(lengths, layout))
        alone = [
            a.decide_batch(TraceBatch(lengths[i : i + 1], fractions[i : i + 1]))[0]
            for i, a in enumerate(agents)
        ]
        assert got.tobytes() == np.array(alone).tobytes()


def test_subclasses_and_stateful_kinds_have_no_row_rule():
    assert row_rule(_ActsOtherwise) is None
    assert row_rule(next(c for c in STRATEGIES if c.kind == "random")) is None


def _mutated_one_draw_per_parameter(agent, rng, sigma):
    """The mutation rule as first written (one normal draw per parameter)."""
    params = agent.params()
    for key, (low, high) in agent.BOUNDS.items():
        value = params[key] + rng.normal(0.0, sigma * (high - low))
        if key in agent.ENV_REQUIREMENTS and params[key] == 0:
            continue
        params[key] = float(np.clip(value, low, high))
    return params


@pytest.mark.parametrize("cls", STRATEGIES)
def test_mutation_draws_and_clips_as_one_draw_per_parameter(cls):
    rng = np.random.default_rng(7)
    for i, agent in enumerate(_random_agents(cls, rng, 200)):
        sigma = (0.0, 0.05, 0.5, 1.0)[i % 4]
        ours, theirs = np.random.default_rng(i), np.random.default_rng(i)
        assert repr(agent.mutated_params(ours, sigma)) == repr(
            _mutated_one_draw_per_parameter(agent, theirs, sigma)
        )
        assert ours.random() == theirs.random()  # the streams stay aligned


def test_the_donor_study_declares_its_batch_and_its_kinds_are_batch_capable():
    from agentsim.envs.study import BatchCapable

    study = get_study("donor_game_v0")
    assert study.batch is not None
    assert all(isinstance(cls(), BatchCapable) for cls in STRATEGIES)
    assert issubclass(_ActsOtherwise, DonorStrategy)
