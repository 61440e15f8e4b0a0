"""Donor-game prompts, rendered from structured observations through text templates.

The templates (``templates/donor_*.txt``) are written in our own words and carry
the information of Vallinder & Hughes (2024, arXiv:2412.10270)'s system, strategy and
donation prompts, as in their released notebook: the worked example of a trace uses
placeholders (X%, Y%, Z%) rather than figures that could anchor a model, and the
description of the trace follows the run's trace depth. They use ``string.Template``
placeholders (``$name``), which substitute text and never evaluate it. Users can replace
any template by putting a UTF-8 file of the same name in a folder and passing it as
``prompt_dir``; unknown placeholders are refused when the templates are loaded.

Example:
    >>> t = DonorPrompts.load()
    >>> "2 times" in t.system(endowment=10, multiplier=2, trace_depth=3, punishment=False,
    ...                       punishment_loss=2)
    True
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentsim.agents.llm.parsers import fmt_units
from agentsim.agents.llm.promptset import PromptSet

__all__ = ["TEMPLATE_NAMES", "DonorPrompts", "fmt_units", "render_trace", "trace_rule"]

_ANSWER_PLACEHOLDERS = frozenset({"own_resources", "multiplier", "punishment_loss"})
_STRATEGY_PLACEHOLDERS = frozenset({"name", "punishment_rule", "trace_note", "trace_depth"})

#: Each template's name and the placeholders it may use.
PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "donor_system": frozenset(
        {"endowment", "multiplier", "trace_depth", "trace_rule", "punishment_rule"}
    ),
    "donor_punishment_rule": frozenset({"punishment_loss"}),
    "donor_strategy_first": _STRATEGY_PLACEHOLDERS,
    "donor_strategy_next": _STRATEGY_PLACEHOLDERS | {"advice", "with_scores"},
    "donor_decision": frozenset(
        {
            "name",
            "strategy",
            "generation",
            "round",
            "partner",
            "partner_resources",
            "trace",
            "own_resources",
            "answer_format",
        }
    ),
    "donor_answer_units": _ANSWER_PLACEHOLDERS,
    "donor_answer_punish": _ANSWER_PLACEHOLDERS,
    "donor_reask": frozenset({"error"}),
}
TEMPLATE_NAMES = tuple(PLACEHOLDERS)

# The notebook's worked example, newest first, with placeholders for the figures.
_EXAMPLE = (
    "In round 3, A donated X% of their resources to B.",
    "In round 2, B donated Y% of their resources to C.",
    "In round 1, C donated Z% of their resources to D.",
)
# The notebook kept this phrase in the strategy prompt while passing no scores.
_WITH_SCORES = ", along with their final scores"


@dataclass(frozen=True)
class DonorPrompts:
    """The donor game's prompt templates."""

    templates: Mapping[str, string.Template]

    @classmethod
    def load(cls, prompt_dir: str | Path | None = None) -> DonorPrompts:
        """Built-in templates, each replaced by ``prompt_dir/<name>.txt`` where that exists.

        Raises:
            UserError: if ``prompt_dir`` is not a folder, or a template is not UTF-8 text
                or uses a placeholder its prompt does not fill.
        """
        return cls(PromptSet.load(None, PLACEHOLDERS, prompt_dir).templates)

    def _render(self, template: str, /, **values: Any) -> str:
        return PromptSet(self.templates).render(template, **values)

    def _punishment_rule(self, punishment: bool, punishment_loss: float) -> str:
        if not punishment:
            return ""
        return self._render("donor_punishment_rule", punishment_loss=fmt_units(punishment_loss))

    def system(
        self,
        *,
        endowment: float,
        multiplier: float,
        trace_depth: int,
        punishment: bool,
        punishment_loss: float,
    ) -> str:
        """The rules of the game (the system prompt, or the head of each strategy prompt
        when system prompts are switched off)."""
        text = self._render(
            "donor_system",
            endowment=fmt_units(endowment),
            multiplier=fmt_units(multiplier),
            trace_depth=trace_depth,
            trace_rule=trace_rule(trace_depth),
            punishment_rule=self._punishment_rule(punishment, punishment_loss),
        )
        return "\n".join(line for line in text.splitlines() if line.strip())

    def strategy(
        self,
        *,
        name: str,
        advice: Sequence[tuple[str, float | None]] | None,
        punishment: bool,
        punishment_loss: float,
        trace_depth: int = 3,
    ) -> str:
        """Strategy prompt: generation 1 (``advice`` None) or from survivors' advice.

        ``advice`` holds (strategy, final score or None when scores are withheld), in the
        order to show. Without scores the prompt still says "along with their final
        scores", as the released notebook did.
        """
        values = {
            "name": name,
            "punishment_rule": self._punishment_rule(punishment, punishment_loss),
            "trace_note": trace_note(trace_depth),
            "trace_depth": trace_depth,
        }
        if advice is None:
            return self._render("donor_strategy_first", **values)
        lines = [
            f"- (final score {fmt_units(s)}) {text}" if s is not None else f"- {text}"
            for text, s in advice
        ]
        return self._render(
            "donor_strategy_next", **values, advice="\n".join(lines), with_scores=_WITH_SCORES
        )

    def decision(
        self,
        observation: Mapping[str, Any],
        *,
        name: str,
        strategy: str,
        names: Sequence[str],
        punishment: bool,
        multiplier: float,
        punishment_loss: float,
    ) -> str:
        own = fmt_units(float(observation["own_resources"]))
        answer = self._render(
            "donor_answer_punish" if punishment else "donor_answer_units",
            own_resources=own,
            multiplier=fmt_units(multiplier),
            punishment_loss=fmt_units(punishment_loss),
        )
        return self._render(
            "donor_decision",
            name=name,
            strategy=strategy,
            generation=int(observation["generation"]),
            round=int(observation["round"]) + 1,
            partner=names[int(observation["partner"])],
            partner_resources=fmt_units(float(observation["partner_resources"])),
            trace=render_trace(observation, names),
            own_resources=own,
            answer_format=answer,
        )

    def reask(self, error: str) -> str:
        return self._render("donor_reask", error=error)


def trace_rule(depth: int) -> str:
    """What a donor is shown of the recipient's past, for the rules (system prompt).

    Follows the released notebook's explanation and its placeholder example, cut to
    ``depth`` moves: at depth 1 the donor sees one move and no chain.

    Example:
        >>> "chain" in trace_rule(1), trace_rule(1).count("In round")
        (False, 1)
    """
    if depth <= 0:
        return "A donor is told nothing about what the recipient did in earlier rounds."
    if depth == 1:
        shown = (
            "Before deciding, a donor is shown the recipient's latest move as a donor only, "
            "not their earlier moves and not what other players did."
        )
    else:
        shown = (
            "Before deciding, a donor is shown the recipient's latest move as a donor, then "
            "what the player who received that move had done before it, and so on: a chain "
            f"at most {depth} moves back. You do not see several rounds of the recipient's "
            "own moves."
        )
    example = " ".join(_EXAMPLE[: min(depth, len(_EXAMPLE))])
    return (
        f"{shown} For example, if it is now round 4 and you are paired with A, you may be "
        f'shown: "{example}" That is all you know: you do not know what A did in rounds 1 '
        "or 2, only in round 3."
    )


def trace_note(depth: int) -> str:
    """The strategy prompts' reminder of what a donor will see, for this trace depth.

    Example:
        >>> "chain" in trace_note(1), "at most 2 moves back" in trace_note(2)
        (False, True)
    """
    if depth <= 0:
        return "Keep in mind that you will see nothing of what a recipient did before."
    if depth == 1:
        return (
            "Keep in mind that you will see only a recipient's latest move, not several "
            "rounds of their history and not what their partners did."
        )
    return (
        "Keep in mind that you will not see several rounds of a recipient's history directly: "
        "you see their latest move and a chain of their partners' earlier moves, at most "
        f"{depth} moves back."
    )


def render_trace(observation: Mapping[str, Any], names: Sequence[str]) -> str:
    """The recipient's trace as sentences, newest first (the notebook's format).

    When the visible chain is shorter than the trace depth, it ends with
    "<agent> did not have any previous interactions." for the agent it reaches.
    """
    length = int(observation["trace_length"])
    depth = len(observation["trace_fraction"])
    if depth == 0:
        return ""
    sentences = []
    last = names[int(observation["partner"])]
    for k in range(length):
        donor = names[int(observation["trace_donor"][k])]
        recipient = names[int(observation["trace_recipient"][k])]
        fraction = float(observation["trace_fraction"][k])
        rnd = int(observation["trace_round"][k]) + 1
        pct = f"{abs(fraction) * 100:.2f}%"
        if fraction < 0:
            sentences.append(
                f"In round {rnd}, {donor} punished {recipient}, spending {pct} of their resources."
            )
        else:
            sentences.append(
                f"In round {rnd}, {donor} donated {pct} of their resources to {recipient}."
            )
        last = recipient
    if length < depth:
        sentences.append(f"{last} did not have any previous interactions.")
    return " ".join(sentences)
