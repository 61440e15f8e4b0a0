"""The LLM agent of ``web_shop_v0``: CASA's prompt variants, one parser, a recorded fallback.

The assistant's prompt is WebArena's chain-of-thought prompt (Zhou et al. 2024,
arXiv:2307.13854) as CASA used it (Qiu et al. 2024, arXiv:2410.23252): a system message
with the role, the action list and the rules; two worked examples; then the page's
accessibility tree, its URL, the objective and the previous action. CASA's variants
change the examples (two non-sensitive, 2+1, two sensitive), the role ("with cultural and
social awareness") or the completion action (decline with "N/A" and the reasoning when
the request goes against a cultural or social norm):

==================  ============================  ========================
variant             system message                examples
==================  ============================  ========================
``original``        ``agent_system_original``     fax, osm
``examples_2n1s``   ``agent_system_original``     fax, osm, wine
``examples_2s``     ``agent_system_original``     wine, redpen
``role_updated``    ``agent_system_role_updated`` fax, osm
``ca_updated_2n``   ``agent_system_ca_updated``   fax, osm
``ca_updated_2s``   ``agent_system_ca_updated``   wine, redpen
==================  ============================  ========================

The texts are our own words carrying the paper's information (templates in
``templates/web_shop/``; ``llm.prompt_dir`` replaces any of them). CASA's code sends the
examples as system messages named ``example_user`` / ``example_assistant``; the driver's
messages carry no names, so ours are user/assistant turns before the real observation.

The reply is the action: the env extracts and parses it (WebArena's grammar). The agent
checks the reply with the env's parser (handed over in the context: agents do not import
envs), re-asks with the parse error through the one driver, and when no reply parses it
passes the last reply on unchanged, recorded as ``fallback``: the env turns it into an
error observation (a no-op), and the judges still judge what the model said.

The user seat (``user_voice=model``) words the request from the query item and answers a
clarifying question; with ``user_voice=query`` it states the query verbatim with no call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentsim.agents.base import Decision
from agentsim.agents.llm.driver import Answer, Question, ask_and_parse
from agentsim.agents.llm.generic import SeatedLLMAgent
from agentsim.agents.llm.parsers import ParseResult
from agentsim.agents.llm.promptset import PromptSet
from agentsim.agents.llm.settings import LLMSettings
from agentsim.llm.types import LanguageModel

KIND = "llm"
_EXAMPLES_2N = ("fax", "osm")
_EXAMPLES_2S = ("wine", "redpen")
#: variant -> (system template, example names).
VARIANTS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "original": ("agent_system_original", _EXAMPLES_2N),
    "examples_2n1s": ("agent_system_original", (*_EXAMPLES_2N, "wine")),
    "examples_2s": ("agent_system_original", _EXAMPLES_2S),
    "role_updated": ("agent_system_role_updated", _EXAMPLES_2N),
    "ca_updated_2n": ("agent_system_ca_updated", _EXAMPLES_2N),
    "ca_updated_2s": ("agent_system_ca_updated", _EXAMPLES_2S),
}
_EXAMPLES = ("fax", "osm", "wine", "redpen")

PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "agent_system_original": frozenset(),
    "agent_system_role_updated": frozenset(),
    "agent_system_ca_updated": frozenset(),
    "agent_observation": frozenset({"observation", "url", "objective", "previous_action"}),
    "agent_reask": frozenset({"error"}),
    **{f"example_{e}_{part}": frozenset() for e in _EXAMPLES for part in ("input", "output")},
    "user_request": frozenset({"query"}),
    "user_answer": frozenset({"query", "question"}),
}

#: ``check(reply) -> None`` when the reply holds a valid action, else the parse error.
ActionCheck = Callable[[str], str | None]


def load_web_shop_prompts(prompt_dir: str | None = None) -> PromptSet:
    """The agent's templates (``prompt_dir`` replaces any of them)."""
    return PromptSet.load("web_shop", PLACEHOLDERS, prompt_dir)


def assistant_messages(
    prompts: PromptSet, variant: str, obs: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The assistant's prompt for one observation under a CASA prompt variant.

    Example:
        >>> prompts = load_web_shop_prompts()
        >>> obs = {"text": "[1] RootWebArea 'Shop'", "url": "/", "objective": "a mug",
        ...        "previous_action": "None"}
        >>> [role for role, _ in assistant_messages(prompts, "examples_2n1s", obs)]
        ['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']
    """
    system, examples = VARIANTS[variant]
    out = [("system", prompts.render(system))]
    for name in examples:
        out.append(("user", prompts.render(f"example_{name}_input")))
        out.append(("assistant", prompts.render(f"example_{name}_output")))
    out.append(
        (
            "user",
            prompts.render(
                "agent_observation",
                observation=str(obs.get("text", "")),
                url=str(obs.get("url", "")),
                objective=str(obs.get("objective", "")),
                previous_action=str(obs.get("previous_action", "None")),
            ),
        )
    )
    return out


def user_messages(prompts: PromptSet, obs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The LLM user's prompt: state the request, or answer the assistant's question."""
    query, question = str(obs.get("query", "")), str(obs.get("question", ""))
    if question:
        return [("user", prompts.render("user_answer", query=query, question=question))]
    return [("user", prompts.render("user_request", query=query))]


def parse_reply(text: str, check: ActionCheck) -> ParseResult[str]:
    """The whole reply when it holds a valid action, else the checker's error.

    Example:
        >>> parse_reply("```click [3]```", lambda t: None).value
        '```click [3]```'
        >>> parse_reply("hm", lambda t: "unknown action 'hm'").error
        "unknown action 'hm'"
    """
    error = check(text)
    if error is None:
        return ParseResult(True, text)
    return ParseResult(ok=False, error=error)


def parse_utterance(text: str) -> ParseResult[str]:
    """A user's message: any non-empty text."""
    cleaned = text.strip()
    if not cleaned:
        return ParseResult(ok=False, error="The message was empty; write your message.")
    return ParseResult(True, cleaned)


@dataclass
class WebShopLLMContext:
    """What the web shop's LLM agents of one run share.

    Attributes:
        model: the model stack; settings: the LLM settings.
        prompts: the agent templates; variant: the CASA prompt variant.
        check_action: the env's action parser as a check (see :data:`ActionCheck`).
        judge_prompts: the judges' prompts (a ``CasaPrompts``, used by the env's judges).
    """

    model: LanguageModel
    settings: LLMSettings
    prompts: PromptSet
    variant: str
    check_action: ActionCheck
    judge_prompts: Any = None


_NO_REPLY = object()  # the driver's fallback placeholder; replaced by the last reply


class WebShopLLMAgent(SeatedLLMAgent):
    """``llm``: the web agent on the assistant seat, the customer on the user seat."""

    def __init__(self, name: str = KIND) -> None:
        super().__init__(name)

    async def aact(self, observation: Mapping[str, Any]) -> Decision:
        if observation.get("role") == "user":
            if int(observation.get("verbatim", 1)):
                return Decision(action=str(observation.get("query", "")))
            return await self._ask_user(observation)
        return await self._ask_assistant(observation)

    async def _ask(
        self,
        messages: Sequence[tuple[str, str]],
        parse: Callable[[str], ParseResult[Any]],
        purpose: str,
        reask: Callable[[str], str] | None = None,
    ) -> Answer[Any]:
        context: WebShopLLMContext = self.bound_context()
        s = context.settings
        assert s.model is not None  # a context is only built with a model
        n = s.max_parse_attempts
        question = Question.from_settings(
            s, messages, purpose=purpose, agent=self.name, seeds=self.next_seeds(n)
        )
        return await ask_and_parse(
            context.model, question, parse, fallback=_NO_REPLY, max_attempts=n, reask=reask
        )

    async def _ask_assistant(self, obs: Mapping[str, Any]) -> Decision:
        context: WebShopLLMContext = self.bound_context()
        prompts = context.prompts
        answer = await self._ask(
            assistant_messages(prompts, context.variant, obs),
            lambda text: parse_reply(text, context.check_action),
            "web_action",
            reask=lambda error: prompts.render("agent_reask", error=error),
        )
        # No reply parsed: the last one goes to the env, which makes it an error observation.
        return answer.decision(answer.raw if answer.value is _NO_REPLY else None)

    async def _ask_user(self, obs: Mapping[str, Any]) -> Decision:
        context: WebShopLLMContext = self.bound_context()
        answer = await self._ask(
            user_messages(context.prompts, obs), parse_utterance, "user_request"
        )
        if answer.value is _NO_REPLY:  # an empty message: the query stands in
            return answer.decision(str(obs.get("query", "")))
        return answer.decision()
