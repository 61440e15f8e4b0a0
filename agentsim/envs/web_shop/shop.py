"""The shop and its sessions: routing URLs to pages, cart state and the agent's actions.

:class:`Shop` holds the catalog, the BM25 index and the S2 pages; ``shop.page(url,
state)`` is the one pure function from a URL and a cart to a :class:`Page`, used by the
in-process back end and by the HTTP server alike. :class:`Session` is one episode: its
cart, its history and the page on screen; ``session.act(action)`` executes a parsed
WebArena action (Zhou et al. 2024, arXiv:2307.13854) and returns an :class:`Outcome`.
Agent mistakes are never exceptions: they come back as ``Outcome.error``, an
:class:`ActionError` typed ``parse``, ``unknown_id``, ``not_interactable`` or
``unsupported`` with a WebArena-style hint (``no element [99] on this page``).

Routes: ``/`` home, ``/search?q=...&page=n``, ``/category/<slug>?page=n``,
``/product/<asin>?<option>=<value>``, ``/cart``, ``/s2/<item id>`` (CASA's S2 pages, Qiu
et al. 2024, arXiv:2410.23252: a results page listing exactly the item's four products),
``/order/<n>``; anything else is the 404 page. Buttons post ``/do/<action>`` with their
form fields: ``cart.add``, ``cart.remove``, ``buy`` and ``checkout``; the last two place an
order and end the episode (``Outcome.done``), as Buy Now does in WebShop (Yao et al. 2022).

Example:
    >>> from agentsim.envs.web_shop.actions import parse_action
    >>> shop = Shop(tiny_catalog())
    >>> session = shop.new_session()
    >>> session.open("/search?q=mug").title
    'Search results'
    >>> outcome = session.act(parse_action("click [99]"))
    >>> outcome.error
    ActionError(kind='unknown_id', message='no element [99] on this page')
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from agentsim.core.errors import ConfigError
from agentsim.envs.web_shop import pages
from agentsim.envs.web_shop.actions import TAB_KINDS, Action, ParseError
from agentsim.envs.web_shop.data import Catalog, Product
from agentsim.envs.web_shop.pages import MAX_HITS, CartLine, Frame, Node, Page, ProductLike
from agentsim.envs.web_shop.render import axtree, pruned
from agentsim.envs.web_shop.search import BM25Index, product_document

ERROR_KINDS = ("parse", "unknown_id", "not_interactable", "unsupported")
TYPE_MODES = ("replace", "append")
#: Actions that place an order and end the episode.
PURCHASES = frozenset({"buy", "checkout"})
FEATURED = 5
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


class CatalogLike(Protocol):
    """What the shop reads of a catalog (``agentsim.envs.web_shop.data.Catalog``)."""

    @property
    def products(self) -> Sequence[ProductLike]: ...


class S2ItemLike(Protocol):
    """A CASA S2 item: its id, (refined) query and the asins of its four products."""

    @property
    def id(self) -> str: ...
    @property
    def query(self) -> str: ...
    @property
    def products(self) -> Sequence[str]: ...


class QueriesLike(Protocol):
    """What the shop reads of a query set: the S2 items (``data.QuerySet``)."""

    @property
    def s2(self) -> Sequence[S2ItemLike]: ...


@dataclass(frozen=True)
class Order:
    """A placed order: its number (from 1) and lines."""

    number: int
    lines: tuple[CartLine, ...]


@dataclass
class SessionState:
    """What the server keeps per visitor: the cart and the orders placed."""

    cart: list[CartLine] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)


@dataclass(frozen=True)
class ActionError:
    """An agent mistake: ``kind`` in ``ERROR_KINDS`` and a hint for the agent."""

    kind: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """What an action did: the page now shown, an error (page unchanged) or the end.

    Attributes:
        page: the page on screen after the action.
        error: None, or why the action did nothing.
        done: True after ``stop`` or a placed order (Buy now, Checkout).
        answer: the ``stop`` answer ("N/A" declines), else None.
        note: what a valid no-op did (``scroll``, ``hover``, ``press``), else None.
    """

    page: Page
    error: ActionError | None = None
    done: bool = False
    answer: str | None = None
    note: str | None = None


def slug(name: str) -> str:
    """``Home & Kitchen`` -> ``home-kitchen``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "other"


def canonical(url: str) -> str:
    """A path with its query re-encoded the way the shop writes URLs (browser-independent)."""
    parts = urlsplit(url)
    path = quote(unquote(parts.path or "/"), safe="/")
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return path + (f"?{query}" if query else "")


def shop_path(url: str) -> str | None:
    """The shop path a ``goto`` URL names, or None for another site."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and parts.hostname in LOCAL_HOSTS:
        return canonical(parts.path + (f"?{parts.query}" if parts.query else ""))
    if parts.scheme or parts.netloc:
        return None
    path = url.strip()
    return canonical(path if path.startswith("/") else "/" + path)


class Shop:
    """The catalog, its search index and the S2 pages; builds every page.

    Args:
        catalog: products (``data.load_catalog()``); any object with ``products``.
        queries: the query set (``data.load_queries()``) whose S2 items get pages, or None.
    """

    def __init__(self, catalog: CatalogLike, queries: QueriesLike | None = None) -> None:
        self.products: dict[str, ProductLike] = {p.asin: p for p in catalog.products}
        self._order = list(self.products.values())
        self.index = BM25Index([product_document(p) for p in self._order])
        names = sorted({p.category for p in self._order})
        self.categories = {slug(n): n for n in names}
        self._in_category = {n: [p for p in self._order if p.category == n] for n in names}
        # RL episodes repeat the same few queries; the ranking is a pure function of them.
        self._search = functools.lru_cache(maxsize=4096)(self._search_uncached)
        self.s2_items: dict[str, S2ItemLike] = {i.id: i for i in (queries.s2 if queries else ())}
        ranked = sorted(self._order, key=lambda p: (-p.rating, -p.reviews, p.asin))
        self.featured = ranked[:FEATURED]

    def new_session(
        self,
        state: SessionState | None = None,
        *,
        type_mode: str = "replace",
        search_candidates: Sequence[str] = (),
        stop_answers: Sequence[str] = (),
        start_url: str = "/",
    ) -> Session:
        """A fresh in-process episode (arguments: see :class:`Session`)."""
        return Session(
            self,
            state,
            type_mode=type_mode,
            search_candidates=search_candidates,
            stop_answers=stop_answers,
            start_url=start_url,
        )

    def search(self, query: str) -> list[ProductLike]:
        """Up to ``MAX_HITS`` products for a query, best first (BM25)."""
        return list(self._search(query))

    def _search_uncached(self, query: str) -> tuple[ProductLike, ...]:
        return tuple(self._order[i] for i in self.index.search(query, MAX_HITS))

    def page(self, url: str, state: SessionState) -> Page:
        """The page at ``url`` for a visitor with ``state`` (a pure function of both)."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = unquote(parts.path)
        frame = Frame(len(state.cart), query.get("q", "") if path == "/search" else "")
        head, _, rest = path.strip("/").partition("/")
        if path == "/":
            cats = [(s, n, len(self._in_category[n])) for s, n in self.categories.items()]
            return pages.home_page(frame, cats, self.featured)
        if path == "/search":
            head = f'Results for "{frame.query}"'
            return self._listing(
                frame,
                ("Search results", head),
                self.search(frame.query),
                query,
                lambda n: pages.search_url(frame.query, n),
                canonical(url),
            )
        if head == "category" and rest in self.categories:
            name = self.categories[rest]
            hits = self._in_category[name]
            return self._listing(
                frame,
                (name, name),
                hits,
                query,
                lambda n: f"/category/{rest}" + (f"?page={n}" if n > 1 else ""),
                canonical(url),
            )
        if head == "product" and rest in self.products:
            product = self.products[rest]
            chosen = {k: v for k, v in query.items() if v in product.options.get(k, ())}
            return pages.product_page(frame, product, chosen, canonical(url))
        if path == "/cart":
            lines = [(line, self.products[line.asin]) for line in state.cart]
            return pages.cart_page(frame, lines)
        if head == "s2" and rest in self.s2_items:
            return self._s2_page(frame, self.s2_items[rest], canonical(url))
        if head == "order" and rest.isdigit() and 1 <= int(rest) <= len(state.orders):
            order = state.orders[int(rest) - 1]
            return pages.order_page(
                frame, order.number, [self.products[x.asin] for x in order.lines]
            )
        return pages.not_found_page(frame, path)

    def _listing(
        self,
        frame: Frame,
        titles: tuple[str, str],
        hits: Sequence[ProductLike],
        query: Mapping[str, str],
        url_of: pages.UrlOf,
        url: str,
    ) -> Page:
        last = max(1, -(-len(hits) // pages.RESULTS_PER_PAGE))
        raw = query.get("page", "1")
        page_no = min(max(int(raw), 1), last) if raw.isdigit() and len(raw) < 6 else 1
        return pages.listing_page(frame, *titles, hits, page_no, url_of, url)

    def _s2_page(self, frame: Frame, item: S2ItemLike, url: str) -> Page:
        hits = [self.products[a] for a in item.products if a in self.products]
        s2_frame = Frame(frame.cart_items, item.query)
        head = f'Results for "{pages.clean(item.query)}"'
        return pages.listing_page(s2_frame, "Search results", head, hits, 1, lambda n: url, url)

    def perform(self, state: SessionState, action: str, params: Mapping[str, str]) -> str | None:
        """Run a button's action on ``state``; the URL to show next, or None if invalid.

        Invalid means a request no page offers (a disabled button, a stale cart line): the
        server answers it with 400, and an agent never gets that far.
        """
        if action in ("cart.add", "buy"):
            line = self._line(params)
            if line is None:
                return None
            if action == "cart.add":
                state.cart.append(line)
                return "/cart"
            return self._place(state, (line,))
        if action == "cart.remove":
            index = params.get("line", "")
            if not index.isdigit() or int(index) >= len(state.cart):
                return None
            del state.cart[int(index)]
            return "/cart"
        if action == "checkout" and state.cart:
            lines = tuple(state.cart)
            state.cart.clear()
            return self._place(state, lines)
        return None

    def _line(self, params: Mapping[str, str]) -> CartLine | None:
        product = self.products.get(params.get("asin", ""))
        if product is None:
            return None
        chosen = {k: params.get(k, "") for k in product.options}
        if any(v not in product.options[k] for k, v in chosen.items()):
            return None  # every option needs a valid choice
        return CartLine(product.asin, tuple(sorted(chosen.items())))

    @staticmethod
    def _place(state: SessionState, lines: tuple[CartLine, ...]) -> str:
        state.orders.append(Order(len(state.orders) + 1, lines))
        return f"/order/{len(state.orders)}"


class Session:
    """One episode in the shop: the cart, the history and the page on screen.

    Args:
        shop: the shop.
        state: the cart and orders (a fresh one by default; the browser back end shares
            it with the server).
        type_mode: ``replace`` (``type`` sets the field, BrowserGym's ``fill``) or
            ``append`` (WebArena's code types after the existing text).
        search_candidates: the queries ``available_actions`` offers for the search box.
        stop_answers: the ``stop [answer]`` strings ``available_actions`` offers.
        start_url: the first page, with an empty history (an S2 episode starts on
            ``/s2/<item id>``).

    ``act`` never raises for agent input. ``available_actions`` lists ready action
    strings in document order (WebShop's candidate list, Yao et al. 2022): ``click [id]``
    for every enabled link, radio and button, ``type [id] [q] [1]`` for the search box
    and each candidate query, ``go_back`` when there is a page to go back to, then the stop
    answers; each one parses and executes without error.
    """

    def __init__(
        self,
        shop: Shop,
        state: SessionState | None = None,
        *,
        type_mode: str = "replace",
        search_candidates: Sequence[str] = (),
        stop_answers: Sequence[str] = (),
        start_url: str = "/",
    ) -> None:
        if type_mode not in TYPE_MODES:
            raise ConfigError("type_mode", type_mode, TYPE_MODES)
        self.shop = shop
        self.state = state if state is not None else SessionState()
        self.type_mode = type_mode
        self.search_candidates = tuple(search_candidates)
        self.stop_answers = tuple(stop_answers)
        self.back: list[str] = []
        self.forward: list[str] = []
        self.done = False
        self.answer: str | None = None
        self._actions: tuple[Page, bool, tuple[str, ...]] | None = None
        self.page = shop.page(canonical(start_url), self.state)

    @property
    def url(self) -> str:
        """The path of the page on screen."""
        return self.page.url

    def open(self, url: str) -> Page:
        """Navigate to a shop path (history as a link click); returns the page."""
        self._go(canonical(url))
        return self.page

    def observe(self, *, url_links: bool = False, cap: int | None = None) -> str:
        """The accessibility-tree text of the page on screen (:func:`render.axtree`)."""
        return axtree(self.page, url_links=url_links, cap=cap)

    def act(self, action: Action | ParseError) -> Outcome:
        """Execute one parsed action; agent mistakes come back as ``Outcome.error``."""
        if isinstance(action, ParseError):
            return self._error("parse", action.message)
        if self.done:
            return self._error("unsupported", "the task is finished; no more actions")
        handler = _HANDLERS.get(action.kind)
        if handler is None:
            return self._error("unsupported", f"unknown action {action.kind!r}")
        return handler(self, action)

    def available_actions(self) -> list[str]:
        """Ready action strings for this page, in document order (see the class doc)."""
        # An env step asks up to three times (resolving a slot, the mask, the info) about
        # the same page: the list is kept until the page or the history changes.
        page, has_back = self.page, bool(self.back)
        cached = self._actions
        if cached is None or cached[0] is not page or cached[1] != has_back:
            cached = self._actions = (page, has_back, tuple(self._list_actions()))
        return list(cached[2])

    def _list_actions(self) -> list[str]:
        out: list[str] = []
        for node_id, _, node in self.page.walk():
            if pruned(node.role, node.name):
                continue
            if node.clickable:
                out.append(f"click [{node_id}]")
            elif node.text_field:
                out += [str(Action("type", id=node_id, text=q)) for q in self.search_candidates]
        if self.back:
            out.append("go_back")
        out += [str(Action("stop", answer=a)) for a in self.stop_answers]
        return out

    # -- effects: the browser back end overrides these five ---------------------------

    def _show(self, url: str) -> None:
        """Load ``url`` without touching the history."""
        self.page = self.shop.page(url, self.state)

    def _go(self, url: str) -> None:
        """Navigate: the current page goes on the back stack."""
        self.back.append(self.page.url)
        self.forward.clear()
        self._show(url)

    def _follow(self, node_id: int, node: Node) -> None:
        self._go(canonical(node.href or "/"))

    def _submit(self, node_id: int, node: Node) -> bool:
        """A button's POST; False when the shop refused it."""
        target = self.shop.perform(self.state, node.action or "", dict(node.params))
        if target is None:
            return False
        self._go(target)
        return True

    def _search(self, node_id: int, query: str) -> None:
        self._go(pages.search_url(query))

    def _fill(self, node_id: int, value: str) -> None:
        self.page = self.page.with_value(node_id, value)

    # -- action handlers ----------------------------------------------------------------

    def _error(self, kind: str, message: str) -> Outcome:
        return Outcome(self.page, ActionError(kind, message))

    def _target(self, action: Action) -> tuple[int, Node] | Outcome:
        node = self.page.node(action.id) if action.id is not None else None
        if node is None or action.id is None:
            return self._error("unknown_id", f"no element [{action.id}] on this page")
        return action.id, node

    def _click(self, action: Action) -> Outcome:
        target = self._target(action)
        if isinstance(target, Outcome):
            return target
        node_id, node = target
        if node.text_field:
            return Outcome(self.page, note=f"click: [{node_id}] is a text field; type into it")
        if not node.clickable:
            why = "is disabled" if node.role in pages.CLICKABLE_ROLES else "cannot be clicked"
            return self._error("not_interactable", f"[{node_id}] {node.role} {node.name!r} {why}")
        if node.role in ("link", "radio"):
            self._follow(node_id, node)
        elif node.action == "search":
            self._search(node_id, self.page.search_value())
        elif not self._submit(node_id, node):
            return self._error("not_interactable", f"[{node_id}] {node.name!r} did nothing")
        if node.action in PURCHASES:
            self.done = True
        return Outcome(self.page, done=self.done)

    def _type(self, action: Action) -> Outcome:
        target = self._target(action)
        if isinstance(target, Outcome):
            return target
        node_id, node = target
        if not node.text_field:
            return self._error(
                "not_interactable", f"[{node_id}] {node.role} {node.name!r} is not a text field"
            )
        # Whitespace is collapsed as Chromium collapses names, so both back ends agree.
        old = node.value or "" if self.type_mode == "append" else ""
        value = pages.clean(old + (action.text or ""))
        self._fill(node_id, value)
        if action.enter:
            self._search(node_id, value)
        return Outcome(self.page)

    def _hover(self, action: Action) -> Outcome:
        target = self._target(action)
        if isinstance(target, Outcome):
            return target
        return Outcome(self.page, note="hover: nothing in this shop changes on hover")

    def _press(self, action: Action) -> Outcome:
        return Outcome(self.page, note="press: keys do nothing here; use type [id] [text] [1]")

    def _scroll(self, action: Action) -> Outcome:
        return Outcome(self.page, note="scroll: the whole page is already shown")

    def _goto(self, action: Action) -> Outcome:
        path = shop_path(action.url or "")
        if path is None:
            return self._error(
                "unsupported", "goto: only this shop's pages can be opened, e.g. goto [/cart]"
            )
        self._go(path)
        return Outcome(self.page)

    def _history(self, action: Action) -> Outcome:
        source, sink = (
            (self.back, self.forward) if action.kind == "go_back" else (self.forward, self.back)
        )
        if not source:
            where = "previous" if action.kind == "go_back" else "next"
            return self._error("unsupported", f"{action.kind}: there is no {where} page")
        sink.append(self.page.url)
        self._show(source.pop())
        return Outcome(self.page)

    def _stop(self, action: Action) -> Outcome:
        self.done, self.answer = True, action.answer or ""
        return Outcome(self.page, done=True, answer=self.answer)

    def _tab(self, action: Action) -> Outcome:
        return self._error("unsupported", "not supported: single tab")


_HANDLERS = {
    "click": Session._click,
    "type": Session._type,
    "hover": Session._hover,
    "press": Session._press,
    "scroll": Session._scroll,
    "goto": Session._goto,
    "go_back": Session._history,
    "go_forward": Session._history,
    "stop": Session._stop,
    **dict.fromkeys(TAB_KINDS, Session._tab),
}


def tiny_catalog() -> Catalog:
    """Three products in two categories, for examples and smoke tests."""
    mug = Product(
        "B0MUG00001",
        "Red ceramic mug",
        "Kitchen",
        "Kitchen > Mugs",
        12.5,
        4.4,
        120,
        ("Holds 350 ml",),
        "A red mug.",
        ("ceramic",),
        {"size": ("small", "large")},
    )
    cup = Product(
        "B0CUP00002",
        "Blue travel mug",
        "Kitchen",
        "Kitchen > Mugs",
        18.0,
        4.1,
        45,
        ("Keeps tea hot",),
        "A steel mug.",
        ("steel",),
        {},
    )
    scarf = Product(
        "B0SCARF003",
        "Wool scarf",
        "Clothing",
        "Clothing > Scarves",
        25.0,
        4.7,
        9,
        ("Soft wool",),
        "A warm scarf.",
        ("wool",),
        {},
    )
    return Catalog((mug, cup, scarf))
