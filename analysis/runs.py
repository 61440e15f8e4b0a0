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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agentsim.core.errors import UserError
from agentsim.core.records import RECORD_FIELDS
from analysis._runs_find import (
    _column,
    _find_runs,
    _flatten,
    _read_json,
    _read_run,
    _Run,
    _setting_text,
    _text,
    _unique_names,
    _varying_keys,
)
from analysis._runs_sql import (
    _connect,
    _create_table,
    _extract,
    _file_part,
    _json_path,
    _JsonlSource,
    _kind,
    _ParquetSource,
    _Source,
    _sql_text,
    _table,
)

if TYPE_CHECKING:
    import duckdb

__all__ = ["NoRuns", "Runs", "Table", "load_runs"]

#: A tidy table: column name -> equal-length 1-d array (object dtype for text and JSON).
Table = dict[str, np.ndarray]

#: The config sections whose settings can make a condition (``seed`` never does).
SETTING_SECTIONS = ("env", "run", "llm")
#: Settings that never make a condition: they do not change what agents decide, and a resume
#: may change them (``agentsim.runtime.experiment.RESUMABLE_KEYS``; analysis may import only
#: ``agentsim.core``, hence the copy). A sweep resumed with a larger ``llm.budget_usd`` must
#: not split its cells into two conditions.
NON_CONDITION_KEYS = frozenset(
    f"{section}.{key}"
    for section in ("run", "llm")
    for key in (
        "budget_calls",
        "budget_tokens",
        "budget_usd",
        "concurrency",
        "rpm",
        "tpm",
        "timeout_s",
        "max_attempts",
        "retry_base_delay_s",
        "api_base",
        "max_events_gb",
        "concurrent_episodes",
    )
)
#: What :meth:`Runs.export_parquet` writes beside the Parquet files.
MANIFEST = "manifest.json"
_MANIFEST_KIND = "agentsim-runs-parquet"
_LEAD_COLUMNS = ("run", "condition", "seed")


class NoRuns(UserError, ValueError):
    """A path given to :func:`load_runs` holds no run directory; the message names it."""


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
        envs = [str(r.config.get("env_id", "")) for r in runs]
        self._keys = _varying_keys(self._flats, envs)
        # A run's condition names the settings that vary between runs of its own env only
        # (another env's varying setting, constant in this one, makes no condition here).
        mine = {e: [f for f, x in zip(self._flats, envs, strict=True) if x == e] for e in envs}
        own = {e: _varying_keys(flats, [e] * len(flats)) for e, flats in mine.items()}
        # The lead columns of every table, built once.
        self._names = _text(r.name for r in self._runs)
        self._seeds = np.array([_int(r.config.get("seed"), -1) for r in runs], dtype=np.int64)
        self._conditions = _text(
            " ".join(f"{k}={_setting_text(f[k])}" for k in own[e] if k in f)
            for f, e in zip(self._flats, envs, strict=True)
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
        ``llm.*``) whose values differ between runs of the same env, sorted; never the seed
        nor a setting that does not change decisions (budgets, rate limits, timeouts,
        ``api_base``, ``max_events_gb``, ``concurrent_episodes``: :data:`NON_CONDITION_KEYS`)."""
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
        ``cell`` (the sweep cell id, "" outside a sweep), ``condition`` (the settings
        that vary between runs of the run's env, as ``"env.k=v env.j=w"``, "" when none
        vary), then one column per
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
