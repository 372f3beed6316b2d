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
from index.model import Hit
from index.retrieval.filters import Filters
from index.retrieval.search import MAX_K, Mode, Searcher, SearchOptions
from index.retrieval.store import LoadedIndex


@dataclass(frozen=True)
class Result:
    hit: Hit  # the unit's best passage
    more: tuple[Hit, ...] = ()  # its other matching passages, in rank order
    related: tuple[Reference, ...] = ()  # provisions its passages cite (Article 6(2) -> Annex III)

    def to_json(self) -> dict[str, Any]:
        return {**self.hit.to_json(), "more": [h.to_json() for h in self.more],
                "related": [{"doc_id": r.doc_id, "label": r.label} for r in self.related]}


def group_by_unit(hits: list[Hit], k: int) -> list[Result]:
    groups: dict[tuple[str, str], list[Hit]] = {}
    for hit in hits:
        groups.setdefault((hit.chunk.doc_id, hit.chunk.unit), []).append(hit)
    return [Result(group[0], tuple(group[1:])) for group in list(groups.values())[:k]]


def ask(searcher: Searcher, question: str, k: int = 10, filters: Filters = Filters(),
        mode: Mode = "hybrid", grouped: bool = True, options: SearchOptions = SearchOptions()) -> list[Result]:
    if not grouped:
        return [Result(hit) for hit in searcher.search(question, k, filters, mode, options)]
    hits = searcher.search(question, min(MAX_K, max(k * 5, 30)), filters, mode, options)
    return group_by_unit(hits, k)


def with_related(results: list[Result], catalog: Catalog, limit: int = 8) -> list[Result]:
    """Follow each result's cross-references to the provisions they name, where those are indexed."""
    return [replace(r, related=tuple(related_provisions(catalog, [r.hit.chunk, *(h.chunk for h in r.more)])[:limit]))
            for r in results]


def catalog_of(index: LoadedIndex) -> Catalog:
    """The catalog of a build: its chunks and its documents' records."""
    return Catalog.of(index.chunks, index.manifest.documents)


class CatalogCache:
    """One Catalog per live build (it takes ~0.4 s to make), replaced when the build is."""

    def __init__(self) -> None:
        self._current: tuple[Path, Catalog] | None = None
        self._lock = threading.Lock()

    def of(self, index: LoadedIndex) -> Catalog:
        current = self._current
        if current is None or current[0] != index.path:
            with self._lock:
                current = self._current = (index.path, catalog_of(index))
        return current[1]
