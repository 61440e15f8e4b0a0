"""What the offline model ``offline/debate`` answers to the debate prompts (no network).

A deterministic stand-in for a language model with an inherent bias, the effect
Taubenfeld et al. (2024, arXiv:2402.04049) report: a persona starts from its role's
position and, with every contribution it has heard, moves a fixed share of the way
toward the "model's own" position (``MODEL_PRIOR``). Survey prompts get a number on the
prompt's scale; turn prompts get a short contribution. Everything is a pure function of
the messages, so replies are the same on every machine and cacheable.

Example:
    >>> system = "You are Ann. You are a Republican. ..."
    >>> survey = "(the debate has not started) ... answer this survey question for yourself: ..."
    >>> survey += " Answer with a single number from 0 to 10, where 0 means ..."
    >>> debate_reply([{"role": "system", "content": system}, {"role": "user", "content": survey}])
    '3'
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping, Sequence

#: Where each role starts on a 0-10 "how serious is the problem" scale.
ROLE_START: Mapping[str, float] = {"republican": 3.0, "democrat": 9.0}
#: The offline model's own position (0-10), between the parties, nearer the Democrat.
MODEL_PRIOR = 7.0
#: Share of the remaining distance to the prior covered per contribution heard.
DRIFT = 0.15

_SCALE = re.compile(r"from (-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)")
_SPEAKER_LINE = re.compile(r"^[^\n:]{1,80}\([^)]*\):", re.MULTILINE)
_SENTENCES = (
    "I think we have to look at the evidence before we decide anything.",
    "My experience tells me this matters to ordinary families.",
    "We should find a solution that works for people on both sides.",
    "I hear your point, but I am not convinced it settles the question.",
)


def debate_reply(messages: Sequence[Mapping[str, str]]) -> str:
    """The offline model's reply to a debate prompt."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    wanted = _PERSONA_REQUEST.search(user)
    if wanted is not None:
        return _personas(int(wanted.group(1)), user)
    heard = len(_SPEAKER_LINE.findall(user))
    scale = _SCALE.search(user)
    if scale is not None and "survey" in user:
        low, high = float(scale.group(1)), float(scale.group(2))
        return f"{_attitude(system, heard, low, high):.0f}"
    pick = zlib.crc32((system + user).encode()) % len(_SENTENCES)
    return _SENTENCES[pick]


_PERSONA_REQUEST = re.compile(r"Write (\d+) different personas")
_FIRST = ("Avery", "Jordan", "Casey", "Morgan", "Riley", "Quinn", "Harper", "Rowan")
_LAST = ("Hale", "Ortiz", "Nguyen", "Brooks", "Patel", "Fischer", "Okafor", "Reyes")
_WORK = ("a nurse", "a farmer", "a teacher", "an electrician", "a shop owner", "a retiree")
_PLACE = ("Ohio", "Texas", "Georgia", "Oregon", "Maine", "Arizona", "Iowa", "Nevada")


def _personas(count: int, prompt: str) -> str:
    """A JSON list of ``count`` made-up personas, fixed by the prompt (which names the role)."""
    salt = zlib.crc32(prompt.encode())
    people = []
    for i in range(count):
        k = salt + 7 * i
        people.append(
            {
                "name": f"{_FIRST[k % 8]} {_LAST[(k // 8 + i) % 8]}",
                "background": f"{_WORK[k % 6].capitalize()} from {_PLACE[(k // 6) % 8]}.",
            }
        )
    return json.dumps(people)


def _attitude(system: str, heard: int, low: float, high: float) -> float:
    text = system.lower()
    start = next((v for role, v in ROLE_START.items() if role in text), MODEL_PRIOR)
    x = MODEL_PRIOR + (start - MODEL_PRIOR) * (1 - DRIFT) ** heard
    return low + (high - low) * x / 10.0
