"""The offline donor-game behaviours: pure, deterministic replies to donor-game prompts.

Both offline test paths answer with these: the ``offline/`` LiteLLM provider
(:mod:`agentsim.llm.offline`) and the fault-injecting server
(:mod:`agentsim.testing.fake_openai_server`), so the two agree. The donor prompts are
those of Vallinder & Hughes (2024, arXiv:2412.10270). Behaviours, chosen by name:

* ``donor``: tit-for-tat-ish donor (matches the recipient's last donation percentage;
  50% with no history);
* ``donor-<p>``: always donates fraction ``p`` of its units;
* ``garbage``: unparseable text;
* ``flaky-<n>``: garbage for the first ``n`` calls per prompt, then ``donor``.

Example:
    >>> offline_reply("donor", "You currently have 10 units.").splitlines()[-1]
    'Answer: 5'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

GARBAGE_TEXT = "Hmm, the weather is lovely today; I would rather talk about llamas."

_UNITS = re.compile(r"You currently have (\d+(?:\.\d+)?) units")
_ROUND_PCT = re.compile(r"In round (\d+),[^.%]*?donated (\d+(?:\.\d+)?)%")
_ANY_PCT = re.compile(r"(\d+(?:\.\d+)?)%")
_BEHAVIOUR = re.compile(r"^(?:donor(?:-(?P<p>\d*\.?\d+))?|garbage|flaky-(?P<n>\d+))$")


def parse_behaviour(name: str) -> tuple[str, float | None, int]:
    """Split an offline behaviour name into (kind, fraction, failures).

    Args:
        name: ``donor``, ``donor-<p>`` (0 <= p <= 1), ``garbage`` or ``flaky-<n>``.

    Returns:
        ``kind`` in {"donor", "garbage", "flaky"}, the fixed donation fraction (None for
        tit-for-tat) and the number of garbage replies a flaky model gives per prompt.

    Raises:
        ValueError: for any other name, listing the allowed forms.

    Example:
        >>> parse_behaviour("donor-0.25")
        ('donor', 0.25, 0)
    """
    match = _BEHAVIOUR.match(name)
    if match is None:
        raise ValueError(
            f"unknown offline behaviour {name!r}; allowed: donor, donor-<p> (0<=p<=1), "
            "garbage, flaky-<n>"
        )
    if name == "garbage":
        return "garbage", None, 0
    if match.group("n") is not None:
        return "flaky", None, int(match.group("n"))
    fraction = float(match.group("p")) if match.group("p") is not None else None
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        raise ValueError(f"offline donor fraction must be within [0, 1], got {fraction}")
    return "donor", fraction, 0


def offline_reply(
    behaviour: str, prompt: str, *, json_mode: bool = False, call_index: int = 1
) -> str:
    """Deterministic reply of the offline policy to one prompt.

    Args:
        behaviour: a behaviour name accepted by :func:`parse_behaviour`.
        prompt: the whole conversation text (all message contents joined).
        json_mode: reply with ``{"justification": str, "amount": number}``.
        call_index: 1-based count of calls with this exact prompt (for ``flaky-<n>``).

    Example:
        >>> offline_reply("donor-0.5", "You currently have 10 units of the resource.")
        'Justification: I follow my fixed rule of giving 50% of what I hold.\\nAnswer: 5'
    """
    kind, fraction, failures = parse_behaviour(behaviour)
    if kind == "garbage" or (kind == "flaky" and call_index <= failures):
        return GARBAGE_TEXT
    units = _last_float(_UNITS, prompt)
    if units is None and "My strategy will be" in prompt:
        return _strategy_reply(fraction)
    return _donation_reply(prompt, units or 0.0, fraction, json_mode)


def _strategy_reply(fraction: float | None) -> str:
    if fraction is None:
        plan = "donate 50% in the first round and afterwards the percentage the recipient last gave"
    else:
        plan = f"donate {fmt_number(fraction * 100)}% of my resources in every round"
    return f"Thinking... a steady rule keeps trust high. My strategy will be to {plan}."


def _donation_reply(prompt: str, units: float, fraction: float | None, json_mode: bool) -> str:
    if fraction is None:
        fraction = _recent_fraction(prompt)
        why = f"The recipient's chain last showed {fmt_number(fraction * 100)}%, so I match it."
    else:
        why = f"I follow my fixed rule of giving {fmt_number(fraction * 100)}% of what I hold."
    # Rounded half-up to the cent, as a model would say it: giving everything is the very
    # figure shown (which may exceed the unrounded holdings by less than half a cent).
    amount = math.floor(units * fraction * 100 + 0.5 + 1e-9) / 100
    if json_mode:
        return json.dumps({"justification": why, "amount": amount})
    answer = (
        f"Donate, {fmt_number(amount)}"
        if "Donate, x OR Punish, x" in prompt
        else fmt_number(amount)
    )
    return f"Justification: {why}\nAnswer: {answer}"


def _recent_fraction(prompt: str) -> float:
    # Trace sentences name their round; the highest round is the most recent behaviour.
    rounds = [(int(r), float(p)) for r, p in _ROUND_PCT.findall(prompt)]
    if rounds:
        return min(max(rounds)[1], 100.0) / 100
    last = _last_float(_ANY_PCT, prompt)
    return 0.5 if last is None else min(last, 100.0) / 100


def _last_float(pattern: re.Pattern[str], text: str) -> float | None:
    found = pattern.findall(text)
    return float(found[-1]) if found else None


def fmt_number(x: float) -> str:
    """``x`` with at most two decimals and no trailing zeros (``12.5``, ``3``)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def count_tokens(text: str) -> int:
    """Approximate token count used by both offline paths: whitespace-separated words."""
    return len(text.split())


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Join the message contents of a chat request into one prompt string."""
    return "\n".join(str(m.get("content") or "") for m in messages)


def policy_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """What the offline policy reads: the user messages only (a system prompt's worked
    example of a trace must not be mistaken for the recipient's trace)."""
    return "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")
