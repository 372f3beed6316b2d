"""What every benchmark shares: percentiles, child processes measured one by one, memory, a compact table.

Kept free of heavy imports: startup.py's child process imports this module before
it starts its own clock-sensitive imports.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("REGKB_CORPUS", REPO.parent / "shared" / "corpus"))
MB = 1024 * 1024


@dataclass(frozen=True)
class Summary:
    median: float
    p95: float
    count: int


def summarise(values: Sequence[float]) -> Summary:
    """Median and 95th percentile (inclusive method: no value beyond the observed range)."""
    if len(values) < 2:
        only = values[0] if values else float("nan")
        return Summary(only, only, len(values))
    return Summary(statistics.median(values), statistics.quantiles(values, n=100, method="inclusive")[94],
                   len(values))


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_child(args: Sequence[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run a command to the end and read its own peak RSS from wait4.

    getrusage(RUSAGE_CHILDREN) would report the largest child so far, so a warm
    run measured after a cold one would inherit the cold run's peak.
    """
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(list(args), cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        return ChildRun(seconds, usage.ru_maxrss * 1024 / MB, process.returncode,
                        output.read().decode("utf-8", "replace"))


def process_memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """(resident now, peak resident) of a process and its descendants (the API's models run in a child), from
    /proc: VmRSS and VmHWM summed; the peak is an upper bound, since each process peaks at its own moment."""
    totals = [0.0, 0.0]
    for member in _with_descendants(int(pid) if pid != "self" else os.getpid()):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        for n, key in enumerate(("VmRSS", "VmHWM")):
            totals[n] += int(fields.get(key, "0 kB").split()[0]) / 1024  # a zombie has neither
    return totals[0], totals[1]


def _with_descendants(pid: int) -> list[int]:
    family, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = [int(child) for child in task.read_text().split()]
            except OSError:
                continue
            family += children
            frontier += children
    return family


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """First column left-aligned, figures right-aligned, floats with 2 decimals unless already text."""
    cells = [list(header)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for number, row in enumerate(cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if number == 0:
            print("  ".join("-" * w for w in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
