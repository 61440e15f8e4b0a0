"""Cooperation statistics of donor-game runs (Vallinder & Hughes 2024, arXiv:2412.10270).

All functions take the list of records of one run (``agentsim.core.records.load_records``)
and return plain dicts keyed by generation, so they combine across seeds with
:func:`across_seeds`.

Example:
    >>> recs = [{"type": "generation_end", "generation": 1, "mean_final_resources": 30.0,
    ...          "mean_donation_fraction": {"1_1": 0.5, "1_2": 0.25}}]
    >>> mean_final_resources(recs), mean_donation_by_generation(recs)
    ({1: 30.0}, {1: 0.375})
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Record = Mapping[str, Any]


def _of_type(records: Iterable[Record], record_type: str) -> list[Record]:
    return [r for r in records if r["type"] == record_type]


def mean_final_resources(records: Iterable[Record]) -> dict[int, float]:
    """Mean over agents and games of final resources, per generation (the paper's main metric)."""
    return {
        r["generation"]: float(r["mean_final_resources"])
        for r in _of_type(records, "generation_end")
        if r.get("mean_final_resources") is not None  # absent where the env adds no statistic
    }


def donation_fractions(records: Iterable[Record]) -> dict[int, dict[str, float]]:
    """Each member's mean donation fraction per generation (rows of the paper's Fig. 6 heatmap)."""
    return {
        r["generation"]: dict(r["mean_donation_fraction"])
        for r in _of_type(records, "generation_end")
        if r.get("mean_donation_fraction") is not None
    }


def mean_donation_by_generation(records: Iterable[Record]) -> dict[int, float]:
    """Population mean donation fraction per generation."""
    return {g: _mean(list(f.values())) for g, f in donation_fractions(records).items()}


def donation_trend(records: Iterable[Record]) -> float | None:
    """Least-squares slope of the mean donation fraction per generation (paper: %/generation)."""
    series = mean_donation_by_generation(records)
    if len(series) < 2:
        return None
    xs, ys = list(series), list(series.values())
    mx, my = _mean(xs), _mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def selection_differential(records: Sequence[Record]) -> dict[int, float | None]:
    """(mean donation of survivors - mean of the removed) / mean donation of the generation.

    Positive values mean selection favoured cooperators. ``None`` where undefined.
    """
    fractions = donation_fractions(records)
    out: dict[int, float | None] = {}
    for sel in _of_type(records, "selection"):
        f = fractions.get(sel["generation"], {})
        kept = [f[m] for m in sel["survivors"] if m in f]
        gone = [f[m] for m in sel["removed"] if m in f]
        overall = _mean(list(f.values()))
        ok = kept and gone and overall > 0
        out[sel["generation"]] = (_mean(kept) - _mean(gone)) / overall if ok else None
    return out


def punishment_frequency(records: Iterable[Record]) -> dict[int, float]:
    """Share of donor decisions that punished, per generation."""
    return {
        r["generation"]: r.get("punishments", 0) / r["donor_decisions"]
        for r in _of_type(records, "generation_end")
        if r.get("donor_decisions")
    }


def reciprocity_correlation(records: Iterable[Record]) -> dict[str, Any]:
    """Pearson correlation of each donation with the recipient's last shown donation.

    The indirect-reciprocity signal: donors that condition on the trace give more
    to recipients who gave more. Uses ``transfer`` records (``record=full`` runs);
    punishments count as a donation of 0. Returns overall and per-generation r and n.
    """
    pairs: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for t in _of_type(records, "transfer"):
        if t["shown_fraction"] is None:
            continue
        given = 0.0 if t["kind"] == "punish" else float(t["fraction"])
        pairs[t["generation"]].append((max(float(t["shown_fraction"]), 0.0), given))
    everything = [p for ps in pairs.values() for p in ps]
    return {
        "overall": {"r": pearson(everything), "n": len(everything)},
        "by_generation": {g: {"r": pearson(ps), "n": len(ps)} for g, ps in sorted(pairs.items())},
    }


def pearson(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Pearson r of (x, y) pairs; None with fewer than 3 pairs or zero variance."""
    if len(pairs) < 3:
        return None
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    mx, my = _mean(xs), _mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def across_seeds(per_run: Sequence[Mapping[int, float]]) -> dict[int, dict[str, float]]:
    """Mean, standard error and n per generation across runs (the paper's shaded curves)."""
    by_gen: dict[int, list[float]] = defaultdict(list)
    for run in per_run:
        for g, v in run.items():
            by_gen[g].append(float(v))
    out = {}
    for g, vs in sorted(by_gen.items()):
        m = _mean(vs)
        se = (
            math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1) / len(vs))
            if len(vs) > 1
            else 0.0
        )
        out[g] = {"mean": m, "se": se, "n": float(len(vs))}
    return out


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def statistics(records: Sequence[Record]) -> dict[str, Any]:
    """All cooperation statistics of one donor-game run, JSON-ready."""
    return {
        "mean_final_resources": mean_final_resources(records),
        "mean_donation_fraction": mean_donation_by_generation(records),
        "donation_trend_per_generation": donation_trend(records),
        "selection_differential": selection_differential(records),
        "punishment_frequency": punishment_frequency(records),
        "reciprocity_correlation": reciprocity_correlation(records),
        "donation_fractions": donation_fractions(records),
    }


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def text_section(s: Mapping[str, Any]) -> str:
    """The per-generation table and the run-level statistics as text."""
    lines = [
        f"{'gen':>4} {'mean final res':>15} {'mean donation':>14} "
        f"{'sel. diff':>10} {'punish freq':>12} {'recip. r':>9}"
    ]
    recip = s["reciprocity_correlation"]["by_generation"]
    for g, res in s["mean_final_resources"].items():
        lines.append(
            f"{g:>4} {res:>15.2f} {_fmt(s['mean_donation_fraction'].get(g)):>14} "
            f"{_fmt(s['selection_differential'].get(g)):>10} "
            f"{_fmt(s['punishment_frequency'].get(g)):>12} "
            f"{_fmt(recip.get(g, {}).get('r')):>9}"
        )
    overall = s["reciprocity_correlation"]["overall"]
    lines += [
        "",
        f"donation trend: {_fmt(s['donation_trend_per_generation'], '+.4f')} per generation",
        f"reciprocity (donation vs recipient's last shown donation): r = {_fmt(overall['r'])} "
        f"(n = {overall['n']})",
    ]
    return "\n".join(lines)


def _register() -> None:
    from analysis.report import Section, register_section

    register_section("donor_game_v0", Section("cooperation", statistics, text_section))


_register()
