"""Load test of the HTTP API: N concurrent clients for a fixed time against the real index, on loopback only.

The server is started with the documented command (`python -m index.api`) on a
free 127.0.0.1 port and stopped at the end; the run is bounded by time, by a
request cap and by a per-request timeout, so it always stops by itself. Each
client loops over a request mix a reader would make (mostly searches, with
provision look-ups, the document list and health checks), records latency and
status, and the server's resident memory is sampled throughout.

    python -m bench.load_api [--clients 50] [--seconds 60] [--data-dir data] [--json FILE]
                             [--heavy N] [--slow N] [--greedy N] [--reingest FILE]

--reingest adds FILE to the index half-way through (`python -m ingest`, offline, the manifest's sources
from --mirror), so the server switches builds under load: run it on a copy of the data folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from bench.common import REPO, free_port, print_table, process_memory_mb
from bench.questions import query_set

HOST = "127.0.0.1"  # loopback only, by construction: there is no option to point this elsewhere
MAX_CLIENTS = 200
MAX_SLOW = 1000
MAX_SECONDS = 600
MAX_REQUESTS = 500_000
REQUEST_TIMEOUT = 30.0
STARTUP_TIMEOUT = 300.0
UNITS = ("ai-act/Article 5", "ai-act/Article 6(1)", "ai-act/Annex III", "ai-act/Recital 44", "gdpr/Article 22")
MIX = (("search", 0.85), ("units", 0.05), ("documents", 0.05), ("healthz", 0.05))
HEAVY_QUERIES = {  # --heavy-queries: the review's attack, legitimate long questions, or both
    "over-cap": ("ok \N{GRINNING FACE} " * 250,),  # 1,000 characters, ~1,000 tokens: refused before the model
    "long": (("Which duties does a deployer of a high-risk AI system have towards its workers? " * 13)[:1000],),
}
HEAVY_QUERIES["mixed"] = HEAVY_QUERIES["over-cap"] + HEAVY_QUERIES["long"]
EXPECTED = {"heavy": {200, 400}, "greedy": {200, 429}}  # every other endpoint: 200


@dataclass(frozen=True)
class Sample:
    endpoint: str
    seconds: float
    status: int  # 0: no HTTP answer (timeout, connection error)


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)  # first words of each failure, counted
    slow_dropped: int = 0  # half-sent requests the server answered 408 or closed
    reingest: dict[str, object] = field(default_factory=dict)  # seconds, exit code, builds before and after


@dataclass(frozen=True)
class Report:
    clients: int
    seconds: float
    requests: int
    requests_per_second: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rss_start_mb: float
    rss_peak_mb: float
    per_endpoint: dict[str, dict[str, float]]
    error_kinds: dict[str, int]
    heavy_clients: int = 0
    slow_connections: int = 0
    greedy_connections: int = 0
    slow_dropped: int = 0
    reingest: dict[str, object] = field(default_factory=dict)


def percentiles_ms(seconds: list[float]) -> tuple[float, float, float]:
    if len(seconds) < 2:
        only = seconds[0] * 1000 if seconds else float("nan")
        return only, only, only
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return statistics.median(seconds) * 1000, cuts[94] * 1000, cuts[98] * 1000


def next_request(rng: random.Random, queries: list[str]) -> tuple[str, str, dict[str, str]]:
    endpoint = rng.choices([name for name, _ in MIX], [weight for _, weight in MIX])[0]
    if endpoint == "search":
        return endpoint, "/search", {"q": rng.choice(queries), "k": "10"}
    if endpoint == "units":
        return endpoint, f"/units/{rng.choice(UNITS)}", {}
    return endpoint, f"/{endpoint}", {}


def loopback(n: int) -> str:
    """The n-th client's own source address: Linux answers all of 127.0.0.0/8 on the loopback interface."""
    return f"127.0.{n // 250}.{n % 250 + 2}"


async def client(base: str, queries: list[str], deadline: float, run: Run, seed: int,
                 heavy: tuple[str, ...] = (), address: int | None = None) -> None:
    """One reader in a loop; `heavy` sends only those queries, `address` shares another client's source address
    (a greedy client's many connections: searches labelled "greedy", which wait as a 429's Retry-After asks, as
    a batch script would; a flood that ignores it is a request rate, for a proxy to limit)."""
    rng = random.Random(seed)
    transport = httpx.AsyncHTTPTransport(local_address=loopback(seed if address is None else address))
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, transport=transport) as http:
        while time.monotonic() < deadline and len(run.samples) < MAX_REQUESTS:
            if heavy:
                endpoint, path, params = "heavy", "/search", {"q": rng.choice(heavy), "k": "10"}
            elif address is not None:
                endpoint, path, params = "greedy", "/search", {"q": rng.choice(queries), "k": "10"}
            else:
                endpoint, path, params = next_request(rng, queries)
            started = time.perf_counter()
            try:
                response = await http.get(path, params=params)
                status = response.status_code
            except httpx.HTTPError as error:
                status = 0
                run.errors[type(error).__name__] = run.errors.get(type(error).__name__, 0) + 1
            run.samples.append(Sample(endpoint, time.perf_counter() - started, status))
            if status and status not in EXPECTED.get(endpoint, {200}):
                run.errors[f"HTTP {status}"] = run.errors.get(f"HTTP {status}", 0) + 1
            if status == 429 and address is not None:
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def slow_connection(port: int, deadline: float, run: Run, n: int) -> None:
    """Half a request, then silence; again as soon as the server lets go (the slow-headers attack)."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, port, local_addr=(loopback(n), 0))
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: regkb\r\nX-Slow: ")
            await writer.drain()
            await asyncio.wait_for(reader.read(), timeout=max(0.1, deadline - time.monotonic()))
            run.slow_dropped += 1
            writer.close()
        except (TimeoutError, OSError):
            await asyncio.sleep(0.1)


async def sample_memory(pid: int, deadline: float, run: Run) -> None:
    while time.monotonic() < deadline:
        run.rss_mb.append(process_memory_mb(pid)[0])
        await asyncio.sleep(0.5)


async def reingest_midway(base: str, command: list[str], wait: float, run: Run) -> None:
    """The ingest, run while the clients keep asking; which build /healthz served before and after it."""
    await asyncio.sleep(wait)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as http:
        before = (await http.get("/healthz")).json().get("build_id")
        started = time.perf_counter()
        ingest = await asyncio.create_subprocess_exec(*command, cwd=REPO, stdout=asyncio.subprocess.DEVNULL,
                                                      stderr=asyncio.subprocess.DEVNULL)
        code = await ingest.wait()
        seconds = time.perf_counter() - started
        for _ in range(40):  # the server follows `current` on its next request; give it a few
            after = (await http.get("/healthz")).json().get("build_id")
            if after != before:
                break
            await asyncio.sleep(0.25)
    run.reingest = {"seconds": round(seconds, 1), "exit": code, "build_before": before, "build_after": after}


async def load(port: int, pid: int, clients: int, seconds: float, heavy: int = 0, slow: int = 0,
               heavy_queries: str = "mixed", reingest: list[str] | None = None, greedy: int = 0) -> tuple[Run, float]:
    queries, base = query_set(), f"http://{HOST}:{port}"
    run = Run(rss_mb=[process_memory_mb(pid)[0]])
    started = time.monotonic()
    deadline = started + seconds
    midway = [reingest_midway(base, reingest, seconds / 2, run)] if reingest else []
    await asyncio.gather(sample_memory(pid, deadline, run), *midway,
                         *(client(base, queries, deadline, run, seed) for seed in range(clients)),
                         *(client(base, queries, deadline, run, clients + n, HEAVY_QUERIES[heavy_queries])
                           for n in range(heavy)),
                         *(slow_connection(port, deadline, run, clients + heavy + n) for n in range(slow)),
                         *(client(base, queries, deadline, run, clients + heavy + slow + n,
                                  address=clients + heavy + slow) for n in range(greedy)))
    return run, time.monotonic() - started


def report(run: Run, clients: int, elapsed: float, peak_mb: float, heavy: int = 0, slow: int = 0,
           greedy: int = 0) -> Report:
    per_endpoint = {}
    for name in [name for name, _ in MIX] + [n for n in EXPECTED if any(s.endpoint == n for s in run.samples)]:
        times = [s.seconds for s in run.samples if s.endpoint == name]
        p50, p95, p99 = percentiles_ms(times)
        per_endpoint[name] = {"requests": len(times), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}
        if name in EXPECTED:
            per_endpoint[name]["refused"] = sum(1 for s in run.samples if s.endpoint == name and s.status in {400, 429})
    ordinary = [s for s in run.samples if s.endpoint not in EXPECTED]
    p50, p95, p99 = percentiles_ms([s.seconds for s in ordinary])
    errors = sum(1 for s in run.samples if s.status not in EXPECTED.get(s.endpoint, {200}))
    return Report(clients, round(elapsed, 1), len(run.samples), len(run.samples) / elapsed, errors, p50, p95, p99,
                  run.rss_mb[0], max([peak_mb, *run.rss_mb]), per_endpoint, run.errors, heavy, slow, greedy,
                  run.slow_dropped, run.reingest)


@contextmanager
def api_server(data_dir: Path, port: int) -> Iterator[subprocess.Popen]:
    """The API as documented, on loopback; interrupted (then killed if need be) however the run ends."""
    server = subprocess.Popen(
        [sys.executable, "-m", "index.api", "--host", HOST, "--port", str(port), "--data-dir", str(data_dir),
         "--log-level", "warning"], cwd=REPO, env={**os.environ, "REGKB_API_TOKEN": ""})
    try:
        wait_until_ready(f"http://{HOST}:{port}", server)
        yield server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the API exited with code {server.returncode} before answering")
        try:
            health = httpx.get(f"{base}/healthz", timeout=5)
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        if health.status_code != 200:
            raise SystemExit(f"the API is up but has no usable index: {health.text}")
        return
    raise SystemExit(f"the API did not answer within {STARTUP_TIMEOUT:.0f} s")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.seconds <= MAX_SECONDS
            or not 0 <= args.heavy <= MAX_CLIENTS or not 0 <= args.greedy <= MAX_CLIENTS
            or not 0 <= args.slow <= MAX_SLOW):
        print(f"error: --clients, --heavy and --greedy must be up to {MAX_CLIENTS}, --slow up to {MAX_SLOW} and "
              f"--seconds 1..{MAX_SECONDS}", file=sys.stderr)
        return 2
    port, data_dir = free_port(), args.data_dir.resolve()
    reingest = ([sys.executable, "-m", "ingest", "--offline", "--quiet", "--data-dir", str(data_dir),
                 "--mirror", str(args.mirror.resolve()), str(args.reingest.resolve())] if args.reingest else None)
    with api_server(data_dir, port) as server:
        run, elapsed = asyncio.run(load(port, server.pid, args.clients, args.seconds, args.heavy, args.slow,
                                        args.heavy_queries, reingest, args.greedy))
        peak_mb = process_memory_mb(server.pid)[1]
    result = report(run, args.clients, elapsed, peak_mb, args.heavy, args.slow, args.greedy)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2))
    return 0 if result.errors == 0 else 1


def _print(result: Report) -> None:
    rows = [(name, int(s["requests"]), int(s.get("refused", 0)), s["p50_ms"], s["p95_ms"], s["p99_ms"])
            for name, s in result.per_endpoint.items()]
    rows.append(("ordinary", sum(int(s["requests"]) for n, s in result.per_endpoint.items() if n not in EXPECTED), 0,
                 result.p50_ms, result.p95_ms, result.p99_ms))
    hostile = (f" (+{result.heavy_clients} heavy clients, {result.greedy_connections} connections of one greedy "
               f"client, {result.slow_connections} slow connections, {result.slow_dropped} dropped by the server)"
               if result.heavy_clients or result.slow_connections or result.greedy_connections else "")
    title = (f"{result.clients} clients{hostile} for {result.seconds} s on {HOST}: "
             f"{result.requests_per_second:,.1f} requests/s, {result.errors} errors")
    print_table(title, ("endpoint", "requests", "refused", "p50 ms", "p95 ms", "p99 ms"), rows)
    print(f"\nserver RSS: {result.rss_start_mb:,.0f} MB at start, {result.rss_peak_mb:,.0f} MB peak")
    if result.reingest:
        r = result.reingest
        print(f"re-ingest half-way: {r['seconds']} s, exit {r['exit']}, served build {r['build_before']} -> "
              f"{r['build_after']}")
    for kind, count in result.error_kinds.items():
        print(f"  error {kind}: {count}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.load_api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50,
                        help=f"concurrent clients (default 50, at most {MAX_CLIENTS})")
    parser.add_argument("--heavy", type=int, default=0, help="clients that only send 1,000-character queries")
    parser.add_argument("--heavy-queries", choices=sorted(HEAVY_QUERIES), default="mixed",
                        help="what heavy clients send: over-cap (1,000 emoji-heavy characters), long (1,000-character "
                             "questions), mixed (default)")
    parser.add_argument("--slow", type=int, default=0, help="connections that never finish their headers")
    parser.add_argument("--greedy", type=int, default=0,
                        help="connections of one more client, all from one address, searching without pause")
    parser.add_argument("--seconds", type=float, default=60.0, help=f"duration (default 60, at most {MAX_SECONDS})")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data", help="the index to serve (default ./data)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--reingest", type=Path, help="a file to add to the index half-way through (see above)")
    parser.add_argument("--mirror", type=Path, default=REPO.parent / "shared" / "corpus",
                        help="the official files' local copies, for --reingest (default ../shared/corpus)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
