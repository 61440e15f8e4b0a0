"""Many runs at once: tidy tables over run directories, read by DuckDB from their JSONL.

:func:`load_runs` takes run directories, sweep directories (``sweep.json``) or any folders
holding them, and returns a :class:`Runs`. Every table is a :data:`Table`, a dict of
equal-length 1-d numpy columns (object dtype for text), so numpy, pandas
(``pd.DataFrame(table)``) and plotting code take it as it is. The ``events.jsonl`` files are
read where they lie by an embedded DuckDB (``read_text``, one row per line, with its line
number so that record order and ``file:line`` errors survive); nothing is imported into a
database first. :meth:`Runs.export_parquet` writes one Parquet file per record type, which
:func:`load_runs` reads instead of the JSONL when given that directory: same tables, less
parsing for large sweeps.

Example:
    >>> runs = load_runs("runs/sweep-donor")  # doctest: +SKIP
    >>> runs.conditions()  # doctest: +SKIP
    ['env.multiplier']
    >>> runs.sql("SELECT generation, avg((record->>'$.fraction')::DOUBLE) AS mean "
    ...          "FROM events WHERE type = 'transfer' GROUP BY ALL ORDER BY ALL")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agentsim.core.errors import UserError
from agentsim.core.records import RECORD_FIELDS, iter_records

if TYPE_CHECKING:
    import duckdb

__all__ = ["NoRuns", "Runs", "Table", "load_runs"]

#: A tidy table: column name -> equal-length 1-d array (object dtype for text and JSON).
Table = dict[str, np.ndarray]

#: The config sections whose settings can make a condition (``seed`` never does).
SETTING_SECTIONS = ("env", "run", "llm")
#: What :meth:`Runs.export_parquet` writes beside the Parquet files.
MANIFEST = "manifest.json"
_MANIFEST_KIND = "agentsim-runs-parquet"
_LEAD_COLUMNS = ("run", "condition", "seed")
_GLOB_CHARS = re.compile(r"[*?\[\]{}]")


class NoRuns(UserError, ValueError):
    """A path given to :func:`load_runs` holds no run directory; the message names it."""


@dataclass(frozen=True)
class _Run:
    """One run as the tables see it: its unique name, directory, sweep cell and JSON files."""

    name: str
    path: Path
    cell: str
    config: dict[str, Any]
    summary: dict[str, Any]


def load_runs(paths: str | Path | Iterable[str | Path]) -> Runs:
    """Load run directories, sweep directories or folders of them as one :class:`Runs`.

    Each path is a run directory (``config.json`` + ``events.jsonl``), a sweep directory
    (``sweep.json``: its cells in index order), a directory written by
    :meth:`Runs.export_parquet` (loaded on its own), or any folder, searched recursively
    for those (sorted by path). A run found twice is kept once.

    Raises:
        NoRuns: (a ``UserError`` and ``ValueError``) naming a path where no run was found.
    """
    items = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not items:
        raise NoRuns("load_runs needs at least one run or sweep directory")
    exports = [p for p in items if (p / MANIFEST).is_file()]
    if exports:
        if len(items) > 1:
            raise NoRuns(f"{exports[0]}: a Parquet export must be loaded on its own")
        return _load_export(exports[0])
    found: dict[Path, str] = {}
    for item in items:
        runs = list(_find_runs(item))
        if not runs:
            raise NoRuns(f"{item}: no run directory (config.json + events.jsonl) found there")
        for path, cell in runs:
            found.setdefault(path.resolve(), cell)
    names = _unique_names(list(found))
    infos = [_read_run(path, names[path], cell) for path, cell in found.items()]
    return Runs(infos, _JsonlSource([r.path / "events.jsonl" for r in infos]))


def _is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "events.jsonl").is_file()


def _find_runs(path: Path) -> Iterator[tuple[Path, str]]:
    """(run directory, sweep cell or "") under ``path``, in a stable order."""
    if _is_run_dir(path):
        yield path, ""
    elif (path / "sweep.json").is_file():
        yield from _sweep_cells(path)
    elif path.is_dir():
        for child in sorted(p for p in path.iterdir() if p.is_dir()):
            yield from _find_runs(child)


def _sweep_cells(sweep: Path) -> Iterator[tuple[Path, str]]:
    try:
        index = json.loads((sweep / "sweep.json").read_text(encoding="utf-8"))
        cells = [(str(c["cell"]), sweep / str(c["dir"])) for c in index["cells"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise NoRuns(f"{sweep / 'sweep.json'}: not a sweep index ({exc})") from None
    for cell, directory in cells:  # a cell not run yet has no run directory: skipped
        for path, _ in _find_runs(directory):
            yield path, cell


def _unique_names(paths: list[Path]) -> dict[Path, str]:
    """Each run's directory name, with as many parents as it takes to tell two apart."""
    depth = dict.fromkeys(paths, 1)
    while True:
        names = {p: "/".join(p.parts[-depth[p] :]) for p in paths}
        seen: dict[str, list[Path]] = {}
        for p, name in names.items():
            seen.setdefault(name, []).append(p)
        clashes = [p for group in seen.values() if len(group) > 1 for p in group]
        if not clashes:
            return names
        for p in clashes:
            depth[p] += 1


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise NoRuns(f"{path}: not valid JSON") from None
    return value if isinstance(value, dict) else {}


def _read_run(path: Path, name: str, cell: str) -> _Run:
    return _Run(
        name, path, cell, _read_json(path / "config.json"), _read_json(path / "summary.json")
    )


def _load_export(directory: Path) -> Runs:
    manifest = _read_json(directory / MANIFEST)
    if manifest.get("kind") != _MANIFEST_KIND or manifest.get("format") != 1:
        raise NoRuns(f"{directory / MANIFEST}: not a load_runs Parquet export (format 1)")
    con = _connect()
    meta = con.execute(
        "SELECT run, path, cell, config, summary FROM read_parquet(?) ORDER BY run_index",
        [str(directory / manifest["runs_meta"])],
    ).fetchall()
    infos = [_Run(n, Path(p), c, json.loads(cf), json.loads(sm)) for n, p, c, cf, sm in meta]
    types = {t: directory / f for t, f in manifest["types"].items()}
    return Runs(infos, _ParquetSource(types))


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    """``{"env.agents": 12, ...}`` for the condition-making sections of a config."""
    flat: dict[str, Any] = {}
    stack = [(s, config[s]) for s in SETTING_SECTIONS if isinstance(config.get(s), dict)]
    while stack:
        prefix, section = stack.pop()
        for key, value in section.items():
            if isinstance(value, dict):
                stack.append((f"{prefix}.{key}", value))
            else:
                flat[f"{prefix}.{key}"] = value
    return flat


def _setting_text(value: Any) -> str:
    """How a setting reads in a condition: 2.0 as "2", strings bare, the rest as JSON."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _varying_keys(flats: Sequence[dict[str, Any]], env_ids: Sequence[str]) -> list[str]:
    """Settings that differ between runs of the same env (absent counts as a value)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for flat, env_id in zip(flats, env_ids, strict=True):
        groups.setdefault(env_id, []).append(flat)
    varying: set[str] = set()
    for group in groups.values():
        for key in set().union(*group) - varying:
            first = group[0].get(key, _ABSENT)
            if any(f.get(key, _ABSENT) != first for f in group):
                varying.add(key)
    return sorted(varying)


_ABSENT = "\x00absent"  # a setting one run of an env has and another lacks


def _column(values: Sequence[Any]) -> np.ndarray:
    """A numpy column: int64, float64 (None -> NaN) or bool where the values allow, else object."""
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if present and kinds == {bool} and len(present) == len(values):
        return np.array(values, dtype=bool)
    if present and kinds <= {int, float}:
        if kinds == {int} and len(present) == len(values):
            return np.array(values, dtype=np.int64)
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    column = np.empty(len(values), dtype=object)
    column[:] = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
    return column


def _text(values: Iterable[Any]) -> np.ndarray:
    column = np.empty(len(values := list(values)), dtype=object)
    column[:] = values
    return column


def _sql_text(value: str) -> str:
    """A SQL string literal (for table functions and COPY, which take no parameters)."""
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_sql_text(v) for v in values) + "]"


def _connect() -> duckdb.DuckDBPyConnection:
    import duckdb  # a core dependency, imported here to keep `import analysis` fast

    return duckdb.connect(":memory:")


class _JsonlSource:
    """Records read from the runs' ``events.jsonl`` files, line by line, with line numbers."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        bad = next((f for f in self.files if _GLOB_CHARS.search(str(f))), None)
        if bad is not None:  # DuckDB would read the name as a glob pattern
            raise NoRuns(f"{bad}: a run path with any of * ? [ ] {{ }} cannot be read")

    def define(self, con: duckdb.DuckDBPyConnection) -> None:
        # string_split keeps the line numbers (file:line errors, record order); its last
        # item is "" after a final newline, or a line still being written: never a record.
        # Blank lines are skipped (as iter_records does); trim() only where a line does not
        # start with "{", as it is slow enough to show over every line.
        con.execute(f"""
            CREATE VIEW _lines AS
            SELECT i.run_index, u.line, json_extract_string(u.text, '$.type') AS type,
                   TRY_CAST(json_extract(u.text, '$.generation') AS BIGINT) AS generation,
                   TRY_CAST(json_extract(u.text, '$.episode') AS BIGINT) AS episode,
                   u.text AS record
            FROM (SELECT filename, unnest(ls) AS text,
                         generate_subscripts(ls, 1) AS line, len(ls) AS n
                  FROM (SELECT filename, string_split(content, chr(10)) AS ls
                        FROM read_text({_sql_list(str(f) for f in self.files)}))) AS u
            JOIN _index AS i ON i.filename = u.filename
            WHERE u.line < u.n AND u.text <> ''
              AND (starts_with(u.text, '{{') OR trim(u.text) <> '')""")

    def candidates(self, record_type: str) -> str:
        """The lines that may be records of the type (the caller checks the type)."""
        # A substring test: a cheap necessary condition (the writer never escapes the type's
        # letters) that spares parsing the other types' lines.
        quoted = _sql_text(json.dumps(record_type))
        return f"(SELECT run_index, line, record FROM _lines WHERE contains(record, {quoted}))"

    def locate_error(self) -> None:
        """Raise the first bad record's error, naming ``file:line`` (as ``load_records`` does)."""
        for path in self.files:
            for _ in iter_records(path):
                pass


class _ParquetSource:
    """Records read from a :meth:`Runs.export_parquet` directory, one file per type."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def define(self, con: duckdb.DuckDBPyConnection) -> None:
        union = " UNION ALL ".join(self._scan(t) for t in sorted(self.files)) or (
            "SELECT NULL::BIGINT AS run_index, NULL::BIGINT AS line, NULL::VARCHAR AS type, "
            "NULL::BIGINT AS generation, NULL::BIGINT AS episode, NULL::VARCHAR AS record "
            "WHERE false"
        )
        con.execute(f"CREATE VIEW _lines AS {union}")

    def _scan(self, record_type: str) -> str:
        return (
            "SELECT i.run_index, p.line, p.type, p.generation, p.episode, p.record "
            f"FROM read_parquet({_sql_text(str(self.files[record_type]))}) AS p "
            "JOIN _index AS i ON i.run = p.run"
        )

    def candidates(self, record_type: str) -> str:
        """The records of the type (from its own file)."""
        if record_type not in self.files:
            return "(SELECT run_index, line, record FROM _lines WHERE false)"
        return f"(SELECT run_index, line, record FROM ({self._scan(record_type)}))"

    def locate_error(self) -> None:
        """Parquet files hold records already checked when they were exported."""


_Source = _JsonlSource | _ParquetSource

# DuckDB's JSON types -> how a field's column is extracted (see Runs.records).
_INTEGER_TYPES = frozenset({"BIGINT", "UBIGINT"})
_NUMBER_TYPES = _INTEGER_TYPES | {"DOUBLE"}
_SQL_TYPES = {"i": "BIGINT", "f": "DOUBLE", "b": "BOOLEAN", "O": "VARCHAR"}


class Runs:
    """Many runs as tidy tables (see :func:`load_runs`); every table is a :data:`Table`.

    Attributes:
        paths: the run directories, in the order of every table (sweep cells in index
            order; folders sorted by path).
    """

    def __init__(self, runs: Sequence[_Run], source: _Source) -> None:
        self.paths: list[Path] = [r.path for r in runs]
        self._runs = list(runs)
        self._source = source
        self._flats = [_flatten(r.config) for r in self._runs]
        self._keys = _varying_keys(self._flats, [str(r.config.get("env_id", "")) for r in runs])
        # The lead columns of every table, built once.
        self._names = _text(r.name for r in self._runs)
        self._seeds = np.array([_int(r.config.get("seed"), -1) for r in runs], dtype=np.int64)
        self._conditions = _text(
            " ".join(f"{k}={_setting_text(f[k])}" for k in self._keys if k in f)
            for f in self._flats
        )
        self._con: duckdb.DuckDBPyConnection | None = None

    def __len__(self) -> int:
        return len(self._runs)

    def __repr__(self) -> str:
        return f"<Runs: {len(self)} runs, conditions {self._keys}>"

    def subset(self, rows: Sequence[int]) -> Runs:
        """The runs at these row indices (of :meth:`runs`), in that order, keeping their
        names; conditions are those that vary within the subset. Works on Parquet too."""
        chosen = [self._runs[i] for i in rows]
        if not chosen:
            raise NoRuns("subset: no rows chosen")
        source: _Source = self._source
        if isinstance(source, _JsonlSource):
            source = _JsonlSource([r.path / "events.jsonl" for r in chosen])
        return Runs(chosen, source)  # a Parquet source is filtered by the runs' names

    def close(self) -> None:
        """Close the DuckDB connection (a later query opens a new one)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def conditions(self) -> list[str]:
        """The varying settings: flattened ``config.json`` keys (``env.*``, ``run.*``,
        ``llm.*``) whose values differ between runs of the same env, sorted; never the seed."""
        return list(self._keys)

    def summaries(self) -> list[dict[str, Any]]:
        """Every run's ``summary.json`` in :attr:`paths` order (``{}`` where there is none)."""
        return [dict(r.summary) for r in self._runs]

    def configs(self) -> list[dict[str, Any]]:
        """Every run's ``config.json`` in :attr:`paths` order."""
        return [dict(r.config) for r in self._runs]

    def runs(self) -> Table:
        """One row per run.

        Columns: ``run`` (the directory name, with parents prepended where two runs share
        it: ``a/c0000``), ``path``, ``env_id``, ``experiment``, ``seed`` (int; -1 if the
        config has none), ``status`` ("completed", "stopped"; "" without a summary),
        ``stop_reason`` ("" if none), ``episodes_completed`` (int; 0 without a summary),
        ``cell`` (the sweep cell id, "" outside a sweep), ``condition`` (the varying
        settings as ``"env.k=v env.j=w"``, "" when none vary), then one column per
        :meth:`conditions` key holding the setting's value (int64, float64 or bool where
        every run has a value of that kind, else text, None where a run lacks the key).
        """
        table: Table = {
            "run": self._names.copy(),
            "path": _text(str(r.path) for r in self._runs),
            "env_id": _text(str(r.config.get("env_id", "")) for r in self._runs),
            "experiment": _text(str(r.config.get("experiment", "")) for r in self._runs),
            "seed": self._seeds.copy(),
            "status": _text(str(r.summary.get("status") or "") for r in self._runs),
            "stop_reason": _text(str(r.summary.get("stop_reason") or "") for r in self._runs),
            "episodes_completed": np.array(
                [_int(r.summary.get("episodes_completed"), 0) for r in self._runs], np.int64
            ),
            "cell": _text(r.cell for r in self._runs),
            "condition": self._conditions.copy(),
        }
        for key in self._keys:
            table[key] = _column([f.get(key) for f in self._flats])
        return table

    def series_keys(self) -> list[str]:
        """The summary keys that hold a list of objects (``generations``, ``episodes``...)."""
        keys = {
            k
            for r in self._runs
            for k, v in r.summary.items()
            if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)
        }
        return sorted(keys)

    def series(self, key: str) -> Table:
        """A summary's list of objects (e.g. ``"generations"``), long: one row per item.

        Columns: ``run``, ``condition``, ``seed``, then every numeric scalar field of the
        items, in first-seen order (int64 where always an int, else float64 with NaN for
        null or missing); fields with any text, list, object or bool value are left out.
        A run without the key has no rows; no run with it gives a table with no rows.
        """
        rows = [
            (i, item)
            for i, r in enumerate(self._runs)
            for item in (r.summary.get(key) or [])
            if isinstance(item, dict)
        ]
        table = self._lead([i for i, _ in rows])
        fields = dict.fromkeys(k for _, item in rows for k in item)
        for name in fields:
            values = [item.get(name) for _, item in rows]
            numeric = all(v is None or type(v) in (int, float) for v in values)
            if numeric and any(v is not None for v in values):
                table[_column_name(name)] = _column(values)
        return table

    def _lead(self, run_index: Sequence[int] | np.ndarray) -> Table:
        index = np.asarray(run_index, dtype=np.int64)
        return {
            "run": self._names[index],
            "condition": self._conditions[index],
            "seed": self._seeds[index],
        }

    def record_types(self) -> list[str]:
        """The record types present in the runs' events, sorted."""
        rows = self._fetch("SELECT DISTINCT type FROM _lines WHERE type IS NOT NULL ORDER BY 1")
        return [str(t) for t in rows["type"]]

    def records(self, type: str, fields: Sequence[str] | None = None) -> Table:
        """One row per record of ``type`` in every run, in run order then file order.

        Columns: ``run``, ``condition``, ``seed``, then the ``fields`` (default: the type's
        registered fields, ``agentsim.core.records.RECORD_FIELDS``, plus ``generation`` and
        ``episode`` where the records have them; for a type not registered in this process,
        every top-level key but ``v`` and ``type`` in first-seen order). A field column is
        int64 (always an int), float64 (numbers; NaN for null or missing), bool, text, or
        for objects, lists and mixed values their JSON text; None for null or missing. A
        field named ``run``, ``condition`` or ``seed`` comes as ``record.<name>``.

        Only lines holding the type's name in quotes are parsed (a cheap substring test:
        writers never escape a type's letters), so a corrupt line of another type goes
        unnoticed here; :meth:`sql` over ``events`` parses every line.

        Raises:
            agentsim.core.records.MalformedRecord: (a ``ValueError``) naming ``file:line``
                of a line that is not a JSON record.
        """
        names = list(fields) if fields is not None else self._default_fields(type)
        paths = ["$.type", *(_json_path(n) for n in names)]
        # One pass over the lines: each candidate record parsed once (its type and fields
        # kept as JSON values); field types and typed columns then come from that small table.
        self._execute(
            "CREATE OR REPLACE TEMP TABLE _chosen AS SELECT run_index, line, j[2:] AS j "
            "FROM (SELECT run_index, line, json_extract(record, $paths::VARCHAR[]) AS j "
            f"FROM {self._source.candidates(type)}) WHERE j[1] ->> '$' = $type",
            {"paths": paths, "type": type},
        )
        kinds = self._field_kinds(len(names))
        # (position in j, name, kind); generation/episode by default only where present.
        chosen = [
            (i + 1, n, k)
            for i, (n, k) in enumerate(zip(names, kinds, strict=True))
            if k or fields is not None or n not in ("generation", "episode")
        ]
        columns = "".join(f", {_extract(i, k)}" for i, _, k in chosen)
        result = self._fetch(f"SELECT run_index{columns} FROM _chosen ORDER BY run_index, line")
        table = self._lead(result.pop("run_index"))
        for i, name, _ in chosen:
            table[_column_name(name)] = result[f"c{i}"]
        return table

    def _default_fields(self, record_type: str) -> list[str]:
        registered = RECORD_FIELDS.get(record_type)
        if registered is not None:
            extra = [f for f in ("generation", "episode") if f not in registered]
            return [*registered, *extra]
        rows = self._fetch(
            "SELECT key FROM (SELECT unnest(json_keys(record)) AS key, run_index, line, "
            "generate_subscripts(json_keys(record), 1) AS pos "
            f"FROM {self._source.candidates(record_type)} "
            f"WHERE json_extract_string(record, '$.type') = {_sql_text(record_type)}) "
            "GROUP BY key ORDER BY min([run_index, line, pos])"
        )
        return [str(k) for k in rows["key"] if k not in ("v", "type")]

    def _field_kinds(self, count: int) -> list[str]:
        """Per field: "i", "f", "b", "s" (text), "j" (JSON text), or "" (never present)."""
        if not count:
            return []
        lists = ", ".join(f"list_distinct(list(json_type(j[{i + 1}])))" for i in range(count))
        row = self._execute(f"SELECT {lists} FROM _chosen").fetchone()
        return [_kind(set(types or ()) - {"NULL"}) for types in (row or [None] * count)]

    def sql(self, query: str) -> Table:
        """Run a DuckDB query and return its result as a table.

        Views: ``runs`` (the :meth:`runs` table) and ``events`` (``run``, ``type``,
        ``generation``, ``episode``, ``record``: the record's JSON text, ``line``: its line
        in ``events.jsonl``; read fields as ``(record->>'$.field')::DOUBLE``). Text columns
        come back as object arrays, NULL as None (NaN in a float column).

        Raises:
            agentsim.core.records.MalformedRecord: naming ``file:line`` where a query over
                ``events`` meets a line that is not a JSON record.
            duckdb.Error: for a query DuckDB rejects.
        """
        return self._fetch(query)

    def _fetch(self, query: str, params: Any = None) -> Table:
        return _table(self._execute(query, params).fetchnumpy())

    def _execute(self, query: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        import duckdb

        con = self._connection()
        try:
            return con.execute(query, params)
        except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            # DuckDB says "Malformed JSON" without a line: find it the way load_records does.
            if "json" in str(exc).lower() or "utf" in str(exc).lower():
                self._source.locate_error()
            raise

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            con = _connect()
            _create_table(con, "runs", self.runs())
            _create_table(
                con,
                "_index",
                {
                    "run_index": np.arange(len(self._runs), dtype=np.int64),
                    "run": self._names,
                    "filename": _text(str(r.path / "events.jsonl") for r in self._runs),
                },
            )
            self._source.define(con)
            con.execute(
                "CREATE VIEW events AS SELECT i.run, l.type, l.generation, l.episode, "
                "l.record, l.line FROM _lines AS l JOIN _index AS i USING (run_index)"
            )
            self._con = con
        return self._con

    def export_parquet(self, directory: str | Path) -> Path:
        """Write the runs as Parquet: :func:`load_runs` on ``directory`` then gives the same tables.

        Files: ``events-<type>.parquet`` per record type (columns ``run``, ``type``,
        ``generation``, ``episode``, ``line``, ``record``: the JSON text), ``runs.parquet``
        (the :meth:`runs` table), ``runs_meta.parquet`` (``run_index``, ``run``, ``path``,
        ``cell``, ``config``, ``summary``: JSON texts) and ``manifest.json`` (format, record
        types and their files and counts). Returns ``directory`` as a Path.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self._execute("CREATE OR REPLACE TEMP TABLE _export AS SELECT * FROM events")
        counts = self._fetch(
            "SELECT type, count(*) AS n FROM _export WHERE type IS NOT NULL GROUP BY 1 ORDER BY 1"
        )
        types = {str(t): f"events-{_file_part(str(t))}.parquet" for t in counts["type"]}
        for record_type, name in types.items():
            self._copy(
                f"SELECT run, type, generation, episode, line, record FROM _export "
                f"WHERE type = {_sql_text(record_type)} ORDER BY run, line",
                out / name,
            )
        self._copy("SELECT * FROM runs", out / "runs.parquet")
        self._write_meta(out / "runs_meta.parquet")
        self._execute("DROP TABLE _export")
        manifest = {
            "format": 1,
            "kind": _MANIFEST_KIND,
            "runs": len(self),
            "runs_table": "runs.parquet",
            "runs_meta": "runs_meta.parquet",
            "types": types,
            "records": {str(t): int(n) for t, n in zip(counts["type"], counts["n"], strict=True)},
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return out

    def _copy(self, query: str, path: Path) -> None:
        self._execute(
            f"COPY ({query}) TO {_sql_text(str(path))} (FORMAT parquet, COMPRESSION zstd)"
        )

    def _write_meta(self, path: Path) -> None:
        con = self._connection()
        _create_table(
            con,
            "_meta",
            {
                "run_index": np.arange(len(self._runs), dtype=np.int64),
                "run": self._names,
                "path": _text(str(r.path) for r in self._runs),
                "cell": _text(r.cell for r in self._runs),
                "config": _text(json.dumps(r.config) for r in self._runs),
                "summary": _text(json.dumps(r.summary) for r in self._runs),
            },
        )
        self._copy("SELECT * FROM _meta", path)
        con.execute("DROP TABLE _meta")


def _int(value: Any, default: int) -> int:
    return value if type(value) is int else default


def _column_name(field: str) -> str:
    return f"record.{field}" if field in _LEAD_COLUMNS else field


def _file_part(record_type: str) -> str:
    """A record type as a safe file-name part (other characters as %xx)."""
    return re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"%{ord(m.group()):02x}", record_type)


def _json_path(field: str) -> str:
    if '"' in field or "\\" in field:
        raise UserError(f"record field {field!r}: a field name with a quote or backslash")
    return f'$."{field}"'


def _kind(types: set[str]) -> str:
    """How to extract a field from the JSON types DuckDB found for it."""
    if not types:
        return ""
    if types <= _INTEGER_TYPES:
        return "i"
    if types <= _NUMBER_TYPES:
        return "f"
    if types == {"BOOLEAN"}:
        return "b"
    return "s" if types == {"VARCHAR"} else "j"


def _extract(i: int, kind: str) -> str:
    value = f"j[{i}]"
    expression = {
        "i": f"TRY_CAST({value} AS BIGINT)",
        "f": f"TRY_CAST({value} AS DOUBLE)",
        "b": f"TRY_CAST({value} AS BOOLEAN)",
        "s": f"{value} ->> '$'",
        "j": f"CASE WHEN json_type({value}) = 'NULL' THEN NULL ELSE {value}::VARCHAR END",
        "": "NULL::VARCHAR",
    }[kind]
    return f"{expression} AS c{i}"


def _table(result: dict[str, Any]) -> Table:
    """DuckDB's ``fetchnumpy`` result as a Table: NULL as NaN (numbers) or None (the rest)."""
    table: Table = {}
    for name, column in result.items():
        if isinstance(column, np.ma.MaskedArray):
            column = _unmask(column)
        table[name] = np.asarray(column)
    return table


def _unmask(column: np.ma.MaskedArray) -> np.ndarray:
    if not np.ma.is_masked(column):
        return np.asarray(column.data)
    if column.dtype.kind in "iuf":
        return np.asarray(np.ma.filled(column.astype(np.float64), math.nan))
    values = np.asarray(column.data, dtype=object).copy()
    values[np.ma.getmaskarray(column)] = None
    return values


def _create_table(con: duckdb.DuckDBPyConnection, name: str, table: Table) -> None:
    """A DuckDB table from a Table (one ``unnest`` per column: no row-by-row inserts)."""
    columns = [
        f'unnest(${i}::{_SQL_TYPES.get(c.dtype.kind, "VARCHAR")}[]) AS "{n}"'
        for i, (n, c) in enumerate(table.items(), 1)
    ]
    con.execute(
        f"CREATE TABLE {name} AS SELECT {', '.join(columns)}",
        [c.tolist() for c in table.values()],
    )
