"""Readers' feedback on answers, kept so that real questions become evaluation data.

One SQLite file in the data folder (`feedback.sqlite3`), written by the app and the
API alike. It holds only what the reader typed or clicked: the question, helpful or
not, and the citation that should have come first; no name, address or session. Items
older than the retention (REGKB_FEEDBACK_DAYS, default 365), and all but the newest
100,000, are deleted on every write. `export` turns the items with a citation into `python -m index eval` lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from index.law.catalog import Catalog
from index.law.labels import unit_of
from index.law.references import Reference, cited_provision
from index.storage import days_from_env, select, transaction

DEFAULT_RETENTION_DAYS = 365
MAX_FIELD_CHARS = 1_000
MAX_ITEMS = 100_000  # an open endpoint must not fill the disk: beyond this, the oldest go
_SCHEMA = """CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    expected TEXT NOT NULL DEFAULT '',
    doc_id TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT ''
)"""


@dataclass(frozen=True)
class Item:
    id: int
    created: str
    question: str
    helpful: bool
    expected: str = ""  # the citation as the reader typed it
    doc_id: str = ""  # ... resolved to a provision of the index, where it could be
    unit: str = ""

    def to_eval_line(self) -> dict[str, Any]:
        """`python -m index eval` format: the provision's unit is the gold; unresolved, the citation as typed."""
        return {"id": f"feedback-{self.id}", "question": self.question, "gold": [self.unit or self.expected],
                "doc": self.doc_id}


class FeedbackStore:
    def __init__(self, path: Path, retention_days: int | None = None) -> None:
        self.path = path
        days = retention_days if retention_days is not None else days_from_env("REGKB_FEEDBACK_DAYS",
                                                                                DEFAULT_RETENTION_DAYS)
        self.retention = timedelta(days=days)

    @classmethod
    def in_folder(cls, data_dir: Path) -> FeedbackStore:
        return cls(data_dir / "feedback.sqlite3")

    def add(self, question: str, helpful: bool, expected: str = "", doc_id: str = "", unit: str = "") -> Item:
        """Store one item (the oldest beyond the retention go); ValueError for an empty or oversized question."""
        question, expected = " ".join(question.split()), " ".join(expected.split())
        if not question or len(question) > MAX_FIELD_CHARS or len(expected) > MAX_FIELD_CHARS:
            raise ValueError(f"feedback needs a question of 1 to {MAX_FIELD_CHARS:,} characters "
                             f"(and a citation of at most {MAX_FIELD_CHARS:,})")
        now = datetime.now(timezone.utc)
        with transaction(self.path, _SCHEMA) as db:
            db.execute("DELETE FROM feedback WHERE created < ?", ((now - self.retention).isoformat(),))
            db.execute("DELETE FROM feedback WHERE id <= (SELECT MAX(id) FROM feedback) - ?", (MAX_ITEMS - 1,))
            cursor = db.execute("INSERT INTO feedback (created, question, helpful, expected, doc_id, unit) "
                                "VALUES (?, ?, ?, ?, ?, ?)", (now.isoformat(), question, int(helpful), expected,
                                                              doc_id, unit))
        return Item(int(cursor.lastrowid), now.isoformat(), question, helpful, expected, doc_id, unit)

    def give(self, catalog: Catalog, question: str, helpful: bool, expected: str = "") -> tuple[Item, Reference | None]:
        """Store a reader's feedback with the citation resolved to a provision of the index, where it is one."""
        cited = cited_provision(catalog, expected) if expected else None
        item = self.add(question, helpful, expected, cited.doc_id if cited else "", unit_of(cited.label) if cited else "")
        return item, cited

    def items(self) -> list[Item]:
        rows = select(self.path, _SCHEMA,
                      "SELECT id, created, question, helpful, expected, doc_id, unit FROM feedback ORDER BY id")
        return [Item(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]

    def export(self) -> list[dict[str, Any]]:
        """The items that name the citation that should have come first, as evaluation questions."""
        return [item.to_eval_line() for item in self.items() if item.expected]
