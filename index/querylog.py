"""The administrators' query log: off unless switched on, and then only what a search needs to be reviewed.

`REGKB_QUERY_LOG=1` turns it on for the app and the API. Each question asked there
becomes one row of `querylog.sqlite3` in the data folder: the time (UTC), which front
door (app or api), the question as typed, the filters, the first three citations
answered and the latency. No name, address, session or token is kept; a question may
still contain personal data if a reader types it, which is what a data-protection
notice must say (README, "Query log"). Rows older than REGKB_QUERY_LOG_DAYS (default
30) are deleted on every write. `export` gives them as JSON lines.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from index.storage import days_from_env, select, transaction

DEFAULT_RETENTION_DAYS = 30
CITATIONS = 3
_SCHEMA = """CREATE TABLE IF NOT EXISTS queries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    front TEXT NOT NULL,
    question TEXT NOT NULL,
    filters TEXT NOT NULL,
    citations TEXT NOT NULL,
    latency_ms REAL NOT NULL
)"""


@dataclass(frozen=True)
class Entry:
    created: str
    front: str  # "app" or "api"
    question: str
    filters: dict[str, Any]
    citations: list[str]
    latency_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class QueryLog:
    def __init__(self, path: Path, retention_days: int) -> None:
        self.path = path
        self.retention = timedelta(days=retention_days)

    @classmethod
    def from_environment(cls, data_dir: Path) -> QueryLog | None:
        """The log when REGKB_QUERY_LOG is on ("1", "true", "yes"), else None: nothing is written."""
        if os.environ.get("REGKB_QUERY_LOG", "").strip().lower() not in {"1", "true", "yes", "on"}:
            return None
        return cls(data_dir / "querylog.sqlite3", days_from_env("REGKB_QUERY_LOG_DAYS", DEFAULT_RETENTION_DAYS))

    def record(self, front: str, question: str, filters: dict[str, Any], citations: list[str],
               latency_ms: float) -> Entry | None:
        """Keep one entry; a log that cannot be written (a locked file, a full disk) is warned about, never fails
        the search it records."""
        now = datetime.now(timezone.utc)
        entry = Entry(now.isoformat(timespec="seconds"), front, question, filters, citations[:CITATIONS],
                      round(latency_ms, 1))
        try:
            with transaction(self.path, _SCHEMA) as db:
                db.execute("DELETE FROM queries WHERE created < ?",
                           ((now - self.retention).isoformat(timespec="seconds"),))
                db.execute("INSERT INTO queries (created, front, question, filters, citations, latency_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (entry.created, front, question, json.dumps(filters),
                                                         json.dumps(entry.citations), entry.latency_ms))
        except (sqlite3.Error, OSError) as error:
            logging.getLogger(__name__).warning("query log %s not written: %s", self.path.name, error)
            return None
        return entry

    def entries(self) -> list[Entry]:
        rows = select(self.path, _SCHEMA,
                      "SELECT created, front, question, filters, citations, latency_ms FROM queries ORDER BY id")
        return [Entry(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), r[5]) for r in rows]

    def export(self) -> str:
        """Every entry as one JSON line, oldest first."""
        return "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in self.entries())
