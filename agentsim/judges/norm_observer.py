"""The norm society's observer: scores an agent's conduct in a step against the era's norms.

Li et al. (2024, arXiv:2401.04620) use an LLM (or a human) as a "social evaluator" that
maps an agent's behaviour trajectory and its questionnaire statement, given the current
norms, to a fitness score and natural-language feedback.
"""

from __future__ import annotations

from dataclasses import dataclass


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
