"""Web-shop page renders + accessibility trees per second: in-process vs the browser.

Measures, over the same cycle of URLs (home, search, category, product, cart, S2 page)
of the shipped catalog, in one process:

  in-process
    baseline: WebShop's flat text observation (Yao et al. 2022: visible strings joined
      by " [SEP] ") from the same page model: the cheapest observation there is
    page model + tree text: ``shop.page(url)`` + ``render.axtree`` (the default back end)
    page model + HTML: ``shop.page(url)`` + ``render.html`` (what the server sends)
  browser (Playwright + Chromium, headless; skipped when unavailable)
    load + tree text: ``page.goto`` + CDP tree mapped to webids (``BrowserSession``)
    tree text only: ``observe()`` on an already loaded page
    load + aria_snapshot: ``page.goto`` + Playwright's id-free YAML snapshot

Ratios are against the in-process tree text.

Run:  python bench/web_shop_render.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import time

from agentsim.envs.web_shop import render
from agentsim.envs.web_shop.browser import BrowserBackend, unavailable
from agentsim.envs.web_shop.data import load_catalog, load_queries
from agentsim.envs.web_shop.shop import SessionState, Shop


def urls(shop):
    """One URL of each page type, product pages varied."""
    products = list(shop.products)
    cycle = []
    for i in range(6):
        cycle += [
            "/",
            "/search?q=wall+clock",
            f"/category/{list(shop.categories)[i % len(shop.categories)]}",
            f"/product/{products[(37 * i) % len(products)]}",
            "/cart",
            f"/s2/{list(shop.s2_items)[i % len(shop.s2_items)]}",
        ]
    return cycle


def per_second(fn, items, seconds):
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for item in items:
            fn(item)
        done += len(items)
    return done / (time.perf_counter() - t0)


def webshop_text(page):
    return " [SEP] ".join(n.name for _, _, n in page.walk() if n.name and n.role != "RootWebArea")


def inprocess_rows(shop, cycle, seconds):
    state = SessionState()
    shop.perform(state, "cart.add", {"asin": next(a for a, p in shop.products.items()
                                                  if not p.options)})  # fmt: skip
    return {
        "baseline: WebShop flat text": per_second(
            lambda u: webshop_text(shop.page(u, state)), cycle, seconds
        ),
        "in-process: page model + tree text": per_second(
            lambda u: render.axtree(shop.page(u, state)), cycle, seconds
        ),
        "in-process: page model + HTML": per_second(
            lambda u: render.html(shop.page(u, state)), cycle, seconds
        ),
    }


def browser_rows(shop, cycle, seconds):
    with BrowserBackend(shop) as backend:
        session = backend.new_session()

        def load_and_tree(url):
            session.open(url)
            return session.observe()

        def load_and_aria(url):
            session.tab.goto(backend.server.url + url)
            return session.tab.locator("body").aria_snapshot()

        rows = {
            "browser: load + tree text": per_second(load_and_tree, cycle, seconds),
            "browser: load + aria_snapshot": per_second(load_and_aria, cycle, seconds),
        }
        session.open("/")
        rows["browser: tree text only (loaded page)"] = per_second(
            lambda _: session.observe(), cycle[:6], seconds
        )
        session.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    args = parser.parse_args(argv)
    seconds = 0.5 if args.quick else 3.0
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    catalog = load_catalog()
    shop = Shop(catalog, load_queries())
    cycle = urls(shop)
    rows = inprocess_rows(shop, cycle, seconds)
    reason = unavailable()
    if reason is None:
        rows.update(browser_rows(shop, cycle, seconds))
    base = rows["in-process: page model + tree text"]
    print(f"\n{len(catalog.products)} products; pages cycle over {len(cycle)} URLs of 6 types")
    print(f"  {'path':42s} {'pages/s':>12s} {'vs in-process tree':>20s}")
    for name, value in rows.items():
        print(f"  {name:42s} {value:12,.1f} {value / base:20.4f}")
    if reason is not None:
        print(f"  browser rows skipped: {reason}")


def run(quick: bool = False) -> str:
    """This benchmark's section of bench/RESULTS.md: its report, as ``main`` prints it.

    ``quick``: the smoke run (--quick).
    """
    from _section import printed_section

    return printed_section("bench/web_shop_render.py", __doc__, main, quick)


if __name__ == "__main__":
    main()
