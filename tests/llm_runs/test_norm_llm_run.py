"""LLM members and the LLM observer in whole norm-society runs: the offline model, the
dry-run estimate against the calls made, and observer replies that never parse (through
the loopback fake server). No network."""

import asyncio
from collections import Counter

import pytest

import agentsim.testing.fake_openai_server as fake
from agentsim.core.records import load_records
from agentsim.envs.norm_society.offline import norm_society_reply
from agentsim.runtime.experiment import make_config
from agentsim.runtime.llm_runtime import estimate
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from agentsim.testing.fake_openai_server import FakeOpenAIServer

SMALL = ["n_agents=4", "steps=3", "situations_per_step=2", "observer=llm"]
GARBAGE = "I would rather not say."


@pytest.fixture(autouse=True)
def _dummy_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")


def _run(tmp_path, overrides, seed=0):
    config = make_config("norm-society", seed, overrides)
    run = RunDir.create(tmp_path, "run", config.to_json())
    summary = asyncio.run(run_experiment(run, config))
    return config, summary, load_records(run.file("events.jsonl"))


def _calls(records):
    return Counter(r["purpose"] for r in records if r["type"] == "llm_call")


def test_offline_run_with_the_llm_observer_records_every_verdict(tmp_path):
    _, summary, records = _run(tmp_path, [*SMALL, "population=llm:4", "model=offline/norm_society"])
    assert summary["status"] == "completed"
    judgements = [r for r in records if r["type"] == "judgement"]
    assert len(judgements) == 3 * 4
    assert {j["parse_status"] for j in judgements} == {"ok"}
    assert all(j["raw"].startswith("Score: ") and j["rationale"] for j in judgements)
    assert {j["score"] for j in judgements} <= set(range(1, 8))
    decisions = Counter(r["parse_status"] for r in records if r["type"] == "decision")
    assert decisions["fallback"] == decisions["reasked"] == 0
    calls = _calls(records)
    assert calls["situation"] == 3 * 4 * 2 and calls["questionnaire"] == 3 * 4
    assert calls["observer"] == 3 * 4
    children = [r for r in records if r["type"] == "reproduction"]
    assert children and all(isinstance(c["params"]["persona"], str) for c in children)
    # A child's memories are not its parent's (the agent drops state another member owns).
    assert all(c["params"].get("memory_state", {}).get("owner") != c["child"] for c in children)


def test_dry_run_estimate_equals_the_calls_made(tmp_path):
    # memory=0 and no mutation: every call is one the estimate counts exactly.
    overrides = [*SMALL, "population=llm[memory=0]:4", "mutation=0", "model=offline/norm_society"]
    config, summary, records = _run(tmp_path, overrides)
    predicted = estimate(config)
    assert predicted["calls"] == summary["llm"]["calls"] == sum(_calls(records).values())
    assert predicted["detail"] == {**_calls(records), "memory": 0, "mutation": 0}


def test_dry_run_bounds_memory_and_expects_mutation(tmp_path):
    overrides = [
        *SMALL,
        "steps=4",
        "population=llm[memory_threshold=3]:4",
        "model=offline/norm_society",
    ]
    config, _, records = _run(tmp_path, overrides)
    predicted, made = estimate(config)["detail"], _calls(records)
    assert 0 < made["memory"] <= predicted["memory"]
    for purpose in ("situation", "questionnaire", "observer"):
        assert made[purpose] == predicted[purpose]


def _garbage_observer(model, messages):
    """The fake server's reply: the offline norm model, but nonsense to the observer."""
    user = next((m["content"] for m in messages if m["role"] == "user"), "")
    return GARBAGE if "Score: <1-7>" in user else norm_society_reply(messages)


def test_observer_parse_failures_are_counted_and_recorded(tmp_path, monkeypatch):
    # The server answers model "norm_society" with the study's offline policy; here, with
    # nonsense to the observer's prompts.
    monkeypatch.setattr(fake, "study_server_reply", _garbage_observer)
    with FakeOpenAIServer() as server:
        _, summary, records = _run(
            tmp_path,
            [
                *SMALL,
                "population=llm:4",
                "model=openai/norm_society",
                f"api_base={server.base_url}",
                "max_parse_attempts=2",
            ],
        )
        requests = server.stats["requests"]
    assert summary["status"] == "completed"
    judgements = [r for r in records if r["type"] == "judgement"]
    assert len(judgements) == 12
    for j in judgements:
        assert (j["parse_status"], j["score"], j["label"]) == ("fallback", 4.0, "partly")
        assert j["raw"] == GARBAGE and j["parse_error"] and len(j["prompt_hashes"]) == 2
    calls = _calls(records)
    assert calls["observer"] == 2 * 12  # every verdict asked twice
    assert requests == sum(calls.values())
    decisions = Counter(r["parse_status"] for r in records if r["type"] == "decision")
    assert decisions["fallback"] == 0  # the members' replies parsed
