"""Calls still in flight when a run stops are cancelled and recorded with their attempts,
so the records account for every request the provider saw."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentsim.core.records import load_records
from agentsim.llm.types import gather_or_cancel
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import RunStopped, run_experiment
from agentsim.runtime.rundir import RunDir
from agentsim.testing.fake_openai_server import FakeOpenAIServer


@pytest.fixture(autouse=True)
def _dummy_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")


def test_a_call_in_flight_at_a_stop_is_recorded_as_cancelled(tmp_path: Path) -> None:
    # Four strategy calls answer; in the first round one donor's call hangs while the
    # other's fails for good (401), which stops the run.
    plan = ["ok"] * 4 + ["timeout", "401"]
    with FakeOpenAIServer(plan=plan, timeout_sleep_s=30.0) as server:
        config = make_config(
            "donor-game",
            0,
            [
                "agents=4",
                "rounds=2",
                "generations=1",
                "model=openai/donor",
                f"api_base={server.base_url}",
                "timeout_s=60",
            ],
        )
        run = RunDir.create(tmp_path, "run", config.to_json())
        with pytest.raises(RunStopped, match="AuthenticationError"):
            asyncio.run(run_experiment(run, config))
        requests = server.stats["requests"]
    calls = load_records(run.file("events.jsonl"), "llm_call")
    cancelled = [c for c in calls if c["error"] == "cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["purpose"] == "donation"
    assert cancelled[0]["attempts"] == 1
    assert requests == 6
    assert sum(c["attempts"] for c in calls) == requests


def test_gather_or_cancel_cancels_the_others_and_waits_for_them() -> None:
    ended: list[str] = []

    async def slow() -> int:
        try:
            await asyncio.sleep(60)
        finally:
            ended.append("slow")
        return 1

    async def failing() -> int:
        await asyncio.sleep(0)
        raise ValueError("boom")

    async def main() -> None:
        with pytest.raises(ValueError, match="boom"):
            await gather_or_cancel([slow(), failing()])
        assert ended == ["slow"]  # ended before the failure reached the caller

    asyncio.run(main())
