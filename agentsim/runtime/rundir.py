"""The run directory: ``config.json``, ``events.jsonl``, ``checkpoint.json``, ``summary.json``.

``events.jsonl`` is append-only and flushed after every round. A checkpoint
records the byte length of the event log it belongs to; resuming truncates the
log to that length, so a run killed mid-generation continues as if the lost
partial generation had never started. All files are JSON (or SQLite for the
LLM cache); nothing is pickled.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from agentsim.core.errors import UserError
from agentsim.core.records import Record, dumps

CONFIG, EVENTS, CHECKPOINT, SUMMARY, LLM_CACHE = (
    "config.json",
    "events.jsonl",
    "checkpoint.json",
    "summary.json",
    "llm_cache.sqlite",
)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so a crash leaves either the old or the new file, never half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, allow_nan=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class EventLog:
    """Append-only JSON-lines writer; ``flush`` makes everything so far durable."""

    def __init__(self, path: Path, truncate_to: int | None = None) -> None:
        if truncate_to is not None and path.exists():
            with open(path, "r+b") as fh:
                fh.truncate(truncate_to)
        self.path = path
        self._fh: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._pending: list[str] = []

    def record(self, record: Record) -> None:
        self._pending.append(dumps(record))

    def flush(self) -> None:
        if self._pending:
            self._fh.write("\n".join(self._pending) + "\n")
            self._pending.clear()
        self._fh.flush()

    def offset(self) -> int:
        """Byte length of the log after flushing."""
        self.flush()
        os.fsync(self._fh.fileno())
        return self._fh.tell()

    def close(self) -> None:
        self.flush()
        self._fh.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunDir:
    """One run's directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(
        cls, parent: str | Path, name: str, config: dict[str, Any], *, unique: bool = False
    ) -> RunDir:
        """Make a new run directory ``parent/name`` and write its ``config.json``.

        With ``unique``, a taken name gets a suffix (``-2``, ``-3``, ...) instead of failing.
        """
        path = Path(parent) / name
        suffix = 1
        while unique and path.exists():
            suffix += 1
            path = Path(parent) / f"{name}-{suffix}"
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise UserError(
                f"run directory {path} already exists; use --resume to continue it"
            ) from None
        except OSError as exc:
            raise UserError(f"cannot create run directory {path}: {exc.strerror}") from None
        run = cls(path)
        write_json_atomic(run.file(CONFIG), config)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run directory; a missing one or one without config is a UserError."""
        run = cls(path)
        if not run.file(CONFIG).is_file():
            raise UserError(f"{path} is not a run directory (no {CONFIG})")
        return run

    def file(self, name: str) -> Path:
        return self.path / name

    def config(self) -> dict[str, Any]:
        try:
            data = read_json(self.file(CONFIG))
        except (OSError, ValueError) as exc:
            raise UserError(f"{self.file(CONFIG)} cannot be read: {exc}") from None
        if not isinstance(data, dict):
            raise UserError(f"{self.file(CONFIG)} is not a JSON object")
        return data

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``run.lock`` while a process writes to this run (a stale lock is taken over)."""
        path = self.file("run.lock")
        if path.exists():
            try:
                pid = int(path.read_text().strip() or 0)
            except ValueError:
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                raise UserError(f"{self.path} is in use by process {pid}")
        path.write_text(str(os.getpid()))
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def checkpoint(self) -> dict[str, Any] | None:
        path = self.file(CHECKPOINT)
        return read_json(path) if path.is_file() else None

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        write_json_atomic(self.file(CHECKPOINT), state)

    def summary(self) -> dict[str, Any] | None:
        path = self.file(SUMMARY)
        return read_json(path) if path.is_file() else None

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json_atomic(self.file(SUMMARY), summary)

    def event_log(self, truncate_to: int | None = None) -> EventLog:
        return EventLog(self.file(EVENTS), truncate_to)
