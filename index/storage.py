"""What the SQLite stores in the data folder share: one transaction per use, and retention read from the environment.

Feedback (feedback.py) and the query log (querylog.py) each keep one small file
beside the builds; both delete what is past their retention on every write.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def transaction(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection inside one transaction (committed, or rolled back on error), the table created if new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=10)) as db:
        with db:
            db.execute(schema)
            yield db


def select(path: Path, schema: str, query: str) -> list[tuple]:
    """The rows a query returns; none from a store that has never been written (no file is created to say so)."""
    if not path.exists():
        return []
    with transaction(path, schema) as db:
        return db.execute(query).fetchall()


def days_from_env(variable: str, default: int) -> int:
    """A retention in days; a value that is no whole number is an error naming the variable."""
    raw = os.environ.get(variable, str(default))
    try:
        return max(1, int(raw))
    except ValueError as error:
        raise ValueError(f"{variable}={raw!r}: a number of days, e.g. {default}") from error
