"""Text report and JSON statistics of one run directory's events.

Everything the text report prints from a run's files goes through :func:`escape_control`:
a config or event log is data anyone may have written, and must not drive the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentsim.core.records import load_records
from analysis import cooperation as coop


def run_statistics(events_path: str | Path) -> dict[str, Any]:
    """All cooperation statistics of one run, JSON-ready."""
    records = load_records(events_path)
    return {
        "mean_final_resources": coop.mean_final_resources(records),
        "mean_donation_fraction": coop.mean_donation_by_generation(records),
        "donation_trend_per_generation": coop.donation_trend(records),
        "selection_differential": coop.selection_differential(records),
        "punishment_frequency": coop.punishment_frequency(records),
        "reciprocity_correlation": coop.reciprocity_correlation(records),
        "donation_fractions": coop.donation_fractions(records),
    }


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


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
    """A plain-text report: per-generation table and the run-level statistics.

    Raises:
        MalformedRecord: (a ``ValueError``) naming ``file:line`` of a bad record.
    """
    s = run_statistics(events_path)
    lines = []
    if isinstance(config, Mapping) and config:
        lines.append(
            f"experiment {config.get('experiment')}  seed {config.get('seed')}  "
            f"env {config.get('env_id')}"
        )
        lines.append(f"env config: {config.get('env')}")
        lines.append("")
    lines.append(
        f"{'gen':>4} {'mean final res':>15} {'mean donation':>14} "
        f"{'sel. diff':>10} {'punish freq':>12} {'recip. r':>9}"
    )
    recip = s["reciprocity_correlation"]["by_generation"]
    for g, res in s["mean_final_resources"].items():
        lines.append(
            f"{g:>4} {res:>15.2f} {_fmt(s['mean_donation_fraction'].get(g)):>14} "
            f"{_fmt(s['selection_differential'].get(g)):>10} "
            f"{_fmt(s['punishment_frequency'].get(g)):>12} "
            f"{_fmt(recip.get(g, {}).get('r')):>9}"
        )
    overall = s["reciprocity_correlation"]["overall"]
    lines += [
        "",
        f"donation trend: {_fmt(s['donation_trend_per_generation'], '+.4f')} per generation",
        f"reciprocity (donation vs recipient's last shown donation): r = {_fmt(overall['r'])} "
        f"(n = {overall['n']})",
    ]
    return "\n".join(escape_control(line) for line in lines)
