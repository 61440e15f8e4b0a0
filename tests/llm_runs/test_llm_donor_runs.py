"""LLM agents in whole donor-game runs: offline model, fault-injecting server, replay,
budget stop and resume, kill and resume with a warm cache, secrets. No network."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from agentsim.core.records import load_records
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import RunStopped, run_experiment
from agentsim.runtime.replay import normalise, replay
from agentsim.runtime.rundir import RunDir
from agentsim.testing.fake_openai_server import FakeOpenAIServer

SMALL = ["agents=4", "rounds=4", "generations=2"]
DECISIONS = 2 * 2 * 4 * 2  # generations x games x rounds x donors


@pytest.fixture(autouse=True)
def _dummy_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")


def _run(tmp_path, name, overrides, seed=0):
    config = make_config("donor-game", seed, overrides)
    run = RunDir.create(tmp_path, name, config.to_json())
    return run, asyncio.run(run_experiment(run, config))


def _without_volatile(summary):
    return {k: v for k, v in summary.items() if k != "llm"}


def test_offline_model_plays_every_decision(tmp_path):
    run, summary = _run(tmp_path, "a", [*SMALL, "model=offline/donor-0.5"])
    assert summary["decisions"] == {"scripted": 0, "ok": DECISIONS, "reasked": 0, "fallback": 0}
    records = load_records(run.file("events.jsonl"))
    calls = [r for r in records if r["type"] == "llm_call"]
    strategies = [c for c in calls if c["purpose"] == "strategy"]
    assert len(strategies) == 4 + 2  # generation 1 + the new members of generation 2
    assert len(calls) == DECISIONS + len(strategies) == summary["llm"]["calls"]
    assert summary["llm"]["cost_usd"] > 0 and summary["llm"]["prompt_tokens"] > 0
    transfers = [r for r in records if r["type"] == "transfer"]
    assert {round(t["fraction"], 2) for t in transfers} == {0.5}
    members = {r["child"]: r["params"] for r in records if r["type"] == "reproduction"}
    assert all(p["strategy"].startswith("My strategy will be") for p in members.values())
    assert json.loads((run.path / "config.json").read_text())["llm"]["model"] == "offline/donor-0.5"


def test_unparseable_replies_are_reasked_then_fall_back_and_counted(tmp_path):
    _, summary = _run(
        tmp_path, "garbage", [*SMALL, "model=offline/garbage", "max_parse_attempts=2"]
    )
    assert summary["decisions"]["fallback"] == DECISIONS
    assert summary["llm"]["calls"] == 2 * (DECISIONS + 6)


def test_mixed_population_of_llm_focal_and_scripted_background_agents(tmp_path):
    _, summary = _run(
        tmp_path, "mixed", [*SMALL, "model=offline/donor", "population=llm:2,defector:2"]
    )
    counts = summary["decisions"]
    assert counts["ok"] + counts["scripted"] == DECISIONS and counts["ok"] > 0
    assert counts["scripted"] > 0


def test_faulty_server_run_completes_with_every_decision_accounted_for(tmp_path):
    faults = {"429": 0.1, "500": 0.1, "timeout": 0.03, "badjson": 0.05, "garbage": 0.1}
    with FakeOpenAIServer(fail_rates=faults, seed=3, timeout_sleep_s=0.5) as server:
        _, summary = _run(
            tmp_path,
            "faulty",
            [
                *SMALL,
                "model=openai/donor",
                f"api_base={server.base_url}",
                "timeout_s=0.25",
                "retry_base_delay_s=0.01",
                "max_attempts=8",
                "max_parse_attempts=4",
            ],
        )
        stats = server.stats
    assert summary["status"] == "completed"
    decided = summary["decisions"]
    assert sum(decided.values()) == DECISIONS
    assert decided["reasked"] > 0  # garbage replies were re-asked
    for fault in ("429", "500", "timeout", "badjson"):
        assert stats.get(fault, 0) > 0, stats
    assert summary["llm"]["attempts"] > summary["llm"]["calls"]  # retries happened
    assert summary["llm"]["attempts"] == stats["requests"]  # every request is accounted for
    assert summary["llm"]["errors"] == 0


def test_replay_reproduces_the_run_with_the_provider_gone(tmp_path):
    with FakeOpenAIServer(fail_rates={"garbage": 0.2}, seed=1) as server:
        run, summary = _run(
            tmp_path, "rec", [*SMALL, "model=openai/donor", f"api_base={server.base_url}"]
        )
        requests = server.stats["requests"]
    assert requests > 0
    result = replay(run.path)  # the server is stopped: any provider call would fail
    assert result.identical, result.message
    assert "0 provider calls" in result.message
    assert result.replay_dir is not None
    replayed = json.loads((result.replay_dir / "summary.json").read_text())
    assert _without_volatile(replayed) == _without_volatile(summary)
    assert replayed["llm"]["cached"] == replayed["llm"]["calls"] == summary["llm"]["calls"]


def test_replay_reports_the_first_difference(tmp_path):
    run, _ = _run(tmp_path, "rec", [*SMALL, "model=offline/donor"])
    events = run.file("events.jsonl")
    lines = events.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if '"type":"transfer"' in line)
    record = json.loads(lines[i])
    record["amount"] += 1
    lines[i] = json.dumps(record)
    events.write_text("\n".join(lines) + "\n")
    result = replay(run.path)
    assert not result.identical
    assert "transfer" in result.message and "amount" in result.message


def test_budget_stops_cleanly_and_resume_finishes_the_same_run(tmp_path):
    overrides = [*SMALL, "model=offline/donor"]
    full_run, full = _run(tmp_path, "full", overrides)
    config = make_config("donor-game", 0, [*overrides, "budget_calls=30"])
    run = RunDir.create(tmp_path, "budget", config.to_json())
    with pytest.raises(RunStopped, match="budget_calls"):
        asyncio.run(run_experiment(run, config))
    stopped = json.loads(run.file("summary.json").read_text())
    assert stopped["status"] == "stopped" and "max_calls=30" in stopped["stop_reason"]
    assert stopped["generations_completed"] == 1
    assert stopped["llm"]["cost_usd"] is not None  # refused calls cost nothing, not "unknown"
    from agentsim.llm.cache import ResponseCache

    with ResponseCache(run.file("llm_cache.sqlite")) as cache:
        paid = len(cache)
    assert paid <= 30
    # Resuming with the same budget spends nothing more: the cache is the ledger, including
    # the paid replies of the cut-away partial generation.
    with pytest.raises(RunStopped, match="budget_calls"):
        asyncio.run(run_experiment(run, config))
    with ResponseCache(run.file("llm_cache.sqlite")) as cache:
        assert len(cache) == paid
    raised = make_config("donor-game", 0, [*overrides, "budget_calls=1000"])
    resumed = asyncio.run(run_experiment(run, raised))
    assert _without_volatile(resumed) == _without_volatile(full)
    assert normalise(load_records(run.file("events.jsonl"))) == normalise(
        load_records(full_run.file("events.jsonl"))
    )
    assert replay(run.path).identical


def test_killed_llm_run_resumes_with_a_warm_cache(tmp_path):
    settings = [
        "--set",
        "agents=4",
        "--set",
        "rounds=6",
        "--set",
        "generations=4",
        "--quiet",
        "--model",
        "openai/donor",
    ]
    with FakeOpenAIServer(latency_s=0.02) as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-local-test"}
        args = [*settings, "--api-base", server.base_url]
        full = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentsim",
                "run",
                "donor-game",
                "--out",
                str(tmp_path / "full"),
                *args,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert full.returncode == 0, full.stderr
        uninterrupted = server.stats["requests"]
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentsim",
                "run",
                "donor-game",
                "--out",
                str(tmp_path / "killed"),
                *args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        checkpoint = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and checkpoint is None:
            for path in (tmp_path / "killed").glob("*/checkpoint.json"):
                if json.loads(path.read_text())["generation"] >= 1:
                    checkpoint = path
            time.sleep(0.01)
        time.sleep(0.3)  # let it make some calls of the next generation
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert checkpoint is not None
        assert not (checkpoint.parent / "summary.json").exists(), "killed too late"
        resumed = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentsim",
                "run",
                "donor-game",
                "--resume",
                str(checkpoint.parent),
                "--quiet",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert resumed.returncode == 0, resumed.stderr
        killed_requests = server.stats["requests"] - uninterrupted
    full_dir = next((tmp_path / "full").iterdir())
    a = json.loads((full_dir / "summary.json").read_text())
    b = json.loads((checkpoint.parent / "summary.json").read_text())
    assert _without_volatile(a) == _without_volatile(b)
    # Calls answered before the kill were cached, so the two halves together asked no more
    # than one run plus the (at most 2, one per donor) requests in flight at the kill.
    assert killed_requests <= uninterrupted + 2
    assert b["llm"]["cached"] > 2
    assert normalise(load_records(checkpoint.parent / "events.jsonl")) == normalise(
        load_records(full_dir / "events.jsonl")
    )


def test_api_keys_never_reach_records_cache_or_messages(tmp_path, monkeypatch, capsys):
    secret = "sk-test-SECRET123"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with FakeOpenAIServer(fail_rates={"401": 1.0}) as server:
        config = make_config(
            "donor-game", 0, [*SMALL, "model=openai/donor", f"api_base={server.base_url}"]
        )
        run = RunDir.create(tmp_path, "secret", config.to_json())
        with pytest.raises(RunStopped) as info:
            asyncio.run(run_experiment(run, config))
    assert secret not in str(info.value)
    for path in run.path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in capsys.readouterr().err


def test_litellm_environment_variables_choose_the_endpoint(tmp_path, monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        _, summary = _run(tmp_path, "env", [*SMALL, "model=openai/donor", "cache=off"])
        assert server.stats["requests"] == summary["llm"]["calls"] > 0


def test_concurrent_runs_in_one_process_share_the_rate_limiter(tmp_path):
    from agentsim.runtime.llm_runtime import shared_limiter

    with FakeOpenAIServer(latency_s=0.02) as server:
        overrides = [
            *SMALL,
            "model=openai/donor",
            f"api_base={server.base_url}",
            "concurrency=3",
            "cache=off",
        ]
        configs = [make_config("donor-game", seed, overrides) for seed in (1, 2)]
        runs = [RunDir.create(tmp_path, f"s{c.seed}", c.to_json()) for c in configs]

        async def both():
            return await asyncio.gather(
                *(run_experiment(r, c) for r, c in zip(runs, configs, strict=True))
            )

        summaries = asyncio.run(both())
    limiter = shared_limiter(configs[0].llm)
    assert limiter is shared_limiter(configs[1].llm)
    assert limiter.peak_in_flight == 3  # unlimited, 2 runs x 4 generation-1 strategies = 8
    assert all(s["status"] == "completed" for s in summaries)


def test_credentials_in_the_endpoint_url_are_not_stored(tmp_path):
    base = "https://bob:sk-url-SECRET@llm.example.org:8443/v1?api-key=TOPSECRET"
    config = make_config("donor-game", 0, [*SMALL, "model=openai/x", f"api_base={base}"])
    assert config.llm.api_base == base  # the run itself uses the URL as given
    run = RunDir.create(tmp_path, "url", config.to_json())
    stored = run.file("config.json").read_text()
    assert "SECRET" not in stored and "https://llm.example.org:8443/v1" in stored
