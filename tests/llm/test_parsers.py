"""Reply parsers: table tests, and hypothesis fuzzing (never raise, round-trip answers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agentsim.agents.llm.parsers import (
    ParseResult,
    fmt_units,
    parse_choice,
    parse_donate_or_punish,
    parse_donation,
    parse_json,
    parse_number,
    parse_strategy,
    shown_units,
)
from agentsim.llm.offline_behaviours import GARBAGE_TEXT, offline_reply


@pytest.mark.parametrize(
    ("text", "value", "justification"),
    [
        ("Justification: be nice.\nAnswer: 5", 5.0, "be nice."),
        ("Justification:\nmulti\nline\nAnswer:   2.75 units", 2.75, "multi\nline"),
        ("Answer: 0", 0.0, None),
        ("Answer: 10", 10.0, None),
        ("Answer: 3 Answer: 9", 3.0, None),  # the first Answer: counts
        ("**Justification:** ok Answer:\n4", 4.0, "ok"),
    ],
)
def test_parse_donation_accepts(text: str, value: float, justification: str | None) -> None:
    result = parse_donation(text, max_units=10)
    assert result.ok and result.error is None
    assert result.value == value
    assert result.justification == justification


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("I donate 5", "no 'Answer:'"),
        ("Answer: five", "followed directly by a number"),
        ("Answer: -1", "followed directly by a number"),
        ("Answer: 10.5", "out of range"),
        ("Answer: 99999999999999999999999999", "out of range"),
        (GARBAGE_TEXT, "no 'Answer:'"),
    ],
)
def test_parse_donation_rejects(text: str, message_part: str) -> None:
    result = parse_donation(text, max_units=10)
    assert not result.ok and result.value is None
    assert result.error is not None and message_part in result.error


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Answer: Donate, 5", ("donate", 5.0)),
        ("Answer: PUNISH, 2,5", ("punish", 2.5)),
        ("Because. Answer: I will donate x = 3.5 units", ("donate", 3.5)),
        ("Answer: punish 0", ("punish", 0.0)),
    ],
)
def test_parse_donate_or_punish_accepts(text: str, value: tuple[str, float]) -> None:
    result = parse_donate_or_punish(text, max_units=10)
    assert result.ok and result.value == value


@pytest.mark.parametrize(
    "text", ["Donate, 5", "Answer: give 5", "Answer: Donate, lots", "Answer: Punish, 11"]
)
def test_parse_donate_or_punish_rejects(text: str) -> None:
    result = parse_donate_or_punish(text, max_units=10)
    assert not result.ok and result.error


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DONATE", "DONATE"),
        ("  keep.  ", "KEEP"),
        ("I think **KEEP** is right", "KEEP"),
        ("Donate or keep? Answer: donate", "DONATE"),
    ],
)
def test_parse_choice_accepts(text: str, value: str) -> None:
    assert parse_choice(text, ["DONATE", "KEEP"]).value == value


@pytest.mark.parametrize("text", ["maybe", "DONATE and KEEP", "donated", ""])
def test_parse_choice_rejects(text: str) -> None:
    result = parse_choice(text, ["DONATE", "KEEP"])
    assert not result.ok and result.error and "DONATE, KEEP" in result.error


def test_parse_choice_needs_choices() -> None:
    with pytest.raises(ValueError, match="at least one choice"):
        parse_choice("x", [])


@pytest.mark.parametrize(
    ("text", "ok", "value"),
    [
        ("Answer: 7 (not 9)", True, 7.0),
        ("first 3 then 8", True, 8.0),
        ("Answer: -2", False, None),
        ("no digits", False, None),
        ("Answer: 0.5", True, 0.5),
    ],
)
def test_parse_number(text: str, ok: bool, value: float | None) -> None:
    result = parse_number(text, 0, 10)
    assert result.ok is ok and result.value == value


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('{"justification": "x", "amount": 3}', True),
        ('```json\n{"justification": "x", "amount": 3}\n```', True),
        ('Sure! {"justification": "x", "amount": 3} Hope that helps.', True),
        ('{"amount": 3}', False),
        ("[1, 2]", False),
        ("not json", False),
        ("[" * 100_000, False),
    ],
)
def test_parse_json(text: str, ok: bool) -> None:
    result = parse_json(text, ["justification", "amount"])
    assert result.ok is ok
    if ok:
        assert result.value == {"justification": "x", "amount": 3}
        assert result.justification == "x"
    else:
        assert result.error


def test_parse_strategy() -> None:
    result = parse_strategy("Think first.\nMy strategy will be to give 40%. Then more.")
    assert result.value == "My strategy will be to give 40%. Then more."
    assert result.justification == "Think first."
    assert not parse_strategy("I will give 40%").ok
    assert not parse_strategy("My strategy will be.").ok


# --- fuzzing -------------------------------------------------------------------------------

PARSERS: list[Callable[[str], ParseResult[Any]]] = [
    lambda t: parse_donation(t, 10),
    lambda t: parse_donate_or_punish(t, 10),
    lambda t: parse_choice(t, ["DONATE", "KEEP"]),
    lambda t: parse_number(t, -5, 5),
    lambda t: parse_json(t, ["amount"]),
    parse_strategy,
]

_TRICKY = st.sampled_from(
    ["Answer:", "Donate", "punish", "My strategy will be", "{", "}", "```", "1,5", "9" * 400]
)
_TEXTS = st.lists(st.one_of(st.text(max_size=40), _TRICKY), max_size=12).map("".join)


@given(_TEXTS)
@example("Answer:" + "9" * 5000)
@example('{"amount": ' + "1" * 5000 + "}")
def test_parsers_never_raise(text: str) -> None:
    for parse in PARSERS:
        result = parse(text)
        assert result.ok == (result.error is None)
        assert result.ok or result.value is None


_WORDS = st.text(alphabet="abcdefghij .,", max_size=60)
_UNITS = st.decimals(min_value=0, max_value=100, places=2).map(str)


@given(_WORDS, _UNITS)
def test_donation_round_trips(justification: str, units: str) -> None:
    result = parse_donation(f"Justification: {justification}\nAnswer: {units}", 100)
    assert result.ok and result.value == float(units)
    assert result.justification == (justification.strip() or None)


@given(_WORDS, st.sampled_from(["Donate", "punish", "PUNISH"]), _UNITS)
def test_donate_or_punish_round_trips(justification: str, action: str, units: str) -> None:
    result = parse_donate_or_punish(f"{justification} Answer: {action}, {units}", 100)
    assert result.ok and result.value == (action.lower(), float(units))


@given(_WORDS, _WORDS)
def test_strategy_round_trips(before: str, after: str) -> None:
    text = f"{before}My strategy will be to {after}x."
    result = parse_strategy(text)
    assert result.ok and result.value == f"My strategy will be to {after}x."
    assert result.justification == (before.strip() or None)


@given(
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=10_000),
    st.booleans(),
)
def test_offline_donor_replies_parse(fraction: float, units: int, punish: bool) -> None:
    prompt = f"You currently have {units} units of the valuable resource."
    if punish:
        prompt += " State your answer as EITHER Donate, x OR Punish, x."
        reply = offline_reply(f"donor-{fraction:.3f}", prompt)
        parsed = parse_donate_or_punish(reply, units)
        assert parsed.ok and parsed.value is not None and parsed.value[0] == "donate"
    else:
        parsed_d = parse_donation(offline_reply(f"donor-{fraction:.3f}", prompt), units)
        assert parsed_d.ok and parsed_d.value is not None
        assert parsed_d.value == pytest.approx(units * round(fraction, 3), abs=0.011)


# --- resources as prompts show them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.125, "0.13"),  # half-up, where binary rounding gives 0.12
        (2.675, "2.68"),
        (383.3595, "383.36"),
        (12345.678, "12345.68"),  # `:g` gives 12345.7
        (1e6, "1000000"),  # `:g` gives 1e+06
        (1e20, "100000000000000000000"),
        (0.004, "0"),
        (-0.0, "0"),
        (10.0, "10"),
        (2.5, "2.5"),
    ],
)
def test_units_are_shown_rounded_half_up_without_exponents(x: float, text: str) -> None:
    assert fmt_units(x) == text
    assert shown_units(x) == float(text)


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_the_shown_figure_is_the_parse_limit_and_within_half_a_cent(x: float) -> None:
    shown = fmt_units(x)
    assert float(shown) == shown_units(x)
    assert abs(shown_units(x) - x) <= 0.005 + 1e-12 * x
    assert parse_donation(f"Answer: {shown}", shown_units(x)).value == shown_units(x)


@pytest.mark.parametrize(
    ("behaviour", "units", "answer"),
    [
        ("donor-0.5", "0.25", "0.13"),  # 0.125 rounded half-up, as a model would say it
        ("donor-0.5", "383.37", "191.69"),
        ("donor-1", "383.36", "383.36"),  # everything: the figure it was shown
        ("donor-0.3", "10", "3"),
    ],
)
def test_the_offline_donor_answers_the_figures_a_model_would(
    behaviour: str, units: str, answer: str
) -> None:
    reply = offline_reply(behaviour, f"You currently have {units} units of the resource.")
    assert reply.splitlines()[-1] == f"Answer: {answer}"
