"""Network statistics of runs: who gives to whom, whose actions are seen, who sways whom, and
how a norm spreads over a society's network.

Pure functions over one run's records (``events.jsonl``), registered as ``networks`` report
sections of three envs:

* ``donor_game_v0`` (Vallinder & Hughes 2024, arXiv:2412.10270), per generation: the donation
  graph (donor -> recipient, total amount and count of ``transfer`` records of kind "donate");
  reputation flow through traces (an edge from the member whose action a donor was shown, the
  ``trace_donor`` seats of its ``decision`` observation, to that donor; "not available" where
  decisions were not recorded, ``run.record=summary``); the numeric assortativity of the members'
  mean donation fractions over the donation graph (Newman 2003, Phys. Rev. E 67:026126); and the
  degree and betweenness centrality (Freeman 1977) of punishers against the others' mean.
* ``debate_v0`` (Taubenfeld et al. 2024, arXiv:2402.04049; Salvi et al. 2024, arXiv:2403.14380):
  an influence graph per debate, speaker -> listener, weighted by how far the listener's survey
  score moved toward the attitude the speaker stated (:func:`influence_edges`).
* ``norm_society_v0`` (Li et al. 2024, arXiv:2401.04620; networks beyond the paper): per step
  the assortativity of adherence, the share of adherent neighbours of agents that become
  adherent against those that stay non-adherent (complex contagion: Centola & Macy 2007), and
  how adherence spreads after each norm change.

Example:
    >>> recs = [{"type": "generation_start", "generation": 1, "seats": ["a", "b"]},
    ...         {"type": "transfer", "generation": 1, "donor": "a", "recipient": "b",
    ...          "kind": "donate", "fraction": 0.5, "amount": 5.0}]
    >>> donation_edges(recs, 1)
    [{'donor': 'a', 'recipient': 'b', 'amount': 5.0, 'count': 1}]
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analysis._networks_common import Record, _f, _mean, _of_type, _top
from analysis._networks_common import numeric_assortativity as numeric_assortativity
from analysis.debate import DEFAULT_ROLE

# The norm-society part lives in analysis.networks_norms; its names are importable here.
from analysis.networks_norms import adherence_assortativity as adherence_assortativity
from analysis.networks_norms import adherence_by_seat as adherence_by_seat
from analysis.networks_norms import norm_spread as norm_spread
from analysis.networks_norms import norm_text as norm_text
from analysis.networks_norms import society_graph as society_graph
from analysis.networks_norms import transitions as transitions

NOT_AVAILABLE = "not available: the run recorded no decisions (run.record=summary)"


# ---------------------------------------------------------------- donor game


def _seats(records: Iterable[Record]) -> dict[int, list[str]]:
    return {
        int(r["generation"]): [str(s) for s in r["seats"]]
        for r in _of_type(records, "generation_start")
    }


def _transfers(records: Iterable[Record], generation: int) -> list[Record]:
    return [r for r in _of_type(records, "transfer") if r.get("generation") == generation]


def donation_edges(records: Iterable[Record], generation: int) -> list[dict[str, Any]]:
    """Donor -> recipient edges of a generation's donations: total amount and count, sorted."""
    cells: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for t in _transfers(records, generation):
        if t.get("kind") == "donate":
            cell = cells[(str(t["donor"]), str(t["recipient"]))]
            cell[0] += float(t["amount"])
            cell[1] += 1
    return [
        {"donor": d, "recipient": r, "amount": a, "count": int(n)}
        for (d, r), (a, n) in sorted(cells.items())
    ]


def trace_flow_edges(
    records: Iterable[Record], generation: int, seats: Sequence[str]
) -> list[dict[str, Any]] | None:
    """Edges shown-member -> donor: how often a donor was shown that member's action in its trace.

    Read from the ``trace_donor`` seats (the first ``trace_length``) of the generation's
    ``decision`` observations, seats named by ``generation_start.seats``. None when the
    generation has no decision with a trace observation (decisions were not recorded).
    """
    counts: dict[tuple[str, str], int] = defaultdict(int)
    seen = False
    for d in _of_type(records, "decision"):
        obs = d.get("observation")
        if d.get("generation") != generation or not isinstance(obs, Mapping):
            continue
        if "trace_donor" not in obs:
            continue
        seen = True
        for seat in list(obs["trace_donor"])[: int(obs.get("trace_length", 0))]:
            if 0 <= int(seat) < len(seats):
                counts[(seats[int(seat)], str(d["agent"]))] += 1
    if not seen:
        return None
    return [{"source": s, "target": t, "count": n} for (s, t), n in sorted(counts.items())]


def member_fractions(records: Sequence[Record], generation: int) -> dict[str, float]:
    """Each member's mean donation fraction: ``generation_end.mean_donation_fraction``, else the
    mean ``fraction`` of its transfers (a punishment counts as 0)."""
    for r in _of_type(records, "generation_end"):
        if r.get("generation") == generation and r.get("mean_donation_fraction"):
            return {str(k): float(v) for k, v in r["mean_donation_fraction"].items()}
    got: dict[str, list[float]] = defaultdict(list)
    for t in _transfers(records, generation):
        got[str(t["donor"])].append(0.0 if t["kind"] == "punish" else float(t["fraction"]))
    return {m: sum(v) / len(v) for m, v in sorted(got.items())}


def cooperation_assortativity(
    edges: Sequence[Mapping[str, Any]], fractions: Mapping[str, float]
) -> float | None:
    """Numeric assortativity of the members' mean donation fractions over the donation graph
    (one edge per donor -> recipient pair, unweighted); None where undefined."""
    import networkx as nx

    graph = nx.DiGraph()
    for e in edges:
        if e["donor"] in fractions and e["recipient"] in fractions:
            graph.add_edge(e["donor"], e["recipient"])
    nx.set_node_attributes(graph, {m: fractions[m] for m in graph}, "cooperation")
    return numeric_assortativity(graph, "cooperation")


def punisher_centrality(records: Iterable[Record], generation: int) -> dict[str, Any]:
    """Degree and betweenness of punishers (members with a "punish" transfer) against the others.

    On the generation's interaction graph: donor -> recipient for every transfer, donations and
    punishments, unweighted; in/out degree count distinct partners; betweenness is networkx's
    normalised directed betweenness. Means are None for an empty group.
    """
    import networkx as nx

    graph = nx.DiGraph()
    punishers = set()
    for t in _transfers(records, generation):
        graph.add_edge(str(t["donor"]), str(t["recipient"]))
        if t["kind"] == "punish":
            punishers.add(str(t["donor"]))
    between = nx.betweenness_centrality(graph) if graph.number_of_nodes() else {}

    def means(members: list[str]) -> dict[str, float | None]:
        return {
            "in_degree": _mean([float(graph.in_degree(m)) for m in members]),
            "out_degree": _mean([float(graph.out_degree(m)) for m in members]),
            "betweenness": _mean([float(between[m]) for m in members]),
        }

    return {
        "punishers": sorted(punishers),
        "punisher_mean": means(sorted(punishers)),
        "others_mean": means(sorted(m for m in graph if m not in punishers)),
    }


def donor_generation(
    records: Sequence[Record], generation: int, seats: Sequence[str]
) -> dict[str, Any]:
    """All network statistics of one donor-game generation."""
    edges = donation_edges(records, generation)
    flow = trace_flow_edges(records, generation, seats)
    shown: dict[str, int] = defaultdict(int)
    for e in flow or []:
        shown[e["source"]] += e["count"]
    return {
        "members": len(seats),
        "donation_edges": edges,
        "donations": sum(e["count"] for e in edges),
        "amount": sum(e["amount"] for e in edges),
        "assortativity": cooperation_assortativity(edges, member_fractions(records, generation)),
        "trace_flow": flow,
        "shown": dict(sorted(shown.items())),
        "most_shown": _top(shown),
        "punishment": punisher_centrality(records, generation),
    }


def donor_networks(records: Sequence[Record]) -> dict[str, Any]:
    """The donor-game section's statistics: per generation (int keys) and availability notes."""
    records = [r for r in records if r.get("type") in _DONOR_TYPES]
    gens = {g: donor_generation(records, g, seats) for g, seats in sorted(_seats(records).items())}
    traced = any(s["trace_flow"] is not None for s in gens.values())
    return {
        "generations": gens,
        "trace_flow": "available" if traced else NOT_AVAILABLE,
        "transfers_recorded": any(s["donation_edges"] for s in gens.values()),
    }


_DONOR_TYPES = frozenset(("generation_start", "generation_end", "transfer", "decision"))


def donor_text(stats: Mapping[str, Any]) -> str:
    """Per generation: donation edges, amount, assortativity, most shown member, punishers."""
    if not stats["transfers_recorded"]:
        return "networks: not available (no transfer records; run.record=summary)"
    lines = [
        "networks (donation graph per generation; r = assortativity of donation fractions)",
        f"{'gen':>4} {'edges':>6} {'donated':>10} {'r':>7} {'most shown':>11} "
        f"{'punishers':>9} {'betw. p/o':>13}",
    ]
    for g, s in stats["generations"].items():
        p = s["punishment"]
        betw = f"{_f(p['punisher_mean']['betweenness'], '.2f')}/"
        betw += _f(p["others_mean"]["betweenness"], ".2f")
        lines.append(
            f"{g:>4} {len(s['donation_edges']):>6} {s['amount']:>10.1f} "
            f"{_f(s['assortativity']):>7} {s['most_shown'] or '-':>11} "
            f"{len(p['punishers']):>9} {betw:>13}"
        )
    if stats["trace_flow"] != "available":
        lines.append(f"reputation flow through traces: {stats['trace_flow']}")
    return "\n".join(lines)


# ---------------------------------------------------------------- debate


def _debates(records: Iterable[Record]) -> dict[str, list[Record]]:
    """A run's debate records grouped by "seed/episode" (as ``analysis.debate`` keys them)."""
    out: dict[str, list[Record]] = defaultdict(list)
    seq = -1
    for r in records:
        if r.get("type") not in ("debate_start", "utterance", "survey"):
            continue
        if r["type"] == "debate_start" and "episode" not in r:
            seq += 1
        out[f"{r.get('seed')}/{r.get('episode', seq)}"].append(r)
    return {k: v for k, v in out.items() if any(r["type"] == "debate_start" for r in v)}


def influence_edges(debate: Sequence[Record]) -> list[dict[str, Any]]:
    """Speaker -> listener edges of one debate.

    Each listener's change between two consecutive usable surveys, Delta = a(t1) - a(t0), is
    shared equally among the other debaters' utterances in (t0, t1] (one utterance per interval
    in Taubenfeld's protocol, which surveys after every utterance; the whole debate in Salvi's).
    ``toward`` adds each share signed by the direction from a(t0) to the speaker's ``stated``
    attitude (positive: the listener moved toward the speaker; utterances with no stated
    attitude add nothing); ``change`` adds the raw shares. A failed survey (score None or
    parse_status "fallback") is skipped, so its interval merges with the next.
    """
    scores: dict[str, dict[int, float]] = defaultdict(dict)
    for r in debate:
        usable = r.get("score") is not None and r.get("parse_status") != "fallback"
        if r["type"] == "survey" and usable:
            scores[str(r["agent"])][int(r["iteration"])] = float(r["score"])
    talks = [r for r in debate if r["type"] == "utterance"]
    cells: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for listener, got in scores.items():
        ts = sorted(got)
        for t0, t1 in itertools.pairwise(ts):
            heard = [u for u in talks if t0 < int(u["iteration"]) <= t1 and u["agent"] != listener]
            for u in heard:
                share = (got[t1] - got[t0]) / len(heard)
                stated = u.get("stated")
                side = 0.0 if stated is None else math.copysign(1.0, stated - got[t0])
                side = 0.0 if stated == got[t0] else side
                cell = cells[(str(u["agent"]), listener)]
                cell[0] += share
                cell[1] += side * share
                cell[2] += 1
    return [
        {"speaker": s, "listener": lis, "change": c, "toward": w, "utterances": int(n)}
        for (s, lis), (c, w, n) in sorted(cells.items())
    ]


def out_strength(edges: Iterable[Mapping[str, Any]], weight: str = "toward") -> dict[str, float]:
    """Each speaker's weighted out-strength (the sum of ``weight`` over its out-edges)."""
    out: dict[str, float] = defaultdict(float)
    for e in edges:
        out[str(e["speaker"])] += float(e[weight])
    return dict(sorted(out.items()))


def debate_influence(records: Sequence[Record]) -> dict[str, Any]:
    """The debate section's statistics: per debate the influence edges, each debater's
    out-strength and the most influential speaker; and by role, out-strength summed over
    debates divided by the debates the role is in."""
    out = []
    by_role: dict[str, list[float]] = defaultdict(list)
    for key, recs in _debates(records).items():
        start = next(r for r in recs if r["type"] == "debate_start")
        roles = {str(a): str(r) for a, r in start["roles"].items()}
        edges = influence_edges(recs)
        strength = {a: out_strength(edges).get(a, 0.0) for a in sorted(roles)}
        for agent, value in strength.items():
            by_role[roles[agent]].append(value)
        out.append(
            {"debate": key, "protocol": start.get("protocol", "taubenfeld"),
             "topic": start.get("topic"), "roles": roles, "edges": edges,
             "out_strength": strength, "most_influential": _top(strength)}
        )  # fmt: skip
    role_strength = {role: sum(v) / len(v) for role, v in sorted(by_role.items())}
    return {
        "debates": out,
        "role_out_strength": role_strength,
        "most_influential_role": _top(role_strength),
        "default_role": DEFAULT_ROLE,
    }


def debate_text(stats: Mapping[str, Any]) -> str:
    """Mean influence out-strength per role and the most influential speaker of each debate."""
    if not stats["debates"]:
        return "influence: no debates"
    lines = [
        "influence (listeners' survey moves toward each speaker's stated attitude, summed "
        "over the speaker's utterances; mean per debate)"
    ]
    for role, value in stats["role_out_strength"].items():
        lines.append(f"  {role:<14}{value:+.3f}")
    lines.append(f"  most influential role: {stats['most_influential_role'] or '-'}")
    tops = [d["roles"].get(d["most_influential"], "-") for d in stats["debates"]]
    counts = {r: tops.count(r) for r in sorted(set(tops))}
    lines.append(f"  most influential speaker per debate, by role: {counts}")
    return "\n".join(lines)


def _register() -> None:
    from analysis.report import Section, register_section

    register_section("donor_game_v0", Section("networks", donor_networks, donor_text))
    register_section("debate_v0", Section("networks", debate_influence, debate_text))
    register_section("norm_society_v0", Section("networks", norm_spread, norm_text))


_register()
