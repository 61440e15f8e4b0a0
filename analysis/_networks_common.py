"""Helpers shared by :mod:`analysis.networks` and :mod:`analysis.networks_norms` (private).

Example:
    >>> _top({"a": 2.0, "b": 1.0}), _top({"a": 1.0, "b": 1.0})
    ('a', None)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

Record = Mapping[str, Any]


def _of_type(records: Iterable[Record], record_type: str) -> list[Record]:
    return [r for r in records if r.get("type") == record_type]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _top(strength: Mapping[str, float]) -> str | None:
    """The key of the largest value; None when there is none or several share it."""
    best = max(strength.values(), default=None)
    tops = [k for k, v in strength.items() if v == best]
    return tops[0] if len(tops) == 1 else None


def numeric_assortativity(graph: nx.Graph, attribute: str) -> float | None:
    """networkx's numeric assortativity of a node attribute; None where undefined (no edge, or
    no variance), which networkx reports as NaN or a division error."""
    import networkx as nx

    if graph.number_of_edges() == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 for a constant attribute
        try:
            r = float(nx.numeric_assortativity_coefficient(graph, attribute))
        except (ZeroDivisionError, ValueError):
            return None
    return r if math.isfinite(r) else None


def _f(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)
