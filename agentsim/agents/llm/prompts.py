"""Donor-game prompts, rendered from structured observations through text templates.

The templates (``templates/donor_*.txt``) are written in our own words and carry
the information of Vallinder & Hughes (2024)'s system, strategy and donation
prompts. They use ``string.Template`` placeholders (``$name``), which substitute
text and never evaluate it. Users can replace any template by putting a file of
the same name in a folder and passing it as ``prompt_dir``.

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
from importlib import resources
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError

TEMPLATE_NAMES = (
    "donor_system",
    "donor_punishment_rule",
    "donor_strategy_first",
    "donor_strategy_next",
    "donor_decision",
    "donor_answer_units",
    "donor_answer_punish",
    "donor_reask",
)


def fmt_units(x: float) -> str:
    """Resources as the prompts show them: at most two decimals, no trailing zeros."""
    return f"{float(x):.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class DonorPrompts:
    """The donor game's prompt templates."""

    templates: Mapping[str, string.Template]

    @classmethod
    def load(cls, prompt_dir: str | Path | None = None) -> DonorPrompts:
        """Built-in templates, each replaced by ``prompt_dir/<name>.txt`` where that exists."""
        base = resources.files("agentsim.agents.llm") / "templates"
        out = {}
        for name in TEMPLATE_NAMES:
            text = (base / f"{name}.txt").read_text(encoding="utf-8")
            if prompt_dir is not None:
                custom = Path(prompt_dir) / f"{name}.txt"
                if custom.is_file():
                    text = custom.read_text(encoding="utf-8")
                elif not Path(prompt_dir).is_dir():
                    raise UserError(f"prompt_dir {prompt_dir} is not a folder")
            out[name] = string.Template(text.strip())
        return cls(out)

    def _render(self, template: str, /, **values: Any) -> str:
        try:
            return self.templates[template].substitute(values)
        except (KeyError, ValueError) as exc:
            raise UserError(f"prompt template {template}.txt: bad placeholder {exc}") from None

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
        text = self._render(
            "donor_system",
            endowment=fmt_units(endowment),
            multiplier=fmt_units(multiplier),
            trace_depth=trace_depth,
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
    ) -> str:
        """Strategy prompt: generation 1 (``advice`` None) or from survivors' advice.

        ``advice`` holds (strategy, final score or None when scores are withheld).
        """
        rule = self._punishment_rule(punishment, punishment_loss)
        if advice is None:
            return self._render("donor_strategy_first", name=name, punishment_rule=rule)
        with_scores = any(score is not None for _, score in advice)
        lines = [
            f"- (final score {fmt_units(s)}) {text}" if s is not None else f"- {text}"
            for text, s in advice
        ]
        return self._render(
            "donor_strategy_next",
            name=name,
            punishment_rule=rule,
            advice="\n".join(lines),
            with_scores=", along with their final scores" if with_scores else "",
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
        verb = "punished" if fraction < 0 else "donated"
        pct = f"{abs(fraction) * 100:.2f}%"
        if fraction < 0:
            sentences.append(
                f"In round {rnd}, {donor} punished {recipient}, spending {pct} of their resources."
            )
        else:
            sentences.append(
                f"In round {rnd}, {donor} {verb} {pct} of their resources to {recipient}."
            )
        last = recipient
    if length < depth:
        sentences.append(f"{last} did not have any previous interactions.")
    return " ".join(sentences)
