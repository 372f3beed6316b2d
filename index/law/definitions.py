"""Defined terms, read from a document's own definitions article, found again wherever they occur.

"Deployer" in Article 26 means exactly what Article 3(4) says it means; a reader
who sees that definition next to the word needs no second tab. Definitions are
the numbered points of an article headed "Definitions" (Article 3 of the AI Act,
Article 4 of the GDPR): "(4) ‘deployer’ means ..." or, in French, "4) «déployeur», ...".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from index.law.labels import within
from index.model import Chunk

_DEFINITIONS_HEADING = re.compile(r"^d[ée]finitions?\b", re.IGNORECASE)
_DEFINITION = re.compile(
    r"(?:^|(?<=\s))\(?(?P<number>\d+)\)\s*"
    r"(?:[‘“](?P<term>[^’”]{1,80})[’”](?P<qualifier>[^‘’;]{0,60}?)\bmeans\b"  # (4) ‘deployer’ means
    r"|«\s*(?P<terme>[^»]{1,80}?)\s*»\s*,)"  # 4) «déployeur», une personne
)


@dataclass(frozen=True)
class Definition:
    term: str  # "deployer"
    label: str  # where it is defined: "Article 3(4)"
    text: str  # the definition as written: "‘deployer’ means a natural or legal person ..."
    general: bool = True  # False for "‘subject’, for the purpose of real-world testing, means": not marked


@dataclass(frozen=True)
class TermUse:
    start: int
    end: int
    definition: Definition


@dataclass(frozen=True)
class Glossary:
    definitions: tuple[Definition, ...] = ()

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        """One alternation, longest term first, so "general-purpose AI model" wins over "AI model"."""
        terms = sorted({d.term for d in self.definitions if d.general}, key=len, reverse=True)
        if not terms:
            return None
        alternatives = "|".join(re.escape(t) for t in terms)
        return re.compile(rf"(?<![\w-])(?P<term>{alternatives})(?:s|es)?(?![\w-])", re.IGNORECASE)

    @cached_property
    def _by_term(self) -> dict[str, Definition]:
        return {d.term.lower(): d for d in self.definitions}

    def uses(self, text: str) -> list[TermUse]:
        """Every occurrence of a defined term (plural included) in `text`, left to right."""
        if self._pattern is None:
            return []
        return [TermUse(m.start(), m.end(), self._by_term[m["term"].lower()]) for m in self._pattern.finditer(text)]

    def defined_in(self, label: str) -> bool:
        """True for the definitions article itself, where explaining terms again is noise."""
        return any(within(d.label, label) for d in self.definitions)


def in_definitions_article(chunk: Chunk) -> bool:
    return bool(_DEFINITIONS_HEADING.match(chunk.heading))


def glossary_of(chunks: list[Chunk]) -> Glossary:
    """The glossary of one document: the points of its definitions article, in order."""
    definitions: list[Definition] = []
    for label, text in _passages_by_label(c for c in chunks if in_definitions_article(c)):
        definitions.extend(definitions_in(label, text))
    return Glossary(tuple(definitions))


def definitions_in(label: str, text: str) -> list[Definition]:
    """The definitions in one passage; several in one passage are cited as points of it."""
    found = list(_DEFINITION.finditer(text))
    definitions = []
    for match, following in zip(found, [*found[1:], None]):
        body = text[match.start():following.start() if following else len(text)]
        wording = re.sub(r"^\(?\d+\)\s*", "", body).strip().rstrip(";").rstrip()
        cited = label if len(found) == 1 else f"{label}, point ({match.group('number')})"
        general = "for the purpose" not in (match.group("qualifier") or "")
        definitions.append(Definition(match.group("term") or match.group("terme"), cited, wording, general))
    return definitions


def _passages_by_label(chunks: Iterable[Chunk]) -> list[tuple[str, str]]:
    """A long definition is split over several chunks with one label: put it back together."""
    joined: dict[str, list[str]] = {}
    for chunk in chunks:
        joined.setdefault(chunk.label, []).append(chunk.text)
    return [(label, " ".join(parts)) for label, parts in joined.items()]
