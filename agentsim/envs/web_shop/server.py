"""The shop as a real website on 127.0.0.1: HTML pages, GET search, POST cart actions.

A small ``http.server`` that serves :func:`render.html` of ``Shop.page`` (one page model
for the browser and the in-process back end). Each visitor gets a session cookie
(``sid``) and its own cart; the browser back end registers an episode's
:class:`~agentsim.envs.web_shop.shop.SessionState` with :meth:`ShopServer.attach`, so
the cart the browser fills is the one the episode reads. Buttons are POST forms to
``/do/<action>`` answered with 303 to the next page.

Safety: it binds 127.0.0.1 only (port 0 picks a free port), serves no files at all,
answers 400 to any path with a ``..`` segment, a backslash or a NUL (also when
percent-encoded, once or twice) and to a Host header naming another machine, caps
request bodies and the number of live sessions, and sends a Content-Security-Policy
that allows no script: page text (product descriptions included) is data.

Example:
    >>> from agentsim.envs.web_shop.shop import Shop, tiny_catalog
    >>> with ShopServer(Shop(tiny_catalog())) as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import secrets
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, unquote, urlsplit

from agentsim.envs.web_shop.render import html
from agentsim.envs.web_shop.shop import SessionState, Shop, canonical

HOST = "127.0.0.1"
COOKIE = "sid"
MAX_BODY = 64 * 1024
MAX_SESSIONS = 10_000
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def unsafe_path(raw: str) -> bool:
    """True for a request path that tries to leave the site's namespace.

    Decodes up to three times, so ``%2e%2e`` and ``%252e%252e`` are caught as ``..``.
    """
    path = urlsplit(raw).path
    for _ in range(3):
        if any(seg in ("..", ".") for seg in path.replace("\\", "/").split("/")):
            return True
        if "\\" in path or "\0" in path:
            return True
        decoded = unquote(path)
        if decoded == path:
            return False
        path = decoded
    return True  # still encoded after three rounds: refuse rather than guess


class ShopServer(ThreadingHTTPServer):
    """The shop on ``http://127.0.0.1:<port>``; ``start()`` serves from a daemon thread.

    Use it as a context manager (``with ShopServer(shop) as server:``) or call
    ``start()`` and ``stop()``; ``serve_forever()`` serves in the calling thread.
    """

    daemon_threads = True

    def __init__(self, shop: Shop, port: int = 0) -> None:
        super().__init__((HOST, port), _Handler)
        self.shop = shop
        self.lock = threading.Lock()
        self.sessions: dict[str, SessionState] = {}
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    def attach(self, state: SessionState) -> str:
        """Register an episode's state; returns the ``sid`` cookie value that selects it."""
        sid = secrets.token_urlsafe(16)
        with self.lock:
            self._remember(sid, state)
        return sid

    def detach(self, sid: str) -> None:
        """Forget a session (an episode's end)."""
        with self.lock:
            self.sessions.pop(sid, None)

    def _remember(self, sid: str, state: SessionState) -> None:
        while len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))  # the oldest
        self.sessions[sid] = state

    def start(self) -> ShopServer:
        """Serve from a daemon thread; returns self."""
        self._thread = threading.Thread(target=self.serve_forever, name="shop-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __enter__(self) -> ShopServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server: ShopServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests and runs do not want a line per request."""

    def do_GET(self) -> None:
        if not self._checked():
            return
        sid, state, fresh = self._session()
        with self.server.lock:
            page = self.server.shop.page(canonical(self.path), state)
            body = html(page)
        self._send(page.status, body, sid if fresh else None)

    def do_POST(self) -> None:
        if not self._checked():
            return
        path = urlsplit(self.path).path
        length = self.headers.get("Content-Length", "0")
        if not path.startswith("/do/") or not length.isdigit() or int(length) > MAX_BODY:
            self._plain(HTTPStatus.BAD_REQUEST, "bad request")
            return
        params = dict(parse_qsl(self.rfile.read(int(length)).decode("utf-8", "replace")))
        sid, state, fresh = self._session()
        with self.server.lock:
            target = self.server.shop.perform(state, path[len("/do/") :], params)
        if target is None:
            self._plain(HTTPStatus.BAD_REQUEST, "this action is not available on this page")
            return
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self._cookie(sid if fresh else None)
        self.end_headers()

    def _checked(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host not in (HOST, "localhost") or unsafe_path(self.path):
            self._plain(HTTPStatus.BAD_REQUEST, "bad request")
            return False
        return True

    def _session(self) -> tuple[str, SessionState, bool]:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(COOKIE)
        except CookieError:
            morsel = None
        with self.server.lock:
            if morsel is not None and morsel.value in self.server.sessions:
                return morsel.value, self.server.sessions[morsel.value], False
        state = SessionState()
        return self.server.attach(state), state, True

    def _cookie(self, sid: str | None) -> None:
        if sid is not None:
            self.send_header("Set-Cookie", f"{COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/")

    def _send(self, status: int, body: str, sid: str | None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        for key, value in HEADERS.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self._cookie(sid)
        self.end_headers()
        self.wfile.write(data)

    def _plain(self, status: HTTPStatus, message: str) -> None:
        self.close_connection = True
        data = f"{status.value} {message}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
