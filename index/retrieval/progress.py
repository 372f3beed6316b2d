"""How complete the live build is, and how far the ingest that completes it has got.

A cold ingest serves in stages (ingest/pipeline.py): first the passages with BM25
alone, then with the fast model's vectors, then with every model's. Each document
record says which models have embedded it (`embedded`); the ingest at work writes
`progress.json` beside the builds, so the app and the API can say what they serve
and how long full quality is away, instead of a bare spinner.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

from index.config import Settings
from index.retrieval.embedder import applies_to

PROGRESS_FILE = "progress.json"


def embedded_models(document: dict[str, Any], models: tuple[str, ...]) -> tuple[str, ...]:
    """The models whose vectors a build holds for `document`; a record from before staging has them all."""
    return tuple(document["embedded"]) if "embedded" in document else models


@dataclass(frozen=True)
class Coverage:
    """Which of the configured models the live build's passages have vectors from."""

    models: tuple[str, ...]
    shares: dict[str, int]  # model -> passages it is configured to embed (those in its languages)
    missing: dict[str, int]  # model -> of those, the ones it has not embedded yet

    @classmethod
    def of(cls, documents: list[dict[str, Any]], models: tuple[str, ...]) -> Coverage:
        def count(model: str, embedded: bool | None) -> int:
            return sum(d["chunks"] for d in documents if applies_to(model, d.get("language", "en"))
                       and (embedded is None or (model in embedded_models(d, models)) == embedded))

        missing = {m: count(m, False) for m in models}
        return cls(models, {m: count(m, None) for m in models}, {m: n for m, n in missing.items() if n})

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def served(self) -> tuple[str, ...]:
        """The models that have embedded some of their passages: the searcher asks those."""
        return tuple(m for m in self.models if self.missing.get(m, 0) < self.shares[m])

    @property
    def stage(self) -> str:
        """"full": every model on all its passages; "lexical": no vectors at all; else "partial"."""
        if self.complete:
            return "full"
        return "partial" if self.served else "lexical"

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "missing": self.missing}


@dataclass(frozen=True)
class Progress:
    """An ingest at work: which model is embedding, how many passages it has done of how many."""

    model: str
    done: int
    total: int
    started: float  # time.time() when this model's pass began
    pid: int
    later: tuple[str, ...] = ()  # the models that come after this one
    later_chunks: int = 0  # what they still have to embed

    def seconds_left(self) -> float | None:
        """This model's pass, at the rate it has kept so far; None before the first batch."""
        elapsed = time.time() - self.started
        if not self.done or elapsed <= 0:
            return None
        return (self.total - self.done) * elapsed / self.done

    def describe(self) -> str:
        left = self.seconds_left()
        eta = f", about {_minutes(left)} left" if left is not None else ""
        then = f"; then {', '.join(self.later)} ({self.later_chunks:,} passages)" if self.later else ""
        return f"{self.model} is embedding passages: {self.done:,} of {self.total:,}{eta}{then}"


def write_progress(settings: Settings, progress: Progress) -> None:
    path = settings.data_dir / PROGRESS_FILE
    staging = path.with_name(f".{PROGRESS_FILE}.{os.getpid()}")
    staging.write_text(json.dumps(asdict(progress)))
    os.replace(staging, path)


def clear_progress(settings: Settings) -> None:
    (settings.data_dir / PROGRESS_FILE).unlink(missing_ok=True)


def read_progress(settings: Settings) -> Progress | None:
    """The ingest at work, or None: no file, an unreadable one, or one left by an ingest that has died."""
    try:
        fields = json.loads((settings.data_dir / PROGRESS_FILE).read_text())
        progress = Progress(**{**fields, "later": tuple(fields.get("later", ()))})
    except (OSError, ValueError, TypeError):
        return None
    return progress if _alive(progress.pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _minutes(seconds: float) -> str:
    return f"{max(1, round(seconds / 60))} min" if seconds >= 90 else f"{max(5, round(seconds, -1)):.0f} s"


def stage_notice(coverage: Coverage, progress: Progress | None) -> str:
    """What a reader should know about a build that is not complete yet: what answers them, and for how long."""
    if coverage.complete:
        return ""
    now = ("Keyword search (BM25) only for now" if coverage.stage == "lexical" else
           f"Searching with keywords and {', '.join(coverage.served)}; "
           f"not yet fully with {', '.join(coverage.missing)}")
    then = (f"{progress.describe()}. The page uses each stage as soon as it is built." if progress else
            "The ingest that completes the index is not running: run `./run.sh ingest` (or `python -m ingest`, "
            "with the same files for documents of your own).")
    return f"{now}: answers improve when the models have read every passage. {then}"
