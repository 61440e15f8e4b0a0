"""The runtime's shortcuts for large scripted populations give what the long way gives.

Reused agents, reproduction without template agents, checkpoint text assembled from
cached member texts, and a summary that skips record types nobody reads: each is checked
against the computation it replaces.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agentsim.agents.scripted.donor import STRATEGIES, ImageScoring, TraceAverage
from agentsim.core.records import iter_records
from agentsim.envs.study import BatchCapable, Carries
from agentsim.evolution.population import Member, MutationReproducer, parse_population
from agentsim.runtime import loop
from agentsim.runtime.experiment import make_config
from agentsim.runtime.rundir import RunDir, compact_json
from agentsim.runtime.summary import summarise


def _run(tmp_path: Path, *overrides: str) -> RunDir:
    config = make_config("donor-game", 3, ["agents=40", "generations=4", *overrides])
    run = RunDir.create(tmp_path, "run", config.to_json())
    asyncio.run(loop.run_experiment(run, config))
    return run


def test_compact_json_is_json_dumps_with_known_texts_spliced_in() -> None:
    members = [{"id": f"1_{i}", "params": {"b": 0.1 * i, "a": [1, 2]}, "z": None} for i in range(3)]
    state = {
        "members": members,
        "rewind": {"members": [*members[:2], {"id": "0_1", "params": {}}], "generation": 0},
        "decision_config": {"env.x": 1.5, "seed": 3, "tuple": (1, "a")},
        "empty": {},
        "none": [],
    }
    expected = json.dumps(state, sort_keys=True, allow_nan=False)
    known = {id(m): json.dumps(m, sort_keys=True, allow_nan=False) for m in members[:2]}
    assert compact_json(state, known) == expected
    assert compact_json(state, {}) == expected
    # A text given for an object is used as is (so the caller must give the object's own).
    assert compact_json([members[0]], {id(members[0]): "X"}) == "[X]"
    with pytest.raises(ValueError):
        compact_json({"a": [float("nan")]}, {})


def test_checkpoints_are_the_bytes_json_dumps_writes(tmp_path: Path) -> None:
    run = _run(tmp_path)
    text = run.file("checkpoint.json").read_text()
    state = json.loads(text)
    assert text == json.dumps(state, sort_keys=True, allow_nan=False) + "\n"
    assert "rewind" in state  # the final checkpoint: shares members with its rewind entry


@pytest.mark.parametrize("kind", STRATEGIES, ids=lambda k: k.kind)
def test_mutate_params_draws_what_a_built_agent_draws(kind: type) -> None:
    params = kind().params()
    for seed in range(5):
        ours = kind.mutate_params(params, np.random.default_rng(seed), 0.3)
        theirs = kind(**params).mutated_params(np.random.default_rng(seed), 0.3)
        assert repr(ours) == repr(theirs)
    # Missing parameters take their defaults, as building would.
    partial = dict(list(params.items())[:1])
    assert repr(kind.mutate_params(partial, np.random.default_rng(1), 0.3)) == repr(
        kind(**partial).mutated_params(np.random.default_rng(1), 0.3)
    )


def test_mutate_params_defers_to_an_agent_where_it_cannot_answer() -> None:
    @dataclasses.dataclass
    class Wilder(TraceAverage):
        def mutated_params(self, rng: np.random.Generator, sigma: float) -> dict[str, Any]:
            return {**super().mutated_params(rng, sigma), "bonus": 0.5}

    assert Wilder.mutate_params(Wilder().params(), np.random.default_rng(0), 0.1) is None
    assert TraceAverage.mutate_params({"typo": 1.0}, np.random.default_rng(0), 0.1) is None


def test_reproduction_without_templates_makes_the_children_templates_made() -> None:
    survivors = parse_population("trace_average:3,image_scoring[punish=0.2]:2,defector:1")
    reproducer = MutationReproducer(0.2, "donor_game_v0")

    def by_templates(rng: np.random.Generator) -> list[Member]:
        out = []
        for i in range(20):
            parent = survivors[int(rng.integers(len(survivors)))]
            params = parent.build("donor_game_v0").mutated_params(rng, 0.2)
            out.append(Member(f"2_{i + 1}", parent.kind, params, 2, (parent.id,)))
        return out

    ours = asyncio.run(reproducer.reproduce(survivors, [0.0] * 6, 20, 2, np.random.default_rng(7)))
    assert repr(ours) == repr(by_templates(np.random.default_rng(7)))


def test_survivors_play_on_with_their_agents_and_others_are_built_fresh() -> None:
    @dataclasses.dataclass
    class Keeper(ImageScoring):  # a subclass may keep state: never reused
        pass

    members = parse_population("trace_average:2,image_scoring:1", env="donor_game_v0")
    built = loop._Built("donor_game_v0")
    first = built.agents(["a", "b", "c"], members)
    copy = Member(members[1].id, members[1].kind, dict(members[1].params))
    second = built.agents(["a", "b", "c"], [members[0], copy, members[2]])
    assert second["a"] is first["a"]  # the same member: its agent again
    assert second["b"] is not first["b"]  # an equal but new member: a fresh agent
    assert second["c"] is first["c"]
    assert not Keeper().reusable() and TraceAverage().reusable()


class _Shadowed(TraceAverage):
    pass


class _Dynamic:
    def __getattr__(self, name: str) -> Any:
        return (lambda: {}) if name == "carried" else None


def test_protocol_checks_by_class_agree_with_the_per_agent_check() -> None:
    shadowed = _Shadowed()
    shadowed.decide_batch = None  # type: ignore[assignment,method-assign]
    agents = [TraceAverage(), shadowed, _Dynamic(), object(), ImageScoring()]
    for protocol in (BatchCapable, Carries):
        expected = [loop._has(a, protocol) for a in agents]
        assert list(loop._has_each(agents, protocol)) == expected
        assert loop._all_have(agents, protocol) is all(expected)
    assert expected == [False, False, True, False, False]  # Carries, by the last protocol


def test_the_summary_skips_only_records_nobody_reads(tmp_path: Path) -> None:
    run = _run(tmp_path, "record=full")
    events = run.file("events.jsonl")
    study = make_config("donor-game", 3, []).study
    assert study.summary_types is not None
    wanted = study.summary_types | {"decision", "llm_call", "checkpoint", "run_end"}
    every = list(iter_records(events))
    assert list(iter_records(events, wanted)) == [r for r in every if r["type"] in wanted]
    assert {r["type"] for r in every} - wanted  # something was skipped
    unfiltered = dataclasses.replace(study, summary_types=None)
    assert summarise(events, study) == summarise(events, unfiltered)
    assert json.loads(run.file("summary.json").read_text()) == summarise(events, unfiltered)


def test_a_corrupt_line_of_a_read_type_still_fails_with_its_place(tmp_path: Path) -> None:
    run = _run(tmp_path)
    events = run.file("events.jsonl")
    lines = events.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b'"type":"selection"' in line)
    lines[at] = lines[at].replace(b'"survivors":[', b'"survivors":[1,', 1)
    events.write_bytes(b"".join(lines))
    study = make_config("donor-game", 3, []).study
    with pytest.raises(ValueError, match=f"events.jsonl:{at + 1}:"):
        summarise(events, study)


def test_member_texts_encoded_together_are_each_members_own() -> None:
    copies = [
        {"id": "1_1", "params": {"x": 1.0}},
        {"id": "1_2", "params": {"note": "a}, {b"}},  # the separator inside a value
        {"id": "1_3", "params": {"rows": [{"a": 1}, {"b": 2}]}},
    ]
    for chosen in (copies[:1], copies[::2][:1], copies, copies[1:], []):
        expected = [json.dumps(c, sort_keys=True, allow_nan=False) for c in chosen]
        assert loop._texts(chosen) == expected
    plain = [{"id": f"1_{i}", "params": {"y": i / 7}} for i in range(5)]
    assert loop._texts(plain) == [json.dumps(c, sort_keys=True) for c in plain]


def test_derived_constants_follow_attributes_set_after_building() -> None:
    from agentsim.agents.scripted.donor import Standing, TraceBatch

    batch = TraceBatch(np.array([1, 0, 2]), np.array([[0.2, 0.0], [0.0, 0.0], [0.9, 0.1]]))
    agent = Standing(threshold=0.5, generosity=0.7)
    first = agent.decide_batch(batch).tolist()
    agent.generosity = 0.2  # the table holds generosity: it must be rebuilt
    assert (
        agent.decide_batch(batch).tolist()
        == Standing(threshold=0.5, generosity=0.2).decide_batch(batch).tolist()
    )
    agent.extra = np.zeros(3)  # an array attribute: compared without error
    agent.extra = np.ones(3)
    assert agent.decide_batch(batch).tolist() != first
