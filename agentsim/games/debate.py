"""Debate rules as pure functions: turn schedules, opinion dynamics, survey parsing.

Two protocols share these rules (see ``debate_v0``):

- ``taubenfeld`` (Taubenfeld et al. 2024, "Systematic Biases in LLM Simulations of
  Debates", EMNLP 2024, arXiv:2402.04049): k debaters speak in a fixed round robin,
  one utterance per iteration, and every debater rates the topic 0-10 before the debate
  and after every utterance.
- ``salvi`` (Salvi et al. 2024, "On the Conversational Persuasiveness of Large Language
  Models", arXiv:2403.14380): a persuader and a persuadee argue pro and con a
  proposition in three phases (opening, rebuttal, conclusion), pro first in each
  phase; agreement 1-5 is asked before and after.

Attitudes are floats on the survey scale and are never rounded inside the dynamics
(quantised averaging stalls). Two schedules exist. *Round* functions
(``degroot_step``, ``hk_step``, ``deffuant_meet``, ``friedkin_johnsen_step``,
``prior_drift_step``) update a whole population synchronously; the closed-form limits
hold for them. *Listen* functions (``degroot_listen`` ...) update one debater from the
attitudes the others last stated, which is what a scripted debater does in the AEC
env (the utterance schedule).

The module knows nothing of PettingZoo, Gymnasium or LLMs.

Example:
    >>> W = np.array([[0.7, 0.3], [0.2, 0.8]])
    >>> float(degroot_consensus(W, np.array([0.0, 10.0])))
    6.0
    >>> parse_survey("I would say 7 out of 10.", 0, 10)
    7.0
    >>> parse_attitude_marker("Guns are a crisis. [attitude: 8.5]")
    ('Guns are a crisis.', 8.5)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

PROTOCOLS = ("taubenfeld", "salvi")
TAUBENFELD_SCALE = (0.0, 10.0)
SALVI_SCALE = (1.0, 5.0)
SALVI_PHASES = ("opening", "rebuttal", "conclusion")
SIDES = ("pro", "con")

#: Reference pre-debate ratings (0-10, "how serious a problem is <topic>") per topic and
#: role, for scripted debaters. Ours, shaped after the pattern Taubenfeld et al. report
#: (the Default agent sides with the Democrat on every topic but illegal immigration).
TOPIC_PRIORS: Mapping[str, Mapping[str, float]] = {
    "gun violence": {"republican": 4.0, "democrat": 9.0, "default": 7.5},
    "racism": {"republican": 3.5, "democrat": 9.0, "default": 7.5},
    "climate change": {"republican": 2.5, "democrat": 9.5, "default": 8.0},
    "illegal immigration": {"republican": 9.0, "democrat": 4.0, "default": 6.0},
}


# -- turn schedules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One AEC turn: ``kind`` is "survey" or "speak"; ``iteration`` counts utterances so far.

    ``phase`` is the utterance's phase ("debate" or a Salvi phase name; "" for surveys).
    """

    kind: str
    seat: int
    iteration: int
    phase: str = ""


def round_robin(k: int, iterations: int) -> list[int]:
    """Speaker seat of each utterance: seats 0..k-1 in a fixed cycle (Taubenfeld et al.)."""
    return [i % k for i in range(iterations)]


def salvi_speakers(pro_seat: int) -> list[tuple[int, str]]:
    """(speaker seat, phase) of the six utterances of a two-seat Salvi debate, pro first."""
    con_seat = 1 - pro_seat
    return [(seat, phase) for phase in SALVI_PHASES for seat in (pro_seat, con_seat)]


def turn_plan(
    speakers: Sequence[tuple[int, str]], k: int, *, survey_every_utterance: bool
) -> list[Turn]:
    """Every AEC turn of an episode: surveys of all seats around the utterances.

    With ``survey_every_utterance`` (Taubenfeld) all seats are surveyed before the debate
    and after every utterance; otherwise (Salvi) only before and after the debate.

    Example:
        >>> [(t.kind, t.seat) for t in turn_plan([(0, "debate")], 2, survey_every_utterance=True)]
        [('survey', 0), ('survey', 1), ('speak', 0), ('survey', 0), ('survey', 1)]
    """
    survey = [Turn("survey", s, 0) for s in range(k)]
    plan = list(survey)
    for n, (seat, phase) in enumerate(speakers):
        plan.append(Turn("speak", seat, n, phase))
        if survey_every_utterance or n == len(speakers) - 1:
            plan.extend(Turn("survey", s, n + 1) for s in range(k))
    return plan


# -- opinion dynamics: round schedule -------------------------------------------------------


def uniform_trust(n: int, self_weight: float = 0.5) -> FloatArray:
    """Row-stochastic trust matrix: ``self_weight`` on the diagonal, the rest split equally."""
    if n == 1:
        return np.ones((1, 1))
    w = np.full((n, n), (1.0 - self_weight) / (n - 1))
    np.fill_diagonal(w, self_weight)
    return w


def degroot_step(trust: FloatArray, x: FloatArray) -> FloatArray:
    """One DeGroot (1974) round: x(t+1) = W x(t), W row-stochastic."""
    return trust @ x


def degroot_consensus(trust: FloatArray, x0: FloatArray) -> float:
    """The DeGroot limit pi . x(0) for an irreducible aperiodic W (pi W = pi, sum pi = 1).

    Golub & Jackson 2010 give the general conditions; this returns the value every
    agent reaches when there is one closed aperiodic class.
    """
    return float(stationary_weights(trust) @ x0)


def stationary_weights(trust: FloatArray) -> FloatArray:
    """Left eigenvector pi of W for eigenvalue 1, normalised to sum 1 (the social influence)."""
    values, vectors = np.linalg.eig(trust.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    return np.asarray(pi / pi.sum(), dtype=np.float64)


def friedkin_johnsen_step(
    trust: FloatArray, x: FloatArray, x0: FloatArray, susceptibility: FloatArray
) -> FloatArray:
    """One Friedkin-Johnsen (1990) round: x(t+1) = L W x(t) + (I - L) x(0)."""
    return susceptibility * (trust @ x) + (1.0 - susceptibility) * x0


def friedkin_johnsen_limit(
    trust: FloatArray, susceptibility: FloatArray, x0: FloatArray
) -> FloatArray:
    """x* = (I - LW)^-1 (I - L) x(0); needs rho(LW) < 1 (Proskurnikov & Tempo 2017).

    Raises:
        ValueError: when I - LW is singular (e.g. every l_i = 1: use DeGroot).
    """
    n = len(x0)
    lw = susceptibility[:, None] * trust
    try:
        x = np.linalg.solve(np.eye(n) - lw, (1.0 - susceptibility) * x0)
    except np.linalg.LinAlgError:
        raise ValueError("Friedkin-Johnsen limit undefined: I - LW is singular") from None
    return np.asarray(x, dtype=np.float64)


def hk_step(x: FloatArray, epsilon: float) -> FloatArray:
    """One synchronous Hegselmann-Krause (2002) round: mean of all within ``epsilon`` (<=)."""
    close = np.abs(x[:, None] - x[None, :]) <= epsilon
    return np.asarray((close @ x) / close.sum(axis=1), dtype=np.float64)


def hk_run(
    x0: FloatArray, epsilon: float, *, max_rounds: int = 10_000, tol: float = 1e-12
) -> tuple[FloatArray, int, bool]:
    """Iterate HK until a round moves nobody (max|dx| <= tol).

    Returns:
        (state, rounds that moved someone before freezing, converged); not converged
        after ``max_rounds`` rounds returns the last state and ``max_rounds``.
    """
    x = np.asarray(x0, dtype=np.float64)
    for r in range(1, max_rounds + 1):
        nxt = hk_step(x, epsilon)
        if np.max(np.abs(nxt - x)) <= tol:
            return nxt, r - 1, True
        x = nxt
    return x, max_rounds, False


def deffuant_meet(xi: float, xj: float, epsilon: float, mu: float) -> tuple[float, float]:
    """One Deffuant et al. (2000) meeting: both move mu of the way if |xi - xj| < epsilon.

    Both updates use the old values, so xi + xj is conserved.
    """
    if abs(xi - xj) >= epsilon:
        return xi, xj
    return xi + mu * (xj - xi), xj + mu * (xi - xj)


def deffuant_run(
    x0: FloatArray, epsilon: float, mu: float, meetings: int, rng: np.random.Generator
) -> FloatArray:
    """``meetings`` random-pair Deffuant meetings on a complete graph."""
    x = np.array(x0, dtype=np.float64)
    pairs = np.array([rng.choice(len(x), size=2, replace=False) for _ in range(meetings)])
    for i, j in pairs:
        x[i], x[j] = deffuant_meet(float(x[i]), float(x[j]), epsilon, mu)
    return x


def prior_drift_step(
    trust: FloatArray,
    x: FloatArray,
    x0: FloatArray,
    prior: float,
    *,
    anchor: float,
    drift: float,
) -> FloatArray:
    """x(t+1) = a W x(t) + s x(0) + g b 1 with s = ``anchor``, g = ``drift``, a = 1 - s - g.

    Friedkin-Johnsen with an extra stubborn "model" node at ``prior`` (b): our model of
    Taubenfeld et al.'s finding that debaters drift toward the model's inherent view.
    """
    averaging = 1.0 - anchor - drift
    return averaging * (trust @ x) + anchor * x0 + drift * prior


def prior_drift_limit(
    trust: FloatArray, x0: FloatArray, prior: float, *, anchor: float, drift: float
) -> FloatArray:
    """x* = (I - aW)^-1 (s x(0) + g b 1); needs a < 1 (some anchoring or drift)."""
    averaging = 1.0 - anchor - drift
    n = len(x0)
    x = np.linalg.solve(np.eye(n) - averaging * trust, anchor * x0 + drift * prior)
    return np.asarray(x, dtype=np.float64)


def clusters(x: FloatArray, tol: float = 1e-6) -> list[list[float]]:
    """Group sorted values into clusters whose neighbours are within ``tol``."""
    out: list[list[float]] = []
    for v in np.sort(np.asarray(x, dtype=np.float64)).tolist():
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return out


# -- opinion dynamics: one listener (utterance schedule) ------------------------------------


def _others(values: Sequence[float]) -> FloatArray:
    return np.asarray(list(values), dtype=np.float64)


def degroot_listen(x: float, others: Sequence[float], self_weight: float) -> float:
    """DeGroot for one listener: keep ``self_weight``, split the rest over known speakers.

    Rows are renormalised over the speakers known so far (nobody known: no change).
    """
    o = _others(others)
    if o.size == 0:
        return x
    return float(self_weight * x + (1.0 - self_weight) * o.mean())


def hk_listen(x: float, others: Sequence[float], epsilon: float) -> float:
    """Hegselmann-Krause for one listener: mean of itself and every stated value within eps."""
    o = _others(others)
    close = o[np.abs(o - x) <= epsilon]
    return float((x + close.sum()) / (1 + close.size))


def deffuant_listen(x: float, others: Sequence[float], epsilon: float, mu: float) -> float:
    """Deffuant for one listener: meet each stated value in turn (the listener's half).

    The speakers take their half of each meeting when they listen in turn.
    """
    for y in _others(others).tolist():
        x, _ = deffuant_meet(x, y, epsilon, mu)
    return x


def drift_listen(
    x: float,
    x0: float,
    others: Sequence[float],
    prior: float,
    *,
    anchor: float,
    drift: float,
    self_weight: float | None = None,
) -> float:
    """Prior drift for one listener: a (W x)_i + s x_i(0) + g b.

    ``self_weight=None`` weighs itself like every known speaker (W = J/n).
    """
    o = _others(others)
    if self_weight is None:
        heard = float((x + o.sum()) / (1 + o.size))
    else:
        heard = degroot_listen(x, o.tolist(), self_weight)
    return (1.0 - anchor - drift) * heard + anchor * x0 + drift * prior


# -- survey replies and attitude markers ----------------------------------------------------

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_RANGE = re.compile(rf"({_NUMBER})\s*(?:-|\u2013|to|and)\s*({_NUMBER})", re.IGNORECASE)
_OUT_OF = re.compile(rf"(?:out\s+of|/)\s*({_NUMBER})", re.IGNORECASE)
_NUMBER_RE = re.compile(_NUMBER)
_MARKER = re.compile(rf"\s*\[attitude:\s*({_NUMBER})\s*\]", re.IGNORECASE)


def parse_survey(text: str, lo: float, hi: float) -> float | None:
    """The survey score in ``text``: its first number in [lo, hi], or None.

    Numbers that only restate the scale ("from 0 to 10", "1-5", "out of 10", "/10")
    are skipped, so "On a 0-10 scale I'd say 7" gives 7.

    Example:
        >>> parse_survey("On a scale from 0 to 10: 3.5/10", 0, 10)
        3.5
        >>> parse_survey("no idea", 0, 10) is None
        True
    """
    skip: list[tuple[int, int]] = []
    for m in _RANGE.finditer(text):
        if _num(m.group(1)) == lo and _num(m.group(2)) == hi:
            skip.extend((m.span(1), m.span(2)))
    skip.extend(m.span(1) for m in _OUT_OF.finditer(text))
    for m in _NUMBER_RE.finditer(text):
        if any(m.start() < end and start < m.end() for start, end in skip):
            continue
        value = _num(m.group())
        if math.isfinite(value) and lo <= value <= hi:
            return value
    return None


def _num(token: str) -> float:
    return float(token)


def attitude_marker(x: float) -> str:
    """The marker a scripted utterance carries: ``"[attitude: 6.5]"`` (3 decimals at most)."""
    return f"[attitude: {_short(x)}]"


def _short(x: float) -> str:
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_attitude_marker(text: str) -> tuple[str, float | None]:
    """(text without markers, the first marker's value or None)."""
    m = _MARKER.search(text)
    value = _num(m.group(1)) if m else None
    if value is not None and not math.isfinite(value):
        value = None
    return _MARKER.sub("", text).strip(), value


# -- protocol context ("extra" observation text) --------------------------------------------


def format_extra(fields: Mapping[str, str]) -> str:
    """Protocol context as ``key: value`` lines (what the ``extra`` observation carries)."""
    return "\n".join(f"{k}: {v}" for k, v in fields.items())


def parse_extra(text: str) -> dict[str, str]:
    """Inverse of :func:`format_extra`; lines without ``": "`` are ignored.

    Example:
        >>> parse_extra("scale: 0-10\\nprotocol: taubenfeld")
        {'scale': '0-10', 'protocol': 'taubenfeld'}
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            out[key.strip()] = value.strip()
    return out


def parse_scale(text: str) -> tuple[float, float] | None:
    """``"0-10"`` -> (0.0, 10.0); None when malformed."""
    lo, sep, hi = text.partition("-")
    try:
        return (float(lo), float(hi)) if sep else None
    except ValueError:
        return None


def stance_level(x: float, lo: float, hi: float, levels: int = 5) -> int:
    """Which of ``levels`` equal bands of [lo, hi] holds x (0 = lowest)."""
    p = (min(max(x, lo), hi) - lo) / (hi - lo)
    return min(int(p * levels), levels - 1)
