"""The RESULTS.md section of a benchmark whose ``main`` prints its report."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable


def printed_section(
    path: str, doc: str | None, main: Callable[[list[str]], object], quick: bool
) -> str:
    """``main``'s printed report as a section: a heading naming ``path``, the module
    docstring's first line, and the report in a text block (``quick``: ``--quick``)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--quick"] if quick else [])
    title = (doc or "").strip().splitlines()[0]
    body = out.getvalue().strip()
    return f"## `{path}`\n\n{title}\n\n```text\n{body}\n```\n"
