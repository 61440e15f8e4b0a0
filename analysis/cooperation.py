"""Cooperation statistics of donor-game runs (Vallinder & Hughes 2024, arXiv:2412.10270).

The single-run functions take the list of records of one run
(``agentsim.core.records.load_records``) and return plain dicts keyed by generation; they
register as sections of ``agentsim report``. The across-runs functions
(:func:`donor_across_statistics`, registered as the ``donor`` section of
``analysis.across``) take the tables of ``analysis.runs.Runs`` and give, per condition,
means with bootstrap intervals across seeds: the per-generation trend and its slope,
per-round donation curves, the initial-cooperation threshold, selection and kind composition.

Example:
    >>> recs = [{"type": "generation_end", "generation": 1, "mean_final_resources": 30.0,
    ...          "mean_donation_fraction": {"1_1": 0.5, "1_2": 0.25}}]
    >>> mean_final_resources(recs), mean_donation_by_generation(recs)
    ({1: 30.0}, {1: 0.375})
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analysis.across import fmt_number

# The across-runs part lives in analysis.cooperation_across; importable from here as before.
from analysis.cooperation_across import _run_slopes as _run_slopes
from analysis.cooperation_across import _unique
from analysis.cooperation_across import best_split as best_split
from analysis.cooperation_across import composition_by_generation as composition_by_generation
from analysis.cooperation_across import donor_across_statistics as donor_across_statistics
from analysis.cooperation_across import fisher_ci as fisher_ci
from analysis.cooperation_across import generation_trend as generation_trend
from analysis.cooperation_across import initial_cooperation as initial_cooperation
from analysis.cooperation_across import least_squares_slope as least_squares_slope
from analysis.cooperation_across import round_curves as round_curves
from analysis.cooperation_across import selection_by_generation as selection_by_generation

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


def donation_by_round(records: Iterable[Record]) -> dict[int, dict[int, float]]:
    """Mean fraction given per round index within each generation (the paper's donations per
    round), games pooled; a punishment gives 0. From ``transfer`` records (``record=full``).

    Example:
        >>> t = {"type": "transfer", "generation": 1, "round": 0, "kind": "donate"}
        >>> donation_by_round([{**t, "fraction": 0.5}, {**t, "fraction": 0.3, "kind": "punish"}])
        {1: {0: 0.25}}
    """
    given: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for t in _of_type(records, "transfer"):
        value = 0.0 if t["kind"] == "punish" else float(t["fraction"])
        given[t["generation"]][t["round"]].append(value)
    return {
        g: {r: _mean(v) for r, v in sorted(rounds.items())} for g, rounds in sorted(given.items())
    }


def kind_composition(records: Iterable[Record]) -> dict[int, dict[str, int]]:
    """Members per strategy kind in each generation, from ``generation_start`` kinds."""
    return {
        r["generation"]: dict(sorted(Counter(r["kinds"].values()).items()))
        for r in _of_type(records, "generation_start")
        if isinstance(r.get("kinds"), Mapping)
    }


def survivor_differential(records: Sequence[Record]) -> dict[int, dict[str, float | None]]:
    """Selection on donation per generation: S = mean donation fraction of the survivors minus
    the population's (the breeder's selection differential, Falconer & Mackay 1996), beside the
    survivors', removed and population means. Positive S: selection favoured donors.
    """
    fractions = donation_fractions(records)
    out: dict[int, dict[str, float | None]] = {}
    for sel in _of_type(records, "selection"):
        f = fractions.get(sel["generation"], {})
        kept = [f[m] for m in sel["survivors"] if m in f]
        gone = [f[m] for m in sel["removed"] if m in f]
        population = _mean(list(f.values())) if f else None
        survivors = _mean(kept) if kept else None
        differential = None
        if survivors is not None and population is not None:
            differential = survivors - population
        out[sel["generation"]] = {
            "population": population,
            "survivors": survivors,
            "removed": _mean(gone) if gone else None,
            "differential": differential,
        }
    return out


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


def rounds_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """The ``donation_by_round`` report section: ``{"by_generation": {g: {round: mean}}}``."""
    return {"by_generation": donation_by_round(records)}


def rounds_text(s: Mapping[str, Any]) -> str:
    """Mean fraction given by round (columns) in each generation (rows)."""
    by_gen = s["by_generation"]
    rounds = sorted({r for row in by_gen.values() for r in row})
    lines = ["donation by round (mean fraction given; games pooled, punish = 0)"]
    lines.append(f"{'gen':>4} " + " ".join(f"{'r' + str(r):>5}" for r in rounds))
    for g, row in by_gen.items():
        lines.append(f"{g:>4} " + " ".join(f"{_fmt(row.get(r), '.2f'):>5}" for r in rounds))
    return "\n".join(lines)


def composition_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """The ``kind_composition`` report section: ``{"by_generation": {g: {kind: members}}}``."""
    return {"by_generation": kind_composition(records)}


def composition_text(s: Mapping[str, Any]) -> str:
    """Members per strategy kind in each generation."""
    lines = ["strategy kinds per generation (members)"]
    for g, kinds in s["by_generation"].items():
        lines.append(f"{g:>4} " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
    return "\n".join(lines)


def selection_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """The ``selection`` report section: ``{"by_generation": survivor_differential(...)}``."""
    return {"by_generation": survivor_differential(records)}


def selection_text(s: Mapping[str, Any]) -> str:
    """Mean donation fraction of the population, survivors and removed, and S per generation."""
    lines = [
        "selection on donation (S = survivors' mean donation fraction - population's)",
        f"{'gen':>4} {'population':>11} {'survivors':>10} {'removed':>8} {'S':>8}",
    ]
    for g, row in s["by_generation"].items():
        lines.append(
            f"{g:>4} {_fmt(row['population']):>11} {_fmt(row['survivors']):>10} "
            f"{_fmt(row['removed']):>8} {_fmt(row['differential'], '+.3f'):>8}"
        )
    return "\n".join(lines)


# ---- across runs: text (the statistics are in analysis.cooperation_across) -----------------


def donor_across_text(s: Mapping[str, Any]) -> str:
    """The donor section over many runs as plain text."""
    lines = ["donor game across runs (mean [bootstrap 95% CI] n; unit = run)"]
    for cond in _unique(c for part in s.values() for c in part):
        lines += ["", f"-- condition {cond or '(all runs)'}"]
        lines += _trend_text(s["trend"].get(cond))
        lines += _threshold_text(s["initial_cooperation"].get(cond))
        lines += _selection_across_text(s["selection"].get(cond, []))
        lines += _composition_across_text(s["composition"].get(cond, []))
        lines += _rounds_across_text(s["donation_by_round"].get(cond, []))
    return "\n".join(lines)


def _trend_text(trend: Mapping[str, Any] | None) -> list[str]:
    if not trend:
        return []
    lines = ["per-generation trend:"]
    lines.append(f"{'gen':>4} {'mean final resources':>40} {'mean donation':>34}")
    for row in trend["by_generation"]:
        res, don = row.get("mean_final_resources"), row.get("mean_donation_fraction")
        lines.append(f"{row['generation']:>4} {_cell(res):>40} {_cell(don):>34}")
    lines.append(f"slope per generation: resources {_cell(trend['resources_slope'])}")
    lines.append(f"                      donation  {_cell(trend['donation_slope'])}")
    return lines


def _cell(c: Mapping[str, Any] | None) -> str:
    if not c or c["mean"] is None:
        return "-"
    ci = c["ci95"]
    shown = "no CI" if ci is None else f"{fmt_number(ci[0])}, {fmt_number(ci[1])}"
    return f"{fmt_number(c['mean'])} [{shown}] n={c['n']}"


def _threshold_text(t: Mapping[str, Any] | None) -> list[str]:
    if not t:
        return []
    ci = t["r_ci95"]
    lines = [
        f"initial cooperation: r(final resources, gen-1 donation) = {_fmt(t['r'])} "
        f"[{'no CI' if ci is None else f'{ci[0]:.3f}, {ci[1]:.3f}'}] n={t['n']}"
    ]
    if t["threshold"] is not None:
        lines.append(f"  best split at gen-1 donation {t['threshold']:.3f}:")
        for side in ("below", "above"):
            v = t[side]
            lines.append(
                f"    {side}: {v['n']} runs, mean final resources "
                f"{fmt_number(v['mean_final_resources'])}, improved {100 * v['improved']:.0f}%"
            )
    return lines


def _selection_across_text(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["selection differential S (survivors - population) | (surv. - removed) / pop."]
    for row in rows:
        lines.append(
            f"{row['generation']:>4} {_cell(row['differential']):>34} {_cell(row['normalised'])}"
        )
    return lines if rows else []


def _composition_across_text(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["strategy kinds (mean share per run)"]
    for row in rows:
        shares = ", ".join(f"{k} {c['mean']:.2f}" for k, c in row["kinds"].items())
        lines.append(f"{row['generation']:>4} {shares}")
    return lines if rows else []


def _rounds_across_text(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    by_gen: dict[int, dict[int, float]] = defaultdict(dict)
    for row in rows:
        by_gen[row["generation"]][row["round"]] = row["mean"]
    rounds = sorted({r for row in by_gen.values() for r in row})
    lines = ["donation by round (mean over runs of each run's mean fraction given)"]
    lines.append(f"{'gen':>4} " + " ".join(f"{'r' + str(r):>5}" for r in rounds))
    for g, means in sorted(by_gen.items()):
        lines.append(f"{g:>4} " + " ".join(f"{_fmt(means.get(r), '.2f'):>5}" for r in rounds))
    return lines if rows else []


def _register() -> None:
    from analysis.across import AcrossSection, register_across
    from analysis.report import Section, register_section

    env = "donor_game_v0"
    register_section(env, Section("cooperation", statistics, text_section))
    register_section(env, Section("donation_by_round", rounds_statistics, rounds_text))
    register_section(env, Section("kind_composition", composition_statistics, composition_text))
    register_section(env, Section("selection", selection_statistics, selection_text))
    register_across(env, AcrossSection("donor", donor_across_statistics, donor_across_text))


_register()
