"""The norm society's observer: scores an agent's conduct in a step against the era's norms.

Li et al. (2024, arXiv:2401.04620) use an LLM (or a human) as a "social evaluator" that
maps an agent's behaviour trajectory and its questionnaire statement, given the current
norms, to a fitness score and natural-language feedback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agentsim.games import norm_society as rules
from agentsim.judges.base import Judgement


@dataclass(frozen=True)
class NormItem:
    """What the observer judges: one agent's conduct in one step.

    Attributes:
        key: a stable id of the item, ``"<generation>/<seat>"``.
        era: the era's name ("2010s"); year: the step's simulated year.
        norm: the era's norm vector; norm_text: the norms in prose.
        behaviours: ``(situation text, chosen behaviour text, behaviour vector)`` per
            situation round of the step.
        statement: the questionnaire answers as a vector in [0, 1]^d.
        statement_text: the answers as text, one line per questionnaire item.
    """

    key: str
    era: str
    year: int
    norm: tuple[float, ...]
    norm_text: str
    behaviours: tuple[tuple[str, str, tuple[float, ...]], ...]
    statement: tuple[float, ...]
    statement_text: str


#: A dimension's name and the phrases of its two ends: ("tradition", "new ways",
#: "established ways").
Dimension = tuple[str, str, str]

#: A per-dimension advice below this (a norm gap under 0.1) is not worth mentioning.
_MENTION = 0.2


class RuleNormObserver:
    """The rule observer: distance of conduct to the era's norm vector, mapped to 1..7.

    ``dist2 = (1-w) mean_s ||b_s - r||^2 + w ||s - r||^2`` over the step's behaviours b_s
    and questionnaire statement s; ``score = clip(1 + 6 exp(-dist2 / (2 width^2)) +
    N(0, noise^2), 1, 7)``; label ``adheres`` (>= 5), ``violates`` (<= 3) or ``partly``
    (the formulas: :mod:`agentsim.games.norm_society`). The feedback names the one or two
    dimensions whose mean behaviour is furthest from the norm, and which way to move, in
    the words of the bank's descriptors.

    Args:
        width: the fitness width; statement_weight: w; noise: sd of the score noise.
        seed: seeds the noise of :meth:`judge` (the env passes its own RNG to
            :meth:`score_batch`).
        dimensions: ``(name, low phrase, high phrase)`` per dimension, for the feedback.
        name: the judge's name in records.

    Example:
        >>> obs = RuleNormObserver(dimensions=[("tradition", "new ways", "established ways")])
        >>> item = NormItem("1/agent_0", "2000s", 2000, (0.8,), "", (("s", "b", (0.2,)),),
        ...                 (0.2,), "")
        >>> j = obs.judge(item)
        >>> round(j.score, 3), j.label
        (2.38, 'violates')
        >>> j.rationale
        'Score 2.4/7 (violates). To fit this era: more established ways (tradition).'
    """

    def __init__(
        self,
        width: float = 0.35,
        statement_weight: float = 0.5,
        noise: float = 0.0,
        seed: int | None = None,
        dimensions: Sequence[Dimension] = (),
        name: str = "rule",
    ) -> None:
        self.width, self.statement_weight, self.noise = width, statement_weight, noise
        self.dimensions = tuple(dimensions)
        self.name = name
        self._rng = np.random.default_rng(seed)

    def score_batch(
        self,
        behaviours: npt.ArrayLike,
        statements: npt.ArrayLike,
        norm: npt.ArrayLike,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores ``(n,)`` and advice ``(n, d)`` of ``n`` agents' behaviours ``(n, S, d)``
        and statements ``(n, d)`` under ``norm`` ``(d,)`` (``rng`` draws the noise)."""
        return rules.observer_scores(
            behaviours,
            statements,
            norm,
            width=self.width,
            statement_weight=self.statement_weight,
            noise=self.noise,
            rng=rng or self._rng,
        )

    def judge(self, item: NormItem) -> Judgement:
        d = len(item.norm)
        b = np.array([v for _, _, v in item.behaviours], dtype=np.float64).reshape(1, -1, d)
        scores, advice = self.score_batch(b, np.array([item.statement]), np.array(item.norm))
        return self.judgement(float(scores[0]), advice[0])

    def judgement(self, score: float, advice: npt.ArrayLike) -> Judgement:
        """The verdict of a score and its advice (for scores computed in a batch)."""
        return self.judgements(np.array([score]), np.asarray(advice).reshape(1, -1))[0]

    def judgements(self, scores: npt.ArrayLike, advice: npt.ArrayLike) -> list[Judgement]:
        """The verdicts of ``n`` scores ``(n,)`` and their advice ``(n, d)``: the labels and
        the dimensions to mention are found for all at once (the env judges whole
        populations; a per-agent numpy call dominated its step)."""
        s = np.asarray(scores, dtype=np.float64)
        a = np.asarray(advice, dtype=np.float64)
        names = [rules.LABELS[i] for i in rules.labels(s).tolist()]
        top = np.argsort(-np.abs(a), axis=1, kind="stable")[:, :2]
        strength = np.take_along_axis(a, top, axis=1)
        mention = np.abs(strength) >= _MENTION
        return [
            Judgement(
                score=score,
                label=label,
                rationale=self._text(score, label, dims, signs, shown),
                parse_status="rule",
                judge=self.name,
            )
            for score, label, dims, signs, shown in zip(
                s.tolist(), names, top.tolist(), strength.tolist(), mention.tolist(), strict=True
            )
        ]

    def feedback(self, score: float, label: str, advice: npt.ArrayLike) -> str:
        """``Score x/7 (label).`` and the one or two dimensions to move along, in words."""
        a = np.asarray(advice, dtype=np.float64)
        top = [int(i) for i in np.argsort(-np.abs(a), kind="stable")[:2]]
        values = [float(a[i]) for i in top]
        return self._text(score, label, top, values, [abs(v) >= _MENTION for v in values])

    def _text(
        self,
        score: float,
        label: str,
        dims: Sequence[int],
        values: Sequence[float],
        shown: Sequence[bool],
    ) -> str:
        head = f"Score {score:.1f}/7 ({label})."
        moves = [self._move(i, v) for i, v, ok in zip(dims, values, shown, strict=True) if ok]
        if not moves:
            return f"{head} Your conduct fits this era's norms well."
        return f"{head} To fit this era: {'; '.join(moves)}."

    def _move(self, i: int, value: float) -> str:
        generic = (f"dimension {i + 1}", "low", "high")
        name, low, high = self.dimensions[i] if i < len(self.dimensions) else generic
        return f"more {high if value > 0 else low} ({name})"
