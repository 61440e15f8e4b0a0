"""The generation loop, run directory, checkpoints and kill-and-resume."""

import asyncio
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from agentsim.core.records import load_records
from agentsim.evolution.selection import select_survivors
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir


def _run(tmp_path, name, seed=0, overrides=()):
    config = make_config("donor-game", seed, ["generations=4", *overrides])
    run = RunDir.create(tmp_path, name, config.to_json())
    return run, asyncio.run(run_experiment(run, config))


def _without_run_start(run_dir):
    return [r for r in load_records(run_dir / "events.jsonl") if r["type"] != "run_start"]


def test_a_run_writes_config_events_checkpoint_and_summary(tmp_path):
    run, summary = _run(tmp_path, "a")
    for name in ("config.json", "events.jsonl", "checkpoint.json", "summary.json"):
        assert (run.path / name).is_file()
    assert summary["status"] == "completed" and summary["generations_completed"] == 4
    records = load_records(run.file("events.jsonl"))
    types = {r["type"] for r in records}
    assert {
        "run_start",
        "generation_start",
        "decision",
        "transfer",
        "game_end",
        "selection",
        "reproduction",
        "generation_end",
        "checkpoint",
        "run_end",
    } <= types
    transfers = [r for r in records if r["type"] == "transfer"]
    assert len(transfers) == 4 * 2 * 12 * 6
    assert all("_" in r["donor"] for r in transfers)  # member ids, not seats
    selections = [r for r in records if r["type"] == "selection"]
    assert [len(s["survivors"]) for s in selections] == [6, 6, 6]


def test_same_seed_same_events_different_seed_different(tmp_path):
    a, sa = _run(tmp_path, "a", seed=1)
    b, sb = _run(tmp_path, "b", seed=1)
    _c, sc = _run(tmp_path, "c", seed=2)
    assert _without_run_start(a.path) == _without_run_start(b.path) and sa == sb
    assert sa != sc


def test_survivors_keep_their_strategy_and_children_copy_a_survivor(tmp_path):
    run, _ = _run(tmp_path, "a", overrides=["mutation=0"])
    records = load_records(run.file("events.jsonl"))
    starts = {r["generation"]: r for r in records if r["type"] == "generation_start"}
    for sel in (r for r in records if r["type"] == "selection"):
        nxt = starts[sel["generation"] + 1]
        assert nxt["seats"][:6] == sel["survivors"]
        for child in nxt["seats"][6:]:
            assert child.startswith(f"{sel['generation'] + 1}_")
    for rep in (r for r in records if r["type"] == "reproduction"):
        parent_kind = {**{k: v for s in starts.values() for k, v in s["kinds"].items()}}
        assert rep["kind"] == parent_kind[rep["parents"][0]]


@pytest.mark.parametrize("method", ["top", "random", "proportional"])
def test_selection_keeps_exactly_the_configured_count(method):
    rng = np.random.default_rng(0)
    for k in range(0, 13):
        kept = select_survivors(rng.normal(size=12), k, method, rng)
        assert len(kept) == k == len(set(kept.tolist()))


def test_top_selection_keeps_the_best():
    kept = select_survivors([1.0, 9.0, 3.0, 7.0], 2, "top", np.random.default_rng(0))
    assert kept.tolist() == [1, 3]


def _agentsim(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "agentsim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_summary(tmp_path):
    settings = [
        "--set",
        "generations=12",
        "--set",
        "agents=200",
        "--set",
        "population=trace_average:100,image_scoring:50,defector:50",
        "--quiet",
    ]
    full = _agentsim("run", "donor-game", "--seed", "5", "--out", str(tmp_path / "full"), *settings)
    assert full.wait(120) == 0, full.stderr.read()
    proc = _agentsim(
        "run", "donor-game", "--seed", "5", "--out", str(tmp_path / "killed"), *settings
    )
    deadline = time.monotonic() + 60
    checkpoint = None
    while time.monotonic() < deadline:
        found = list((tmp_path / "killed").glob("*/checkpoint.json"))
        if found and json.loads(found[0].read_text())["generation"] >= 3:
            checkpoint = found[0]
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint is not None, "the run never reached generation 3"
    killed_dir = checkpoint.parent
    was_at = json.loads(checkpoint.read_text())["generation"]
    assert not (killed_dir / "summary.json").exists(), "killed too late to test resuming"
    resumed = _agentsim("run", "donor-game", "--resume", str(killed_dir), "--quiet")
    assert resumed.wait(120) == 0, resumed.stderr.read()
    full_dir = next((tmp_path / "full").iterdir())
    assert json.loads((killed_dir / "summary.json").read_text()) == json.loads(
        (full_dir / "summary.json").read_text()
    )
    assert _without_run_start(killed_dir) == _without_run_start(full_dir)
    starts = [r for r in load_records(killed_dir / "events.jsonl") if r["type"] == "run_start"]
    assert [s["resumed_from"] for s in starts] == [None, was_at]
