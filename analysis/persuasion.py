"""Persuasion statistics of the Salvi et al. 2024 protocol (arXiv:2403.14380; Nature Human
Behaviour 2025, "On the conversational persuasiveness of GPT-4").

The persuadee rates its agreement with the proposition (1-5) before and after the debate. The
rating is aligned with the opponent's side: A~ = A when the persuader argued pro and
lo + hi - A (6 - A on 1..5) when it argued con, so that higher means closer to the opponent.
Per condition (opponent human/llm x personalised or not; the baseline is human, not
personalised) we report the shift D = A~_post - A~_pre, the shares with D > 0 (moved toward
the opponent), D = 0 and D < 0 with Wilson intervals (Wilson 1927), and the odds ratio of a
proportional-odds model (see :func:`odds_ratios`). A failed survey (score None or an LLM
fallback) leaves the participant out of the statistics and is counted, never imputed.

The odds ratio needs statsmodels, the optional extra ``agentsim[stats]``; everything else needs
only numpy and the standard library.

Example:
    >>> aligned(2.0, "con"), aligned(2.0, "pro")
    (4.0, 2.0)
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from agentsim.core.errors import ConfigError, UserError
from analysis.debate import (
    Episode,
    Record,
    debates_by_protocol,
    episodes,
    other_protocols_line,
)
from analysis.stats import mean_ci, wilson

BASELINE = "human/plain"
STATS_EXTRA = "pip install 'agentsim[stats]'"


class MissingStatsExtra(UserError):
    """statsmodels, needed for the ordinal model, is not installed."""


def condition_label(opponent: str, personalised: bool) -> str:
    """``"llm/personalised"``, ``"human/plain"``, ...: the 2x2 design cell of an episode."""
    return f"{opponent}/{'personalised' if personalised else 'plain'}"


def aligned(score: float, opponent_side: str, scale: Sequence[float] = (1, 5)) -> float:
    """Agreement with the opponent's side: the score if it argued pro, mirrored if con."""
    if opponent_side not in ("pro", "con"):
        raise ConfigError("side", opponent_side, ["pro", "con"])
    return score if opponent_side == "pro" else scale[0] + scale[1] - score


def participants(records: Iterable[Record]) -> list[dict[str, Any]]:
    """One row per salvi episode: the persuadee's raw and aligned pre/post ratings and D.

    Ratings are None where that survey failed; D is None when either is.
    """
    return [_row(ep) for ep in episodes(records, protocol="salvi")]


def _row(ep: Episode) -> dict[str, Any]:
    s = ep.start
    side = str(s["sides"][s["persuader"]])
    scale = s.get("scale", (1, 5))
    got = ep.scores.get(str(s["persuadee"]), {})
    pre = got.get(0)
    post = got.get(ep.last_iteration) if ep.last_iteration > 0 else None
    a_pre = None if pre is None else aligned(pre, side, scale)
    a_post = None if post is None else aligned(post, side, scale)
    return {
        "episode": ep.key,
        "condition": condition_label(str(s["opponent"]), bool(s["personalised"])),
        "strength": s.get("strength"),
        "proposition_id": s.get("proposition_id"),
        "opponent_side": side,
        "scale": [float(scale[0]), float(scale[1])],
        "pre": pre,
        "post": post,
        "aligned_pre": a_pre,
        "aligned_post": a_post,
        "shift": None if a_pre is None or a_post is None else a_post - a_pre,
    }


def shift_table(
    rows: Sequence[Mapping[str, Any]], by: Sequence[str] = ("condition",)
) -> dict[str, Any]:
    """Per group (``by`` fields joined by " | "): mean D with SE and t-interval, the shares that
    moved toward the opponent (D > 0), did not move and moved away, each with a Wilson CI, and the
    number of participants left out for a failed survey."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[" | ".join(str(r[f]) for f in by)].append(r)
    out = {}
    for key, grp in sorted(groups.items()):
        shifts = [float(r["shift"]) for r in grp if r["shift"] is not None]
        n = len(shifts)
        counts = {
            "toward": sum(d > 0 for d in shifts),
            "unmoved": sum(d == 0 for d in shifts),
            "away": sum(d < 0 for d in shifts),
        }
        out[key] = {"shift": mean_ci(shifts), "n": n, "failed": len(grp) - n}
        for name, k in counts.items():
            out[key][name] = {"k": k, "share": k / n if n else None, "ci95": wilson(k, n)}
    return out


def _ordered_model() -> Any:
    try:  # imported by name: statsmodels is optional and ships no type information
        module = importlib.import_module("statsmodels.miscmodels.ordinal_model")
    except ImportError as exc:  # the optional extra is absent
        raise MissingStatsExtra(
            f"the persuasion odds ratio needs statsmodels: {STATS_EXTRA}"
        ) from exc
    return module.OrderedModel


def odds_ratios(
    rows: Sequence[Mapping[str, Any]], baseline: str = BASELINE, pre_as: str = "linear"
) -> dict[str, Any]:
    """Odds ratio per condition against ``baseline`` from a proportional-odds (logit) model.

    Model: logit P(A~_post <= j) = theta_j - (beta_c + pre-agreement term), fitted by maximum
    likelihood with statsmodels' ``OrderedModel(distr="logit")`` (its default is probit).
    OR_c = exp(beta_c) multiplies the odds of a higher post-debate agreement with the opponent
    in condition c versus the baseline at equal pre-debate agreement (Salvi et al.: personalised
    GPT-4 OR 1.81, "+81.2%"). CIs are Wald intervals, exp(beta +- 1.96 SE).

    Where ours differs from Salvi et al.: their R fit (``ordinal::clm``) is a *partial*
    proportional-odds model with pre-agreement as a 5-level factor with nominal effects (one
    effect per threshold), because a Brant test rejected parallel lines for it. statsmodels has
    no nominal effects, so pre-agreement enters here with one slope (``pre_as="linear"``) or
    as level shifts (``pre_as="factor"``), the same at every threshold. The treatment effect is
    proportional in both. On data from a latent logistic model (the scripted persuadee) ours is
    the true model; on LLM or human data the two fits can differ somewhat.

    Outcome categories are the *observed* A~_post levels (``levels``; ``empty_levels`` lists the
    collapsed ones): a declared level that never occurs makes statsmodels return infinite
    thresholds and beta = 0 without an error. Dropping it leaves the maximum-likelihood beta
    unchanged, since the missing category's interval has width 0 at the optimum.

    Separated data (a condition whose outcomes all sit at one level, outcomes fixed by the
    pre rating, ...) have no finite maximum-likelihood beta, yet the optimiser can report
    convergence with OR 0 or a CI of [0, inf]. Such a condition is marked ``degenerate``, and
    so is the fit, with ``degenerate_reason``; non-finite numbers are None (JSON-ready), and
    statsmodels' warnings are kept in ``fit_warnings`` instead of printed.

    Raises:
        MissingStatsExtra: statsmodels is not installed.
        ConfigError: ``baseline`` or ``pre_as`` is not a valid value.
        UserError: too little data (no other condition, one outcome level, fractional ratings).
    """
    if pre_as not in ("linear", "factor"):
        raise ConfigError("pre_as", pre_as, ["linear", "factor"])
    OrderedModel = _ordered_model()
    used = [r for r in rows if r["shift"] is not None]
    conds = sorted({str(r["condition"]) for r in used})
    if baseline not in conds:
        raise ConfigError("baseline", baseline, conds or "no condition has complete surveys")
    others = [c for c in conds if c != baseline]
    if not others:
        raise UserError(f"odds ratios need a condition besides the baseline {baseline!r}")
    post = _integers(r["aligned_post"] for r in used)
    pre = _integers(r["aligned_pre"] for r in used)
    levels = sorted(set(post.tolist()))
    if len(levels) < 2:
        raise UserError(f"odds ratios need two post-debate levels; all ratings are {levels}")
    y = np.searchsorted(levels, post)
    exog, pre_names = _design(used, others, pre, pre_as)
    res, fit_warnings = _fit(OrderedModel, y, exog)
    lo, hi = used[0]["scale"]
    out = _or_result(res, others, pre_names, baseline, pre_as)
    out.update(
        n=len(used),
        levels=levels,
        empty_levels=_missing(levels, lo, hi),
        fit_warnings=fit_warnings,
    )
    return out


def _missing(levels: list[int], lo: float, hi: float) -> list[int]:
    return [v for v in range(math.ceil(lo), math.floor(hi) + 1) if v not in levels]


def _integers(values: Iterable[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    arr = np.asarray(list(values), dtype=float)
    if not np.all(arr == np.round(arr)):
        raise UserError("the ordinal model needs whole-number ratings; got fractional ones")
    return arr.astype(np.int64)


def _design(
    used: Sequence[Mapping[str, Any]], others: list[str], pre: np.ndarray[Any, Any], pre_as: str
) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Condition dummies (baseline dropped: with all of them plus the thresholds the model would
    have a constant) and the pre-agreement columns; a constant pre column is dropped."""
    cond = np.array([str(r["condition"]) for r in used])
    cols = [(cond == c).astype(float) for c in others]
    if pre_as == "linear":
        pre_cols = {"aligned_pre": pre.astype(float)} if np.ptp(pre) > 0 else {}
    else:
        pre_cols = {f"aligned_pre={v}": (pre == v).astype(float) for v in sorted(set(pre))[1:]}
    return np.column_stack(cols + list(pre_cols.values())), list(pre_cols)


#: A log-odds SE above this means the fit is degenerate: the 95% CI would span a factor of
#: e^(2 * 1.96 * 5) ~ 3e8. Perfect or quasi-complete separation (e.g. a condition whose
#: outcomes are all one level, or outcomes fixed by the pre-agreement) drives the MLE to
#: +-infinity while the optimiser still reports convergence (Albert & Anderson 1984).
MAX_LOG_OR_SE = 5.0


def _fit(OrderedModel: Any, y: Any, exog: Any) -> tuple[Any, list[str]]:
    """The logit fit, and the warnings statsmodels raised (kept in the result, not leaked)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = OrderedModel(y, exog, distr="logit").fit(method="bfgs", disp=False, maxiter=1000)
    return res, sorted({f"{w.category.__name__}: {w.message}" for w in caught})


def _finite(x: float) -> float | None:
    # JSON-ready: NaN and infinities become None.
    return x if math.isfinite(x) else None


def _condition_or(beta: float, se: float, ci: Any, p: float) -> dict[str, Any]:
    with np.errstate(over="ignore", invalid="ignore"):  # exp of a diverged beta is inf
        odds, lo, hi = np.exp([beta, ci[0], ci[1]]).tolist()
    degenerate = not all(map(math.isfinite, (beta, se, odds, lo, hi))) or se > MAX_LOG_OR_SE
    return {
        "beta": _finite(beta),
        "se": _finite(se),
        "odds_ratio": _finite(odds),
        "ci95": [_finite(lo), _finite(hi)],
        "pct_higher_odds": _finite(100 * (odds - 1)),
        "p_value": _finite(p),
        "degenerate": degenerate,
    }


def _or_result(
    res: Any, others: list[str], pre_names: list[str], baseline: str, pre_as: str
) -> dict[str, Any]:
    k = len(others)
    params, bse = np.asarray(res.params, dtype=float), np.asarray(res.bse, dtype=float)
    ci, pvalues = np.asarray(res.conf_int(alpha=0.05)), np.asarray(res.pvalues, dtype=float)
    converged = bool(res.mle_retvals.get("converged", False)) and bool(np.all(np.isfinite(bse)))
    table = {
        c: _condition_or(float(params[i]), float(bse[i]), ci[i], float(pvalues[i]))
        for i, c in enumerate(others)
    }
    bad = [c for c, o in table.items() if o["degenerate"]]
    reason = None
    if bad:
        reason = (
            f"{', '.join(bad)}: no finite log odds ratio, or its SE exceeds {MAX_LOG_OR_SE:g} "
            "(an unbounded CI): the outcomes are separated (e.g. one outcome level in a "
            "condition, or every post rating fixed by the pre rating), so no odds ratio is "
            "identified"
        )
    # After the k condition and the pre-agreement coefficients come the thresholds.
    pre = {name: _finite(float(params[k + j])) for j, name in enumerate(pre_names)}
    return {
        "baseline": baseline,
        "model": "proportional odds (logit)",
        "pre_as": pre_as,
        "converged": converged,
        "degenerate": bool(bad),
        "degenerate_reason": reason,
        "conditions": table,
        "pre_coefficients": pre,
    }


def summarise(records: Iterable[Record], baseline: str = BASELINE) -> dict[str, Any]:
    """Shift tables (per condition, and per condition and opinion strength) and the odds ratios,
    JSON-ready. Where the odds ratios cannot be fitted (statsmodels absent, one condition only,
    ...) ``odds_ratios`` is ``{"error": message}`` so the rest of the report still renders.
    ``debates`` counts the debates of every protocol (a Taubenfeld run has no persuadees)."""
    records = list(records)
    rows = participants(records)
    conditions = {r["condition"] for r in rows}
    try:
        if not rows:
            ors: dict[str, Any] = {"error": "no episodes"}
        elif len(conditions) < 2:
            ors = {
                "error": f"one condition only ({', '.join(sorted(conditions))}): odds ratios "
                "compare conditions; pool the runs of the 2x2 design (scenarios/persuasion.py)"
            }
        else:
            ors = odds_ratios(rows, baseline)
    except UserError as exc:
        ors = {"error": str(exc)}
    return {
        "protocol": "salvi",
        "baseline": baseline,
        "participants": len(rows),
        "debates": debates_by_protocol(records),
        "by_condition": shift_table(rows),
        "by_condition_strength": shift_table(rows, ("condition", "strength")),
        "odds_ratios": ors,
    }


def _share(cell: Mapping[str, Any]) -> str:
    if cell["share"] is None:
        return "-"
    lo, hi = cell["ci95"]
    return f"{cell['share']:.2f} [{lo:.2f},{hi:.2f}]"


def text_section(stats: Mapping[str, Any]) -> str:
    """A short text table: per condition n, mean shift±SE, share moved toward the opponent with
    its Wilson CI, and the odds ratio against the baseline with its 95% CI."""
    if not stats["participants"]:
        return other_protocols_line("persuasion", "salvi", stats.get("debates", {}))
    ors = stats["odds_ratios"]
    lines = [
        f"persuasion (baseline {stats['baseline']}; {stats['participants']} persuadees)",
        f"  {'condition':<20}{'n':>5}{'shift':>12}{'toward opponent':>20}{'odds ratio':>24}",
    ]
    for cond, c in stats["by_condition"].items():
        sh = c["shift"]
        shift = (
            "-"
            if sh["mean"] is None
            else f"{sh['mean']:+.2f}" + ("" if sh["se"] is None else f"±{sh['se']:.2f}")
        )
        ratio = _ratio_cell(ors.get("conditions", {}).get(cond), cond == stats["baseline"])
        lines.append(f"  {cond:<20}{c['n']:>5}{shift:>12}{_share(c['toward']):>20}{ratio:>24}")
    if "error" in ors:
        lines.append(f"  odds ratios: {ors['error']}")
    elif not ors["converged"]:
        lines.append("  odds ratios: the fit did not converge; do not use them")
    if ors.get("degenerate"):
        lines.append(f"  odds ratios: degenerate fit, do not use them; {ors['degenerate_reason']}")
    return "\n".join(lines)


def _ratio_cell(o: Mapping[str, Any] | None, baseline: bool) -> str:
    """``OR [lo,hi]`` of a condition; ``degenerate`` where the fit gave no usable OR."""
    if o is None:
        return "baseline" if baseline else "-"
    if o.get("degenerate"):
        return "degenerate"
    return f"{o['odds_ratio']:.2f} [{o['ci95'][0]:.2f},{o['ci95'][1]:.2f}]"


def _register() -> None:
    from analysis.report import Section, register_section

    register_section("debate_v0", Section("persuasion", summarise, text_section))


_register()
