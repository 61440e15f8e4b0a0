"""Statistics over agentsim run records (``events.jsonl``); depends only on the record schema.

``analysis.load_runs`` reads many runs (run or sweep directories) as tidy tables through
DuckDB (imported only when a table is queried).
"""

from analysis.runs import Runs, load_runs

__all__ = ["Runs", "load_runs"]
