"""The PettingZoo API cost of every registered env, against rps_v2 and the API's own floor.

Measures, all in one process, interleaved, best of ``repeats`` timings:

  1. Parallel API: env steps/s and agent-decisions/s (an agent-decision = one live agent's
     action handed to ``step``) of every env of ``agentsim.list_envs()``: parallel envs
     directly (``env.step({agent: action ...})``), AEC envs through their AEC API
     (``agent_iter``/``last``/``step``, one decision per live turn), driven with fixed
     actions (one seeded ``action_space.sample()`` per agent: no policy cost), against
     (a) ``pettingzoo.classic.rps_v2.parallel_env()`` driven by the same loop and
     (b) the floor: :class:`NullParallelEnv` with the env's agents and spaces, whose
     ``reset``/``step`` only return prebuilt constant dicts - what the dict API itself costs.
  2. PettingZoo's own ``pettingzoo.test.performance_benchmark`` (turns/s of
     ``agent_iter``/``last``/``action_space(agent).sample()``/``step`` over 5 s) on every
     env's AEC view: for parallel envs both ``pettingzoo.utils.parallel_to_aec`` and
     agentsim's native view (``agentsim.envs.aec.aec_env``), against ``rps_v2.env()``.
     The full run calls PettingZoo's function and parses the turns/s it prints; the quick
     run uses an exact copy of its loop with a 0.5 s budget instead of 5 s.

Run:  python bench/api_floor.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import re
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from pettingzoo import AECEnv, ParallelEnv

import agentsim

TITLE = "## PettingZoo API floor (`bench/api_floor.py`)"


class NullParallelEnv(ParallelEnv):  # type: ignore[misc]
    """A ParallelEnv that does nothing: ``step`` returns dicts of constants.

    It has the agents and spaces of the env it stands in for and never ends. Its ``step``
    builds the five dicts the API returns, fresh every step (callers may keep or change
    them; PettingZoo's wrappers do), holding one constant observation, reward 0, False
    flags and an empty info dict per agent: what the parallel API itself costs (the floor
    any env sits on). :class:`PrebuiltNullEnv` returns the same dict objects every step.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "null_parallel_v0",
        "render_modes": [],
        "is_parallelizable": True,
    }

    def __init__(self, like: Any) -> None:
        self.possible_agents = list(like.possible_agents)
        self.agents: list[str] = []
        self._obs_spaces = {a: like.observation_space(a) for a in self.possible_agents}
        self._act_spaces = {a: like.action_space(a) for a in self.possible_agents}
        self.render_mode = None
        space = self._obs_spaces[self.possible_agents[0]]
        space.seed(0)
        constant = space.sample()
        self._obs = dict.fromkeys(self.possible_agents, constant)
        self._rewards = dict.fromkeys(self.possible_agents, 0.0)
        self._flags = dict.fromkeys(self.possible_agents, False)
        self._infos: dict[str, dict[str, Any]] = {a: {} for a in self.possible_agents}

    def observation_space(self, agent: str) -> Any:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> Any:
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        self.agents = list(self.possible_agents)
        return self._obs, self._infos

    def step(self, actions: dict[str, Any]) -> Any:
        agents = self.agents
        constant = self._obs[agents[0]]
        return (
            dict.fromkeys(agents, constant),
            dict.fromkeys(agents, 0.0),
            dict.fromkeys(agents, False),
            dict.fromkeys(agents, False),
            {a: {} for a in agents},
        )


class PrebuiltNullEnv(NullParallelEnv):
    """The floor without even building dicts: ``step`` returns the same dicts every time."""

    def step(self, actions: dict[str, Any]) -> Any:
        return self._obs, self._rewards, self._flags, self._flags, self._infos


def fixed_actions(env: Any) -> dict[str, Any]:
    """One seeded sample of every agent's action space (the loops' constant actions)."""
    out = {}
    for i, agent in enumerate(env.possible_agents):
        space = env.action_space(agent)
        space.seed(i)
        out[agent] = space.sample()
    return out


def parallel_rate(env: Any, actions: dict[str, Any], seconds: float) -> tuple[float, float]:
    """(steps/s, agent-decisions/s) of a ParallelEnv driven with fixed actions."""
    env.reset(seed=0)
    steps = decisions = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            if not env.agents:
                env.reset()
            acts = {a: actions[a] for a in env.agents}
            env.step(acts)
            decisions += len(acts)
        steps += 100
    elapsed = time.perf_counter() - t0
    return steps / elapsed, decisions / elapsed


def aec_rate(env: Any, actions: dict[str, Any], seconds: float) -> tuple[float, float]:
    """(turns/s, agent-decisions/s) of an AECEnv driven with fixed actions (live turns)."""
    env.reset(seed=0)
    turns = decisions = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            if not env.agents:
                env.reset()
            agent = env.agent_selection
            _, _, term, trunc, _ = env.last()
            if term or trunc:
                env.step(None)
            else:
                env.step(actions[agent])
                decisions += 1
        turns += 100
    elapsed = time.perf_counter() - t0
    return turns / elapsed, decisions / elapsed


def _rate(env: Any, actions: dict[str, Any], seconds: float) -> tuple[float, float]:
    if isinstance(env, AECEnv):
        return aec_rate(env, actions, seconds)
    return parallel_rate(env, actions, seconds)


def api_rows(seconds: float, repeats: int) -> list[dict[str, Any]]:
    """Section 1: one row per env, plus rps_v2's rates; best of ``repeats`` interleaved."""
    from pettingzoo.classic import rps_v2

    rps = rps_v2.parallel_env()
    rps_actions = dict.fromkeys(rps.possible_agents, 1)
    cases = []
    for env_id in agentsim.list_envs():
        env = agentsim.make_env(env_id)
        cases.append((env_id, env, fixed_actions(env), NullParallelEnv(env), PrebuiltNullEnv(env)))
    best: dict[str, tuple[float, float]] = {}

    def keep(key: str, rate: tuple[float, float]) -> None:
        if key not in best or rate[1] > best[key][1]:
            best[key] = rate

    for _ in range(repeats):
        keep("rps_v2", parallel_rate(rps, rps_actions, seconds))
        for env_id, env, actions, null, prebuilt in cases:
            keep(f"floor:{env_id}", parallel_rate(null, actions, seconds))
            keep(f"prebuilt:{env_id}", parallel_rate(prebuilt, actions, seconds))
            keep(env_id, _rate(env, actions, seconds))
    rows = []
    for env_id, env, *_ in cases:
        sps, dps = best[env_id]
        rows.append(
            {
                "env": env_id,
                "api": "AEC" if isinstance(env, AECEnv) else "parallel",
                "agents": len(env.possible_agents),
                "steps/s": sps,
                "decisions/s": dps,
                "floor decisions/s": best[f"floor:{env_id}"][1],
                "prebuilt decisions/s": best[f"prebuilt:{env_id}"][1],
                "rps_v2 steps/s": best["rps_v2"][0],
                "rps_v2 decisions/s": best["rps_v2"][1],
            }
        )
    return rows


# -- [2] pettingzoo.test.performance_benchmark -----------------------------------------


def replica_benchmark(env: Any, budget: float) -> float:
    """PettingZoo 1.27's ``performance_benchmark`` loop, line for line, with a time budget.

    Only the 5 s budget is a parameter and nothing is printed; returns turns/s.
    """
    cycles = 0
    turn = 0
    env.reset()
    start = time.time()
    end = 0.0
    while True:
        cycles += 1
        for agent in env.agent_iter(env.num_agents):
            obs, _reward, termination, truncation, _info = env.last()
            if termination or truncation:
                action = None
            elif isinstance(obs, dict) and "action_mask" in obs:
                action = random.choice(np.flatnonzero(obs["action_mask"]).tolist())
            else:
                action = env.action_space(agent).sample()
            env.step(action)
            turn += 1
            if all(env.terminations.values()) or all(env.truncations.values()):
                env.reset()
        if time.time() - start > budget:
            end = time.time()
            break
    return turn / (end - start)


def pettingzoo_benchmark(env: Any) -> float:
    """Turns/s from PettingZoo's own ``performance_benchmark`` (its printed figure)."""
    from pettingzoo.test import performance_benchmark

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        performance_benchmark(env)
    match = re.search(r"([0-9.eE+-]+) turns per second", buffer.getvalue())
    if match is None:
        raise RuntimeError(f"performance_benchmark printed no turns/s: {buffer.getvalue()!r}")
    return float(match.group(1))


def aec_views() -> list[tuple[str, Callable[[], Any]]]:
    """(label, factory) of every env's AEC view(s), rps_v2.env() first."""
    from pettingzoo.classic import rps_v2
    from pettingzoo.utils.conversions import parallel_to_aec

    views: list[tuple[str, Callable[[], Any]]] = [("rps_v2 (`rps_v2.env()`)", rps_v2.env)]
    native = _native_aec()
    for env_id in agentsim.list_envs():
        probe = agentsim.make_env(env_id)
        if isinstance(probe, ParallelEnv):
            views.append(
                (
                    f"{env_id} via `parallel_to_aec`",
                    lambda e=env_id: parallel_to_aec(agentsim.make_env(e)),
                )
            )
            if native is not None:
                views.append(
                    (
                        f"{env_id} native (`make_env(..., api='aec')`)",
                        lambda e=env_id, n=native: n(agentsim.make_env(e)),
                    )
                )
        else:
            views.append((f"{env_id} (AECEnv)", lambda e=env_id: agentsim.make_env(e)))
    return views


def _native_aec() -> Callable[[Any], Any] | None:
    try:
        from agentsim.envs.aec import aec_env
    except ImportError:
        return None
    return aec_env


def benchmark_rows(quick: bool, repeats: int) -> dict[str, float]:
    """Section 2: best turns/s of every AEC view, the views interleaved per repeat."""
    views = aec_views()
    best: dict[str, float] = {}
    for _ in range(repeats):
        for label, make in views:
            env = make()
            rate = replica_benchmark(env, 0.5) if quick else pettingzoo_benchmark(env)
            best[label] = max(rate, best.get(label, 0.0))
    return best


# -- report ------------------------------------------------------------------------------


def _api_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| env | API | agents | steps/s | decisions/s | floor decisions/s | "
        "**vs floor** (decisions) | vs prebuilt-dict floor | vs rps_v2 (decisions) | "
        "vs rps_v2 (steps) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['env']}` | {r['api']} | {r['agents']} | {r['steps/s']:,.0f} | "
            f"{r['decisions/s']:,.0f} | {r['floor decisions/s']:,.0f} | "
            f"**{100 * r['decisions/s'] / r['floor decisions/s']:.1f}%** | "
            f"{100 * r['decisions/s'] / r['prebuilt decisions/s']:.2f}% | "
            f"{r['decisions/s'] / r['rps_v2 decisions/s']:.2f}x | "
            f"{r['steps/s'] / r['rps_v2 steps/s']:.2f}x |"
        )
    rps = rows[0]
    lines.append(
        f"\nrps_v2 (2 agents, same loop): {rps['rps_v2 steps/s']:,.0f} steps/s, "
        f"{rps['rps_v2 decisions/s']:,.0f} decisions/s."
    )
    return lines


def _benchmark_table(best: dict[str, float]) -> list[str]:
    base = next(iter(best.values()))
    lines = ["| AEC view | turns/s | **vs rps_v2** |", "|---|---:|---:|"]
    for label, rate in best.items():
        lines.append(f"| {label} | {rate:,.0f} | **{rate / base:.2f}x** |")
    return lines


def run(quick: bool = False) -> str:
    """Both sections as one markdown section (``quick``: short timings)."""
    seconds, repeats = (0.2, 1) if quick else (1.0, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = api_rows(seconds, repeats)
        best = benchmark_rows(quick, 1 if quick else 2)
    how = (
        "an exact copy of its loop with a 0.5 s budget (quick run)"
        if quick
        else "PettingZoo's function itself (5 s each; its printed turns/s)"
    )
    lines = [
        TITLE,
        "",
        f"Parallel API, fixed actions, best of {repeats} x {seconds:g} s, interleaved. "
        "Floor: `NullParallelEnv` with the env's agents and spaces, whose `step` returns "
        "dicts of constants built fresh each step (the five dicts the API hands back); the "
        "prebuilt-dict floor returns the same dict objects every step (no work at all). "
        "AEC envs go through `agent_iter`/`last`/`step` (one decision per live turn).",
        "",
        *_api_table(rows),
        "",
        f"`pettingzoo.test.performance_benchmark` on every env's AEC view ({how}; best of "
        f"{1 if quick else 2}, views interleaved; it samples every action from the action "
        "space, so the cost of `action_space(agent).sample()` is part of each figure):",
        "",
        *_benchmark_table(best),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    args = parser.parse_args(argv)
    sys.stdout.write(run(quick=args.quick))


if __name__ == "__main__":
    main()
