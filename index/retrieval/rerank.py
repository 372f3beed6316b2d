"""Optional cross-encoder reranking of the fused top candidates.

No PyPI package ships a cross-encoder's weights (FlashRank, mxbai-rerank and
bge-m3-lite fetch them at run time), so RegKB cannot bundle one: point
REGKB_RERANKER at a local sentence-transformers CrossEncoder folder (e.g. a copy
of cross-encoder/ms-marco-MiniLM-L-6-v2 brought onto the machine) to switch it on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

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


@dataclass(frozen=True)
class Shape:
    """The size of a BERT cross-encoder: what its latency depends on."""

    layers: int
    hidden: int
    heads: int
    intermediate: int


MINILM_L6 = Shape(6, 384, 12, 1536)  # cross-encoder/ms-marco-MiniLM-L-6-v2
TINYBERT_L2 = Shape(2, 128, 2, 512)  # cross-encoder/ms-marco-TinyBERT-L-2-v2


def save_untrained_cross_encoder(folder: Path, shape: Shape, tokenizer_from: str) -> Path:
    """A cross-encoder with random weights in a real one's shape: its latency is real, its ranking noise.

    No cross-encoder's weights can be installed offline, so this is what the
    benchmark times (bench/query.py --rerank-proxy) and what the tests wire in.
    """
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_from)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=shape.hidden, num_hidden_layers=shape.layers,
                        num_attention_heads=shape.heads, intermediate_size=shape.intermediate, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
