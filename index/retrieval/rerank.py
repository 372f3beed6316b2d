"""Optional cross-encoder reranking of the fused top candidates.

No PyPI package ships a cross-encoder's weights (FlashRank, mxbai-rerank and
bge-m3-lite fetch them at run time), so RegKB cannot bundle one: point
REGKB_RERANKER at a local sentence-transformers CrossEncoder folder (e.g. a copy
of cross-encoder/ms-marco-MiniLM-L-6-v2 brought onto the machine) to switch it on.
"""

from __future__ import annotations

import os
from functools import cached_property

import numpy as np


class Reranker:
    def __init__(self, model: str, depth: int = 30) -> None:
        self.model_id = model
        self.depth = depth

    @classmethod
    def from_environment(cls) -> Reranker | None:
        model = os.environ.get("REGKB_RERANKER", "").strip()
        return cls(model, int(os.environ.get("REGKB_RERANK_DEPTH", "30"))) if model else None

    @cached_property
    def _model(self):  # noqa: ANN202 - imported lazily, like the embedder
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        return CrossEncoder(self.model_id, device="cpu")

    def score(self, query: str, passages: list[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self._model.predict([(query, p) for p in passages], show_progress_bar=False))
