"""The browser back end (Playwright + Debian Chromium) against the in-process renderer.

Skipped when playwright or chromium is missing (``apt-get install chromium``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from agentsim.envs.web_shop.actions import parse_action
from agentsim.envs.web_shop.browser import BrowserBackend, BrowserSession, unavailable
from agentsim.envs.web_shop.shop import Session, Shop
from tests.envs.test_web_shop_site import INJECTION, S2_ITEM, Queries, make_catalog

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=f"browser back end: {unavailable()}"),
]


@pytest.fixture(scope="module")
def backend() -> Iterator[BrowserBackend]:
    with BrowserBackend(Shop(make_catalog(), Queries((S2_ITEM,)))) as b:
        yield b


@pytest.fixture
def pair(backend) -> Iterator[tuple[Session, BrowserSession]]:
    browser = backend.new_session()
    yield backend.shop.new_session(), browser
    browser.close()


def same_tree(inprocess: Session, browser: BrowserSession) -> str:
    assert browser.url == inprocess.url
    for url_links in (False, True):
        assert browser.observe(url_links=url_links) == inprocess.observe(url_links=url_links)
    return inprocess.observe()


def both(pair: tuple[Session, BrowserSession], reply: str) -> str:
    inprocess, browser = pair
    action = parse_action(reply)
    expected, got = inprocess.act(action), browser.act(action)
    assert (got.error, got.done, got.answer) == (expected.error, expected.done, expected.answer)
    return same_tree(inprocess, browser)


def find(tree: str, role: str, name: str) -> int:
    match = re.search(rf"\[(\d+)\] {role} '{re.escape(name)}'", tree)
    assert match, (role, name, tree)
    return int(match.group(1))


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/search?q=mug",
        "/search?q=mug&page=2",
        "/search?q=zebra",
        "/category/kitchen",
        "/category/clothing",
        "/product/B0OPT00001",
        "/product/B0OPT00001?size=M",
        "/product/B0QUOTE001",
        "/product/B0SCARF001",
        "/cart",
        "/s2/Japan_s2_1",
        "/nowhere",
    ],
)
def test_both_back_ends_give_the_same_tree_for_every_page_type(pair, url):
    inprocess, browser = pair
    inprocess.open(url)
    browser.open(url)
    tree = same_tree(inprocess, browser)
    assert "[?]" not in tree


def test_same_trees_along_a_shopping_episode(pair):
    tree = both(pair, "type [6] [ceramic   mug] [0]")  # typed, not submitted: a value
    assert "value: 'ceramic mug'" in tree
    tree = both(pair, "click [7]")  # the Search button submits the typed text
    tree = both(pair, f"click [{find(tree, 'link', 'Red ceramic mug')}]")
    both(pair, f"click [{find(tree, 'button', 'Add to cart')}]")  # disabled: an error
    tree = both(pair, f"click [{find(tree, 'radio', 'S')}]")
    tree = both(pair, f"click [{find(tree, 'button', 'Add to cart')}]")
    assert "Cart (1)" in tree and "$12.50 · size: S" in tree
    tree = both(pair, "go_back")
    tree = both(pair, "goto [/product/B0MUG00003]")
    tree = both(pair, f"click [{find(tree, 'button', 'Add to cart')}]")
    tree = both(pair, f"click [{find(tree, 'button', 'Remove')}]")  # the first line
    assert "Cart (1)" in tree and "Plain mug number 3" in tree
    for reply in ["click [999]", "scroll [down]", "hover [3]", "new_tab", "click [9]"]:
        both(pair, reply)
    tree = both(pair, f"click [{find(tree, 'button', 'Checkout')}]")
    assert "Order 1 placed" in tree and pair[1].state.orders == pair[0].state.orders


def test_page_text_is_shown_not_run(pair):
    inprocess, browser = pair
    inprocess.open("/product/B0SCARF001")
    browser.open("/product/B0SCARF001")
    assert f"StaticText {INJECTION!r}" in same_tree(inprocess, browser)
    assert browser.tab.evaluate("() => document.scripts.length") == 0


def test_a_browser_loads_served_pages_follows_a_product_link_and_adds_to_cart(backend):
    # Plain Playwright on the served site, as a person would use it: no webids, no model.
    context = backend.browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(backend.server.url + "/search?q=ceramic")
        assert tab.title() == "Search results"
        tab.get_by_role("link", name="Red ceramic mug").click()
        tab.wait_for_url(re.compile(r"/product/B0OPT00001$"))
        tab.get_by_role("radio", name="M").click()
        tab.wait_for_url(re.compile(r"\?size=M$"))
        tab.get_by_role("button", name="Add to cart").click()
        tab.wait_for_url(re.compile(r"/cart$"))
        assert tab.get_by_role("link", name="Cart (1)").count() == 1
        carts = [s.cart for s in backend.server.sessions.values() if s.cart]
        assert [[(x.asin, x.options) for x in c] for c in carts] == [
            [("B0OPT00001", (("size", "M"),))]
        ]
    finally:
        context.close()


def test_real_catalog_crawl_agrees(backend):
    """Every category and S2 page and a sample of products of the shipped data."""
    from agentsim.envs.web_shop.data import load_catalog, load_queries

    catalog = load_catalog()
    shop = Shop(catalog, load_queries())
    with BrowserBackend(shop) as real:
        browser = real.new_session()
        inprocess = shop.new_session()
        urls = [f"/category/{s}" for s in shop.categories]
        urls += [f"/s2/{i}" for i in shop.s2_items]
        urls += [f"/product/{p.asin}" for p in catalog.products[::25]]
        for url in urls:
            inprocess.open(url)
            browser.open(url)
            same_tree(inprocess, browser)
        browser.close()


def test_a_browser_session_starts_where_it_is_told(backend):
    browser = backend.new_session(start_url="/s2/Japan_s2_1")
    try:
        inprocess = backend.shop.new_session(start_url="/s2/Japan_s2_1")
        assert browser.back == [] and same_tree(inprocess, browser).count("Plain mug") == 3
    finally:
        browser.close()


def test_typing_with_enter_submits_the_search_in_both(pair):
    tree = both(pair, "type [6] [wool  scarf] [1]")
    assert pair[1].url == "/search?q=wool+scarf" and "value: 'wool scarf'" in tree
    tree = both(pair, "go_back")
    assert pair[1].url == "/" and pair[1].forward == ["/search?q=wool+scarf"]
    both(pair, "go_forward")
