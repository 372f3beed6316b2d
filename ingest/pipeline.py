"""Sources to a live index: resolve, parse, chunk, embed (cached per document), build, switch.

Work is cached per document under a key of (file sha256, pipeline version,
model), so re-running with nothing changed loads no model and writes nothing,
and a run killed half-way resumes from the documents it finished. Explicit
inputs are all parsed before anything is written: a bad file fails the run
and the live index stays as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.config import Settings
from index.model import Chunk
from index.retrieval import store
from index.retrieval.embedder import Embedder
from ingest import eurlex, pdf, text
from ingest.chunking import Linker, chunk_units
from ingest.model import ParsedDocument, Unit
from ingest.sources import Resolved, Resolver, Source, SourceError, SourceFile, user_source, write_atomically
from ingest.structure import build_units
from ingest.versions import AmendedText, AmendmentRefused, amend, citation_of, mark_outdated

PIPELINE_VERSION = "9"  # bump when parsing or chunking changes what a document yields
MB = 1024 * 1024
LARGE_FILE_BYTES = 2 * MB  # a file this size or more says how far its ingest has got, step by step


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
    vectors: np.ndarray | None = None
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
                 progress: bool = True) -> None:
        self.settings = settings
        self.resolver = resolver
        self.embedder = embedder or Embedder(settings.model)
        self.progress = progress
        self.docs_cache = settings.cache / "docs"

    def run(self, sources: list[Source], user_files: list[Path] = (), required: set[str] = frozenset(),
            remove: set[str] = frozenset()) -> IngestResult:
        with _exclusive(self.settings.data_dir / ".ingest.lock"):
            return self._run(sources, list(user_files), set(required), set(remove))

    def _run(self, sources: list[Source], user_files: list[Path], required: set[str],
             remove: set[str]) -> IngestResult:
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
        known = {d["doc_id"] for d in self._previous_documents()} | {p.source.id for p in prepared}
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
        for item in prepared:
            if item.vectors is None:
                self._embed(item)
        return self._assemble(prepared, reports, remove)

    # -- per document ------------------------------------------------------------------
    def _prepare(self, resolved: Resolved) -> _Prepared:
        return _Prepared(resolved.source, resolved, self._cache_key(resolved, []))

    def _cache_key(self, resolved: Resolved, amending: list[Resolved]) -> str:
        """What a document's chunks depend on: its bytes, its amending acts' bytes, the pipeline, the model, and
        what its records carry besides the text (id, short name, links): two files with the same bytes under
        two names are two documents, each with its own chunks."""
        shas = ":".join([resolved.sha256, *(a.sha256 for a in amending)])
        source, file = resolved.source, resolved.file
        identity = json.dumps([source.id, source.short, source.landing, file.name, file.url, file.link])
        material = f"{shas}:{identity}:{PIPELINE_VERSION}:{self.settings.model}"
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

    def _cache_paths(self, key: str) -> tuple[Path, Path]:
        return self.docs_cache / f"{key}.jsonl", self.docs_cache / f"{key}.npy"

    def _load_cached(self, item: _Prepared) -> None:
        cached = self._read_cache(item.key)
        if cached:
            item.chunks, item.vectors, header = cached
            item.units, item.pages, item.record = header["units"], header.get("pages"), header.get("record", {})

    def _read_cache(self, key: str) -> tuple[list[Chunk], np.ndarray, dict[str, Any]] | None:
        chunks_path, vectors_path = self._cache_paths(key)
        if not (chunks_path.is_file() and vectors_path.is_file()):
            return None
        lines = chunks_path.read_text(encoding="utf-8").splitlines()
        vectors = np.load(vectors_path)
        if not lines or len(lines) - 1 != len(vectors):
            return None  # a cache entry from an interrupted write: rebuild it
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

    def _embed(self, item: _Prepared) -> None:
        started = time.perf_counter()
        texts = [c.passage for c in item.chunks]
        batches = [texts[i:i + 256] for i in range(0, len(texts), 256)]
        parts = []
        with _progress_bar(len(texts), item.source.id, self.progress) as bar:
            for batch in batches:
                parts.append(self.embedder.passages(batch))
                bar.update(len(batch))
                self._say(item, f"embedding {bar.n:,}/{len(texts):,} chunks ({time.perf_counter() - started:.0f} s)")
        item.vectors = np.concatenate(parts) if parts else np.zeros((0, self.embedder.dim), np.float32)
        item.seconds += time.perf_counter() - started
        chunks_path, vectors_path = self._cache_paths(item.key)
        header = json.dumps({"doc_id": item.source.id, "units": item.units, "pages": item.pages,
                             "record": item.record}, ensure_ascii=False)
        body = "\n".join(json.dumps(c.to_record(), ensure_ascii=False) for c in item.chunks)
        write_atomically(vectors_path, _npy_bytes(item.vectors))
        write_atomically(chunks_path, f"{header}\n{body}\n".encode())

    def _say(self, item: _Prepared, message: str) -> None:
        """A progress line for a large file: its bar shows nothing until embedding starts, and a log file keeps
        lines where it keeps only the bar's last redraw. Printed through tqdm, so a bar on screen stays whole."""
        if self.progress and len(item.resolved.data) >= LARGE_FILE_BYTES:
            from tqdm import tqdm

            tqdm.write(f"{item.source.id}: {message}", file=sys.stderr)

    # -- the build ----------------------------------------------------------------------
    def _assemble(self, prepared: list[_Prepared], reports: list[DocumentReport], remove: set[str]) -> IngestResult:
        previous = self._previous_documents()
        entries: dict[str, tuple[dict[str, Any], list[Chunk], np.ndarray]] = {}
        fresh_ids = {item.source.id for item in prepared}
        for doc in previous:
            if doc["doc_id"] in fresh_ids:
                continue
            cached = None if doc["doc_id"] in remove else self._read_cache(doc["cache_key"])
            if cached and doc.get("model_id") == self.settings.model:
                entries[doc["doc_id"]] = (doc, cached[0], cached[1])
            elif doc["doc_id"] not in remove:
                reports.append(DocumentReport(doc["doc_id"], doc["title"], "dropped",
                                              message="built with another model or cache gone; ingest it again"))
        for item in prepared:
            fresh = item.seconds > 0
            doc = {**item.source.public(), "sha256": item.resolved.sha256, "file": item.resolved.file.name,
                   "format": item.resolved.file.format, "origin": item.resolved.origin, "cache_key": item.key,
                   "model_id": self.settings.model, "units": item.units, "pages": item.pages,
                   "chunks": len(item.chunks), **item.record}
            entries[item.source.id] = (doc, item.chunks, item.vectors)
            reports.append(DocumentReport(item.source.id, item.source.title, "built" if fresh else "cached",
                                          item.units, len(item.chunks), item.seconds,
                                          "; ".join(item.record.get("consolidation", []))))
        listed = {r.doc_id for r in reports}
        for doc_id, (doc, chunks, _) in entries.items():
            if doc_id not in listed:
                reports.append(DocumentReport(doc_id, doc["title"], "kept", doc["units"], len(chunks)))
        if not entries:
            return IngestResult(reports, None, changed=False, errors=["nothing to index: no source was available"])
        before = {d["doc_id"]: d["cache_key"] for d in previous}
        after = {doc_id: doc["cache_key"] for doc_id, (doc, _, _) in entries.items()}
        live = store.current_build_path(self.settings)
        manifest = store.read_manifest(live) if before == after and live else None
        if manifest and manifest.format == store.FORMAT:
            return IngestResult(reports, manifest, changed=False)
        chunks = [c for _, cs, _ in entries.values() for c in cs]
        vectors = np.concatenate([v for _, _, v in entries.values()])
        manifest = store.write_build(self.settings, chunks, vectors, [d for d, _, _ in entries.values()],
                                     self.settings.model, self.embedder.dims)
        return IngestResult(reports, manifest, changed=True)

    def _previous_documents(self) -> list[dict[str, Any]]:
        build = store.current_build_path(self.settings)
        if build is None:
            return []
        try:
            return store.read_manifest(build).documents
        except store.IndexUnavailable:
            return []


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


@contextmanager
def _progress_bar(total: int, name: str, enabled: bool) -> Iterator[Any]:
    from tqdm import tqdm

    with tqdm(total=total, desc=f"{name:<22}", unit="chunk", disable=not enabled, leave=True) as bar:
        yield bar
