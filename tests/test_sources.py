"""Source resolution: mirror, cache, download; checksums are enforced and nothing half-written stays."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ingest.sources import Resolver, Source, SourceError, SourceFile, load_manifest, write_atomically


def _source(tmp_path: Path, data: bytes, sha: str | None = None) -> Source:
    digest = sha if sha is not None else hashlib.sha256(data).hexdigest()
    files = (SourceFile("doc.html", "html", url="http://127.0.0.1:9/doc.html", sha256=digest),)
    return Source("doc", "A document", "Doc", "regulation", "en", files)


def test_manifest_lists_the_official_sources():
    sources = {s.id: s for s in load_manifest()}
    assert {"ai-act", "ai-act-fr", "gdpr", "ai-innovation-package", "eurohpc-ai-factories", "lighthouse"} <= set(sources)
    ai_act = sources["ai-act"]
    assert [f.format for f in ai_act.files] == ["html", "pdf"]
    assert ai_act.files[0].sha256 == "d588c909a2b9efe24613853f0e2f487026d4d870c8ac840a0bb069184ea55bd6"
    assert ai_act.landing == "https://eur-lex.europa.eu/eli/reg/2024/1689/oj/eng"
    assert sources["eurohpc-ai-factories"].celex == "32024R1732"
    assert all(s.attribution for s in sources.values())


def test_mirror_wins_and_checksum_is_verified(tmp_path: Path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "doc.html").write_bytes(b"<html>official</html>")
    resolved = Resolver(tmp_path / "mirror", tmp_path / "cache", offline=True).resolve(
        _source(tmp_path, b"<html>official</html>"))
    assert resolved.origin == "mirror" and resolved.data == b"<html>official</html>"


def test_wrong_checksum_names_both_hashes(tmp_path: Path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "doc.html").write_bytes(b"<html>tampered</html>")
    expected = hashlib.sha256(b"<html>official</html>").hexdigest()
    actual = hashlib.sha256(b"<html>tampered</html>").hexdigest()
    with pytest.raises(SourceError, match=f"doc.html.*expected {expected}, got {actual}"):
        Resolver(tmp_path / "mirror", tmp_path / "cache", offline=True).resolve(_source(tmp_path, b"<html>official</html>"))


def test_missing_source_offline_says_where_it_looked(tmp_path: Path):
    with pytest.raises(SourceError, match=r"no copy available .*offline.*--mirror"):
        Resolver(tmp_path, tmp_path / "cache", offline=True).resolve(_source(tmp_path, b"x"))


def test_unreachable_download_fails_with_the_url(tmp_path: Path):
    resolver = Resolver(None, tmp_path / "cache", timeout=1, retries=1)
    with pytest.raises(SourceError, match="127.0.0.1:9/doc.html"):
        resolver.resolve(_source(tmp_path, b"x"))
    assert not list((tmp_path / "cache").glob("*")) if (tmp_path / "cache").exists() else True


def test_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write_atomically(tmp_path / "f.bin", b"old")

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("ingest.sources.os.fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(tmp_path / "f.bin", b"new")
    assert (tmp_path / "f.bin").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
