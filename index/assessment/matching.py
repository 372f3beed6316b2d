"""How much a described system resembles each category of the register, with the evidence for it.

A description is compared, by the index's own embedding model, with three things per
category: how makers and users describe such systems (the register's examples), the
category's title, and the provision itself as in force (its passages). Words of the
law's own vocabulary that the description uses ("CV", "credit score", "proctoring")
are evidence too. A category matches only when the description resembles it more than
it resembles ordinary systems the Act names no category for (a spam filter, demand
forecasting): a margin over that baseline, not an absolute threshold, so the same
rule holds for any model configured.

The vectors of the examples and provisions are computed once per model and register
and kept in the data folder's cache (16 s for its 228 texts with both default models, measured with
other work running).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.config import Settings
from index.law.catalog import Catalog, unit_text
from index.law.obligations import AI_ACT, Category, Register
from index.retrieval.embedder import Embedder, inner_products, save_vectors

DESCRIPTION = Path(__file__).with_name("data") / "description.toml"
# Scores are similarities in standard deviations of the description's similarities to all texts,
# so that one set of margins holds for models whose cosines spread differently (E5's crowd near 0.8).
CUE_WEIGHT = 0.5  # one cue word is worth this many spreads; two or more, twice
MARGIN = 1.0  # over the best ordinary system
DECISIVE = 0.0  # the categories this close to the best one decide the class: a description is of one system
ALSO = 1.0  # categories this close add their duties where they do not make the class more severe
PROVISION_WEIGHT = 0.8  # a passage of the law is written unlike a description: its similarity counts less


@dataclass(frozen=True)
class Evidence:
    kind: str  # "example", "provision", "cue"
    text: str
    score: float
    label: str = ""  # the passage's citation, for provision evidence

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "text": self.text, "score": round(self.score, 3),
                **({"label": self.label} if self.label else {})}


@dataclass(frozen=True)
class Match:
    category: Category
    score: float
    matched: bool  # close enough to apply, unless it would make the class more severe than the decisive ones
    evidence: tuple[Evidence, ...]
    decisive: bool = False  # among those that decide the risk class


@dataclass(frozen=True)
class _Vectors:
    texts: list[str]
    owners: np.ndarray  # the category index of each text, -1 for ordinary systems
    kinds: list[str]
    labels: list[str]
    vectors: np.ndarray


class Matcher:
    """Scores descriptions against a register's categories with one embedding model; built once, then fast."""

    def __init__(self, register: Register, catalog: Catalog, embedder: Embedder, settings: Settings,
                 query: Callable[[str], np.ndarray] | None = None) -> None:
        """`embedder` encodes the register once; `query` (default: the embedder's) each description, so that a
        server can route descriptions through the encoder queue its searches use."""
        self.register = register
        self.query = query or embedder.query
        self._vectors = _vectors_of(register, catalog, embedder, settings)

    def exclusions(self) -> list[Match]:
        """The Article 2 exclusions, unscored: the questions every assessment asks."""
        return [Match(c, 0.0, False, ()) for c in self.register.categories if c.klass == "exclusion"]

    def matches(self, description: str) -> list[Match]:
        """Every category, best first, each with its score, whether it matched, and why."""
        vectors = self._vectors
        query = self.query(description)
        similarity = inner_products(vectors.vectors, query)
        weights = np.where(np.array(vectors.kinds) == "provision", PROVISION_WEIGHT, 1.0)
        weighted = similarity * weights
        weighted = (weighted - weighted.mean()) / (weighted.std() or 1.0)  # in spreads: the same margins for any model
        ordinary = float(weighted[vectors.owners == -1].max(initial=-1.0))
        scored = sorted((self._match(i, category, description, weighted, similarity)
                         for i, category in enumerate(self.register.categories)), key=lambda m: -m.score)
        admitted = [m for m in scored if m.category.admits(description)]
        best = max((m.score for m in admitted if m.category.klass != "exclusion"), default=ordinary)
        found = [replace(m, decisive=m in admitted and m.score >= ordinary + MARGIN and m.score >= best - DECISIVE,
                         matched=m in admitted and m.score >= ordinary + MARGIN and m.score >= best - ALSO)
                 for m in scored]
        return [replace(m, decisive=True) if _prohibition_in_reach(m) else m for m in found]

    def _match(self, i: int, category: Category, description: str, weighted: np.ndarray,
               similarity: np.ndarray) -> Match:
        own = np.flatnonzero(self._vectors.owners == i)
        best = own[np.argsort(-weighted[own])][:2]
        cues = category.cues_in(description)
        score = float(weighted[best[0]]) + CUE_WEIGHT * min(len(cues), 2)
        evidence = [Evidence(self._vectors.kinds[j], self._vectors.texts[j], float(similarity[j]),
                             self._vectors.labels[j]) for j in best]
        evidence += [Evidence("cue", ", ".join(cues), CUE_WEIGHT * min(len(cues), 2))] if cues else []
        return Match(category, score, False, tuple(evidence))


def _prohibition_in_reach(match: Match) -> bool:
    """A prohibition whose own element the description names ("sexual", "emotions") decides whenever it is in
    reach: it outranks the duties (deep-fake labelling) that presuppose the practice is allowed."""
    category = match.category
    return match.matched and category.klass == "prohibited" and bool(category.required)


@lru_cache(maxsize=4)
def description_data(path: Path = DESCRIPTION) -> dict[str, Any]:
    """data/description.toml, read once: roles, ordinary systems, practice and frame patterns."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def ordinary_examples(path: Path = DESCRIPTION) -> list[str]:
    return list(description_data(path)["ordinary"]["examples"])


def _vectors_of(register: Register, catalog: Catalog, embedder: Embedder, settings: Settings) -> _Vectors:
    texts, owners, kinds, labels = [], [], [], []
    for i, category in enumerate(register.categories):
        for kind, text, label in [("example", category.title, ""), *(("example", e, "") for e in category.examples),
                                  *(("provision", t, l) for l, t in _provision_passages(catalog, category))]:
            texts.append(text), owners.append(i), kinds.append(kind), labels.append(label)
    for example in ordinary_examples():
        texts.append(example), owners.append(-1), kinds.append("example"), labels.append("")
    return _Vectors(texts, np.array(owners), kinds, labels, _cached_vectors(texts, kinds, embedder, settings))


def _provision_passages(catalog: Catalog, category: Category) -> list[tuple[str, str]]:
    """The category's provision as in force, one passage a chunk; the whole unit's text when it is one chunk."""
    chunks = catalog.chunks(AI_ACT, category.label)
    return [(c.label, " ".join(filter(None, (c.lead, c.text)))) for c in chunks[:4]] or \
        [(category.label, unit_text(catalog, AI_ACT, category.label))]


def _cached_vectors(texts: list[str], kinds: list[str], embedder: Embedder, settings: Settings) -> np.ndarray:
    """Examples are read as questions are (E5's "query: "), provisions as passages; cached per model and texts."""
    key = hashlib.sha256("\x00".join([embedder.model_id, *kinds, *texts]).encode()).hexdigest()[:24]
    path = settings.cache / "assessment" / f"{key}.npy"
    if path.exists():
        return np.load(path)
    provisions = [i for i, k in enumerate(kinds) if k == "provision"]
    others = [i for i, k in enumerate(kinds) if k != "provision"]
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    vectors[others] = embedder.queries([texts[i] for i in others])
    if provisions:
        vectors[provisions] = embedder.passages([texts[i] for i in provisions])
    save_vectors(path, vectors)
    return vectors
