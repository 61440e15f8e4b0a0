"""The browser back end: Playwright driving Debian's Chromium on the served shop.

A :class:`BrowserBackend` starts the shop server (127.0.0.1, a free port) and one
headless Chromium; ``backend.new_session()`` opens a fresh browser context per episode
(its own cookie, so its own cart). A :class:`BrowserSession` is a
:class:`~agentsim.envs.web_shop.shop.Session` whose effects happen in the browser:
clicks go through ``page.locator('[data-webid="N"]')`` (never coordinates), ``type``
through Playwright's ``fill`` (BrowserGym's choice, Chezelles et al. 2024,
arXiv:2412.05467), and ``observe()`` reads Chromium's own accessibility tree
(CDP ``Accessibility.getFullAXTree``, as WebArena does, Zhou et al. 2024,
arXiv:2307.13854), maps each node to its ``data-webid`` through ``DOM.getDocument`` and
prints it with the same line format and pruning as the in-process renderer. Errors
(unknown id, disabled button) are decided on the page model first, so both back ends
report them alike.

Chromium comes from ``AGENTSIM_CHROMIUM`` or ``shutil.which("chromium")`` (Playwright's
own browser download cannot work offline); it runs headless with ``--no-sandbox``.
Playwright is an optional dependency, imported only when a backend starts. Playwright's
sync API cannot run inside a running asyncio loop: use the backend from a plain thread
(backends in one thread share one Playwright runtime; each has its own Chromium).

Example (needs playwright and chromium)::

    backend = BrowserBackend(Shop(load_catalog()))
    session = backend.new_session()
    print(session.observe())
    session.close(); backend.close()
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from agentsim.core.errors import UserError
from agentsim.envs.web_shop.pages import Node
from agentsim.envs.web_shop.render import (
    NEVER_PRINTED,
    TreeLine,
    format_tree,
    pruned,
    state_props,
)
from agentsim.envs.web_shop.server import COOKIE, HOST, ShopServer
from agentsim.envs.web_shop.shop import Session, SessionState, Shop, canonical

ENV_VAR = "AGENTSIM_CHROMIUM"
TIMEOUT_MS = 10_000
_TEXT_FIELDS = ("searchbox", "textbox", "combobox")


def chromium_path() -> str | None:
    """The Chromium executable: ``$AGENTSIM_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get(ENV_VAR) or shutil.which("chromium")


def unavailable() -> str | None:
    """Why the browser back end cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    path = chromium_path()
    if path is None or not os.path.exists(path):
        return f"no chromium executable (apt-get install chromium, or set {ENV_VAR})"
    return None


_runtime = threading.local()


def _acquire() -> Any:
    """The thread's Playwright runtime, started on first use.

    Playwright's sync API allows one runtime per thread (a second ``start()`` finds the
    first one's event loop running), so backends in a thread share it, counted.
    """
    if getattr(_runtime, "users", 0) == 0:
        from playwright.sync_api import sync_playwright

        _runtime.playwright = sync_playwright().start()
        _runtime.users = 0
    _runtime.users += 1
    return _runtime.playwright


def _release() -> None:
    _runtime.users -= 1
    if _runtime.users == 0:
        _runtime.playwright.stop()
        del _runtime.playwright


class BrowserBackend:
    """The shop server plus one headless Chromium, shared by the episodes' sessions.

    Args:
        shop: the shop to serve.
        executable: Chromium's path (default :func:`chromium_path`).
    """

    def __init__(self, shop: Shop, *, executable: str | None = None) -> None:
        reason = None if executable else unavailable()
        if reason is not None:
            raise UserError(f"backend=browser: {reason}")
        self.shop = shop
        self.server = ShopServer(shop).start()
        try:
            self.browser = _acquire().chromium.launch(
                executable_path=executable or chromium_path(), args=["--no-sandbox"], headless=True
            )
        except BaseException:
            self.server.stop()
            _release()
            raise

    def new_session(
        self,
        *,
        type_mode: str = "replace",
        search_candidates: Sequence[str] = (),
        stop_answers: Sequence[str] = (),
        start_url: str = "/",
    ) -> BrowserSession:
        """A fresh episode in a new browser context (arguments: see ``Session``)."""
        return BrowserSession(
            self,
            type_mode=type_mode,
            search_candidates=search_candidates,
            stop_answers=stop_answers,
            start_url=start_url,
        )

    def close(self) -> None:
        """Close Chromium, Playwright and the server."""
        try:
            self.browser.close()
        finally:
            _release()
            self.server.stop()

    def __enter__(self) -> BrowserBackend:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class BrowserSession(Session):
    """An episode whose pages are real Chromium pages (see the module docstring)."""

    def __init__(self, backend: BrowserBackend, **options: Any) -> None:
        super().__init__(backend.shop, SessionState(), **options)
        self.backend = backend
        self._sid = backend.server.attach(self.state)
        self.context = backend.browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_cookies(
            [{"name": COOKIE, "value": self._sid, "domain": HOST, "path": "/"}]
        )
        self.tab = self.context.new_page()
        self._cdp = self.context.new_cdp_session(self.tab)
        self._show(self.page.url)  # the start page the model already shows

    def close(self) -> None:
        """Close this episode's browser context and forget its cart on the server."""
        self.context.close()
        self.backend.server.detach(self._sid)

    def observe(self, *, url_links: bool = False, cap: int | None = None) -> str:
        """Chromium's accessibility tree of the page on screen, in WebArena's text format."""
        self._blur()
        dom = self._cdp.send("DOM.getDocument", {"depth": -1})
        ids, hrefs = _webids(dom["root"])
        ax = self._cdp.send("Accessibility.getFullAXTree")
        path = canonical(self.tab.url)
        lines = ax_lines(ax["nodes"], ids, hrefs if url_links else None, path)
        return format_tree(self.tab.title(), lines, cap)

    # -- effects ------------------------------------------------------------------------

    def _locator(self, node_id: int) -> Any:
        return self.tab.locator(f'[data-webid="{node_id}"]')

    def _show(self, url: str) -> None:
        self.tab.goto(self.backend.server.url + url)
        self._sync()

    def _sync(self) -> None:
        """Rebuild the page model from the URL the browser shows."""
        parts = urlsplit(self.tab.url)
        self.page = self.shop.page(canonical(parts.path + "?" + parts.query), self.state)

    def _arrived(self, before: str) -> None:
        self.back.append(before)
        self.forward.clear()
        self._sync()

    def _navigate_by(self, node_id: int, how: str) -> int:
        """Click (or press Enter in) an element and wait for the page it loads."""
        before = self.page.url
        with self.tab.expect_navigation() as nav:
            if how == "click":
                self._locator(node_id).click()
            else:
                self._locator(node_id).press("Enter")
        self._arrived(before)
        response = nav.value
        return 200 if response is None else int(response.status)

    def _follow(self, node_id: int, node: Node) -> None:
        self._navigate_by(node_id, "click")

    def _submit(self, node_id: int, node: Node) -> bool:
        before = self.page.url
        if self._navigate_by(node_id, "click") >= 400:
            self.back.pop()
            self._show(before)  # the shop refused it: back to where the agent was
            return False
        return True

    def _search(self, node_id: int, query: str) -> None:
        node = self.page.node(node_id)
        how = "press" if node is not None and node.text_field else "click"
        self._navigate_by(node_id, how)

    def _fill(self, node_id: int, value: str) -> None:
        self._locator(node_id).fill(value)
        self.page = self.page.with_value(node_id, value)

    def _blur(self) -> None:
        # Focus is not part of the page model: the document keeps it, as after a load.
        self.tab.evaluate("() => document.activeElement && document.activeElement.blur()")


def _webids(root: Mapping[str, Any]) -> tuple[dict[int, int], dict[int, str]]:
    """backendNodeId -> data-webid (text nodes take their element's), and -> href."""
    ids: dict[int, int] = {}
    hrefs: dict[int, str] = {}
    stack: list[tuple[Mapping[str, Any], int | None]] = [(root, None)]
    while stack:
        node, inherited = stack.pop()
        attrs = node.get("attributes", [])
        pairs = dict(zip(attrs[::2], attrs[1::2], strict=True))
        own = pairs.get("data-webid", "")
        webid = int(own) if own.isdigit() else (1 if node.get("nodeType") == 9 else None)
        backend_id = int(node["backendNodeId"])
        if webid is not None:
            ids[backend_id] = webid
            if "href" in pairs:
                hrefs[webid] = pairs["href"]
        elif node.get("nodeType") == 3 and inherited is not None:
            ids[backend_id] = inherited
        for child in node.get("children", []):
            stack.append((child, webid if webid is not None else inherited))
    return ids, hrefs


def ax_lines(
    nodes: Sequence[Mapping[str, Any]],
    ids: Mapping[int, int],
    hrefs: Mapping[int, str] | None,
    url: str,
) -> list[TreeLine]:
    """CDP AX nodes as printed lines, with the in-process renderer's pruning rules.

    Ignored nodes and Chromium-internal roles are skipped, a text field's inner editor
    is not entered (its text is the ``value``), and ``StaticText`` repeating its direct
    parent's name is dropped (BrowserGym's rule).
    """
    by_id = {n["nodeId"]: n for n in nodes}
    root = next(n for n in nodes if n.get("parentId") is None)
    out: list[TreeLine] = []
    for depth, node, parent_name in _walk(root, by_id):
        role = _value(node.get("role")) or ""
        name = _value(node.get("name")) or ""
        if role == "StaticText" and name == parent_name:
            continue
        webid = ids.get(int(node.get("backendDOMNodeId", -1)))
        states = {p["name"]: _value(p.get("value")) for p in node.get("properties", [])}
        value = _value(node.get("value")) if role in _TEXT_FIELDS else None
        link_url = None
        if hrefs is not None:
            link_url = url if webid == 1 else (hrefs.get(webid or -1) if role == "link" else None)
        out.append(TreeLine(depth, webid, role, name, state_props(states, value, link_url)))
    return out


def _walk(
    root: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]
) -> Iterator[tuple[int, Mapping[str, Any], str]]:
    """(printed depth, node, parent's name) of every kept node, in document order."""
    stack: list[tuple[Mapping[str, Any], int, str]] = [(root, 0, "")]
    while stack:
        node, depth, parent_name = stack.pop()
        role = _value(node.get("role")) or ""
        name = _value(node.get("name")) or ""
        if role in NEVER_PRINTED and role not in ("none", "Ignored"):
            continue  # text boxes and markers: nothing of ours below them
        drop = bool(node.get("ignored")) or pruned(role, name)
        if not drop:
            yield depth, node, parent_name
        if role in _TEXT_FIELDS:
            continue
        kids = [by_id[c] for c in node.get("childIds", []) if c in by_id]
        stack.extend((k, depth if drop else depth + 1, name) for k in reversed(kids))


def _value(field: Mapping[str, Any] | None) -> Any:
    return None if field is None else field.get("value")
