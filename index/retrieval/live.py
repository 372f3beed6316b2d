"""The build a long-running reader serves: the one `current` points to, unless that one fails to load.

Ingest switches `current` atomically, but what it points to can still fail
verification (a disk fault, a copy interrupted by hand) or be gone (a pruned or
deleted folder). A server that dropped its good build for that would answer 503
everywhere and re-hash the broken files on every request; instead it keeps the
last build that loaded, says so in `problem` (shown by /healthz), and tries the
new one again after a back-off that doubles up to `max_retry` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from index.config import Settings
from index.retrieval import store

Built = TypeVar("Built")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailedSwitch:
    build: Path
    reason: str
    attempts: int
    retry_at: float  # on the monotonic clock


class LiveBuild(Generic[Built]):
    """What `load` makes of the build `current` points to, reloaded when `current` moves."""

    def __init__(self, settings: Settings, load: Callable[[Path | None], Built], first_retry: float = 2.0,
                 max_retry: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._load = load
        self._first_retry, self._max_retry, self._clock = first_retry, max_retry, clock
        self._live: tuple[Path, Built] | None = None  # swapped whole, never half
        self._failed: FailedSwitch | None = None
        self._lock = threading.Lock()

    def get(self) -> Built:
        """The live build; `store.IndexUnavailable` only when no build has ever loaded."""
        target = store.current_build_path(self.settings)
        live = self._live
        if live is not None and target in (None, live[0]):
            return live[1]
        with self._lock:
            return self._switch(target)

    @property
    def problem(self) -> str:
        """Why the build served is not the one `current` names ("" when it is); build ids only, never paths."""
        live, failed = self._live, self._failed
        if live is None:
            return ""
        serving = f"serving the last good build {live[0].name}"
        if self.settings.current.is_symlink() and store.current_build_path(self.settings) is None:
            return f"`current` points to a build that does not exist; {serving}"
        if failed is not None and failed.build == store.current_build_path(self.settings):
            wait = max(0.0, failed.retry_at - self._clock())
            return (f"build {failed.build.name} failed to load ({failed.reason}); {serving}; "
                    f"attempt {failed.attempts + 1} in {wait:.0f} s")
        return ""

    def _switch(self, target: Path | None) -> Built:
        live, failed = self._live, self._failed
        if live is not None and target in (None, live[0]):  # another thread switched while we waited
            return live[1]
        if failed is not None and failed.build == target and self._clock() < failed.retry_at:
            if live is None:
                raise store.IndexUnavailable(failed.reason)
            return live[1]
        try:
            built = self._load(target)
        except store.IndexUnavailable as error:
            if target is None:
                raise
            self._failed = self._failure(target, str(error))
            if live is None:
                raise
            log.warning("build %s failed to load, still serving %s: %s", target.name, live[0].name, error)
            return live[1]
        self._live, self._failed = (target, built), None
        return built

    def _failure(self, target: Path, reason: str) -> FailedSwitch:
        previous = self._failed
        attempts = previous.attempts + 1 if previous is not None and previous.build == target else 1
        wait = min(self._max_retry, self._first_retry * 2 ** (attempts - 1))
        return FailedSwitch(target, reason, attempts, self._clock() + wait)
