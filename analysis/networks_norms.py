"""Network statistics of norm-society runs (``norm_society_v0``), for :mod:`analysis.networks`.

Li et al. 2024, arXiv:2401.04620 (networks beyond the paper): per step the assortativity of
adherence (Newman 2003, Phys. Rev. E 67:026126), the share of adherent neighbours of agents that
become adherent against those that stay non-adherent (complex contagion: Centola & Macy 2007),
and how adherence spreads after each norm change. Every name here is also importable from
:mod:`analysis.networks`.

Example:
    >>> graph = society_graph({"type": "network", "nodes": 3, "edges": [[0, 1], [1, 2]]})
    >>> sorted(graph.edges())
    [(0, 1), (1, 2)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analysis._networks_common import Record, _f, _mean, _of_type, numeric_assortativity
from analysis.norms_judges import ADHERES_AT, generation_of, judge_scores

if TYPE_CHECKING:
    import networkx as nx


def society_graph(network: Record) -> nx.Graph:
    """The society's graph from its ``network`` record: node i is seat i."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(int(network["nodes"])))
    graph.add_edges_from((int(u), int(v)) for u, v in network["edges"])
    return graph


def adherence_by_seat(
    records: Sequence[Record], judge: str | None = None
) -> dict[int, dict[int, tuple[str, bool]]]:
    """Per step, seat -> (member, adheres), adherence being a judge score >= 5 (the observer's
    "adheres"); seats without a usable score are absent."""
    seats = {generation_of(r): r["seats"] for r in _of_type(records, "generation_start")}
    out: dict[int, dict[int, tuple[str, bool]]] = {}
    for g, scores in judge_scores(records, judge).items():
        names = seats.get(g) or [f"agent_{i}" for i in range(len(scores))]
        out[g] = {
            i: (str(m), scores[str(m)] >= ADHERES_AT)
            for i, m in enumerate(names)
            if str(m) in scores
        }
    return out


def adherence_assortativity(graph: nx.Graph, adheres: Mapping[int, bool]) -> float | None:
    """Numeric assortativity of adherence (1/0) over the graph's edges among scored seats."""
    sub = graph.subgraph(adheres).copy()
    for node in sub:
        sub.nodes[node]["adheres"] = int(adheres[node])
    return numeric_assortativity(sub, "adheres")


def _neighbour_share(graph: nx.Graph, seat: int, adheres: Mapping[int, bool]) -> float | None:
    known = [adheres[v] for v in graph.neighbors(seat) if v in adheres and v != seat]
    return sum(known) / len(known) if known else None


def transitions(
    graph: nx.Graph, before: Mapping[int, tuple[str, bool]], after: Mapping[int, tuple[str, bool]]
) -> dict[str, Any]:
    """Members non-adherent in ``before`` and present in ``after``: how many became adherent and
    the mean share of adherent neighbours (on their seat in ``before``) of adopters and stayers."""
    now = {m: a for m, a in after.values()}
    was = {s: a for s, (_, a) in before.items()}
    adopters: list[float | None] = []
    stayers: list[float | None] = []
    for seat, (member, adhered) in before.items():
        if not adhered and member in now:
            (adopters if now[member] else stayers).append(_neighbour_share(graph, seat, was))
    return {
        "adopters": len(adopters),
        "stayers": len(stayers),
        "adopter_neighbour_share": _mean([x for x in adopters if x is not None]),
        "stayer_neighbour_share": _mean([x for x in stayers if x is not None]),
    }


def norm_spread(records: Sequence[Record], judge: str | None = None) -> dict[str, Any]:
    """The norm-society section's statistics: per step (int keys) adherence, its assortativity
    and the adopters' and stayers' adherent-neighbour shares; per norm change the steps of its
    era. ``available`` is False (with a reason) without a network record or judgements."""
    net = next(iter(_of_type(records, "network")), None)
    seats = adherence_by_seat(records, judge) if net is not None else {}
    if net is None or not seats:
        why = "no network record" if net is None else "no judgement records (run.record=summary)"
        return {"available": False, "reason": f"not available: {why}", "steps": {}, "changes": []}
    graph = society_graph(net)
    steps: dict[int, dict[str, Any]] = {}
    for g, now in seats.items():
        row: dict[str, Any] = {
            "adherence": sum(a for _, a in now.values()) / len(now),
            "assortativity": adherence_assortativity(graph, {s: a for s, (_, a) in now.items()}),
        }
        prev = seats.get(g - 1)
        row.update(transitions(graph, prev, now) if prev is not None else {})
        steps[g] = row
    return {"available": True, "steps": steps, "changes": _changes(records, steps)}


def _changes(
    records: Sequence[Record], steps: Mapping[int, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    starts = sorted(g for r in _of_type(records, "norms") if (g := generation_of(r)) is not None)
    eras = {generation_of(r): r.get("era") for r in _of_type(records, "norms")}
    out = []
    for i, g0 in enumerate(starts[1:], start=1):
        end = starts[i + 1] if i + 1 < len(starts) else max(steps, default=g0) + 1
        rows = [{"t": g - g0, "generation": g, **steps[g]} for g in range(g0, end) if g in steps]
        t50 = next((r["t"] for r in rows if r["adherence"] >= 0.5), None)
        out.append({"generation": g0, "era": eras.get(g0), "steps": rows, "t50": t50})
    return out


def norm_text(stats: Mapping[str, Any]) -> str:
    """Adherence spread per norm change and the pooled adopter / stayer neighbour shares."""
    if not stats["available"]:
        return f"norm spread on the network: {stats['reason']}"
    rows = list(stats["steps"].values())
    adopt = [v for r in rows if (v := r.get("adopter_neighbour_share")) is not None]
    stay = [v for r in rows if (v := r.get("stayer_neighbour_share")) is not None]
    lines = [
        "norm spread on the network (adheres: score >= 5)",
        f"  adherent-neighbour share, mean over steps: adopters {_f(_mean(adopt))}, "
        f"stayers {_f(_mean(stay))}",
    ]
    for c in stats["changes"]:
        curve = " ".join(f"{r['adherence']:.2f}" for r in c["steps"][:10])
        assort = _mean([r["assortativity"] for r in c["steps"] if r["assortativity"] is not None])
        lines.append(
            f"  change at step {c['generation']} ({c['era']}): adherence {curve}; "
            f"t50 {'-' if c['t50'] is None else c['t50']}; mean assortativity {_f(assort)}"
        )
    return "\n".join(lines)
