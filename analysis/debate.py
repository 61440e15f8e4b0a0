"""Attitude statistics of simulated debates (Taubenfeld et al. 2024, arXiv:2402.04049).

Every agent rates the topic (0-10) before the debate (iteration 0) and after every utterance.
The unit of repetition is the episode: within an episode the agents of one role are averaged,
then episodes are averaged with a standard error and a t-interval (Student 1908). Metrics:

* trajectory of each role: mean, SE, n and 95% CI per iteration;
* shift Delta_i = a_{i,T} - a_{i,0} per agent and per role;
* gap to the Default agent g_{i,t} = |a_{i,t} - a_{Default,t}| and its convergence ratio
  g_T / g_0 (the paper: partisans drift toward the model's own bias, the Default agent);
* whether a partisan's mean line crosses the Default's (the paper reports it never does);
* echo-chamber polarisation for debates whose agents all share one role (see
  :func:`polarisation`).

A survey whose ``score`` is None, or whose ``parse_status`` is ``"fallback"`` (a stand-in the
LLM driver supplied, not the agent's answer), is a failure: it is counted and never imputed, so
n may differ between iterations.

Example:
    >>> [round(x, 4) for x in mean_ci([1.0, 2.0, 3.0])["ci95"]]
    [-0.4841, 4.4841]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Record = Mapping[str, Any]
Series = dict[str, list[Any]]

DEFAULT_ROLE = "default"
_TYPES = ("debate_start", "survey", "debate_end")


# ---------------------------------------------------------------- statistics across episodes


def t_quantile(df: int, level: float = 0.95) -> float:
    """Two-sided Student-t critical value: P(|T_df| <= t) = level.

    Exact for integer df through the closed-form CDF (Abramowitz & Stegun 26.7.3-4), inverted by
    bisection, so no scipy is needed; df > 10,000 uses the normal quantile (error < 1e-4).

    Example:
        >>> round(t_quantile(2), 6), round(t_quantile(1), 3)
        (4.302653, 12.706)
    """
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    if df > 10_000:
        from statistics import NormalDist

        return NormalDist().inv_cdf(0.5 + level / 2)
    lo, hi = 0.0, 1.0
    while _t_central(hi, df) < level:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_central(mid, df) < level else (lo, mid)
    return (lo + hi) / 2


def _t_central(t: float, df: int) -> float:
    """P(|T| <= t) for integer df (Abramowitz & Stegun 26.7.3 odd df, 26.7.4 even df)."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(df // 2 - 1):
            term *= (2 * k + 1) / (2 * k + 2) * c2
            total += term
        return s * total
    if df == 1:
        return 2 * theta / math.pi
    term = total = math.cos(theta)
    for k in range(1, (df - 1) // 2):
        term *= (2 * k) / (2 * k + 1) * c2
        total += term
    return 2 / math.pi * (theta + s * total)


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict[str, Any]:
    """Mean, standard error (sample SD / sqrt n), n and t-interval of independent values.

    n = 0 gives mean None; n = 1 gives the value with se and ci95 None ("n=1, no CI").
    """
    n = len(values)
    if n == 0:
        return {"mean": None, "se": None, "n": 0, "ci95": None}
    m = sum(values) / n
    if n == 1:
        return {"mean": m, "se": None, "n": 1, "ci95": None}
    se = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1) / n)
    half = t_quantile(n - 1, level) * se
    return {"mean": m, "se": se, "n": n, "ci95": [m - half, m + half]}


# ---------------------------------------------------------------- episodes from records


@dataclass
class Episode:
    """One debate, rebuilt from its records.

    Attributes:
        key: "seed/episode" (the envelope fields; a running count of ``debate_start`` records
            stands in for a missing ``episode``).
        start: the ``debate_start`` record.
        scores: agent -> iteration -> usable survey score.
        failures: the failed survey records (score None or parse_status "fallback").
        last_iteration: ``debate_end.iterations``, else the last surveyed iteration.
    """

    key: str
    start: Record
    scores: dict[str, dict[int, float]] = field(default_factory=dict)
    failures: list[Record] = field(default_factory=list)
    last_iteration: int = 0

    def role(self, agent: str) -> str:
        """The agent's role as ``debate_start`` assigned it."""
        return str(self.start["roles"][agent])

    def agents_of(self, role: str) -> list[str]:
        """Agents playing ``role``, in seat order."""
        return sorted(a for a, r in self.start["roles"].items() if r == role)

    def role_mean(self, role: str, t: int) -> float | None:
        """Mean usable score of the role's agents at iteration t (None if none answered)."""
        got = [self.scores.get(a, {}).get(t) for a in self.agents_of(role)]
        vals = [v for v in got if v is not None]
        return sum(vals) / len(vals) if vals else None

    @property
    def condition(self) -> str:
        """``"topic | role+role"``: the topic and the sorted role composition."""
        roles = "+".join(sorted(self.start["roles"].values()))
        return f"{self.start.get('topic', '?')} | {roles}"


def episodes(records: Iterable[Record], protocol: str = "taubenfeld") -> list[Episode]:
    """Group a run's debate records into episodes of one protocol, in order of first record.

    Records are grouped by their ``seed`` and ``episode`` envelope fields, so concurrent episodes
    may interleave; records written before any ``debate_start`` are ignored.
    """
    grouped: dict[str, Episode] = {}
    pending: dict[str, list[Record]] = defaultdict(list)
    seq = -1
    for r in records:
        if r.get("type") not in _TYPES:
            continue
        if r["type"] == "debate_start" and "episode" not in r:
            seq += 1
        key = f"{r.get('seed')}/{r.get('episode', seq)}"
        if r["type"] == "debate_start":
            grouped[key] = Episode(key=key, start=r)
        else:
            pending[key].append(r)
    out = [e for e in grouped.values() if e.start.get("protocol", "taubenfeld") == protocol]
    for ep in out:
        _fill(ep, pending[ep.key])
    return out


def _fill(ep: Episode, recs: list[Record]) -> None:
    surveyed, ended = 0, None
    for r in recs:
        if r["type"] == "debate_end":
            ended = int(r["iterations"])
            continue
        t = int(r["iteration"])
        surveyed = max(surveyed, t)
        if r.get("score") is None or r.get("parse_status") == "fallback":
            ep.failures.append(r)
        else:
            ep.scores.setdefault(str(r["agent"]), {})[t] = float(r["score"])
    ep.last_iteration = surveyed if ended is None else ended


def by_condition(eps: Iterable[Episode]) -> dict[str, list[Episode]]:
    """Episodes grouped by :attr:`Episode.condition`, sorted by condition."""
    out: dict[str, list[Episode]] = defaultdict(list)
    for ep in eps:
        out[ep.condition].append(ep)
    return dict(sorted(out.items()))


# ---------------------------------------------------------------- metrics


def _series(per_t: Mapping[int, list[float]], horizon: int) -> Series:
    """Parallel lists over iterations 0..horizon of mean, se, n and ci95."""
    cells = [mean_ci(per_t.get(t, [])) for t in range(horizon + 1)]
    out: Series = {"iteration": list(range(horizon + 1))}
    for name in ("mean", "se", "n", "ci95"):
        out[name] = [c[name] for c in cells]
    return out


def _roles(eps: Sequence[Episode]) -> list[str]:
    return sorted({r for ep in eps for r in ep.start["roles"].values()})


def trajectories(eps: Sequence[Episode]) -> dict[str, Series]:
    """Per role: the attitude per iteration averaged over episodes (Taubenfeld et al. Figs. 3-9).

    Within an episode the role's agents are averaged first (echo chambers have two of a role).
    """
    horizon = max((ep.last_iteration for ep in eps), default=0)
    out = {}
    for role in _roles(eps):
        per_t: dict[int, list[float]] = defaultdict(list)
        for ep in eps:
            for t in range(ep.last_iteration + 1):
                v = ep.role_mean(role, t)
                if v is not None:
                    per_t[t].append(v)
        out[role] = _series(per_t, horizon)
    return out


def agent_shifts(eps: Sequence[Episode]) -> list[dict[str, Any]]:
    """Delta = final - initial per agent; None where either survey failed (never imputed)."""
    rows = []
    for ep in eps:
        for agent in sorted(ep.start["roles"]):
            got = ep.scores.get(agent, {})
            first, last = got.get(0), got.get(ep.last_iteration)
            shift = None if first is None or last is None else last - first
            rows.append(
                {
                    "episode": ep.key,
                    "agent": agent,
                    "role": ep.role(agent),
                    "initial": first,
                    "final": last,
                    "shift": shift,
                }
            )
    return rows


def role_shifts(eps: Sequence[Episode]) -> dict[str, dict[str, Any]]:
    """Per role: mean, SE, CI of the per-episode mean shift of the role's agents."""
    per_ep: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in agent_shifts(eps):
        if row["shift"] is not None:
            per_ep[(row["role"], row["episode"])].append(row["shift"])
    by_role: dict[str, list[float]] = defaultdict(list)
    for (role, _), shifts in per_ep.items():
        by_role[role].append(sum(shifts) / len(shifts))
    return {role: mean_ci(by_role.get(role, [])) for role in _roles(eps)}


def _episode_gap(ep: Episode, role: str, t: int, default_role: str) -> float | None:
    ref = ep.role_mean(default_role, t)
    got = [ep.scores.get(a, {}).get(t) for a in ep.agents_of(role)]
    gaps = [abs(v - ref) for v in got if v is not None and ref is not None]
    return sum(gaps) / len(gaps) if gaps else None


def gap_to_default(
    eps: Sequence[Episode], default_role: str = DEFAULT_ROLE
) -> dict[str, dict[str, Any]]:
    """Per non-default role: g_t = |a_t - a_Default,t| per iteration, and the ratio g_T / g_0.

    g is averaged over the role's agents within an episode, then over episodes. The convergence
    ratio is sum(g_T) / sum(g_0) over the episodes where both are known (the ratio of their mean
    gaps; None when that g_0 is 0); below 1 means the role moved toward the Default agent.
    Episodes without a Default agent are skipped; roles are absent when no episode has one.
    """
    eps = [ep for ep in eps if ep.agents_of(default_role)]
    horizon = max((ep.last_iteration for ep in eps), default=0)
    out = {}
    for role in (r for r in _roles(eps) if r != default_role):
        per_t: dict[int, list[float]] = defaultdict(list)
        ends: list[tuple[float, float]] = []
        for ep in eps:
            gaps = [_episode_gap(ep, role, t, default_role) for t in range(ep.last_iteration + 1)]
            for t, g in enumerate(gaps):
                if g is not None:
                    per_t[t].append(g)
            if gaps[0] is not None and gaps[-1] is not None:
                ends.append((gaps[0], gaps[-1]))
        g0 = sum(e[0] for e in ends)
        ratio = sum(e[1] for e in ends) / g0 if g0 > 0 else None
        out[role] = {
            "by_iteration": _series(per_t, horizon),
            "convergence_ratio": ratio,
            "ratio_episodes": len(ends),
        }
    return out


def line_crossings(
    line: Sequence[float | None], reference: Sequence[float | None]
) -> dict[str, Any]:
    """Whether ``line`` changes side of ``reference`` (touching without crossing does not count).

    Returns ``initial_side`` ("above"/"below" at the first iteration where they differ, None if
    never), ``crossed`` and the ``iterations`` at which the side changed.

    Example:
        >>> line_crossings([2.0, 4.0, 5.0, 7.0], [5.0, 5.0, 5.0, 6.0])
        {'initial_side': 'below', 'crossed': True, 'iterations': [3]}
    """
    side, first, flips = 0, None, []
    for t, (a, b) in enumerate(zip(line, reference, strict=True)):
        if a is None or b is None or a == b:
            continue
        now = 1 if a > b else -1
        if side == 0:
            side, first = now, ("above" if now > 0 else "below")
        elif now != side:
            side = now
            flips.append(t)
    return {"initial_side": first, "crossed": bool(flips), "iterations": flips}


def crossings(
    traj: Mapping[str, Series], eps: Sequence[Episode], default_role: str = DEFAULT_ROLE
) -> dict[str, dict[str, Any]]:
    """Per partisan role: crossings of its mean line with the Default's, plus the episodes whose
    own role lines crossed (``episodes_crossed`` of ``episodes`` with both roles)."""
    if default_role not in traj:
        return {}
    out = {}
    for role in (r for r in traj if r != default_role):
        res = line_crossings(traj[role]["mean"], traj[default_role]["mean"])
        both = [ep for ep in eps if ep.agents_of(role) and ep.agents_of(default_role)]
        res["episodes"] = len(both)
        res["episodes_crossed"] = sum(
            line_crossings(*_episode_lines(ep, role, default_role))["crossed"] for ep in both
        )
        out[role] = res
    return out


def _episode_lines(
    ep: Episode, role: str, ref: str
) -> tuple[list[float | None], list[float | None]]:
    ts = range(ep.last_iteration + 1)
    return [ep.role_mean(role, t) for t in ts], [ep.role_mean(ref, t) for t in ts]


def default_bias(eps: Iterable[Episode], default_role: str = DEFAULT_ROLE) -> dict[str, float]:
    """Per topic: the Default agents' mean pre-debate rating, the model's inherent bias b."""
    per_topic: dict[str, list[float]] = defaultdict(list)
    for ep in eps:
        v = ep.role_mean(default_role, 0)
        if v is not None:
            per_topic[str(ep.start.get("topic"))].append(v)
    return {topic: sum(vs) / len(vs) for topic, vs in per_topic.items()}


def polarisation(eps: Sequence[Episode], bias: float | None = None) -> dict[str, Any] | None:
    """Echo-chamber polarisation of debates whose agents all play one role (None otherwise).

    Per episode, over the agents with both an initial and a final rating: m_0, m_T their mean
    ratings and mid the scale midpoint. Two signed changes, averaged over episodes:

    * ``polarisation`` = sign(m_0 - mid) * (m_T - m_0): > 0 when the group moved further toward
      the side of the scale it already leaned to, the human echo-chamber pattern (group
      polarisation: Myers & Lamm 1976; Sunstein 2002); < 0 when it moderated. Episodes starting
      exactly at mid have no lean and are counted in ``no_lean``.
    * ``toward_default`` = |m_0 - b| - |m_T - b| with b the Default agents' mean pre-debate rating
      on the topic elsewhere in the run: > 0 when the group drifted toward the model's own bias,
      what Taubenfeld et al. 2024 found; None when the run has no Default agent on the topic.
    """
    if not eps or len({r for ep in eps for r in ep.start["roles"].values()}) != 1:
        return None
    polar, toward, no_lean = [], [], 0
    for ep in eps:
        ends = _group_ends(ep)
        if ends is None:
            continue
        m0, mt = ends
        lo, hi = ep.start.get("scale", (0, 10))
        lean = math.copysign(1.0, m0 - (lo + hi) / 2) if m0 != (lo + hi) / 2 else 0.0
        no_lean += lean == 0.0
        if lean:
            polar.append(lean * (mt - m0))
        if bias is not None:
            toward.append(abs(m0 - bias) - abs(mt - bias))
    return {
        "polarisation": mean_ci(polar),
        "no_lean": no_lean,
        "default_bias": bias,
        "toward_default": mean_ci(toward) if bias is not None else None,
    }


def _group_ends(ep: Episode) -> tuple[float, float] | None:
    pairs = [
        (s[0], s[ep.last_iteration])
        for s in ep.scores.values()
        if 0 in s and ep.last_iteration in s
    ]
    if not pairs:
        return None
    return sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs)


def survey_failures(eps: Sequence[Episode]) -> dict[str, Any]:
    """Failed surveys: total, per role, and split into missing scores and LLM fallbacks."""
    by_role: dict[str, int] = defaultdict(int)
    fallback = 0
    for ep in eps:
        for r in ep.failures:
            by_role[str(r.get("role") or ep.role(str(r["agent"])))] += 1
            fallback += r.get("parse_status") == "fallback" and r.get("score") is not None
    total = sum(by_role.values())
    return {
        "total": total,
        "missing_score": total - fallback,
        "fallback": fallback,
        "by_role": dict(sorted(by_role.items())),
    }


# ---------------------------------------------------------------- summary and text


def summarise(records: Iterable[Record], default_role: str = DEFAULT_ROLE) -> dict[str, Any]:
    """Every debate statistic of a run's records, per condition (topic and roles), JSON-ready."""
    eps = episodes(records)
    bias = default_bias(eps, default_role)
    out = {}
    for cond, group in by_condition(eps).items():
        traj = trajectories(group)
        topic = str(group[0].start.get("topic"))
        out[cond] = {
            "topic": topic,
            "roles": sorted(group[0].start["roles"].values()),
            "episodes": len(group),
            "trajectories": traj,
            "shift": role_shifts(group),
            "gap_to_default": gap_to_default(group, default_role),
            "crossings": crossings(traj, group, default_role),
            "polarisation": polarisation(group, bias.get(topic)),
            "survey_failures": survey_failures(group),
        }
    return {"protocol": "taubenfeld", "default_role": default_role, "conditions": out}


def _pm(cell: Mapping[str, Any]) -> str:
    if cell.get("mean") is None:
        return "-"
    se = cell.get("se")
    return f"{cell['mean']:.2f}" + ("" if se is None else f"±{se:.2f}")


def text_section(stats: Mapping[str, Any]) -> str:
    """A short text table per condition: start, end and shift per role (mean±SE over episodes),
    the convergence ratio to the Default agent, crossings, polarisation and survey failures."""
    lines = []
    for cond, c in stats["conditions"].items():
        lines += [
            f"debate {cond}  ({c['episodes']} episodes)",
            f"  {'role':<14}{'start':>12}{'end':>12}{'shift':>12}{'gT/g0':>8}  crossed",
        ]
        for role, tr in c["trajectories"].items():
            start = {"mean": tr["mean"][0], "se": tr["se"][0]}
            end = {"mean": tr["mean"][-1], "se": tr["se"][-1]}
            ratio = c["gap_to_default"].get(role, {}).get("convergence_ratio")
            cross = c["crossings"].get(role)
            lines.append(
                f"  {role:<14}{_pm(start):>12}{_pm(end):>12}{_pm(c['shift'][role]):>12}"
                f"{'-' if ratio is None else format(ratio, '.2f'):>8}  "
                f"{'-' if cross is None else ('yes' if cross['crossed'] else 'no')}"
            )
        pol = c["polarisation"]
        if pol is not None:
            lines.append(
                f"  polarisation {_pm(pol['polarisation'])} (>0 more extreme); toward default "
                f"{'-' if pol['toward_default'] is None else _pm(pol['toward_default'])}"
            )
        fails = c["survey_failures"]
        lines.append(f"  survey failures: {fails['total']} (fallback {fails['fallback']})")
    return "\n".join(lines) if lines else "debate: no taubenfeld episodes"


def _register() -> None:
    from analysis.report import Section, register_section

    register_section("debate_v0", Section("debate", summarise, text_section))


_register()
