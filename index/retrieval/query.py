"""Query understanding: what the user asked for, in the words the law uses.

Users ask "can I use a chatbot without telling customers?"; the Act says "AI
systems intended to interact directly with natural persons". A curated list of
synonyms (data, not code: index/retrieval/data/synonyms.toml) bridges that gap and says which
document governs a topic; explicit references ("Article 6(3)", "Annex III") are
recognised so they can be answered first; and the question's intent decides
whether recitals (the "why") or definitions ("what is") should lead.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

SYNONYMS = Path(__file__).parent / "data" / "synonyms.toml"
Intent = Literal["why", "definition", "action"]
KEYWORDS_ONLY = 3  # a query of at most this many words is keywords, not a question

_REFERENCE = re.compile(
    r"\b(?:(?P<article>Article|Art\.?)\s*(?P<number>\d{1,3})(?P<sub>(?:\(\w{1,4}\))*)"
    r"|(?P<annex>Annex)\s+(?P<roman>[IVXLC]+)\b"
    r"|(?P<recital>Recital)\s+(?P<recital_no>\d{1,3}))",
    re.IGNORECASE,
)
_WHY = re.compile(r"^\s*(why|what is the (reason|rationale|purpose))\b|\b(rationale|reasoning|intention of the legislator)\b", re.I)
_DEFINITION = re.compile(r"^\s*(what (is|are|does .* mean)|define|definition|meaning of|who (is|counts as))\b", re.I)
_FRENCH = re.compile(r"\b(le|la|les|des|est|une|nous|pour|dans|avec|sont|quelles?|peut|doit)\b", re.I)
_ENGLISH = re.compile(r"\b(the|is|are|we|our|for|with|can|must|do|does|what|which|how|of)\b", re.I)
_DOC_NAMES = {
    "ai-act": re.compile(r"\b(ai act|artificial intelligence act|2024/1689)\b", re.I),
    "gdpr": re.compile(r"\b(gdpr|general data protection regulation|2016/679)\b", re.I),
}


@dataclass(frozen=True)
class Citation:
    """An explicit citation in the query: unit "Article 6", label "Article 6(3)"."""

    unit: str
    label: str


@dataclass(frozen=True)
class Term:
    say: tuple[str, ...]
    means: str
    docs: tuple[str, ...] = ()

    def pattern(self) -> re.Pattern[str]:
        return re.compile(r"(?<!\w)(" + "|".join(re.escape(s) for s in self.say) + r")(?!\w)", re.I)


@dataclass(frozen=True)
class QueryPlan:
    text: str  # as the user typed it
    expanded: str  # with the law's vocabulary appended, for BM25 (the embedder reads `embedded`)
    intent: Intent
    language: str
    references: tuple[Citation, ...] = ()
    docs: tuple[str, ...] = ()  # documents the question points to, strongest first
    matched: tuple[str, ...] = ()  # glossary phrases found, for display ("chatbot -> ...")

    @property
    def embedded(self) -> str:
        """What the embedder reads: the question as typed, since appended legal terms pull a
        question towards whichever provision lists them; but a few keywords ("10^25 FLOPs") carry
        less meaning for the embedder than the glossary's gloss of them, so those read expanded."""
        return self.text if len(self.text.split()) > KEYWORDS_ONLY else self.expanded


@lru_cache(maxsize=4)
def load_synonyms(path: Path = SYNONYMS) -> tuple[tuple[Term, re.Pattern[str]], ...]:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    terms = [Term(tuple(t["say"]), t["means"], tuple(t.get("docs", ()))) for t in raw["term"]]
    return tuple((term, term.pattern()) for term in terms)


def understand(text: str, expand: bool = True) -> QueryPlan:
    additions, docs, matched = [], [], []
    if expand:
        for term, pattern in load_synonyms():
            found = pattern.search(text)
            if found:
                additions.extend([term.means] if term.means else [])
                matched.append(found.group(1))
                docs.extend(d for d in term.docs if d not in docs)
    named = [doc for doc, pattern in _DOC_NAMES.items() if pattern.search(text)]
    docs = named + [d for d in docs if d not in named]
    expanded = " ".join([text, *additions])
    return QueryPlan(text, expanded, intent_of(text), language_of(text), citations_in(text), tuple(docs),
                     tuple(matched))


def intent_of(text: str) -> Intent:
    if _WHY.search(text):
        return "why"
    if _DEFINITION.search(text):
        return "definition"
    return "action"


def language_of(text: str) -> str:
    return "fr" if len(_FRENCH.findall(text)) > len(_ENGLISH.findall(text)) else "en"


def citations_in(text: str) -> tuple[Citation, ...]:
    references = []
    for m in _REFERENCE.finditer(text):
        if m.group("article"):
            unit = f"Article {int(m.group('number'))}"
            references.append(Citation(unit, unit + m.group("sub")))
        elif m.group("annex"):
            unit = f"Annex {m.group('roman').upper()}"
            references.append(Citation(unit, unit))
        else:
            unit = f"Recital {int(m.group('recital_no'))}"
            references.append(Citation(unit, unit))
    return tuple(references)
