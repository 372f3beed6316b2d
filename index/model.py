"""The records the index stores and search returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Amendment:
    """One change an amending act made to a provision: who, where, what, from when."""

    act: str  # "Regulation (EU) 2026/1744"
    point: str  # "Article 1, point (40)(b)"
    kind: str  # replaced, inserted, deleted
    in_force: str  # ISO date
    url: str = ""  # the amending act's article that holds the point, on EUR-Lex

    def to_json(self) -> dict[str, str]:
        return asdict(self)


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
    # The wording's life, for a document an amending act changed (law/versions.py reads these):
    valid_from: str = ""  # ISO date this wording took effect; "" = since the document itself
    valid_to: str = ""  # ISO date it was replaced or deleted; "" = in force
    status: str = ""  # unchanged, replaced, inserted, superseded; "" for a document nothing amends
    amended_by: tuple[Amendment, ...] = ()  # what made this wording (or, when superseded, what ended it)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Chunk:
        amended_by = tuple(Amendment(**a) for a in record.get("amended_by", ()))
        return cls(**{**record, "path": tuple(record["path"]), "amended_by": amended_by})


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    document: dict[str, str]  # the source's public metadata (title, short, attribution...)
    dense_rank: int | None = None
    lexical_rank: int | None = None
    as_of: str = ""  # the day whose text in force was searched (ISO)
    version: dict[str, str] = field(default_factory=dict)  # the document's version in force that day (law.versions)
    written: str = ""  # the label as the document's own language writes it ("Considérant 93"); "" = the label

    @property
    def written_label(self) -> str:
        return self.written or self.chunk.label

    @property
    def citation(self) -> str:
        return f"{self.written_label} {self.document.get('short', '')}".strip()

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "doc_id": c.doc_id, "label": c.label, "unit": c.unit, "kind": c.kind,
            "title": self.document.get("title", ""), "short": self.document.get("short", ""),
            "citation": self.citation, "heading": c.heading, "path": list(c.path), "lead": c.lead,
            "text": c.text, "url": c.url, "page": c.page, "score": round(self.score, 6),
            "chunk_id": c.id, "dense_rank": self.dense_rank, "lexical_rank": self.lexical_rank,
            "as_of": self.as_of, "status": c.status or "unchanged", "version": self.version,
            "valid_from": c.valid_from, "valid_to": c.valid_to, "amended_by": [a.to_json() for a in c.amended_by],
        }
