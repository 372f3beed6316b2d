"""Reading the corpus by structure rather than by query: documents, contents, provisions, chapters.

The `Catalog` holds the lookups a reader needs (which labels exist, each
document's table of contents and defined terms). It is made from chunks and
document records alone, never from a built index or a model, so ingest can ask
it about the law while it consolidates, and a front door computes one per build.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from index.analysis import TermStatistics
from index.law.definitions import Glossary, glossary_of
from index.law.labels import Label, container_label, short_title, written_in, written_title
from index.model import Chunk

PART_OF_KIND = {"recital": "Recitals", "annex": "Annexes", "section": "Sections"}
T = TypeVar("T")


def unit_chunks(chunks: Iterable[Chunk], doc_id: str, label: str) -> list[Chunk]:
    """Every chunk of a provision or sub-provision, in document order.

    "Article 5" returns the whole article, "Article 5(1)" its first paragraph
    with all its points, "Article 5(1)(f)" that point alone.
    """
    wanted = Label.parse(label)
    return [c for c in chunks if c.doc_id == doc_id and (c.unit == label or Label.parse(c.label).within(wanted))]


def reading_order(chunks: list[Chunk]) -> list[tuple[str, Chunk]]:
    """Each chunk with its introductory sentence when that sentence is new: a list's
    "1. The following AI practices shall be prohibited:" is read once, not before every point."""
    leads = [c.lead if c.lead and c.lead != (previous.lead if previous else "") else ""
             for previous, c in zip([None, *chunks], chunks)]
    return list(zip(leads, chunks))


def breadcrumb(chunk: Chunk, language: str = "en") -> tuple[str, ...]:
    """Where a passage sits, e.g. ("Chapter II", "Article 5"), in its document's `language` ("Chapitre II");
    empty for recitals."""
    return tuple(written_title(short_title(step), language) for step in chunk.path)


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


@dataclass(frozen=True)
class TocEntry:
    unit: str  # "Article 5", "Recital 12", "Annex III"
    kind: str
    title: str  # the heading ("Prohibited AI practices"), "" for recitals
    part: str  # "Chapter II — Prohibited AI practices", "Recitals", "Annexes"
    chapter: str  # "Chapter II" ("" outside chapters)
    section: str  # "Section 4" ("" outside sections)
    section_title: str  # "Section 4 — Notifying authorities and notified bodies"
    written: str = ""  # the unit as the document's language writes it ("Considérant 12"); "" = the unit

    @property
    def caption(self) -> str:
        unit = self.written or self.unit
        return f"{unit} · {self.title}" if self.title else unit


@dataclass(frozen=True)
class Catalog:
    chunks_of: dict[str, tuple[Chunk, ...]]  # doc_id -> its chunks in document order
    records: dict[str, dict[str, Any]]  # doc_id -> the document's record (title, short, eli, language...)
    contents: dict[str, tuple[TocEntry, ...]]  # doc_id -> provisions in document order
    labels: dict[str, frozenset[str]]  # doc_id -> every citable label, sub-provision and container
    glossaries: dict[str, Glossary]  # doc_id -> its defined terms
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, chunks: Iterable[Chunk], documents: Iterable[dict[str, Any]]) -> Catalog:
        """The catalog of these chunks; `documents` are their records, in the order to list them."""
        chunks = list(chunks)
        records = {d["doc_id"]: d for d in documents}
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        return cls(
            chunks_of={doc: tuple(cs) for doc, cs in by_doc.items()},
            records=records,
            contents={doc: _table_of_contents(cs, records.get(doc, {}).get("language", "en"))
                      for doc, cs in by_doc.items()},
            labels={doc: _citable_labels(cs) for doc, cs in by_doc.items()},
            glossaries={doc: glossary_of(cs) for doc, cs in by_doc.items()},
        )

    @property
    def term_statistics(self) -> TermStatistics:
        """How rare each word of a question is, for highlighting; made on first use, since tokenising every
        passage was most of the time a catalog took to make (0.17 of 0.23 s), and the searcher's catalogs,
        which date provisions (search.dating_clauses), never highlight."""
        return self.derived("term_statistics", lambda: TermStatistics.of(
            c.text for chunks in self.chunks_of.values() for c in chunks))

    def derived(self, key: Hashable, make: Callable[[], T]) -> T:
        """What `make` reads from this catalog, made once: a catalog never changes, and reading an act's dates
        from its application article took 20 ms, which every answer spent again (80% of a search's own work)."""
        if key not in self._derived:
            self._derived.setdefault(key, make())
        return self._derived[key]

    @property
    def documents(self) -> list[dict[str, Any]]:
        return list(self.records.values())

    def document(self, doc_id: str) -> dict[str, Any]:
        return self.records.get(doc_id, {})

    def language(self, doc_id: str) -> str:
        return self.document(doc_id).get("language", "en")

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
        return unit_chunks(self.chunks_of.get(doc_id, ()), doc_id, label)


RECITALS_PER_PART = 20  # the AI Act has 180 recitals: nine parts of twenty, not one list of 180


def _table_of_contents(chunks: list[Chunk], language: str = "en") -> tuple[TocEntry, ...]:
    first: dict[str, Chunk] = {}
    for chunk in sorted(chunks, key=lambda c: c.order):
        first.setdefault(chunk.unit, chunk)
    entries = [TocEntry(unit, c.kind, c.heading, part_of(c), chapter_of(c), section_of(c),
                        c.path[1] if section_of(c) else "", written_in(unit, language))
               for unit, c in first.items()]
    return tuple(_recitals_in_groups(entries, "Considérants" if language == "fr" else "Recitals"))


def _recitals_in_groups(entries: list[TocEntry], word: str = "Recitals") -> list[TocEntry]:
    """Recitals in parts of RECITALS_PER_PART ("Recitals 1–20"), after the enacting terms and annexes: a reader
    opening the contents looks for the articles first, and the recitals explain them."""
    recitals = [e for e in entries if e.part == PART_OF_KIND["recital"]]
    grouped = []
    for start in range(0, len(recitals), RECITALS_PER_PART):
        group = recitals[start:start + RECITALS_PER_PART]
        name = f"{word} {group[0].unit.split()[-1]}–{group[-1].unit.split()[-1]}"
        grouped += [replace(e, part=name) for e in group]
    return [e for e in entries if e.part != PART_OF_KIND["recital"]] + grouped


def _citable_labels(chunks: list[Chunk]) -> frozenset[str]:
    """Each label with all its parents: "Article 6(1)(a)" also makes "Article 6(1)" and "Article 6" citable."""
    labels: set[str] = set()
    for chunk in chunks:
        labels.add(chunk.unit)
        labels.add(chunk.label)
        labels.update(str(a) for a in Label.parse(chunk.label).ancestors())
        if chapter_of(chunk):
            labels.add(chapter_of(chunk))
            labels.add(container_label(chapter_of(chunk), section_of(chunk)))
    return frozenset(labels)


def unit_text(catalog: Catalog, doc_id: str, unit: str) -> str:
    """A provision's wording in reading order, each introductory sentence once."""
    return " ".join(f"{lead} {chunk.text}" if lead else chunk.text
                    for lead, chunk in reading_order(catalog.chunks(doc_id, unit)))


# Documents that are not law, said wherever they are quoted: a reader must never take an analysis for the AI Act
STANDING = {"analysis": "Analysis, not law", "communication": "Commission communication, not law",
            "user": "Your document, not an official text"}


def standing(document: dict[str, Any]) -> str:
    """ "" for an act (a regulation, an amending act); otherwise what kind of text this is."""
    return STANDING.get(document.get("type", ""), "")
