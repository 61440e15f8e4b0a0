"""The shop's page model: a typed node tree that both renderers print.

Each page is a pure function of the shop's data, the URL and the session state (the cart),
returning a tree of :class:`Node` s under a :class:`Page`. :mod:`.render` turns the tree
into HTML (served to a browser) and into WebArena's accessibility-tree text (Zhou et al.
2024, "WebArena", arXiv:2307.13854); one model feeding both keeps the two back ends equal
(the design of BrowserGym, Chezelles et al. 2024, arXiv:2412.05467, without its DOM
marking script).

Element ids are decimal integers assigned by a pre-order walk of the tree from 1 at the
root, so the same state gives the same ids in both renderers and across runs. Ids need
not survive navigation.

Example:
    >>> page = Page("/x", "Demo", Node("RootWebArea", "Demo", children=(
    ...     Node("link", "Home", href="/"), Node("StaticText", "Hello"))))
    >>> [(i, n.role) for i, _, n in page.walk()]
    [(1, 'RootWebArea'), (2, 'link'), (3, 'StaticText')]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import quote, urlencode

#: Roles an agent can click (when not disabled).
CLICKABLE_ROLES = frozenset({"link", "button", "radio", "checkbox"})
#: Roles an agent can type into.
TEXT_FIELD_ROLES = frozenset({"searchbox", "textbox"})
#: Results listed per search or category page (WebShop's window, Yao et al. 2022).
RESULTS_PER_PAGE = 10
#: Most hits a search returns in all (WebShop's ``SEARCH_RETURN_N``).
MAX_HITS = 50
SHOP_NAME = "Agentsim Shop"


class ProductLike(Protocol):
    """What the pages read of a catalog product (WebShop's fields, Yao et al. 2022)."""

    @property
    def asin(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def product_category(self) -> str: ...
    @property
    def price(self) -> float: ...
    @property
    def rating(self) -> float: ...
    @property
    def reviews(self) -> int: ...
    @property
    def bullet_points(self) -> Sequence[str]: ...
    @property
    def description(self) -> str: ...
    @property
    def attributes(self) -> Sequence[str]: ...
    @property
    def options(self) -> Mapping[str, Sequence[str]]: ...


@dataclass(frozen=True, eq=True)
class Node:
    """One element of a page.

    Attributes:
        role: ARIA role as Chromium reports it (``link``, ``button``, ``StaticText``, ...).
        name: accessible name (whitespace collapsed by :func:`clean`).
        value: a text field's current value (None for other roles).
        states: ``checked`` (radios; always present), ``disabled`` (when true), ``focused``.
        href: the target of a link or radio (a path of this shop).
        action: for buttons, the shop action a click performs (``search``, ``cart.add``,
            ``cart.remove``, ``buy``, ``checkout``); None for other elements.
        params: form fields sent with ``action``; for headings ``(("level", "1"),)``.
        children: child nodes in document order.
    """

    role: str
    name: str
    value: str | None = None
    states: Mapping[str, bool] = field(default_factory=dict)
    href: str | None = None
    action: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    children: tuple[Node, ...] = ()

    @property
    def clickable(self) -> bool:
        """True for an enabled link, button, radio or checkbox."""
        return self.role in CLICKABLE_ROLES and not self.states.get("disabled", False)

    @property
    def text_field(self) -> bool:
        """True for a search box or text box (the targets of ``type``)."""
        return self.role in TEXT_FIELD_ROLES and not self.states.get("disabled", False)


@dataclass(frozen=True)
class Page:
    """A rendered page: its URL (a path of this shop), title, node tree and HTTP status.

    ``walk()`` yields ``(id, depth, node)`` in pre-order; ``node(id)`` looks one up.
    """

    url: str
    title: str
    root: Node
    status: int = 200
    _nodes: tuple[tuple[int, Node], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        flat: list[tuple[int, Node]] = []
        stack: list[tuple[int, Node]] = [(0, self.root)]
        while stack:
            depth, node = stack.pop()
            flat.append((depth, node))
            stack.extend((depth + 1, c) for c in reversed(node.children))
        object.__setattr__(self, "_nodes", tuple(flat))

    def walk(self) -> Iterator[tuple[int, int, Node]]:
        """``(id, depth, node)`` for every node, in pre-order (ids from 1)."""
        for i, (depth, node) in enumerate(self._nodes):
            yield i + 1, depth, node

    def node(self, node_id: int) -> Node | None:
        """The node with this id, or None when the page has no such element."""
        return self._nodes[node_id - 1][1] if 1 <= node_id <= len(self._nodes) else None

    def with_value(self, node_id: int, value: str) -> Page:
        """This page with the text field ``node_id`` holding ``value`` (typed, not submitted)."""
        if self.node(node_id) is None:
            raise KeyError(node_id)
        counter = [0]

        def rebuild(node: Node) -> Node:
            counter[0] += 1
            if counter[0] == node_id:
                return replace(node, value=value)
            if counter[0] + _size(node) - 1 < node_id:  # the target is not in this subtree
                counter[0] += _size(node) - 1
                return node
            return replace(node, children=tuple(rebuild(c) for c in node.children))

        return replace(self, root=rebuild(self.root))

    def search_value(self) -> str:
        """The current text of the page's search box ("" when it has none)."""
        return next((n.value or "" for _, _, n in self.walk() if n.role == "searchbox"), "")


def _size(node: Node) -> int:
    return 1 + sum(_size(c) for c in node.children)


def clean(text: str) -> str:
    """Collapse whitespace and drop control characters, as Chromium does for names."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def text(content: str) -> Node:
    """A paragraph of static text (HTML ``<p>``; Chromium's ``StaticText``)."""
    return Node("StaticText", clean(content))


def link(name: str, href: str) -> Node:
    """A link to a path of this shop."""
    return Node("link", clean(name), href=href)


def heading(name: str, level: int) -> Node:
    """A heading ``<h1>``-``<h3>`` (the level is not printed, as in WebArena)."""
    return Node("heading", clean(name), params=(("level", str(level)),))


def button(
    name: str, action: str, params: Sequence[tuple[str, str]] = (), *, disabled: bool = False
) -> Node:
    """A button that performs a shop action (a POST form in HTML, except ``search``)."""
    states = {"disabled": True} if disabled else {}
    return Node("button", clean(name), states=states, action=action, params=tuple(params))


def money(price: float) -> str:
    """``$12.50``."""
    return f"${price:,.2f}"


def search_url(query: str, page_no: int = 1) -> str:
    """The results URL of a query (GET form encoding, as a browser submits it)."""
    pairs = [("q", query)] + ([("page", str(page_no))] if page_no > 1 else [])
    return "/search?" + urlencode(pairs)


def product_url(asin: str, chosen: Mapping[str, str] | None = None) -> str:
    """A product page, with the chosen options as query parameters (sorted by name)."""
    query = urlencode(sorted((chosen or {}).items()))
    return f"/product/{quote(asin)}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Frame:
    """What every page shows around its content: the cart count and the search text."""

    cart_items: int
    query: str = ""


def layout(title: str, frame: Frame, content: Sequence[Node], url: str) -> Page:
    """The common page: navigation, search landmark, then an unnamed ``main``."""
    nav = Node(
        "navigation",
        "Main",
        children=(link("Home", "/"), link(f"Cart ({frame.cart_items})", "/cart")),
    )
    search = Node(
        "search",
        "Search",
        children=(
            Node("searchbox", "Search products", value=clean(frame.query), action="search"),
            button("Search", "search"),
        ),
    )
    main = Node("main", "", children=tuple(content))
    root = Node("RootWebArea", clean(title), states={"focused": True}, children=(nav, search, main))
    return Page(url, clean(title), root)


def result_entries(products: Sequence[ProductLike]) -> list[Node]:
    """A results list: per product a link to its page and a price/rating line."""
    out: list[Node] = []
    for p in products:
        out.append(link(p.title, product_url(p.asin)))
        out.append(text(f"{money(p.price)} · rated {p.rating:.1f} of 5 ({p.reviews} reviews)"))
    return out


def pagination(total: int, page_no: int, url_of: UrlOf) -> list[Node]:
    """A "Showing a-b of n" line and Prev/Next links (``RESULTS_PER_PAGE`` a page)."""
    pages = max(1, math.ceil(total / RESULTS_PER_PAGE))
    first = (page_no - 1) * RESULTS_PER_PAGE
    out = [text(f"Showing {first + 1}-{min(total, first + RESULTS_PER_PAGE)} of {total} results")]
    if page_no > 1:
        out.append(link("< Prev", url_of(page_no - 1)))
    if page_no < pages:
        out.append(link("Next >", url_of(page_no + 1)))
    return out


class UrlOf(Protocol):
    """The URL of page ``page_no`` of a listing."""

    def __call__(self, page_no: int) -> str: ...


def home_page(
    frame: Frame, categories: Sequence[tuple[str, str, int]], featured: Sequence[ProductLike]
) -> Page:
    """``/``: categories (slug, name, count) and a few featured products."""
    content = [heading(f"Welcome to {SHOP_NAME}", 1), heading("Shop by category", 2)]
    content += [link(f"{name} ({count})", f"/category/{slug}") for slug, name, count in categories]
    content.append(heading("Featured products", 2))
    content += result_entries(featured)
    return layout(SHOP_NAME, frame, content, "/")


def listing_page(
    frame: Frame,
    title: str,
    head: str,
    hits: Sequence[ProductLike],
    page_no: int,
    url_of: UrlOf,
    url: str,
) -> Page:
    """A search-results or category page: ``hits`` paged ``RESULTS_PER_PAGE`` at a time."""
    content = [heading(head, 1)]
    if not hits:
        content.append(text("No products found."))
        return layout(title, frame, content, url)
    start = (page_no - 1) * RESULTS_PER_PAGE
    content += pagination(len(hits), page_no, url_of)[:1]
    content += result_entries(hits[start : start + RESULTS_PER_PAGE])
    content += pagination(len(hits), page_no, url_of)[1:]
    return layout(title, frame, content, url)


def product_page(frame: Frame, product: ProductLike, chosen: Mapping[str, str], url: str) -> Page:
    """``/product/<asin>``: details, option radios, Add to cart and Buy now.

    The two buttons are disabled until every option has a choice (WebShop's ``ban_buy``).
    Choosing an option is a link to the same page with the choice in the query, so every
    state change is a page load, in the browser as in process.
    """
    content = [
        heading(product.title, 1),
        text(product.product_category),
        text(f"Price: {money(product.price)}"),
        text(f"Rating: {product.rating:.1f} out of 5 ({product.reviews} reviews)"),
    ]
    for name, values in product.options.items():
        radios = tuple(
            Node(
                "radio",
                clean(v),
                states={"checked": chosen.get(name) == v},
                href=product_url(product.asin, {**chosen, name: v}),
            )
            for v in values
        )
        content.append(Node("radiogroup", clean(name), children=radios))
    ready = all(name in chosen for name in product.options)
    params = (("asin", product.asin), *sorted(chosen.items()))
    content.append(button("Add to cart", "cart.add", params, disabled=not ready))
    content.append(button("Buy now", "buy", params, disabled=not ready))
    content.append(heading("About this item", 2))
    content += [text(b) for b in product.bullet_points]
    content += [heading("Description", 2), text(product.description)]
    return layout(product.title, frame, content, url)


@dataclass(frozen=True)
class CartLine:
    """One cart entry: the product and its chosen options (sorted ``(name, value)`` pairs)."""

    asin: str
    options: tuple[tuple[str, str], ...] = ()


def cart_page(frame: Frame, lines: Sequence[tuple[CartLine, ProductLike]]) -> Page:
    """``/cart``: each line with a Remove button, the subtotal and Checkout."""
    content = [heading("Shopping cart", 1)]
    if not lines:
        content.append(text("Your cart is empty."))
    for index, (line, product) in enumerate(lines):
        chosen = ", ".join(f"{k}: {v}" for k, v in line.options)
        content.append(link(product.title, product_url(product.asin, dict(line.options))))
        content.append(text(f"{money(product.price)}" + (f" · {chosen}" if chosen else "")))
        content.append(button("Remove", "cart.remove", (("line", str(index)),)))
    subtotal = sum(p.price for _, p in lines)
    content.append(text(f"Subtotal ({len(lines)} items): {money(subtotal)}"))
    content.append(button("Checkout", "checkout", disabled=not lines))
    return layout("Shopping cart", frame, content, "/cart")


def order_page(frame: Frame, number: int, products: Sequence[ProductLike]) -> Page:
    """``/order/<n>``: the confirmation of a placed order."""
    content = [heading(f"Order {number} placed", 1)]
    content += [text(f"{p.title}: {money(p.price)}") for p in products]
    content.append(link("Continue shopping", "/"))
    return layout(f"Order {number}", frame, content, f"/order/{number}")


def not_found_page(frame: Frame, url: str) -> Page:
    """Any URL the shop does not know (HTTP 404 from the server)."""
    content = [heading("Page not found", 1), text(f"There is no page at {url}."), link("Home", "/")]
    return replace(layout("Page not found", frame, content, url), status=404)
