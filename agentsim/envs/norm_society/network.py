"""The norm society's social network: networkx graphs as edge arrays and CSR adjacency.

Seat ``i`` is node ``i``. Kinds: ``complete`` (everyone meets everyone; neighbour means are
computed in O(n d) without listing the n(n-1)/2 edges), ``small_world`` (Watts & Strogatz
1998, Nature 393:440; ``connected_watts_strogatz_graph``), ``ring`` (the same lattice
without rewiring), ``scale_free`` (Barabasi & Albert 1999, Science 286:509) and ``file``
(an edge list ``u v`` per line over nodes ``0..n-1``). Random graphs take an int seed
(the house style forbids networkx's global RNG).

Example:
    >>> g = build_graph("ring", 6, degree=2, seed=0)
    >>> g.edges.tolist()
    [[0, 1], [0, 5], [1, 2], [2, 3], [3, 4], [4, 5]]
    >>> means, has = g.neighbour_means(np.arange(6.0)[:, None])
    >>> means.ravel().tolist()
    [3.0, 1.0, 2.0, 3.0, 4.0, 2.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import numpy.typing as npt

from agentsim.core.errors import ConfigError
from agentsim.games import norm_society as rules

KINDS = ("complete", "small_world", "scale_free", "ring", "file")
#: A complete graph lists its edges (records, network statistics) up to this many nodes.
MAX_LISTED_COMPLETE = 1000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Graph:
    """A network over ``n`` seats.

    Attributes:
        kind: one of :data:`KINDS`.
        n: the number of nodes.
        edges: ``(m, 2)`` int64, each undirected edge once with ``u < v``, sorted; None for
            a complete graph of more than :data:`MAX_LISTED_COMPLETE` nodes.
        indptr, indices: the adjacency as CSR (None when ``edges`` is None).
    """

    kind: str
    n: int
    edges: IntArray | None
    indptr: IntArray | None
    indices: IntArray | None

    def neighbour_means(self, values: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Each node's neighbours' mean row of ``values`` ``(n, d)``, and who has neighbours
        (a node without any gets 0.5)."""
        if self.kind == "complete":
            return rules.complete_neighbour_means(values)
        assert self.indptr is not None and self.indices is not None  # listed for non-complete
        return rules.neighbour_means(values, self.indptr, self.indices)

    def edge_list(self) -> list[list[int]] | None:
        """The edges as ``[[u, v], ...]`` (JSON), or None when they are not listed."""
        return None if self.edges is None else self.edges.tolist()


def build_graph(
    kind: str,
    n: int,
    *,
    degree: int = 4,
    rewire: float = 0.1,
    attach: int = 2,
    graph_file: str = "",
    seed: int = 0,
) -> Graph:
    """Build the network of ``n`` seats.

    Raises:
        ConfigError: naming the key (``network``, ``degree``, ``rewire``, ``attach``,
            ``graph_file``) when the graph cannot be built as asked.
    """
    if kind == "complete":
        edges = _complete_edges(n) if n <= MAX_LISTED_COMPLETE else None
    elif kind == "file":
        edges = read_edge_list(graph_file, n)
    else:
        edges = _edges(_generated(kind, n, degree, rewire, attach, seed))
    if edges is None:
        return Graph(kind, n, None, None, None)
    indptr, indices = rules.csr_from_edges(n, edges)
    return Graph(kind, n, edges, indptr, indices)


def check_shape(kind: str, n: int, degree: int, attach: int) -> None:
    """Refuse parameters networkx would silently bend (an odd degree acts as degree - 1).

    Raises:
        ConfigError: naming ``degree`` or ``attach``.
    """
    if kind in ("small_world", "ring") and (degree % 2 or not 2 <= degree < n):
        raise ConfigError("degree", degree, f"an even integer in [2, {n - 1}] (n_agents={n})")
    if kind == "scale_free" and not 1 <= attach < n:
        raise ConfigError("attach", attach, f"an integer in [1, {n - 1}] (n_agents={n})")


def _generated(kind: str, n: int, degree: int, rewire: float, attach: int, seed: int) -> nx.Graph:
    check_shape(kind, n, degree, attach)
    if kind == "ring":
        return nx.watts_strogatz_graph(n, degree, 0.0, seed=seed)
    if kind == "scale_free":
        return nx.barabasi_albert_graph(n, attach, seed=seed)
    if kind != "small_world":
        raise ConfigError("network", kind, KINDS)
    try:
        return nx.connected_watts_strogatz_graph(n, degree, rewire, tries=100, seed=seed)
    except nx.NetworkXError:
        raise ConfigError(
            "rewire", rewire, f"a rewiring probability that leaves WS({n}, {degree}) connected"
        ) from None


def _edges(graph: nx.Graph) -> IntArray:
    pairs = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
    return _canonical(pairs)


def _canonical(pairs: IntArray) -> IntArray:
    """Each undirected edge once, ``u < v``, sorted; self loops dropped."""
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0).reshape(-1, 2).astype(np.int64)


def _complete_edges(n: int) -> IntArray:
    u, v = np.triu_indices(n, k=1)
    return np.stack([u, v], axis=1).astype(np.int64)


def read_edge_list(path: str, n: int) -> IntArray:
    """The edges of a ``u v`` per line file over nodes ``0..n-1`` (``#`` starts a comment).

    Every node ``0..n-1`` must appear (the graph has exactly ``n_agents`` nodes): in an
    edge, or alone on a line (an isolated node).

    Raises:
        ConfigError: naming ``graph_file``: a missing file, a malformed line (with its
            number), a node outside ``0..n-1``, or nodes that never appear.
    """
    if not path:
        raise ConfigError("graph_file", path, "a path to an edge list (network=file needs one)")
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("graph_file", path, f"a readable edge list ({exc})") from None
    pairs, seen = [], []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) > 2 or not all(f.isdigit() for f in fields):
            raise ConfigError(
                "graph_file", path, f"lines 'u v' of node numbers; line {number} is {line!r}"
            )
        nodes = [int(f) for f in fields]
        if max(nodes) >= n:
            allowed = f"nodes 0..{n - 1} (n_agents={n}); line {number} names {max(nodes)}"
            raise ConfigError("graph_file", path, allowed)
        seen += nodes
        if len(nodes) == 2:
            pairs.append(nodes)
    edges = _canonical(np.array(pairs, dtype=np.int64).reshape(-1, 2))
    missing = np.setdiff1d(np.arange(n), np.array(seen, dtype=np.int64))
    if len(missing):
        raise ConfigError(
            "graph_file",
            path,
            f"a graph on all {n} nodes 0..{n - 1} (n_agents); node {int(missing[0])} is "
            f"missing ({len(missing)} missing)",
        )
    return edges
