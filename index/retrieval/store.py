"""Builds on disk: written whole into a fresh folder, switched to with one atomic rename.

Layout under the data directory::

    builds/<build-id>/manifest.json   model, documents, sha256 of every file below
                      chunks.jsonl    one Chunk per line, row i = vector i
                      dense.faiss     inner-product index over normalised vectors
                      dense.1.faiss   ... the second model's, when models are combined
                      lexical/        BM25 arrays
    current -> builds/<build-id>      the live build (a symlink, replaced atomically)

A crash or Ctrl-C while writing leaves a ``.tmp`` folder that nobody reads; the
previous build stays live. A reader checks every file against the manifest's
hashes, and the manifest against its own ``checksum``, so a truncated or
altered file is an error, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.config import Settings
from index.model import Chunk
from index.retrieval.lexical import LexicalIndex

FORMAT = 2  # 2: one dense index per embedding model (dense.faiss, dense.1.faiss, ...) and `dims`
EXACT_LIMIT = 200_000  # up to here exact search is perfect and fast enough: 16 ms a query at 100k on 2 cores
IVF_PROBES = 64  # lists scanned per query: recall@10 0.967 at 1M, 4.6 ms (bench/scale.py --compare)
IVF_TRAIN_PER_LIST = 64  # k-means sample per list: faiss asks for at least 39
KEEP_BUILDS = 2


class IndexUnavailable(Exception):
    """No usable index: the message says why and what to run."""


@dataclass(frozen=True)
class BuildManifest:
    build_id: str
    created: str
    model_id: str
    dim: int
    dense_index: str
    documents: list[dict[str, Any]]
    files: dict[str, str]
    format: int = FORMAT
    checksum: str = ""  # sha256 of the other fields; a build without one is refused
    dims: list[int] = field(default_factory=list)  # one per combined model; empty: one model of `dim`

    @property
    def chunk_count(self) -> int:
        return sum(d["chunks"] for d in self.documents)


@dataclass(frozen=True)
class DenseIndex:
    """One faiss index per embedding model, row i = chunk i in each.

    A combined model ("a+b") is searched one model at a time (retrieval/embedder.py).
    In a single index over the vectors side by side, IVF's lists are trained on
    both halves and serve a query made of one half badly: recall@10 0.833 at 1M
    chunks (bench/scale.py), where an index per model gives 0.973 (MiniLM) and 0.955 (E5).
    """

    parts: tuple[faiss.Index, ...]

    @property
    def d(self) -> int:
        return sum(index.d for index in self.parts)

    @property
    def ntotal(self) -> int:
        return self.parts[0].ntotal

    def search(self, queries: list[np.ndarray], n: int, ids: np.ndarray | None = None) -> list[list[int]]:
        """The first n rows for each model's query, searching only `ids` when given."""
        return [self.search_one(part, query, n, ids)[0] for part, query in enumerate(queries)]

    def search_one(self, part: int, query: np.ndarray, n: int,
                   ids: np.ndarray | None = None) -> tuple[list[int], float | None]:
        """The first n rows for one model's query, searching only `ids` when given, and the best row's inner
        product (None when nothing was found)."""
        if ids is not None and not len(ids):
            return [], None
        index = self.parts[part]
        params = None if ids is None else restricted_to(index, faiss.IDSelectorBatch(ids))
        scores, rows = index.search(query.reshape(1, -1), n, params=params)
        found = [int(r) for r in rows[0] if r >= 0]
        return found, float(scores[0][0]) if found else None

    def vectors(self) -> np.ndarray:
        """The stored vectors, the models' side by side as the embedder made them."""
        return np.hstack([stored_vectors(index) for index in self.parts])


@dataclass(frozen=True)
class LoadedIndex:
    path: Path
    manifest: BuildManifest
    chunks: list[Chunk]
    dense: DenseIndex
    lexical: LexicalIndex

    def document(self, doc_id: str) -> dict[str, Any]:
        return next((d for d in self.manifest.documents if d["doc_id"] == doc_id), {})


def dense_index_for(vectors: np.ndarray) -> faiss.Index:
    """Exact search up to EXACT_LIMIT vectors; inverted lists (IVF, full-precision vectors) beyond.

    Measured at 1M synthetic chunks on 2 cores (bench/scale.py --compare, README
    "Speed and scale"): IVF2048,Flat at nprobe 64 builds in about a minute with
    recall@10 0.967 at 4.6 ms; HNSW32 took 160 s, needs efSearch 512 for 0.953
    and holds 17% more memory; IVF with SQ8 codes is 3.9x smaller at 0.956.
    """
    dim = vectors.shape[1]
    if len(vectors) <= EXACT_LIMIT:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.index_factory(dim, f"IVF{ivf_lists(len(vectors))},Flat", faiss.METRIC_INNER_PRODUCT)
        train_ivf(index, vectors)
        index.nprobe = IVF_PROBES  # written into dense.faiss with the index
    index.add(vectors)
    return index


def restricted_to(dense: faiss.Index, selector: faiss.IDSelector) -> faiss.SearchParameters:
    """Search parameters that admit only the selected ids; IVF indexes take their own kind, which must repeat nprobe."""
    if isinstance(dense, faiss.IndexIVF):
        return faiss.SearchParametersIVF(sel=selector, nprobe=dense.nprobe)
    return faiss.SearchParameters(sel=selector)


def stored_vectors(dense: faiss.Index) -> np.ndarray:
    """The vectors a faiss index holds (exact, HNSW or IVF), row i = chunk i."""
    return _readable(dense).reconstruct_n(0, dense.ntotal)


def vectors_of(dense: faiss.Index, rows: list[int]) -> np.ndarray:
    """The vectors of some rows of a faiss index (exact, HNSW or IVF)."""
    if not rows:
        return np.zeros((0, dense.d), dtype=np.float32)
    return _readable(dense).reconstruct_batch(np.array(rows, dtype=np.int64))


def _readable(dense: faiss.Index) -> faiss.Index:
    """The index, able to give back its vectors by row: an IVF index needs its direct map for that."""
    ivf = faiss.try_extract_index_ivf(dense)
    if ivf is not None:
        ivf.make_direct_map()
    return dense


def dense_file(part: int) -> str:
    """dense.faiss for the first (or only) model, dense.1.faiss for the second."""
    return "dense.faiss" if part == 0 else f"dense.{part}.faiss"


def ivf_lists(count: int) -> int:
    """About 2*sqrt(n) lists as a power of two: 1,024 at 200k vectors, 2,048 at 1M (~490 vectors a list)."""
    return 1 << round(math.log2(2 * math.sqrt(count)))


def train_ivf(index: faiss.IndexIVF, vectors: np.ndarray) -> None:
    """Spherical k-means (centroids on the unit sphere, like the vectors) on a fixed-seed sample."""
    count = min(len(vectors), IVF_TRAIN_PER_LIST * index.nlist)
    sample = np.sort(np.random.default_rng(0).choice(len(vectors), count, replace=False))
    index.cp.spherical = True
    index.train(vectors[sample])


def write_build(settings: Settings, chunks: list[Chunk], vectors: np.ndarray,
                documents: list[dict[str, Any]], model_id: str, dims: tuple[int, ...] = ()) -> BuildManifest:
    """Write a complete build and make it the live one; `dims` splits combined models' vectors."""
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    build_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    settings.builds.mkdir(parents=True, exist_ok=True)
    staging = settings.builds / f".{build_id}.tmp"
    staging.mkdir()
    try:
        manifest = _write_files(staging, build_id, chunks, vectors, documents, model_id, dims)
        _fsync_tree(staging)
        final = settings.builds / build_id
        os.replace(staging, final)
        _switch_current(settings, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(settings)
    return manifest


def _write_files(folder: Path, build_id: str, chunks: list[Chunk], vectors: np.ndarray,
                 documents: list[dict[str, Any]], model_id: str, dims: tuple[int, ...]) -> BuildManifest:
    dims = dims or (int(vectors.shape[1]),)
    if sum(dims) != vectors.shape[1]:
        raise ValueError(f"model dimensions {dims} do not add up to the vectors' {vectors.shape[1]}")
    with (folder / "chunks.jsonl").open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(json.dumps(chunk.to_record(), ensure_ascii=False) + "\n")
    starts = np.cumsum([0, *dims])
    dense = [dense_index_for(np.ascontiguousarray(vectors[:, start:stop], dtype=np.float32))
             for start, stop in zip(starts, starts[1:])]
    for part, index in enumerate(dense):
        faiss.write_index(index, str(folder / dense_file(part)))
    LexicalIndex.build([c.passage for c in chunks]).save(folder / "lexical")
    files = {str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    fields = dict(
        build_id=build_id, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), model_id=model_id,
        dim=int(vectors.shape[1]), dense_index=type(dense[0]).__name__, documents=documents, files=files, format=FORMAT,
        dims=list(dims),
    )
    manifest = BuildManifest(**fields, checksum=_manifest_checksum(fields))
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False))
    return manifest


def _manifest_checksum(fields: dict[str, Any]) -> str:
    """The manifest holds the other files' hashes, so it needs one of its own: a flipped byte in a
    title, a date or a hash would otherwise go unnoticed."""
    canonical = json.dumps({k: v for k, v in fields.items() if k != "checksum"}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _switch_current(settings: Settings, build: Path) -> None:
    link = settings.current.with_name(f".current-{uuid.uuid4().hex[:6]}")
    os.symlink(os.path.relpath(build, settings.data_dir), link)
    os.replace(link, settings.current)
    _fsync_dir(settings.data_dir)


def _prune(settings: Settings) -> None:
    """Keep the live build and the one before it; drop older builds and crashed leftovers."""
    live = current_build_path(settings)
    # By time written, not by name: ids share their first part when builds finish within a second.
    builds = sorted((p for p in settings.builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
                    key=lambda p: (p.stat().st_mtime_ns, p.name))
    for old in builds[:-KEEP_BUILDS]:
        if old != live:
            shutil.rmtree(old, ignore_errors=True)
    for leftover in settings.builds.glob(".*.tmp"):
        if time.time() - leftover.stat().st_mtime > 3600:
            shutil.rmtree(leftover, ignore_errors=True)


def current_build_path(settings: Settings) -> Path | None:
    try:
        return settings.current.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        return None


def read_manifest(build: Path) -> BuildManifest:
    try:
        fields = json.loads((build / "manifest.json").read_text())
        manifest = BuildManifest(**fields)
    except (OSError, ValueError, TypeError) as error:
        raise IndexUnavailable(f"{build}/manifest.json is unreadable ({error}); re-run `python -m ingest`") from error
    if manifest.format != FORMAT:
        return manifest  # an older format: load() says to re-run ingest, and ingest rebuilds it
    if not manifest.checksum:
        raise IndexUnavailable(f"{build}/manifest.json has no checksum, so it cannot be verified; "
                               "re-run `python -m ingest`")
    if manifest.checksum != _manifest_checksum(fields):
        raise IndexUnavailable(f"{build}/manifest.json is corrupted (its checksum does not match); "
                               "re-run `python -m ingest`")
    return manifest


def load(settings: Settings, build: Path | None = None, verify: bool = True) -> LoadedIndex:
    build = build or current_build_path(settings)
    if build is None:
        raise IndexUnavailable(f"no index in {settings.data_dir}; build one with `python -m ingest --mirror DIR`")
    manifest = read_manifest(build)
    if manifest.format != FORMAT:
        raise IndexUnavailable(f"{build} has index format {manifest.format}, this RegKB reads {FORMAT}; re-run ingest")
    if verify:
        verify_files(build, manifest)
    chunks = read_chunks(build / "chunks.jsonl")
    dense = DenseIndex(tuple(faiss.read_index(str(build / dense_file(part)))
                             for part in range(len(manifest.dims) or 1)))
    if any(index.ntotal != len(chunks) for index in dense.parts) or dense.d != manifest.dim:
        raise IndexUnavailable(f"{build}: dense indexes of {[p.ntotal for p in dense.parts]} vectors and "
                               f"{[p.d for p in dense.parts]} dimensions for {len(chunks)} chunks and "
                               f"{manifest.dim} dimensions in the manifest; re-run ingest")
    return LoadedIndex(build, manifest, chunks, dense, LexicalIndex.load(build / "lexical"))


def read_chunks(path: Path) -> list[Chunk]:
    """The build's passages; a record that does not fit the format (written by another version, or by hand
    with the checksums redone) is named by its line rather than surfacing as a traceback."""
    chunks = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                chunks.append(Chunk.from_record(json.loads(line)))
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise IndexUnavailable(f"{path} line {number} is not a passage record ({type(error).__name__}: "
                                       f"{error}); re-run `python -m ingest`") from error
    return chunks


def verify_files(build: Path, manifest: BuildManifest) -> None:
    for name, expected in manifest.files.items():
        path = build / name
        if not path.is_file():
            raise IndexUnavailable(f"{path} is missing; the index is incomplete, re-run `python -m ingest`")
        if _sha256(path) != expected:
            raise IndexUnavailable(f"{path} is corrupted (sha256 differs from manifest); re-run `python -m ingest`")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
