"""Which country's own law a question asks about: RegKB holds EU law, and says so rather than answer from it.

A question about German works-council rules finds the AI Act's and the GDPR's passages on workers, and they are
close in meaning, so no cosine tells it apart from an in-scope one (README, "Honest no match": 0 of 10 such
questions were caught by the cosines). What tells it apart is that it names a country next to a word for law.
The countries, their adjectives and the words for law are data (data/national.toml), validated on load.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NATIONAL = Path(__file__).parent / "data" / "national.toml"
CUE_GAP = 3  # words between a country and a word for law: "German [labour] law", "the minimum wage [in] Spain"
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.?!;:]")


@dataclass(frozen=True)
class Country:
    name: str  # as the notice writes it: "Germany", "the Netherlands"
    say: tuple[str, ...] = ()  # its name and adjective, any case
    abbreviations: tuple[str, ...] = ()  # as written: "US", not "us"
    laws: tuple[str, ...] = ()  # its own laws by name, any case: "BDSG", "code du travail"

    def __post_init__(self) -> None:
        if not self.name or not (self.say or self.abbreviations):
            raise ValueError(f"national.toml: {self.name!r} needs a name and a way to say it")

    def pattern(self) -> re.Pattern[str]:
        names = [f"(?i:{re.escape(s)})" for s in self.say] + [re.escape(a) for a in self.abbreviations]
        return _whole(names)


@dataclass(frozen=True)
class NationalLaw:
    countries: tuple[tuple[Country, re.Pattern[str], re.Pattern[str] | None], ...]  # with name and law patterns
    cues: re.Pattern[str]

    def named(self, text: str) -> tuple[str, ...]:
        """The countries whose own law `text` asks about, in the order it names them."""
        text = text.replace("’", "'")
        cues = [m.span() for m in self.cues.finditer(text)]
        found = []
        for country, name, laws in self.countries:
            spans = [m.start() for m in name.finditer(text) if any(_near(text, m.span(), c) for c in cues)]
            spans += [m.start() for m in laws.finditer(text)] if laws else []
            if spans:
                found.append((min(spans), country.name))
        return tuple(name for _, name in sorted(found))


@lru_cache(maxsize=4)
def load_national(path: Path = NATIONAL) -> NationalLaw:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    if not raw.get("cues"):
        raise ValueError("national.toml: no `cues` (words for law)")
    countries = [Country(c["name"], tuple(c.get("say", ())), tuple(c.get("abbreviations", ())),
                         tuple(c.get("laws", ()))) for c in raw["country"]]
    return NationalLaw(tuple((c, c.pattern(), _whole([f"(?i:{re.escape(law)})" for law in c.laws]) if c.laws else None)
                             for c in countries), _whole([f"(?i:{re.escape(cue)})" for cue in raw["cues"]]))


def national_laws_named(text: str) -> tuple[str, ...]:
    """The countries whose own law a question asks about ("Under German labour law, ..." -> ("Germany",))."""
    return load_national().named(text)


def _whole(alternatives: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(" + "|".join(alternatives) + r")(?![\w-])")


def _near(text: str, name: tuple[int, int], cue: tuple[int, int]) -> bool:
    """At most CUE_GAP words between the two, and no sentence boundary."""
    gap = text[name[1]:cue[0]] if name[0] < cue[0] else text[cue[1]:name[0]]
    return len(_WORD.findall(gap)) <= CUE_GAP and not _SENTENCE_END.search(gap)
