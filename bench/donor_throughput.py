"""Donor-game throughput, measured against PettingZoo's own rps_v2 in the same process.

Measures:
  1. PettingZoo API: env steps/s and agent-decisions/s of donor_game_v0 (12 agents,
     default config) vs ``pettingzoo.classic.rps_v2.parallel_env`` (2 agents), both
     driven by a loop that only builds action dicts (no policy cost).
  2. Vectorised rules path: the whole population per round as arrays
     (``agentsim.games.donor.play_games`` + scripted strategies' ``decide_batch``), against
     a frozen copy of the path before issue 6 item 16 (rules and strategies' batch rules),
     and the new rules with the old strategies' batch rules, interleaved in this process,
     with a bit-for-bit check that all three give the same final resources.
  3. End to end: a 1,000-agent scripted population for 100 generations through
     ``agentsim run`` machinery (records at the ``summary`` level).

Run:  python bench/donor_throughput.py [--quick] [--only api|rules|end-to-end]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time

import numpy as np

from agentsim.agents.scripted.donor import ImageScoring, Standing, TraceAverage, TraceBatch
from agentsim.envs.registry import make_env
from agentsim.games import donor
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir


def _best_of(fn, repeats=3):
    return max(fn() for _ in range(repeats))


def pettingzoo_steps_per_s(env, actions, seconds):
    """Steps/s of a ParallelEnv driven with fixed actions, resetting at episode end."""
    env.reset(seed=0)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            if not env.agents:
                env.reset()
            env.step({a: actions[a] for a in env.agents})
        steps += 100
    return steps / (time.perf_counter() - t0)


def api_comparison(seconds):
    from pettingzoo.classic import rps_v2

    rps = rps_v2.parallel_env()
    donor_env = make_env("donor_game_v0")
    rps_actions = dict.fromkeys(rps.possible_agents, 1)
    donor_actions = {a: np.array([0.5], dtype=np.float32) for a in donor_env.possible_agents}
    rps_sps = _best_of(lambda: pettingzoo_steps_per_s(rps, rps_actions, seconds))
    donor_sps = _best_of(lambda: pettingzoo_steps_per_s(donor_env, donor_actions, seconds))
    return {
        "rps_v2 steps/s": rps_sps,
        "rps_v2 agent-decisions/s (2 per step)": 2 * rps_sps,
        "donor_game_v0 steps/s": donor_sps,
        "donor_game_v0 agent-actions/s (12 per step)": 12 * donor_sps,
        "donor_game_v0 donor-decisions/s (6 per step)": 6 * donor_sps,
        "ratio actions/s vs rps_v2": 12 * donor_sps / (2 * rps_sps),
        "ratio donor-decisions/s vs rps_v2": 6 * donor_sps / (2 * rps_sps),
    }


# -- [2] the vectorised rules path ------------------------------------------------------
#
# The "before" path is a frozen copy of the rules as they were before the per-round fixed
# cost was removed (2026-11-26): every donor's whole chain copied each round, one game at
# a time, strategies fed through fancy-index gathers per kind. It is the same-process
# baseline; `identical_results` checks both paths give the same final resources bit for bit.


def _before_new_state(cfg):
    chain = np.empty((cfg.agents, cfg.trace_depth, 4))
    chain[...] = (-1.0, -1.0, -1.0, 0.0)
    resources = np.full(cfg.agents, float(cfg.endowment))
    return resources, np.zeros(cfg.agents, dtype=np.int64), chain, np.full(cfg.agents, np.nan)


def _before_resolve_round(cfg, state, donors, recipients, actions, round_index):
    resources, chain_len, chain, last_fraction = state
    low = -1.0 if cfg.punishment == "costly" else 0.0
    signed = np.clip(np.asarray(actions, dtype=np.float64), low, 1.0)
    punish = signed < 0
    fraction = np.abs(signed)
    donor_before = resources[donors]
    recipient_before = resources[recipients]
    amount = fraction * donor_before
    resources[donors] = donor_before - amount
    if punish.any():
        gain = np.where(punish, 0.0, cfg.multiplier * amount)
        loss = np.where(punish, np.minimum(recipient_before, cfg.punishment_loss * amount), 0.0)
        resources[recipients] = recipient_before + gain - loss
    else:
        resources[recipients] = recipient_before + cfg.multiplier * amount
    d = cfg.trace_depth
    shown = np.where(chain_len[recipients] > 0, chain[recipients, 0, 3], np.nan)
    new = np.empty((len(donors), d, 4))
    new[:, 0, 0] = round_index
    new[:, 0, 1] = donors
    new[:, 0, 2] = recipients
    new[:, 0, 3] = signed
    new[:, 1:] = chain[recipients, : d - 1]
    chain[donors] = new
    chain_len[donors] = np.minimum(chain_len[recipients] + 1, d)
    last_fraction[donors] = signed
    return (donors, recipients, punish, fraction, amount, donor_before, recipient_before, shown)


STRATEGIES = (TraceAverage(), ImageScoring(), Standing())


# Frozen copies of the strategies' batch rules before issue 6 item 16: the validity mask and
# decay**k rebuilt on every call, standing walked entry by entry.


def _before_valid(batch):
    return np.arange(batch.fraction.shape[1])[None, :] < batch.length[:, None]


def _before_trace_average(s, batch):
    depth = batch.fraction.shape[1]
    weights = s.decay ** np.arange(depth) * _before_valid(batch)
    total = weights.sum(axis=1)
    shown = np.clip(batch.fraction, 0.0, 1.0)
    mean = (weights * shown).sum(axis=1) / np.where(total > 0, total, 1.0)
    low, high = min(s.floor, s.cap), max(s.floor, s.cap)
    return np.where(total > 0, np.clip(mean + s.bonus, low, high), s.initial)


def _before_image_scoring(s, batch, good=None):
    good = batch.fraction[:, 0] >= s.threshold if good is None else good
    out = np.where(good, s.generosity, -s.punish)
    return np.where(batch.length > 0, out, s.initial)


def _before_standing(s, batch):
    valid = _before_valid(batch)
    next_good = np.ones(len(batch.length), dtype=bool)
    for k in range(batch.fraction.shape[1] - 1, -1, -1):
        good_k = (batch.fraction[:, k] >= s.threshold) | ~next_good
        next_good = np.where(valid[:, k], good_k, True)
    return _before_image_scoring(s, batch, next_good)


BEFORE_DECIDE = (_before_trace_average, _before_image_scoring, _before_standing)
NOW_DECIDE = tuple(type(s).decide_batch for s in STRATEGIES)


def _kinds(n_agents):
    return np.arange(n_agents) % len(STRATEGIES)


def before_groups(cfg):
    """Per game and round: pairs, and each strategy's donor indices and their recipients.

    Done once, outside the timed loop, as the old benchmark did.
    """
    kind = _kinds(cfg.agents)
    out = []
    for game in range(cfg.games):
        for r in range(cfg.rounds):
            d, rc = donor.round_pairs(cfg, game, r)
            groups = [(np.flatnonzero(kind[d] == k), rc[kind[d] == k]) for k in range(3)]
            out.append((game, r, d, rc, groups))
    return out


def before_generation(cfg, schedule):
    """One generation on the old path; returns the (games, agents) final resources."""
    finals = []
    for _game, r, donors, recipients, groups in schedule:
        if r == 0:
            state = _before_new_state(cfg)
        actions = np.empty(len(donors))
        for strategy, decide, (where, theirs) in zip(
            STRATEGIES, BEFORE_DECIDE, groups, strict=True
        ):
            batch = TraceBatch(state[1][theirs], state[2][theirs, :, 3])
            actions[where] = decide(strategy, batch)
        _before_resolve_round(cfg, state, donors, recipients, actions, r)
        if r == cfg.rounds - 1:
            finals.append(state[0])
    return np.array(finals)


def grouped_plans(cfg):
    """Every round of all games side by side, pairs sorted by the donor's strategy.

    Kinds are fixed within a generation and the schedule is static, so this is done
    once per generation: each strategy then decides on a contiguous slice (no gathers).
    """
    kind = _kinds(cfg.agents)
    plans, groups = [], []
    for r in range(cfg.rounds):
        plan = donor.plan_round(cfg, r, cfg.games)
        donor_kind = kind[plan.labels[:, 1].astype(np.int64)]
        order = np.argsort(donor_kind, kind="stable")
        bounds = np.searchsorted(donor_kind[order], np.arange(len(STRATEGIES) + 1))
        plans.append(plan.take(order))
        bounds = bounds.tolist()  # plain ints: slicing with numpy integers is slower
        groups.append([slice(bounds[k], bounds[k + 1]) for k in range(len(STRATEGIES))])
    return plans, groups


def now_generation(cfg, plans, groups, decide=NOW_DECIDE):
    """One generation on the current rules; returns the (games, agents) final resources.

    ``decide``: the strategies' batch rules (default: today's; ``BEFORE_DECIDE``: the old).
    """

    def policy(plan, lengths, fractions):
        return np.concatenate(
            [
                rule(strategy, TraceBatch(lengths[where], fractions[where]))
                for strategy, rule, where in zip(
                    STRATEGIES, decide, groups[plan.round_index], strict=True
                )
            ]
        )

    state = donor.play_games(cfg, policy, plans)
    return state.resources.reshape(cfg.games, cfg.agents)


def identical_results(n_agents):
    cfg = donor.DonorGameConfig(agents=n_agents)
    before = before_generation(cfg, before_groups(cfg))
    plans, groups = grouped_plans(cfg)
    rules_only = now_generation(cfg, plans, groups, BEFORE_DECIDE)
    now = now_generation(cfg, plans, groups)
    return before.tobytes() == rules_only.tobytes() == now.tobytes()


def _decisions_per_s(play, cfg, seconds):
    decisions, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        play()
        decisions += cfg.games * cfg.rounds * cfg.agents // 2
    return decisions / (time.perf_counter() - t0)


def vectorised_comparison(n_agents, seconds, repeats=3):
    """Best-of-``repeats`` donor decisions/s: before, new rules + old strategies, now.

    The three paths are interleaved in this process, so load changes hit them alike.
    """
    cfg = donor.DonorGameConfig(agents=n_agents)
    plans, groups = grouped_plans(cfg)
    schedule = before_groups(cfg)
    paths = (
        lambda: before_generation(cfg, schedule),
        lambda: now_generation(cfg, plans, groups, BEFORE_DECIDE),
        lambda: now_generation(cfg, plans, groups),
    )
    best = [0.0] * len(paths)
    for _ in range(repeats):
        for i, play in enumerate(paths):
            best[i] = max(best[i], _decisions_per_s(play, cfg, seconds))
    return tuple(best)


def end_to_end(n_agents, generations):
    pop = f"trace_average:{n_agents // 2},image_scoring:{n_agents // 4},defector:{n_agents // 4}"
    config = make_config(
        "donor-game",
        0,
        [f"agents={n_agents}", f"generations={generations}", f"population={pop}", "record=summary"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir.create(tmp, "bench", config.to_json())
        t0 = time.perf_counter()
        summary = asyncio.run(run_experiment(run, config))
        elapsed = time.perf_counter() - t0
    decisions = generations * 2 * 12 * n_agents // 2
    return {
        "agents": n_agents,
        "generations": generations,
        "seconds": elapsed,
        "donor-decisions/s": decisions / elapsed,
        "final mean resources": summary["final_mean_resources"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    parser.add_argument(
        "--only", choices=("api", "rules", "end-to-end"), help="run one section (default: all)"
    )
    args = parser.parse_args(argv)
    seconds = 0.3 if args.quick else 2.0
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    if args.only in (None, "api"):
        api_section(seconds)
    if args.only in (None, "rules"):
        rules_section(seconds)
    if args.only in (None, "end-to-end"):
        end_to_end_section(10 if args.quick else 100)


def api_section(seconds):
    print("\n[1] PettingZoo API, 12 agents, default config vs rps_v2")
    for k, v in api_comparison(seconds).items():
        print(f"  {k:48s} {v:14,.2f}")


def rules_section(seconds):
    print("\n[2] vectorised rules path (whole population per round), donor-decisions/s")
    print("  before: rules and strategies before issue 6 item 16; rules only: new rules, old")
    print("  strategies' batch rules; now: both new. Ratios are against before.")
    header = f"  {'agents':>7}  {'before':>12}  {'rules only':>12}  {'now':>12}"
    print(f"{header}  {'rules/before':>12}  {'now/before':>10}  bit-identical")
    for n in (1_000, 10_000, 100_000):
        before, rules_only, now = vectorised_comparison(n, seconds)
        print(
            f"  {n:>7,}  {before:12,.0f}  {rules_only:12,.0f}  {now:12,.0f}"
            f"  {rules_only / before:12.2f}  {now / before:10.2f}  {identical_results(n)}"
        )


def end_to_end_section(gens):
    print("\n[3] end to end, scripted population through run_experiment (record=summary)")
    for k, v in end_to_end(1_000, gens).items():
        print(f"  {k:48s} {v:14,.2f}" if isinstance(v, float) else f"  {k:48s} {v:>14}")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--quick).
    """
    from _section import printed_section

    return printed_section("bench/donor_throughput.py", __doc__, main, quick)


if __name__ == "__main__":
    main()
