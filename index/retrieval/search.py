"""Hybrid retrieval: dense (faiss) and BM25 candidates fused by reciprocal rank.

Reciprocal rank fusion needs no score calibration between two very different
scorers, which is why it is the default: BM25 finds "Article 99" and "10^25",
the embedder finds "chatbot" in "interact directly with natural persons".
On top of the fusion, query understanding (retrieval/query.py) expands plain
language with the law's vocabulary for BM25, weighs passages by the question's
intent, and pins provisions the query names. The embedder reads the question as
typed (QueryPlan.embedded): a tail of appended legal terms pulled it towards
whichever provision lists those terms (Annex III for "employees"). The
searcher follows the `current` symlink, so a rebuild is picked up by the next
query without a restart.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.config import E5, MINILM, Settings
from index.law.catalog import Catalog
from index.law.definitions import definitions_in, in_definitions_article
from index.law.labels import nearest, unit_of, within, written_in
from index.law.timeline import applies_from, timeline
from index.law.versions import in_force_on, version_on
from index.model import Amendment, Chunk, Hit
from index.retrieval import store
from index.retrieval.embedder import Embedder, QueryTooLong, applies_to, model_name
from index.retrieval.filters import Filters
from index.retrieval.live import LiveBuild
from index.retrieval.national import countries_mentioned
from index.retrieval.phrasings import Closest, PhrasingIndex, QueryEncoder, phrasing_index
from index.retrieval.progress import Coverage, embedded_models
from index.retrieval.query import Citation, QueryPlan, act_name, act_number, acts_named, understand
from index.retrieval.rerank import Reranker

Mode = Literal["hybrid", "dense", "lexical"]
_UNMADE = object()  # Searcher.phrasings not made yet (None: turned off)
MAX_QUERY_CHARS = 1000
MAX_QUERY_TOKENS = 320  # a 1,000-character question in plain words is 200-250 (bench/load_api.py: heavy mix)
MAX_K = 100
RRF_K = 60


class QueryError(ValueError):
    """A query that cannot be answered as given (empty, too long, bad k or filter)."""


@dataclass(frozen=True)
class SearchOptions:
    """Each retrieval step, switchable so that what it adds can be measured (bench/retrieval_quality.py)."""

    expand: bool = True  # glossary: plain language -> the law's vocabulary, and document routing
    priors: bool = True  # intent and structure: articles before recitals unless "why", language match
    exact: bool = True  # "Article 6(3)", "Annex III" named in the query come first
    define: bool = True  # terms whose definitions the dense side found join the BM25 query
    act: bool = True  # "Article 50" without an act: the act the rest of the question points to
    subject: bool = True  # a question in several sentences: the embedder reads those that say what it is about
    modality: bool = True  # "can we" questions favour passages that prohibit, "when" ones those that date
    lend: bool = True  # a recital found lends part of its score to the article passage it explains
    reasons: bool = True  # "why": an article passage found lends to the amending act's recitals that explain it
    dates: bool = True  # "when" questions: a provision found lends to the clause that says from when it applies
    counterparts: bool = True  # a passage found in another language of the act lends to the question's language's
    defer: bool = True  # an amending act's instruction weighs less than the provision it wrote, unless asked about
    phrasings: bool = True  # questions written per provision (retrieval/phrasings.py) rank the provisions they answer
    clear_lead: bool = True  # a provision whose written question is clearly the closest weighs more
    rerank: bool = False  # cross-encoder over the fused top candidates (needs REGKB_RERANKER)


# How much each kind of passage is worth for each intent; tuned on the development set only.
KIND_PRIOR = {
    "action": {"recital": 0.8, "definition": 0.75},
    "definition": {"recital": 0.8, "definition": 1.5},
    "why": {"recital": 1.25, "definition": 0.75},
}
ROUTED_DOC_PRIOR = 1.35
ACT_EVIDENCE = 20  # how many of the first fused passages say which act a bare "Article N" belongs to
DEFINITION_FEEDBACK = 10  # how many of the dense side's first passages may lend their defined term to BM25
OTHER_LANGUAGE_PRIOR = 0.5
MODALITY_PRIOR = 1.5  # chosen on the development set; the others measured once, after
# Recitals lend to articles (README, "Evaluation"), chosen on the sets whose misses have been read:
RECITAL_LEND = 0.7  # the share of a recital's score that the article passage it explains gains
LENDERS = 20  # the first fused passages, among which a recital lends
WEAKEST_LINKS = 10  # percent of a build's recital-article links, the least similar, not made
DATE_LEND = 0.7  # the share of a provision's score that the clause dating it gains, for a "when" question
# Chosen on bench/tuning_questions.jsonl's 40 French questions (0.1 to 0.25 within two questions of each other):
COUNTERPART_LEND = 0.2  # the share of a passage's score that its counterpart in the question's language gains
# Chosen on the sets whose misses have been read (0.25, 0.5 and 0.7 gave the same figures on all six):
INSTRUCTION_WEIGHT = 0.5  # an applied amending instruction's score, against the provision it wrote
PHRASING_DEPTH = 3  # the provisions each model's ranking of the written questions contributes
PHRASING_WEIGHT = 1.0  # that ranking's weight in the fusion, against one model's ranking of the passages
# By how much a model's closest provision's written question must be closer to the query than the next
# provision's for its match to count as clear (per model: E5's cosines lie close together, MiniLM's apart); the
# next is the next the search may return (its filters, the act the question names, the question's language)
CLEAR_LEAD = {MINILM: 0.08, E5: 0.015}
CLEAR_LEAD_WEIGHT = 1.0  # what a clear lead adds: one more ranking of that provision alone, at this weight
LINK_BLOCK = 1024  # recitals compared with the articles at once when a build loads
# Below these cosines a model's closest passage answered none of the in-scope calibration questions (Evidence).
MATCH_FLOOR = {MINILM: 0.40, E5: 0.834}


def validate_query(text: str, k: int) -> str:
    """The query with control characters and lone surrogates dropped and white space collapsed; QueryError
    when nothing searchable is left (no letter or digit) or k is out of range."""
    printable = "".join(ch for ch in (text or "") if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cs"})
    cleaned = " ".join(printable.split())
    if not any(ch.isalnum() for ch in cleaned):
        raise QueryError("the query is empty: type a question or keywords")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(cleaned):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be between 1 and {MAX_K}, got {k}")
    return cleaned


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K, weight: float = 1.0,
                           onto: dict[int, float] | None = None) -> dict[int, float]:
    """Sum of weight/(k + rank) over the rankings a row appears in (Cormack et al., 2009), added to the scores
    of an earlier fusion `onto` (left as it was) when rankings of another kind join it at their own weight."""
    fused = dict(onto or {})
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return fused


class Searcher:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, candidates: int = 100,
                 reranker: Reranker | None = None, phrasing_encoder: QueryEncoder | None = None) -> None:
        """`phrasing_encoder` embeds the questions written per provision where `embedder` encodes one query at a
        time (the API's fair queues)."""
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model)
        self.phrasing_encoder = phrasing_encoder
        self._phrasings: PhrasingIndex | None | object = _UNMADE
        self._phrasings_lock = threading.Lock()
        self.reranker = reranker if reranker is not None else Reranker.from_environment()
        self.candidates = candidates
        self.live = LiveBuild(settings, self._load)

    @property
    def index(self) -> store.LoadedIndex:
        """The live build, reloaded when ingest has switched `current` to a new one."""
        return self._snapshot()[0]

    @property
    def phrasings(self) -> PhrasingIndex | None:
        """The questions written per provision with the models' vectors, made once, on first use (ingest caches
        them); concurrent first searches wait for one of them to make it."""
        with self._phrasings_lock:
            if self._phrasings is _UNMADE:
                self._phrasings = phrasing_index(self.settings, self.phrasing_encoder or self.embedder)
            return self._phrasings

    @property
    def coverage(self) -> Coverage:
        """How much of the live build the configured models have embedded (a cold ingest serves in stages)."""
        return self._snapshot()[1].coverage

    def _snapshot(self) -> tuple[store.LoadedIndex, _ChunkFeatures]:
        """The build and its per-chunk features, taken together so a reload cannot mix two builds."""
        return self.live.get()

    def _load(self, build: Path | None) -> tuple[store.LoadedIndex, _ChunkFeatures]:
        loaded = store.load(self.settings, build)
        self._check_model(loaded)
        return loaded, _ChunkFeatures.of(loaded)

    def _check_model(self, loaded: store.LoadedIndex) -> None:
        if loaded.manifest.model_id != self.embedder.model_id:
            raise store.IndexUnavailable(
                f"the index was built with model {loaded.manifest.model_id!r} but the searcher uses "
                f"{self.embedder.model_id!r}: set REGKB_MODEL={loaded.manifest.model_id} or re-run ingest"
            )

    def search(self, text: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid",
               options: SearchOptions = SearchOptions()) -> list[Hit]:
        return self.search_with_evidence(text, k, filters, mode, options)[0]

    def search_with_evidence(self, text: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid",
                             options: SearchOptions = SearchOptions()) -> tuple[list[Hit], Evidence]:
        """The hits, and how close the closest passage is for each model: whether anything answers at all."""
        query = validate_query(text, k)
        index, features = self._snapshot()
        plan = features.route(understand(query, expand=options.expand, subject=options.subject))
        allowed = self._allowed(index, features, filters)
        found = self._dense(index, features, plan.embedded, allowed) if mode != "lexical" else Dense([[]], [])
        rankings = found.rankings
        evidence = Evidence.of(features.coverage.models, found.closest) if features.coverage.complete and not filters \
            else Evidence({})  # judged on the whole corpus with every model, or not at all
        if evidence.far and plan.embedded != plan.text:
            evidence = evidence.or_closer(Evidence.of(features.coverage.models,
                                                      self._dense(index, features, plan.text, allowed).closest))
        evidence = replace(evidence, unheld=features.unheld(plan))
        lexical = []
        if mode != "dense":
            lexical_query = (features.with_defined_terms(plan, features.in_language(rankings, plan.language))
                             if options.define else plan.expanded)
            lexical = self._lexical(index, lexical_query, allowed)
        fused = reciprocal_rank_fusion([*rankings, lexical])
        if options.phrasings and mode == "hybrid" and found.queries and not plan.about_amendments \
                and features.coverage.complete and self.phrasings is not None:  # a staged build: ingest makes them
            readers = [q if applies_to(spec, plan.language) else None  # MiniLM (@en) reads no French question
                       for q, spec in zip(found.queries, features.coverage.models, strict=True)]
            fused = features.phrased(fused, self.phrasings, readers, plan, allowed, options.clear_lead)
        if options.counterparts:
            fused = features.translate(fused, plan.language, allowed)
        if options.priors:
            fused = features.weigh(fused, plan)
        if options.defer:
            fused = features.defer(fused, plan, allowed)
        if options.lend and plan.intent != "why":  # a "why" question's answer is the recital itself
            fused = features.lend(fused, allowed)
        if options.reasons and plan.intent == "why":
            fused = features.reason(fused, allowed)
        if options.modality and plan.asks:
            fused = features.favour(fused, plan.asks)
        if options.dates and plan.applies:
            fused = features.date(fused, allowed, filters.day)
        if options.exact and plan.references:
            fused = features.pin(fused, plan, allowed, resolve_act=options.act)
        if options.rerank:
            fused = self._rerank(index, plan, fused)
        return self._hits(index, fused, rankings, lexical, k, filters.day), evidence

    def _allowed(self, index: store.LoadedIndex, features: _ChunkFeatures, filters: Filters) -> np.ndarray | None:
        """The rows a search may return: those the filters admit, of the wording in force on the day asked."""
        if not filters:
            return features.in_force_on(filters.day)
        known = {d["doc_id"] for d in index.manifest.documents}
        unknown = [d for d in filters.docs if d not in known]
        if unknown:
            raise QueryError(f"unknown document {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return np.array([filters.admits(c) for c in index.chunks], dtype=bool)

    def _dense(self, index: store.LoadedIndex, features: _ChunkFeatures, query: str,
               allowed: np.ndarray | None) -> Dense:
        """One ranking per embedding model (retrieval/embedder.py), the first model's first; none in a build
        that holds no vectors yet (the first stage of a cold ingest: BM25 alone)."""
        if features.coverage.stage == "lexical":
            return Dense([[] for _ in index.dense.parts], [None for _ in index.dense.parts])
        try:
            queries = self.embedder.split(self.embedder.query(query, max_tokens=MAX_QUERY_TOKENS))
        except QueryTooLong as error:
            raise QueryError(str(error)) from error
        dims, index_dims = [len(q) for q in queries], [part.d for part in index.dense.parts]
        if dims != index_dims:
            raise store.IndexUnavailable(f"query vectors have dimensions {dims}, the index {index_dims}")
        n = min(self.candidates, index.dense.ntotal)
        found = [index.dense.search_one(part, query, n, self._ids(embedded, allowed))
                 for part, (query, embedded) in enumerate(zip(queries, features.embedded, strict=True))]
        scale = len(queries)  # each model's part of a combined vector is scaled by 1/sqrt(n), query and passage
        return Dense([rows for rows, _ in found], [None if best is None else best * scale for _, best in found],
                     [q / np.linalg.norm(q) for q in queries])

    @staticmethod
    def _ids(embedded: np.ndarray | None, allowed: np.ndarray | None) -> np.ndarray | None:
        """The rows one model may return: those it has embedded (a staged build), of those the filters allow."""
        if embedded is None and allowed is None:
            return None
        admitted = embedded if allowed is None else allowed if embedded is None else embedded & allowed
        return np.flatnonzero(admitted).astype(np.int64)

    def _lexical(self, index: store.LoadedIndex, query: str, allowed: np.ndarray | None) -> list[int]:
        scores = index.lexical.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        n = min(self.candidates, len(scores))
        top = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=int)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [int(r) for r in top if scores[r] > 0]

    def _rerank(self, index: store.LoadedIndex, plan: QueryPlan, fused: dict[int, float]) -> dict[int, float]:
        if self.reranker is None:
            raise QueryError("reranking asked for, but no cross-encoder is configured: set REGKB_RERANKER "
                             "to a sentence-transformers CrossEncoder folder")
        top = sorted(fused, key=lambda row: -fused[row])[: self.reranker.depth]
        scores = self.reranker.score(plan.text, [index.chunks[row].passage for row in top])
        reranked = {row: 1000.0 + float(score) for row, score in zip(top, scores)}
        return {**fused, **reranked}

    def _hits(self, index: store.LoadedIndex, fused: dict[int, float], dense: list[list[int]], lexical: list[int],
              k: int, day: str) -> list[Hit]:
        """Hits with their best rank among the models (a French passage is found by E5 alone) and by BM25."""
        dense_rank: dict[int, int] = {}
        for ranking in dense:
            for r, row in enumerate(ranking):
                dense_rank[row] = min(dense_rank.get(row, r + 1), r + 1)
        lexical_rank = {row: r + 1 for r, row in enumerate(lexical)}
        best = sorted(fused, key=lambda row: (-fused[row], row))[:k]
        return [dated_hit(index.chunks[row], fused[row], index.document(index.chunks[row].doc_id),
                          dense_rank.get(row), lexical_rank.get(row), day) for row in best]


@dataclass(frozen=True)
class Dense:
    rankings: list[list[int]]  # one per model
    closest: list[float | None]  # per model: the cosine of its closest passage (None: it found nothing)
    queries: list[np.ndarray] = field(default_factory=list)  # per model: the query's own vector, normalised


@dataclass(frozen=True)
class Evidence:
    """How close the corpus comes to a question: each model's best cosine, against the floor below which that
    model's closest passage has not answered any question of the calibration sets.

    Calibrated on the dev and holdout questions (in scope) and 20 out-of-scope questions written for it (other
    acts, national law, tax, sport, nonsense): with every model under its floor, 0 of 141 in-scope questions and
    12 of 20 out-of-scope ones were weak (README, "Honest no match"). The floors hold for the default pair
    together: any other configuration (one model alone, a model of the user's) is never judged, and neither is
    a search with filters or on a build some model has not finished (its notice would speak of the whole corpus).
    An act the question names that the index does not hold (`unheld`) makes it weak on any search."""

    closest: dict[str, float]  # model -> the cosine of its closest passage
    unheld: tuple[str, ...] = ()  # what it asks about that the index does not hold: "Data Act (2023/2854)", "national
    # law of Germany"

    @classmethod
    def of(cls, models: tuple[str, ...], closest: list[float | None]) -> Evidence:
        return cls({m: round(c, 4) for m, c in zip(models, closest) if c is not None})

    @property
    def far(self) -> bool:
        """Every model under its floor."""
        closest = {model_name(m): cosine for m, cosine in self.closest.items()}
        return set(closest) == set(MATCH_FLOOR) and all(c < MATCH_FLOOR[m] for m, c in closest.items())

    @property
    def weak(self) -> bool:
        """Every model under its floor, or a question about an act (or a country's law) the index does not hold."""
        return self.far or bool(self.unheld)

    def or_closer(self, other: Evidence) -> Evidence:
        """Each model's closer passage of the two readings of a question. The embedder reads a compound question's
        subject ("We built a chatbot for customer support."), which alone comes further from every passage than
        the question as asked ("... What do we have to do under the AI Act and by when?": MiniLM 0.386 against
        0.610, E5 0.820 against 0.899), and the whole question is what the reader asked (the calibration
        questions that set the floors are mostly of one sentence). Read only when the subject is far, so it
        costs a second encoding only then."""
        return replace(self, closest={m: max(c, other.closest.get(m, c)) for m, c in self.closest.items()})

    def to_json(self) -> dict[str, Any]:
        return {"weak": self.weak, "closest": self.closest, "unheld": list(self.unheld)}


@dataclass(frozen=True)
class _ChunkFeatures:
    """Per-chunk facts the priors need, computed once per build."""

    units: list[tuple[str, str, str]]  # (doc_id, unit, label)
    kinds: list[str]  # recital, definition, article, annex, section
    languages: list[str]
    terms: list[str]  # the term a definition passage defines ("deployer"), else ""
    modalities: list[str] = field(default_factory=list)  # "permission" (it prohibits), "date" (it dates), ""
    documents: dict[str, str] = field(default_factory=dict)  # doc_id -> language
    valid_from: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))  # "" = since the start
    valid_to: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))  # "" = in force
    embedded: tuple[np.ndarray | None, ...] = ()  # per model: the rows it has vectors for; None = every row
    coverage: Coverage = Coverage((), {}, {})
    held: frozenset[str] = frozenset()  # the acts the index holds, by number ("2024/1689"), and countries' law
    explains: dict[int, int] = field(default_factory=dict)  # recital row -> the article row it explains
    reasons: dict[int, tuple[int, ...]] = field(default_factory=dict)  # article row -> amending recitals' rows
    dated_by: dict[str, dict[int, tuple[int, ...]]] = field(default_factory=dict)  # dating_clauses: from a day
    wordings: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)  # (doc, label) -> its dated rows
    counterparts: dict[int, tuple[int, ...]] = field(default_factory=dict)  # row -> its other languages' rows
    acts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # doc_id -> the act it is, by number
    wrote: dict[int, tuple[int, ...]] = field(default_factory=dict)  # applied_instructions: instruction -> its rows
    provisions: dict[tuple[str, str, str], tuple[int, ...]] = field(default_factory=dict)  # (act, unit, language)

    @classmethod
    def of(cls, index: store.LoadedIndex) -> _ChunkFeatures:
        languages = {d["doc_id"]: d.get("language", "en") for d in index.manifest.documents}
        models = tuple(index.manifest.model_id.split("+"))
        coverage = Coverage.of(index.manifest.documents, models)
        kinds = ["definition" if in_definitions_article(c) else c.kind for c in index.chunks]
        embedded = tuple(_rows_embedded_by(m, models, index) for m in models)
        acts = {d["doc_id"]: acts_held_by(d) for d in index.manifest.documents}
        counterparts = counterparts_of(index)
        explains = explained_articles(index, kinds, embedded)
        return cls(
            units=[(c.doc_id, c.unit, c.label) for c in index.chunks],
            kinds=kinds,
            languages=[languages.get(c.doc_id, "en") for c in index.chunks],
            terms=[defined_term(c) for c in index.chunks],
            modalities=[modality_of(c) for c in index.chunks],
            documents=languages,
            valid_from=np.array([c.valid_from for c in index.chunks], dtype=str),
            valid_to=np.array([c.valid_to for c in index.chunks], dtype=str),
            embedded=embedded,
            coverage=coverage,
            held=frozenset(act for d in index.manifest.documents for act in (*acts[d["doc_id"]], *countries_held_by(d))),
            explains=explains,
            reasons=amending_reasons(explains, [c.doc_id for c in index.chunks]),
            dated_by=dating_clauses(index, counterparts),
            wordings=dated_wordings(index),
            counterparts=counterparts,
            acts=acts,
            wrote=applied_instructions(index.chunks, acts),
            provisions=provisions_of(index.chunks, acts, languages),
        )

    def route(self, plan: QueryPlan) -> QueryPlan:
        """The documents of the acts a question names ("the GDPR", "the Digital Omnibus on AI", "Regulation
        2026/1744") lead those the glossary points it to, in the order named; of an act held in two languages,
        the question's first. Which documents hold an act is read from the index, never from a list: a user's
        own copy of the DSA is routed to when the question names the DSA."""
        named = [doc for number in plan.acts
                 for doc in sorted((d for d, numbers in self.acts.items() if number in numbers),
                                   key=lambda d: self.documents.get(d, "en") != plan.language)]
        return replace(plan, docs=tuple(dict.fromkeys([*named, *plan.docs])))

    def unheld(self, plan: QueryPlan) -> tuple[str, ...]:
        """The acts a question names that the index does not hold, and the countries whose own law it asks about
        that no document here is, when it names no act the index holds and nothing else in it points to a
        document here: "What does the DSA say about recommender systems?" is about an act no passage here is
        from, however close some come; "Does the MDR make our AI high-risk?" is the AI Act's."""
        if plan.docs or any(number in self.held for number in plan.acts):
            return ()
        return (tuple(act_name(number) for number in plan.acts)
                + tuple(f"national law of {country}" for country in plan.countries if country not in self.held))

    def in_force_on(self, day: str) -> np.ndarray | None:
        """Rows whose wording was in force on `day` (law.versions.in_force, vectorised); None when every row is."""
        if not (self.valid_from.any() or self.valid_to.any()):
            return None
        return ((self.valid_from == "") | (self.valid_from <= day)) & ((self.valid_to == "") | (day < self.valid_to))

    def in_language(self, rankings: list[list[int]], language: str) -> list[int]:
        """The first model's ranking that reaches passages in `language` (MiniLM is kept to English: a French
        question's definitions come from E5's)."""
        return next((r for r in rankings if any(self.languages[row] == language for row in r[:DEFINITION_FEEDBACK])),
                    rankings[0])

    def with_defined_terms(self, plan: QueryPlan, dense: list[int]) -> str:
        """The query plus the terms defined by the definitions among the dense side's first passages.

        A question that paraphrases a definition ("a promo clip with a synthetic
        copy of an actor's face") finds it by meaning, but BM25 cannot see that
        the law's word for it is "deep fake", which is what the obligations
        articles say. The embedder has already made that link. Only definitions
        in the question's language count: a French term helps no English query.
        """
        terms = [self.terms[row] for row in dense[:DEFINITION_FEEDBACK]
                 if self.terms[row] and self.languages[row] == plan.language]
        missing = [t for t in dict.fromkeys(terms) if t.lower() not in plan.expanded.lower()]
        return " ".join([plan.expanded, *missing])

    def translate(self, fused: dict[int, float], language: str, allowed: np.ndarray | None) -> dict[int, float]:
        """A passage in another language than the question's lends a share of its score to the same provision
        in the question's language. The two are one provision, and the English text is read by both models
        (MiniLM reads English only), so a French question often finds the right English passage where its own
        words found the French one lower: on the tuning set's French questions, R@5 / MRR 0.775 / 0.617 ->
        0.900 / 0.693. Every passage of a provision that is found lends, and the loans add up. Added before
        the priors, which then keep the question's language first; only to rows the search may return (a filter
        on the English text keeps French rows out)."""
        lent = dict(fused)
        for row, score in fused.items():
            if self.languages[row] != language:
                for other in self.counterparts.get(row, ()):
                    if self.languages[other] == language and (allowed is None or allowed[other]):
                        lent[other] = lent.get(other, 0.0) + COUNTERPART_LEND * score
        return lent

    def phrased(self, fused: dict[int, float], phrasings: PhrasingIndex, queries: list[np.ndarray | None],
                plan: QueryPlan, allowed: np.ndarray | None, clear_lead: bool = True) -> dict[int, float]:
        """Each model's ranking of the provisions whose written questions are closest to the query joins the
        fusion at PHRASING_WEIGHT. A provision stands as its passage in the question's language that the fusion
        ranked best (its first, when none was found), and only where the search may return one: a French
        question reaches the AI Act's French text, none of the GDPR. A question that names a document, or that
        the glossary routes to one ("personal data": the GDPR), reaches the provisions of that document's act
        alone; routed only to documents that are no act (an analysis), it is not limited. A provision that a model
        finds clearly closest (`leads_clearly`, with `clear_lead`) joins once more, alone, at CLEAR_LEAD_WEIGHT."""
        acts = {act for doc in plan.docs for act in self.acts.get(doc, ())}

        @cache
        def rows(act: str, unit: str) -> tuple[int, ...]:
            if acts and act not in acts:
                return ()
            return tuple(r for r in self.provisions.get((act, unit, plan.language), ())
                         if allowed is None or allowed[r])

        rankings = phrasings.provisions(queries, plan.language, lambda act, unit: bool(rows(act, unit)), PHRASING_DEPTH)
        chosen, clear = [], []
        for model, ranking in zip(self.coverage.models, rankings, strict=True):
            if ranking is None:
                continue
            passages = [max(rows(c.act, c.unit), key=lambda r: (fused.get(r, 0.0), -r)) for c in ranking]
            chosen.append(passages)
            if clear_lead and leads_clearly(model, ranking):
                clear.append(passages[:1])
        fused = reciprocal_rank_fusion(chosen, weight=PHRASING_WEIGHT, onto=fused)
        return reciprocal_rank_fusion(clear, weight=CLEAR_LEAD_WEIGHT, onto=fused)

    def weigh(self, fused: dict[int, float], plan: QueryPlan) -> dict[int, float]:
        kind_prior = KIND_PRIOR[plan.intent]
        routed = set(plan.docs)
        weighted = {}
        for row, score in fused.items():
            score *= kind_prior.get(self.kinds[row], 1.0)
            if self.units[row][0] in routed:
                score *= ROUTED_DOC_PRIOR
            if self.languages[row] != plan.language:
                score *= OTHER_LANGUAGE_PRIOR
            weighted[row] = score
        return weighted

    def defer(self, fused: dict[int, float], plan: QueryPlan, allowed: np.ndarray | None) -> dict[int, float]:
        """An amending act's instruction whose wording the search may also return as the act it amended, as
        consolidated, weighs INSTRUCTION_WEIGHT. "Article 57 is amended as follows: ... replaced by ..." quotes
        the new wording, so a question about regulatory sandboxes finds it beside Article 57 in force, and often
        above: the reader needs the law as it stands, whose history names the instruction. Not for a question
        that asks what was amended or names the amending act; not on a day before the amendment applied, nor
        past a filter that keeps the amended act out, where the search cannot return what the instruction wrote."""
        if plan.about_amendments:
            return fused
        named = {doc for doc, numbers in self.acts.items() if set(numbers) & set(plan.acts)}
        return {row: score * INSTRUCTION_WEIGHT if self._deferred(row, named, allowed) else score
                for row, score in fused.items()}

    def _deferred(self, row: int, named: set[str], allowed: np.ndarray | None) -> bool:
        return self.units[row][0] not in named and any(allowed is None or allowed[written]
                                                        for written in self.wrote.get(row, ()))

    def lend(self, fused: dict[int, float], allowed: np.ndarray | None) -> dict[int, float]:
        """An article passage that a recital among the first fused passages explains, and that ranks below it,
        gains a share of the best such recital's score. A recital says in plain words why a rule exists (why
        emotion recognition at work is banned), so an everyday question often finds the recital before the
        article that decides it; the article is what the question needs.

        Nothing is lent when the passage a recital explains already ranks above it: lent to, the SME-support
        passage that a recital on start-ups explains outranked the transparency article a chatbot question was
        about. The article then ranks as its lifted passage would, and the passage of it that ranked best keeps
        leading it (the one the question matched): "Can employers use emotion recognition at work?" led with the
        point on biometric categorisation, lent to by its own recital. (Lending only when the article's leading
        passage ranks below the recital measured lower: holdout R@5 0.900 against 0.925, amended MRR 0.657
        against 0.694.) Only rows the search may return gain (its filters, the day asked: a link to today's
        wording goes to the provision's wording of that day)."""
        ranked = sorted(fused, key=lambda r: -fused[r])
        leading: dict[tuple[str, str], int] = {}
        for row in ranked:
            leading.setdefault(self.units[row][:2], row)
        return self._lent(fused, ranked, allowed, lambda row: (self.explains[row],) if row in self.explains else (),
                          RECITAL_LEND, lambda passage: leading.get(self.units[passage][:2], passage))

    def reason(self, fused: dict[int, float], allowed: np.ndarray | None) -> dict[int, float]:
        """For a "why" question, an article passage among the first fused passages lends RECITAL_LEND of its
        score to the amending act's recitals that explain it (`amending_reasons`), when they rank below it. The
        question's words name the rule as it now stands ("Why was the AI literacy duty softened?") and find
        the article as amended; the reason for the change is in the recital of the act that changed it, which
        shares few of those words and none of the article's number."""
        ranked = sorted(fused, key=lambda r: -fused[r])
        return self._lent(fused, ranked, allowed, lambda row: self.reasons.get(row, ()), RECITAL_LEND,
                          lambda recital: recital)

    def date(self, fused: dict[int, float], allowed: np.ndarray | None, day: str) -> dict[int, float]:
        """For a "when" question, a provision among the first fused passages lends a share of its score to the
        clause that says from when it applies (`dating_clauses`), when that clause ranks below it. The question
        names what it is about ("the high-risk rules"), and its words find those rules; the date is in the
        act's application article, whose clauses are lists of chapter numbers that no question's words find
        ("(c) Chapter III, Sections 1, 2 and 3 ... shall apply from ..."). The clause itself gains, not the
        article's best passage: it is the one that answers. The links are those of the texts in force on `day`."""
        links = self.dated_by.get(max((d for d in self.dated_by if d <= day), default=""), {})
        ranked = sorted(fused, key=lambda r: -fused[r])
        return self._lent(fused, ranked, allowed, lambda row: links.get(row, ()), DATE_LEND, lambda clause: clause)

    def _lent(self, fused: dict[int, float], ranked: list[int], allowed: np.ndarray | None,
              links: Callable[[int], tuple[int, ...]], share: float, target: Callable[[int], int]) -> dict[int, float]:
        """Each of the first LENDERS passages (`ranked`: `fused`, best first) lends `share` of its score to the
        passages it links to that rank below it (to `target` of each: the passage that is to rise), on the day
        searched."""
        lent = dict(fused)
        for row in ranked[:LENDERS]:
            for linked in links(row):
                passage = self._on_the_day(linked, allowed, fused)
                if passage is None or fused[row] <= fused.get(passage, 0.0):  # already found, and higher
                    continue
                gainer = target(passage)
                lent[gainer] = max(lent.get(gainer, 0.0), fused.get(passage, 0.0) + share * fused[row])
        return lent

    def _on_the_day(self, passage: int | None, allowed: np.ndarray | None, fused: dict[int, float]) -> int | None:
        """The linked passage, or where the search may not return it (the day asked is before an amendment
        gave it its wording), the wording of the same provision that it may return, if any."""
        if passage is None or allowed is None or allowed[passage]:
            return passage
        doc, _, label = self.units[passage]
        others = [row for row in self.wordings.get((doc, label), ()) if allowed[row]]
        return max(others, key=lambda row: fused.get(row, 0.0), default=None)

    def favour(self, fused: dict[int, float], asks: str) -> dict[int, float]:
        """Passages whose own wording answers the kind of question asked: one that prohibits, for "can we";
        one that says from when something applies, for "when" (read from the text: modality_of)."""
        return {row: score * (MODALITY_PRIOR if self.modalities[row] == asks else 1.0)
                for row, score in fused.items()}

    def pin(self, fused: dict[int, float], plan: QueryPlan, allowed: np.ndarray | None,
            resolve_act: bool = True) -> dict[int, float]:
        """Units the query names outrank everything, in the order named; the best-matching passage leads.
        A number names a provision of one act: with `resolve_act`, the act the question's other words found."""
        top = max(fused.values(), default=0.0)
        pinned = dict(fused)
        act = self.act_of(fused) if resolve_act and not plan.docs else None
        for order, reference in enumerate(plan.references):
            rows = self._in_scope([row for row, (_, unit, label) in enumerate(self.units)
                                   if unit == reference.unit and within(label, reference.label)
                                   and (allowed is None or allowed[row])], reference, plan)
            rows = [row for row in rows if self.units[row][0] == act] or rows
            exact = [row for row in rows if self.units[row][2] == reference.label] or rows
            for rank, row in enumerate(sorted(exact, key=lambda r: -fused.get(r, 0.0))):
                pinned[row] = top + 10.0 - order - rank * 1e-3
        return pinned

    def act_of(self, fused: dict[int, float]) -> str | None:
        """The document whose passages weigh most among the first fused results: what "Article 50" means in a
        question that does not name the act ("When does Article 50 apply?" in a corpus of the AI Act and the
        GDPR). Read before any pinning, from the ranking the question's words and meaning made."""
        weight: dict[str, float] = {}
        for row in sorted(fused, key=lambda r: -fused[r])[:ACT_EVIDENCE]:
            weight[self.units[row][0]] = weight.get(self.units[row][0], 0.0) + fused[row]
        return max(weight, key=weight.__getitem__, default=None)

    def _in_scope(self, rows: list[int], reference: Citation, plan: QueryPlan) -> list[int]:
        """Of the passages a reference may mean, those of the act named right after it ("Article 4 of the AI
        Act", in the question's language where that act is held in it); else those of the first document the
        question points to that has one ("Article 57" of a question naming only the amending act is the AI
        Act's); else those in the question's language."""
        if reference.act:
            held = [r for r in rows if reference.act in self.acts.get(self.units[r][0], ())]
            return [r for r in held if self.languages[r] == plan.language] or held
        for doc in plan.docs:
            if routed := [r for r in rows if self.units[r][0] == doc]:
                return routed
        return [r for r in rows if self.languages[r] == plan.language]


def leads_clearly(model: str, ranking: list[Closest]) -> bool:
    """Whether the model's closest provision, by its written questions, leads the next by CLEAR_LEAD."""
    lead = CLEAR_LEAD.get(model_name(model))
    return lead is not None and len(ranking) > 1 and ranking[0].cosine - ranking[1].cosine >= lead


def amending_reasons(explains: dict[int, int], docs: list[str]) -> dict[int, tuple[int, ...]]:
    """Each article row -> the rows of the recitals of another act (the one that amended it) that explain it,
    in the order of the texts. An act's own recitals are left out: the "why" prior already ranks them, and lent
    to as well they rose above the analysis's answers to "why" questions (dev 4th -> 6th, blind13 MRR 0.843 ->
    0.839, where the amending act's alone gave 0.845)."""
    explained: dict[int, list[int]] = {}
    for recital, article in sorted(explains.items()):
        if docs[recital] != docs[article]:
            explained.setdefault(article, []).append(recital)
    return {article: tuple(recitals) for article, recitals in explained.items()}


def explained_articles(index: store.LoadedIndex, kinds: list[str],
                       embedded: tuple[np.ndarray | None, ...]) -> dict[int, int]:
    """Each recital's row -> the row of the article passage in force closest to it, by the vectors of the model
    that embeds the most passages (E5, which reads French too; the last one on a tie).

    Why by meaning: recitals do not cite the articles they explain, but they come in the order of the articles
    and use their words. An amending act's recitals explain the provisions it changes, so theirs are looked for
    in the act it amends, as consolidated. Definitions are not linked: a recital that explains a concept is
    closest to its definition, which then led "can we" questions about the practice it defines. The weakest
    tenth of the links are dropped (a recital on chatbots as search services was closest to a transitional
    date). Rows the model has no vector for yet (`embedded`, per model) are left out, so a build whose vectors
    are still coming has fewer links, not wrong ones."""
    held = {d["doc_id"] for d in index.manifest.documents}
    amends = {d["doc_id"]: d["doc_id"] if d.get("amends") not in held else d["amends"]
              for d in index.manifest.documents}
    part = max(range(len(embedded)), key=lambda p: (len(kinds) if embedded[p] is None else embedded[p].sum(), p))
    has_vector = embedded[part]
    recitals: dict[str, list[int]] = {}
    articles: dict[str, list[int]] = {}
    for row, (chunk, kind) in enumerate(zip(index.chunks, kinds)):
        if has_vector is not None and not has_vector[row]:
            continue
        if kind == "recital":
            recitals.setdefault(amends.get(chunk.doc_id, chunk.doc_id), []).append(row)
        elif kind == "article" and not chunk.valid_to:
            articles.setdefault(chunk.doc_id, []).append(row)
    links: dict[int, tuple[int, float]] = {}
    for doc, recital_rows in recitals.items():
        article_rows = articles.get(doc, [])
        if not article_rows:
            continue
        recital_vectors = store.vectors_of(index.dense.parts[part], recital_rows)
        article_vectors = store.vectors_of(index.dense.parts[part], article_rows)
        for start in range(0, len(recital_rows), LINK_BLOCK):  # a block at a time: recitals x articles can be big
            similarity = recital_vectors[start:start + LINK_BLOCK] @ article_vectors.T
            for row, scores in zip(recital_rows[start:start + LINK_BLOCK], similarity):
                closest = int(scores.argmax())
                links[row] = (article_rows[closest], float(scores[closest]))
    weakest = set(sorted(links, key=lambda row: links[row][1])[: len(links) * WEAKEST_LINKS // 100])
    return {row: passage for row, (passage, _) in links.items() if row not in weakest}


def dating_clauses(index: store.LoadedIndex,
                   counterparts: dict[int, tuple[int, ...]] | None = None) -> dict[str, dict[int, tuple[int, ...]]]:
    """From each day the texts changed ("" before any change) -> each provision's row -> the rows of the clauses
    that say from when it applies, in the texts in force from that day: the clause of its act's application
    article that names it (or its section or chapter: law.timeline, which dates every result the same way), and
    any transitional deadline that covers it. A clause's row is the passage of its provision that holds the
    clause's words. Per period, because an amendment changes both: before 27 July 2026 the AI Act's Article 9
    applied from the general date, afterwards from its clause (c). Acts without a dated application article
    have none; a text law.timeline does not read (it reads English) borrows its `counterparts`' links
    (`_in_other_languages`)."""
    changes = {day for chunk in index.chunks for day in (chunk.valid_from, chunk.valid_to) if day}
    row_of = {id(chunk): row for row, chunk in enumerate(index.chunks)}
    periods = {day: _dating_clauses_on(index, day, row_of) for day in ["", *sorted(changes)]}
    return {day: _in_other_languages(links, counterparts or {}, index) for day, links in periods.items()}


def _in_other_languages(links: dict[int, tuple[int, ...]], counterparts: dict[int, tuple[int, ...]],
                        index: store.LoadedIndex) -> dict[int, tuple[int, ...]]:
    """The links, and the same links between the provisions' counterparts in the act's other languages where
    both say what the linked wordings say: the French Article 53 is dated by the French Article 113, point b),
    which says what the English clause does; the French Article 9 by nothing today, since the English clause
    that dates it (c) was rewritten by an amendment the French text does not have."""
    borrowed: dict[int, tuple[int, ...]] = {}
    for row, clauses in links.items():
        for other in counterparts.get(row, ()):
            doc = index.chunks[other].doc_id
            same = tuple(c for clause in clauses for c in counterparts.get(clause, ()) if index.chunks[c].doc_id == doc)
            if same and other not in links:
                borrowed[other] = tuple(dict.fromkeys((*borrowed.get(other, ()), *same)))
    return {**links, **borrowed}


def _dating_clauses_on(index: store.LoadedIndex, day: str, row_of: dict[int, int]) -> dict[int, tuple[int, ...]]:
    catalog = Catalog.of(in_force_on(index.chunks, day), index.manifest.documents)
    links: dict[int, tuple[int, ...]] = {}
    for doc_id, in_doc in catalog.chunks_of.items():
        dates = timeline(catalog, doc_id)
        if dates is None:
            continue
        by_unit: dict[str, list[Chunk]] = {}
        for chunk in in_doc:
            by_unit.setdefault(chunk.unit, []).append(chunk)
        clauses: dict[str, tuple[int, ...]] = {}
        for chunk in in_doc:
            if chunk.unit == dates.source.unit:
                continue
            if chunk.label not in clauses:
                clauses[chunk.label] = tuple(dict.fromkeys(
                    row_of[id(c)] for found in applies_from(catalog, dates, chunk.label)
                    for c in by_unit.get(unit_of(found.source), ()) if _says(c.text, found.clause)))
            if clauses[chunk.label]:
                links[row_of[id(chunk)]] = clauses[chunk.label]
    return links


def _says(text: str, clause: str) -> bool:
    """Whether a passage holds a clause: its first twelve words, however either spaces them."""
    words = " ".join(clause.split()[:12])
    return bool(words) and words in " ".join(text.split())


def counterparts_of(index: store.LoadedIndex) -> dict[int, tuple[int, ...]]:
    """Row -> the rows of the same provision (the same label) and wording in the act's other languages:
    documents with one CELEX number are one act. A provision chunked differently in the two texts ("Annex VI"
    against "Annex VI, point 1") has no counterpart. The search's day decides which rows may be returned."""
    celex = {d["doc_id"]: d.get("celex", "") for d in index.manifest.documents}
    rows: dict[tuple[str, str], list[int]] = {}
    for row, chunk in enumerate(index.chunks):
        if celex.get(chunk.doc_id):
            rows.setdefault((celex[chunk.doc_id], chunk.label), []).append(row)
    return {row: tuple(o for o in same if index.chunks[o].doc_id != index.chunks[row].doc_id
                       and _same_wording(index.chunks[row], index.chunks[o]))
            for same in rows.values() if len({index.chunks[r].doc_id for r in same}) > 1 for row in same}


def applied_instructions(chunks: list[Chunk], acts: dict[str, tuple[str, ...]]) -> dict[int, tuple[int, ...]]:
    """Each amending act's instruction passage -> the passages of the act it amended, as consolidated, whose
    wording its point wrote. Read from the consolidated text's own history (`Chunk.amended_by`: "Regulation (EU)
    2026/1744", "Article 1, point (22)(a)"), so only points the amendment engine applied link. A point that
    also deleted a provision links nothing: no text in force says what it says."""
    documents: dict[str, list[str]] = {}
    for doc, numbers in acts.items():
        for number in numbers:
            documents.setdefault(number, []).append(doc)
    rows_of: dict[tuple[str, str], list[int]] = {}
    for row, chunk in enumerate(chunks):
        rows_of.setdefault((chunk.doc_id, chunk.label), []).append(row)
    wrote: dict[int, set[int]] = {}
    deleting: set[int] = set()
    for row, chunk in enumerate(chunks):
        for amendment in chunk.amended_by:
            instructions = _instruction_rows(amendment, documents, rows_of)
            if amendment.kind == "deleted":
                deleting.update(instructions)
            elif not chunk.valid_to and chunk.status != "outdated":  # in force, in a language the act amended
                for instruction in instructions:
                    wrote.setdefault(instruction, set()).add(row)
    return {row: tuple(sorted(rows)) for row, rows in wrote.items() if row not in deleting}


_POINT = re.compile(r"(?P<article>Article \d+[a-z]*), point (?P<points>(?:\(\w+\))+)")


def _instruction_rows(amendment: Amendment, documents: dict[str, list[str]],
                      rows_of: dict[tuple[str, str], list[int]]) -> list[int]:
    """The passages of the amending act that hold a point ("Article 1, point (22)(a)" -> "Article 1(22)(a)",
    or the nearest enclosing label its passages have: "Article 1(22)"), in each document that is that act. A
    point not in that drafting form links nothing rather than to a wrong provision."""
    if not (m := _POINT.fullmatch(amendment.point)):
        return []
    label = m["article"] + m["points"]
    rows: list[int] = []
    for doc in (doc for number in acts_named(amendment.act) for doc in documents.get(number, ())):
        held = nearest(label, lambda candidate, doc=doc: (doc, candidate) in rows_of)
        rows += rows_of[doc, held] if held else []
    return rows


def _same_wording(one: Chunk, other: Chunk) -> bool:
    """Whether two languages' rows of one provision say the same: a text that an amending act has made
    "outdated" (the French one, which the amendments exist for only in English) says what the English wording
    before the amendment ("superseded") said, not what the amended one says."""
    statuses = (one.status, other.status)
    return ("outdated" in statuses) == ("superseded" in statuses)


def provisions_of(chunks: list[Chunk], acts: dict[str, tuple[str, ...]],
                  languages: dict[str, str]) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """(act number, unit, language) -> the rows of that provision's passages, in order."""
    rows: dict[tuple[str, str, str], list[int]] = {}
    for row, chunk in enumerate(chunks):
        for act in acts.get(chunk.doc_id, ()):
            rows.setdefault((act, chunk.unit, languages.get(chunk.doc_id, "en")), []).append(row)
    return {key: tuple(value) for key, value in rows.items()}


def dated_wordings(index: store.LoadedIndex) -> dict[tuple[str, str], tuple[int, ...]]:
    """(doc, label) -> the rows of each wording an amendment dated, so a link to today's finds another day's."""
    rows: dict[tuple[str, str], list[int]] = {}
    for row, chunk in enumerate(index.chunks):
        if chunk.valid_from or chunk.valid_to:
            rows.setdefault((chunk.doc_id, chunk.label), []).append(row)
    return {key: tuple(found) for key, found in rows.items()}


def _rows_embedded_by(model: str, models: tuple[str, ...], index: store.LoadedIndex) -> np.ndarray | None:
    """The rows `model` has vectors for; None when it has them for every row. The others hold zeros: a model
    kept to one language ("@en"), or one a staged ingest has not got to yet."""
    done = {d["doc_id"] for d in index.manifest.documents if model in embedded_models(d, models)}
    if len(done) == len(index.manifest.documents):
        return None
    return np.array([c.doc_id in done for c in index.chunks], dtype=bool)


def dated_hit(chunk: Chunk, score: float, document: dict[str, Any], dense_rank: int | None,
              lexical_rank: int | None, day: str) -> Hit:
    """A hit that says which version of its document it quotes: the one in force on the day searched."""
    return Hit(chunk, score, document, dense_rank, lexical_rank, day, version_on(document, day).to_json(),
               written_in(chunk.label, document.get("language", "en"), paragraphs=not in_definitions_article(chunk)))


_PROHIBITS = re.compile(r"\b(prohibited|prohibits|prohibition of|interdit(e|es|s)?|interdiction)\b", re.I)
_DATES = re.compile(r"\b(appl(y|ies) from|enter(s)? into force|applicable from|s['’]applique(nt)? à partir|"
                    r"applicable à partir|entre(nt)? en vigueur)\b", re.I)


def acts_held_by(document: dict[str, Any]) -> tuple[str, ...]:
    """The act a document is, by number: from its CELEX number ("32024R1689" -> "2024/1689"), else the first act
    its title or short name names (a user's "Digital Services Act.pdf" holds the DSA)."""
    if m := re.match(r"3(\d{4})[RLD](\d{4})", document.get("celex", "")):
        return (act_number(f"{m[1]}/{m[2]}"),)
    return acts_named(f"{document.get('title', '')} · {document.get('short', '')}")[:1]


def countries_held_by(document: dict[str, Any]) -> tuple[str, ...]:
    """The countries a document's title or short name names: a user's "German Federal Data Protection Act" holds
    that country's law as far as a question's "German law" goes (no official EU text here names one)."""
    return countries_mentioned(f"{document.get('title', '')} · {document.get('short', '')}")


def modality_of(chunk: Chunk) -> str:
    """What a passage's own wording does, for the questions that ask for it: "permission" when it (or the
    sentence introducing its list) prohibits, "date" when it says from when rules apply."""
    text = f"{chunk.lead} {chunk.text}"
    if _PROHIBITS.search(text):
        return "permission"
    return "date" if _DATES.search(text) else ""


def defined_term(chunk: Chunk) -> str:
    """The general term a definition passage defines; several in one passage are joined."""
    if not in_definitions_article(chunk):
        return ""
    return " ".join(d.term for d in definitions_in(chunk.label, chunk.text) if d.general)
