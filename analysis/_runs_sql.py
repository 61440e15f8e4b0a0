"""The DuckDB side of :class:`analysis.runs.Runs`: where records are read from and SQL helpers.

A source defines the ``_lines`` view (one row per record, with its run and line number) over
the runs' ``events.jsonl`` files or over a Parquet export; the helpers build SQL text and turn
DuckDB results into tables. Private to :mod:`analysis.runs`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agentsim.core.errors import UserError
from agentsim.core.records import iter_records

if TYPE_CHECKING:
    import duckdb

    from analysis.runs import Table

_GLOB_CHARS = re.compile(r"[*?\[\]{}]")


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
        from analysis.runs import NoRuns  # late: analysis.runs imports this module

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
