"""Run every benchmark of bench/ and write bench/RESULTS.md (``make bench``).

Each benchmark module exposes ``run(quick: bool = False) -> str``, its markdown section
(starting with ``## ``), in which every figure is a ratio against a baseline measured in the
same run. Each module runs in a fresh Python process, one after the other (so that no
module's threads, caches or event loops weigh on the next one's timings); a module that
fails to import (a missing optional extra) or raises gets a short note instead of its
section, and the others still run.

Run:
    python bench/run_all.py            # full run: rewrites bench/RESULTS.md
    python bench/run_all.py --quick    # smoke run: prints the report (or --out FILE)
    python bench/run_all.py --only api_floor donor_throughput
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"

#: Every benchmark module, in report order (those of other issues may be absent).
MODULES = (
    "api_floor",
    "donor_throughput",
    "donor_vector",
    "batch_runtime",
    "rl_training",
    "sweep_throughput",
    "load_runs",
    "llm_concurrency",
    "debate_throughput",
    "debate_llm",
    "norm_society_throughput",
    "norm_society_llm",
    "web_shop_render",
    "web_shop_agents",
)


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what ``platform`` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def header(quick: bool) -> str:
    """The report's title, machine and date lines."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick smoke run (`make bench-quick`)" if quick else "full run (`make bench`)"
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Written by `bench/run_all.py`, {mode}, {now}.",
            "",
            f"Machine: {cpu_model()}, {cores} cores usable ({os.cpu_count()} CPUs), "
            f"{platform.system()} {platform.machine()}; Python {platform.python_version()}, "
            f"numpy {_version('numpy')}, pettingzoo {_version('pettingzoo')}, "
            f"gymnasium {_version('gymnasium')}. Load average at the start: {_load()}.",
            "",
            "Every figure below is a ratio against a baseline measured in the same run (the "
            "same process, interleaved); absolute rates move with the machine and its load, "
            "so compare ratios, not rates.",
            "",
        ]
    )


def run_module(name: str, quick: bool) -> tuple[str, float]:
    """One module's section, from a fresh process (or a note saying why there is none)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "section.md"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            name,
            "--out",
            str(out),
        ]
        proc = subprocess.run(
            [*command, *(["--quick"] if quick else [])],
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - t0
        if proc.returncode == 0 and out.exists():
            return out.read_text(), elapsed
    why = (proc.stderr or proc.stdout).strip().splitlines()
    last = why[-1] if why else f"exit status {proc.returncode}"
    return f"## `bench/{name}.py`\n\nNot measured in this run: {last}\n", elapsed


def child(name: str, quick: bool, out: Path) -> int:
    """In the fresh process: import the module, run it, write its section to ``out``."""
    sys.path.insert(0, str(BENCH))
    try:
        module = importlib.import_module(name)
    except Exception as error:
        print(f"skipped: `import {name}` failed ({type(error).__name__}: {error})", file=sys.stderr)
        return 1
    try:
        section = module.run(quick=quick)
    except Exception as error:
        traceback.print_exc()
        print(f"failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if not section.startswith("## "):
        section = f"## `bench/{name}.py`\n\n{section}"
    out.write_text(section.rstrip() + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run; does not touch RESULTS")
    parser.add_argument("--only", nargs="+", metavar="MODULE", help="run these modules only")
    parser.add_argument("--out", type=Path, help="write the report here (default: see above)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.quick, args.out)
    names = args.only or [m for m in MODULES if (BENCH / f"{m}.py").exists()]
    parts = [header(args.quick)]
    for name in names:
        print(f"[run_all] {name} ...", file=sys.stderr, flush=True)
        section, elapsed = run_module(name, args.quick)
        print(f"[run_all] {name}: {elapsed:.0f} s", file=sys.stderr, flush=True)
        parts.append(f"{section.rstrip()}\n\n_({elapsed:.0f} s; load average after: {_load()})_\n")
    report = "\n".join(parts)
    out = args.out or (None if args.quick or args.only else RESULTS)
    if out is None:
        sys.stdout.write(report)
    else:
        out.write_text(report)
        print(f"[run_all] wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
