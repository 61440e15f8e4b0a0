"""Norm-society throughput: the scripted society's agent-steps/s, against a copy-only baseline.

An agent-step is one agent meeting one situation (``situations`` per generation; default 3).

Measures:
  1. Vectorised rules path: ``agentsim.games.norm_society.simulate`` (conformity, behaviour
     noise, the rule observer, selection and crossover + mutation every step) at 100, 1,000
     and 10,000 agents on a small-world graph (``networkx.watts_strogatz_graph(n, 4, 0.1)``,
     as CSR), vs a baseline measured in the same process: per step, one numpy pass that only
     copies the step's arrays (the (n, d) traits into each of the ``situations`` behaviour
     slots of an (n, S, d) buffer, and the statements out of it) - the memory traffic of a
     step with no arithmetic. "vs copy" = simulate's agent-steps/s over the baseline's.
  2. End to end (when the env is registered): ``agentsim.run_episode`` of
     ``norm_society_v0`` with scripted ``evolutionary`` agents on the same kind of graph, one
     episode = one step (no reproduction: that is the evolution loop's), with a
     ``NullRecorder``, as a ratio to the rules path at the same size.

Run:  python bench/norm_society_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import networkx as nx
import numpy as np

from agentsim.games import norm_society as ns

D = 5
SITUATIONS = 3
SIZES = (100, 1_000, 10_000)
E2E_SIZES = (100, 1_000)


def small_world(n, seed=0):
    graph = nx.watts_strogatz_graph(n, 4, 0.1, seed=seed)
    return ns.csr_from_edges(n, np.array(list(graph.edges()), dtype=np.int64))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _rate(agent_steps, fn, seconds):
    """Agent-steps/s of ``fn`` (one call = ``agent_steps``), repeated for ``seconds``."""
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or calls == 0:
        fn()
        calls += 1
    return calls * agent_steps / (time.perf_counter() - t0)


def simulate_path(n, steps, csr):
    indptr, indices = csr

    def run():
        ns.simulate(
            n,
            D,
            steps,
            rate=0.8,
            conformity=0.1,
            norm=lambda g: ns.shifted_norm(g, 11, D),
            indptr=indptr,
            indices=indices,
            situations=SITUATIONS,
            rng=np.random.default_rng(0),
        )

    return run


def copy_baseline(n, steps):
    z = np.random.default_rng(0).random((n, D))
    buf = np.empty((n, SITUATIONS, D))

    def run():
        traits = z
        for _ in range(steps):
            for s in range(SITUATIONS):
                buf[:, s] = traits
            traits = buf[:, -1].copy()

    return run


def rules_comparison(seconds, repeats=3):
    rows = []
    for n in SIZES:
        steps = max(5, 20_000 // n)
        agent_steps = n * SITUATIONS * steps
        csr = small_world(n)
        paths = (copy_baseline(n, steps), simulate_path(n, steps, csr))
        best = [0.0, 0.0]
        for _ in range(repeats):  # interleaved, so load changes hit both alike
            for i, fn in enumerate(paths):
                best[i] = max(best[i], _rate(agent_steps, fn, seconds))
        rows.append((n, steps, best[0], best[1]))
    return rows


def end_to_end_rate(n, episodes):
    """Agent-steps/s of run_episode on the env, or None when the env is not there."""
    import agentsim
    from agentsim.runtime.runner import NullRecorder

    try:
        env = agentsim.make_env(
            "norm_society_v0", n_agents=n, network="small_world", degree=4, rewire=0.1
        )
        agents = {
            a: agentsim.make_agent("evolutionary", env="norm_society_v0", name=a)
            for a in env.possible_agents
        }
    except Exception as err:  # the bench reports any reason the env is missing
        return None, f"{type(err).__name__}: {err}"
    agentsim.run_episode(env, agents, seed=0, recorder=NullRecorder())  # warm-up
    t0 = time.perf_counter()
    for g in range(episodes):
        options = {"generation": g + 1}
        agentsim.run_episode(env, agents, seed=g, recorder=NullRecorder(), options=options)
    return n * SITUATIONS * episodes / (time.perf_counter() - t0), ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    args = parser.parse_args(argv)
    seconds = 0.2 if args.quick else 1.5
    print(
        f"machine: {cpu_model()}, nproc {os.cpu_count()}, python {platform.python_version()}, "
        f"numpy {np.__version__}, {datetime.date.today().isoformat()}"
    )
    print(f"\n[1] rules path, d = {D}, {SITUATIONS} situations per step, small world k=4 p=0.1")
    print(
        "| agents | steps per call | copy baseline agent-steps/s | simulate agent-steps/s "
        "| µs per step | vs copy |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    rules = {}
    for n, steps, base, sim in rules_comparison(seconds):
        rules[n] = sim
        step_us = 1e6 * n * SITUATIONS / sim
        print(f"| {n:,} | {steps} | {base:,.0f} | {sim:,.0f} | {step_us:,.0f} | {sim / base:.3f} |")
    print("\n[2] end to end: run_episode, scripted `evolutionary` agents, NullRecorder")
    print("| agents | episodes | run_episode agent-steps/s | ms per episode | vs rules path |")
    print("|---:|---:|---:|---:|---:|")
    for n in E2E_SIZES:
        episodes = 2 if args.quick else max(3, 3_000 // n)
        rate, why = end_to_end_rate(n, episodes)
        if rate is None:
            print(f"| {n:,} | - | not available ({why}) | - | - |")
        else:
            ms = 1e3 * n * SITUATIONS / rate
            print(f"| {n:,} | {episodes} | {rate:,.0f} | {ms:.1f} | {rate / rules[n]:.3f} |")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--quick).
    """
    from _section import printed_section

    return printed_section("bench/norm_society_throughput.py", __doc__, main, quick)


if __name__ == "__main__":
    main()
