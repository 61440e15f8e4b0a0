"""Text report and JSON statistics of one run directory's events, for any environment.

The report dispatches on the run's env id (``config.json``): every study's statistics
live in ``analysis/<name>.py`` and register their sections here with
:func:`register_section`; a new environment gets its report by registering, not by
editing this module. A run of an env with no section still gets the generic part
(records by type, decisions by parse status, LLM calls).

Everything the text report prints from a run's files goes through :func:`escape_control`:
a config or event log is data anyone may have written, and must not drive the terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentsim.core.records import Record, load_records
from agentsim.core.registry import Registry


@dataclass(frozen=True)
class Section:
    """One part of a run's report.

    Attributes:
        name: the key of the section's statistics in the JSON report.
        statistics: ``statistics(records) -> dict`` (JSON-ready).
        text: ``text(statistics) -> str``: the section as plain text.
    """

    name: str
    statistics: Callable[[Sequence[Record]], dict[str, Any]]
    text: Callable[[Mapping[str, Any]], str]


def _load_builtins(registry: Registry[list[Section]]) -> None:
    # Each module registers its sections on import.
    import analysis.cooperation
    import analysis.debate
    import analysis.norms
    import analysis.persuasion
    import analysis.web_shop  # noqa: F401


SECTIONS: Registry[list[Section]] = Registry("report env", _load_builtins)


def register_section(env_id: str, section: Section) -> None:
    """Add a section to the report of ``env_id``'s runs (sections print in order)."""
    current = SECTIONS.get(env_id) if env_id in SECTIONS else []
    SECTIONS.register(env_id, [*(s for s in current if s.name != section.name), section])


def unregister_sections(env_id: str) -> None:
    """Forget every section of ``env_id`` (its study is being removed)."""
    SECTIONS.unregister(env_id)


def sections_of(env_id: str | None) -> list[Section]:
    """The registered sections of an env (none for an unknown env)."""
    return SECTIONS.get(env_id) if env_id is not None and env_id in SECTIONS else []


def generic_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """What every run has: records by type, decisions by parse status, LLM calls."""
    types = Counter(r["type"] for r in records)
    parse = Counter(r.get("parse_status") for r in records if r["type"] == "decision")
    calls = [r for r in records if r["type"] == "llm_call"]
    end = next((r for r in reversed(records) if r["type"] == "run_end"), None)
    return {
        "status": end["status"] if end else "incomplete",
        "episodes_completed": end.get("episodes_completed") if end else None,
        "records": dict(sorted(types.items())),
        "decisions": {str(k): v for k, v in sorted(parse.items(), key=lambda kv: str(kv[0]))},
        "llm_calls": len(calls),
        "llm_errors": sum(r.get("error") is not None for r in calls),
    }


def run_statistics(events_path: str | Path, env_id: str | None = None) -> dict[str, Any]:
    """All statistics of one run, JSON-ready: the generic part and the env's sections."""
    records = load_records(events_path)
    env_id = env_id or _env_of(records)
    out: dict[str, Any] = {"env_id": env_id, "run": generic_statistics(records)}
    for section in sections_of(env_id):
        out[section.name] = section.statistics(records)
    return out


def _env_of(records: Sequence[Record]) -> str | None:
    start = next((r for r in records if r["type"] == "run_start"), None)
    env = start.get("env") if start else None
    return env if isinstance(env, str) else None


def escape_control(text: str) -> str:
    """``text`` with every non-printable character (ANSI escapes, bidi overrides) escaped.

    Example:
        >>> print(escape_control("red " + chr(27) + "[31m text" + chr(0x202E)))
        red \\x1b[31m text\\u202e
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def text_report(events_path: str | Path, config: Mapping[str, Any] | None = None) -> str:
    """A plain-text report: the run's header, the env's sections, the generic tallies.

    Raises:
        MalformedRecord: (a ``ValueError``) naming ``file:line`` of a bad record.
    """
    env_id = config.get("env_id") if isinstance(config, Mapping) else None
    stats = run_statistics(events_path, env_id if isinstance(env_id, str) else None)
    lines = []
    if isinstance(config, Mapping) and config:
        lines.append(
            f"experiment {config.get('experiment')}  seed {config.get('seed')}  "
            f"env {config.get('env_id')}"
        )
        lines.append(f"env config: {config.get('env')}")
        lines.append("")
    for section in sections_of(stats["env_id"]):
        lines += [*section.text(stats[section.name]).splitlines(), ""]
    run = stats["run"]
    lines.append(
        f"status {run['status']}; episodes {run['episodes_completed']}; "
        f"decisions {run['decisions']}; LLM calls {run['llm_calls']} "
        f"({run['llm_errors']} failed)"
    )
    return "\n".join(escape_control(line) for line in lines)
