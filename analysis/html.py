"""A self-contained HTML report of one run or many (``agentsim report PATH --html``).

One file that opens from disk, with nothing fetched: inline CSS and JavaScript, figures as
base64 PNGs, no external URL (a Content-Security-Policy forbids any load but ``data:``
images). A run's page has its header, status and stop reason, LLM calls, cost, latency and
parse failures, each report section's text and statistics (a generic dict -> table
renderer), the figures (:mod:`analysis.plots`), the config, and a browsable transcript:
decisions (observation, action, rationale, raw reply, parse status), utterances,
strategies, judgements and other LLM calls, each with the prompts actually sent (from the
``llm_call`` record, or the ``prompts`` table of the run's ``llm_cache.sqlite``, read
read-only with :mod:`sqlite3`), filtered by a search box. Many runs (a sweep directory, or
several run directories) get the across-runs tables and figures, the paper comparison and
a table of runs linking to each run's own page (written beside it, relative links).

Every piece of model, page and config text goes through :func:`html.escape`: a reply may
contain markup, and must show as text. The output is deterministic (no timestamps).

Example:
    >>> from analysis.html import write_html_report  # doctest: +SKIP
    >>> write_html_report(["runs/donor-game-seed1-20261126-093000"])  # doctest: +SKIP
    PosixPath('runs/donor-game-seed1-20261126-093000/report.html')
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agentsim.core.records import Record, load_records
from analysis.plots import NO_PLOTS, Figure, across_figures_of, figures_of, plotting_available
from analysis.report import (
    generic_lines,
    headline_figures,
    report_runs_json,
    run_report,
    sections_of,
    single_run,
    statistics_of,
)

REPORT_FILE = "report.html"
#: Transcript entries shown per run (the rest are counted in a note).
MAX_TRANSCRIPT = 2000
#: Characters shown of one text (a reply, an observation, a prompt message).
MAX_TEXT = 20_000
#: Rows shown of one statistics table, items of one list.
MAX_ROWS, MAX_ITEMS = 200, 50
#: Runs of a sweep that get their own page written beside them.
MAX_RUN_PAGES = 100
_MAX_DEPTH = 6

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.5em}
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #ddd;padding:2px 6px;
vertical-align:top;text-align:left}th{background:#f4f4f4}pre{white-space:pre-wrap;margin:0;
font:12px/1.35 ui-monospace,monospace}.note{color:#666;font-style:italic}
figure{display:inline-block;margin:.5em}figure img{max-width:100%}
.entry{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.3em .6em}
.tag{font-weight:bold;margin-right:.5em}.ps{color:#a40}dt{font-weight:bold}
dl{margin:.2em 0;display:grid;grid-template-columns:max-content 1fr;gap:.1em .8em}dd{margin:0}
[hidden]{display:none!important}#bar{position:sticky;top:0;
background:#fff;padding:.4em 0}#q{width:30em}
"""
_JS = """
(function(){var q=document.getElementById('q'),t=document.getElementById('t'),
n=document.getElementById('shown');if(!q){return;}
var es=Array.prototype.slice.call(document.querySelectorAll('#transcript .entry'));
function f(){var s=q.value.toLowerCase(),ty=t.value,k=0;es.forEach(function(e){
var ok=(!ty||e.getAttribute('data-type')===ty)&&(!s||e.textContent.toLowerCase().indexOf(s)>=0);
e.hidden=!ok;if(ok){k++;}});n.textContent=String(k);}
q.addEventListener('input',f);t.addEventListener('change',f);f();})();
"""


def write_html_report(
    paths: str | Path | Sequence[str | Path], out: str | Path | None = None
) -> Path:
    """Write the HTML report of one run directory, or of many runs, and return its path.

    Args:
        paths: one run directory; or a sweep directory, a folder of runs, or several run
            directories (see ``analysis.runs.load_runs``).
        out: the file to write; default ``report.html`` in the run or sweep directory (for
            several directories, in their common parent).

    Raises:
        UserError: no run found, or a run without ``events.jsonl``.
        MalformedRecord: (a ``ValueError``) naming ``file:line`` of a bad record.
    """
    items = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    run_dir = single_run(items)
    if run_dir is not None:
        target = Path(out) if out else run_dir / REPORT_FILE
        page = run_page(run_dir)
    else:
        target = Path(out) if out else _common_dir(items) / REPORT_FILE
        page = runs_page(items, target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def _common_dir(paths: Sequence[Path]) -> Path:
    if len(paths) == 1:
        return paths[0]
    return Path(os.path.commonpath([p.resolve() for p in paths]))


# ---------------------------------------------------------------- one run


def run_page(run_dir: str | Path) -> str:
    """The HTML page of one run directory."""
    run_dir = Path(run_dir)
    config, summary, events = run_report(run_dir)
    records = load_records(events)
    env_id = config.get("env_id")
    stats = statistics_of(records, env_id if isinstance(env_id, str) else None)
    run = stats["run"]
    body = [
        f"<h1>{_e(run_dir.name)}</h1>",
        f"<p>experiment {_e(config.get('experiment'))} · seed {_e(config.get('seed'))} · "
        f"env {_e(stats['env_id'])}</p>",
        "<h2>Status, LLM calls and parse failures</h2>",
        _pre("\n".join(generic_lines(run, headline_figures(summary)))),
        _details("accounting", table(_accounting(run))),
        "<h2>Figures</h2>",
        _figures(figures_of(stats)),
    ]
    for section in sections_of(stats["env_id"]):
        body += [
            f"<h2>{_e(section.name)}</h2>",
            _pre(section.text(stats[section.name])),
            _details("statistics", table(stats[section.name])),
        ]
    body += ["<h2>Config</h2>", table(config)]
    body += ["<h2>Transcript</h2>", transcript(records, run_dir / "llm_cache.sqlite")]
    return page(f"agentsim report: {run_dir.name}", body)


def _accounting(run: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("status", "stop_reason", "episodes_completed", "decisions", "judgements")
    return {
        **{k: run[k] for k in keys},
        "parse_failures": run["parse_failures"],
        "llm": run["llm"],
        "records": run["records"],
    }


def _figures(figures: Sequence[Figure]) -> str:
    if not plotting_available():
        return f'<p class="note">{_e(NO_PLOTS)}</p>'
    if not figures:
        return '<p class="note">no figures for this report</p>'
    return "".join(
        f'<figure><img alt="{_e(f.alt)}" src="data:image/png;base64,'
        f'{base64.b64encode(f.png).decode("ascii")}"><figcaption>{_e(f.title)}</figcaption>'
        "</figure>"
        for f in figures
    )


# ---------------------------------------------------------------- many runs


def runs_page(paths: Sequence[str | Path], out_dir: Path) -> str:
    """The HTML page of many runs; writes each run's own page (up to :data:`MAX_RUN_PAGES`)."""
    stats = report_runs_json(paths)
    rows = stats["runs"]
    body = [
        f"<h1>{len(rows)} runs</h1>",
        f"<p>varying settings: {_e(', '.join(stats['conditions']) or 'none')}</p>",
        "<h2>Runs</h2>",
        _runs_table(rows, out_dir),
        "<h2>LLM calls and cost (all runs)</h2>",
        table(stats["llm"]),
    ]
    from analysis.across import across_text

    body += ["<h2>Across runs</h2>", _pre(across_text(stats["across"]))]
    for env, env_stats in stats["across"]["envs"].items():
        body += [
            f"<h2>Figures: {_e(env)}</h2>",
            _figures(across_figures_of(env_stats, env)),
            _details(f"all across-runs statistics of {env}", table(env_stats)),
        ]
        comparison = stats["paper_comparison"].get(env) or {}
        if comparison.get("rows"):
            body += [
                f"<h2>Paper comparison: {_e(env)}</h2>",
                f"<p class='note'>{_e(comparison['disclaimer'])}</p>",
                table(comparison["rows"]),
            ]
    return page(f"agentsim report: {len(rows)} runs", body)


def _runs_table(rows: Sequence[Mapping[str, Any]], out_dir: Path) -> str:
    cols = ("run", "seed", "condition", "status", "stop_reason", "episodes_completed")
    head = "".join(f"<th>{_e(c)}</th>" for c in (*cols, "report"))
    lines = [f"<table><tr>{head}</tr>"]
    for i, row in enumerate(rows):
        cells = "".join(f"<td>{_cell(row.get(c))}</td>" for c in cols)
        lines.append(f"<tr>{cells}<td>{_run_link(Path(str(row['path'])), out_dir, i)}</td></tr>")
    return "".join([*lines, "</table>"])


def _run_link(run_dir: Path, out_dir: Path, index: int) -> str:
    if index >= MAX_RUN_PAGES:
        return f'<span class="note">agentsim report {_e(run_dir.name)} --html</span>'
    try:
        written = write_html_report([run_dir])
    except ValueError as exc:  # a corrupt run does not stop the sweep's page
        return f'<span class="note">no report: {_e(str(exc))}</span>'
    rel = Path(os.path.relpath(written.resolve(), out_dir.resolve())).as_posix()
    return f'<a href="{_e(quote(rel))}">{_e(rel)}</a>'  # a URL: "#", "%" percent-encoded


# ---------------------------------------------------------------- transcript

_TRANSCRIBED = ("decision", "utterance", "reproduction", "judgement", "llm_call")


def transcript(records: Sequence[Record], cache: Path) -> str:
    """The run's decisions, utterances, strategies, judgements and other LLM calls, with their
    prompts, as filterable entries (at most :data:`MAX_TRANSCRIPT`)."""
    calls = {r["prompt_hash"]: r for r in records if r["type"] == "llm_call"}
    linked = {h for r in records for h in _hashes(r) if r["type"] != "llm_call"}
    chosen = [
        r
        for r in records
        if r["type"] in _TRANSCRIBED
        and not (r["type"] == "llm_call" and r["prompt_hash"] in linked)
    ]
    shown = chosen[:MAX_TRANSCRIPT]
    prompts = _prompts(shown, calls, cache)
    entries = [_entry(i, r, prompts) for i, r in enumerate(shown)]
    types = sorted({r["type"] for r in shown})
    options = "".join(f'<option value="{_e(t)}">{_e(t)}</option>' for t in types)
    left = len(chosen) - len(shown)
    note = f'<p class="note">{left} more entries left out (first {len(shown)} shown)</p>'
    return (
        '<div id="bar"><input id="q" type="search" placeholder="search the transcript" '
        f'aria-label="search the transcript"> <select id="t"><option value="">all types</option>'
        f'{options}</select> <span id="shown">{len(shown)}</span> of {len(shown)} entries '
        f'shown</div>{note if left else ""}<div id="transcript">{"".join(entries)}</div>'
    )


def _hashes(r: Record) -> list[str]:
    if r["type"] == "llm_call":
        return [str(r["prompt_hash"])]
    return [str(h) for h in r.get("prompt_hashes") or ()]


def _prompts(
    shown: Sequence[Record], calls: Mapping[str, Record], cache: Path
) -> dict[str, list[Any]]:
    """Messages by prompt hash: from the call record where it has them, else the run's cache."""
    wanted = {h for r in shown for h in _hashes(r)}
    out = {
        h: calls[h]["messages"]
        for h in wanted
        if isinstance(calls.get(h, {}).get("messages"), list)
    }
    out.update(read_prompts(cache, sorted(wanted - set(out))))
    return out


def read_prompts(path: Path, keys: Iterable[str]) -> dict[str, list[Any]]:
    """The stored messages of the given prompt hashes from a run's ``llm_cache.sqlite``.

    Reads the ``prompts`` table (``key``, ``messages`` JSON) read-only, as
    ``agentsim.llm.cache`` writes it (analysis may import only ``agentsim.core``); a missing
    file or table gives {}.
    """
    wanted = list(keys)
    if not wanted or not path.is_file():
        return {}
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = []
        for start in range(0, len(wanted), 500):  # SQLite's limit on ? placeholders
            chunk = wanted[start : start + 500]
            rows += db.execute(
                f"SELECT key, messages FROM prompts WHERE key IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
    except sqlite3.Error:  # no prompts table (an old run), or not a database
        return {}
    finally:
        db.close()
    return {str(k): m for k, m in ((k, _json(v)) for k, v in rows) if isinstance(m, list)}


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


_WHERE = ("generation", "episode", "game", "round", "iteration", "step")
_FIELDS = {
    "decision": ("observation", "action", "rationale", "raw"),
    "utterance": ("role", "phase", "text", "stated"),
    "reproduction": ("parents", "kind", "params"),
    "judgement": ("item", "score", "label", "rationale", "raw"),
    "llm_call": ("model", "purpose", "reply", "error", "latency_s", "cached"),
}


def _entry(index: int, r: Record, prompts: Mapping[str, list[Any]]) -> str:
    who = r.get("agent") or r.get("child") or r.get("judge") or ""
    where = " · ".join(f"{k} {r[k]}" for k in _WHERE if r.get(k) is not None)
    status = r.get("parse_status")
    head = f'<span class="tag">{_e(r["type"])}</span>#{index} {_e(who)} · {_e(where)}' + (
        f' · <span class="ps">{_e(status)}</span>' if status else ""
    )
    fields = "".join(
        f"<dt>{_e(k)}</dt><dd>{_pre(_text(r[k]))}</dd>"
        for k in _FIELDS[r["type"]]
        if r.get(k) is not None
    )
    sent = "".join(_prompt(h, prompts.get(h)) for h in _hashes(r))
    kind = _e(r["type"])
    return f'<div class="entry" data-type="{kind}"><div>{head}</div><dl>{fields}</dl>{sent}</div>'


def _prompt(key: str, messages: list[Any] | None) -> str:
    if messages is None:
        return f'<p class="note">prompt {_e(key[:12])}: not stored</p>'
    parts = "".join(
        f"<dt>{_e(m.get('role') if isinstance(m, dict) else '?')}</dt>"
        f"<dd>{_pre(_text(m.get('content') if isinstance(m, dict) else m))}</dd>"
        for m in messages
    )
    return (
        f"<details><summary>prompt sent ({len(messages)} messages, {_e(key[:12])})</summary>"
        f"<dl>{parts}</dl></details>"
    )


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_TEXT:
        return f"{text[:MAX_TEXT]}… ({len(text) - MAX_TEXT} characters more)"
    return text


# ---------------------------------------------------------------- generic rendering


def table(value: Any, depth: int = 0) -> str:
    """Any JSON-ready value as HTML: dicts as key/value tables, lists of dicts as tables with
    a column per key, other lists inline; every text escaped, long tables cut with a note."""
    if depth > _MAX_DEPTH:
        return _pre(_text(value)[:200])
    if isinstance(value, Mapping):
        return _mapping(value, depth)
    if isinstance(value, (list, tuple)):
        return _sequence(value, depth)
    return _cell(value)


def _mapping(value: Mapping[Any, Any], depth: int) -> str:
    if not value:
        return '<span class="note">none</span>'
    items = list(value.items())
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td>{table(v, depth + 1)}</td></tr>" for k, v in items[:MAX_ROWS]
    )
    return f"<table>{rows}</table>{_more(len(items) - MAX_ROWS)}"


def _sequence(value: Sequence[Any], depth: int) -> str:
    if not value:
        return '<span class="note">none</span>'
    if all(isinstance(v, Mapping) for v in value):
        cols = list(dict.fromkeys(k for v in value[:MAX_ROWS] for k in v))
        head = "".join(f"<th>{_e(c)}</th>" for c in cols)
        rows = "".join(
            "<tr>" + "".join(f"<td>{table(v.get(c), depth + 1)}</td>" for c in cols) + "</tr>"
            for v in value[:MAX_ROWS]
        )
        return f"<table><tr>{head}</tr>{rows}</table>{_more(len(value) - MAX_ROWS)}"
    if all(not isinstance(v, (Mapping, list, tuple)) for v in value):
        shown = ", ".join(_cell(v) for v in value[:MAX_ITEMS])
        return shown + (f" … ({len(value) - MAX_ITEMS} more)" if len(value) > MAX_ITEMS else "")
    items = "".join(f"<li>{table(v, depth + 1)}</li>" for v in value[:MAX_ITEMS])
    return f"<ol>{items}</ol>{_more(len(value) - MAX_ITEMS)}"


def _more(n: int) -> str:
    return f'<p class="note">{n} more left out</p>' if n > 0 else ""


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return _e(f"{v:.4g}")
    return _e(v)


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _pre(text: str) -> str:
    return f"<pre>{_e(text)}</pre>"


def _details(summary: str, content: str) -> str:
    return f"<details><summary>{_e(summary)}</summary>{content}</details>"


def page(title: str, body: Sequence[str]) -> str:
    """A whole HTML document: the CSP, inline CSS, the body parts, inline script."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + f"\n<script>{_JS}</script></body></html>\n"
    )
