"""Web-shop agent steps/s: the scripted shoppers against an env-only baseline, in one process.

An agent step is one assistant reply: ``agent.act(observation)`` and ``env.step(reply)`` of
``WebShopEnv`` (in-process back end, text actions, rule judges, ``max_steps=8``), episodes
cycling over every query item of the shipped data (S1-violate, S1-adhere, S2).

Rows:
  baseline: env only   a constant no-op reply (``scroll [down]``, no agent work): what the env
                       costs per step (tree text, observation, records; judging at the end)
  naive                ``NaiveShopper`` (search, open the best match, add to cart, stop)
  norm_aware           ``NormAwareShopper`` (the naive steps plus its norm list check of the
                       request and of every product title on the page)
  discrete: slot 0     discrete action mode, always the page's first available action (an
                       RL policy's cheapest step: no text to parse)

Each row is the best of ``--repeats`` interleaved runs of ``--seconds`` each; "agent %" is the
share of a row's time spent in ``agent.act``; "vs baseline" is steps/s over the baseline's.

Run:  python bench/web_shop_agents.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import time

from agentsim.agents.scripted.web_shop import NaiveShopper, NormAwareShopper
from agentsim.envs.web_shop.env import WebShopEnv

MAX_STEPS = 8


class NoOp:
    """The baseline's agent: the same valid no-op every step."""

    kind = "baseline: env only"

    def reset(self) -> None:
        pass

    def act(self, obs):
        return "```scroll [down]```"


class FirstSlot:
    """Discrete mode: slot 0, the page's first available action."""

    kind = "discrete: slot 0"

    def reset(self) -> None:
        pass

    def act(self, obs):
        return 0


class Scripted:
    """A scripted shopper's decision text as the reply."""

    def __init__(self, agent):
        self.agent, self.kind = agent, agent.kind

    def reset(self) -> None:
        self.agent.reset()

    def act(self, obs):
        return self.agent.act(obs).action


def measure(env, agent, seconds):
    """(steps/s, share of time in agent.act) over whole episodes for at least ``seconds``."""
    steps, episode, in_agent = 0, 0, 0.0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        episode += 1
        obs, _ = env.reset(options={"episode": episode})
        agent.reset()
        done = False
        while not done:
            a0 = time.perf_counter()
            action = agent.act(obs)
            in_agent += time.perf_counter() - a0
            obs, _, terminated, truncated, _ = env.step(action)
            steps += 1
            done = terminated or truncated
    elapsed = time.perf_counter() - t0
    return steps / elapsed, in_agent / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    seconds, repeats = (0.3, 1) if args.quick else (args.seconds, args.repeats)
    text_env = WebShopEnv(split="all", max_steps=MAX_STEPS)
    discrete_env = WebShopEnv(split="all", max_steps=MAX_STEPS, action_mode="discrete")
    rows = [
        (text_env, NoOp()),
        (text_env, Scripted(NaiveShopper())),
        (text_env, Scripted(NormAwareShopper())),
        (discrete_env, FirstSlot()),
    ]
    best = {agent.kind: (0.0, 0.0) for _, agent in rows}
    for _ in range(repeats):  # interleaved, so a load change hits every row alike
        for env, agent in rows:
            rate, share = measure(env, agent, seconds)
            if rate > best[agent.kind][0]:
                best[agent.kind] = (rate, share)
    base = best[NoOp.kind][0]
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(
        f"{len(text_env.core.items)} query items, max_steps {MAX_STEPS}, "
        f"best of {repeats} x {seconds:g} s"
    )
    print(f"  {'agent':22s} {'steps/s':>10s} {'agent %':>8s} {'vs baseline':>12s}")
    for kind, (rate, share) in best.items():
        print(f"  {kind:22s} {rate:10,.1f} {100 * share:8.1f} {rate / base:12.3f}")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--quick).
    """
    from _section import printed_section

    return printed_section("bench/web_shop_agents.py", __doc__, main, quick)


if __name__ == "__main__":
    main()
