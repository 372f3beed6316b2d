"""Sources to a live index: resolve, parse, chunk, embed (cached per document), build, switch.

Work is cached per document: its passages under a key of (file sha256,
pipeline version, identity), and each model's vectors of them beside, so
re-running with nothing changed loads no model and writes nothing, and a run
killed half-way resumes from the documents and models it finished. Explicit
inputs are all parsed before anything is written: a bad file fails the run
and the live index stays as it was.

Embedding is the slow part (on 2 cores, MiniLM about 30 passages/s, E5 about
11), so a large amount of it is done in stages, each ending in a build the
searcher switches to: the passages with BM25 alone within seconds of parsing,
then with the fast model's vectors, then with every model's. Each document
record says which models have embedded it (`embedded`), and the searcher asks
only those (index/retrieval/progress.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.config import Settings
from index.model import Chunk
from index.retrieval import store
from index.retrieval.embedder import Embedder, applies_to, model_name
from index.retrieval.phrasings import Phrasing, load_phrasings, question_vectors
from index.retrieval.progress import Progress, clear_progress, embedded_models, write_progress
from ingest import eurlex, pdf, text
from ingest.chunking import Linker, chunk_units
from ingest.model import ParsedDocument, Unit
from ingest.sources import Resolved, Resolver, Source, SourceError, SourceFile, user_source, write_atomically
from ingest.structure import build_units
from ingest.versions import AmendedText, AmendmentRefused, amend, citation_of, mark_outdated

PIPELINE_VERSION = "9"  # bump when parsing or chunking changes what a document yields
MB = 1024 * 1024
LARGE_FILE_BYTES = 2 * MB  # a file this size or more says how far its ingest has got, step by step
# Fewer passages than this to embed (a few seconds with MiniLM) and the run writes one build, at the end.
STAGE_MIN_CHUNKS = 200
EMBED_BATCH = 256


class IngestError(Exception):
    """An input that cannot be ingested; the message names it."""


@dataclass
class DocumentReport:
    doc_id: str
    title: str
    status: str  # built, cached, kept, skipped, failed
    units: int = 0
    chunks: int = 0
    seconds: float = 0.0
    message: str = ""


@dataclass
class IngestResult:
    reports: list[DocumentReport]
    build: store.BuildManifest | None
    changed: bool
    errors: list[str] = field(default_factory=list)


@dataclass
class _Prepared:
    source: Source
    resolved: Resolved
    key: str
    chunks: list[Chunk] | None = None
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # model -> its vectors, row i = chunk i
    units: int = 0
    pages: int | None = None
    seconds: float = 0.0
    amending: list[Resolved] = field(default_factory=list)  # the amending acts applied to (or marked on) it
    record: dict[str, Any] = field(default_factory=dict)  # what the document record gains: versions, consolidation


def parse(resolved: Resolved) -> ParsedDocument:
    """The units of one file, whatever its format; `IngestError` names the file on failure."""
    name, data = resolved.file.name, resolved.data
    try:
        if resolved.file.format == "html":
            blocks, pages = eurlex.read_blocks(data), None
        elif resolved.file.format == "pdf":
            blocks, pages = pdf.read_blocks(data)
        else:
            blocks, pages = text.read_blocks(_decode(data, name))
    except (eurlex.NotEurLex, pdf.UnreadablePdf, text.EmptyText) as error:
        raise IngestError(f"{name}: {error}") from error
    units = build_units(blocks, resolved.source.language)
    if not units:
        raise IngestError(f"{name}: no text found to index")
    return ParsedDocument(units, pages)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise IngestError(f"{name}: not UTF-8 or Windows-1252 text") from error


def citation_link(source: Source, file: SourceFile) -> Any:
    """Deep links: the EUR-Lex element anchor for the official HTML, else the page of the PDF."""

    def link(unit: Unit) -> str:
        if file.format == "html" and source.landing and unit.anchor and not unit.anchor.startswith("page="):
            return f"{source.landing}#{unit.anchor}"
        base = file.link or file.url or source.landing
        return f"{base}#page={unit.page}" if base and unit.page else base

    return link


class Ingestor:
    def __init__(self, settings: Settings, resolver: Resolver, embedder: Embedder | None = None,
                 progress: bool = True, stage_min_chunks: int = STAGE_MIN_CHUNKS) -> None:
        self.settings = settings
        self.resolver = resolver
        self.embedder = embedder or Embedder(settings.model)
        self.progress = progress
        self.stage_min_chunks = stage_min_chunks
        self.docs_cache = settings.cache / "docs"

    def run(self, sources: list[Source], user_files: list[Path] = (), required: set[str] = frozenset(),
            remove: set[str] = frozenset()) -> IngestResult:
        phrasings = self._phrasings()  # refused before any build is switched, not after
        with _exclusive(self.settings.data_dir / ".ingest.lock"):
            return self._run(sources, list(user_files), set(required), set(remove), phrasings)

    def _phrasings(self) -> tuple[Phrasing, ...]:
        """The configured questions written per provision, validated; none when the settings turn them off."""
        if self.settings.phrasings is None:
            return ()
        try:
            return load_phrasings(self.settings.phrasings)
        except ValueError as error:
            raise IngestError(str(error)) from error

    def _run(self, sources: list[Source], user_files: list[Path], required: set[str],
             remove: set[str], phrasings: tuple[Phrasing, ...]) -> IngestResult:
        reports: list[DocumentReport] = []
        errors: list[str] = []
        prepared: list[_Prepared] = []
        for source in sources:
            try:
                prepared.append(self._prepare(self.resolver.resolve(source)))
            except SourceError as error:
                if source.id in required:
                    errors.append(f"{source.id}: {error}")
                reports.append(DocumentReport(source.id, source.title, "skipped", message=str(error)))
        theirs: list[tuple[Path, _Prepared]] = []
        for path in user_files:
            try:
                theirs.append((path, self._prepare(self._read_user_file(path))))
            except (SourceError, IngestError, OSError) as error:
                errors.append(f"{path}: {error}" if isinstance(error, OSError) else str(error))
        prepared += [item for _, item in theirs]
        errors += _id_collisions(theirs)
        previous = self._previous_documents()  # the build before this run: every stage is assembled against it
        known = {d["doc_id"] for d in previous} | {p.source.id for p in prepared}
        errors += [f"--remove {doc_id}: no such document in the index" for doc_id in sorted(remove - known)]
        for item in prepared:
            self._attach_amendments(item, prepared)
            self._load_cached(item)
        for item in [p for p in prepared if p.chunks is None]:
            try:
                self._parse(item, prepared)
            except IngestError as error:
                errors.append(str(error))
                reports.append(DocumentReport(item.source.id, item.source.title, "failed", message=str(error)))
        if errors:
            return IngestResult(reports, None, changed=False, errors=errors)
        for item in prepared:
            if item.resolved.origin == "user":  # parsed: only now may it replace the copy a live document cites
                write_atomically(self.settings.cache / "sources" / item.resolved.file.name, item.resolved.data)
            self._write_chunks(item)
        try:
            self._embed_in_stages(prepared, remove, previous)
            if phrasings:  # cached before the full build is live: searches read them
                question_vectors(phrasings, self.settings, self.embedder)
            return self._assemble(prepared, reports, remove, previous)
        finally:
            clear_progress(self.settings)  # after the last build: until then an ingest is at work

    def _embed_in_stages(self, prepared: list[_Prepared], remove: set[str], previous: list[dict[str, Any]]) -> None:
        """Embed model by model, in the configured order (the fast model first); when there is much to do,
        write a build before each model's pass, so that search serves what is done while the rest is embedded."""
        models = self.embedder.models
        waiting = {m: [p for p in prepared if m not in p.vectors and applies_to(m, p.source.language)] for m in models}
        staged = sum(len(p.chunks) for items in waiting.values() for p in items) >= self.stage_min_chunks
        for position, model in enumerate(models):
            if not waiting[model]:
                continue
            if staged:
                self._assemble(prepared, [], remove, previous)
            later = [m for m in models[position + 1:] if waiting[m]]
            later_chunks = sum(len(p.chunks) for m in later for p in waiting[m])
            self._embed_with(model, waiting[model], tuple(later), later_chunks)

    # -- per document ------------------------------------------------------------------
    def _prepare(self, resolved: Resolved) -> _Prepared:
        return _Prepared(resolved.source, resolved, self._cache_key(resolved, []))

    def _cache_key(self, resolved: Resolved, amending: list[Resolved]) -> str:
        """What a document's chunks depend on: its bytes, its amending acts' bytes, the pipeline, and what its
        records carry besides the text (id, short name, links): two files with the same bytes under two names
        are two documents, each with its own chunks. Each model's vectors are cached beside them."""
        shas = ":".join([resolved.sha256, *(a.sha256 for a in amending)])
        source, file = resolved.source, resolved.file
        identity = json.dumps([source.id, source.short, source.landing, file.name, file.url, file.link])
        material = f"{shas}:{identity}:{PIPELINE_VERSION}"
        return hashlib.sha256(material.encode()).hexdigest()[:24]

    def _attach_amendments(self, item: _Prepared, prepared: list[_Prepared]) -> None:
        """The amending acts that amend this source, or (for a language version) the act it is a version of."""
        amended = _amended_version_of(item.source, [p.source for p in prepared])
        item.amending = [p.resolved for p in prepared if amended and p.source.amends == amended.id]
        if item.amending:  # a language version's marks depend on the act it is a version of, too
            base = [p.resolved for p in prepared if amended and p.source.id == amended.id and p is not item]
            item.key = self._cache_key(item.resolved, [*base, *item.amending])

    def _read_user_file(self, path: Path) -> Resolved:
        """A user's file as a source; its copy in the cache is written only once it has parsed (see _run).

        It has no link: a citation of it names the document, and no answer names a path on the server."""
        self._check_size(path)
        data = path.read_bytes()
        source = user_source(path, data)
        return Resolved(source, source.files[0], data, hashlib.sha256(data).hexdigest(), "user")

    def _check_size(self, path: Path) -> None:
        """Refuse a file over the cap before reading it: parsing is linear, but embedding 50 MB takes hours and a
        larger file is more often a mistake (a log, a dump) than a document. Official sources are pinned by sha256
        in the manifest, so their size is known: only the user's files are checked."""
        size, limit = path.stat().st_size, self.settings.max_file_mb
        if size > limit * MB:
            raise IngestError(f"{path}: {size / MB:.1f} MB is over the {limit:g} MB limit for one file; split it, "
                              f"or raise the limit with REGKB_MAX_FILE_MB={math.ceil(size / MB)}")

    def _chunks_path(self, key: str) -> Path:
        return self.docs_cache / f"{key}.jsonl"

    def _vectors_path(self, key: str, model: str) -> Path:
        """A model name may be a path: the file is named by its hash (of the model, whatever languages it is
        configured for: "name@en" reuses the vectors "name" made)."""
        return self.docs_cache / f"{key}.{hashlib.sha256(model_name(model).encode()).hexdigest()[:12]}.npy"

    def _load_cached(self, item: _Prepared) -> None:
        cached = self._read_cache(item.key)
        if cached:
            item.chunks, item.vectors, header = cached
            item.units, item.pages, item.record = header["units"], header.get("pages"), header.get("record", {})

    def _read_cache(self, key: str) -> tuple[list[Chunk], dict[str, np.ndarray], dict[str, Any]] | None:
        """A document's cached passages and the vectors of those configured models that have embedded them."""
        chunks_path = self._chunks_path(key)
        if not chunks_path.is_file():
            return None
        lines = chunks_path.read_text(encoding="utf-8").splitlines()
        if not lines:
            return None
        vectors = {}
        for model in self.embedder.models:
            path = self._vectors_path(key, model)
            if path.is_file() and len(array := np.load(path)) == len(lines) - 1:  # else an interrupted write
                vectors[model] = array
        chunks = [Chunk.from_record(json.loads(line)) for line in lines[1:]]
        return chunks, vectors, json.loads(lines[0])

    def _parse(self, item: _Prepared, prepared: list[_Prepared]) -> None:
        started = time.perf_counter()
        self._say(item, f"parsing {len(item.resolved.data) / MB:.1f} MB")
        parsed = parse(item.resolved)
        units = self._amended(item, parsed.units, prepared) if item.amending else parsed.units
        item.chunks = chunk_units(item.source.id, item.source.short, units, _consolidated_links(item))
        item.units, item.pages = len(parsed.units), parsed.pages
        item.seconds = time.perf_counter() - started
        self._say(item, f"chunks built: {len(item.chunks):,} (units: {item.units:,}, {item.seconds:.1f} s)")

    def _amended(self, item: _Prepared, units: list[Unit], prepared: list[_Prepared]) -> list[Unit]:
        """The act as in force with every wording dated, or a language version marked where it is outdated."""
        acts = [(a.source, a.data) for a in item.amending]
        amended_id = item.amending[0].source.amends
        base = next(p for p in prepared if p.source.id == amended_id)
        try:
            if base is item:
                text = amend(item.source, units, acts)
                item.record = _consolidation_record(item.source, text)
                return text.units
            text = amend(base.source, parse(base.resolved).units, acts)
        except AmendmentRefused as error:
            raise IngestError(f"{base.resolved.file.name}: amending acts not applied, the index is unchanged: "
                              f"{error}") from error
        item.record = {"outdated_by": [s.title for s, _ in acts], "consolidated_in": base.source.id,
                       "note": f"The {item.source.language.upper()} text as published; the amendments made by "
                               f"{', '.join(citation_of(s) for s, _ in acts)} exist in this corpus only in "
                               f"{base.source.language.upper()} ({base.source.id}), where they are applied."}
        return mark_outdated(units, text, acts)

    def _embed_with(self, model: str, items: list[_Prepared], later: tuple[str, ...], later_chunks: int) -> None:
        """One model's pass over the documents that lack its vectors, its progress in `progress.json`."""
        progress = Progress(model, 0, sum(len(item.chunks) for item in items), time.time(), os.getpid(), later,
                            later_chunks)
        write_progress(self.settings, progress)
        for item in items:
            for batch in self._embed(item, model):
                progress = replace(progress, done=progress.done + batch)
                write_progress(self.settings, progress)

    def _embed(self, item: _Prepared, model: str) -> Iterator[int]:
        """Embed one document with one model, yielding each batch's size; cached once whole."""
        started = time.perf_counter()
        texts = [c.passage for c in item.chunks]
        parts = []
        label = item.source.id if len(self.embedder.models) == 1 else f"{item.source.id} · {_short(model)}"
        with _progress_bar(len(texts), label, self.progress) as bar:
            for begin in range(0, len(texts), EMBED_BATCH):
                batch = texts[begin:begin + EMBED_BATCH]
                parts.append(self.embedder.model_passages(model, batch))
                bar.update(len(batch))
                self._say(item, f"embedding {bar.n:,}/{len(texts):,} chunks with {model} "
                                f"({time.perf_counter() - started:.0f} s)")
                yield len(batch)
        dim = self.embedder.dims[self.embedder.models.index(model)]
        item.vectors[model] = np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)
        item.seconds += time.perf_counter() - started
        write_atomically(self._vectors_path(item.key, model), _npy_bytes(item.vectors[model]))

    def _write_chunks(self, item: _Prepared) -> None:
        """A document's passages, cached before any model embeds them: a build that serves them by BM25 alone
        can then be kept by a later run (a run that adds one file of yours) like any other."""
        chunks_path = self._chunks_path(item.key)
        if not chunks_path.is_file():
            header = json.dumps({"doc_id": item.source.id, "units": item.units, "pages": item.pages,
                                 "record": item.record}, ensure_ascii=False)
            body = "\n".join(json.dumps(c.to_record(), ensure_ascii=False) for c in item.chunks)
            write_atomically(chunks_path, f"{header}\n{body}\n".encode())

    def _say(self, item: _Prepared, message: str) -> None:
        """A progress line for a large file: its bar shows nothing until embedding starts, and a log file keeps
        lines where it keeps only the bar's last redraw. Printed through tqdm, so a bar on screen stays whole."""
        if self.progress and len(item.resolved.data) >= LARGE_FILE_BYTES:
            from tqdm import tqdm

            tqdm.write(f"{item.source.id}: {message}", file=sys.stderr)

    # -- the build ----------------------------------------------------------------------
    def _assemble(self, prepared: list[_Prepared], reports: list[DocumentReport], remove: set[str],
                  previous: list[dict[str, Any]]) -> IngestResult:
        entries: dict[str, tuple[dict[str, Any], list[Chunk], dict[str, np.ndarray]]] = {}
        fresh_ids = {item.source.id for item in prepared}
        for doc in previous:
            if doc["doc_id"] in fresh_ids or doc["doc_id"] in remove:
                continue
            cached = self._read_cache(doc["cache_key"])
            if cached:
                entries[doc["doc_id"]] = (doc, cached[0], cached[1])
            else:
                reports.append(DocumentReport(doc["doc_id"], doc["title"], "dropped",
                                              message="its cache is gone; ingest it again"))
        for item in prepared:
            fresh = item.seconds > 0
            doc = {**item.source.public(), "sha256": item.resolved.sha256, "file": item.resolved.file.name,
                   "format": item.resolved.file.format, "origin": item.resolved.origin, "cache_key": item.key,
                   "units": item.units, "pages": item.pages, "chunks": len(item.chunks), **item.record}
            entries[item.source.id] = (doc, item.chunks, item.vectors)
            reports.append(DocumentReport(item.source.id, item.source.title, "built" if fresh else "cached",
                                          item.units, len(item.chunks), item.seconds,
                                          "; ".join(item.record.get("consolidation", []))))
        entries = {doc_id: self._configured(doc, chunks, vectors) for doc_id, (doc, chunks, vectors) in entries.items()}
        models = self.embedder.models
        listed = {r.doc_id for r in reports}
        for doc_id, (doc, chunks, _) in entries.items():
            if doc_id not in listed:
                lacking = [m for m in models if m not in doc["embedded"] and applies_to(m, doc.get("language", "en"))]
                reports.append(DocumentReport(doc_id, doc["title"], "kept", doc["units"], len(chunks), message=(
                    f"no vectors from {', '.join(lacking)} yet: ingest it again to add them" if lacking else "")))
        if not entries:
            return IngestResult(reports, None, changed=False, errors=["nothing to index: no source was available"])
        live = store.current_build_path(self.settings)
        if live and _same_build(previous, [doc for doc, _, _ in entries.values()], models):
            manifest = store.read_manifest(live)
            if manifest.format == store.FORMAT and manifest.model_id == self.settings.model:
                return IngestResult(reports, manifest, changed=False)
        chunks = [c for _, cs, _ in entries.values() for c in cs]
        vectors = np.concatenate([self._combined(cs, vs) for _, cs, vs in entries.values()])
        manifest = store.write_build(self.settings, chunks, vectors, [d for d, _, _ in entries.values()],
                                     self.settings.model, self.embedder.dims)
        return IngestResult(reports, manifest, changed=True)

    def _configured(self, doc: dict[str, Any], chunks: list[Chunk], vectors: dict[str, np.ndarray]) -> tuple[
            dict[str, Any], list[Chunk], dict[str, np.ndarray]]:
        """A document as this configuration builds it: only the vectors of the models meant for its language
        (a cache may hold more), and a record that names them."""
        language = doc.get("language", "en")
        vectors = {m: v for m, v in vectors.items() if m in self.embedder.models and applies_to(m, language)}
        embedded = [m for m in self.embedder.models if m in vectors]
        return {**doc, "model_id": self.settings.model, "embedded": embedded}, chunks, vectors

    def _combined(self, chunks: list[Chunk], vectors: dict[str, np.ndarray]) -> np.ndarray:
        """A document's vectors as the build stores them; zeros where a model has not embedded it yet."""
        parts = [vectors.get(model, np.zeros((len(chunks), dim), np.float32))
                 for model, dim in zip(self.embedder.models, self.embedder.dims, strict=True)]
        return self.embedder.combine(parts)

    def _previous_documents(self) -> list[dict[str, Any]]:
        build = store.current_build_path(self.settings)
        if build is None:
            return []
        try:
            return store.read_manifest(build).documents
        except store.IndexUnavailable:
            return []


def _same_build(previous: list[dict[str, Any]], documents: list[dict[str, Any]], models: tuple[str, ...]) -> bool:
    """The live build already holds these documents, with the same passages and the same models' vectors."""
    def state(docs: list[dict[str, Any]]) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {d["doc_id"]: (d["cache_key"], embedded_models(d, models)) for d in docs}

    return state(previous) == state(documents)


def _id_collisions(theirs: list[tuple[Path, _Prepared]]) -> list[str]:
    """Two of the user's files that would become one document id: refused, never one silently replacing the other."""
    names: dict[str, list[str]] = {}
    for path, item in theirs:
        names.setdefault(item.source.id, []).append(str(path))
    return [f"{' and '.join(paths)} would both become document {doc_id}: rename one, or ingest them separately "
            "(the later one then replaces the earlier)" for doc_id, paths in names.items() if len(paths) > 1]


def _amended_version_of(source: Source, sources: list[Source]) -> Source | None:
    """The act whose amendments concern `source`: itself, or the act it is another language version of."""
    amended = {s.amends for s in sources if s.amends}
    return next((s for s in sources if s.id in amended and (s.id == source.id or (
        source.celex and s.celex == source.celex and s.language != source.language))), None)


def _consolidated_links(item: _Prepared) -> Linker:
    """Wordings in force link to the consolidated version on EUR-Lex; superseded ones to their OJ anchors."""
    link = citation_link(item.source, item.resolved.file)
    consolidated = item.record.get("versions", [{}])[-1].get("url") if item.record.get("versions") else ""

    def linked(unit: Unit) -> str:
        return consolidated if consolidated and not unit.valid_to else link(unit)

    return linked


def _consolidation_record(source: Source, text: AmendedText) -> dict[str, Any]:
    """The document record's account of its versions: the original and one per amending act applied."""
    versions = [{"date": source.version_date, "text": "as published in the Official Journal", "url": source.landing}]
    for consolidation in text.consolidations:
        day = consolidation.act.in_force.isoformat()
        versions.append({"date": day, "text": f"as amended by {consolidation.act.citation} "
                         "(RegKB's own consolidation: no legal effect; the Official Journal texts are authentic)",
                         "url": source.eli.removesuffix("/oj") + f"/{day}" if source.eli else ""})
    return {"versions": versions, "consolidation": [c.summary for c in text.consolidations]}


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise IngestError(f"another ingest is running on {lock_path.parent} (lock {lock_path})") from error
        yield


def _short(model: str) -> str:
    """A model's name for a progress bar: the last part of a path."""
    return Path(model).name[:16]


@contextmanager
def _progress_bar(total: int, name: str, enabled: bool) -> Iterator[Any]:
    from tqdm import tqdm

    with tqdm(total=total, desc=f"{name:<22}", unit="chunk", disable=not enabled, leave=True) as bar:
        yield bar
