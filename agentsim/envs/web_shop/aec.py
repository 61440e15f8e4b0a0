"""``web_shop_v0``: the shop as a PettingZoo ``AECEnv`` with a user and a web agent.

Two roles take turns: the ``user`` states the request (the query item; verbatim with
``user_voice=query``, as CASA's single-step protocol, Qiu et al. 2024, arXiv:2410.23252,
or in its own words with ``user_voice=model``) and answers a clarifying question; the
``assistant`` acts on the shop with WebArena actions (Zhou et al. 2024, arXiv:2307.13854),
exactly as in :class:`~agentsim.envs.web_shop.env.WebShopEnv`, whose episode logic it
shares. A ``stop`` whose answer ends in "?" is a question to the user while steps remain
(``max_steps > 1``, once per episode); otherwise ``stop`` ends the round.

Seats ``user_0`` and ``assistant_0`` share one observation space, ``Dict(role, text, url,
objective, previous_action, round[, action_mask], query, question, verbatim)``: the user
sees ``role="user"``, the query and the assistant's question (the page keys empty); the
assistant sees ``role="assistant"`` and the page (the user keys empty). In discrete mode
(RL) both seats act by slot: the user's only slot, 0, states the query verbatim.

Judging: rule judges judge when a round ends, inside ``step``; LLM judges (``judge=llm``,
after :meth:`WebShopAEC.bind`) judge in :meth:`WebShopAEC.asettle`, which the runner
awaits after each step (used synchronously, the env judges at once). Records
(``pop_records``): ``web_request``, ``web_step``, ``web_outcome`` and ``judgement``
(with ``metric`` and ``round``).

Example:
    >>> env = WebShopAEC(split="s1_violate")
    >>> env.reset(seed=0, options={"item": "Egypt_1"})
    >>> env.step(env.observe("user_0")["query"])
    >>> env.step("Alcohol is forbidden for observant Muslims. ```stop [N/A]```")
    >>> [(r["metric"], r["label"]) for r in env.pop_records() if r["type"] == "judgement"]
    [('AC', 'Yes'), ('Edu', 'B')]

Version History:
    v0: initial.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv

from agentsim.core.config import build_config, check_choice
from agentsim.core.records import Record
from agentsim.envs.text import env_record
from agentsim.envs.web_shop.config import WebShopConfig
from agentsim.envs.web_shop.env import (
    ASSISTANT_SEAT,
    MAX_ACTIONS,
    MAX_REPLY_CHARS,
    WebShopCore,
    observation_spaces,
    sanitize,
    text_space,
)

#: The seats (PettingZoo's ``<descriptor>_<number>`` names); the roles are user and assistant.
USER, ASSISTANT = "user_0", ASSISTANT_SEAT
_SHORT = 4000


# pettingzoo ships no type information, so AECEnv is Any to mypy.
class WebShopAEC(AECEnv[str, dict[str, Any], Any]):  # type: ignore[misc]
    """The two-role shop env (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "web_shop_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": False,
    }

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self.config = build_config(WebShopConfig, config)
        self.render_mode = render_mode
        self.discrete = self.config.action_mode == "discrete"
        self.core = WebShopCore(self.config)
        self.possible_agents = [USER, ASSISTANT]
        self.agents: list[str] = []
        # One observation space for both roles (the keys of the other role stay empty), so
        # every seat can be played by the same kinds and PettingZoo's checks see one space.
        space = spaces.Dict(
            {
                "role": text_space(16),
                **observation_spaces(self.config),
                "query": text_space(_SHORT),
                "question": text_space(_SHORT),
                "verbatim": spaces.Discrete(2),
            }
        )
        self._obs_spaces = dict.fromkeys(self.possible_agents, space)
        self._act_spaces: dict[str, spaces.Space[Any]] = {
            # In discrete mode the user's one slot (0) states the query verbatim.
            USER: spaces.Discrete(MAX_ACTIONS) if self.discrete else text_space(MAX_REPLY_CHARS),
            ASSISTANT: spaces.Discrete(MAX_ACTIONS)
            if self.discrete
            else text_space(MAX_REPLY_CHARS),
        }
        self.np_random, _ = seeding.np_random(None)
        self._records: list[Record] = []

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self._act_spaces[agent]

    def bind(self, context: Any) -> None:
        """Attach the run's LLM context (the LLM judges ask its model)."""
        self.core.bind(context)

    # -- episode -------------------------------------------------------------------------

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start an episode on one query item (``options``: ``item`` id or ``episode``)."""
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        item = self.core.choose(self.np_random, options)
        self.core.start(item)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {a: self._info() for a in self.agents}
        self.agent_selection = USER
        self._question = ""
        self._records = []

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if not self.agents:
            raise RuntimeError("web_shop_v0: the episode is over; call reset() first")
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if self.core.pending is not None:
            raise RuntimeError(
                "web_shop_v0: the LLM judges have not judged the last round; "
                "await env.asettle() after each step (the runner does)"
            )
        self._cumulative_rewards[agent] = 0.0
        if agent == USER:
            self._user_step(action)
        else:
            self._assistant_step(action)
        self._after()

    def _user_step(self, action: Any) -> None:
        text = sanitize(action, _SHORT).strip() if isinstance(action, str) else ""
        text = text or self.core.item.query  # an empty request stands for the query
        self._records.append(
            env_record(
                "web_request",
                agent=USER,
                item=self.core.item.id,
                text=text,
                question=self._question or None,
            )
        )
        if self._question:
            self.core.answer_question(text)
        else:
            self.core.objective = text
        self._question = ""
        self.agent_selection = ASSISTANT

    def _assistant_step(self, action: Any) -> None:
        core = self.core
        reply = core.resolve(action, self.discrete)
        if not self.discrete and core.is_question(reply):
            self._question = core.ask(reply)
            self.agent_selection = USER
            return
        step = core.act(reply, self.discrete)
        self.infos[ASSISTANT] = {**self._info(), "action_error": step.error}
        if step.error:
            self.infos[ASSISTANT]["action_error_message"] = step.message

    def _after(self) -> None:
        """Finish the episode once the core has (after judging)."""
        core = self.core
        self._records += core.pop_records()
        if core.pending is not None or not core.finished:
            return
        self.rewards = {USER: 0.0, ASSISTANT: core.reward}
        if core.truncated:
            self.truncations = dict.fromkeys(self.agents, True)
        else:
            self.terminations = dict.fromkeys(self.agents, True)
        self._accumulate_rewards()

    async def asettle(self, observations: dict[str, Any]) -> dict[str, Any]:
        """Await the LLM judges of a round that ended; returns ``observations`` unchanged."""
        if self.core.pending is not None:
            await self.core.asettle()
            self._after()
        return observations

    # -- observations --------------------------------------------------------------------

    def observe(self, agent: str) -> dict[str, Any]:
        core = self.core
        obs = core.observation(self.discrete)
        user = {
            "query": sanitize(core.item.query, _SHORT),
            "question": sanitize(self._question, _SHORT),
            "verbatim": int(self.config.user_voice == "query"),
        }
        if agent == USER:
            blank: dict[str, Any] = {k: "" for k in ("text", "url", "objective", "previous_action")}
            if self.discrete:
                blank["action_mask"] = np.eye(1, MAX_ACTIONS, dtype=np.int8)[0]
            return {**obs, **blank, "role": "user", **user}
        return {**obs, "role": "assistant", **dict.fromkeys(("query", "question"), ""),
                "verbatim": user["verbatim"]}  # fmt: skip

    def _info(self) -> dict[str, Any]:
        core = self.core
        return {
            "item": core.item.id,
            "round": core.round,
            "action_strings": core.action_strings(),
            "labels": dict(core.labels),
        }

    # -- records -------------------------------------------------------------------------

    def pop_records(self) -> list[Record]:
        """The records made since the last call (oldest first), once."""
        self._records += self.core.pop_records()
        out, self._records = self._records, []
        return out

    def episode_records(self, ids: Sequence[str]) -> list[Record]:
        """Records not yet popped (the last round's verdicts, when judged after the step)."""
        return self.pop_records()

    def episode_stats(self, ids: Sequence[str]) -> dict[str, Any]:
        return self.core.stats()

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return self.core.session.observe(cap=self.config.obs_cap)

    def close(self) -> None:
        self.core.close()


def env(**config: Any) -> WebShopAEC:
    """Factory in PettingZoo's style."""
    return WebShopAEC(**config)
