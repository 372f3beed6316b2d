"""The source manifest, and finding each source's bytes: mirror, cache, then the official URL.

Local copies win over downloads so that an air-gapped install never waits on a
network time-out when the file is already on disk. Every byte that reaches the
parser has been checked against the manifest's sha256 where one is known.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent.parent / "corpus" / "sources.toml"
FORMATS = {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".txt": "txt", ".md": "md"}


class SourceError(Exception):
    """A source that cannot be had or trusted; the message names the file and the fix."""


@dataclass(frozen=True)
class SourceFile:
    name: str
    format: str
    url: str = ""
    sha256: str = ""
    link: str = ""  # where citations point when this file is not itself the official rendering


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    short: str
    type: str
    language: str
    files: tuple[SourceFile, ...]
    version_date: str = ""
    celex: str = ""
    eli: str = ""
    landing: str = ""
    attribution: str = ""
    note: str = ""
    amends: str = ""  # the source id of the act this amending act amends
    in_force: str = ""  # ISO date an amending act took effect; its changes are in force from then

    def public(self) -> dict[str, str]:
        """What the index records about the document, for display and for the API."""
        return {
            "doc_id": self.id, "title": self.title, "short": self.short, "type": self.type,
            "language": self.language, "version_date": self.version_date, "celex": self.celex,
            "eli": self.eli, "landing": self.landing, "attribution": self.attribution, "note": self.note,
            "amends": self.amends, "in_force": self.in_force,
        }


@dataclass(frozen=True)
class Resolved:
    """A source's bytes, where they came from, and the file entry they satisfy."""

    source: Source
    file: SourceFile
    data: bytes
    sha256: str
    origin: str  # "mirror", "cache", "download", "user"


@dataclass
class Resolver:
    mirror: Path | None
    cache: Path
    offline: bool = False
    timeout: float = 30.0
    retries: int = 3
    log: list[str] = field(default_factory=list)

    def resolve(self, source: Source) -> Resolved:
        for file in source.files:
            for origin, path in (("mirror", self.mirror), ("cache", self.cache)):
                if path is not None and (path / file.name).is_file():
                    return self._checked(source, file, (path / file.name).read_bytes(), origin)
        failures = []
        for file in source.files:
            if not file.url:
                continue
            if self.offline:
                failures.append(f"{file.name}: offline")
                continue
            try:
                return self._checked(source, file, self._download(file), "download")
            except SourceError as error:
                failures.append(str(error))
        where = f"not in {self.mirror}" if self.mirror else "no --mirror given"
        raise SourceError(
            f"no copy available ({where}, not in cache {self.cache}; "
            + ("; ".join(failures) or "no download URL")
            + f"). Put {source.files[0].name} in a mirror folder and pass --mirror."
        )

    def _checked(self, source: Source, file: SourceFile, data: bytes, origin: str) -> Resolved:
        digest = hashlib.sha256(data).hexdigest()
        if file.sha256 and digest != file.sha256:
            raise SourceError(
                f"{file.name} ({origin}): sha256 mismatch: expected {file.sha256}, got {digest}"
            )
        return Resolved(source, file, data, digest, origin)

    def _download(self, file: SourceFile) -> bytes:
        last_error: Exception | None = None
        for attempt in range(self.retries):
            try:
                request = urllib.request.Request(file.url, headers={"User-Agent": "RegKB/0.1"})
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    data = response.read()
                break
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                last_error = error
                if isinstance(getattr(error, "reason", None), socket.gaierror):
                    raise SourceError(f"{file.name}: cannot reach {file.url} (offline? {error.reason})") from error
                time.sleep(min(2**attempt, 5))
        else:
            raise SourceError(f"{file.name}: download failed from {file.url} ({last_error})")
        digest = hashlib.sha256(data).hexdigest()
        if file.sha256 and digest != file.sha256:
            raise SourceError(f"{file.name} (download): sha256 mismatch: expected {file.sha256}, got {digest}")
        write_atomically(self.cache / file.name, data)
        return data


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename: never a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_manifest(path: Path = MANIFEST) -> list[Source]:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    defaults = raw.get("defaults", {})
    sources = []
    for entry in raw["source"]:
        files = tuple(SourceFile(**f) for f in entry.pop("files"))
        entry.setdefault("attribution", defaults.get("attribution", ""))
        sources.append(Source(files=files, **entry))
    return sources


def user_source(path: Path, data: bytes) -> Source:
    """A user's own document: identified by its file name; its copy lives in the cache, unlinked."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise SourceError(f"{path}: unsupported file type {suffix or '(none)'}; use PDF, HTML, TXT or MD")
    stem = "".join(c if c.isalnum() else "-" for c in path.stem.lower()).strip("-") or "document"
    return Source(
        id=f"user-{stem}", title=path.stem.replace("_", " ").replace("-", " "), short=path.stem[:40],
        type="user", language="en",
        files=(SourceFile(name=f"user-{stem}{suffix}", format=FORMATS[suffix]),),
        attribution=f"Your document: {path.name}",
    )
