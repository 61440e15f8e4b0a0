"""The HTML report in a real browser (issue 10): headless Debian Chromium driven by Playwright
loads the file from disk with no console or page errors, the transcript search filters the
entries, and a screenshot is a non-empty PNG.

Skipped when playwright or /usr/bin/chromium is missing (``apt-get install chromium``).
"""

from __future__ import annotations

import os

import pytest

from analysis.html import write_html_report
from tests.analysis.test_html import HOSTILE, _hostile_run
from tests.analysis.test_report_runs import tiny_runs

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no {CHROMIUM}"),
]

# No network, no extensions, no first-run work: the page must need nothing beyond itself.
_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The pages, written before the browser starts (Playwright's sync API holds an event
    loop, and making a run needs its own)."""
    tmp = tmp_path_factory.mktemp("html")
    plain = write_html_report([tiny_runs()["donor"]], tmp / "report.html")
    hostile = write_html_report([_hostile_run(tmp)])
    return {"plain": plain, "hostile": hostile}


@pytest.fixture(scope="module")
def browser(reports):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=_ARGS, headless=True)
        yield b
        b.close()


def _open(browser, path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    # an injected alert() would open a dialog: record it (and close it)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


def _visible(page):
    return page.eval_on_selector_all(
        "#transcript .entry", "es => es.filter(e => !e.hidden).map(e => e.textContent)"
    )


def test_report_loads_searches_and_screenshots(browser, reports):
    page, problems, requests = _open(browser, reports["plain"])
    everything = _visible(page)
    assert len(everything) > 10
    # every request is the page itself or one of its inline data: images
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    needle = "strategy_status"  # in the reproduction entries only
    page.fill("#q", needle)
    shown = _visible(page)
    expected = [t for t in everything if needle in t.lower()]
    assert 0 < len(shown) == len(expected) < len(everything)
    assert all(needle in t.lower() for t in shown)
    assert page.inner_text("#shown") == str(len(shown))
    page.select_option("#t", "reproduction")
    assert _visible(page) == [t for t in expected if t.startswith("reproduction")] == shown
    page.select_option("#t", "decision")
    assert _visible(page) == []
    page.fill("#q", "")
    page.select_option("#t", "")
    assert len(_visible(page)) == len(everything)
    png = page.screenshot(full_page=False)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    images = page.eval_on_selector_all("figure img", "es => es.map(e => e.naturalWidth)")
    assert images and all(w > 0 for w in images)  # the base64 figures decode
    page.close()
    assert problems == []


def test_hostile_text_runs_no_script_in_the_browser(browser, reports):
    page, problems, _ = _open(browser, reports["hostile"])
    page.fill("#q", "onerror=alert(2)")
    shown = _visible(page)
    assert shown and all(HOSTILE in t for t in shown)
    page.close()
    assert problems == []
