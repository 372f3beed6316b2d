"""Questions readers ask, written per provision: the everyday words a provision's own wording lacks.

"Can I take my workout history to a rival app?" is answered by the GDPR's right to data
portability, whose text speaks of "a structured, commonly used and machine-readable format";
neither embedding model bridges that gap reliably, and BM25 cannot. So each article and annex
of the acts has a handful of questions (data/phrasings.toml), written from the official text
alone by writers who had seen neither RegKB nor any of its question sets: document expansion
by hand (doc2query, Nogueira et al., 2019). A question close to one of them finds the provision
it was written for, as one more ranking per model in the fusion (retrieval/search.py).

The questions are embedded as queries are (E5's "query: "): a question is compared with the
questions written in its language (French ones for the AI Act's French text, English ones for
both acts), or with all of them in a language none is written in. Their vectors are cached in
the data directory under a key of their text and the model; ingest makes them, so a server's
first search does not.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Protocol

import numpy as np

from index.config import Settings
from index.law.labels import unit_of
from index.retrieval.embedder import inner_products, save_vectors
from index.retrieval.query import act_number

SLICE = 32  # questions embedded per call
_NUMBER = re.compile(r"\d{1,4}/\d{1,4}")  # 2016/679, or 910/2014 as acts before 2015 are numbered
_LANGUAGE = re.compile(r"[a-z]{2}")  # ISO 639-1, as the corpus's documents name theirs


class QueryEncoder(Protocol):
    model_id: str

    def queries(self, texts: list[str]) -> np.ndarray: ...

    def split(self, vectors: np.ndarray) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class Phrasing:
    act: str  # the act's number, as the Official Journal writes it ("2016/679")
    unit: str  # "Article 20", "Annex III"
    text: str
    language: str = "en"


def load_phrasings(path: Path) -> tuple[Phrasing, ...]:
    """Every question of the file, validated: an act's year/number, a unit's label, a list of questions not
    empty, a two-letter language where they are not English; a file with none is refused too (a misspelt table
    name would otherwise turn the step off unseen)."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: not a readable TOML file of questions ({error})") from error
    phrasings: list[Phrasing] = []
    for entry in raw.get("provision", []):
        if not isinstance(entry, dict) or not _valid(entry):
            raise ValueError(f"{path}: the entry {entry!r:.80} needs an act's year/number, a unit's label "
                             "(\"Article 20\", \"Annex III\"), a list of questions and, if it names one, a "
                             "two-letter language (\"fr\")")
        phrasings.extend(Phrasing(act_number(entry["act"]), entry["unit"], " ".join(t.split()),
                                  entry.get("language", "en")) for t in entry["questions"])
    if not phrasings:
        raise ValueError(f"{path}: no [[provision]] entries with questions")
    return tuple(phrasings)


def _valid(entry: dict) -> bool:
    act, unit, texts = entry.get("act"), entry.get("unit"), entry.get("questions")
    language = entry.get("language", "en")
    return (isinstance(act, str) and bool(_NUMBER.fullmatch(act)) and isinstance(unit, str) and unit_of(unit) == unit
            and isinstance(texts, list) and bool(texts) and all(isinstance(t, str) and t.strip() for t in texts)
            and isinstance(language, str) and bool(_LANGUAGE.fullmatch(language)))


@dataclass(frozen=True)
class Closest:
    """A provision, and how close the query is to the nearest question written for it (cosine)."""

    act: str
    unit: str
    cosine: float


@dataclass(frozen=True)
class PhrasingIndex:
    """The questions and, per embedding model, their vectors (one normalised row per question)."""

    phrasings: tuple[Phrasing, ...]
    vectors: tuple[np.ndarray, ...]

    @cached_property
    def _pairs(self) -> list[tuple[str, str]]:
        """The (act, unit) pairs the questions are written for."""
        return list(dict.fromkeys((p.act, p.unit) for p in self.phrasings))

    @cached_property
    def _by_language(self) -> dict[str | None, tuple[np.ndarray, tuple[np.ndarray, ...]]]:
        """Per language the questions are written in (None: all of them), each question's pair, by its index in
        `_pairs`, and the models' vectors of those questions."""
        position = {pair: i for i, pair in enumerate(self._pairs)}
        owner = np.array([position[(p.act, p.unit)] for p in self.phrasings], dtype=np.int64)
        languages = np.array([p.language for p in self.phrasings])
        chosen = {language: languages == language for language in dict.fromkeys(languages.tolist())}
        return {None: (owner, self.vectors)} | {
            language: (owner[among], tuple(v[among] for v in self.vectors)) for language, among in chosen.items()}

    def provisions(self, queries: list[np.ndarray | None], language: str, accept: Callable[[str, str], bool],
                   depth: int) -> list[list[Closest] | None]:
        """Per model, the first `depth` provisions that `accept` admits, by their closest question in `language`
        (or in any language, where none is written in it); None for a model with no query (it does not read the
        question's language)."""
        pairs = self._pairs
        owner, vectors_by_model = self._by_language.get(language, self._by_language[None])
        ranked: list[list[Closest] | None] = []
        for query, vectors in zip(queries, vectors_by_model, strict=True):
            if query is None:
                ranked.append(None)
                continue
            best = np.full(len(pairs), -np.inf, dtype=np.float32)
            np.maximum.at(best, owner, inner_products(vectors, query))  # both sides normalised
            order = (i for i in np.argsort(-best, kind="stable") if best[i] > -np.inf)  # none in the language
            ranked.append(list(islice((Closest(*pairs[i], float(best[i])) for i in order if accept(*pairs[i])), depth)))
        return ranked


def phrasing_index(settings: Settings, encoder: QueryEncoder) -> PhrasingIndex | None:
    """The configured questions with the model's vectors; None when the settings turn them off."""
    if settings.phrasings is None:
        return None
    phrasings = load_phrasings(settings.phrasings)
    parts = encoder.split(question_vectors(phrasings, settings, encoder))
    return PhrasingIndex(phrasings, tuple(p / np.linalg.norm(p, axis=1, keepdims=True) for p in parts))


def question_vectors(phrasings: tuple[Phrasing, ...], settings: Settings, encoder: QueryEncoder) -> np.ndarray:
    """The questions' combined vectors, from the cache or embedded now (and cached). Reading the cache loads no
    model, so an ingest that finds them cached stays as quick as one with nothing to do."""
    path = settings.cache / "phrasings" / f"{_fingerprint(phrasings, encoder.model_id)}.npy"
    vectors = np.load(path) if path.is_file() else None
    if vectors is None or len(vectors) != len(phrasings):
        texts = [p.text for p in phrasings]  # in slices, so that a shared model process serves searches between
        vectors = np.vstack([encoder.queries(texts[i:i + SLICE]) for i in range(0, len(texts), SLICE)])
        save_vectors(path, vectors)
    return vectors


def _fingerprint(phrasings: tuple[Phrasing, ...], model: str) -> str:
    digest = hashlib.sha256(model.encode())
    for p in phrasings:
        digest.update(f"\x00{p.act}\x00{p.unit}\x00{p.text}".encode())
    return digest.hexdigest()[:24]
