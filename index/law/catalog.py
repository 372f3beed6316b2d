"""Reading the corpus by structure rather than by query: documents, contents, provisions, chapters.

The `Catalog` holds the lookups a reader needs over one build (which labels exist,
each document's table of contents and defined terms), computed once per build:
the app caches one, an HTTP API would hold one the same way.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.law.definitions import Glossary, glossary_of
from index.answers.highlight import TermStatistics
from index.model import Chunk
from index.retrieval.store import LoadedIndex

PART_OF_KIND = {"recital": "Recitals", "annex": "Annexes", "section": "Sections"}
_LABEL_BOUNDARY = re.compile(r"[(,]")


def documents(index: LoadedIndex) -> list[dict[str, Any]]:
    return list(index.manifest.documents)


def unit_chunks(index: LoadedIndex, doc_id: str, label: str) -> list[Chunk]:
    """Every chunk of a provision or sub-provision, in document order.

    "Article 5" returns the whole article, "Article 5(1)" its first paragraph
    with all its points, "Article 5(1)(f)" that point alone.
    """
    wanted = re.compile(rf"^{re.escape(label)}(?:$|[(,#])")
    return [c for c in index.chunks if c.doc_id == doc_id and (c.unit == label or wanted.match(c.label))]


def reading_order(chunks: list[Chunk]) -> list[tuple[str, Chunk]]:
    """Each chunk with its introductory sentence when that sentence is new: a list's
    "1. The following AI practices shall be prohibited:" is read once, not before every point."""
    leads = [c.lead if c.lead and c.lead != (previous.lead if previous else "") else ""
             for previous, c in zip([None, *chunks], chunks)]
    return list(zip(leads, chunks))


def short_title(title: str) -> str:
    """ "Chapter II — Prohibited AI practices" -> "Chapter II": the part a citation uses."""
    return title.split(" — ", 1)[0]


def unit_of(label: str) -> str:
    """ "Article 6(1)(a)" -> "Article 6"; "Annex III, point 4" -> "Annex III"."""
    return _LABEL_BOUNDARY.split(label, maxsplit=1)[0]


def breadcrumb(chunk: Chunk) -> tuple[str, ...]:
    """Where a passage sits, e.g. ("Chapter II", "Article 5"); empty for recitals."""
    return tuple(short_title(step) for step in chunk.path)


def chapter_of(chunk: Chunk) -> str:
    """The chapter (or other container) above the provision, as cited: "Chapter III"; "" when none."""
    return short_title(chunk.path[0]) if len(chunk.path) > 1 else ""


def section_of(chunk: Chunk) -> str:
    """ "Section 4" for an article inside a chapter's section; "" otherwise."""
    return short_title(chunk.path[1]) if len(chunk.path) > 2 else ""


def part_of(chunk: Chunk) -> str:
    """The table-of-contents group of a provision: its chapter's full title, or Recitals/Annexes."""
    if chunk.kind in PART_OF_KIND:
        return PART_OF_KIND[chunk.kind]
    return chunk.path[0] if len(chunk.path) > 1 else "Articles"


def container_label(chapter: str, section: str = "") -> str:
    """The label under which a chapter or section is opened and cross-referenced."""
    return f"{chapter}, {section}" if section else chapter


@dataclass(frozen=True)
class TocEntry:
    unit: str  # "Article 5", "Recital 12", "Annex III"
    kind: str
    title: str  # the heading ("Prohibited AI practices"), "" for recitals
    part: str  # "Chapter II — Prohibited AI practices", "Recitals", "Annexes"
    chapter: str  # "Chapter II" ("" outside chapters)
    section: str  # "Section 4" ("" outside sections)
    section_title: str  # "Section 4 — Notifying authorities and notified bodies"

    @property
    def caption(self) -> str:
        return f"{self.unit} · {self.title}" if self.title else self.unit


@dataclass(frozen=True)
class Catalog:
    index: LoadedIndex
    contents: dict[str, tuple[TocEntry, ...]]  # doc_id -> provisions in document order
    labels: dict[str, frozenset[str]]  # doc_id -> every citable label, sub-provision and container
    glossaries: dict[str, Glossary]  # doc_id -> its defined terms
    term_statistics: TermStatistics  # for highlighting: how rare each word of a question is

    @classmethod
    def of(cls, index: LoadedIndex) -> Catalog:
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in index.chunks:
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        return cls(
            index=index,
            contents={doc: _table_of_contents(chunks) for doc, chunks in by_doc.items()},
            labels={doc: _citable_labels(chunks) for doc, chunks in by_doc.items()},
            glossaries={doc: glossary_of(chunks) for doc, chunks in by_doc.items()},
            term_statistics=TermStatistics.of(c.text for c in index.chunks),
        )

    @property
    def documents(self) -> list[dict[str, Any]]:
        return documents(self.index)

    def document(self, doc_id: str) -> dict[str, Any]:
        return self.index.document(doc_id)

    def short_name(self, doc_id: str) -> str:
        return self.document(doc_id).get("short") or doc_id

    def exists(self, doc_id: str, label: str) -> bool:
        return label in self.labels.get(doc_id, frozenset())

    def entry(self, doc_id: str, unit: str) -> TocEntry | None:
        return next((e for e in self.contents.get(doc_id, ()) if e.unit == unit), None)

    def parts(self, doc_id: str) -> list[str]:
        return list(dict.fromkeys(e.part for e in self.contents.get(doc_id, ())))

    def chapters(self, doc_id: str) -> dict[str, str]:
        """Short chapter label -> full title ("Chapter III" -> "Chapter III — High-risk AI systems")."""
        return {e.chapter: e.part for e in self.contents.get(doc_id, ()) if e.chapter}

    def units_under(self, doc_id: str, label: str) -> list[TocEntry]:
        """The provisions of a chapter ("Chapter III") or section ("Chapter III, Section 4")."""
        return [e for e in self.contents.get(doc_id, ()) if label in (e.chapter, container_label(e.chapter, e.section))]

    def container_title(self, doc_id: str, label: str) -> str:
        """ "Chapter III, Section 4" -> "Section 4 — Notifying authorities and notified bodies"."""
        inside = self.units_under(doc_id, label)
        if not inside:
            return label
        return inside[0].section_title if "," in label else inside[0].part

    def chunks(self, doc_id: str, label: str) -> list[Chunk]:
        return unit_chunks(self.index, doc_id, label)


def _table_of_contents(chunks: list[Chunk]) -> tuple[TocEntry, ...]:
    first: dict[str, Chunk] = {}
    for chunk in sorted(chunks, key=lambda c: c.order):
        first.setdefault(chunk.unit, chunk)
    return tuple(TocEntry(unit, c.kind, c.heading, part_of(c), chapter_of(c), section_of(c),
                          c.path[1] if section_of(c) else "") for unit, c in first.items())


def _citable_labels(chunks: list[Chunk]) -> frozenset[str]:
    """Each label with all its parents: "Article 6(1)(a)" also makes "Article 6(1)" and "Article 6" citable."""
    labels: set[str] = set()
    for chunk in chunks:
        labels.add(chunk.unit)
        labels.update(chunk.label[:m.start()] for m in _LABEL_BOUNDARY.finditer(chunk.label) if m.start())
        labels.add(chunk.label)
        if chapter_of(chunk):
            labels.add(chapter_of(chunk))
            labels.add(container_label(chapter_of(chunk), section_of(chunk)))
    return frozenset(labels)


class CatalogCache:
    """One Catalog per live build (it takes ~0.4 s to make), replaced when the build is."""

    def __init__(self) -> None:
        self._current: tuple[Path, Catalog] | None = None
        self._lock = threading.Lock()

    def of(self, index: LoadedIndex) -> Catalog:
        current = self._current
        if current is None or current[0] != index.path:
            with self._lock:
                current = self._current = (index.path, Catalog.of(index))
        return current[1]
