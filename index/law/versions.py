"""Which wording was in force on a day, and which version of a document a quote comes from.

A version is a small dated value, as in regparser (`history/versions.py`): a
document record lists its versions (the Official Journal text, then one per
amending act applied, each with the day it took effect and where EUR-Lex has it),
and every chunk carries the life of its wording (`valid_from`, `valid_to`). So
"the AI Act on 1 January 2026" is a filter over one index, not a second index,
and a quote can always say which version it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from index.model import Chunk


@dataclass(frozen=True)
class Version:
    date: str  # ISO: the day this version took effect ("" when the record gives none)
    text: str  # "as published in the Official Journal", "as amended by Regulation (EU) 2026/1744 (...)"
    url: str = ""

    def to_json(self) -> dict[str, str]:
        return {"date": self.date, "text": self.text, "url": self.url}


def today() -> str:
    return date.today().isoformat()


def parse_day(text: str) -> str:
    """An ISO date as given (YYYY-MM-DD), checked; "" stays "" (today); ValueError names what was wrong."""
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except (TypeError, ValueError) as error:
        raise ValueError(f"as-of date {text!r}: use YYYY-MM-DD, e.g. 2026-01-01") from error


def in_force(chunk: Chunk, day: str) -> bool:
    """Was this wording the text in force on `day` (ISO)? A wording is in force from valid_from, until valid_to."""
    return (not chunk.valid_from or chunk.valid_from <= day) and (not chunk.valid_to or day < chunk.valid_to)


def in_force_on(chunks: Iterable[Chunk], day: str) -> list[Chunk]:
    return [c for c in chunks if in_force(c, day)]


def versions(document: dict[str, Any]) -> list[Version]:
    """A document's versions, oldest first; one (its own date) for a document nothing amends."""
    recorded = document.get("versions") or [{"date": document.get("version_date", ""), "text": "as published",
                                             "url": document.get("landing", "")}]
    return [Version(v.get("date", ""), v.get("text", ""), v.get("url", "")) for v in recorded]


def version_on(document: dict[str, Any], day: str) -> Version:
    """The version of the document in force on `day`: the latest that had taken effect by then."""
    known = versions(document)
    taken_effect = [v for v in known if not v.date or v.date <= day]
    return taken_effect[-1] if taken_effect else known[0]

