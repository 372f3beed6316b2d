"""Hits grouped into one result per provision, with the provisions each one cites.

Five paragraphs of Article 5 are one result, shown by its best paragraph with
the others folded beneath. `answers.question` builds a reader's answer from these;
the evaluation scores `ask` directly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index.law.catalog import Catalog
from index.law.references import Reference, related_provisions
from index.law.timeline import AppliesFrom, applies_from, timeline
from index.law.versions import in_force_on, today
from index.model import Hit
from index.retrieval.filters import Filters
from index.retrieval.search import MAX_K, Evidence, Mode, Searcher, SearchOptions
from index.retrieval.store import LoadedIndex


@dataclass(frozen=True)
class Result:
    hit: Hit  # the unit's best passage
    more: tuple[Hit, ...] = ()  # its other matching passages, in rank order
    related: tuple[Reference, ...] = ()  # provisions its passages cite (Article 6(2) -> Annex III)
    applies_from: tuple[AppliesFrom, ...] = ()  # from the application article in force on the day searched

    def to_json(self) -> dict[str, Any]:
        return {**self.hit.to_json(), "more": [h.to_json() for h in self.more],
                "related": [{"doc_id": r.doc_id, "label": r.label} for r in self.related],
                "applies_from": [a.to_json() for a in self.applies_from]}


def group_by_unit(hits: list[Hit], k: int) -> list[Result]:
    groups: dict[tuple[str, str], list[Hit]] = {}
    for hit in hits:
        groups.setdefault((hit.chunk.doc_id, hit.chunk.unit), []).append(hit)
    return [Result(group[0], tuple(group[1:])) for group in list(groups.values())[:k]]


def ask(searcher: Searcher, question: str, k: int = 10, filters: Filters = Filters(),
        mode: Mode = "hybrid", grouped: bool = True, options: SearchOptions = SearchOptions()) -> list[Result]:
    return ask_with_evidence(searcher, question, k, filters, mode, grouped, options)[0]


def ask_with_evidence(searcher: Searcher, question: str, k: int = 10, filters: Filters = Filters(),
                      mode: Mode = "hybrid", grouped: bool = True,
                      options: SearchOptions = SearchOptions()) -> tuple[list[Result], Evidence]:
    """One result per provision (or per passage, ungrouped), and how close the corpus came to the question."""
    n = k if not grouped else min(MAX_K, max(k * 5, 30))
    hits, evidence = searcher.search_with_evidence(question, n, filters, mode, options)
    return ([Result(hit) for hit in hits] if not grouped else group_by_unit(hits, k)), evidence


def with_related(results: list[Result], catalog: Catalog, limit: int = 8) -> list[Result]:
    """Follow each result's cross-references to the provisions they name, where those are indexed."""
    return [replace(r, related=tuple(related_provisions(catalog, [r.hit.chunk, *(h.chunk for h in r.more)])[:limit]))
            for r in results]


def with_dates(results: list[Result], catalog: Catalog) -> list[Result]:
    """Each result with the dates its provision applies from, read from its act's application article."""
    return [replace(r, applies_from=tuple(applies_from(catalog, timeline(catalog, r.hit.chunk.doc_id),
                                                       r.hit.chunk.label)))
            for r in results]


def catalog_of(index: LoadedIndex, day: str = "") -> Catalog:
    """The catalog of a build as in force on `day` (today when not given): superseded wordings left out."""
    return Catalog.of(in_force_on(index.chunks, day or today()), index.manifest.documents)


class CatalogCache:
    """Catalogs of the live build, one per day asked (each takes about 0.25 s to make and to count its words in),
    dropped when the build changes."""

    DAYS = 8

    def __init__(self) -> None:
        self._build: Path | None = None
        self._by_day: dict[str, Catalog] = {}
        self._lock = threading.Lock()

    def of(self, index: LoadedIndex, day: str = "") -> Catalog:
        day = day or today()
        with self._lock:
            if self._build != index.path:
                self._build, self._by_day = index.path, {}
            found = self._by_day.get(day)
        if found is None:  # made outside the lock: other days' requests need not wait for it
            found = catalog_of(index, day)
            with self._lock:
                if self._build == index.path:
                    if len(self._by_day) >= self.DAYS:
                        self._by_day.pop(next(iter(self._by_day)))
                    found = self._by_day.setdefault(day, found)
        return found
