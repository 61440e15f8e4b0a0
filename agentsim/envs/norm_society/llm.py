"""The LLM side of the ``norm_society_v0`` study: context, dry-run estimate, offline model,
prompt check, and the LLM rewrite of a child's text traits (Li et al. 2024,
arXiv:2401.04620: with probability m each of persona, career and views "is rewritten by an
LLM prompted with the parents' attributes").

The study imports :data:`BINDING` and :func:`text_mutation`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import numpy as np

from agentsim.agents.llm.driver import Question, ask_and_parse
from agentsim.agents.llm.norm_society import (
    TEXT_TRAITS,
    TRAIT_CHARS,
    NormBank,
    NormLLMContext,
    load_norm_prompts,
    parse_text,
)
from agentsim.agents.llm.settings import LLMSettings
from agentsim.envs.norm_society.catalogue import load_bank
from agentsim.envs.norm_society.offline import norm_society_reply
from agentsim.envs.study import Estimate, LLMBinding
from agentsim.judges.base import item_seeds
from agentsim.llm.types import LanguageModel

#: How each text trait is named in the rewrite prompt.
TRAIT_WORDS: Mapping[str, str] = {
    "persona": "persona (who they are)",
    "career": "career",
    "worldview": "worldview",
    "life_view": "view of life",
    "values": "values (what matters most to them)",
}
#: Rough prompt / completion tokens per call, by purpose (for --dry-run).
TOKENS: Mapping[str, tuple[int, int]] = {
    "situation": (450, 40),
    "questionnaire": (500, 50),
    "memory": (500, 150),
    "observer": (650, 80),
    "mutation": (150, 40),
}
DEFAULT_THRESHOLD = 6


def context(
    model: LanguageModel, settings: LLMSettings, env: Mapping[str, Any], seeds: Any
) -> NormLLMContext:
    """The run's shared context: model stack, settings, templates and the bank."""
    bank = load_bank(str(env.get("bank_dir") or "") or None)
    return NormLLMContext(model, settings, load_norm_prompts(settings.prompt_dir), bank)


def compressions(steps: int, events_per_step: int, threshold: int) -> int:
    """Memory compressions of a member that lives ``steps`` steps: its short-term memory
    gains ``events_per_step`` events a step and is compressed, at the step's end, once it
    holds ``threshold``.

    Example:
        >>> compressions(20, 4, 6)  # every second step
        10
    """
    held = done = 0
    for _ in range(steps):
        held += events_per_step
        if held >= threshold:
            held, done = 0, done + 1
    return done


def _llm_parts(population: str) -> list[tuple[dict[str, float], int]]:
    """``(params, count)`` of the ``llm`` parts of a population spec (``llm[memory=0]:10``)."""
    out = []
    for part in filter(None, (p.strip() for p in population.split(","))):
        head, _, count = part.rpartition(":") if ":" in part else (part, "", "1")
        kind, _, rest = head.partition("[")
        if kind.strip() != "llm":
            continue
        params = {}
        for item in filter(None, rest.rstrip("]").split(";")):
            key, _, value = item.partition("=")
            try:
                params[key.strip()] = float(value)
            except ValueError:
                continue  # the population parser has refused it already
        out.append((params, int(count) if count.strip().isdigit() else 1))
    return out


def estimate(env: Mapping[str, Any], run: Any, settings: LLMSettings, n_llm: int) -> Estimate:
    """Calls and tokens of a run, assuming every reply parses first time.

    Exact: the decisions (``situations_per_step`` + 1 questionnaire per LLM member and
    step) and the LLM observer's verdicts (one per seat and step, audit judge too). Upper
    bound: memory compressions (counted as if every LLM member lived the whole run; a
    child starts with empty memory). Expected value: trait rewrites (m x 5 text traits x
    the children of LLM members per step, rounded).
    """
    steps, n = int(run.episodes), int(env.get("n_agents", 10))
    rounds = int(env.get("situations_per_step", 3))
    calls: dict[str, int] = {
        "situation": steps * n_llm * rounds,
        "questionnaire": steps * n_llm,
    }
    observers = sum(env.get(k) == "llm" for k in ("observer", "audit_observer"))
    calls["observer"] = steps * n * observers
    memory = 0
    for params, count in _llm_parts(str(getattr(run, "population", "")) or f"llm:{n_llm}"):
        if params.get("memory", 1) >= 0.5:
            threshold = int(params.get("memory_threshold", DEFAULT_THRESHOLD))
            memory += count * compressions(steps, rounds + 1, max(1, threshold))
    calls["memory"] = memory
    n_new = n - round(float(getattr(run, "survival_fraction", 0.5)) * n)
    rate = float(getattr(run, "mutation", 0.0))
    calls["mutation"] = round(max(0, steps - 1) * n_new * len(TEXT_TRAITS) * rate * n_llm / n)
    return Estimate(
        calls=sum(calls.values()),
        prompt_tokens=sum(c * TOKENS[k][0] for k, c in calls.items()),
        completion_tokens=sum(c * TOKENS[k][1] for k, c in calls.items()),
        detail=calls,
    )


Mutate = Callable[[str, Any, Any, str, np.random.Generator], Awaitable[Any]]


def llm_mutate(ctx: NormLLMContext, bank: NormBank | None = None) -> Mutate:
    """A :class:`~agentsim.evolution.crossover.CrossoverReproducer` ``mutate`` that
    rewrites one text trait with the run's model from both parents' versions of it
    (purpose ``mutation``, agent ``<child id>/<trait>``; the calls are recorded like
    every call). A reply that never parses keeps the inherited text. A parent without the trait
    lends a draw from the bank (``bank``, default the context's), drawn before any await
    so the draws keep the reproducer's order.
    """
    pools = bank or ctx.bank

    def mutate(
        key: str, value: Any, parents: Any, child: str, rng: np.random.Generator
    ) -> Awaitable[Any]:
        texts = []
        for parent in parents:
            text = parent.params.get(key) if parent is not None else None
            if not isinstance(text, str) or not text.strip():
                text = pools.draw_traits(rng)[key]
            texts.append(text)
        return _rewrite(ctx, key, value, texts[0], texts[1], child)

    return mutate


def text_mutation(ctx: NormLLMContext) -> Mutate:
    """:func:`llm_mutate` over the context's bank (what the study's reproducer uses)."""
    return llm_mutate(ctx)


async def _rewrite(
    ctx: NormLLMContext, key: str, value: Any, parent_a: str, parent_b: str, child: str
) -> Any:
    s = ctx.settings
    n = s.max_parse_attempts
    word = TRAIT_WORDS.get(key, key)
    prompt = ctx.prompts.render("norm_trait", trait=word, parent_a=parent_a, parent_b=parent_b)
    question = Question.from_settings(
        s,
        [("user", prompt)],
        purpose="mutation",
        # One name per rewrite: a child's rewrites run at once, and the call records are
        # ordered by (purpose, agent), so a shared name would leave them in reply order.
        agent=f"{child}/{key}",
        seeds=item_seeds("mutation", f"{child}/{key}", n),
    )
    fallback = value if isinstance(value, str) and value.strip() else parent_a
    answer = await ask_and_parse(
        ctx.model,
        question,
        lambda text: parse_text(text, "Trait", TRAIT_CHARS),
        fallback=fallback,
        max_attempts=n,
        reask=lambda e: ctx.prompts.render("norm_reask", error=e),
    )
    return answer.value


BINDING = LLMBinding(
    context=context,
    estimate=estimate,
    offline_policy=norm_society_reply,
    offline_name="norm_society",
    check_prompts=load_norm_prompts,
    # The donor game's prompt switches; the norm-society prompts have no such variants.
    unused_settings=("inherit_scores", "system_prompt", "advice_order", "structured_output"),
)

__all__ = ["BINDING", "compressions", "context", "estimate", "llm_mutate", "text_mutation"]
