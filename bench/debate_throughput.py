"""debate_v0 throughput with scripted debaters, against PettingZoo's rps_v2 in the same process.

Both are AEC envs; every figure is live env steps (one ``env.step`` per decision; the
closing ``step(None)`` of terminated agents runs but is not counted) per second, and,
for the debate, iterations (utterances) per second. The default debate (Taubenfeld et
al. 2024, arXiv:2402.04049): Republican, Democrat, Default, 9 iterations, a survey of
all three before the debate and after every utterance: 3 + 9 x (1 + 3) = 39 decisions
per episode. rps_v2 (default ``num_cycles=15``, PettingZoo's wrappers on): 30.

Paths, each measured on both envs where it applies:

  * bare: ``for agent in env.agent_iter(): env.last(); env.step(action)``; rps_v2 with a
    random legal action (``action_space(agent).sample()``), the debate with one of the
    scripted debaters (``degroot``, ``bounded_confidence``, ``drift_to_prior``; all three
    seats the same kind).
  * env only (debate): the bare loop with fixed actions (a survey reply or a marked
    utterance), so the env's own cost is separated from the debaters'.
  * runner: ``agentsim.runtime.runner.run_episode`` (records kept in memory, as a library
    caller gets them; and with a ``NullRecorder``), so the runner's cost is separated from
    the env's.

Measures are interleaved round by round (best of ``--repeats`` x ``--seconds``), because
the machine is shared and its load drifts; compare the ratios, not the absolute figures.

Run:  python bench/debate_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pettingzoo

from agentsim.agents.base import Decision
from agentsim.agents.scripted.debate import BoundedConfidence, DeGroot, DriftToPrior
from agentsim.envs.debate.env import DebateEnv
from agentsim.runtime.runner import NullRecorder, run_episode

KINDS: dict[str, Callable[[], Any]] = {
    "degroot": DeGroot,
    "bounded_confidence": BoundedConfidence,
    "drift_to_prior": DriftToPrior,
}
ITERATIONS = 9
FIXED_SURVEY = "5"
FIXED_UTTERANCE = "I think we should weigh the evidence carefully. [attitude: 5.0]"

#: A measure returns (live steps, episodes) done in about ``seconds``.
Measure = Callable[[float], tuple[int, int]]


class RandomLegal:
    """An rps_v2 agent for the runner: a random legal action from its seeded space."""

    name = "random"

    def __init__(self, space: Any) -> None:
        self.space = space

    def reset(self, *, seed: int | None = None) -> None:
        self.space.seed(seed)

    def act(self, observation: Any) -> Decision:
        return Decision(action=int(self.space.sample()))


def _bare(env: Any, policy: Callable[[str, Any], Any], begin: Callable[[int], None]) -> Measure:
    """The bare AEC loop: ``begin(seed)`` resets the agents, ``policy`` picks actions."""

    def measure(seconds: float) -> tuple[int, int]:
        steps = episodes = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            env.reset(seed=episodes)
            begin(episodes)
            for agent in env.agent_iter():
                obs, _, term, trunc, _ = env.last()
                if term or trunc:
                    env.step(None)
                    continue
                env.step(policy(agent, obs))
                steps += 1
            episodes += 1
        return steps, episodes

    return measure


def _runner(env: Any, agents: dict[str, Any], null: bool) -> Measure:
    def measure(seconds: float) -> tuple[int, int]:
        steps = episodes = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            recorder = NullRecorder() if null else None
            steps += run_episode(env, agents, seed=episodes, recorder=recorder).steps
            episodes += 1
        return steps, episodes

    return measure


def _debaters(env: DebateEnv, kind: str) -> dict[str, Any]:
    return {a: KINDS[kind]() for a in env.possible_agents}


def _policy(agents: dict[str, Any]) -> Callable[[str, Any], Any]:
    return lambda agent, obs: agents[agent].act(obs).action


def _reset_all(agents: dict[str, Any]) -> Callable[[int], None]:
    def begin(seed: int) -> None:
        for i, agent in enumerate(agents.values()):
            agent.reset(seed=seed * 16 + i)

    return begin


def measures() -> dict[str, Measure]:
    """Every measure by name (each builds its own env, so none shares state)."""
    from pettingzoo.classic import rps_v2

    out: dict[str, Measure] = {}
    rps = rps_v2.env()
    rps_agents = {a: RandomLegal(rps.action_space(a)) for a in rps.possible_agents}
    out["rps_v2 bare, random legal"] = _bare(
        rps, lambda a, _obs: rps_agents[a].act(None).action, _reset_all(rps_agents)
    )
    for null in (False, True):
        rps_run = rps_v2.env()
        rps_run_agents = {a: RandomLegal(rps_run.action_space(a)) for a in rps_run.possible_agents}
        name = "rps_v2 runner, random legal" + (", NullRecorder" if null else "")
        out[name] = _runner(rps_run, rps_run_agents, null)
    out["debate env only (fixed actions)"] = _bare(
        DebateEnv(iterations=ITERATIONS),
        lambda _a, obs: FIXED_SURVEY if int(obs["phase"]) == 1 else FIXED_UTTERANCE,
        lambda _seed: None,
    )
    for kind in KINDS:
        env = DebateEnv(iterations=ITERATIONS)
        agents = _debaters(env, kind)
        out[f"debate bare, {kind}"] = _bare(env, _policy(agents), _reset_all(agents))
    for kind in KINDS:
        env = DebateEnv(iterations=ITERATIONS)
        out[f"debate runner, {kind}"] = _runner(env, _debaters(env, kind), False)
    env = DebateEnv(iterations=ITERATIONS)
    out["debate runner, drift_to_prior, NullRecorder"] = _runner(
        env, _debaters(env, "drift_to_prior"), True
    )
    return out


def measure_all(seconds: float, repeats: int) -> dict[str, tuple[float, float]]:
    """Best (steps/s, episodes/s) of each measure over interleaved rounds."""
    table = measures()
    for m in table.values():
        m(min(seconds, 0.2))  # warm-up: imports, first observations, caches
    best: dict[str, tuple[float, float]] = dict.fromkeys(table, (0.0, 0.0))
    for _ in range(repeats):
        for name, m in table.items():
            t0 = time.perf_counter()
            steps, episodes = m(seconds)
            elapsed = time.perf_counter() - t0
            if steps / elapsed > best[name][0]:
                best[name] = (steps / elapsed, episodes / elapsed)
    return best


def report(best: dict[str, tuple[float, float]]) -> None:
    rps_bare = best["rps_v2 bare, random legal"][0]
    rps_run = best["rps_v2 runner, random legal"][0]
    rps_null = best["rps_v2 runner, random legal, NullRecorder"][0]
    env_only = best["debate env only (fixed actions)"][0]
    print("\n(vs rps: debate steps/s over rps_v2's on the same path: bare, runner, NullRecorder)")
    print(f"{'measure':<46} {'steps/s':>9} {'iter/s':>8} {'us/step':>8} {'vs rps':>7}")
    for name, (sps, eps) in best.items():
        debate = name.startswith("debate")
        baseline = rps_bare if "runner" not in name else rps_null if "Null" in name else rps_run
        iters = f"{eps * ITERATIONS:8,.0f}" if debate else f"{'':>8}"
        ratio = f"{sps / baseline:7.3f}" if debate else f"{'':>7}"
        print(f"{name:<46} {sps:9,.0f} {iters} {1e6 / sps:8.1f} {ratio}")
    print("\nCost per debate step (us), from the best figures:")
    print(f"  env alone (observe + step + records)           {1e6 / env_only:8.1f}")
    for kind in KINDS:
        bare = best[f"debate bare, {kind}"][0]
        runner = best[f"debate runner, {kind}"][0]
        print(
            f"  {kind:<20} debater {1e6 / bare - 1e6 / env_only:8.1f}   "
            f"runner beyond bare loop {1e6 / runner - 1e6 / bare:8.1f}"
        )
    print(f"  rps_v2: runner beyond bare loop                {1e6 / rps_run - 1e6 / rps_bare:8.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timing")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (best of)")
    args = parser.parse_args(argv)
    seconds, repeats = (0.2, 1) if args.quick else (args.seconds, args.repeats)
    print("agentsim debate_v0 throughput benchmark (scripted debaters vs rps_v2)")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(
        f"machine: {platform.platform()}, nproc {os.cpu_count()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"pettingzoo {pettingzoo.__version__}; best of {repeats} x {seconds:g} s, interleaved"
    )
    t0 = time.perf_counter()
    report(measure_all(seconds, repeats))
    print(f"\n({time.perf_counter() - t0:.0f} s total)")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--quick).
    """
    from _section import printed_section

    return printed_section("bench/debate_throughput.py", __doc__, main, quick)


if __name__ == "__main__":
    main()
