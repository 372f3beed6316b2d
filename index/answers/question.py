"""One question answered for a reader: the results, what they cite, what they were narrowed to, the glance.

The one seam the front doors share: the CLI's `search`, the API's `/search` and
the app's Ask tab each call `answer()` with what a user typed and picked, and
render what it returns, so that related provisions, grouping and quoting cannot
differ between them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from index.answers.highlight import GlanceItem, Highlighter, at_a_glance
from index.answers.results import Result, ask, with_dates, with_related
from index.assessment.assess import Assessment, Assessor, describes_practice
from index.law.catalog import Catalog
from index.retrieval.filters import Filters
from index.retrieval.search import Mode, Searcher, SearchOptions, validate_query

DEFAULT_K = 8
KIND_NAMES = {"article": "articles", "recital": "recitals", "annex": "annexes", "section": "sections"}


@dataclass(frozen=True)
class Scope:
    """What the reader narrowed the question to; a chapter applies to one document's articles."""

    docs: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    chapter: str = ""  # "Chapter III"
    as_of: str = ""  # ISO date of the text in force to search; "" = today

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
    results = with_dates(with_related(ask(searcher, question, k, scope.filters, mode, grouped, options), catalog), catalog)
    highlighter = Highlighter(question, catalog.term_statistics)
    return Answer(question, scope, results, highlighter, at_a_glance(results, highlighter),
                  time.perf_counter() - started, verdict=verdict_for(assessor, question, scope))


def verdict_for(assessor: Assessor | None, question: str, scope: Scope) -> Assessment | None:
    """The assessment of the practice a question describes, when a category decides it; None otherwise."""
    if assessor is None or not describes_practice(question) or (scope.docs and "ai-act" not in scope.docs):
        return None
    assessment = assessor.assess(question, as_of=scope.as_of)
    return assessment if assessment.categories and assessment.risk_class != "minimal" else None
