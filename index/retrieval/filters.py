"""What a search may return, in both the forms RegKB searches with: a Python test and an SQL clause.

Written side by side, as datasette keeps a filter's SQL and its wording together,
so that the embedded engine (faiss + BM25) and PostgreSQL cannot drift apart:
tests/test_pgvector.py runs every filter on both engines. A chunk's chapter is the
one `law.catalog.chapter_of` reads from its path; the PostgreSQL table stores it
in a column of its own when a build is loaded. The date is always a filter: a
search shows the wording in force on `as_of` (today when not given), never a
superseded one beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from index.law.catalog import chapter_of
from index.law.versions import in_force, today
from index.model import Chunk

SQL = " AND ".join([
    *(f"(cardinality(%({name})s::text[]) = 0 OR {column} = ANY(%({name})s))"
      for name, column in (("docs", "doc_id"), ("kinds", "kind"), ("chapters", "chapter"))),
    "(valid_from = '' OR valid_from <= %(day)s) AND (valid_to = '' OR %(day)s < valid_to)",
])


@dataclass(frozen=True)
class Filters:
    docs: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()  # as cited: "Chapter III"
    as_of: str = ""  # ISO date of the text in force to search; "" = today

    def __bool__(self) -> bool:
        """Does it narrow the search beyond the date (which every search applies)?"""
        return bool(self.docs or self.kinds or self.chapters)

    @property
    def day(self) -> str:
        return self.as_of or today()

    def admits(self, chunk: Chunk) -> bool:
        return ((not self.docs or chunk.doc_id in self.docs) and (not self.kinds or chunk.kind in self.kinds)
                and (not self.chapters or chapter_of(chunk) in self.chapters) and in_force(chunk, self.day))

    def sql_params(self) -> dict[str, Any]:
        """The parameters of `SQL`, the same test as `admits` over the columns doc_id, kind, chapter and validity."""
        return {"docs": list(self.docs), "kinds": list(self.kinds), "chapters": list(self.chapters), "day": self.day}
