"""The run directory: ``config.json``, ``events.jsonl``, ``checkpoint.json``, ``summary.json``.

``events.jsonl`` is append-only and flushed after every round. A checkpoint records the
byte length of the event log it belongs to and a sha256 digest of those bytes; resuming
first verifies the log against both (and that the record just before the offset is the
checkpoint's own), then truncates the log to that length, so a run killed mid-generation
continues as if the lost partial generation had never started. A log that is shorter,
different or missing is refused, never padded or completed with gaps. All files are JSON
(or SQLite for the LLM cache); nothing is pickled.

One process at a time writes to a run: :meth:`RunDir.lock` holds an exclusive
``flock`` on ``run.lock``, which the kernel releases when its process dies, so a killed
run leaves no stale lock to take over.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from agentsim.core.errors import UserError
from agentsim.core.records import Record, dumps

CONFIG, EVENTS, CHECKPOINT, SUMMARY, LLM_CACHE, LOCK = (
    "config.json",
    "events.jsonl",
    "checkpoint.json",
    "summary.json",
    "llm_cache.sqlite",
    "run.lock",
)
_CHUNK = 1 << 20
_MAX_SUFFIX = 100_000


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 2) -> None:
    """Write JSON so a crash leaves either the old or the new file, never half of one.

    ``indent=None`` writes one compact line through the C encoder (an indented dump goes
    through the pure-Python one: tens of ms for a 1,000-member checkpoint)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=indent, sort_keys=True, allow_nan=False))
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` and a newline as :func:`write_json_atomic` writes its JSON."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def compact_json(data: Any, known: Mapping[int, str], depth: int = 3) -> str:
    """``json.dumps(data, sort_keys=True, allow_nan=False)`` (one line, default separators),
    taking the text of any object whose ``id`` is in ``known`` from there.

    A checkpoint holds every member; a member that lives for many generations is encoded
    once (its text kept by the caller while the object lives), not once per checkpoint.
    Dicts and lists are assembled here down to ``depth`` levels, below that encoded whole.
    """
    text = known.get(id(data))
    if text is not None:
        return text
    if depth and type(data) is dict and all(type(k) is str for k in data):
        items = sorted(data.items())
        return (
            "{"
            + ", ".join(json.dumps(k) + ": " + compact_json(v, known, depth - 1) for k, v in items)
            + "}"
        )
    if depth and type(data) in (list, tuple):
        return "[" + ", ".join(compact_json(v, known, depth - 1) for v in data) + "]"
    return _SORTED.encode(data)


#: ``json.dumps(..., sort_keys=True, allow_nan=False)``, without building an encoder per call.
_SORTED = json.JSONEncoder(sort_keys=True, allow_nan=False)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _read_object(path: Path) -> dict[str, Any] | None:
    """A JSON object file, None if absent; unreadable or not an object is a UserError."""
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a JSON object")
    return data


@dataclass
class LogPrefix:
    """A verified prefix of an event log: its length, the sha256 state over it, its last line."""

    offset: int
    sha: hashlib._Hash
    last_line: bytes


class EventLog:
    """Append-only JSON-lines writer; ``flush`` makes everything so far durable.

    The log keeps a running sha256 of every byte in the file, so a checkpoint can record a
    digest of the log without reading it back.
    """

    def __init__(self, path: Path, start: LogPrefix | None = None) -> None:
        if start is None:
            start = LogPrefix(0, hashlib.sha256(), b"")
        if path.exists():
            # Only ever shortens: the caller verified the file is at least this long.
            with open(path, "r+b") as fh:
                fh.truncate(start.offset)
        self.path = path
        self._sha = start.sha.copy()
        self._fh: IO[bytes] = open(path, "ab")  # noqa: SIM115 (closed in close())
        self._pending: list[str] = []

    def record(self, record: Record) -> None:
        self._pending.append(dumps(record))

    def flush(self) -> None:
        if self._pending:
            data = ("\n".join(self._pending) + "\n").encode("utf-8")
            self._pending.clear()
            self._fh.write(data)
            self._sha.update(data)
        self._fh.flush()

    def offset(self) -> int:
        """Byte length of the log after flushing (made durable with fsync)."""
        self.flush()
        os.fsync(self._fh.fileno())
        return self._fh.tell()

    def digest(self) -> str:
        """sha256 (hex) of the whole log after flushing."""
        self.flush()
        return self._sha.hexdigest()

    def prefix(self) -> LogPrefix:
        """The log so far as a :class:`LogPrefix` (to rewind to later)."""
        return LogPrefix(self.offset(), self._sha.copy(), b"")

    def close(self) -> None:
        self.flush()
        self._fh.close()


def read_prefix(path: Path, offset: int) -> LogPrefix:
    """Hash the first ``offset`` bytes of ``path`` (which must have them) and find the last line."""
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        left = offset
        while left:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                break
            sha.update(chunk)
            left -= len(chunk)
        start = max(0, offset - 65536)  # a checkpoint record is a few dozen bytes
        fh.seek(start)
        tail = fh.read(offset - start)
    body = tail[:-1] if tail.endswith(b"\n") else tail
    return LogPrefix(offset, sha, body[body.rfind(b"\n") + 1 :] if tail.endswith(b"\n") else b"")


def _checkpoint_of(line: bytes) -> int | None:
    """The generation of a checkpoint record line; None for any other line."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if isinstance(rec, dict) and rec.get("type") == "checkpoint":
        episode = rec.get("episode", rec.get("generation"))  # "generation" before 0.2
        return episode if isinstance(episode, int) else None
    return None


def _line_text(line: bytes) -> str:
    try:
        rec = json.loads(line)
    except ValueError:
        return "not a complete JSON record"
    if not isinstance(rec, dict):
        return "not a record"
    episode = rec.get("episode", rec.get("generation"))
    return f"a {rec.get('type')!r} record of episode {episode!r}"


class RunDir:
    """One run's directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(
        cls, parent: str | Path, name: str, config: dict[str, Any], *, unique: bool = False
    ) -> RunDir:
        """Make a new run directory ``parent/name`` and write its ``config.json``.

        With ``unique``, a taken name gets a suffix (``-2``, ``-3``, ...) instead of failing;
        the directory is claimed by ``mkdir`` itself, so concurrent runs of one name into one
        parent each get their own.
        """
        parent = Path(parent)
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the --out folder {parent}: {exc.strerror}") from None
        for suffix in range(1, _MAX_SUFFIX if unique else 2):
            path = parent / (name if suffix == 1 else f"{name}-{suffix}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise UserError(f"cannot create run directory {path}: {exc.strerror}") from None
            run = cls(path)
            write_json_atomic(run.file(CONFIG), config)
            return run
        raise UserError(
            f"run directory {parent / name} already exists; use --resume to continue it"
        )

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
        data = _read_object(self.file(CONFIG))
        if data is None:
            raise UserError(f"{self.file(CONFIG)} cannot be read: it does not exist")
        return data

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``run.lock`` while this process writes to the run.

        Raises:
            UserError: if another process (or another ``lock()`` in this one) holds it.
        """
        fd = _acquire(self.file(LOCK), self.path)
        try:
            yield
        finally:
            # Unlink while still holding the lock; a process that opened the old file
            # meanwhile sees that the path changed and retries on the new one.
            self.file(LOCK).unlink(missing_ok=True)
            os.close(fd)

    def checkpoint(self) -> dict[str, Any] | None:
        return _read_object(self.file(CHECKPOINT))

    def write_checkpoint(
        self, state: dict[str, Any], known: Mapping[int, str] | None = None
    ) -> None:
        """Write ``checkpoint.json`` (after every episode: compact, machine state read by
        --resume); ``known``: texts of objects in ``state`` already encoded
        (:func:`compact_json`), the same bytes either way."""
        if known:
            write_text_atomic(self.file(CHECKPOINT), compact_json(state, known))
        else:
            write_json_atomic(self.file(CHECKPOINT), state, indent=None)

    def summary(self) -> dict[str, Any] | None:
        return _read_object(self.file(SUMMARY))

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json_atomic(self.file(SUMMARY), summary)

    def event_log(self, start: LogPrefix | None = None) -> EventLog:
        """The event log, cut back to ``start`` (a verified prefix), or emptied if None."""
        return EventLog(self.file(EVENTS), start)

    def verified_prefix(self, entry: Mapping[str, Any], *, generation: int) -> LogPrefix:
        """Check ``events.jsonl`` against a checkpoint entry; return the prefix to resume from.

        ``entry`` has ``events_offset`` and ``events_sha256``. The last record of the
        prefix must be the checkpoint record of ``generation`` (for generation 0, the start
        of a run before any generation, it must not be a checkpoint record). Checkpoints
        written before the digest existed get the length and last-record checks only.

        Raises:
            UserError: naming the file and what is wrong, if the log cannot continue the run.
        """
        events, ckpt = self.file(EVENTS), self.file(CHECKPOINT)
        offset = entry.get("events_offset")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset <= 0:
            raise UserError(f"{ckpt}: events_offset={offset!r} is not a byte length of the log")
        if not events.is_file():
            raise UserError(
                f"{events} is missing, but {ckpt} records {offset} bytes of it; "
                "the run cannot be resumed without its event log"
            )
        size = events.stat().st_size
        if size < offset:
            raise UserError(
                f"{events} is {size} bytes, shorter than the {offset} bytes {ckpt} records: "
                "the log was cut or the checkpoint edited; refusing to resume with a gap"
            )
        prefix = read_prefix(events, offset)
        expected = entry.get("events_sha256")
        if expected is not None and prefix.sha.hexdigest() != expected:
            raise UserError(
                f"{events}: its first {offset} bytes are not those {ckpt} recorded (sha256 "
                "differs): the log was edited or replaced; refusing to resume"
            )
        if _checkpoint_of(prefix.last_line) != (generation or None):
            raise UserError(
                f"{ckpt} is at generation {generation}, but the record at its events_offset "
                f"in {events} is {_line_text(prefix.last_line)}: checkpoint and log disagree"
            )
        return prefix

    def log_has_checkpoints(self) -> bool:
        """Whether ``events.jsonl`` holds a checkpoint record (so a checkpoint file existed)."""
        events = self.file(EVENTS)
        if not events.is_file():
            return False
        needle, carry = b'"type":"checkpoint"', b""
        with open(events, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                if needle in carry + chunk:
                    return True
                carry = chunk[-len(needle) :]
        return False


def _acquire(path: Path, run_path: Path) -> int:
    """An fd holding an exclusive flock on ``path`` (with this pid written in it)."""
    for _ in range(100):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(f"cannot lock {run_path} ({path.name}): {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise UserError(
                f"{run_path} is in use by process {holder}; wait for it to finish "
                "(or stop it) before resuming"
            ) from None
        if _same_file(fd, path):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # the previous holder unlinked this file as we opened it: retry
    raise UserError(f"{run_path}: could not take {path.name}; another process keeps replacing it")


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False
