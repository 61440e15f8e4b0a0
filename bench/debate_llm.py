"""LLM wall time of concurrent debate_v0 repetitions vs their dependent call chain, loopback only.

Never calls a real provider: every request goes to the fake OpenAI server
(``agentsim.testing.fake_openai_server``, 127.0.0.1; in this process, as
``bench/llm_concurrency.py`` runs it, or with ``--server-process`` in a child process)
answering after a fixed latency (default 200 ms), with its ``debate`` behaviour (the
offline debate model: surveys get a number on the scale, turns a short contribution).
The debaters are ``LLMDebater``s bound to one shared ``DebateLLMContext`` (one model
stack: ``build_model`` with ``cache_mode="off"``, so every call reaches the server, and a
``RateLimiter`` with room for every debate at once). The fake model is given a LiteLLM
price, as a real model has (see ``_price``).

A debate of Taubenfeld et al. (2024, arXiv:2402.04049) as ``debate_v0`` plays it: 3
debaters, 9 iterations, every debater surveyed before the debate and after every
utterance. In an AEC env every call depends on the one before it, so one debate is a
chain of 9 utterances + 10 survey rounds x 3 debaters = 39 calls, and its ideal wall
time is 39 x latency. The paper runs 40 repetitions (persona pairings) per condition;
independent debates overlap, so 40 of them run concurrently (``asyncio.gather`` of 40
``arun_episode`` calls, each with its own env and debaters) should also take about
39 x latency. Reported: wall / ideal for one debate alone and for the 40 together
(target <= 1.2), with the server's request count, the call chain actually observed, and
the parse status of every decision and survey (a reply that does not parse is re-asked,
which lengthens the chain; so the counts are printed, not assumed). First, the same 40
debates against the server with no latency give the CPU floor: the wall time this
process needs for all the calls whatever the latency (LiteLLM's client path dominates
it); 40 debates reach ~1 only where that floor is well below 39 x latency.

Run:  python bench/debate_llm.py [--quick] [--latency S] [--repeats N] [--server-process]
      [--behaviour debate|donor]
"""

from __future__ import annotations

import contextlib
import os

# Before anything imports litellm: no cost-map download, no phoning home, a dummy key.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"
os.environ.setdefault("OPENAI_API_KEY", "sk-local-bench")

import argparse
import asyncio
import datetime
import importlib.metadata
import json
import platform
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

from agentsim.agents.llm.debate import DebateLLMContext, LLMDebater, load_debate_prompts
from agentsim.agents.llm.settings import LLMSettings
from agentsim.envs.debate.env import DebateEnv
from agentsim.llm.factory import build_model
from agentsim.llm.providers import import_litellm
from agentsim.llm.wrappers import RateLimiter
from agentsim.runtime.runner import EpisodeResult, arun_episode
from agentsim.testing.fake_openai_server import FakeOpenAIServer

SEATS = 3
ITERATIONS = 9
CHAIN = ITERATIONS + (ITERATIONS + 1) * SEATS  # utterances + survey rounds x debaters
CONCURRENCY = 256  # the limiter must not be what serialises 40 debates
MAX_CHARS = 1200


def _price(model: str) -> None:
    """Give the fake model a LiteLLM price, as a real provider's model has in its cost map.

    For a model missing from the cost map, LiteLLM's cost lookup tries its fallback
    generalisations on every call (~1,000 regex searches, ~1 ms of CPU here), a cost
    that real models do not pay.
    """
    import_litellm().register_model(
        {
            model: {
                "input_cost_per_token": 1e-6,
                "output_cost_per_token": 2e-6,
                "cache_creation_input_token_cost": 0.0,
                "cache_read_input_token_cost": 0.0,
                "litellm_provider": "openai",
                "mode": "chat",
            }
        }
    )


def _stack(behaviour: str, base_url: str) -> tuple[DebateLLMContext, RateLimiter, list[Any]]:
    """One shared model stack and context, as one run's repetitions share them."""
    _price(f"openai/{behaviour}")
    settings = LLMSettings(
        model=f"openai/{behaviour}", api_base=base_url, cache="off", concurrency=CONCURRENCY
    )
    limiter = RateLimiter(max_concurrency=settings.concurrency)
    calls: list[Any] = []
    model = build_model(
        settings.model or "",
        api_base=settings.api_base,
        cache_mode="off",
        limiter=limiter,
        max_attempts=settings.max_attempts,
        timeout_s=settings.timeout_s,
        sink=calls.append,
    )
    ctx = DebateLLMContext(model, settings, load_debate_prompts(), MAX_CHARS)
    return ctx, limiter, calls


async def _debate(ctx: DebateLLMContext, seed: int) -> EpisodeResult:
    env = DebateEnv(iterations=ITERATIONS)
    agents = {}
    for a in env.possible_agents:
        agents[a] = LLMDebater(a)
        agents[a].bind(ctx)
    return await arun_episode(env, agents, seed=seed)


async def _debates(ctx: DebateLLMContext, seeds: list[int]) -> list[EpisodeResult]:
    return list(await asyncio.gather(*(_debate(ctx, s) for s in seeds)))


class _ServerProcess:
    """The fake server in a child process (``python -m agentsim.testing.fake_openai_server``).

    A real provider's CPU is not ours: out of process, the server's request handling
    runs on another core instead of sharing this process's GIL with the client.
    """

    def __init__(self, latency: float) -> None:
        module = "agentsim.testing.fake_openai_server"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0", "--latency", str(latency)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # "listening on http://127.0.0.1:PORT/v1"
        self.base_url = line.split()[-1]

    def requests(self) -> int:
        with urllib.request.urlopen(f"{self.base_url}/stats", timeout=10) as reply:
            return int(json.load(reply).get("requests", 0))

    def stop(self) -> None:
        self._proc.send_signal(signal.SIGINT)  # the CLI stops its server on Ctrl-C
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class _ServerThread:
    """The fake server in this process (as ``bench/llm_concurrency.py`` runs it)."""

    def __init__(self, latency: float) -> None:
        self._server = FakeOpenAIServer(latency_s=latency).start()
        self.base_url = self._server.base_url

    def requests(self) -> int:
        return self._server.stats.get("requests", 0)

    def stop(self) -> None:
        self._server.stop()


@contextlib.contextmanager
def _serving(latency: float, process: bool) -> Iterator[_ServerThread | _ServerProcess]:
    server = _ServerProcess(latency) if process else _ServerThread(latency)
    try:
        yield server
    finally:
        server.stop()


def _timed(
    ctx: DebateLLMContext, seeds: list[int], server: _ServerThread | _ServerProcess
) -> tuple[float, int, list[EpisodeResult]]:
    before = server.requests()
    t0 = time.perf_counter()
    results = asyncio.run(_debates(ctx, seeds))
    wall = time.perf_counter() - t0
    return wall, server.requests() - before, results


def _statuses(results: list[EpisodeResult]) -> dict[str, Counter[str]]:
    """Parse statuses: decisions by phase (driver: ok/reasked/fallback), env surveys."""
    out: dict[str, Counter[str]] = {
        "speak decisions": Counter(),
        "survey decisions": Counter(),
        "env survey records": Counter(),
    }
    for result in results:
        for r in result.records:
            if r["type"] == "decision":
                phase = "survey" if r["observation"]["phase"] == 1 else "speak"
                out[f"{phase} decisions"][r["parse_status"]] += 1
            elif r["type"] == "survey":
                out["env survey records"][r["parse_status"]] += 1
    return out


def _chain(results: list[EpisodeResult]) -> float:
    """Mean calls per debate actually made (every call of a debate is in its chain)."""
    per = [
        sum(int(r.get("llm_calls", 0)) for r in x.records if r["type"] == "decision")
        for x in results
    ]
    return float(statistics.mean(per))


def _fmt_counts(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"


def cpu_bound(behaviour: str, reps: int, process: bool) -> tuple[float, int]:
    """Wall time and calls of ``reps`` concurrent debates against a server with no latency
    (after a warm-up debate): the floor this process can reach, whatever the latency."""
    with _serving(0.0, process) as server:
        ctx, _limiter, _calls = _stack(behaviour, server.base_url)
        _timed(ctx, [10_000], server)  # warm-up: imports, templates, the HTTP client
        wall, requests, _results = _timed(ctx, list(range(20_000, 20_000 + reps)), server)
    return wall, requests


def latency_bound(
    behaviour: str, latency: float, reps: int, repeats: int, process: bool
) -> list[tuple[str, str]]:
    """Wall times of 1 debate and of ``reps`` concurrent debates at ``latency``."""
    ideal = CHAIN * latency
    with _serving(latency, process) as server:
        ctx, limiter, calls = _stack(behaviour, server.base_url)
        one_walls, many_walls = [], []
        for rep in range(repeats):
            wall, one_requests, _one = _timed(ctx, [rep], server)
            one_walls.append(wall)
            seeds = list(range(1000 * (rep + 1), 1000 * (rep + 1) + reps))
            wall, requests, many = _timed(ctx, seeds, server)
            many_walls.append(wall)
    one_wall, many_wall = statistics.median(one_walls), statistics.median(many_walls)
    chain = _chain(many)
    rows = [
        ("calls per debate, expected chain", f"{CHAIN}"),
        (f"calls per debate, observed (mean over the {reps})", f"{chain:.2f}"),
        (f"server requests: 1 debate / {reps} debates", f"{one_requests} / {requests}"),
        ("ideal wall time (expected chain x latency)", f"{ideal:.2f} s"),
        (f"1 debate wall, median of {repeats} (min)", f"{one_wall:.2f} s ({min(one_walls):.2f})"),
        ("1 debate wall / ideal", f"{one_wall / ideal:.3f}"),
        (
            f"{reps} debates concurrently, median of {repeats} (min)",
            f"{many_wall:.2f} s ({min(many_walls):.2f})",
        ),
        (f"{reps} debates wall / ideal (target <= 1.2)", f"{many_wall / ideal:.3f}"),
        (
            f"{reps} debates wall / (observed chain x latency)",
            f"{many_wall / (chain * latency):.3f}",
        ),
        (f"{reps} debates / 1 debate wall", f"{many_wall / one_wall:.3f}"),
        ("limiter: concurrency cap / peak in flight", f"{CONCURRENCY} / {limiter.peak_in_flight}"),
        ("failed calls (llm_call records with an error)", f"{sum(1 for c in calls if c['error'])}"),
    ]
    for what, counts in _statuses(many).items():
        rows.append((f"{what} ({reps} debates)", _fmt_counts(counts)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 10 debates, 50 ms")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency, seconds")
    parser.add_argument("--reps", type=int, default=40, help="concurrent debates")
    parser.add_argument("--repeats", type=int, default=3, help="timings (median reported)")
    parser.add_argument(
        "--behaviour", default="debate", help="fake-server model name (debate, donor, garbage)"
    )
    parser.add_argument(
        "--server-process", action="store_true", help="run the server in a child process"
    )
    args = parser.parse_args(argv)
    latency, reps, repeats = (
        (0.05, 10, 1) if args.quick else (args.latency, args.reps, args.repeats)
    )
    print("agentsim debate_v0 LLM concurrency benchmark (loopback fake server)")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(
        f"machine: {platform.platform()}, nproc {os.cpu_count()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"python {platform.python_version()} ({sys.implementation.name}), "
        f"litellm {importlib.metadata.version('litellm')}"
    )
    where = "a child process" if args.server_process else "this process"
    print(f"server: {args.behaviour} behaviour, in {where}")
    t0 = time.perf_counter()
    floor, calls = cpu_bound(args.behaviour, reps, args.server_process)
    rows = [
        (f"no latency: {reps} debates wall (the CPU floor)", f"{floor:.2f} s"),
        (
            "  calls, calls/s, wall ms per call",
            f"{calls}, {calls / floor:.0f}, {1e3 * floor / calls:.2f}",
        ),
    ]
    rows += latency_bound(args.behaviour, latency, reps, repeats, args.server_process)
    print(f"\n{'measure':<54} value")
    for name, value in rows:
        print(f"{name:<54} {value}")
    print(f"\n({time.perf_counter() - t0:.0f} s total)")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--quick).
    """
    from _section import printed_section

    return printed_section("bench/debate_llm.py", __doc__, main, quick)


if __name__ == "__main__":
    main()
