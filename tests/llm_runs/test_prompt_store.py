"""The audit trail of a run: the full messages of every call, stored once per prompt hash
(whatever the cache mode), and decision records that name what the agent observed and
the calls it made."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from agentsim.core.records import load_records
from agentsim.llm.cache import read_prompts
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir

SMALL = ["agents=4", "rounds=2", "generations=2", "population=llm:2,defector:2"]


def _run(tmp_path: Path, cache: str) -> RunDir:
    config = make_config("donor-game", 0, [*SMALL, "model=offline/donor", f"cache={cache}"])
    run = RunDir.create(tmp_path, cache, config.to_json())
    asyncio.run(run_experiment(run, config))
    return run


@pytest.mark.parametrize("cache", ["off", "read_write"])
def test_every_call_has_its_messages_stored_once(tmp_path: Path, cache: str) -> None:
    run = _run(tmp_path, cache)
    calls = load_records(run.file("events.jsonl"), "llm_call")
    hashes = {c["prompt_hash"] for c in calls}
    stored = read_prompts(run.file("llm_cache.sqlite"), hashes)
    assert set(stored) == hashes
    with sqlite3.connect(run.file("llm_cache.sqlite")) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM prompts").fetchone()
    assert rows == len(hashes)  # deduplicated
    donation = next(c for c in calls if c["purpose"] == "donation")
    messages = stored[donation["prompt_hash"]]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "You currently have" in messages[-1]["content"]


def test_decisions_name_their_calls_and_what_the_agent_observed(tmp_path: Path) -> None:
    run = _run(tmp_path, "read_write")
    records = load_records(run.file("events.jsonl"))
    decisions = [r for r in records if r["type"] == "decision"]
    calls = {
        c["prompt_hash"]: c
        for c in records
        if c["type"] == "llm_call" and c["purpose"] == "donation"
    }
    llm = [d for d in decisions if d["parse_status"] != "scripted"]
    scripted = [d for d in decisions if d["parse_status"] == "scripted"]
    assert llm and scripted
    for d in llm:
        assert len(d["prompt_hashes"]) == d["llm_calls"] >= 1
        assert all(calls[h]["agent"] == d["agent"] for h in d["prompt_hashes"])
        assert calls[d["prompt_hashes"][-1]]["reply"] == d["raw"]
    assert set(calls) == {h for d in llm for h in d["prompt_hashes"]}
    for d in decisions:
        seen = d["observation"]
        assert seen["is_donor"] == 1 and isinstance(seen["own_resources"], float)
        assert len(seen["trace_fraction"]) == make_config("donor-game", 0).env["trace_depth"]
    assert all("prompt_hashes" not in d for d in scripted)
