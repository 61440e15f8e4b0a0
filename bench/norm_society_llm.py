"""Wall time of one LLM era of norm_society_v0 vs its chain of dependent calls, loopback only.

Never calls a real provider: every request goes to the fake OpenAI server
(``agentsim.testing.fake_openai_server``, 127.0.0.1, in this process) answering after a
fixed latency (default 200 ms). The server has no norm-society behaviour of its own: the
bench points its ``debate`` behaviour at the offline norm model
(:func:`agentsim.envs.norm_society.offline.norm_society_reply`), so every reply parses as
a real model's would.

One era of Li et al. (2024, arXiv:2401.04620) as ``agentsim run norm-society`` plays it:
10 LLM members, 5 steps of 2 years, 3 situations per step, the LLM observer, memory
compression past 6 events, selection of the top 50% and crossover with LLM rewrites of
text traits at m = 0.8 after every step but the last. The run goes through the whole
runtime (``run_experiment``: event log, checkpoints, cache off so every call reaches the
server).

The members of a round decide concurrently, so a step's dependent chain is: 3 situation
rounds + 1 questionnaire round + 1 observer round + 1 memory round (in steps where a
member compresses) + the trait rewrites of reproduction, which the reproducer issues one
child after another (the rewrites of one child concurrently): one round per child that
mutates. The chain is read from the run's call records, not assumed, and the ideal wall
time is chain x latency. Reported: wall / ideal at the given latency, and the same era
against a server with no latency (the CPU floor of this process).

Run:  python bench/norm_society_llm.py [--latency S] [--repeats N]
"""

from __future__ import annotations

import contextlib
import io
import os

# Before anything imports litellm: no cost-map download, no phoning home, a dummy key.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"
os.environ.setdefault("OPENAI_API_KEY", "sk-local-bench")

import argparse
import asyncio
import datetime
import importlib.metadata
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import agentsim.testing.fake_openai_server as fake
from agentsim.core.records import load_records
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir

AGENTS, STEPS, ROUNDS = 10, 5, 3


def _era(base_url: str, out: Path, seed: int) -> tuple[float, list[dict[str, Any]], str]:
    config = make_config(
        "norm-society",
        seed,
        [
            f"n_agents={AGENTS}",
            f"steps={STEPS}",
            f"situations_per_step={ROUNDS}",
            "observer=llm",
            f"population=llm:{AGENTS}",
            "model=openai/norm_society",
            f"api_base={base_url}",
            "cache=off",
        ],
    )
    run = RunDir.create(out, f"era-{seed}", config.to_json())
    t0 = time.perf_counter()
    summary = asyncio.run(run_experiment(run, config))
    wall = time.perf_counter() - t0
    return wall, load_records(run.file("events.jsonl")), str(summary["status"])


def chain(records: list[dict[str, Any]]) -> tuple[int, Counter[str]]:
    """Dependent call rounds of the run, and its calls by purpose (from the call records).

    Per step: the decision rounds (each re-ask adds a round), the observer round, a
    memory round if any member compressed, and the trait rewrites (every child's at once;
    each rewrite is its own ``agent``, ``<child>/<trait>``).
    """
    calls = [r for r in records if r["type"] == "llm_call"]
    by_purpose = Counter(str(c["purpose"]) for c in calls)
    asks: Counter[tuple[int, str, str]] = Counter(
        (int(c.get("episode") or 0), str(c["purpose"]), str(c["agent"])) for c in calls
    )
    rounds: dict[tuple[int, str], int] = defaultdict(int)
    for (episode, purpose, _), n in asks.items():
        if purpose == "observer":  # one judge name for all verdicts, asked at once
            rounds[(episode, purpose)] = max(rounds[(episode, purpose)], _reasks(records, episode))
        else:  # members (or verdicts) at once: the most asks of one
            rounds[(episode, purpose)] = max(rounds[(episode, purpose)], n)
    depth = sum(rounds.values())
    return depth, by_purpose


def _reasks(records: list[dict[str, Any]], episode: int) -> int:
    """Asks of the step's slowest verdict (1 unless a verdict was re-asked)."""
    asks = [
        len(r.get("prompt_hashes") or [1])
        for r in records
        if r["type"] == "judgement" and int(r.get("episode") or r.get("generation") or 0) == episode
    ]
    return max(asks, default=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency", type=float, default=0.2, help="server latency, seconds")
    parser.add_argument("--repeats", type=int, default=3, help="timed eras (median reported)")
    args = parser.parse_args(argv)
    print("agentsim norm_society_v0 LLM era benchmark (loopback fake server)")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(
        f"machine: {platform.platform()}, nproc {os.cpu_count()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"python {platform.python_version()} ({sys.implementation.name}), "
        f"litellm {importlib.metadata.version('litellm')}"
    )
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        with fake.FakeOpenAIServer(latency_s=0.0) as server:
            _era(server.base_url, Path(tmp), 0)  # warm-up: imports, templates, HTTP client
            floor, records, _ = _era(server.base_url, Path(tmp), 1)
        floor_calls = sum(1 for r in records if r["type"] == "llm_call")
        rows.append(("no latency: era wall (the CPU floor)", f"{floor:.2f} s"))
        rows.append(
            ("  calls, wall ms per call", f"{floor_calls}, {1e3 * floor / floor_calls:.2f}")
        )
        walls, ratios, last = [], [], None
        with fake.FakeOpenAIServer(latency_s=args.latency) as server:
            for rep in range(args.repeats):
                wall, records, status = _era(server.base_url, Path(tmp), 100 + rep)
                depth, purposes = chain(records)
                walls.append(wall)
                ratios.append(wall / (depth * args.latency))
                last = (depth, purposes, status, server.stats.get("requests", 0))
    assert last is not None
    depth, purposes, status, requests = last
    rows += [
        ("run status (last era)", status),
        ("calls by purpose (last era)", ", ".join(f"{k} {v}" for k, v in sorted(purposes.items()))),
        ("server requests (all timed eras)", str(requests)),
        ("dependent chain, calls (last era)", str(depth)),
        (f"ideal wall = chain x {args.latency:g} s (last era)", f"{depth * args.latency:.2f} s"),
        (
            f"era wall, median of {args.repeats} (min)",
            f"{statistics.median(walls):.2f} s ({min(walls):.2f})",
        ),
        (
            "era wall / ideal, median (each)",
            f"{statistics.median(ratios):.3f} ({', '.join(f'{r:.3f}' for r in ratios)})",
        ),
    ]
    print(f"\n{'measure':<48} value")
    for name, value in rows:
        print(f"{name:<48} {value}")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--repeats 1).
    """
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--repeats", "1"] if quick else [])
    title = (__doc__ or "").strip().splitlines()[0]
    body = out.getvalue().strip()
    return f"## `bench/norm_society_llm.py`\n\n{title}\n\n```text\n{body}\n```\n"


if __name__ == "__main__":
    main()
