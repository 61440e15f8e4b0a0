"""Settings that can never work are refused up front; errors that retrying cannot fix are
not retried; a local server needs no key; a dollar budget is never silently ignored."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.errors import BudgetExceeded, UserError
from agentsim.llm.factory import build_model
from agentsim.llm.pricing import Prices
from agentsim.llm.types import ChatRequest, PermanentLLMError, complete_sync
from agentsim.llm.wrappers import Budget
from agentsim.runtime.experiment import make_config
from agentsim.runtime.llm_runtime import check_model_flag, estimate, preflight
from agentsim.runtime.loop import RunStopped, run_experiment
from agentsim.runtime.rundir import RunDir
from agentsim.testing.fake_openai_server import FakeOpenAIServer

SMALL = ["agents=4", "rounds=2", "generations=1", "retry_base_delay_s=0.01"]
PROMPT = "You are the donor. You currently have 10 units of the valuable resource."


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def _run(tmp_path: Path, overrides: list[str]) -> dict[str, object]:
    config = make_config("donor-game", 0, [*SMALL, *overrides])
    run = RunDir.create(tmp_path, "run", config.to_json())
    summary: dict[str, object] = asyncio.run(run_experiment(run, config))
    return summary


# --- item 21: what can never work is refused before a run directory exists ----------------


@pytest.mark.usefixtures("no_key")
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": ""}, "--model is empty"),
        ({"model": "  "}, "--model is empty"),
        ({"api_base": "http://127.0.0.1:8000/v1"}, "needs a model"),
        ({"model": "foo/bar"}, "unknown provider"),
        ({"model": "offline/zzz"}, "unknown offline model"),
        ({"model": "local/other"}, "unknown local model"),
        ({"model": "openai/gpt-4o-mini"}, "set OPENAI_API_KEY"),
        ({"model": "openai/x", "api_base": "not a url"}, "invalid --api-base"),
        ({"model": "openai/x", "api_base": "ftp://h/v1"}, "invalid --api-base"),
        ({"model": "openai/x", "api_base": "http:///v1"}, "invalid --api-base"),
        ({"model": "openai/x", "api_base": "http://127.0.0.1:99999/v1"}, "invalid --api-base"),
        ({"model": "openai/x", "api_base": "http://127.0.0.1:abc/v1"}, "invalid --api-base"),
        ({"model": "openai/x", "api_base": "http://u:pw@127.0.0.1:8000/v1"}, "user:password@"),
        ({"model": "openai/x", "price_in_per_mtok": 1.0}, "give both"),
    ],
)
def test_preflight_refuses_settings_that_can_never_work(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        preflight(LLMSettings(**settings))


@pytest.mark.usefixtures("no_key")
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"model": "offline/donor-0.5"},
        {"model": "openai/x", "api_base": "http://127.0.0.1:8000/v1"},  # no key needed
        {"model": "openai/x", "api_base": "https://llm.example.org/v1?key=abcd"},
        {"model": "openai/gpt-4o-mini", "budget_usd": 1.0, "api_base": "http://127.0.0.1:1/v1"},
        {"model": "openai/gpt-4o-mini", "cache": "replay"},  # a replay calls no provider
        {"model": "openai/x", "budget_usd": 1.0, "cache": "replay"},  # ... and pays nothing
    ],
)
def test_preflight_accepts_workable_settings(settings: dict[str, object]) -> None:
    preflight(LLMSettings(**settings))


def test_preflight_skips_the_key_for_a_dry_run(no_key: None) -> None:
    preflight(LLMSettings(model="openai/gpt-4o-mini"), check_keys=False)


def test_an_empty_model_flag_is_refused() -> None:
    # `--model ""` becomes `model=`, which the config reads as no model (scripted agents),
    # so the CLI checks the flag's own value.
    assert make_config("donor-game", 0, ["model="]).llm.model is None
    with pytest.raises(UserError, match="--model is empty"):
        check_model_flag("")
    check_model_flag(None)
    check_model_flag("offline/donor")


def test_a_credential_in_a_refused_url_is_not_repeated() -> None:
    with pytest.raises(UserError) as info:
        preflight(LLMSettings(model="openai/x", api_base="http://h:99999/v1?key=TOPSECRET"))
    assert "TOPSECRET" not in str(info.value)


# --- item 11: a local server needs no key; configuration errors are not retried -----------


@pytest.mark.usefixtures("no_key")
def test_a_local_server_works_without_an_api_key(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        summary = _run(tmp_path, ["model=openai/donor", f"api_base={server.base_url}"])
        requests = server.stats["requests"]
    assert summary["status"] == "completed"
    assert requests > 0


@pytest.mark.usefixtures("no_key")
@pytest.mark.parametrize(
    "api_base",
    [
        None,  # no key and no endpoint: the OpenAI client refuses before any network
        "http://127.0.0.1:99999/v1",  # an impossible port
    ],
)
def test_configuration_errors_fail_at_once_with_the_fix(api_base: str | None) -> None:
    model = build_model(
        "openai/gpt-4o-mini", api_base=api_base, api_key=None if api_base is None else "k"
    )
    request = ChatRequest.build("openai/gpt-4o-mini", PROMPT)
    with pytest.raises(PermanentLLMError, match="configuration error") as info:
        complete_sync(model, request)
    assert info.value.attempts == 1


def test_authentication_errors_fail_at_once_with_the_fix(
    fake_server: FakeOpenAIServer,
) -> None:
    fake_server.set_faults({}, plan=["401"])
    model = build_model("openai/donor", api_base=fake_server.base_url, api_key="sk-local-1234")
    with pytest.raises(PermanentLLMError, match="check the provider's API key") as info:
        complete_sync(model, ChatRequest.build("openai/donor", PROMPT))
    assert info.value.attempts == 1 and fake_server.stats["requests"] == 1


# --- item 3: a dollar budget is enforced with the user's prices, or refused ---------------


def test_budget_usd_on_an_unpriced_model_is_refused_naming_the_price_keys(
    tmp_path: Path,
) -> None:
    settings = LLMSettings(model="openai/x", api_base="http://127.0.0.1:8000/v1", budget_usd=1)
    with pytest.raises(UserError, match="price_in_per_mtok=X --set price_out_per_mtok=Y"):
        preflight(settings)
    with FakeOpenAIServer() as server:  # the library path refuses it before any call too
        with pytest.raises(UserError, match="budget_usd"):
            _run(tmp_path, ["model=openai/x", f"api_base={server.base_url}", "budget_usd=1"])
        assert server.stats.get("requests", 0) == 0


def test_budget_usd_with_user_prices_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    prices = ["price_in_per_mtok=1000", "price_out_per_mtok=1000"]
    overrides = ["model=openai/x", "budget_usd=0.5", *prices]
    with FakeOpenAIServer() as server, pytest.raises(RunStopped, match=r"max_usd=0\.5 reached"):
        _run(tmp_path, [*overrides, f"api_base={server.base_url}"])
    summary = (tmp_path / "run" / "summary.json").read_text()
    assert '"cost_usd": null' not in summary  # every call was priced


def test_user_prices_price_each_call_and_the_dry_run() -> None:
    prices = Prices(in_per_mtok=2.0, out_per_mtok=4.0)
    with FakeOpenAIServer() as server:
        model = build_model("openai/x", api_base=server.base_url, prices=prices)
        result = complete_sync(model, ChatRequest.build("openai/x", PROMPT))
    assert result.cost_usd == pytest.approx(
        prices.cost(result.prompt_tokens, result.completion_tokens)
    )
    assert result.cost_usd > 0
    priced = ["model=openai/x", "price_in_per_mtok=2", "price_out_per_mtok=4"]
    e = estimate(make_config("donor-game", 0, [*SMALL, *priced]))
    assert e["calls"] > 0
    assert e["cost_usd"] == pytest.approx(prices.cost(e["prompt_tokens"], e["completion_tokens"]))
    assert estimate(make_config("donor-game", 0, [*SMALL, "model=openai/x"]))["cost_usd"] is None


def test_a_dollar_budget_stops_after_a_call_it_cannot_price() -> None:
    with FakeOpenAIServer() as server:
        model = build_model(
            "openai/x", api_base=server.base_url, api_key="k", budget=Budget(max_usd=1.0)
        )
        complete_sync(model, ChatRequest.build("openai/x", PROMPT))
        with pytest.raises(BudgetExceeded, match="cannot be enforced"):
            complete_sync(model, ChatRequest.build("openai/x", PROMPT, sample_index=1))
