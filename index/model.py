"""The records the index stores and search returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Chunk:
    """One indexed passage: a citable unit (or a sentence-aligned piece of a long one).

    ``text`` is the official wording shown to the user; ``passage`` is what the
    embedder and BM25 see: the same text with the context a reader would have
    (document, chapter, article title, the sentence introducing the list).
    """

    id: str
    doc_id: str
    label: str
    unit: str
    kind: str
    heading: str
    path: tuple[str, ...]
    text: str
    lead: str
    passage: str
    url: str
    page: int | None
    order: int

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Chunk:
        return cls(**{**record, "path": tuple(record["path"])})


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    document: dict[str, str]  # the source's public metadata (title, short, attribution...)
    dense_rank: int | None = None
    lexical_rank: int | None = None

    @property
    def citation(self) -> str:
        return f"{self.chunk.label} {self.document.get('short', '')}".strip()

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "doc_id": c.doc_id, "label": c.label, "unit": c.unit, "kind": c.kind,
            "title": self.document.get("title", ""), "short": self.document.get("short", ""),
            "citation": self.citation, "heading": c.heading, "path": list(c.path), "lead": c.lead,
            "text": c.text, "url": c.url, "page": c.page, "score": round(self.score, 6),
            "chunk_id": c.id, "dense_rank": self.dense_rank, "lexical_rank": self.lexical_rank,
        }
