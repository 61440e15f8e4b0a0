"""The norm society's LLM observer: a fixed rubric, a 1-7 score and feedback.

Li et al. (2024, arXiv:2401.04620) score an agent's behaviour trajectory and its
questionnaire statement against the era's norms with an LLM "social evaluator" (default
GPT-3.5-Turbo); the score range tops out at 7. The paper's rubric is not public: ours
(``templates/norm_society/norm_observer_rubric.txt``) anchors every point of 1-7. The
reply must read ``Score: N`` and ``Feedback: ...``; one that never parses, after the
driver's re-asks, falls back to score 4, label ``partly``, recorded ``parse_status=
"fallback"`` with the raw reply. Labels follow the rule observer: ``adheres`` (>= 5),
``violates`` (<= 3), ``partly`` otherwise (:func:`agentsim.games.norm_society.labels`).

Example:
    >>> parse_verdict("Score: 6\\nFeedback: Polite and modern.", None).value
    Verdict(score=6.0, label='adheres', rationale='Polite and modern.')
    >>> parse_verdict("Score: 9\\nFeedback: x", None).ok
    False
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentsim.agents.llm.norm_society import NormLLMContext, load_norm_prompts
from agentsim.agents.llm.parsers import ParseResult
from agentsim.agents.llm.promptset import PromptSet
from agentsim.games import norm_society as rules
from agentsim.judges.base import LLMJudge, Verdict
from agentsim.judges.norm_observer import NormItem

#: The verdict of a reply that never parses: the middle of the scale.
FALLBACK_SCORE = 4.0
FEEDBACK_CHARS = 2000

_SCORE = re.compile(r"(?i:score)\s*\**\s*[:=]\s*\**\s*([-+]?\d+(?:\.\d+)?)")
_FEEDBACK = re.compile(r"(?i:feedback)\s*\**\s*[:=]\s*\**\s*(.*)", re.DOTALL)


def label_of(score: float) -> str:
    """The rule observer's label of a 1-7 score.

    Example:
        >>> [label_of(s) for s in (2.0, 4.0, 5.0)]
        ['violates', 'partly', 'adheres']
    """
    return rules.LABELS[int(rules.labels(np.array([score]))[0])]


def parse_verdict(text: str, item: Any) -> ParseResult[Verdict]:
    """``Score: N`` (1-7) and ``Feedback: ...`` (non-empty) from an observer's reply."""
    score_match = _SCORE.search(text)
    form = "'Score: <1-7>' on one line and 'Feedback: <one to three sentences>' on the next"
    if score_match is None:
        return ParseResult(ok=False, error=f"Your reply has no score. Reply with {form}.")
    score = float(score_match.group(1))
    if not 1.0 <= score <= 7.0:
        return ParseResult(
            ok=False, error=f"Your score {score_match.group(1)} is out of range: give 1 to 7."
        )
    feedback_match = _FEEDBACK.search(text)
    feedback = " ".join(feedback_match.group(1).split()) if feedback_match else ""
    if not feedback:
        return ParseResult(ok=False, error=f"Your reply has no feedback. Reply with {form}.")
    return ParseResult(True, Verdict(score, label_of(score), feedback[:FEEDBACK_CHARS]))


def fallback_verdict(item: Any) -> Verdict:
    """What a reply that never parses scores (recorded as ``fallback``)."""
    return Verdict(FALLBACK_SCORE, label_of(FALLBACK_SCORE), "")


class NormLLMObserver(LLMJudge):
    """An :class:`LLMJudge` for :class:`NormItem` s. Built without prompts, it uses the
    run's (``llm.prompt_dir`` applies) once bound to a :class:`NormLLMContext`."""

    def __init__(self, prompts: PromptSet | None, name: str) -> None:
        super().__init__(
            name,
            self.messages,
            parse_verdict,
            fallback_verdict,
            key=lambda item: str(item.key),
            purpose="observer",
        )
        self._own = prompts is not None
        self.prompts = prompts if prompts is not None else load_norm_prompts()

    def bind(self, context: Any) -> None:
        super().bind(context)
        if not self._own and isinstance(context, NormLLMContext):
            self.prompts = context.prompts

    def messages(self, item: NormItem) -> Sequence[tuple[str, str]]:
        """The rubric (system) and the item (user)."""
        behaviours = "\n".join(
            f"{i}. Situation: {situation}\n   Chose: {behaviour}"
            for i, (situation, behaviour, _) in enumerate(item.behaviours, 1)
        )
        user = self.prompts.render(
            "norm_observer",
            era=item.era,
            year=item.year,
            norms=item.norm_text,
            behaviours=behaviours or "(nothing recorded)",
            answers=item.statement_text or "(no answers)",
        )
        return (("system", self.prompts.render("norm_observer_rubric")), ("user", user))


def llm_norm_observer(prompts: PromptSet | None = None, name: str = "llm") -> LLMJudge:
    """The LLM observer with the fixed rubric (``prompts``: the norm-society templates;
    None: the built-in ones, replaced by the run's when bound).

    Example:
        >>> llm_norm_observer().name
        'llm'
    """
    return NormLLMObserver(prompts, name)
