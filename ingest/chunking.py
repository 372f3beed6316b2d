"""Citable units to indexed chunks: never a window across two provisions.

A unit longer than the embedder reads (all-MiniLM-L6-v2 stops at 256 word
pieces) is split at sentence ends and every piece keeps the unit's label; the
points of a list that are all tiny ("Chapters I and II shall apply from 2
February 2025;") fold into one chunk under their parent's label, where they
read as the list they are. The sentence introducing a list is no passage of
its own: its words reach every point of the list as the point's lead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from itertools import groupby

from index.law.labels import Label, parent
from index.model import Chunk
from ingest.model import Unit

MAX_CHARS = 700
TINY_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[A-Z(‘“«—])")

Linker = Callable[[Unit], str]


def chunk_units(doc_id: str, short: str, units: list[Unit], link: Linker) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen: Counter[str] = Counter()
    for unit in _fold_tiny_lists([u for u in units if u.role != "intro"]):
        for piece in _pieces(unit.text):
            seen[unit.label] += 1
            suffix = f"#{seen[unit.label]}" if seen[unit.label] > 1 else ""
            chunks.append(Chunk(
                id=f"{doc_id}/{unit.label}{suffix}", doc_id=doc_id, label=unit.label, unit=unit.unit,
                kind=unit.kind, heading=unit.heading, path=unit.path, text=piece, lead=unit.lead,
                passage=passage(short, unit, piece), url=link(unit), page=unit.page, order=len(chunks),
            ))
    return chunks


def passage(short: str, unit: Unit, text: str) -> str:
    """What is embedded and matched: the text with the context a reader of the page has."""
    context = " > ".join(unit.path) if unit.path else unit.unit
    return "\n".join(part for part in (f"{short} | {context} | {unit.label}", unit.lead, text) if part)


def _fold_tiny_lists(units: list[Unit]) -> list[Unit]:
    folded: list[Unit] = []
    for holder, group in groupby(units, key=lambda u: parent(u.label) if u.lead else u.label):
        members = list(group)
        if len(members) > 1 and holder != members[0].label and all(_foldable(u) for u in members):
            first = members[0]
            text = " ".join(u.text for u in members)
            folded.append(Unit(holder, first.unit, first.kind, f"{first.lead} {text}".strip(), first.heading,
                               first.path, first.anchor, first.page))
        else:
            folded.extend(members)
    return folded


def _foldable(unit: Unit) -> bool:
    """Short lettered points fold; numbered ones are definitions, each cited on its own ("Article 3(4)")."""
    points = Label.parse(unit.label).points
    return len(unit.text) < TINY_CHARS and bool(points) and points[-1].isalpha()


def _pieces(text: str) -> list[str]:
    if len(text) <= MAX_CHARS:
        return [text]
    pieces, current = [], ""
    for sentence in _SENTENCE_END.split(text):
        if current and len(current) + len(sentence) + 1 > MAX_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces
