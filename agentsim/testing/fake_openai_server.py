"""A stdlib OpenAI-compatible chat server on 127.0.0.1 with seeded fault injection.

Tests start it in-process to prove retries, timeouts and parse-failure accounting end to
end without a real provider. Its normal reply comes from
:func:`agentsim.llm.offline_behaviours.offline_reply`, the same pure donor-game policy that
the ``offline/`` LiteLLM provider uses, so both test paths agree. The server itself is built
on the standard library's ``http.server``.

Behaviours are chosen by the model name (``openai/donor-0.5`` reaches the server as
``donor-0.5``): ``donor``, ``donor-<p>``, ``garbage``, ``flaky-<n>``; any other name
behaves like ``donor``. A model named like a study's offline policy (``debate``,
``norm_society``, ``web_shop``) is answered by that policy (:func:`study_server_reply`), so a
study's prompts can go end to end through HTTP. Faults are drawn per request from a seeded RNG:

* ``429``: rate limited, with ``Retry-After: <retry_after_s>``;
* ``500``: server error;
* ``401``: authentication error whose message echoes the bearer token, as some providers
  do (it proves that the adapter redacts secrets);
* ``timeout``: sleeps ``timeout_sleep_s`` before answering (the client should time out);
* ``badjson``: a 200 reply whose body is not JSON;
* ``garbage``: a well-formed reply whose text no parser accepts.

A request to any other path is answered 404 with the path in the message, query string
included, as some servers do (it proves that credentials in an ``api_base`` query are
redacted).

Example:
    >>> with FakeOpenAIServer(fail_rates={"500": 0.0}) as server:
    ...     server.base_url.startswith("http://127.0.0.1:")
    True

Run standalone with ``python -m agentsim.testing.fake_openai_server --port 8765``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import numpy as np

from agentsim.llm.offline_behaviours import (
    GARBAGE_TEXT,
    count_tokens,
    fmt_number,
    offline_reply,
    parse_behaviour,
    policy_text,
    prompt_text,
)

FAULTS = ("429", "500", "401", "timeout", "badjson", "garbage")


def completion_body(model: str, content: str, prompt_tokens: int) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` response body."""
    completion_tokens = count_tokens(content)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def study_server_reply(model: str, messages: Sequence[Mapping[str, Any]]) -> str | None:
    """A study's offline policy answers the model named like it (``norm_society``: the
    ``offline/norm_society`` policy), so end-to-end tests of a study can go through HTTP;
    None when no study policy has that name.

    Example:
        >>> system = {"role": "system", "content": "You are Ann. You are a Democrat."}
        >>> survey = "answer this survey question: ... a single number from 0 to 10 ..."
        >>> study_server_reply("debate", [system, {"role": "user", "content": survey}])
        '9'
        >>> study_server_reply("no_such_study", []) is None
        True
    """
    from agentsim.envs.study import study_ids
    from agentsim.llm.offline import offline_policy

    study_ids()  # the built-in studies register their policies
    policy = offline_policy(model)
    if policy is None:
        return None
    plain = [{"role": str(m.get("role")), "content": str(m.get("content") or "")} for m in messages]
    return policy(plain)


# --- the server ------------------------------------------------------------------------------


class _State:
    """Shared, lock-protected server state: fault RNG, counters, per-prompt call counts."""

    def __init__(self, fail_rates: Mapping[str, float], seed: int, plan: Sequence[str]) -> None:
        unknown = set(fail_rates) - set(FAULTS)
        if unknown or set(plan) - {*FAULTS, "ok"}:
            raise ValueError(f"unknown fault {sorted(unknown or set(plan))}; allowed: {FAULTS}")
        self.fail_rates = dict(fail_rates)
        self.plan = list(plan)
        self.rng = np.random.default_rng(seed)
        self.lock = threading.Lock()
        self.stats: Counter[str] = Counter()
        self.prompt_calls: Counter[str] = Counter()

    def draw_outcome(self) -> str:
        with self.lock:
            self.stats["requests"] += 1
            outcome = self.plan.pop(0) if self.plan else self._draw()
            self.stats[outcome] += 1
            return outcome

    def _draw(self) -> str:
        u = self.rng.random()
        for fault in FAULTS:
            u -= self.fail_rates.get(fault, 0.0)
            if u < 0:
                return fault
        return "ok"

    def next_call_index(self, key: str) -> int:
        with self.lock:
            self.prompt_calls[key] += 1
            return self.prompt_calls[key]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without this every keep-alive call waits ~40 ms on Nagle plus delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read .stats instead of access logs

    def _send(self, code: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client gave up (e.g. it timed out)

    def _error(self, code: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        body = {"error": {"message": message, "type": "fake_error", "code": str(code)}}
        self._send(code, json.dumps(body).encode(), headers)

    def do_GET(self) -> None:  # the stdlib's hook names
        state = self.server.state
        if self.path.endswith("/stats"):
            with state.lock:
                self._send(200, json.dumps(dict(state.stats)).encode())
        elif self.path.endswith("/reset"):
            with state.lock:
                state.stats.clear()
                state.prompt_calls.clear()
            self._send(200, b"{}")
        elif self.path.endswith("/models"):
            data = {"object": "list", "data": [{"id": "donor", "object": "model"}]}
            self._send(200, json.dumps(data).encode())
        else:
            self._error(404, "not found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._error(400, "request body is not JSON")
        if not self.path.partition("?")[0].endswith("/chat/completions"):
            return self._error(404, f"no route for POST {self.path}")
        owner = self.server.owner
        if owner.latency_s:
            time.sleep(owner.latency_s)
        outcome = self.server.state.draw_outcome()
        self._answer(outcome, request)

    def _answer(self, outcome: str, request: dict[str, Any]) -> None:
        owner = self.server.owner
        if outcome == "429":
            retry_after = {"Retry-After": fmt_number(owner.retry_after_s) or "0"}
            return self._error(429, "rate limited (fake)", retry_after)
        if outcome == "500":
            return self._error(500, "internal server error (fake)")
        if outcome == "401":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            return self._error(401, f"Incorrect API key provided: {token}")
        if outcome == "badjson":
            return self._send(200, b"this is {not json")
        if outcome == "timeout":
            time.sleep(owner.timeout_sleep_s)
        self._send(200, json.dumps(self._reply(request, garbage=outcome == "garbage")).encode())

    def _reply(self, request: dict[str, Any], *, garbage: bool) -> dict[str, Any]:
        model = str(request.get("model", ""))
        prompt = prompt_text(request.get("messages") or [])
        study_text = None if garbage else study_server_reply(model, request.get("messages") or [])
        if study_text is not None:
            return completion_body(model, study_text, count_tokens(prompt))
        try:
            parse_behaviour(model)
            behaviour = model
        except ValueError:
            behaviour = "donor"  # any other model name gets the default policy
        key = hashlib.sha256(f"{behaviour}\0{prompt}".encode()).hexdigest()
        index = self.server.state.next_call_index(key)
        json_mode = bool(request.get("response_format"))
        text = (
            GARBAGE_TEXT
            if garbage
            else offline_reply(
                behaviour,
                policy_text(request.get("messages") or []),
                json_mode=json_mode,
                call_index=index,
            )
        )
        return completion_body(model, text, count_tokens(prompt))


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler stuck in a 'timeout' sleep must not block shutdown

    def __init__(self, owner: FakeOpenAIServer, host: str, port: int) -> None:
        self.owner = owner
        self.state = owner._state
        super().__init__((host, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-reply are expected in timeout tests


class FakeOpenAIServer:
    """An in-process OpenAI-compatible server on an ephemeral port (a context manager).

    Args:
        latency_s: seconds to wait before answering every request.
        fail_rates: probability of each fault per request (keys in :data:`FAULTS`).
        seed: seed of the fault RNG, so a fault sequence is reproducible.
        retry_after_s: value of the ``Retry-After`` header on 429 replies.
        timeout_sleep_s: how long a ``timeout`` fault stalls before answering.
        plan: outcomes (faults or ``"ok"``) forced for the first requests, before the RNG.
        port: port to bind; 0 picks a free one.

    Attributes:
        base_url: ``http://127.0.0.1:PORT/v1``, to pass as ``api_base``.
    """

    def __init__(
        self,
        latency_s: float = 0.0,
        fail_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        retry_after_s: float = 0.0,
        timeout_sleep_s: float = 2.0,
        plan: Sequence[str] = (),
        port: int = 0,
    ) -> None:
        self.latency_s = latency_s
        self.retry_after_s = retry_after_s
        self.timeout_sleep_s = timeout_sleep_s
        self._state = _State(fail_rates or {}, seed, plan)
        self._server = _Server(self, "127.0.0.1", port)
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread: threading.Thread | None = None

    @property
    def stats(self) -> dict[str, int]:
        """Counts of ``requests`` and of each outcome (``ok`` and the fault names)."""
        with self._state.lock:
            return dict(self._state.stats)

    def set_faults(self, fail_rates: Mapping[str, float], plan: Sequence[str] = ()) -> None:
        """Change the fault rates (and forced outcomes) of a running server."""
        fresh = _State(fail_rates, 0, plan)  # validates the names
        with self._state.lock:
            self._state.fail_rates = fresh.fail_rates
            self._state.plan = fresh.plan

    def start(self) -> FakeOpenAIServer:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            # A short poll interval keeps stop() fast.
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retry-after", type=float, default=0.0)
    parser.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="FAULT=RATE",
        help=f"fault probability, repeatable; faults: {', '.join(FAULTS)}",
    )
    args = parser.parse_args(argv)
    rates = {k: float(v) for k, v in (item.split("=", 1) for item in args.fail)}
    server = FakeOpenAIServer(args.latency, rates, args.seed, args.retry_after, port=args.port)
    print(f"listening on {server.base_url}", flush=True)
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
