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
from dataclasses import replace
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
        label = unit.label + _expression(unit)
        for piece in _pieces(unit.text):
            seen[label] += 1
            suffix = f"#{seen[label]}" if seen[label] > 1 else ""
            chunks.append(Chunk(
                id=f"{doc_id}/{label}{suffix}", doc_id=doc_id, label=unit.label, unit=unit.unit,
                kind=unit.kind, heading=unit.heading, path=unit.path, text=piece, lead=unit.lead,
                passage=passage(short, unit, piece), url=link(unit), page=unit.page, order=len(chunks),
                valid_from=unit.valid_from, valid_to=unit.valid_to, status=unit.status, amended_by=unit.amended_by,
            ))
    return chunks


def _expression(unit: Unit) -> str:
    """A superseded wording's id says which version it was ("Article 10(5)@original"), as cobalt's FRBR
    expressions do, so the text in force keeps the plain id and re-ingesting renumbers nothing."""
    if not unit.valid_to:
        return ""
    return f"@{unit.valid_from or 'original'}"


def passage(short: str, unit: Unit, text: str) -> str:
    """What is embedded and matched: the text with the context a reader of the page has."""
    context = " > ".join(unit.path) if unit.path else unit.unit
    return "\n".join(part for part in (f"{short} | {context} | {unit.label}", unit.lead, text) if part)


def _fold_tiny_lists(units: list[Unit]) -> list[Unit]:
    folded: list[Unit] = []
    for holder, group in groupby(units, key=lambda u: parent(u.label) if u.lead else u.label):
        members = list(group)
        if len(members) > 1 and holder != members[0].label and all(_foldable(u) for u in members) \
                and len({_life(u) for u in members}) == 1:
            first = members[0]
            text = " ".join(u.text for u in members)
            folded.append(replace(first, label=holder, text=f"{first.lead} {text}".strip(), lead=""))
        else:
            folded.extend(members)
    return folded


def _life(unit: Unit) -> tuple:
    """Points with different histories stay apart: each keeps its own status and amendment."""
    return unit.valid_from, unit.valid_to, unit.status, unit.amended_by


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
