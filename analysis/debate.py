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
    >>> debates_by_protocol([{"type": "debate_start", "protocol": "salvi"}])
    {'salvi': 1}
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.stats import Series, line_crossings, mean_ci, series_ci

Record = Mapping[str, Any]

DEFAULT_ROLE = "default"
_TYPES = ("debate_start", "survey", "debate_end")


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
        out[role] = series_ci(per_t, horizon)
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
            "by_iteration": series_ci(per_t, horizon),
            "convergence_ratio": ratio,
            "ratio_episodes": len(ends),
        }
    return out


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


def debates_by_protocol(records: Iterable[Record]) -> dict[str, int]:
    """How many debates (``debate_start`` records) each protocol has, sorted by protocol."""
    starts = (r for r in records if r.get("type") == "debate_start")
    return dict(sorted(Counter(str(r.get("protocol", "taubenfeld")) for r in starts).items()))


def other_protocols_line(section: str, protocol: str, counts: Mapping[str, int]) -> str:
    """The text of a section with no debates of its ``protocol``, naming what the run holds."""
    others = ", ".join(f"{n} {p}" for p, n in counts.items() if p != protocol)
    held = f"; this run's debates: {others}" if others else ""
    return f"{section}: no {protocol} debates{held}"


def summarise(records: Iterable[Record], default_role: str = DEFAULT_ROLE) -> dict[str, Any]:
    """Every debate statistic of a run's records, per condition (topic and roles), JSON-ready.

    ``debates`` counts the debates of every protocol: a Salvi run has none of these
    statistics (``analysis.persuasion`` has its own), and the text says so.
    """
    records = list(records)
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
    return {
        "protocol": "taubenfeld",
        "default_role": default_role,
        "debates": debates_by_protocol(records),
        "conditions": out,
    }


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
    if not lines:
        return other_protocols_line("debate", "taubenfeld", stats.get("debates", {}))
    return "\n".join(lines)


def _register() -> None:
    from analysis.report import Section, register_section

    register_section("debate_v0", Section("debate", summarise, text_section))


_register()
