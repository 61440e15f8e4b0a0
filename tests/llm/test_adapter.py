"""The LiteLLM adapter end to end: offline provider, fake server faults, wrappers, secrets."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import threading
import traceback
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentsim.agents.llm.parsers import parse_donation, parse_json, parse_strategy
from agentsim.core.errors import BudgetExceeded, ConfigError, ReplayMiss, UserError
from agentsim.llm.cache import CachedModel, ResponseCache
from agentsim.llm.factory import build_model
from agentsim.llm.model import LiteLLMModel
from agentsim.llm.offline import INPUT_COST_PER_TOKEN, OUTPUT_COST_PER_TOKEN
from agentsim.llm.recording import RecordingModel
from agentsim.llm.types import (
    ChatRequest,
    ChatResult,
    PermanentLLMError,
    TransientLLMError,
    complete_sync,
    prompt_hash,
    redact,
    safe_api_base,
)
from agentsim.llm.wrappers import (
    Budget,
    BudgetedModel,
    RateLimitedModel,
    RateLimiter,
    RetryingModel,
)
from agentsim.testing.fake_openai_server import FakeOpenAIServer

DONATION = (
    "Your name is 1_2. This is generation 1. It is now round 3. In round 2, 1_5 donated "
    "30.00% of their resources to 1_7. You will take the role of donor. You currently have "
    "20 units of the valuable resource. How many units do you give up?"
)
LOCAL_KEY = "sk-local-not-a-secret"


def req(model: str, prompt: str = DONATION, **params: Any) -> ChatRequest:
    return ChatRequest.build(model, prompt, **params)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class Scripted:
    """A fake inner model: raises the queued errors, then echoes; counts calls."""

    def __init__(self, errors: list[Exception] | None = None, delay_s: float = 0.0) -> None:
        self.errors = list(errors or [])
        self.calls = 0
        self.delay_s = delay_s

    async def complete(self, request: ChatRequest) -> ChatResult:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.errors:
            raise self.errors.pop(0)
        text = f"Answer: {len(request.messages[-1][1]) % 10}"
        return ChatResult(text, 10, 5, 0.001, 0.01, 1, False, request.model)


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


# --- offline provider through litellm ------------------------------------------------------


def test_offline_fixed_donor_through_litellm() -> None:
    model = build_model("offline/donor-0.5")
    result = complete_sync(model, req("offline/donor-0.5", seed=1, temperature=0.0))
    assert parse_donation(result.text, 20).value == 10.0
    assert result.prompt_tokens == len(DONATION.split())
    assert result.completion_tokens == len(result.text.split())
    expected = (
        result.prompt_tokens * INPUT_COST_PER_TOKEN
        + result.completion_tokens * OUTPUT_COST_PER_TOKEN
    )
    assert result.cost_usd == pytest.approx(expected)
    assert (result.attempts, result.cached, result.model) == (1, False, "offline/donor-0.5")


def test_offline_behaviours() -> None:
    model = build_model("offline/donor")
    # Tit-for-tat-ish: matches the 30% of the most recent trace sentence.
    assert parse_donation(complete_sync(model, req("offline/donor")).text, 20).value == 6.0
    strategy = complete_sync(model, req("offline/donor-0.25", "Say: My strategy will be ..."))
    assert parse_strategy(strategy.text).value == (
        "My strategy will be to donate 25% of my resources in every round."
    )
    schema = {"type": "object", "properties": {"amount": {"type": "number"}}}
    as_json = complete_sync(model, req("offline/donor-0.25", response_format=schema))
    assert parse_json(as_json.text, ["justification", "amount"]).value == {
        "justification": "I follow my fixed rule of giving 25% of what I hold.",
        "amount": 5.0,
    }
    garbage = complete_sync(model, req("offline/garbage"))
    assert not parse_donation(garbage.text, 20).ok


def test_offline_flaky_then_donor() -> None:
    model = build_model("offline/flaky-2")
    prompt = DONATION + " (flaky test)"
    texts = [complete_sync(model, req("offline/flaky-2", prompt)).text for _ in range(3)]
    assert [parse_donation(t, 20).ok for t in texts] == [False, False, True]


def test_offline_unknown_behaviour_is_permanent() -> None:
    with pytest.raises(PermanentLLMError, match="unknown offline behaviour") as info:
        complete_sync(build_model("offline/nope"), req("offline/nope"))
    assert info.value.status_code == 404


def test_litellm_called_directly_uses_offline_provider() -> None:
    from agentsim.llm.offline import ensure_offline_provider
    from agentsim.llm.providers import import_litellm

    ensure_offline_provider()
    ensure_offline_provider()  # idempotent
    litellm = import_litellm()
    messages = [{"role": "user", "content": DONATION}]
    response = litellm.completion(model="offline/donor-1", messages=messages)
    assert response.choices[0].message.content.endswith("Answer: 20")


# --- retries -------------------------------------------------------------------------------


def test_retry_honours_retry_after_then_succeeds() -> None:
    errors: list[Exception] = [TransientLLMError("429", status_code=429, retry_after=7.0)] * 2
    sleep = SleepRecorder()
    model = RetryingModel(Scripted(errors), base_delay_s=0.1, sleep=sleep)
    result = run(model.complete(req("m")))
    assert sleep.delays == [7.0, 7.0]
    assert result.attempts == 3


def test_retry_gives_up_after_max_attempts() -> None:
    inner = Scripted([TransientLLMError("boom", status_code=500) for _ in range(10)])
    sleep = SleepRecorder()
    model = RetryingModel(inner, max_attempts=4, base_delay_s=1.0, jitter=False, sleep=sleep)
    with pytest.raises(TransientLLMError) as info:
        run(model.complete(req("m")))
    assert info.value.attempts == 4 and inner.calls == 4
    assert "after 4 attempts" in str(info.value)
    assert sleep.delays == [1.0, 2.0, 4.0]


def test_permanent_errors_are_not_retried() -> None:
    inner = Scripted([TransientLLMError("x"), PermanentLLMError("bad request", status_code=400)])
    with pytest.raises(PermanentLLMError) as info:
        run(RetryingModel(inner, sleep=SleepRecorder()).complete(req("m")))
    assert info.value.attempts == 2 and inner.calls == 2


def test_jitter_comes_from_the_seeded_rng() -> None:
    def delays(seed: int) -> list[float]:
        model = RetryingModel(Scripted(), max_delay_s=5, rng=random.Random(seed))
        return [model.delay(n, None) for n in range(1, 8)]

    assert delays(1) == delays(1) != delays(2)
    assert all(0 < d <= 5 for d in delays(1))


# --- the fake server: faults are retried, counted and recorded ------------------------------


def test_server_faults_retried_counted_recorded(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_faults({}, plan=["429", "500", "badjson", "timeout", "ok"])
    records: list[dict[str, Any]] = []
    model = build_model(
        "openai/donor-0.5",
        api_base=fake_server.base_url,
        api_key=LOCAL_KEY,
        base_delay_s=0.001,
        timeout_s=0.3,
        sink=records.append,
    )
    result = complete_sync(model, req("openai/donor-0.5", purpose="donation", agent="1_2"))
    assert parse_donation(result.text, 20).value == 10.0
    assert result.attempts == 5 and result.cost_usd is None  # unknown price for openai/donor
    stats = fake_server.stats
    assert stats["requests"] == 5
    assert all(stats[k] == 1 for k in ("429", "500", "badjson", "timeout", "ok"))
    (record,) = records
    assert record["type"] == "llm_call" and record["attempts"] == 5 and record["error"] is None
    assert (record["purpose"], record["agent"]) == ("donation", "1_2")
    assert record["reply"] == result.text and record["prompt_tokens"] > 0


def test_server_retry_after_header_reaches_the_backoff(fake_server: FakeOpenAIServer) -> None:
    fake_server.retry_after_s = 3
    fake_server.set_faults({}, plan=["429", "ok"])
    sleep = SleepRecorder()
    inner = LiteLLMModel(api_base=fake_server.base_url, api_key=LOCAL_KEY)
    result = run(RetryingModel(inner, base_delay_s=0.01, sleep=sleep).complete(req("openai/x")))
    assert sleep.delays == [3.0] and result.attempts == 2


def test_litellm_env_vars_apply_without_api_base(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", fake_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", LOCAL_KEY)
    result = complete_sync(build_model("openai/donor-1"), req("openai/donor-1"))
    assert result.text.endswith("Answer: 20") and fake_server.stats["requests"] == 1


def test_server_failure_is_recorded_with_attempts(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_faults({"500": 1.0})
    records: list[dict[str, Any]] = []
    model = build_model(
        "openai/donor",
        api_base=fake_server.base_url,
        api_key=LOCAL_KEY,
        max_attempts=3,
        base_delay_s=0.001,
        sink=records.append,
    )
    with pytest.raises(TransientLLMError) as info:
        complete_sync(model, req("openai/donor"))
    assert info.value.attempts == 3 and fake_server.stats["500"] == 3
    (record,) = records
    assert record["attempts"] == 3 and record["reply"] is None
    assert record["error"].startswith("TransientLLMError: InternalServerError")
    assert record["status_code"] == 500


def test_server_fault_draws_are_seeded() -> None:
    def outcomes(seed: int) -> tuple[list[int], Any]:
        rates = {"429": 0.2, "500": 0.2, "garbage": 0.2}
        body = {"model": "donor", "messages": [{"role": "user", "content": "x"}]}
        with FakeOpenAIServer(fail_rates=rates, seed=seed) as server:
            statuses = [_post(server, body) for _ in range(30)]
            return statuses, _get_stats(server)

    assert outcomes(1) == outcomes(1) != outcomes(2)


def _post(server: FakeOpenAIServer, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions", data=json.dumps(body).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def _get_stats(server: FakeOpenAIServer) -> Any:
    with urllib.request.urlopen(f"{server.base_url}/stats", timeout=5) as response:
        return json.loads(response.read())


def test_server_runs_as_a_module() -> None:
    code = (
        "import sys; from agentsim.testing.fake_openai_server import main; "
        "sys.argv=['x','--port','0']; main()"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(timeout=5)


# --- budget --------------------------------------------------------------------------------


def test_budget_stops_calls_cleanly() -> None:
    budget = Budget(max_calls=2)
    model = build_model("offline/donor-0.5", budget=budget)
    complete_sync(model, req("offline/donor-0.5"))
    complete_sync(model, req("offline/donor-0.5", sample_index=1))
    with pytest.raises(BudgetExceeded, match=r"max_calls=2 reached \(2 calls made\)"):
        complete_sync(model, req("offline/donor-0.5", sample_index=2))
    totals = budget.totals()
    assert totals["calls"] == 2 and totals["tokens"] > 0 and totals["usd"] > 0


@pytest.mark.parametrize(
    ("limits", "name"),
    [({"max_tokens": 10}, "max_tokens=10"), ({"max_usd": 1e-6}, "max_usd=1e-06")],
)
def test_budget_token_and_dollar_limits(limits: dict[str, Any], name: str) -> None:
    model = BudgetedModel(Scripted(), Budget(**limits))
    run(model.complete(req("m")))
    with pytest.raises(BudgetExceeded, match=name):
        run(model.complete(req("m")))


def test_budget_counts_unknown_prices(fake_server: FakeOpenAIServer) -> None:
    budget = Budget()
    model = build_model(
        "openai/donor", api_base=fake_server.base_url, api_key=LOCAL_KEY, budget=budget
    )
    complete_sync(model, req("openai/donor"))
    assert budget.unknown_cost_calls == 1 and budget.usd == 0.0


# --- cache ---------------------------------------------------------------------------------


def test_cache_read_write_then_replay(tmp_path: Path) -> None:
    path = tmp_path / "llm_cache.sqlite"
    requests = [req("offline/donor", DONATION + f" #{i}", agent=f"a{i}") for i in range(4)]
    with ResponseCache(path) as cache:
        inner = Scripted()
        recorded = [run(CachedModel(inner, cache, "read_write").complete(r)) for r in requests]
        again = run(CachedModel(inner, cache, "read_write").complete(requests[0]))
        assert inner.calls == 4 and again.cached and len(cache) == 4
    with ResponseCache(path) as cache:  # reopened: the cache is on disk
        replayer = Scripted()
        model = CachedModel(replayer, cache, "replay")
        replayed = [run(model.complete(r)) for r in requests]
        assert replayer.calls == 0
        for old, new in zip(recorded, replayed, strict=True):
            assert (new.text, new.prompt_tokens, new.completion_tokens, new.cost_usd) == (
                old.text,
                old.prompt_tokens,
                old.completion_tokens,
                old.cost_usd,
            )
            assert new.cached and new.latency_s == 0.0 and new.attempts == 0
        missing = req("offline/donor", "never asked", purpose="donation", agent="1_9")
        with pytest.raises(ReplayMiss) as info:
            run(model.complete(missing))
        for part in ("offline/donor", "donation", "1_9", prompt_hash(missing)):
            assert part in str(info.value)


def test_factory_replay_is_free(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    budget = Budget(max_calls=1)
    records: list[dict[str, Any]] = []
    writer = build_model("offline/donor", cache_path=path, cache_mode="read_write", budget=budget)
    first = complete_sync(writer, req("offline/donor"))
    # Replay with a spent budget: hits never reach the budget, and are recorded.
    replay = build_model(
        "offline/donor", cache_path=path, cache_mode="replay", budget=budget, sink=records.append
    )
    assert complete_sync(replay, req("offline/donor")).text == first.text
    assert budget.calls == 1 and records[0]["cached"] is True
    with pytest.raises(UserError, match="does not exist"):
        build_model("offline/donor", cache_path=tmp_path / "nope.sqlite", cache_mode="replay")
    with pytest.raises(ConfigError, match="cache_mode"):
        build_model("offline/donor", cache_path=path, cache_mode="sometimes")


def test_identical_requests_in_flight_share_one_call(tmp_path: Path) -> None:
    inner = Scripted(delay_s=0.05)
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        model = CachedModel(inner, cache, "read_write")

        async def three() -> list[ChatResult]:
            return list(await asyncio.gather(*(model.complete(req("m")) for _ in range(3))))

        results = run(three())
    assert inner.calls == 1
    assert len({r.text for r in results}) == 1 and sum(r.cached for r in results) == 2


# --- rate limiting -------------------------------------------------------------------------


def test_rate_limiter_caps_concurrency() -> None:
    limiter = RateLimiter(max_concurrency=2)
    model = RateLimitedModel(Scripted(delay_s=0.02), limiter)

    async def many() -> None:
        await asyncio.gather(*(model.complete(req("m", f"p{i}")) for i in range(8)))

    run(many())
    assert limiter.peak_in_flight == 2 and limiter.in_flight == 0


def test_rate_limiter_requests_per_minute() -> None:
    sleep = SleepRecorder()
    limiter = RateLimiter(requests_per_minute=60, burst_s=1.0, sleep=sleep)
    model = RateLimitedModel(Scripted(), limiter)
    for i in range(3):
        run(model.complete(req("m", f"p{i}")))
    assert len(sleep.delays) == 2
    assert sleep.delays[0] == pytest.approx(1.0, abs=0.05)
    assert sleep.delays[1] == pytest.approx(2.0, abs=0.05)  # the fake sleep did not wait


def test_rate_limiter_is_shared_across_threads_and_loops() -> None:
    limiter = RateLimiter(max_concurrency=1)
    model = RateLimitedModel(Scripted(delay_s=0.005), limiter)

    def one_run(tag: str) -> None:
        async def go() -> None:
            await asyncio.gather(*(model.complete(req("m", f"{tag}{i}")) for i in range(5)))

        asyncio.run(go())

    threads = [threading.Thread(target=one_run, args=(t,)) for t in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert limiter.peak_in_flight == 1 and limiter.in_flight == 0


# --- secrets -------------------------------------------------------------------------------

SECRET = "sk-test-SECRET123"


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    yield


@pytest.mark.usefixtures("secret_env")
def test_secret_never_leaks(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    path = tmp_path / "c.sqlite"
    model = build_model(
        "openai/donor",
        api_base=fake_server.base_url,
        cache_path=path,
        cache_mode="read_write",
        sink=records.append,
        max_attempts=2,
        base_delay_s=0.001,
    )
    complete_sync(model, req("openai/donor"))  # a success, so the cache holds a row
    fake_server.set_faults({}, plan=["500", "401"])  # 401 echoes the bearer token
    with pytest.raises(PermanentLLMError) as info:
        complete_sync(model, req("openai/donor", "other prompt"))
    assert info.value.status_code == 401 and info.value.attempts == 2
    texts = [
        str(info.value),
        repr(info.value),
        "".join(traceback.format_exception(info.value)),
        json.dumps(records),
    ]
    texts += [p.read_bytes().decode("latin-1") for p in tmp_path.iterdir()]
    assert "[REDACTED]" in str(info.value)
    assert not [t for t in texts if SECRET in t]


def test_redaction_and_safe_api_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "plainvalue42")
    text = redact("key plainvalue42, sk-ant-abcdefgh12345, Bearer abc.def.ghi, ?api_key=zzz")
    assert text == "key [REDACTED], [REDACTED], [REDACTED], ?[REDACTED]"
    assert safe_api_base("https://u:pw@h.example:8443/v1?key=x") == "https://h.example:8443/v1"
    records: list[dict[str, Any]] = []
    model = RecordingModel(Scripted(), records.append)
    run(model.complete(req("m", api_base="http://user:hunter2@localhost/v1")))
    assert "hunter2" not in json.dumps(records)
    assert records[0]["api_base"] == "http://localhost/v1"


# --- requests, hashing, sync facade, import hygiene -----------------------------------------


def test_prompt_hash_covers_the_reply_determinants_only() -> None:
    base = req("m", seed=1)
    assert prompt_hash(base) == prompt_hash(
        req("m", seed=1, purpose="x", agent="y", api_base="http://u:p@h/v1")
    )
    for other in (
        req("m", seed=2),
        req("m", seed=1, sample_index=1),
        req("n", seed=1),
        req("m", seed=1, temperature=0.5),
        req("m", "other", seed=1),
    ):
        assert prompt_hash(other) != prompt_hash(base)
    assert hash(req("m", response_format={"type": "object"})) == hash(
        req("m", response_format={"type": "object"})
    )


def test_complete_sync_refuses_a_running_loop() -> None:
    async def inside() -> None:
        complete_sync(Scripted(), req("m"))

    with pytest.raises(RuntimeError, match="running event loop"):
        run(inside())


def test_light_modules_do_not_import_litellm() -> None:
    code = (
        "import sys; import agentsim.llm.types, agentsim.llm.wrappers, agentsim.llm.recording, "
        "agentsim.llm.cache, "
        "agentsim.agents.llm.parsers, agentsim.testing.fake_openai_server; "
        "assert 'litellm' not in sys.modules, 'litellm imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
