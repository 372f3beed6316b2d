"""One question answered for a reader: the results, what they cite, what they were narrowed to, the glance.

The one seam the front doors share: the CLI's `search`, the API's `/search` and
the app's Ask tab each call `answer()` with what a user typed and picked, and
render what it returns, so that related provisions, grouping and quoting cannot
differ between them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from index.answers.highlight import GlanceItem, Highlighter, at_a_glance
from index.answers.results import Result, ask_with_evidence, with_dates, with_related
from index.assessment.assess import Assessment, Assessor, DatedDuty, asks_for_duties, describes_practice
from index.law.catalog import Catalog
from index.law.labels import within
from index.law.obligations import AI_ACT
from index.model import Chunk
from index.retrieval.filters import Filters
from index.retrieval.search import Evidence, Mode, Searcher, SearchOptions, validate_query

DEFAULT_K = 8
KIND_NAMES = {"article": "articles", "recital": "recitals", "annex": "annexes", "section": "sections"}


@dataclass(frozen=True)
class Scope:
    """What the reader narrowed the question to; a chapter applies to one document's articles."""

    docs: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    chapter: str = ""  # "Chapter III"
    as_of: str = ""  # ISO date of the text in force to search; "" = today

    def to_json(self) -> dict[str, Any]:
        return {"doc": list(self.docs), "kind": list(self.kinds), "chapter": self.chapter, "as_of": self.as_of}

    @property
    def filters(self) -> Filters:
        return Filters(self.docs, self.kinds, (self.chapter,) if self.chapter else (), self.as_of)

    def describe(self, catalog: Catalog) -> str:
        """ "AI Act · articles · Chapter III", or "all documents"."""
        parts = [", ".join(catalog.short_name(d) for d in self.docs) or "all documents"]
        parts += [", ".join(KIND_NAMES.get(k, k) for k in self.kinds)] if self.kinds else []
        parts += [self.chapter] if self.chapter else []
        parts += [f"text in force on {self.as_of}"] if self.as_of else []
        return " · ".join(parts)


@dataclass(frozen=True)
class Answer:
    question: str  # as searched: whitespace collapsed
    scope: Scope
    results: list[Result]
    highlighter: Highlighter
    glance: list[GlanceItem]
    seconds: float
    verdict: Assessment | None = None  # for a question describing the asker's practice: what decides it
    asked_duty: DatedDuty | None = None  # the verdict's duty the question is about, when the results point to one
    verdict_leads: bool = False  # the verdict card opens the page; else it follows the first result
    evidence: Evidence | None = None  # how close the corpus came: `weak` when nothing in it answers clearly

    @property
    def weak(self) -> bool:
        """Nothing in the corpus answers this clearly, and no verdict either: say so before the closest passages."""
        return bool(self.evidence and self.evidence.weak and not self.verdict)

    @property
    def unheld(self) -> tuple[str, ...]:
        return self.evidence.unheld if self.evidence else ()

    @property
    def deciding(self) -> str:
        """The provision the page leads with: the duty asked about, else the verdict's category, else the first
        result."""
        if self.verdict and self.verdict_leads:
            return self.asked_duty.duty.label if self.asked_duty else self.verdict.categories[0].category.label
        return self.results[0].hit.chunk.label if self.results else ""
    asked: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def answer(searcher: Searcher, catalog: Catalog, question: str, scope: Scope = Scope(), k: int = DEFAULT_K,
           mode: Mode = "hybrid", grouped: bool = True, options: SearchOptions = SearchOptions(),
           assessor: Assessor | None = None) -> Answer:
    """Search, group by provision, follow cross-references, and quote; QueryError for an unusable question.

    With an assessor, a question that describes the asker's own practice ("Can we monitor
    employees' emotions?") also gets the verdict of the provision that decides it, when one matches.
    """
    started = time.perf_counter()
    question = validate_query(question, k)
    found, evidence = ask_with_evidence(searcher, question, k, scope.filters, mode, grouped, options)
    results = with_dates(with_related(found, catalog), catalog)
    highlighter = Highlighter(question, catalog.term_statistics)
    verdict = verdict_for(assessor, question, scope)
    duty = asked_duty(verdict, results)
    answered = Answer(question, scope, results, highlighter, [], 0.0, verdict=verdict, asked_duty=duty,
                      verdict_leads=leads(verdict, duty, results, question), evidence=evidence)
    glance = at_a_glance(results, highlighter, deciding=deciding_passage(answered, catalog))
    return replace(answered, glance=glance, seconds=time.perf_counter() - started)


def no_match_notice(catalog: Catalog, unheld: tuple[str, ...] = ()) -> str:
    """What a reader is told when the evidence is weak: that nothing here answers, which act the question is about
    that the corpus does not hold (`Evidence.unheld`), and what it holds."""
    held = ", ".join(d.get("short") or d["doc_id"] for d in catalog.documents)
    missing = f"RegKB does not hold the {' or the '.join(unheld)}. " if unheld else ""
    return (f"{missing}Nothing in the corpus answers this clearly. It holds: {held}. The closest passages follow; "
            "they may not be about your question.")


def leads(verdict: Assessment | None, duty: DatedDuty | None, results: list[Result], question: str,
          among: int = 3) -> bool:
    """Does the verdict open the page? A prohibition always does: it outranks duties that presuppose the practice
    is allowed. Otherwise when it names the duty asked about, its category is among the first results, or the
    question asks for the duties as a whole; a question whose results point elsewhere ("can we pilot it with real
    users?") is about something else."""
    if verdict is None:
        return False
    if verdict.risk_class == "prohibited" or duty is not None or asks_for_duties(question):
        return True
    return any(_is_category(r.hit.chunk, verdict) for r in results[:among])


def asked_duty(verdict: Assessment | None, results: list[Result], among: int = 3) -> DatedDuty | None:
    """The verdict's duty that one of the first results is part of ("Do we have to inform staff?": Article 26(7));
    None when the category itself comes first (the question is about what the system is)."""
    if verdict is None:
        return None
    category = verdict.categories[0].category
    specific = [d for d in verdict.duties if "every-system" not in d.duty.selectors
                and not any(within(p, d.duty.label) for p in category.provisions)]  # not Article 5 for 5(1)(f)
    for result in results[:among]:
        chunk = result.hit.chunk
        if _is_category(chunk, verdict):
            return None
        found = next((d for d in specific if d.duty.doc == chunk.doc_id and _overlaps(chunk.label, d.duty.label)),
                     None)
        if found:
            return found
    return None


def _is_category(chunk: Chunk, verdict: Assessment) -> bool:
    """Is this passage part of (or the whole of) a provision the verdict's category rests on?"""
    return chunk.doc_id == AI_ACT and any(_overlaps(chunk.label, p) for p in verdict.categories[0].category.provisions)


def _overlaps(a: str, b: str) -> bool:
    return within(a, b) or within(b, a)


def deciding_passage(found: Answer, catalog: Catalog) -> tuple[Chunk, str] | None:
    """The passage of the provision the page leads with, with its citation, to quote first; None unless a verdict
    leads."""
    if found.verdict is None or not found.verdict_leads:
        return None
    doc = found.asked_duty.duty.doc if found.asked_duty else AI_ACT
    chunks = catalog.chunks(doc, found.deciding)
    return (chunks[0], f"{chunks[0].label} {catalog.short_name(doc)}") if chunks else None


def verdict_for(assessor: Assessor | None, question: str, scope: Scope) -> Assessment | None:
    """The assessment of the practice a question describes, when a category decides it and the question uses
    the category's own words ("emotions", "CV", "chatbot"); None otherwise. A question about a duty ("how many
    days to report an incident?") resembles some category without naming a practice: no verdict for it."""
    if assessor is None or not describes_practice(question) or (scope.docs and "ai-act" not in scope.docs):
        return None
    assessment = assessor.assess(question, as_of=scope.as_of)
    decisive = assessment.categories[0] if assessment.categories else None
    names_it = decisive is not None and (bool(decisive.category.required)  # admitted: its element is named
                                         or any(e.kind == "cue" for e in decisive.evidence))
    return assessment if names_it and assessment.risk_class != "minimal" else None
