"""One provision as in force on a day, with its history and the dates it applies from; and the act's dates.

What `python -m index show`, the API's `/units` and `/timeline` and the app's
cards share. A provision's text is the wording in force that day; its history
lists every amendment in force by then, each with the wording it replaced; its
dates are read from the application article in force that day (Article 113 as
amended), with the dates an amendment moved marked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from index.law.catalog import Catalog, reading_order, unit_chunks
from index.law.labels import Label, sort_key, unit_of
from index.law.references import Reference, references_in
from index.law.timeline import AppliesFrom, Timeline, applies_from, timeline
from index.law.versions import Version, today, version_on, versions
from index.model import Amendment, Chunk
from index.retrieval.store import LoadedIndex

CHANGED = {"replaced", "inserted"}


@dataclass(frozen=True)
class Change:
    amendment: Amendment
    previous_text: str  # the wording it replaced or deleted; "" for an insertion

    def to_json(self) -> dict[str, str]:
        return {**self.amendment.to_json(), "previous_text": self.previous_text}


@dataclass(frozen=True)
class Provision:
    doc_id: str
    label: str
    day: str  # ISO: the text in force on this day
    status: str  # unchanged, replaced, inserted, amended (a part of it changed), deleted, outdated
    text: str  # the whole provision in force that day, paragraphs in order, heading excluded ("" when deleted)
    heading: str
    chunks: tuple[Chunk, ...]
    history: tuple[Change, ...]
    applies_from: tuple[AppliesFrom, ...]
    version: Version
    url: str

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "label": self.label, "as_of": self.day, "status": self.status,
                "heading": self.heading, "text": self.text, "url": self.url, "version": self.version.to_json(),
                "history": [c.to_json() for c in self.history],
                "applies_from": [a.to_json() for a in self.applies_from],
                "chunks": [c.to_record() for c in self.chunks]}


@dataclass(frozen=True)
class ProvisionChanges:
    """What the amending acts in force on a day did to one article or annex, and the recitals that say why."""

    unit: str  # "Article 113"
    title: str
    changes: tuple[tuple[str, Change], ...]  # (label changed, change), in document order
    explained_by: tuple[Reference, ...]  # recitals of the amending acts that name this provision

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "title": self.title,
                "changes": [{"label": label, **change.to_json()} for label, change in self.changes],
                "explained_by": [{"doc_id": r.doc_id, "label": r.label} for r in self.explained_by]}


class NotInForce(LookupError):
    """No such provision on that day; the message says whether it came later, or never existed."""


def read_provision(index: LoadedIndex, catalog: Catalog, doc_id: str, label: str, day: str = "") -> Provision:
    """`label` of `doc_id` as in force on `day`; `catalog` is the catalog of that day (answers.results.CatalogCache)."""
    day = day or today()
    label = str(Label.parse(label))
    current = catalog.chunks(doc_id, label)
    ever = unit_chunks(index.chunks, doc_id, label)
    history = _history(ever, day)
    if not current and not any(c.amendment.kind == "deleted" for c in history):
        raise NotInForce(_absence(index, doc_id, label, day, ever))
    status = _status(current, history)
    return Provision(doc_id, label, day, status, _text(current), current[0].heading if current else "",
                     tuple(current), tuple(history),
                     tuple(applies_from(catalog, timeline(catalog, doc_id), label)) if current else (),
                     version_on(catalog.document(doc_id), day), current[0].url if current else "")


def what_changed(index: LoadedIndex, catalog: Catalog, doc_id: str, day: str = "") -> list[ProvisionChanges]:
    """Every change the amending acts in force on `day` made to `doc_id`, provision by provision, as EUR-Lex's
    "Modified by" lists give them, each with the amending act's recitals that refer to the provision."""
    day = day or today()
    chunks = [c for c in index.chunks if c.doc_id == doc_id and c.amended_by and c.status != "outdated"]
    by_unit: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_unit.setdefault(chunk.unit, []).append(chunk)
    reasons = _recitals_by_unit(catalog, doc_id)
    found = []
    for unit in sorted(by_unit, key=sort_key):
        changes: dict[tuple[str, str], Change] = {}
        for label in dict.fromkeys(c.label for c in sorted(by_unit[unit], key=lambda c: sort_key(c.label))):
            for change in _history([c for c in by_unit[unit] if c.label == label], day):
                changes.setdefault((label, change.amendment.point), change)
        if changes:
            entry = catalog.entry(doc_id, unit)
            title = entry.title if entry else next(c.heading for c in by_unit[unit])
            found.append(ProvisionChanges(unit, title, tuple((label, c) for (label, _), c in changes.items()),
                                          tuple(reasons.get(unit, ()))))
    return found


def _recitals_by_unit(catalog: Catalog, doc_id: str) -> dict[str, list[Reference]]:
    """Recitals of the amending acts (documents that amend `doc_id`) by the provisions of `doc_id` they refer to."""
    found: dict[str, dict[Reference, None]] = {}
    for document in catalog.documents:
        if document.get("amends") != doc_id:
            continue
        for chunk in catalog.chunks_of.get(document["doc_id"], ()):
            if chunk.kind != "recital":
                continue
            for reference in references_in(chunk.text, chunk.doc_id, catalog):
                if reference.doc_id == doc_id:
                    found.setdefault(unit_of(reference.label), {})[Reference(chunk.doc_id, chunk.unit)] = None
    return {unit: list(recitals) for unit, recitals in found.items()}


def dated_timeline(catalog_on: Callable[[str], Catalog], doc_id: str, day: str = "") -> Timeline | None:
    """The act's milestones as its application article reads on `day`, each date the last amendment in force
    moved marked with what it was; `catalog_on(day)` gives the catalog of a day (the front door's cache)."""
    catalog = catalog_on(day or today())
    earlier = before_last_amendment(catalog, doc_id, day)
    return timeline(catalog, doc_id, catalog_on(earlier) if earlier else None)


def before_last_amendment(catalog: Catalog, doc_id: str, day: str = "") -> str:
    """The day before the version in force on `day` took effect, when that version is an amended one; else ""."""
    known = versions(catalog.document(doc_id))
    version = version_on(catalog.document(doc_id), day or today())
    if len(known) < 2 or not version.date or version.date == known[0].date:
        return ""
    return (date.fromisoformat(version.date) - timedelta(days=1)).isoformat()


def _history(chunks: list[Chunk], day: str) -> list[Change]:
    """Each amendment in force by `day` that reached the provision, once, with the wording it ended."""
    found: dict[tuple[str, str, str], list[str]] = {}
    amendments: dict[tuple[str, str, str], Amendment] = {}
    for chunk in sorted(chunks, key=lambda c: c.order):
        for amendment in chunk.amended_by:
            if amendment.in_force > day:
                continue
            key = (amendment.act, amendment.point, amendment.kind)
            amendments.setdefault(key, amendment)
            texts = found.setdefault(key, [])
            if chunk.status == "superseded":
                texts.append(chunk.text)
    return [Change(amendments[key], "\n".join(found[key])) for key in amendments]


def _status(current: list[Chunk], history: list[Change]) -> str:
    if not current:
        return "deleted"
    if any(c.status == "outdated" for c in current) and history:  # outdated once the amendment is in force
        return "outdated"
    kinds = {c.status if c.status in CHANGED else "unchanged" for c in current}
    if kinds == {"unchanged"}:
        return "amended" if history else "unchanged"
    if len(kinds) == 1 and not any(c.amendment.kind == "deleted" for c in history):
        return kinds.pop()
    return "amended"


def _text(chunks: list[Chunk]) -> str:
    return "\n".join(f"{lead}\n{chunk.text}" if lead else chunk.text for lead, chunk in reading_order(chunks))


def _absence(index: LoadedIndex, doc_id: str, label: str, day: str, ever: list[Chunk]) -> str:
    if not index.document(doc_id):
        known = ", ".join(sorted(d["doc_id"] for d in index.manifest.documents))
        return f"unknown document {doc_id!r}; known: {known}"
    later = sorted((c for c in ever if c.valid_from > day), key=lambda c: c.valid_from)
    if later:
        made = later[0].amended_by[0] if later[0].amended_by else None
        by = f" by {made.act}, {made.point}," if made else ""
        return f"{label} was {later[0].status}{by} in force from {later[0].valid_from}: not yet in the text on {day}"
    return (f"no provision {label!r} in {doc_id} (labels look like 'Article 5(1)(f)', 'Article 3(14a)', "
            "'Recital 12', 'Annex III, point 4(a)')")

