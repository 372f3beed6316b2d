"""Questions readers ask, written per provision: the everyday words a provision's own wording lacks.

"Can I take my workout history to a rival app?" is answered by the GDPR's right to data
portability, whose text speaks of "a structured, commonly used and machine-readable format";
neither embedding model bridges that gap reliably, and BM25 cannot. So each article and annex
of the acts has a handful of questions (data/phrasings.toml), written from the official text
alone by writers who had seen neither RegKB nor any of its question sets: document expansion
by hand (doc2query, Nogueira et al., 2019). A question close to one of them finds the provision
it was written for, as one more ranking per model in the fusion (retrieval/search.py).

The questions are embedded as queries are (E5's "query: "): a question is compared with
questions. Their vectors are cached in the data directory under a key of their text and the
model; ingest makes them, so a server's first search does not.
"""

from __future__ import annotations

import hashlib
import os
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
from index.retrieval.query import act_number

_NUMBER = re.compile(r"\d{1,4}/\d{1,4}")  # 2016/679, or 910/2014 as acts before 2015 are numbered


class QueryEncoder(Protocol):
    model_id: str

    def queries(self, texts: list[str]) -> np.ndarray: ...

    def split(self, vectors: np.ndarray) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class Phrasing:
    act: str  # the act's number, as the Official Journal writes it ("2016/679")
    unit: str  # "Article 20", "Annex III"
    text: str


def load_phrasings(path: Path) -> tuple[Phrasing, ...]:
    """Every question of the file, validated: an act's year/number, a unit's label, questions not empty."""
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    phrasings: list[Phrasing] = []
    for entry in raw.get("provision", []):
        act, unit, texts = entry.get("act", ""), entry.get("unit", ""), entry.get("questions", [])
        if not _NUMBER.fullmatch(str(act)) or unit_of(str(unit)) != unit or not texts \
                or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ValueError(f"{path}: the entry {act!r} {unit!r} needs an act's year/number, a unit's label "
                             "(\"Article 20\", \"Annex III\") and questions")
        phrasings.extend(Phrasing(act_number(act), unit, " ".join(t.split())) for t in texts)
    return tuple(phrasings)


@dataclass(frozen=True)
class PhrasingIndex:
    """The questions and, per embedding model, their vectors (one normalised row per question)."""

    phrasings: tuple[Phrasing, ...]
    vectors: tuple[np.ndarray, ...]

    @cached_property
    def _units(self) -> tuple[list[tuple[str, str]], np.ndarray]:
        """The (act, unit) pairs, and for each question the index of its pair."""
        pairs = list(dict.fromkeys((p.act, p.unit) for p in self.phrasings))
        position = {pair: i for i, pair in enumerate(pairs)}
        return pairs, np.array([position[(p.act, p.unit)] for p in self.phrasings], dtype=np.int64)

    def provisions(self, queries: list[np.ndarray | None], accept: Callable[[str, str], bool],
                   depth: int) -> list[list[tuple[str, str]]]:
        """Per model that has a query (None: it does not read the question's language), the first `depth`
        (act, unit) pairs that `accept` admits, by their closest question."""
        pairs, owner = self._units
        ranked = []
        for query, vectors in zip(queries, self.vectors, strict=True):
            if query is None:
                continue
            best = np.full(len(pairs), -np.inf, dtype=np.float32)
            np.maximum.at(best, owner, vectors @ (query / np.linalg.norm(query)))
            order = (pairs[i] for i in np.argsort(-best, kind="stable"))
            ranked.append(list(islice((pair for pair in order if accept(*pair)), depth)))
        return ranked


def phrasing_index(settings: Settings, encoder: QueryEncoder) -> PhrasingIndex | None:
    """The configured questions with the model's vectors, from the cache or embedded now (and cached);
    None when the settings turn them off."""
    if settings.phrasings is None:
        return None
    phrasings = load_phrasings(settings.phrasings)
    path = settings.cache / "phrasings" / f"{_fingerprint(phrasings, encoder.model_id)}.npy"
    if path.is_file():
        vectors = np.load(path)
    else:
        vectors = encoder.queries([p.text for p in phrasings])
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(temporary, vectors)
        temporary.replace(path)
    parts = encoder.split(vectors)
    return PhrasingIndex(phrasings, tuple(p / np.linalg.norm(p, axis=1, keepdims=True) for p in parts))


def _fingerprint(phrasings: tuple[Phrasing, ...], model: str) -> str:
    digest = hashlib.sha256(model.encode())
    for p in phrasings:
        digest.update(f"\x00{p.act}\x00{p.unit}\x00{p.text}".encode())
    return digest.hexdigest()[:24]
