"""LLM-call concurrency and overhead of the ``agentsim.llm`` stack, against loopback servers only.

Never calls a real provider: every request goes to the in-process fake OpenAI server
(``agentsim.testing.fake_openai_server``, 127.0.0.1) or to the offline LiteLLM custom
provider (``offline/...``, in-process). Measures:

  1. Latency-bound wall time. One generation of the LLM donor game (12 LLM agents,
     ``cache=off`` so every call reaches the server) against the loopback server
     answering after a fixed 200 ms. Its dependent call chain is 1 strategy round (12
     concurrent calls) + 2 games x 12 rounds (6 concurrent donor calls each) = 25
     calls, so the ideal wall time is 25 x 200 ms = 5 s; reported: wall / ideal
     (target <= 1.2). Then 3 seeds in one process (``asyncio.gather`` of three
     ``run_experiment`` calls that share the process-wide limiter) vs one seed: the
     ratio of wall times should stay near 1, since independent runs overlap.
  2. Framework overhead per call beyond LiteLLM's own, offline provider, sequential:
     (a) raw ``litellm.acompletion(model="offline/donor", ...)`` with the same kwargs
     our adapter sends; (b) the adapter alone (``LiteLLMModel``: kwargs, cost, result);
     (c) the whole ``build_model`` stack (record -> cache read_write -> budget -> retry
     -> rate limit -> LiteLLM) on distinct requests, so every call is a cache miss and
     the full stack runs, including the SQLite write; (d) cache hits through the stack
     (the same requests again). Reported: microseconds per call, and (c) - (a), the
     overhead our wrappers and adapter add to a provider call (target < 1 ms).
  3. Throughput at concurrency 64 against the loopback server with zero latency: N
     distinct requests issued at once with ``asyncio.gather`` through the whole stack
     (limiter ``max_concurrency=64``, cache read_write, all misses), vs the same
     requests through raw ``litellm.acompletion`` behind an ``asyncio.Semaphore(64)``.
     The server runs in this process, so both figures include its cost.

Run:  python bench/llm_concurrency.py [--quick]
"""

from __future__ import annotations

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
from pathlib import Path
from typing import Any

from agentsim.llm.factory import build_model
from agentsim.llm.model import LiteLLMModel
from agentsim.llm.offline import ensure_offline_provider
from agentsim.llm.providers import import_litellm
from agentsim.llm.types import ChatRequest
from agentsim.llm.wrappers import Budget, RateLimiter
from agentsim.runtime.experiment import make_config
from agentsim.runtime.llm_runtime import shared_limiter
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from agentsim.testing.fake_openai_server import FakeOpenAIServer

LATENCY_S = 0.2
CHAIN = 1 + 2 * 12  # strategy round + games x rounds
SERVER_MODEL = "openai/donor"  # reaches the server as "donor": the normal donor policy
OFFLINE_MODEL = "offline/donor"
PARAMS = {"temperature": 0.8, "max_tokens": 1000}  # what LLM agents send by default

_rows: list[tuple[str, str, str]] = []


def row(section: str, measure: str, value: str) -> None:
    _rows.append((section, measure, value))
    print(f"  {measure:<58} {value}", flush=True)


def _prompt(i: int) -> str:
    return f"You currently have {10 + i % 90} units of the resource. Request {i}. How much?"


def _request(i: int, api_base: str | None = None, model: str = OFFLINE_MODEL) -> ChatRequest:
    return ChatRequest.build(model, _prompt(i), api_base=api_base, purpose="bench", **PARAMS)


def _raw_kwargs(i: int, model: str, api_base: str | None = None) -> dict[str, Any]:
    """The kwargs that ``LiteLLMModel`` sends for ``_request(i)`` (like for like)."""
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": _prompt(i)}],
        "max_retries": 0,
        "timeout": 60.0,
        "drop_params": True,
        **PARAMS,
    }
    if api_base is not None:
        kwargs["api_base"] = api_base
    return kwargs


# --- 1. latency-bound wall time ----------------------------------------------------------


def _config(seed: int, base_url: str, extra: tuple[str, ...] = ()) -> Any:
    return make_config(
        "donor-game",
        seed,
        [f"model={SERVER_MODEL}", f"api_base={base_url}", "generations=1", "cache=off", *extra],
    )


async def _runs(tmp: Path, tag: str, seeds: list[int], base_url: str) -> list[dict[str, Any]]:
    jobs = []
    for seed in seeds:
        config = _config(seed, base_url)
        run = RunDir.create(tmp, f"{tag}-seed{seed}", config.to_json())
        jobs.append(run_experiment(run, config))
    return list(await asyncio.gather(*jobs))


def _timed_runs(
    tmp: Path, tag: str, seeds: list[int], server: FakeOpenAIServer
) -> tuple[float, int, list[dict[str, Any]]]:
    before = server.stats.get("requests", 0)
    t0 = time.perf_counter()
    summaries = asyncio.run(_runs(tmp, tag, seeds, server.base_url))
    wall = time.perf_counter() - t0
    return wall, server.stats.get("requests", 0) - before, summaries


def latency_bound(tmp: Path, repeats: int) -> None:
    print(
        f"\n1. Latency-bound wall time (server latency {LATENCY_S * 1000:.0f} ms, "
        f"chain {CHAIN} calls, cache=off)",
        flush=True,
    )
    with FakeOpenAIServer(latency_s=0.0) as server:
        _timed_runs(tmp, "warmup", [99], server)  # imports, prompt templates, HTTP client
        server.latency_s = LATENCY_S
        ideal = CHAIN * LATENCY_S
        one, three = [], []
        for rep in range(repeats):
            wall, calls, (summary,) = _timed_runs(tmp, f"one-{rep}", [0], server)
            one.append(wall)
            wall3, calls3, _summaries = _timed_runs(tmp, f"three-{rep}", [1, 2, 3], server)
            three.append(wall3)
        decisions = summary["decisions"]
        settings = _config(0, server.base_url).llm
        limiter = shared_limiter(settings)  # the one the runs shared
        row("1", "calls per run (server requests), 1 seed / 3 seeds", f"{calls} / {calls3}")
        row(
            "1",
            "decisions of a run (ok/reasked/fallback)",
            f"{decisions['ok']}/{decisions['reasked']}/{decisions['fallback']}",
        )
        row("1", "ideal wall time (chain x latency)", f"{ideal:.2f} s")
        row(
            "1",
            f"1 seed wall time, median of {repeats} (min)",
            f"{statistics.median(one):.2f} s ({min(one):.2f})",
        )
        row("1", "1 seed wall / ideal (target <= 1.2)", f"{statistics.median(one) / ideal:.3f}")
        row(
            "1",
            f"3 seeds concurrent wall time, median of {repeats} (min)",
            f"{statistics.median(three):.2f} s ({min(three):.2f})",
        )
        row(
            "1",
            "3 seeds / 1 seed wall (target ~1)",
            f"{statistics.median(three) / statistics.median(one):.3f}",
        )
        row(
            "1",
            "shared limiter: concurrency cap / peak in flight",
            f"{settings.concurrency} / {limiter.peak_in_flight}",
        )


# --- 2. framework overhead per call -------------------------------------------------------


async def _sequential_raw(litellm: Any, lo: int, hi: int) -> float:
    t0 = time.perf_counter()
    for i in range(lo, hi):
        await litellm.acompletion(**_raw_kwargs(i, OFFLINE_MODEL))
    return (time.perf_counter() - t0) / (hi - lo)


async def _sequential_model(model: Any, lo: int, hi: int) -> float:
    requests = [_request(i) for i in range(lo, hi)]
    t0 = time.perf_counter()
    for request in requests:
        await model.complete(request)
    return (time.perf_counter() - t0) / (hi - lo)


def overhead(tmp: Path, n: int, blocks: int) -> None:
    print(
        f"\n2. Per-call overhead, offline provider, sequential ({blocks} blocks x {n} calls "
        "each, alternating; best block)",
        flush=True,
    )
    litellm = import_litellm()
    ensure_offline_provider(OFFLINE_MODEL)
    records: list[Any] = []
    stack = build_model(
        OFFLINE_MODEL,
        cache_path=tmp / "overhead.sqlite",
        cache_mode="read_write",
        budget=Budget(),
        limiter=RateLimiter(max_concurrency=64),
        sink=records.append,
    )
    adapter = LiteLLMModel()

    async def measure() -> dict[str, list[float]]:
        # Warm-up outside the timing (distinct ids from every timed block).
        await _sequential_raw(litellm, 10_000_000, 10_000_050)
        await _sequential_model(stack, 20_000_000, 20_000_050)
        times: dict[str, list[float]] = {"raw": [], "adapter": [], "miss": [], "hit": []}
        for b in range(blocks):
            lo = b * n
            times["raw"].append(await _sequential_raw(litellm, lo, lo + n))
            times["adapter"].append(await _sequential_model(adapter, lo, lo + n))
            times["miss"].append(await _sequential_model(stack, lo, lo + n))
            times["hit"].append(await _sequential_model(stack, lo, lo + n))
        return times

    times = asyncio.run(measure())
    best = {k: min(v) * 1e6 for k, v in times.items()}
    med = {k: statistics.median(v) * 1e6 for k, v in times.items()}
    cached = sum(1 for r in records if r["cached"])
    row(
        "2",
        "(a) raw litellm.acompletion, us/call (median)",
        f"{best['raw']:8.0f} ({med['raw']:.0f})",
    )
    row(
        "2",
        "(b) LiteLLMModel adapter alone, us/call (median)",
        f"{best['adapter']:8.0f} ({med['adapter']:.0f})",
    )
    row(
        "2",
        "(c) build_model stack, cache misses, us/call (median)",
        f"{best['miss']:8.0f} ({med['miss']:.0f})",
    )
    row(
        "2",
        "(c) - (a) framework overhead, us/call (target < 1000)",
        f"{best['miss'] - best['raw']:8.0f} ({med['miss'] - med['raw']:.0f})",
    )
    row(
        "2",
        "    of which adapter (b) - (a) / wrappers (c) - (b), us",
        f"{best['adapter'] - best['raw']:8.0f} / {best['miss'] - best['adapter']:.0f}",
    )
    row(
        "2",
        "(d) build_model stack, cache hits, us/call (median)",
        f"{best['hit']:8.0f} ({med['hit']:.0f})",
    )
    row("2", "records emitted (of which cache hits)", f"{len(records)} ({cached})")


# --- 3. throughput at concurrency 64 ------------------------------------------------------


async def _gather_stack(model: Any, base_url: str, lo: int, hi: int) -> float:
    requests = [_request(i, base_url, SERVER_MODEL) for i in range(lo, hi)]
    t0 = time.perf_counter()
    await asyncio.gather(*(model.complete(r) for r in requests))
    return (hi - lo) / (time.perf_counter() - t0)


async def _gather_raw(litellm: Any, base_url: str, lo: int, hi: int) -> float:
    gate = asyncio.Semaphore(64)

    async def one(i: int) -> Any:
        async with gate:
            return await litellm.acompletion(**_raw_kwargs(i, SERVER_MODEL, base_url))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(lo, hi)))
    return (hi - lo) / (time.perf_counter() - t0)


def throughput(tmp: Path, n: int, repeats: int) -> None:
    print(
        f"\n3. Throughput, loopback server with zero latency, concurrency 64, {n} distinct "
        f"requests ({repeats} alternating repeats; best)",
        flush=True,
    )
    litellm = import_litellm()
    records: list[Any] = []
    limiter = RateLimiter(max_concurrency=64)
    stack = build_model(
        SERVER_MODEL,
        cache_path=tmp / "throughput.sqlite",
        cache_mode="read_write",
        budget=Budget(),
        limiter=limiter,
        sink=records.append,
    )
    with FakeOpenAIServer(latency_s=0.0) as server:

        async def measure() -> dict[str, list[float]]:
            await _gather_raw(litellm, server.base_url, 30_000_000, 30_000_200)
            await _gather_stack(stack, server.base_url, 40_000_000, 40_000_200)
            rates: dict[str, list[float]] = {"raw": [], "stack": []}
            for rep in range(repeats):
                lo = 50_000_000 + rep * n
                rates["raw"].append(await _gather_raw(litellm, server.base_url, lo, lo + n))
                rates["stack"].append(await _gather_stack(stack, server.base_url, lo, lo + n))
            return rates

        rates = asyncio.run(measure())
        stats = server.stats
    raw, full = max(rates["raw"]), max(rates["stack"])
    row("3", "raw litellm.acompletion + Semaphore(64), calls/s", f"{raw:8.0f}")
    row("3", "build_model stack + RateLimiter(64), calls/s", f"{full:8.0f}")
    row("3", "stack / raw", f"{full / raw:8.3f}")
    row(
        "3",
        "stack: peak in flight / failed calls",
        f"{limiter.peak_in_flight} / {sum(1 for r in records if r['error'])}",
    )
    row("3", "server: requests / ok", f"{stats.get('requests', 0)} / {stats.get('ok', 0)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (under a minute)")
    args = parser.parse_args(argv)
    litellm_version = importlib.metadata.version("litellm")
    print("agentsim LLM concurrency benchmark")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(
        f"python {platform.python_version()} ({sys.implementation.name}), "
        f"litellm {litellm_version}, mode: {'quick' if args.quick else 'default'}"
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agentsim-bench-") as tmp:
        latency_bound(Path(tmp), repeats=1 if args.quick else 3)
        overhead(Path(tmp), n=300 if args.quick else 1000, blocks=3 if args.quick else 5)
        throughput(Path(tmp), n=500 if args.quick else 2000, repeats=2 if args.quick else 3)
    print(f"\nSummary ({time.perf_counter() - t0:.0f} s total)")
    print(f"{'section':<8} {'measure':<58} value")
    for section, measure, value in _rows:
        print(f"{section:<8} {measure:<58} {value}")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--quick).
    """
    from _section import printed_section

    return printed_section("bench/llm_concurrency.py", __doc__, main, quick)


if __name__ == "__main__":
    main()
