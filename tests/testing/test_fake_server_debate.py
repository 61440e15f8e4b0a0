"""The fake server's ``debate`` behaviour answers debate prompts as the offline debater."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from agentsim.agents.llm.debate import parse_scale
from agentsim.testing.fake_openai_server import FakeOpenAIServer

SYSTEM = {"role": "system", "content": "You are Ann. You are a Democrat."}
SURVEY = {
    "role": "user",
    "content": "The debate so far:\n(the debate has not started)\n\nanswer this survey "
    "question for yourself: How serious a problem is racism?\nAnswer with a single number "
    "from 0 to 10, where 0 means not at all and 10 means extremely.",
}


def _ask(server: FakeOpenAIServer, model: str, messages: list[dict[str, str]]) -> str:
    body = json.dumps({"model": model, "messages": messages}).encode()
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        data: Any = json.load(reply)
    return str(data["choices"][0]["message"]["content"])


def test_debate_behaviour_answers_surveys_on_the_scale() -> None:
    with FakeOpenAIServer() as server:
        debate = _ask(server, "debate", [SYSTEM, SURVEY])
        donor = _ask(server, "donor", [SYSTEM, SURVEY])
    assert parse_scale(debate, 0, 10).value == "9"  # a Democrat starts at 9 (envs/debate/offline)
    assert "Answer:" in donor and debate != donor  # other models keep the donor policy
