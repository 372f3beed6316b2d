"""What applies when: the dates of an act's "entry into force and application" article, read from its text.

Article 113 of the AI Act says "It shall apply from 2 August 2026. However: (a)
Chapters I and II shall apply from 2 February 2025; ...". Each clause with a date
becomes a milestone linked to the provisions it names, its exceptions kept
("with the exception of Article 101"); an exception with a date of its own
("... and Article 5(1a) and (1b) which shall apply from 2 December 2026") and a
date with conditions ("shall apply from: (i) 2 December 2027 as regards ... Annex
III") become milestones of their own. The catalog given is the text in force on
the day asked, so the dates are those of the article as amended; a milestone an
amending act moved carries the date it replaced. Entry into force "on the
twentieth day following that of its publication" is dated from the document's
recorded version date, and says so.

An act's transitional article ("AI systems already placed on the market...")
adds deadlines for what was on the market before: each sentence that says "by
<date>" becomes a "Transitional period" milestone covering the provisions it
names, and the chapter whose subject it names ("high-risk AI systems": Chapter
III, as the chapter's own title says).

`applies_from` turns the milestones into the dates one provision applies from:
the most specific clause that names it (or its chapter or section), each date
with its condition, else the act's general date; then the transitional deadlines
that cover it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from index.law.catalog import Catalog, TocEntry, unit_text
from index.law.labels import Label, container_label, unit_of, within
from index.law.references import Reference, references_in

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = rf"\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}}"
_APPLY = r"(?:shall\s+apply|applies)\s+from"
_APPLIES = re.compile(rf"(?P<subject>[^.;:]*?)\s+{_APPLY}\s+(?P<date>{_DATE})(?P<rest>(?:(?!\bwhich\s+{_APPLY})[^.;])*)"
                      rf"(?:\bwhich\s+{_APPLY}\s+(?P<own_date>{_DATE}))?")
_APPLIES_IN_CASES = re.compile(rf"(?P<subject>[^.;:]*?)\s+{_APPLY}:\s*(?P<cases>(?:\(\w{{1,4}}\)\s*{_DATE}[^;.]*[;.]?"
                               r"\s*(?:and\s+|or\s+)?)+)")
_CASE = re.compile(rf"\((?P<marker>\w{{1,4}})\)\s*(?P<date>{_DATE})\s*(?P<condition>[^;.]*)")
_IN_FORCE = re.compile(
    rf"(?P<subject>[^.;:]*?)\s+shall\s+enter\s+into\s+force\s+on\s+(?:(?P<date>{_DATE})|the\s+(?P<ordinal>\w+)\s+day\s+"
    r"following\s+(?:that\s+of\s+)?its\s+publication)[^.;]*"
)
_APPLICATION_HEADING = re.compile(r"entry into force|application", re.IGNORECASE)
_TRANSITIONAL_HEADING = re.compile(r"already placed on the market|transitional", re.IGNORECASE)
_BY_DATE = re.compile(rf"[^.;]*?\bby\s+(?P<date>{_DATE})[^.;]*")
_WITHOUT_PREJUDICE = re.compile(r"^\s*Without\s+prejudice\s+to\s+[^,]*(?:,\s*(?:\w+\s+paragraph|point\s+\(\w+\)))*,\s*",
                                re.IGNORECASE)
_EXCEPTION = re.compile(r"\b(?:with\s+the\s+exception\s+of|except)\b(?P<excepted>.*)", re.IGNORECASE)
_POINT_MARKER = re.compile(r"^\s*\(\w{1,4}\)\s*")
_WHOLE_ACT = re.compile(r"^(?:It|This\s+\w+)$")
TRANSITIONAL = "Transitional period"
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
    condition: str = ""  # "as regards AI systems classified as high-risk pursuant to Article 6(2) and Annex III"
    previous_day: date | None = None  # the date an amending act replaced, for the same provisions
    source: str = ""  # the provision that says so when it is not the application article: "Article 111(4)"

    def to_json(self) -> dict[str, object]:
        return {"date": self.day.isoformat(), "event": self.event, "text": self.quote,
                "covers": [r.label for r in self.covers], "except": [r.label for r in self.excepted],
                "condition": self.condition, "note": self.note,
                "previous_date": self.previous_day.isoformat() if self.previous_day else None,
                **({"source": self.source} if self.source else {})}


@dataclass(frozen=True)
class AppliesFrom:
    day: date
    condition: str  # "as regards ...", "the general date of application", ...
    source: str = ""  # the provision that says so, as in force: "Article 113"
    clause: str = field(default="", compare=False)  # the words of `source` that say so (a "when" question's answer)

    def to_json(self) -> dict[str, str]:
        return {"date": self.day.isoformat(), "condition": self.condition, "source": self.source}


@dataclass(frozen=True)
class Timeline:
    doc_id: str
    source: TocEntry  # the article the dates come from
    milestones: tuple[Milestone, ...]


def timeline(catalog: Catalog, doc_id: str, before: Catalog | None = None) -> Timeline | None:
    """The dated milestones of a document, earliest first; None when it has no dated application clause.

    `catalog` holds the text in force on the day asked; `before`, when given, the text
    before the last amendment, so that each date an amendment moved says what it was.
    """
    if before is None:
        return catalog.derived(("timeline", doc_id), lambda: _timeline(catalog, doc_id))
    return _timeline(catalog, doc_id, before)


def _timeline(catalog: Catalog, doc_id: str, before: Catalog | None = None) -> Timeline | None:
    source = application_article(catalog, doc_id)
    if source is None:
        return None
    text = unit_text(catalog, doc_id, source.unit)
    published = _version_date(catalog, doc_id)
    milestones = [*_entry_into_force(text, published), *_application_dates(text, doc_id, catalog),
                  *_transitional_deadlines(catalog, doc_id)]
    if before is not None and (earlier := timeline(before, doc_id)) is not None:
        milestones = [_with_previous_day(m, earlier, before) for m in milestones]
    return Timeline(doc_id, source, tuple(sorted(milestones, key=lambda m: m.day))) if milestones else None


def applies_from(catalog: Catalog, dates: Timeline | None, label: str) -> list[AppliesFrom]:
    """The dates `label` applies from, each with its condition, read from the application article in force.

    The most specific clause wins: one naming the provision beats one naming its
    section, which beats one naming its chapter; a clause that excepts the provision
    does not count; with none, the act's general date. Clauses that date a part of
    the provision ("Article 5(1)(ba)" inside "Article 5") are added, naming that part.
    Recitals apply from no date: they explain, they do not bind. Transitional
    deadlines that cover the provision follow, each naming its source.
    """
    if dates is None or label.startswith("Recital"):
        return []
    application = [m for m in dates.milestones if m.event == "Application"]
    ranked = [(rank, m) for m in application if m.covers and (rank := _specificity(catalog, dates.doc_id, label, m))]
    best = max((rank for rank, _ in ranked), default=0)
    source = dates.source.unit
    chosen = [AppliesFrom(m.day, m.condition or m.quote, source, m.quote) for rank, m in ranked if rank == best]
    if not chosen:
        chosen = [AppliesFrom(m.day, "the general date of application", source, m.quote)
                  for m in application if not m.covers]
    parts = [AppliesFrom(m.day, f"{named}{m.condition or m.quote}", source, m.quote)
             for m in application if (named := _parts_named(m, label))]
    transitional = [AppliesFrom(m.day, f"{_parts_named(m, label)}transitional period: {m.quote}", m.source, m.quote)
                    for m in dates.milestones if m.event == TRANSITIONAL
                    and (_specificity(catalog, dates.doc_id, label, m) or _parts_named(m, label))]
    return list(dict.fromkeys([*chosen, *parts, *transitional]))


def _parts_named(milestone: Milestone, label: str) -> str:
    """ "Article 5(1)(ba): " when the milestone covers parts of `label` but not `label` itself; else ""."""
    if any(within(label, r.label) for r in milestone.covers):
        return ""
    inside = [r.label for r in milestone.covers if within(r.label, label) and r.label != label]
    return f"{', '.join(inside)}: " if inside else ""


def _specificity(catalog: Catalog, doc_id: str, label: str, milestone: Milestone) -> int:
    """How closely a clause names `label`: 3 and up for the provision itself, 2 its section, 1 its chapter, 0 not."""
    if any(within(label, r.label) for r in milestone.excepted):
        return 0
    entry = catalog.entry(doc_id, unit_of(label))
    chapter, section = (entry.chapter, entry.section) if entry else ("", "")
    ranks = [3 + len(Label.parse(r.label).points) if within(label, r.label)
             else 2 if section and r.label == container_label(chapter, section)
             else 1 if chapter and r.label == chapter else 0 for r in milestone.covers]
    return max(ranks, default=0)


def _with_previous_day(milestone: Milestone, earlier: Timeline, before: Catalog) -> Milestone:
    """The date the earlier text gave the same provisions, when it differed and they existed then.

    The provisions are those the clause's condition names ("... pursuant to Article 6(1)
    and Annex I": the old text dated Article 6(1)), else those it covers.
    """
    if milestone.event != "Application":
        return milestone
    probes = references_in(milestone.condition, earlier.doc_id, before) if milestone.condition else []
    probes = [r for r in probes if r.label.startswith("Article")] or list(milestone.covers)
    for probe in probes:
        if before.exists(earlier.doc_id, probe.label):
            old = applies_from(before, earlier, probe.label)
            if old and old[0].day != milestone.day:
                return replace(milestone, previous_day=old[0].day)
            return milestone
    return milestone


def application_article(catalog: Catalog, doc_id: str) -> TocEntry | None:
    """The article headed "Entry into force and application", else the last one that says "shall apply from <date>"."""
    articles = [e for e in catalog.contents.get(doc_id, ()) if e.kind == "article"]
    headed = [e for e in articles if _APPLICATION_HEADING.search(e.title)]
    dated = [e for e in headed or articles if _APPLIES.search(unit_text(catalog, doc_id, e.unit))]
    return dated[-1] if dated else None


def _transitional_deadlines(catalog: Catalog, doc_id: str) -> list[Milestone]:
    """ "Providers of ... placed on the market before D1 shall ... comply with Article 50(2) by D2": one milestone each."""
    articles = [e for e in catalog.contents.get(doc_id, ()) if e.kind == "article"]
    found = []
    for entry in (e for e in articles if _TRANSITIONAL_HEADING.search(e.title)):
        for chunk in catalog.chunks(doc_id, entry.unit):
            for match in _BY_DATE.finditer(chunk.text):
                sentence = _WITHOUT_PREJUDICE.sub("", _POINT_MARKER.sub("", match.group(0))).strip()
                covers = (*references_in(sentence, doc_id, catalog), *_chapters_named(sentence, doc_id, catalog))
                if covers:
                    found.append(Milestone(_parse_date(match["date"]), TRANSITIONAL, sentence, tuple(covers),
                                           source=chunk.label))
    return found


def _chapters_named(sentence: str, doc_id: str, catalog: Catalog) -> list[Reference]:
    """The chapters whose subject the sentence names: "high-risk AI systems" is Chapter III's title."""
    lowered = " ".join(sentence.lower().split())
    return [Reference(doc_id, chapter) for chapter, title in catalog.chapters(doc_id).items()
            if (subject := title.partition("—")[2].strip().lower()) and subject in lowered]


def _application_dates(text: str, doc_id: str, catalog: Catalog) -> list[Milestone]:
    milestones = []
    for match in _APPLIES_IN_CASES.finditer(text):
        milestones.extend(_cases(match, doc_id, catalog))
    for match in _APPLIES.finditer(_APPLIES_IN_CASES.sub(" ", text)):
        milestones.extend(_clause(match, doc_id, catalog))
    return milestones


def _clause(match: re.Match[str], doc_id: str, catalog: Catalog) -> list[Milestone]:
    """ "X shall apply from D, with the exception of Y [which shall apply from D2]": one or two milestones."""
    subject = _POINT_MARKER.sub("", match["subject"]).strip()
    exception = _EXCEPTION.search(match["rest"])
    excepted = tuple(references_in(exception["excepted"], doc_id, catalog)) if exception else ()
    quote = _POINT_MARKER.sub("", match.group(0)).strip()
    found = [Milestone(_parse_date(match["date"]), "Application", quote, _covers(subject, doc_id, catalog), excepted)]
    if match["own_date"] and excepted:
        found.append(Milestone(_parse_date(match["own_date"]), "Application", quote, excepted))
    return found


def _cases(match: re.Match[str], doc_id: str, catalog: Catalog) -> list[Milestone]:
    """ "X shall apply from: (i) D1 as regards A; and (ii) D2 as regards B": a milestone per case, with its condition."""
    subject = _POINT_MARKER.sub("", match["subject"]).strip()
    exception = _EXCEPTION.search(subject)
    excepted = tuple(references_in(exception["excepted"], doc_id, catalog)) if exception else ()
    covers = _covers(_EXCEPTION.sub("", subject).strip(" ,"), doc_id, catalog)
    quote = _POINT_MARKER.sub("", match.group(0)).strip()
    return [Milestone(_parse_date(case["date"]), "Application", quote, covers, excepted,
                      condition=case["condition"].strip(" ,;").removesuffix(" and").removesuffix(" or"))
            for case in _CASE.finditer(match["cases"])]


def _covers(subject: str, doc_id: str, catalog: Catalog) -> tuple[Reference, ...]:
    return () if _WHOLE_ACT.match(subject) else tuple(references_in(subject, doc_id, catalog))


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
