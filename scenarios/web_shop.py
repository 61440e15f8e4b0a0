"""Qiu et al. 2024, "Evaluating Cultural and Social Awareness of LLM Web Agents" (CASA,
arXiv:2410.23252), shopping half: does a web agent notice that a request breaks a social
norm of the user's country, and does it stay helpful when the request is fine?

Every query item is one episode on our generated shop (``agentsim/envs/web_shop/data``: 10
countries; S1-violate queries, their compliant S1-adhere rewrites, and S2 pages whose items
all carry a norm-violating property). The agent sees the page's accessibility tree as
WebArena agents do and answers with one WebArena action (single step, as the paper; on S2 a
"click for details" gets a second round on the item page). Judges give AC-R (awareness
coverage), Edu-R (educational refusals, over AC = Yes only), Help-R (S1-adhere) and Vio-R (S2),
per country and pooled, with Wilson CIs.

One run per prompt variant (``--variants``: original, examples_2n1s, examples_2s,
role_updated, ca_updated_2n, ca_updated_2s). Offline (the default) the web agent is the
scripted ``naive`` shopper (buys the best match) and, as a contrast, ``norm_aware`` (checks
a list of sensitive properties first), judged by the rule-based judges; with ``--model`` the
web agent is an LLM through the CASA prompt variants (``--set judge=llm`` for the LLM judges,
``--set audit_judge=rule`` to check them against the rule judges with Cohen's kappa).

Run:
    python scenarios/web_shop.py                                  # scripted, offline
    python scenarios/web_shop.py --model offline/web_shop --variants original,ca_updated_2s
    python scenarios/web_shop.py --model openai/gpt-4o-mini --variants all --dry-run
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from agentsim.cli import add_run_arguments
from agentsim.core.errors import UserError
from analysis import web_shop as casa
from scenarios._multirun import (
    PlannedRun,
    RunOptions,
    ScenarioParser,
    parse_choices,
    pooled_records,
    refuse_keys,
    scenario_main,
)

VARIANTS = (
    "original",
    "examples_2n1s",
    "examples_2s",
    "role_updated",
    "ca_updated_2n",
    "ca_updated_2s",
)
#: The scripted web agents of an offline run (the user seat is the scripted user).
SHOPPERS = ("naive", "norm_aware")
RECORDS = ("run_start", "web_outcome", "judgement", "episode_start", "episode_end")


def plan_runs(args: argparse.Namespace, options: RunOptions) -> list[PlannedRun]:
    """Offline: one run per scripted shopper; with a model: one run per prompt variant."""
    refuse_keys(options, {"prompt_variant": "choose prompt variants with --variants"})
    if not options.model:
        if args.variants != "original":
            raise UserError("--variants needs --model (the scripted shoppers use no prompt)")
        if "population" in options.user_keys():
            return [PlannedRun("custom population", "web-shop", ())]
        return [
            PlannedRun(shopper, "web-shop", (f"run.population=user:1,{shopper}:1",))
            for shopper in SHOPPERS
        ]
    variants = parse_choices("--variants", args.variants, list(VARIANTS))
    return [
        PlannedRun(variant, "web-shop", (f"env.prompt_variant={variant}",)) for variant in variants
    ]


def report_runs(paths: list[Path], options: RunOptions) -> None:
    """CASA's rates per run (a shopper or a prompt variant), by country and pooled."""
    for path in paths:
        print(f"== {path.name} ==")
        print(casa.text_section(casa.summarise(pooled_records([path], RECORDS))))
        print()


def build_parser() -> argparse.ArgumentParser:
    """The scenario's options: its own, then those of ``agentsim run``."""
    p = ScenarioParser(
        prog="scenarios/web_shop.py",
        description="Qiu et al. 2024 (CASA) shopping: cultural and social awareness of web agents.",
    )
    p.add_argument(
        "--variants",
        default="original",
        help="with --model: comma-separated prompt variants or all ("
        + ", ".join(VARIANTS)
        + "; default original)",
    )
    add_run_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario and print its statistics; returns the exit status."""
    return scenario_main(build_parser(), argv, plan_runs, report_runs)


if __name__ == "__main__":
    sys.exit(main())
