"""What applies when: the dates of an act's "entry into force and application" article, read from its text.

Article 113 of the AI Act says "It shall apply from 2 August 2026. However: (a)
Chapters I and II shall apply from 2 February 2025; ...". Each clause with a date
becomes a milestone linked to the provisions it names, its exceptions kept
("with the exception of Article 101"). Entry into force "on the twentieth day
following that of its publication" is dated from the document's recorded
version date, and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from index.law.catalog import Catalog, TocEntry, reading_order
from index.law.references import Reference, references_in

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = rf"\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}}"
_APPLIES = re.compile(rf"(?P<subject>[^.;:]*?)\s+(?:shall\s+apply|applies)\s+from\s+(?P<date>{_DATE})(?P<rest>[^.;]*)")
_IN_FORCE = re.compile(
    rf"(?P<subject>[^.;:]*?)\s+shall\s+enter\s+into\s+force\s+on\s+(?:(?P<date>{_DATE})|the\s+(?P<ordinal>\w+)\s+day\s+"
    r"following\s+(?:that\s+of\s+)?its\s+publication)[^.;]*"
)
_APPLICATION_HEADING = re.compile(r"entry into force|application", re.IGNORECASE)
_EXCEPTION = re.compile(r"\b(?:with\s+the\s+exception\s+of|except)\b(?P<excepted>.*)", re.IGNORECASE)
_POINT_MARKER = re.compile(r"^\s*\(\w{1,4}\)\s*")
_WHOLE_ACT = re.compile(r"^(?:It|This\s+\w+)$")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fifth": 5, "seventh": 7, "tenth": 10, "fifteenth": 15,
            "twentieth": 20, "thirtieth": 30}


@dataclass(frozen=True)
class Milestone:
    day: date
    event: str  # "Entry into force", "Application"
    quote: str  # the clause that says so, as written
    covers: tuple[Reference, ...] = ()  # empty: the act as a whole
    excepted: tuple[Reference, ...] = ()
    note: str = ""  # how a computed date was computed


@dataclass(frozen=True)
class Timeline:
    doc_id: str
    source: TocEntry  # the article the dates come from
    milestones: tuple[Milestone, ...]


def timeline(catalog: Catalog, doc_id: str) -> Timeline | None:
    """The dated milestones of a document, earliest first; None when it has no dated application clause."""
    source = application_article(catalog, doc_id)
    if source is None:
        return None
    text = unit_text(catalog, doc_id, source.unit)
    published = _version_date(catalog, doc_id)
    milestones = [*_entry_into_force(text, published), *_application_dates(text, doc_id, catalog)]
    return Timeline(doc_id, source, tuple(sorted(milestones, key=lambda m: m.day))) if milestones else None


def application_article(catalog: Catalog, doc_id: str) -> TocEntry | None:
    """The article headed "Entry into force and application", else the last one that says "shall apply from <date>"."""
    articles = [e for e in catalog.contents.get(doc_id, ()) if e.kind == "article"]
    headed = [e for e in articles if _APPLICATION_HEADING.search(e.title)]
    dated = [e for e in headed or articles if _APPLIES.search(unit_text(catalog, doc_id, e.unit))]
    return dated[-1] if dated else None


def unit_text(catalog: Catalog, doc_id: str, unit: str) -> str:
    """A provision's wording in reading order, each introductory sentence once."""
    return " ".join(f"{lead} {chunk.text}" if lead else chunk.text
                    for lead, chunk in reading_order(catalog.chunks(doc_id, unit)))


def _application_dates(text: str, doc_id: str, catalog: Catalog) -> list[Milestone]:
    milestones = []
    for match in _APPLIES.finditer(text):
        subject = _POINT_MARKER.sub("", match["subject"]).strip()
        exception = _EXCEPTION.search(match["rest"])
        milestones.append(Milestone(
            day=_parse_date(match["date"]),
            event="Application",
            quote=_POINT_MARKER.sub("", match.group(0)).strip(),
            covers=() if _WHOLE_ACT.match(subject) else tuple(references_in(subject, doc_id, catalog)),
            excepted=tuple(references_in(exception["excepted"], doc_id, catalog)) if exception else (),
        ))
    return milestones


def _entry_into_force(text: str, published: date | None) -> list[Milestone]:
    match = _IN_FORCE.search(text)
    if match is None:
        return []
    quote = match.group(0).strip()
    if match["date"]:
        return [Milestone(_parse_date(match["date"]), "Entry into force", quote)]
    days = ORDINALS.get(match["ordinal"].lower())
    if days is None or published is None:
        return []
    note = (f"computed: the {match['ordinal']} day following {published.day} {published:%B %Y}, "
            "the publication date recorded for this document")
    return [Milestone(published + timedelta(days=days), "Entry into force", quote, note=note)]


def _version_date(catalog: Catalog, doc_id: str) -> date | None:
    recorded = catalog.document(doc_id).get("version_date") or ""
    try:
        return date.fromisoformat(recorded)
    except ValueError:
        return None


def _parse_date(text: str) -> date:
    return datetime.strptime(" ".join(text.split()), "%d %B %Y").date()
