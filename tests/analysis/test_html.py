"""The self-contained HTML report (issue 10): every env, escaped hostile text, no external
URL, the prompts actually sent, a bounded transcript, and the report of many runs."""

from __future__ import annotations

import json
import shutil
import sqlite3
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

import analysis.html
from analysis.html import REPORT_FILE, write_html_report
from tests.analysis.test_report_runs import donor_runs, tiny_runs

HOSTILE = '<script>alert(1)</script>"onerror=alert(2) <img src=x>'


class _Page(HTMLParser):
    """Collects tags, attribute values, script/style text and visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.code: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        (self.code if self._in else self.text).append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _report(env: str, tmp_path: Path) -> str:
    return write_html_report([tiny_runs()[env]], tmp_path / f"{env}.html").read_text("utf-8")


SECTIONS = {
    "donor": ("cooperation", "donation_by_round", "lineage", "paper_comparison"),
    "debate": ("debate", "persuasion"),
    "norm": ("norms",),
    "shop": ("web_shop",),
}


@pytest.mark.parametrize("env", sorted(SECTIONS))
def test_every_env_gets_a_complete_page(env, tmp_path):
    html = _report(env, tmp_path)
    page = _parse(html)
    for name in ("Status, LLM calls and parse failures", "Figures", "Config", "Transcript"):
        assert f"<h2>{name}</h2>" in html
    for section in SECTIONS[env]:
        assert f"<h2>{section}</h2>" in html
    assert "status completed" in html and "latency mean" in html
    assert page.tags.count("script") == 1  # ours only
    entries = [v for t, k, v in page.attrs if k == "class" and v == "entry"]
    assert entries
    assert 'data-type="decision"' in html
    # deterministic: the same run gives the same bytes
    assert write_html_report([tiny_runs()[env]], tmp_path / "again.html").read_text("utf-8") == html


def test_transcript_has_the_prompts_actually_sent(tmp_path):
    run = tiny_runs()["donor"]
    db = sqlite3.connect(run / "llm_cache.sqlite")
    stored = [json.loads(m) for (m,) in db.execute("SELECT messages FROM prompts")]
    db.close()
    html = _report("donor", tmp_path)
    assert stored
    for messages in stored[:5]:
        assert escape(messages[-1]["content"][:200], quote=True) in html
    assert "prompt sent (" in html and "not stored" not in html
    # strategies (reproduction params with the LLM-written text) are in the transcript
    assert 'data-type="reproduction"' in html and "My strategy" in html


def test_debate_transcript_has_utterances_and_norm_has_judgements(tmp_path):
    assert 'data-type="utterance"' in _report("debate", tmp_path)
    assert 'data-type="judgement"' in _report("norm", tmp_path)


def _hostile_run(tmp_path: Path) -> Path:
    run = shutil.copytree(tiny_runs()["donor"], tmp_path / "run")
    events = run / "events.jsonl"
    lines = [json.loads(line) for line in events.read_text("utf-8").splitlines()]
    decision = next(r for r in lines if r["type"] == "decision" and r.get("raw"))
    decision["raw"] = decision["rationale"] = HOSTILE
    call = next(r for r in lines if r["type"] == "llm_call")
    call["reply"] = HOSTILE
    events.write_text("".join(json.dumps(r) + "\n" for r in lines), "utf-8")
    config = json.loads((run / "config.json").read_text("utf-8"))
    config["experiment"] = HOSTILE
    (run / "config.json").write_text(json.dumps(config), "utf-8")
    db = sqlite3.connect(run / "llm_cache.sqlite")
    db.execute(
        "UPDATE prompts SET messages = ?", (json.dumps([{"role": HOSTILE, "content": HOSTILE}]),)
    )
    db.commit()
    db.close()
    return run


def test_hostile_text_is_escaped_never_markup(tmp_path):
    html = write_html_report([_hostile_run(tmp_path)]).read_text("utf-8")
    page = _parse(html)
    assert "<script>alert" not in html and "<img src=x>" not in html
    assert '"onerror' not in html
    assert escape(HOSTILE, quote=True) in html
    assert page.tags.count("script") == 1
    srcs = [v for t, k, v in page.attrs if t == "img" and k == "src"]
    assert all(v.startswith("data:image/png;base64,") for v in srcs)  # the figures only
    assert not [a for a in page.attrs if a[1].startswith("on")]
    assert HOSTILE in "".join(page.text)  # shown as text, intact


def _external(html: str) -> list[str]:
    page = _parse(html)
    urls = [v for _, k, v in page.attrs if k in ("src", "href", "action", "srcset")]
    bad = [u for u in urls if not u.startswith("data:image/png;base64,") and ":" in u.split("/")[0]]
    bad += [u for u in urls if u.startswith("//")]
    bad += [c for c in page.code if "http" in c or "url(" in c or "@import" in c]
    return bad


@pytest.mark.parametrize("env", sorted(SECTIONS))
def test_no_external_url(env, tmp_path):
    html = _report(env, tmp_path)
    assert _external(html) == []
    assert "default-src 'none'; img-src data:" in html  # the browser refuses any other load
    # `http` appears only as escaped text (a page observation, a prompt), never as a link
    page = _parse(html)
    text = "".join(page.text)
    assert html.count("http") == text.count("http") + html.count('http-equiv="Content-Security')


def test_transcript_is_capped_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis.html, "MAX_TRANSCRIPT", 5)
    html = _report("donor", tmp_path)
    assert html.count('<div class="entry"') == 5
    assert "more entries left out (first 5 shown)" in html


def test_many_runs_page_links_each_run_page_relatively(tmp_path):
    folder = shutil.copytree(donor_runs(), tmp_path / "sweep")
    out = write_html_report([folder])
    assert out == folder / REPORT_FILE
    html = out.read_text("utf-8")
    links = [v for t, k, v in _parse(html).attrs if t == "a" and k == "href"]
    assert len(links) == 4
    for link in links:
        assert not Path(link).is_absolute() and link.endswith("/" + REPORT_FILE)
        assert (out.parent / link).is_file()
    assert "<h2>Across runs</h2>" in html and "<h2>Figures: donor_game_v0</h2>" in html
    assert "<h2>Paper comparison: donor_game_v0</h2>" in html
    assert "env.multiplier=3" in html and _external(html) == []


def test_a_run_page_link_is_a_url_for_any_directory_name(tmp_path):
    # "#" and "%" end or change a URL's path: the link must be percent-encoded.
    from urllib.parse import unquote

    folder = tmp_path / "runs"
    for i, source in enumerate(sorted(p for p in donor_runs().iterdir() if p.is_dir())[:2]):
        shutil.copytree(source, folder / f"run #{i} 50%")
    out = write_html_report([folder])
    links = [v for t, k, v in _parse(out.read_text("utf-8")).attrs if t == "a" and k == "href"]
    assert len(links) == 2
    for link in links:
        assert "#" not in link
        assert (out.parent / unquote(link)).is_file()
