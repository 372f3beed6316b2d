"""What a search may return, in both the forms RegKB searches with: a Python test and an SQL clause.

Written side by side, as datasette keeps a filter's SQL and its wording together,
so that the embedded engine (faiss + BM25) and PostgreSQL cannot drift apart:
tests/test_pgvector.py runs every filter on both engines. A chunk's chapter is the
one `law.catalog.chapter_of` reads from its path; the PostgreSQL table stores it
in a column of its own when a build is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from index.law.catalog import chapter_of
from index.model import Chunk

SQL = " AND ".join(
    f"(cardinality(%({name})s::text[]) = 0 OR {column} = ANY(%({name})s))"
    for name, column in (("docs", "doc_id"), ("kinds", "kind"), ("chapters", "chapter"))
)


@dataclass(frozen=True)
class Filters:
    docs: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()  # as cited: "Chapter III"

    def __bool__(self) -> bool:
        return bool(self.docs or self.kinds or self.chapters)

    def admits(self, chunk: Chunk) -> bool:
        return ((not self.docs or chunk.doc_id in self.docs) and (not self.kinds or chunk.kind in self.kinds)
                and (not self.chapters or chapter_of(chunk) in self.chapters))

    def sql_params(self) -> dict[str, Any]:
        """The parameters of `SQL`, the same test as `admits` over the columns doc_id, kind and chapter."""
        return {"docs": list(self.docs), "kinds": list(self.kinds), "chapters": list(self.chapters)}
