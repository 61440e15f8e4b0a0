"""Pure parsers from raw model replies to actions, one per action type.

Every parser returns a :class:`ParseResult` and never raises on any reply text. On
failure, ``error`` is a short instruction fit to send back to the model when re-asking.
The donor-game parsers follow Vallinder & Hughes (2024, arXiv:2412.10270): split on the
first ``"Answer:"`` and read an absolute number of units from what follows. Their
``max_units`` is the limit *as the prompt showed it* (:func:`shown_units`), so a model that
answers the exact figure it was shown is never refused; error messages print that limit
exactly as shown (:func:`fmt_units`).

Example:
    >>> parse_donation("Justification: be kind.\\nAnswer: 4.5", max_units=10)
    ParseResult(ok=True, value=4.5, error=None, justification='be kind.')
    >>> parse_donation("I give 4", max_units=10).ok
    False
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ANSWER = "Answer:"
STRATEGY_MARK = "My strategy will be"

_LEADING_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")
_DONATE_OR_PUNISH = re.compile(r"(donate|punish).*?(\d+(?:[.,]\d+)?)", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_JUSTIFICATION_LABEL = re.compile(r"^\s*\**\s*justification\s*\**\s*:\s*\**\s*", re.IGNORECASE)
_CODE_FENCE = re.compile(r"```[A-Za-z]*\s*(.*?)```", re.DOTALL)
_EDGE_NOISE = " \t\r\n\"'`*.!,;:()[]"
_CENT = Decimal("0.01")
_WIDE = Context(prec=400)  # enough digits to round any finite float to cents exactly


def _cents(x: float) -> Decimal:
    # The float's shortest decimal form, rounded half-up as a reader would round it
    # (binary rounding would show 0.125 as 0.12).
    d = Decimal(repr(float(x)))
    if not d.is_finite():
        return d
    d = d.quantize(_CENT, rounding=ROUND_HALF_UP, context=_WIDE)
    return d.copy_abs() if d.is_zero() else d


def shown_units(x: float) -> float:
    """Resources as a prompt shows them: rounded half-up to two decimals.

    Example:
        >>> shown_units(383.3595), shown_units(0.125), shown_units(7.0)
        (383.36, 0.13, 7.0)
    """
    return float(_cents(x))


def fmt_units(x: float) -> str:
    """:func:`shown_units` as text: at most two decimals, no trailing zeros, no exponent.

    Example:
        >>> fmt_units(383.3595), fmt_units(12345.678), fmt_units(2.5), fmt_units(1e6)
        ('383.36', '12345.68', '2.5', '1000000')
    """
    d = _cents(x)
    if not d.is_finite():
        return str(float(x))
    return f"{d:f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class ParseResult(Generic[T]):
    """Outcome of parsing one reply.

    Attributes:
        ok: whether a valid action was found.
        value: the parsed action (None when not ok).
        error: why parsing failed, phrased as an instruction for re-asking the model.
        justification: the model's reasoning before the answer, when it gave one.
    """

    ok: bool
    value: T | None = None
    error: str | None = None
    justification: str | None = None


def _fail(error: str, justification: str | None = None) -> ParseResult[Any]:
    return ParseResult(ok=False, error=error, justification=justification)


def _split_answer(text: str) -> tuple[str | None, str | None]:
    """(justification, answer part) around the first ``Answer:``; answer None if absent."""
    head, sep, answer = text.partition(ANSWER)
    if not sep:
        return None, None
    justification = _JUSTIFICATION_LABEL.sub("", head).strip()
    return justification or None, answer


def _units_format(max_units: float) -> str:
    limit = fmt_units(max_units)
    return f"'Justification: <your reasoning> Answer: <number of units between 0 and {limit}>'"


def _out_of_range(units: float, max_units: float) -> bool:
    return not 0.0 <= units <= max_units or not math.isfinite(units)


def _echo(answer: str) -> str:
    # The model's own figure, as it wrote it (`:g` would show 12345.67 as 12345.7).
    return answer if len(answer) <= 24 else answer[:20] + "..."


def parse_donation(text: str, max_units: float) -> ParseResult[float]:
    """Absolute units donated, from ``... Answer: <number>`` (0 <= units <= max_units).

    ``max_units`` is the donor's resources as shown (:func:`shown_units`); clamping the
    answer to the unrounded holdings is the caller's job.

    Example:
        >>> parse_donation("Answer: 12", max_units=10).error
        'Your answer 12 is out of range: you can give between 0 and 10 units.'
    """
    justification, answer = _split_answer(text)
    if answer is None:
        return _fail(f"Your reply has no 'Answer:'. Reply in the form {_units_format(max_units)}.")
    match = _LEADING_NUMBER.match(answer)
    if match is None:
        return _fail(
            f"'Answer:' must be followed directly by a number. "
            f"Reply in the form {_units_format(max_units)}.",
            justification,
        )
    units = float(match.group(1))
    if _out_of_range(units, max_units):
        return _fail(
            f"Your answer {_echo(match.group(1))} is out of range: "
            f"you can give between 0 and {fmt_units(max_units)} units.",
            justification,
        )
    return ParseResult(ok=True, value=units, justification=justification)


def parse_donate_or_punish(text: str, max_units: float) -> ParseResult[tuple[str, float]]:
    """``("donate" | "punish", units)`` from ``Answer: Donate, x`` or ``Answer: Punish, x``.

    A comma decimal separator (``Punish, 2,5``) is accepted.

    Example:
        >>> parse_donate_or_punish("Answer: punish, 2,5", max_units=10).value
        ('punish', 2.5)
    """
    limit = fmt_units(max_units)
    form = f"'Answer: Donate, x' or 'Answer: Punish, x' with x between 0 and {limit}"
    justification, answer = _split_answer(text)
    if answer is None:
        return _fail(f"Your reply has no 'Answer:'. End your reply with {form}.")
    match = _DONATE_OR_PUNISH.search(answer)
    if match is None:
        return _fail(f"Your answer must be EITHER Donate, x OR Punish, x: {form}.", justification)
    action = match.group(1).lower()
    units = float(match.group(2).replace(",", "."))
    if _out_of_range(units, max_units):
        return _fail(
            f"Your answer x={_echo(match.group(2))} is out of range: "
            f"x must be between 0 and {limit}.",
            justification,
        )
    return ParseResult(ok=True, value=(action, units), justification=justification)


def parse_choice(text: str, choices: Sequence[str]) -> ParseResult[str]:
    """One of ``choices`` (case-insensitive), read after ``Answer:`` if present.

    A reply that is exactly a choice wins; otherwise exactly one choice must appear as a
    whole word. The canonical spelling from ``choices`` is returned.

    Raises:
        ValueError: if ``choices`` is empty (a programming error, not a reply problem).

    Example:
        >>> parse_choice("I think **KEEP**.", ["DONATE", "KEEP"]).value
        'KEEP'
    """
    if not choices:
        raise ValueError("parse_choice needs at least one choice")
    justification, answer = _split_answer(text)
    region = text if answer is None else answer
    allowed = ", ".join(choices)
    exact = {c.lower(): c for c in choices}.get(region.strip(_EDGE_NOISE).lower())
    if exact is not None:
        return ParseResult(ok=True, value=exact, justification=justification)
    found = [c for c in choices if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", region, re.I)]
    if len(found) == 1:
        return ParseResult(ok=True, value=found[0], justification=justification)
    if not found:
        return _fail(f"Your reply names none of the options. Answer with one of: {allowed}.")
    return _fail(
        f"Your reply names several options ({', '.join(found)}). Answer with exactly one of: "
        f"{allowed}.",
        justification,
    )


def parse_number(text: str, low: float, high: float) -> ParseResult[float]:
    """A number in [low, high]: the first after ``Answer:``, else the last in the reply.

    Example:
        >>> parse_number("Maybe 3, no, 7 is best.", 0, 10).value
        7.0
    """
    justification, answer = _split_answer(text)
    numbers = _ANY_NUMBER.findall(text if answer is None else answer)
    form = f"a number between {low:g} and {high:g}"
    if not numbers:
        return _fail(f"Your reply contains no number. End with 'Answer: <{form}>'.", justification)
    value = float(numbers[0] if answer is not None else numbers[-1])
    if not low <= value <= high:
        return _fail(f"Your answer {value:g} is out of range: give {form}.", justification)
    return ParseResult(ok=True, value=value, justification=justification)


def parse_json(text: str, required_keys: Sequence[str] = ()) -> ParseResult[dict[str, Any]]:
    """A JSON object with ``required_keys``, tolerating code fences and surrounding prose.

    Example:
        >>> parse_json('```json\\n{"amount": 3}\\n```', ["amount"]).value
        {'amount': 3}
    """
    obj = _load_object(text)
    if obj is None:
        keys = ", ".join(f'"{k}"' for k in required_keys) or "the requested keys"
        return _fail(f"Your reply is not a JSON object. Reply with only a JSON object with {keys}.")
    missing = [k for k in required_keys if k not in obj]
    why = obj.get("justification")
    justification = why if isinstance(why, str) else None
    if missing:
        return _fail(
            f"Your JSON object lacks {', '.join(repr(k) for k in missing)}. "
            f"Reply with a JSON object with keys {', '.join(repr(k) for k in required_keys)}.",
            justification,
        )
    return ParseResult(ok=True, value=obj, justification=justification)


def _load_object(text: str) -> dict[str, Any] | None:
    fenced = _CODE_FENCE.search(text)
    candidates = [fenced.group(1)] if fenced else []
    candidates.append(text)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            obj = json.loads(candidate)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested input
            continue
        if isinstance(obj, dict):
            return obj
    return None


def parse_strategy(text: str) -> ParseResult[str]:
    """The strategy sentence onward from the first ``My strategy will be``.

    The text before it is kept as the justification.

    Example:
        >>> r = parse_strategy("Reciprocity works. My strategy will be to give 50%.")
        >>> r.value, r.justification
        ('My strategy will be to give 50%.', 'Reciprocity works.')
    """
    index = text.find(STRATEGY_MARK)
    if index < 0:
        return _fail(
            f"Your reply has no sentence starting '{STRATEGY_MARK}'. Describe your strategy "
            f"in one sentence that starts: {STRATEGY_MARK}."
        )
    strategy = text[index:].strip()
    justification = text[:index].strip() or None
    if not strategy[len(STRATEGY_MARK) :].strip(_EDGE_NOISE):
        return _fail(
            f"Your strategy sentence is empty. Complete the sentence '{STRATEGY_MARK} ...'.",
            justification,
        )
    return ParseResult(ok=True, value=strategy, justification=justification)
