"""HTTP JSON API over the same core as the CLI and the app: search, provisions, assessment, documents, health.

    python -m index.api --host 127.0.0.1 --port 8000

FastAPI rather than bare Starlette: the OpenAPI schema, the parameter checks
(k <= 50, q <= 1,000 characters) and their documentation all come from the
endpoint signatures, where Starlette would need them written twice, by hand.
FastAPI *is* Starlette underneath, so CORS and the request limits below are
plain Starlette/ASGI middleware and cost nothing extra. One uvicorn worker
holds one index in memory and its models in processes of their own, one for
short questions and one for long ones (`serving.Lanes`); searches run on a
bounded pool of threads (`ApiConfig.search_threads`) and the queries waiting for
a model are encoded together, fairly between clients (`serving.FairEncoder`).

Every error is JSON, ``{"error": {"code": ..., "message": ...}}``: 400 for bad
parameters, 401 for a missing or wrong token, 404 for an unknown provision,
413/414 for oversized requests, 429 when one client has too many searches
open, 503 (naming the command to run) when there is no usable index. Bad input never yields a 500.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from typing import Annotated, Any, Literal

import anyio
import uvicorn
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from index.answers.provision import NotInForce, dated_timeline, read_provision
from index.answers.question import Answer, Scope, answer, no_match_notice
from index.answers.results import CatalogCache
from index.assessment.assess import Answers, Assessor, AssessorCache
from index.config import MAX_NICE, Settings
from index.config import settings as load_settings
from index.feedback import FeedbackStore
from index.law.obligations import RegisterError
from index.law.versions import parse_day, today
from index.querylog import QueryLog
from index.retrieval.embedder import Embedder
from index.retrieval.progress import read_progress
from index.retrieval.search import MAX_QUERY_CHARS, Evidence, QueryError, Searcher
from index.retrieval.store import IndexUnavailable, LoadedIndex
from index.serving import (
    CLIENT,
    ClientBusy,
    ClientSlots,
    FairEncoder,
    GuardedH11Protocol,
    Lanes,
    ModelProcess,
    ModelProcessError,
)

MAX_API_K = 50
MAX_DESCRIPTION_CHARS = 4_000
MAX_URL_BYTES = 16_384  # a 1,000-character query is at most 12,000 bytes percent-encoded
MAX_BODY_BYTES = 16_384  # POST bodies (a description to assess); a GET takes none
BODY_METHODS = frozenset({"POST"})
# torch's threads in the models' process (serving.ModelProcess): concurrency comes from batching (FairEncoder).
# On 2 shared cores under 50 clients, 1 thread served about 4x the requests per second of 2: a parallel step
# waits for its slowest thread, and on a busy machine that thread is often descheduled.
MODEL_THREADS = 1
PRIVATE_DOCUMENT_FIELDS = frozenset({"cache_key"})  # ingest's bookkeeping, not the document's
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token
log = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class ApiConfig:
    """Access settings, read from the environment so that no secret is ever a command-line argument."""

    token: str = ""  # REGKB_API_TOKEN: when set, every data endpoint needs "Authorization: Bearer <token>"
    cors_origins: tuple[str, ...] = ()  # REGKB_CORS_ORIGINS: comma-separated origins browsers may call from
    search_threads: int = 16  # REGKB_API_SEARCH_THREADS: searches in flight; the rest wait their turn
    client_searches: int = 4  # REGKB_API_CLIENT_SEARCHES: searches one client may have in flight; the rest queue
    request_timeout: int = 10  # REGKB_API_REQUEST_TIMEOUT: seconds for a request's headers and body to arrive
    max_connections: int = 512  # REGKB_API_MAX_CONNECTIONS: open connections; past it the slowest arrival is dropped
    long_question_chars: int = 400  # REGKB_API_LONG_QUESTION_CHARS: questions this long or longer are encoded by a
    # second models' process (serving.Lanes, about 1 GB more); 0: one process for all
    long_lane_nice: int = 10  # REGKB_API_LONG_LANE_NICE: how many steps (0-19) below the server's CPU priority the
    # long questions' process runs

    def __post_init__(self) -> None:
        if self.token and not _TOKEN_CHARS.fullmatch(self.token):
            raise ValueError("REGKB_API_TOKEN must be letters, digits and -._~+/ (RFC 6750); "
                             "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        for name, value in (("SEARCH_THREADS", self.search_threads), ("CLIENT_SEARCHES", self.client_searches),
                            ("REQUEST_TIMEOUT", self.request_timeout), ("MAX_CONNECTIONS", self.max_connections)):
            if value < 1:
                raise ValueError(f"REGKB_API_{name} must be at least 1, got {value}")
        if self.long_question_chars < 0:
            raise ValueError(f"REGKB_API_LONG_QUESTION_CHARS must be 0 or more, got {self.long_question_chars}")
        if not 0 <= self.long_lane_nice <= MAX_NICE:
            raise ValueError(f"REGKB_API_LONG_LANE_NICE must be 0 to {MAX_NICE}, got {self.long_lane_nice}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ApiConfig:
        origins = tuple(o.strip() for o in environ.get("REGKB_CORS_ORIGINS", "").split(",") if o.strip())
        numbers = [_whole_number(environ, name, default) for name, default in (
            ("REGKB_API_SEARCH_THREADS", cls.search_threads), ("REGKB_API_CLIENT_SEARCHES", cls.client_searches),
            ("REGKB_API_REQUEST_TIMEOUT", cls.request_timeout), ("REGKB_API_MAX_CONNECTIONS", cls.max_connections),
            ("REGKB_API_LONG_QUESTION_CHARS", cls.long_question_chars),
            ("REGKB_API_LONG_LANE_NICE", cls.long_lane_nice))]
        return cls(environ.get("REGKB_API_TOKEN", ""), origins, *numbers)


def _whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, str(default))
    if not value.isdigit():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class ErrorBody:
    error: Problem


@dataclass(frozen=True)
class Health:
    status: Literal["ok", "degraded"]  # degraded: serving the last good build, `current` names another
    model_id: str
    build_id: str
    built: str
    chunks: int
    documents: int
    problem: str = ""  # why the build served is not the one `current` names
    stage: Literal["lexical", "partial", "full"] = "full"  # which models' vectors the build has (a cold ingest)
    embedding: str = ""  # while an ingest completes the build: which model is at work, and how long it has left


@dataclass(frozen=True)
class SearchResponse:
    query: str
    k: int
    results: list[dict[str, Any]]  # Result.to_json(): the same records as `python -m index search --json`
    match: dict[str, Any] = field(default_factory=dict)  # {"weak", "closest", "unheld", "notice"}: does anything answer?


@dataclass(frozen=True)
class UnitResponse:
    doc_id: str
    label: str
    document: dict[str, Any]
    chunks: list[dict[str, Any]]  # Chunk.to_record(), in document order: the wording in force on `as_of`
    as_of: str = ""
    status: str = ""  # unchanged, replaced, inserted, amended, deleted, outdated
    text: str = ""  # the whole provision in force that day, paragraphs in order, heading excluded
    version: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # act, point, kind, in_force, url, previous_text
    applies_from: list[dict[str, str]] = field(default_factory=list)  # {"date", "condition"}


@dataclass(frozen=True)
class TimelineResponse:
    doc_id: str
    as_of: str
    source: str  # the article the dates are read from
    milestones: list[dict[str, Any]]  # date, event, text, covers, except, condition, note, previous_date


@dataclass(frozen=True)
class DocumentsResponse:
    build_id: str
    built: str
    documents: list[dict[str, Any]]


class AnswersBody(BaseModel):
    """What the user confirmed in the questionnaire; a field left out keeps the proposal."""

    role: Literal["provider", "deployer"] | None = None
    categories: tuple[str, ...] | None = None
    exclusions: tuple[str, ...] | None = None


class FeedbackRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    helpful: bool
    expected: str | None = Field(None, max_length=200,
                                 description='the citation that should have come first: "Article 5(1)(f)"')


class AssessRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS, description="the AI system, in your words")
    role: Literal["provider", "deployer"] | None = None
    as_of: str = Field("", max_length=10, description="YYYY-MM-DD: the law in force on this day (default: today)")
    answers: AnswersBody | None = None


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(asdict(ErrorBody(Problem(code, message))), status_code=status, headers=headers)


class RequestLimits:
    """Refuses what one worker should not take on, before routing: 414 for a long URL, 413 for a body on a GET
    or over the limit, 503 (JSON, with Retry-After) past `max_in_flight` requests; names each request's client
    for the encoder's fair queue (`serving.CLIENT`; see FORWARDED_ALLOW_IPS in the README)."""

    def __init__(self, app: ASGIApp, max_in_flight: int = 256) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is None and self.in_flight >= self.max_in_flight:
            problem = 503, "overloaded", f"{self.in_flight} requests are being answered; retry in a second"
        if problem:
            headers = {"Retry-After": "1"} if problem[0] == 503 else None
            await error_response(*problem, headers=headers)(scope, receive, send)
            return
        CLIENT.set((scope.get("client") or ("local",))[0])
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    @staticmethod
    def _problem(scope: AsgiScope) -> tuple[int, str, str] | None:
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if url_bytes > MAX_URL_BYTES:
            return 414, "uri_too_long", f"the URL is {url_bytes:,} bytes; the limit is {MAX_URL_BYTES:,}"
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        limit = MAX_BODY_BYTES if scope.get("method") in BODY_METHODS else 0
        if b"transfer-encoding" in headers or not length.isdigit() or int(length) > limit:
            if limit:
                return 413, "body_too_large", f"the request body is over {limit:,} bytes or has no Content-Length"
            return 413, "body_too_large", "a GET takes no request body: pass parameters in the query string"
        return None


class HeadAsGet:
    """HEAD answered as the GET it stands for, headers only (RFC 9110 9.3.2): monitors and link checkers use it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with its refusal of a preflight in the API's JSON error shape."""

    def preflight_response(self, request_headers: Any) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() not in {"content-length", "content-type"}}
        return error_response(response.status_code, "cors_refused", response.body.decode(), headers)


def _bearer_check(token: str) -> Callable[[HTTPAuthorizationCredentials | None], None]:
    """A dependency that accepts the request only with the configured token (constant-time comparison)."""
    expected = token.encode("ascii")

    def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                             Depends(HTTPBearer(auto_error=False))]) -> None:
        # Starlette decodes headers as Latin-1, so encoding back gives the bytes that were sent.
        presented = credentials.credentials.encode("latin-1") if credentials else b""
        if not hmac.compare_digest(presented, expected):
            raise HTTPException(401, "a valid bearer token is required (Authorization: Bearer <token>)",
                                headers={"WWW-Authenticate": "Bearer"})

    return require_token


def public_document(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in PRIVATE_DOCUMENT_FIELDS}


def create_app(settings: Settings | None = None, config: ApiConfig | None = None,
               embedder: Embedder | None = None) -> FastAPI:
    """The API over one data directory; tests pass their own settings, config and (already loaded) embedder."""
    settings = settings or load_settings()
    config = config or ApiConfig.from_env()
    model = embedder or ModelProcess(settings.model, MODEL_THREADS)
    processes = [model] if isinstance(model, ModelProcess) else []
    encoder: FairEncoder | Lanes = FairEncoder(model)
    if embedder is None and config.long_question_chars:
        long_model = ModelProcess(settings.model, MODEL_THREADS, config.long_lane_nice)
        processes.append(long_model)
        encoder = Lanes(encoder, FairEncoder(long_model), config.long_question_chars)
    searcher = Searcher(settings, encoder, phrasing_encoder=model)  # type: ignore[arg-type]  # it has query, model_id
    search_slots = anyio.CapacityLimiter(config.search_threads)
    client_slots = ClientSlots(config.client_searches)
    catalogs = CatalogCache()
    assessors = AssessorCache(model, settings, query=encoder.query)
    query_log = QueryLog.from_environment(settings.data_dir)

    def assessor(day: str) -> Assessor:
        index = searcher.index
        return assessors.of(index.path, day or today(), lambda: catalogs.of(index, day))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(_warm_up, encoder, searcher, assessor)
        yield
        encoder.close()
        for process in processes:
            process.close()

    # no /docs or /redoc: their pages load scripts from a CDN, which an air-gapped intranet cannot reach and no
    # page of RegKB may call; the schema is served here, behind the token when one is set
    app = FastAPI(title="RegKB", summary="Cited search over EU AI regulation (AI Act, GDPR, ...)", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None, redirect_slashes=False)  # 404, not a 307
    protected = [Depends(_bearer_check(config.token))] if config.token else []

    @app.get("/openapi.json", include_in_schema=False, dependencies=protected)
    def schema() -> dict[str, Any]:
        return app.openapi()
    _install_error_handlers(app)
    app.state.client_slots = client_slots  # each client's line, for monitoring and tests
    app.add_middleware(RequestLimits)
    app.add_middleware(HeadAsGet)
    if config.cors_origins:
        app.add_middleware(JsonCORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    errors: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (400, 401, 503)}
    busy_errors = {**errors, 429: errors[400]}  # the endpoints that use the model (ClientSlots)

    @app.get("/search", response_model=SearchResponse, responses=busy_errors, dependencies=protected)
    async def search(
        q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="question or keywords")],
        k: Annotated[int, Query(ge=1, le=MAX_API_K, description="results, one per provision")] = 10,
        doc: Annotated[list[str], Query(description="only these document ids (repeatable)")] = [],  # noqa: B006
        kind: Annotated[list[Literal["article", "recital", "annex", "section"]], Query()] = [],  # noqa: B006
        mode: Literal["hybrid", "dense", "lexical"] = "hybrid",
        as_of: AsOf = "",
    ) -> SearchResponse:
        """Ranked, cited provisions for a question: each its best passage, with its other matches in `more`."""
        day = _day(as_of)

        def answered() -> tuple[Answer, str]:
            scope = Scope(_unique(doc), _unique(kind), as_of=day)
            started = time.perf_counter()
            catalog = catalogs.of(searcher.index, day)
            found = answer(searcher, catalog, q, scope, k, mode)
            if query_log:
                query_log.record("api", q, {**scope.to_json(), "mode": mode},
                                 [r.hit.citation for r in found.results], 1000 * (time.perf_counter() - started))
            return found, no_match_notice(catalog, found.unheld) if found.weak else ""

        async with client_slots.slot():
            found, notice = await anyio.to_thread.run_sync(answered, limiter=search_slots)
        match = {**(found.evidence or Evidence({})).to_json(),
                 "weak": found.weak, "notice": notice}
        return SearchResponse(q, k, [r.to_json() for r in found.results], match)

    @app.get("/units/{doc_id}/{label:path}", response_model=UnitResponse, responses={**errors, 404: errors[400]},
             dependencies=protected)
    def unit(doc_id: str, label: Annotated[str, Path(min_length=1, description='"Article 5(1)(f)", "Annex III"...')],
             as_of: AsOf = "") -> UnitResponse:
        """One provision as in force on `as_of` (default today): its passages in document order, its whole text,
        its status and amendment history, and the dates it applies from."""
        index, day = searcher.index, _day(as_of)
        try:
            provision = read_provision(index, catalogs.of(index, day), doc_id, label, day)
        except NotInForce as error:
            raise HTTPException(404, str(error)) from error
        record = provision.to_json()
        return UnitResponse(doc_id, provision.label, public_document(index.document(doc_id)), record["chunks"],
                            record["as_of"], provision.status, provision.text, record["version"], record["history"],
                            record["applies_from"])

    @app.get("/timeline/{doc_id}", response_model=TimelineResponse, responses={**errors, 404: errors[400]},
             dependencies=protected)
    def dates(doc_id: str, as_of: AsOf = "") -> TimelineResponse:
        """The act's dated milestones, read from its application article as in force on `as_of` (default today);
        a date an amendment moved carries `previous_date`."""
        index, day = searcher.index, _day(as_of) or today()
        found = dated_timeline(lambda on: catalogs.of(index, on), doc_id, day)
        if found is None:
            raise HTTPException(404, _missing_unit(index, doc_id, "") if not index.document(doc_id)
                                else f"{doc_id} has no dated application clause")
        return TimelineResponse(doc_id, day, found.source.unit, [m.to_json() for m in found.milestones])

    @app.post("/assess", responses=busy_errors, dependencies=protected)
    async def assess(request: AssessRequest) -> dict[str, Any]:
        """A described AI system assessed: proposed role, matching categories with their evidence, risk class
        (prohibited, high-risk, limited, minimal), the role's duties with citations and dates, and what the
        description cannot decide. `answers` carries what the user confirmed (role, category and exclusion ids)."""
        day = _day(request.as_of)
        answers = Answers(**request.answers.model_dump()) if request.answers else Answers()

        def assessed() -> dict[str, Any]:
            return assessor(day).assess(request.text, request.role, answers, day).to_json()

        try:
            async with client_slots.slot():
                return await anyio.to_thread.run_sync(assessed, limiter=search_slots)
        except RegisterError as error:  # the index lacks what the register cites: not the request's fault
            raise IndexUnavailable(f"the assessment cannot run on this index: {error}") from error
        except ValueError as error:
            raise HTTPException(400, str(error)) from error

    feedback = FeedbackStore.in_folder(settings.data_dir)

    @app.post("/feedback", status_code=201, responses=errors)
    def give_feedback(request: FeedbackRequest) -> dict[str, Any]:
        """A reader's verdict on an answer: helpful or not, and the citation that should have come first. Open
        to readers (no token), like the app's control; only reading the items back needs the token."""
        try:
            item, cited = feedback.give(catalogs.of(searcher.index, ""), request.question, request.helpful,
                                        request.expected or "")
        except ValueError as error:
            raise HTTPException(400, str(error)) from error
        return {"id": item.id, "created": item.created, "resolved": cited.label if cited else None,
                "doc_id": item.doc_id or None}

    @app.get("/feedback/export", responses=errors, dependencies=protected)
    def export_feedback() -> Response:
        """The items with an expected citation as `python -m index eval` JSONL: real questions become tests."""
        lines = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in feedback.export())
        return Response(lines, media_type="application/x-ndjson")

    @app.get("/querylog/export", responses=errors, dependencies=protected)
    def export_query_log() -> Response:
        """The administrators' query log as JSON lines (REGKB_QUERY_LOG=1); 404 while it is off, 403 on a server
        without a token: what readers typed is for administrators only."""
        if query_log is None:
            raise HTTPException(404, "the query log is off: set REGKB_API_TOKEN and REGKB_QUERY_LOG=1 to keep one")
        if not config.token:
            raise HTTPException(403, "the query log is exported only by a server with a token: set REGKB_API_TOKEN")
        return Response(query_log.export(), media_type="application/x-ndjson")

    @app.get("/documents", response_model=DocumentsResponse, responses=errors, dependencies=protected)
    def documents() -> DocumentsResponse:
        """The indexed documents: titles, version dates, sources and attribution, as recorded at ingest."""
        index = searcher.index
        return DocumentsResponse(index.manifest.build_id, index.manifest.created,
                                 [public_document(d) for d in index.manifest.documents])

    @app.get("/healthz", response_model=Health, responses={503: errors[503]})
    def healthz() -> Health:
        """200 while an index is served ("degraded", with the `problem`, when `current` names a build that
        failed to load and the last good one is served); 503 (with the command to run) when none is. `stage`
        says what a cold ingest has embedded so far ("lexical": BM25 alone; "partial": the fast model too) and
        `embedding` how long the rest will take. 503 too when the embedding models cannot answer (their process
        failed to restart): searches would be 503 then, and a load balancer should know."""
        for process in processes:
            process.check()
        manifest = searcher.index.manifest
        problem = without_paths(searcher.live.problem)
        progress = read_progress(searcher.settings)
        return Health("degraded" if problem else "ok", manifest.model_id, manifest.build_id, manifest.created,
                      manifest.chunk_count, len(manifest.documents), problem, searcher.coverage.stage,
                      progress.describe() if progress else "")

    return app


AsOf = Annotated[str, Query(description="YYYY-MM-DD: the text in force on this day (default: today)",
                            max_length=10)]


def _day(as_of: str) -> str:
    try:
        return parse_day(as_of)
    except ValueError as error:
        raise HTTPException(400, str(error)) from error


def _unique(values: list[str]) -> tuple[str, ...]:
    """Repeated filters collapsed: a URL's worth of `doc=ai-act` would otherwise cost every chunk a long scan."""
    return tuple(dict.fromkeys(values))


def _missing_unit(index: LoadedIndex, doc_id: str, label: str) -> str:
    if not index.document(doc_id):
        known = ", ".join(sorted(d["doc_id"] for d in index.manifest.documents))
        return f"unknown document {doc_id!r}; known: {known}"
    return f"no provision {label!r} in {doc_id} (labels look like 'Article 5(1)(f)', 'Recital 12', 'Annex III')"


def _warm_up(encoder: FairEncoder | Lanes, searcher: Searcher, assessor: Callable[[str], Assessor]) -> None:
    """Load the index, the models and the assessment's vectors before the first request rather than during it."""
    encoder.warm_up()
    try:
        searcher.phrasings  # they need no index; made now, not at the first search
    except ValueError as error:
        log.warning("searches fail until the questions file is mended: %s", error)
    try:
        searcher.index
        assessor("")
    except IndexUnavailable as error:
        log.warning("serving 503 until an index exists: %s", error)
    except RegisterError as error:
        log.warning("/assess answers 503 on this index: %s", error)


_PATH = re.compile(r"(?<![\w:/])(?:/[^\s/'\"`;,()]+)+/?")


def without_paths(message: str) -> str:
    """A message with every absolute path cut to its last part: an answer must not map the server's disk.
    The server's log keeps the full message."""
    return _PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1] or "/", message)


def _install_error_handlers(app: FastAPI) -> None:
    """Every failure as the same JSON shape; only a bug in RegKB itself is a 500."""

    def handler(status: int, code: str, headers: Mapping[str, str] | None = None
                ) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def handle(_: Request, error: Exception) -> JSONResponse:
            return error_response(status, code, without_paths(str(error)), headers)

        return handle

    async def bad_parameters(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
                             for e in error.errors())
        return error_response(400, "bad_parameter", problems)

    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        code = re.sub(r"\W+", "_", HTTPStatus(error.status_code).phrase.lower())
        return error_response(error.status_code, code, str(error.detail), error.headers)

    async def bug(_: Request, __: Exception) -> JSONResponse:
        return error_response(500, "internal_error", "internal error; the server log has the details")

    app.add_exception_handler(QueryError, handler(400, "bad_query"))
    app.add_exception_handler(IndexUnavailable, handler(503, "index_unavailable"))
    app.add_exception_handler(ModelProcessError, handler(503, "model_unavailable"))
    app.add_exception_handler(ClientBusy, handler(429, "too_many_requests", {"Retry-After": "1"}))
    app.add_exception_handler(RequestValidationError, bad_parameters)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, bug)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = ApiConfig.from_env()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not config.token and args.host not in {"127.0.0.1", "localhost", "::1"}:
        log.warning("listening on %s without REGKB_API_TOKEN: anyone who can reach it can query", args.host)
    app = create_app(load_settings(args.data_dir, args.model), config)
    protocol = GuardedH11Protocol.configured(config.request_timeout, config.max_connections)
    uvicorn.run(app, host=args.host, port=args.port, workers=1, http=protocol, server_header=False,
                h11_max_incomplete_event_size=MAX_URL_BYTES + 8192, log_level=args.log_level)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--data-dir", help="index location (default: $REGKB_DATA_DIR or ./data)")
    parser.add_argument("--model", help="embedding model the index was built with (default: $REGKB_MODEL)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return parser


if __name__ == "__main__":
    sys.exit(main())
