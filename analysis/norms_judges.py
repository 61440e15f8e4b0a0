"""The observers of norm-society runs: their scale, judges, agreement and the score network.

An observer scores every agent 1-7 against the era's norm (Li et al. 2024, EvolutionaryAgent,
arXiv:2401.04620); two judges on the same items agree by Cohen's kappa (Cohen 1960; weighted,
Cohen 1968); the network measures are the numeric assortativity of scores (Newman 2003, Phys.
Rev. E 67:026126) and the clustering of violators. Every name here is also importable from
:mod:`analysis.norms`.

Example:
    >>> rounded_score(4.5), label_of({"score": 2.0})
    (5, 'violates')
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analysis.stats import kappa_ci

if TYPE_CHECKING:
    import networkx as nx

Record = Mapping[str, Any]

#: Scores at or above this adhere; at or below VIOLATES_AT they violate (the observer's labels).
ADHERES_AT = 5.0
VIOLATES_AT = 3.0
LABELS = ("violates", "partly", "adheres")
SCALE = tuple(range(1, 8))


def generation_of(record: Record) -> int | None:
    """The step of a record: ``generation``, else the ``episode`` the loop adds."""
    g = record.get("generation", record.get("episode"))
    return g if isinstance(g, int) else None


def _of_type(records: Iterable[Record], record_type: str) -> list[Record]:
    return [r for r in records if r.get("type") == record_type]


def judge_id(record: Record) -> str:
    """Who judged: ``"role:name"`` where the record has a ``role`` (the env writes "observer"
    and "audit", and both judges may be rule observers), else the judge's name."""
    role = record.get("role")
    return f"{role}:{record['judge']}" if role else str(record["judge"])


def judges(records: Iterable[Record]) -> list[str]:
    """The judges (:func:`judge_id`) of the run's ``judgement`` records, primary first: the
    "observer" role if any judge has it, else in order of first appearance."""
    found = list(dict.fromkeys(judge_id(r) for r in _of_type(records, "judgement")))
    return sorted(found, key=lambda j: not j.startswith("observer:"))


def judge_scores(
    records: Sequence[Record], judge: str | None = None
) -> dict[int, dict[str, float]]:
    """Per step, agent -> score of one judge (a :func:`judge_id`; default: the primary judge).

    A fallback (an unparsed reply's stand-in score) is not a judgement and is left out.
    """
    name = judge if judge is not None else next(iter(judges(records)), None)
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for r in _of_type(records, "judgement"):
        g = _judged_step(r)
        usable = r.get("score") is not None and r.get("parse_status") != "fallback"
        if judge_id(r) == name and g is not None and usable:
            out[g][str(r.get("agent", r["item"]))] = float(r["score"])
    return dict(sorted(out.items()))


def _judged_step(r: Record) -> int | None:
    g = generation_of(r)
    if g is None:  # the item key is "<generation>/<seat>"
        head = str(r["item"]).split("/", 1)[0]
        g = int(head) if head.isdigit() else None
    return g


def parse_failures(records: Iterable[Record]) -> dict[str, dict[str, int]]:
    """Per judge: how many judgements it gave and how many fell back (unparsed replies)."""
    out: dict[str, dict[str, int]] = {}
    for r in _of_type(records, "judgement"):
        cell = out.setdefault(judge_id(r), {"judgements": 0, "fallback": 0})
        cell["judgements"] += 1
        cell["fallback"] += r.get("parse_status") == "fallback"
    return out


def rounded_score(score: float) -> int:
    """A score on the 1..7 scale, rounded half up (Python's round() rounds half to even)."""
    return min(7, max(1, math.floor(float(score) + 0.5)))


def label_of(record: Record) -> str:
    """The record's label, or the observer's label of its score when it has none."""
    label = record.get("label")
    if label in LABELS:
        return str(label)
    s = float(record["score"])
    return "adheres" if s >= ADHERES_AT else "violates" if s <= VIOLATES_AT else "partly"


def paired_judgements(
    records: Iterable[Record],
) -> dict[tuple[str, str], list[tuple[Record, Record]]]:
    """Per pair of judges (in order of appearance): their records on the same items.

    Items where either judge fell back are left out (a stand-in is not a judgement).
    """
    by_item: dict[str, dict[str, Record]] = defaultdict(dict)
    for r in _of_type(records, "judgement"):
        by_item[str(r["item"])][judge_id(r)] = r
    names = judges(records)
    out: dict[tuple[str, str], list[tuple[Record, Record]]] = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pairs = [(got[a], got[b]) for got in by_item.values() if a in got and b in got]
            out[(a, b)] = [
                (x, y) for x, y in pairs
                if "fallback" not in (x.get("parse_status"), y.get("parse_status"))
                and x.get("score") is not None and y.get("score") is not None
            ]  # fmt: skip
    return {pair: got for pair, got in out.items() if got}


def agreement(
    records: Sequence[Record], rng: int = 0, n_boot: int = 2000
) -> dict[str, dict[str, Any]]:
    """Cohen's kappa of every pair of judges on their common items, with bootstrap CIs.

    Keys ``"a|b"``; per pair: ``items``, and kappa (:func:`analysis.stats.kappa_ci`) on the
    scores rounded to 1..7 (``unweighted``, ``linear``, ``quadratic``, over the full scale) and
    on the three ``labels``.
    """
    out = {}
    for (a, b), pairs in paired_judgements(records).items():
        sa = [rounded_score(x["score"]) for x, _ in pairs]
        sb = [rounded_score(y["score"]) for _, y in pairs]
        la, lb = [label_of(x) for x, _ in pairs], [label_of(y) for _, y in pairs]
        cell: dict[str, Any] = {"items": len(pairs)}
        for name, weights in (
            ("unweighted", None),
            ("linear", "linear"),
            ("quadratic", "quadratic"),
        ):
            cell[name] = kappa_ci(sa, sb, SCALE, weights, rng=rng, n_boot=n_boot)
        cell["labels"] = kappa_ci(la, lb, LABELS, rng=rng, n_boot=n_boot)
        out[f"{a}|{b}"] = cell
    return out


# ---------------------------------------------------------------- network


def network_measures(
    records: Sequence[Record], judge: str | None = None
) -> dict[int, dict[str, float | None]]:
    """Per step, recomputed from the ``network`` record and the ``judge``'s scores.

    Graph node i is seat i; ``generation_start.seats[i]`` names the member on it (judgement
    records name members). Assortativity is the Pearson correlation of the scores at the two
    ends of every edge over both orientations, what networkx's
    ``numeric_assortativity_coefficient`` computes (Newman 2003) without its value-by-value
    mixing matrix; violator clustering is P(neighbour violates | agent violates) / share
    violating, pooled over the violators' edges. Either is None when undefined.
    """
    net = next(iter(_of_type(records, "network")), None)
    if net is None:
        return {}
    import networkx as nx  # only here: every report loads this module, few need a graph

    graph = nx.Graph()
    graph.add_nodes_from(range(int(net["nodes"])))
    graph.add_edges_from((int(u), int(v)) for u, v in net["edges"])
    seats = {generation_of(r): r["seats"] for r in _of_type(records, "generation_start")}
    out = {}
    for g, scores in judge_scores(records, judge).items():
        by_node = _node_scores(scores, seats.get(g), graph.number_of_nodes())
        if by_node is not None:
            out[g] = {
                "assortativity": score_assortativity(graph, by_node),
                "violator_clustering": violator_clustering(graph, by_node),
            }
    return out


def _node_scores(
    scores: Mapping[str, float], seats: Sequence[str] | None, n: int
) -> list[float] | None:
    keys = seats if seats is not None else [f"agent_{i}" for i in range(n)]
    got = [scores.get(k) for k in keys]
    return None if len(got) != n or None in got else [float(s) for s in got if s is not None]


def score_assortativity(graph: nx.Graph, scores: Sequence[float]) -> float | None:
    """Numeric assortativity of node ``scores`` over ``graph``'s edges (None if undefined)."""
    ends = [(u, v) for u, v in graph.edges()] + [(v, u) for u, v in graph.edges() if u != v]
    if not ends:
        return None
    xs, ys = [scores[u] for u, _ in ends], [scores[v] for _, v in ends]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy))) if sxx > 0 and syy > 0 else None


def violator_clustering(graph: nx.Graph, scores: Sequence[float]) -> float | None:
    """P(neighbour violates | agent violates) / share violating (score <= 3); None if undefined."""
    bad = [s <= VIOLATES_AT for s in scores]
    pairs = [(u, v) for u in graph if bad[u] for v in graph.neighbors(u) if v != u]
    if not pairs:
        return None
    return float(sum(bad[v] for _, v in pairs) / len(pairs) / (sum(bad) / len(bad)))
