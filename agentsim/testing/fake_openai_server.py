"""A stdlib OpenAI-compatible chat server on 127.0.0.1 with seeded fault injection.

Tests start it in-process to prove retries, timeouts and parse-failure accounting end to
end without a real provider. Its normal reply comes from :func:`offline_reply`, the same
pure donor-game policy that the ``offline/`` LiteLLM provider uses, so both test paths
agree. This module imports nothing outside the standard library.

Behaviours are chosen by the model name (``openai/donor-0.5`` reaches the server as
``donor-0.5``): ``donor``, ``donor-<p>``, ``garbage``, ``flaky-<n>``; any other name
behaves like ``donor``. The server alone also answers ``debate``
(:func:`debate_server_reply`: ``debate_v0``'s offline debater, which reads the system
message too). Faults are drawn per request from a seeded RNG:

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
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import numpy as np

FAULTS = ("429", "500", "401", "timeout", "badjson", "garbage")

GARBAGE_TEXT = "Hmm, the weather is lovely today; I would rather talk about llamas."

_UNITS = re.compile(r"You currently have (\d+(?:\.\d+)?) units")
_ROUND_PCT = re.compile(r"In round (\d+),[^.%]*?donated (\d+(?:\.\d+)?)%")
_ANY_PCT = re.compile(r"(\d+(?:\.\d+)?)%")
_BEHAVIOUR = re.compile(r"^(?:donor(?:-(?P<p>\d*\.?\d+))?|garbage|flaky-(?P<n>\d+))$")


# --- the pure offline donor policy (shared with agentsim.llm.offline) -----------------------


def parse_behaviour(name: str) -> tuple[str, float | None, int]:
    """Split an offline behaviour name into (kind, fraction, failures).

    Args:
        name: ``donor``, ``donor-<p>`` (0 <= p <= 1), ``garbage`` or ``flaky-<n>``.

    Returns:
        ``kind`` in {"donor", "garbage", "flaky"}, the fixed donation fraction (None for
        tit-for-tat) and the number of garbage replies a flaky model gives per prompt.

    Raises:
        ValueError: for any other name, listing the allowed forms.

    Example:
        >>> parse_behaviour("donor-0.25")
        ('donor', 0.25, 0)
    """
    match = _BEHAVIOUR.match(name)
    if match is None:
        raise ValueError(
            f"unknown offline behaviour {name!r}; allowed: donor, donor-<p> (0<=p<=1), "
            "garbage, flaky-<n>"
        )
    if name == "garbage":
        return "garbage", None, 0
    if match.group("n") is not None:
        return "flaky", None, int(match.group("n"))
    fraction = float(match.group("p")) if match.group("p") is not None else None
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        raise ValueError(f"offline donor fraction must be within [0, 1], got {fraction}")
    return "donor", fraction, 0


def offline_reply(
    behaviour: str, prompt: str, *, json_mode: bool = False, call_index: int = 1
) -> str:
    """Deterministic reply of the offline policy to one prompt.

    Args:
        behaviour: a behaviour name accepted by :func:`parse_behaviour`.
        prompt: the whole conversation text (all message contents joined).
        json_mode: reply with ``{"justification": str, "amount": number}``.
        call_index: 1-based count of calls with this exact prompt (for ``flaky-<n>``).

    Example:
        >>> offline_reply("donor-0.5", "You currently have 10 units of the resource.")
        'Justification: I follow my fixed rule of giving 50% of what I hold.\\nAnswer: 5'
    """
    kind, fraction, failures = parse_behaviour(behaviour)
    if kind == "garbage" or (kind == "flaky" and call_index <= failures):
        return GARBAGE_TEXT
    units = _last_float(_UNITS, prompt)
    if units is None and "My strategy will be" in prompt:
        return _strategy_reply(fraction)
    return _donation_reply(prompt, units or 0.0, fraction, json_mode)


def _strategy_reply(fraction: float | None) -> str:
    if fraction is None:
        plan = "donate 50% in the first round and afterwards the percentage the recipient last gave"
    else:
        plan = f"donate {_fmt(fraction * 100)}% of my resources in every round"
    return f"Thinking... a steady rule keeps trust high. My strategy will be to {plan}."


def _donation_reply(prompt: str, units: float, fraction: float | None, json_mode: bool) -> str:
    if fraction is None:
        fraction = _recent_fraction(prompt)
        why = f"The recipient's chain last showed {_fmt(fraction * 100)}%, so I match it."
    else:
        why = f"I follow my fixed rule of giving {_fmt(fraction * 100)}% of what I hold."
    # Rounded half-up to the cent, as a model would say it: giving everything is the very
    # figure shown (which may exceed the unrounded holdings by less than half a cent).
    amount = math.floor(units * fraction * 100 + 0.5 + 1e-9) / 100
    if json_mode:
        return json.dumps({"justification": why, "amount": amount})
    answer = f"Donate, {_fmt(amount)}" if "Donate, x OR Punish, x" in prompt else _fmt(amount)
    return f"Justification: {why}\nAnswer: {answer}"


def _recent_fraction(prompt: str) -> float:
    # Trace sentences name their round; the highest round is the most recent behaviour.
    rounds = [(int(r), float(p)) for r, p in _ROUND_PCT.findall(prompt)]
    if rounds:
        return min(max(rounds)[1], 100.0) / 100
    last = _last_float(_ANY_PCT, prompt)
    return 0.5 if last is None else min(last, 100.0) / 100


def _last_float(pattern: re.Pattern[str], text: str) -> float | None:
    found = pattern.findall(text)
    return float(found[-1]) if found else None


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def count_tokens(text: str) -> int:
    """Approximate token count used by both offline paths: whitespace-separated words."""
    return len(text.split())


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Join the message contents of a chat request into one prompt string."""
    return "\n".join(str(m.get("content") or "") for m in messages)


def policy_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """What the offline policy reads: the user messages only (a system prompt's worked
    example of a trace must not be mistaken for the recipient's trace)."""
    return "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")


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


#: Model name under which the server answers debate prompts (``openai/debate``).
DEBATE_BEHAVIOUR = "debate"


def debate_server_reply(messages: Sequence[Mapping[str, Any]]) -> str:
    """The server's ``debate`` reply: what the offline debate model answers.

    Survey prompts get a number on the prompt's scale, turn prompts a short
    contribution (``agentsim.envs.debate.offline.debate_reply``, after Taubenfeld et al.
    2024, arXiv:2402.04049). Imported lazily: the donor paths need no env package.

    Example:
        >>> system = {"role": "system", "content": "You are Ann. You are a Democrat."}
        >>> survey = "answer this survey question: ... a single number from 0 to 10 ..."
        >>> debate_server_reply([system, {"role": "user", "content": survey}])
        '9'
    """
    from agentsim.envs.debate.offline import debate_reply

    plain = [{"role": str(m.get("role")), "content": str(m.get("content") or "")} for m in messages]
    return debate_reply(plain)


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
            retry_after = {"Retry-After": _fmt(owner.retry_after_s) or "0"}
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
        if model == DEBATE_BEHAVIOUR and not garbage:
            text = debate_server_reply(request.get("messages") or [])
            return completion_body(model, text, count_tokens(prompt))
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
