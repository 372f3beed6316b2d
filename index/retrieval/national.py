"""Which country's own law a question asks about: RegKB holds EU law, and says so rather than answer from it.

A question about German works-council rules finds the AI Act's and the GDPR's passages on workers, and they are
close in meaning, so no cosine tells it apart from an in-scope one (README, "Honest no match": the cosines caught
none of the first out-of-scope set's ten such questions). What tells it apart is a country qualifying a word for
law: "German labour law", "the minimum wage in Spain", « la loi française ». A country named anywhere else ("our
German subsidiary", "the French text of the Act") says nothing of the kind. The countries and the words are data
(data/national.toml), validated on load; each shape is one regular expression, one scan of the question.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NATIONAL = Path(__file__).parent / "data" / "national.toml"
BETWEEN = r"(?:[\w'-]+\s+){0,2}"  # "German [labour] law", "Swiss [federal] law": at most two words, no punctuation
_SENTENCE = re.compile(r"[.?!;]")


@dataclass(frozen=True)
class NationalLaw:
    countries: dict[str, str]  # each way of naming a country, lowercased (abbreviations as written) -> its name
    law: re.Pattern[str]  # a country qualifying a word for law, in any of the three shapes
    laws: dict[str, str]  # a country's own laws by name, lowercased ("bdsg", "code du travail") -> the country
    named_law: re.Pattern[str] | None  # any of `laws`
    not_cues: re.Pattern[str] | None  # phrases that hold a cue and are something else ("law enforcement")
    mention: re.Pattern[str]  # a country named at all
    topic: re.Pattern[str] | None  # what only national law governs ("minimum wage"): a country in its sentence

    def named(self, text: str) -> tuple[str, ...]:
        """The countries whose own law `text` asks about, in the order it names them."""
        text = text.replace("’", "'")
        if self.not_cues:
            text = self.not_cues.sub(lambda m: " " * len(m[0]), text)
        found = [(m.start(), self._country(next(g for g in m.groups() if g))) for m in self.law.finditer(text)]
        found += [(m.start(), self.laws[m[0].lower()]) for m in self.named_law.finditer(text)] if self.named_law else []
        if self.topic:
            start = 0
            for sentence in _SENTENCE.split(text):
                if self.topic.search(sentence):
                    found += [(start + m.start(), self._country(m[0])) for m in self.mention.finditer(sentence)]
                start += len(sentence) + 1
        return tuple(dict.fromkeys(country for _, country in sorted(found)))

    def mentioned(self, text: str) -> tuple[str, ...]:
        """The countries `text` names at all (a document's title: "UK ICO guidance on data protection law")."""
        return tuple(dict.fromkeys(self._country(m[0]) for m in self.mention.finditer(text.replace("’", "'"))))

    def _country(self, said: str) -> str:
        return self.countries.get(said) or self.countries[said.lower()]


@lru_cache(maxsize=4)
def load_national(path: Path = NATIONAL) -> NationalLaw:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    for country in raw.get("country", []):
        if not country.get("name") or not (country.get("say") or country.get("abbreviations")):
            raise ValueError(f"{path.name}: country {country.get('name', '')!r} needs a name and a way to say it")
    if not (raw.get("country") and raw.get("cues") and raw.get("cues_after")):
        raise ValueError(f"{path.name}: needs countries, `cues` and `cues_after`")
    countries = {**{s.lower(): c["name"] for c in raw["country"] for s in c.get("say", ())},
                 **{a: c["name"] for c in raw["country"] for a in c.get("abbreviations", ())}}
    laws = {law.lower(): c["name"] for c in raw["country"] for law in c.get("laws", ())}
    cues, after = raw["cues"], raw["cues_after"]
    said = _alternatives([s for s in countries if s.lower() == s], [s for s in countries if s.lower() != s])
    cue, cue_after = _alternatives(cues), _alternatives(after)
    law = _whole(rf"({said})\s+{BETWEEN}(?:{cue})"  # German [labour] law
                 rf"|(?:{cue})\s+(?:of|in)\s+(?:the\s+)?({said})"  # the minimum wage in Spain
                 rf"|(?:{cue_after})\s+({said})")  # la loi française
    return NationalLaw(countries, law, laws, whole_words(list(laws)) if laws else None,
                       whole_words(raw["not_cues"]) if raw.get("not_cues") else None, _whole(f"({said})"),
                       whole_words(raw["topics"]) if raw.get("topics") else None)


def national_laws_named(text: str) -> tuple[str, ...]:
    """The countries whose own law a question asks about ("Under German labour law, ..." -> ("Germany",))."""
    return load_national().named(text)


def countries_mentioned(text: str) -> tuple[str, ...]:
    """The countries a text names at all."""
    return load_national().mentioned(text)


def whole_words(any_case: Sequence[str], as_written: Sequence[str] = ()) -> re.Pattern[str]:
    """Any of the phrases as whole words: "DSA" is not in "DSAR", "law" not in "by-law"; `as_written` keep
    their case ("US" is not "us"). The convention of every list of names RegKB reads (acts.toml too)."""
    return _whole(f"({_alternatives(any_case, as_written)})")


def _whole(alternation: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])")


def _alternatives(any_case: Sequence[str], as_written: Sequence[str] = ()) -> str:
    """One regular-expression alternation, longest first so that "labour law" wins over "law"."""
    def longest_first(words: Sequence[str]) -> list[str]:
        return sorted(words, key=len, reverse=True)

    return "|".join([f"(?i:{re.escape(w)})" for w in longest_first(any_case)]
                    + [re.escape(w) for w in longest_first(as_written)])
