"""Fixtures of the LLM adapter tests: no network, an in-process fake OpenAI server."""

from __future__ import annotations

import os

# Before anything imports litellm: never fetch the cost map, never phone home.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"
# (ruff allows imports after os.environ edits, so no noqa is needed below.)

from collections.abc import Iterator

import pytest

from agentsim.testing.fake_openai_server import FakeOpenAIServer


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    """A fault-free server; tests change faults with ``set_faults`` or its attributes."""
    with FakeOpenAIServer(timeout_sleep_s=1.0) as server:
        yield server
