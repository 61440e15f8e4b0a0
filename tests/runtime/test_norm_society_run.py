"""norm_society_v0 through the study contract: CLI runs, crossover, fixed seats, resume."""

import asyncio
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from agentsim.cli import main
from agentsim.core.records import load_records
from agentsim.envs.study import get_study
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.replay import normalise
from agentsim.runtime.rundir import EventLog, RunDir


def _run(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    assert main(["run", *args, "--out", str(out), "--quiet"]) == 0
    (run_dir,) = out.iterdir()
    return run_dir


def _events(run: RunDir) -> list[dict]:
    """The run's events as replay compares them (no run_start, no volatile fields)."""
    return normalise(load_records(run.file("events.jsonl")))


def _by_type(run_dir: Path) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in load_records(run_dir / "events.jsonl"):
        out[r["type"]].append(r)
    return out


def test_the_paper_experiment_runs_from_the_command_line_in_a_fresh_process(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "agentsim", "run", "norm-society", "--seed", "1",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "final mean score" in done.stdout and "2030s" in done.stdout
    (run_dir,) = tmp_path.iterdir()
    records = _by_type(run_dir)
    assert [r["era"] for r in records["norms"]] == ["2000s", "2010s", "2020s", "2030s"]
    (network,) = records["network"]
    assert network["kind"] == "complete" and len(network["edges"]) == 45
    assert len(records["behaviour"]) == 20 * 10 * 3 and len(records["statement"]) == 200
    assert len(records["judgement"]) == 200
    assert {r["agent"] for r in records["behaviour"]} <= {
        m for r in records["generation_start"] for m in r["seats"]
    }  # seats are named by member ids
    ends = records["generation_end"]
    assert [r["generation"] for r in ends] == list(range(1, 21))
    assert all(1 <= r["mean_score"] <= r["best_score"] <= 7 for r in ends)
    assert len(records["selection"]) == 19 and len(records["reproduction"]) == 19 * 5
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env_id"] == "norm_society_v0" and summary["steps_completed"] == 20
    config = json.loads((run_dir / "config.json").read_text())
    assert config["run"]["mutation"] == 0.8 and config["run"]["population"] == "evolutionary:10"


def _statements(records) -> dict[tuple[int, str], np.ndarray]:
    """Each member's questionnaire answer (its traits, as float32) per generation."""
    out = {}
    for r in records["decision"]:
        if r["observation"]["phase"] == 1:
            out[r["generation"], r["agent"]] = np.float32(r["action"])
    return out


def _children(run_dir: Path):
    records = _by_type(run_dir)
    stated = _statements(records)
    for child in records["reproduction"]:
        g = child["generation"] - 1  # parents were selected after step g
        a, b = (stated[g, p] for p in child["parents"])
        yield np.float32(child["params"]["traits"]), a, b


def test_children_take_every_trait_element_from_one_of_their_two_parents(tmp_path):
    run_dir = _run(tmp_path, "r", "norm-society", "--seed", "2", "--set", "mutation=0")
    records = _by_type(run_dir)
    assert all(len(r["seats"]) == 10 for r in records["generation_start"])
    children = list(_children(run_dir))
    assert len(children) == 19 * 5
    from_a = from_b = 0
    for traits, a, b in children:
        assert np.all((traits == a) | (traits == b)), (traits, a, b)
        from_a += int(np.sum((traits == a) & (traits != b)))
        from_b += int(np.sum((traits == b) & (traits != a)))
    # Uniform crossover: where the parents differ, each gives about half the elements (the
    # population converges without mutation, so fewer elements tell the parents apart).
    assert from_a + from_b > 60 and abs(from_a / (from_a + from_b) - 0.5) < 0.15


def test_trait_elements_mutate_at_the_configured_rate(tmp_path):
    args = ["--set", "mutation=0.3", "--set", "n_agents=20", "--set", "steps=30"]
    run_dir = _run(tmp_path, "r", "norm-society", "--seed", "3", *args)
    elements = mutated = 0
    for traits, a, b in _children(run_dir):
        elements += traits.size
        mutated += int(np.sum((traits != a) & (traits != b)))
    assert elements == 29 * 10 * 5
    # 1,450 Bernoulli(0.3) draws: sd 0.012 (a clipped mutation rarely lands on its parent)
    assert abs(mutated / elements - 0.3) < 0.05


def test_survivors_keep_their_seats_and_children_take_the_removed_seats(tmp_path):
    run_dir = _run(tmp_path, "r", "norm-society", "--seed", "4", "--set", "steps=6")
    records = _by_type(run_dir)
    starts = [r["seats"] for r in records["generation_start"]]
    for before, after, selection in zip(starts, starts[1:], records["selection"], strict=False):
        for seat, member in enumerate(before):
            if member in selection["survivors"]:
                assert after[seat] == member
            else:
                assert after[seat].startswith(f"{selection['generation'] + 1}_")


def test_the_static_baseline_never_reproduces_and_keeps_its_traits(tmp_path):
    run_dir = _run(tmp_path, "r", "norm-society-static", "--seed", "1", "--set", "steps=3")
    records = _by_type(run_dir)
    assert records["reproduction"] == []
    stated = _statements(records)
    for member in records["generation_start"][0]["seats"]:
        assert np.array_equal(stated[1, member], stated[3, member])


def test_small_world_and_graph_file_networks_run(tmp_path):
    sw = _run(tmp_path, "sw", "norm-society", "--set", "network=small_world", "--set", "steps=2")
    (network,) = _by_type(sw)["network"]
    assert network["kind"] == "small_world" and len(network["edges"]) == 20
    graph = tmp_path / "star.txt"
    graph.write_text("".join(f"0 {i}\n" for i in range(1, 10)))
    star = _run(
        tmp_path, "star", "norm-society", "--set", "network=file",
        "--set", f"graph_file={graph}", "--set", "steps=2",
    )  # fmt: skip
    records = _by_type(star)
    (network,) = records["network"]
    assert network["edges"] == [[0, i] for i in range(1, 10)]
    config = json.loads((star / "config.json").read_text())
    assert config["env"]["graph_file"] == str(graph)
    assert "violator_clustering" in records["generation_end"][0]


def test_every_experiment_is_registered_with_its_settings():
    study = get_study("norm_society_v0")
    assert set(study.experiments) == {
        "norm-society",
        "norm-society-static",
        "norm-society-reflection",
        "norm-society-network",
        "norm-shift",
    }
    assert study.fixed_seats and study.evolution and study.episode_name == "step"
    network = make_config("norm-society-network", 0)
    assert network.settings.population == "evolutionary[conformity=0.1]:100"
    assert network.env["n_agents"] == 100 and network.env["network"] == "small_world"
    shift = make_config("norm-shift", 0)
    assert shift.settings.episodes == 120 and shift.env["shift_step"] == 61


def test_an_llm_observer_without_a_model_is_refused(tmp_path, capsys):
    assert main(["run", "norm-society", "--out", str(tmp_path), "--set", "observer=llm"]) == 2
    assert "invalid observer='llm'" in capsys.readouterr().err


CONFORMING = "evolutionary[conformity=0.2]:10"


class Killed(BaseException):
    """Stands in for SIGKILL: nothing catches it and unflushed lines are lost."""


def _kill_in_step(monkeypatch, step: int, flushes_in: int) -> None:
    """Kill the run at its ``flushes_in``-th flush after step ``step`` started."""
    original = EventLog.flush
    marker = f'"type":"generation_start","generation":{step},'
    state = {"seen": False, "after": 0}

    def flush(self):
        state["seen"] |= any(marker in line for line in self._pending)
        if state["seen"]:
            state["after"] += 1
            if state["after"] == flushes_in:
                self._pending.clear()  # lines not yet written die with the process
                raise Killed
        original(self)

    monkeypatch.setattr(EventLog, "flush", flush)


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["norm_schedule=evolve", "network=small_world", f"population={CONFORMING}"],
        [
            "model=offline/norm_society",
            "observer=llm",
            "n_agents=4",
            "situations_per_step=1",
            "steps=8",
        ],
    ],
    ids=["bank", "evolve-small-world", "llm"],
)
def test_a_run_killed_mid_era_resumes_to_identical_events(tmp_path, monkeypatch, overrides):
    config = make_config("norm-society", 5, ["steps=12", *overrides])
    full = RunDir.create(tmp_path, "full", config.to_json())
    asyncio.run(run_experiment(full, config))
    run = RunDir.create(tmp_path, "killed", config.to_json())
    _kill_in_step(monkeypatch, 8, 3)  # step 8: the middle of the 2010s
    with pytest.raises(Killed):
        asyncio.run(run_experiment(run, config))
    monkeypatch.undo()
    checkpoint = json.loads(run.file("checkpoint.json").read_text())
    assert checkpoint["generation"] == 7
    asyncio.run(run_experiment(run, config))
    resumed = run.file("events.jsonl").read_bytes()
    assert _events(run) == _events(full)
    assert b'"resumed_from":7' in resumed


def test_reflective_children_inherit_traits_but_not_the_remembered_score(tmp_path):
    args = ["--set", "survival_fraction=0.5", "--set", "steps=3"]
    run_dir = _run(tmp_path, "r", "norm-society-reflection", "--seed", "1", *args)
    children = _by_type(run_dir)["reproduction"]
    assert len(children) == 10
    assert all(set(c["params"]) == {"noise", "lr", "traits"} for c in children)
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    survivors = [m for m in checkpoint["members"] if m["born"] == 1]
    assert survivors and all(1 <= m["params"]["memory"] <= 7 for m in survivors)
