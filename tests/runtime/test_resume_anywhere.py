"""A run killed at any flush of its event log resumes to exactly the uninterrupted events."""

import asyncio

import pytest

from agentsim.core.records import load_records
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.replay import normalise, replay
from agentsim.runtime.rundir import EventLog, RunDir


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


CASES = {
    "scripted": ["agents=4", "rounds=3", "generations=3"],
    "llm": ["agents=4", "rounds=3", "generations=3", "model=offline/donor"],
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_kill_at_every_kth_flush_then_resume(tmp_path, monkeypatch, case):
    config = make_config("donor-game", 2, CASES[case])
    full = RunDir.create(tmp_path, "full", config.to_json())
    counter = _kill_at_flush(monkeypatch, -1)
    expected = asyncio.run(run_experiment(full, config))
    total = counter["flushes"]
    monkeypatch.undo()
    reference = normalise(load_records(full.file("events.jsonl")))
    for n in range(2, total, 5):
        run = RunDir.create(tmp_path, f"kill{n}", config.to_json())
        _kill_at_flush(monkeypatch, n)
        with pytest.raises(Killed):
            asyncio.run(run_experiment(run, config))
        monkeypatch.undo()
        summary = asyncio.run(run_experiment(run, config))
        assert normalise(load_records(run.file("events.jsonl"))) == reference, f"killed at {n}"
        assert {k: v for k, v in summary.items() if k != "llm"} == {
            k: v for k, v in expected.items() if k != "llm"
        }
        if case == "llm":
            assert summary["llm"]["calls"] == expected["llm"]["calls"]
            assert replay(run.path).identical
