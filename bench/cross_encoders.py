"""Cross-encoders in real ones' shapes with random weights: what the rerank benchmark times and the tests wire in.

A benchmark fixture, kept out of index/retrieval/rerank.py: no cross-encoder's
weights can be installed offline, so latency is measured on models of the same
size whose ranking is noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
