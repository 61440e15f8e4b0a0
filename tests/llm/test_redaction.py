"""Credentials in an ``api_base`` (query string, userinfo) never reach records, the
summary, stop reasons or stderr, even when a server echoes the URL in its errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentsim.llm.types import redact, url_secrets
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import RunStopped, run_experiment
from agentsim.runtime.rundir import RunDir
from agentsim.testing.fake_openai_server import FakeOpenAIServer

SECRET = "qs-TOPSECRET-4242"


@pytest.mark.parametrize(
    "text",
    [
        f"no route for POST /v1/?key={SECRET}chat/completions",
        f"GET https://h.example/v1?access_token={SECRET}&x=1",
        f"https://h.example/v1?sig={SECRET}",
        f"x-goog-api-key={SECRET}",
    ],
)
def test_credential_query_parameters_are_redacted(text: str) -> None:
    assert SECRET not in redact(text)


def test_the_values_of_an_endpoint_url_are_redacted_wherever_they_appear() -> None:
    url = f"https://bobby:pa55word@h.example/v1?x={SECRET}"
    secrets = url_secrets(url)
    assert {"bobby", "pa55word", SECRET} <= set(secrets)
    assert redact(f"server says: {SECRET} and pa55word", secrets) == (
        "server says: [REDACTED] and [REDACTED]"
    )


def test_a_url_echoed_by_the_server_is_redacted_in_records_summary_and_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    with FakeOpenAIServer() as server:
        # The OpenAI client appends the route after the query, so the server sees an
        # unknown path and echoes it, credential included.
        base = f"{server.base_url}?key={SECRET}"
        config = make_config(
            "donor-game",
            0,
            ["agents=4", "rounds=2", "generations=1", "model=openai/donor", f"api_base={base}"],
        )
        run = RunDir.create(tmp_path, "run", config.to_json())
        with pytest.raises(RunStopped) as info:
            asyncio.run(run_experiment(run, config))
    events = run.file("events.jsonl").read_text()
    assert "no route for POST" in events  # the echo happened and was recorded
    assert SECRET not in str(info.value)
    for path in run.path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    out, err = capfd.readouterr()
    assert SECRET not in out + err
