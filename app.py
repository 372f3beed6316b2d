"""RegKB in the browser: ask, browse and date the EU AI rules, every answer quoted and cited.

Run with `streamlit run app.py`. This file is only the page: searching, grouping,
highlighting, cross-references, dates and export live in `index/`, where an HTTP
API can call them too. Corpus text and questions are always escaped before they
reach st.markdown; the only HTML is the app's links to its own pages, built by `link`.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import json
import time
from collections import Counter
from collections.abc import Iterable
from datetime import date
from urllib.parse import urlencode

import streamlit as st
from PIL import Image, ImageDraw

from index.answers.export import (
    DISCLAIMER,
    answer_markdown,
    checklist_markdown,
    citation_line,
    escape_inline,
    escape_markdown,
    guard_line_start,
    safe_url,
)
from index.answers.highlight import Segment
from index.answers.provision import dated_timeline, read_provision, what_changed
from index.answers.question import DEFAULT_K, KIND_NAMES, Answer, Scope, answer, no_match_notice
from index.answers.results import Result, catalog_of
from index.assessment.assess import ROLES, Answers, Assessment, Assessor, DatedDuty
from index.config import settings
from index.feedback import FeedbackStore
from index.law.catalog import Catalog, breadcrumb, reading_order, standing
from index.law.definitions import Definition
from index.law.labels import unit_of, written_title
from index.law.obligations import RegisterError
from index.law.references import Reference, cited_provision, citing_provisions, reference_spans, related_provisions
from index.law.timeline import AppliesFrom, Milestone, Timeline
from index.law.versions import parse_day, today, version_on
from index.model import Chunk, Hit
from index.querylog import QueryLog
from index.retrieval.embedder import Embedder
from index.retrieval.progress import read_progress, stage_notice
from index.retrieval.search import QueryError, Searcher
from index.retrieval.store import IndexUnavailable, LoadedIndex
from ingest.sources import load_manifest

TABS = ("Ask", "Assess my system", "Browse", "What applies when")
VERDICTS = {"prohibited": ("Prohibited", "red", ":material/block:"),
            "high-risk": ("High-risk", "orange", ":material/warning:"),
            "limited": ("Transparency duty", "blue", ":material/visibility:"),
            "minimal": ("No specific duty", "green", ":material/check_circle:")}
EU_BLUE, EU_YELLOW = "#003399", "#FFCC00"
ASSESS_EXAMPLE = "We run a chatbot on our web shop that answers customers' questions about orders."
EXAMPLES = (
    "Which AI practices are prohibited?",
    "What must deployers of high-risk AI systems do?",
    "When do the rules for general-purpose AI models apply?",
    "Can AI be used to recognise emotions at work?",
)
INGEST_COMMAND = "python -m ingest --mirror ../shared/corpus"
CONSOLIDATION_NOTICE = ("Amended texts are RegKB's own consolidation of the act with its amending acts: it has no "
                        "legal effect, and only the acts as published in the Official Journal are authentic.")


# ---- loading: once per process, shared by every session ------------------------------------------------


@st.cache_resource(show_spinner="Opening the index…")
def load_searcher(data_dir: str, model: str) -> Searcher:
    """The searcher with its index open (no index: IndexUnavailable, not cached); its models load apart."""
    searcher = Searcher(settings(data_dir, model), shared_embedder(model))
    _ = searcher.index
    return searcher


@st.cache_resource(show_spinner="Loading the embedding models, once per server start (about 10 s)…")
def warm_models(model: str) -> bool:
    """The models read a first query, so that the first question is as fast as the rest. Called once the
    question box is on the page: a reader can type while they load, and Browse never waits for them."""
    shared_embedder(model).query("warm up")
    return True


@st.cache_resource(show_spinner=False)
def shared_embedder(model: str) -> Embedder:
    return Embedder(model)


@st.cache_resource(show_spinner="Reading the table of contents…", max_entries=8)
def catalog_for(build: str, day: str, _index: LoadedIndex) -> Catalog:
    """One catalog per build and day (the text in force then): a rebuilt index (a new `current`) gets a new one."""
    return catalog_of(_index, day)


def open_index() -> tuple[Searcher, Catalog]:
    """The searcher and catalog, or a clear message with the ingest command (and the page stops)."""
    config = settings()
    try:
        searcher = load_searcher(str(config.data_dir), config.model)
        index = searcher.index  # follows `current`: a rebuild is picked up without a restart
    except IndexUnavailable as error:
        st.error("RegKB has no index it can search yet.", icon=":material/search_off:")
        st.markdown("Build it from the official texts (offline, a few minutes), then reload this page:")
        st.code(INGEST_COMMAND, language="bash")
        st.caption(escape_markdown(f"Looked in {config.data_dir} (set REGKB_DATA_DIR to use another folder). {error}"))
        st.stop()
    if problem := searcher.live.problem:  # the new build failed: say which one is being searched
        st.warning(escape_markdown(f"The index was rebuilt but the new build cannot be read: {problem}."),
                   icon=":material/warning:")
    if notice := stage_notice(searcher.coverage, read_progress(config)):  # a cold ingest serves in stages
        st.info(escape_markdown(notice), icon=":material/hourglass_top:")
    return searcher, catalog_for(str(index.path), as_of(), index)


@st.cache_resource(show_spinner="Preparing the assessment (first use only)…", max_entries=4)
def assessor_for(build: str, day: str, _catalog: Catalog, _searcher: Searcher) -> Assessor | None:
    """One assessor per build and day; None (with the reason logged on the page) when the index lacks the AI Act."""
    try:
        return Assessor(_catalog, _searcher.embedder, _searcher.settings)
    except RegisterError:
        return None


def as_of() -> str:
    """The day whose text in force the page shows: today, unless the reader picked another (?as_of=)."""
    picked = st.session_state.get("as_of") or st.query_params.get("as_of")
    try:
        return parse_day(str(picked)) if picked else today()
    except ValueError:
        return today()


# ---- navigation: every link inside the app goes through here -------------------------------------------
#
# A provision opened from anywhere is a real link to the page's own URL (?view=Browse&bdoc=…&open=…): the browser
# keeps one history entry per click, so Back returns to the answer, and a link opens in a new tab or copies like
# any other. A button would set the three parameters one by one, and each change is an entry of its own.


def provision_url(doc_id: str, label: str, catalog: Catalog) -> str:
    """Browse at a provision, on the day the reader is reading (?as_of=) and in a frame if the page is in one.
    The document is written as the picker writes it (its short name) and left out when it is the picker's
    default: otherwise the page would rewrite its address on arrival, a second history entry."""
    params = {"view": "Browse", "bdoc": catalog.short_name(doc_id), "open": label}
    if doc_id == catalog.documents[0]["doc_id"]:
        del params["bdoc"]
    if as_of() != today():
        params["as_of"] = as_of()
    if st.context.is_embedded:
        params["embed"] = "true"
    return "?" + urlencode(params)


def link(markdown: str, doc_id: str, label: str, catalog: Catalog) -> str:
    """An anchor to a provision, opened in the same tab (a Markdown link would open a new one); `markdown` is
    already escaped, the address is escaped here."""
    return f'<a href="{html.escape(provision_url(doc_id, label, catalog))}" target="_self">{markdown}</a>'


def links_line(markdown: str, width: str = "stretch") -> None:
    st.markdown(markdown, unsafe_allow_html=True, width=width)


def reference_links(title: str, references: Iterable[Reference], source_doc: str, catalog: Catalog) -> None:
    """A caption and one link per reference (naming the document when it is another one); nothing when empty."""
    anchors = [link(escape_inline(reference.label + (f" {catalog.short_name(reference.doc_id)}"
                                                     if reference.doc_id != source_doc else "")),
                    reference.doc_id, reference.label, catalog) for reference in references]
    if anchors:
        links_line(f":gray[{escape_inline(title)}] " + " · ".join(anchors))


# ---- text: escaped, then styled with Streamlit's own directives ----------------------------------------


def highlighted(segments: list[Segment]) -> str:
    """Sentences that answer the question on a yellow background; everything escaped."""
    return markup((s.text, "yellow-background" if s.matched else "") for s in segments)


def provision_text(text: str, catalog: Catalog, doc_id: str, explain: bool) -> tuple[str, list[Definition]]:
    """The passage with its references to other provisions as links and, when `explain`, its defined terms
    in colour, with the definitions of those terms. A term inside a reference stays part of the link."""
    spans = {(s.start, s.end): s for s in reversed(reference_spans(text, doc_id, catalog))}  # a list: its first
    uses = [u for u in catalog.glossaries[doc_id].uses(text) if explain and not any(
        start < u.end and u.start < end for start, end in spans)]
    links = [(s.start, s.end, link(escape_inline(text[s.start:s.end]), s.reference.doc_id, s.reference.label,
                                   catalog)) for s in spans.values()]
    marks = sorted(links + [(u.start, u.end, _styled(text[u.start:u.end], "blue")) for u in uses])
    pieces, position = [], 0
    for start, end, marked in marks:
        pieces += [escape_inline(text[position:start]), marked]
        position = end
    pieces.append(escape_inline(text[position:]))
    return guard_line_start("".join(pieces)), list(dict.fromkeys(use.definition for use in uses))


def markup(pieces: Iterable[tuple[str, str]]) -> str:
    """One line from (text, style) pieces: each escaped, styled ones wrapped in a directive like :blue[...]."""
    return guard_line_start("".join(_styled(text, style) for text, style in pieces))


def _styled(text: str, style: str) -> str:
    body = text.strip()
    if not style or not body:
        return escape_inline(text)
    leading, trailing = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    return f"{leading}:{style}[{escape_inline(body)}]{trailing}"


# ---- Ask -----------------------------------------------------------------------------------------------


def ask_view(searcher: Searcher, catalog: Catalog) -> None:
    st.text_input("Your question", key="q", bind="query-params", persist_state="session", icon=":material/search:",
                  placeholder="e.g. Which AI practices are prohibited?")
    if st.context.is_embedded:  # an intranet frame is short: the question box first, the rest folded
        with st.expander("Examples", icon=":material/lightbulb:"):
            st.pills("Try", EXAMPLES, key="example", on_change=_use_example, label_visibility="collapsed")
    else:
        st.pills("Try", EXAMPLES, key="example", on_change=_use_example, label_visibility="collapsed")
    scope = scope_picker(catalog)
    question = st.session_state.get("q", "")
    if not question:
        st.caption("Ask in plain words. Every answer is a passage of the official text, cited and linked to EUR-Lex.")
        return
    shown = st.session_state.get("shown", ("", DEFAULT_K))
    k = shown[1] if shown[0] == " ".join(question.split()) else DEFAULT_K
    warm_models(settings().model)
    try:
        started = time.perf_counter()
        result = answer(searcher, catalog, question, scope, k,
                        assessor=assessor_for(str(searcher.index.path), as_of(), catalog, searcher))
    except QueryError as error:
        message = escape_markdown(str(error))
        st.warning(f"{message[:1].upper()}{message[1:]}.", icon=":material/edit_note:")
        return
    log_query(question, scope, k, result, time.perf_counter() - started)
    show_answer(result, catalog, k)


def log_query(question: str, scope: Scope, k: int, result: Answer, seconds: float) -> None:
    """One row of the administrators' query log (when REGKB_QUERY_LOG is on) per question asked, not per rerun:
    a click on a filter's neighbour or on a tab reruns the page with the same question."""
    log = QueryLog.from_environment(settings().data_dir)
    asked = (question, scope, k)
    if log is None or st.session_state.get("logged") == asked:
        return
    st.session_state["logged"] = asked
    log.record("app", question, scope.to_json(), [r.hit.citation for r in result.results], 1000 * seconds)


def _use_example() -> None:
    st.session_state["q"] = st.session_state["example"] or st.session_state.get("q", "")
    st.session_state["example"] = None


def scope_picker(catalog: Catalog) -> Scope:
    docs = [d["doc_id"] for d in catalog.documents]
    kinds = [k for k in KIND_NAMES if any(e.kind == k for entries in catalog.contents.values() for e in entries)]
    active = any(st.session_state.get(key) or st.query_params.get(key) for key in ("doc", "kind", "chapter"))
    with st.expander("Filters", expanded=active, icon=":material/filter_list:"):
        left, middle, right = st.columns(3)
        chosen_docs = left.multiselect("Documents", docs, key="doc", bind="query-params", persist_state="session",
                                       format_func=catalog.short_name, placeholder="All documents")
        chosen_kinds = middle.multiselect("Provisions", kinds, key="kind", bind="query-params", persist_state="session",
                                          format_func=lambda k: KIND_NAMES[k].capitalize(), placeholder="All kinds")
        chapters = catalog.chapters(chosen_docs[0]) if len(chosen_docs) == 1 else {}
        chapter = right.selectbox("Chapter", ["", *chapters], key="chapter", bind="query-params",
                                  persist_state="session", format_func=lambda c: chapters.get(c, c) or "Any chapter",
                                  disabled=not chapters, help="Pick one document to narrow to one of its chapters.")
        day = st.date_input("Law in force on", value=date.fromisoformat(as_of()), key="as_of",
                            bind="query-params", persist_state="session",
                            help="RegKB shows the text in force today; pick a date to read the law as it stood then "
                                 "(before 27 July 2026: the AI Act as first published).")
    return Scope(tuple(chosen_docs), tuple(chosen_kinds), chapter or "", day.isoformat() if day else "")


def show_answer(result: Answer, catalog: Catalog, k: int = DEFAULT_K) -> None:
    if not result.results:
        st.info("Nothing in the index matches that question within these filters. Try other words or fewer filters.")
        return
    with st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"):
        st.caption(escape_markdown(f"{len(result.results)} provisions · {result.scope.describe(catalog)} · "
                                   f"{result.seconds:.2f} s"), width="content")
        st.download_button("Download as Markdown", answer_markdown(result, catalog), file_name="regkb-answer.md",
                           mime="text/markdown", icon=":material/download:", on_click="ignore", type="tertiary")
    if result.weak:
        st.warning(escape_markdown(no_match_notice(catalog, result.unheld)), icon=":material/search_off:")
    if result.verdict and result.verdict_leads:
        verdict_card(result.verdict, result.asked_duty)
    glance(result)
    if any(r.hit.version.get("text", "").startswith("as amended") for r in result.results):
        st.caption(f":material/history_edu: {escape_markdown(CONSOLIDATION_NOTICE)}")
    for rank, item in enumerate(result.results, start=1):
        result_card(rank, item, result, catalog)
        if rank == 1 and result.verdict and not result.verdict_leads:
            verdict_card(result.verdict, result.asked_duty)
    if len(result.results) == k < MAX_SHOWN:
        st.button(f"Show {DEFAULT_K} more provisions", icon=":material/expand_more:", type="tertiary",
                  on_click=_show_more, args=(result.question, min(MAX_SHOWN, k + DEFAULT_K)))
    attributions(catalog, [r.hit.chunk.doc_id for r in result.results])
    feedback_form(result.question, catalog)


def _show_more(question: str, k: int) -> None:
    st.session_state["shown"] = (question, k)


def feedback_form(question: str, catalog: Catalog) -> None:
    """Helpful or not, and which provision should have come first: stored in the data folder, exported through
    the API as evaluation questions. Nothing but what the reader enters is kept."""
    with st.form(key="feedback", clear_on_submit=True, border=True):
        st.markdown("**Was this answer helpful?** · :gray[stored on this server to improve RegKB's answers]")
        verdict = st.radio("Helpful", ["Helpful", "Not helpful"], horizontal=True, label_visibility="collapsed",
                           key="fb-helpful")
        expected = st.text_input("Which provision should have come first? (optional)", key="fb-expected",
                                 placeholder="e.g. Article 5(1)(f)", max_chars=200)
        if st.form_submit_button("Send feedback", icon=":material/send:"):
            _, cited = FeedbackStore.in_folder(settings().data_dir).give(catalog, question, verdict == "Helpful",
                                                                         expected)
            st.success("Thank you: your feedback is stored." + ("" if cited or not expected else
                       " RegKB did not recognise that citation; it is kept as you typed it."))


def verdict_card(verdict: Assessment, asked: DatedDuty | None) -> None:
    """What decides the practice the question describes: "Prohibited: Article 5(1)(f) ..., applies since ..."."""
    name, color, icon = VERDICTS[verdict.risk_class]
    decisive = verdict.categories[0]
    dates = verdict.category_dates.get(decisive.category.id, ())
    when = f"; applies {'since' if dates and dates[0].day <= date.today() else 'from'} " \
           f"{long_date(dates[0].day.isoformat())}" if dates else ""
    with st.container(border=True):
        st.markdown(f":{color}-badge[{icon} {name}] **{escape_inline(' and '.join(decisive.category.provisions))} "
                    f"AI Act**: {escape_inline(decisive.category.title)}{escape_inline(when)}")
        if decisive.category.exception:
            st.caption(escape_markdown(decisive.category.exception))
        if asked:
            st.markdown(f"**Your duty here: {escape_inline(asked.citation)}** {escape_inline(asked.duty.text)}")
        duties = [d for d in verdict.duties if d.duty.label != "Article 4" and d is not asked][:4]
        if duties:
            st.markdown("\n".join(f"- **{escape_inline(d.citation)}** {escape_inline(d.duty.text)}" for d in duties))
        st.caption(escape_markdown(f"From RegKB's assessment of your question as a {verdict.role}; "
                                   f"{verdict.version}. Not legal advice."))
        st.button("Assess it in detail", key="to-assess", type="tertiary", icon=":material/fact_check:",
                  on_click=_assess_question, args=(verdict.text,))


def _assess_question(text: str) -> None:
    st.session_state["view"] = "Assess my system"
    st.session_state["describe"] = text


def glance(result: Answer) -> None:
    with st.container(border=True):
        st.markdown("**At a glance** · :gray[quoted from the sources below, nothing added]")
        st.markdown("\n".join(f"- “{escape_inline(item.quote)}” — **{escape_inline(item.citation)}**"
                              for item in result.glance))


def result_card(rank: int, result: Result, answered: Answer, catalog: Catalog) -> None:
    hit, chunk = result.hit, result.hit.chunk
    with st.container(border=True):
        st.markdown(f"**{escape_inline(hit.written_label)}** · {escape_inline(hit.document.get('short', chunk.doc_id))}"
                    + standing_badge(hit.document) + match_cue(hit))
        trail = breadcrumb(chunk, hit.document.get("language", "en"))
        page = f"p. {chunk.page}" if chunk.page else ""
        where = [" › ".join(trail), chunk.heading if chunk.heading not in trail else "", page]
        if any(where):
            st.caption(escape_markdown(" · ".join(part for part in where if part)))
        version_lines(result, catalog)
        if chunk.lead:
            st.markdown(f":gray[{escape_inline(chunk.lead)}]")
        st.markdown(highlighted(answered.highlighter.segments(chunk.text)))
        if result.more:
            with st.expander(f"{len(result.more)} more matching passage{'s' * (len(result.more) > 1)} "
                             f"in {escape_inline(chunk.unit)}"):
                for other in result.more:
                    st.caption(escape_markdown(other.written_label))
                    st.markdown(highlighted(answered.highlighter.segments(other.chunk.text)))
        card_actions(rank, result, catalog)


MAX_SHOWN = 48  # "show more" up to six pages of results
MATCH_CUE_RANK = 20  # of the 100 candidates each search returns


def standing_badge(document: dict) -> str:
    """ " :orange-badge[Analysis, not law]" for a text that is not an act; "" for an act."""
    kind = standing(document)
    return f" :orange-badge[{escape_inline(kind)}]" if kind else ""


def match_cue(hit: Hit) -> str:
    """Said when only one of the two searches found the passage: by meaning alone or by words alone is weaker
    evidence than both (nothing is said for a provision the question named, which neither needs to find)."""
    meaning = hit.dense_rank is not None and hit.dense_rank <= MATCH_CUE_RANK
    words = hit.lexical_rank is not None and hit.lexical_rank <= MATCH_CUE_RANK
    if meaning == words:
        return ""
    return " · :gray[found by its meaning only]" if meaning else " · :gray[found by its words only]"


def version_lines(result: Result, catalog: Catalog) -> None:
    """Which version the card quotes, what amended it, from when it applies; the previous wording one click away."""
    hit, chunk = result.hit, result.hit.chunk
    for amendment in (a for a in chunk.amended_by if a.in_force <= hit.as_of or not hit.as_of):
        if chunk.status == "outdated":
            st.warning(escape_markdown(f"Amended by {amendment.act}, {amendment.point}, in force "
                                       f"{long_date(amendment.in_force)}. {catalog.document(chunk.doc_id).get('note', '')}"),
                       icon=":material/translate:")
            consolidated = catalog.document(chunk.doc_id).get("consolidated_in", "")
            if consolidated and catalog.exists(consolidated, chunk.label):
                links_line(":material/translate: " + link(f"Read {escape_inline(chunk.label)} as in force (English)",
                                                          consolidated, chunk.label, catalog))
            break
        st.markdown(f":orange-badge[{escape_inline(chunk.status)}] "
                    f"{escape_inline(f'Amended by {amendment.act}, {amendment.point}, in force')}"
                    f" {escape_inline(long_date(amendment.in_force))}")
    applies_from_line(result.applies_from, catalog.short_name(chunk.doc_id))
    if hit.version:
        st.caption(escape_markdown(f"Quoted from the text in force on {long_date(hit.as_of)}: {hit.version['text']}"))
    previous = earlier_wordings(chunk)
    if chunk.status == "replaced" and previous:
        with st.expander("Previous wording, word by word"):
            st.markdown(word_diff(" ".join(c.text for c in previous), chunk.text))


def provision_history(catalog: Catalog, doc_id: str, label: str) -> None:
    """Above a provision: its version, its amendments (each with the wording it replaced), the dates it applies from."""
    index = load_searcher(str(settings().data_dir), settings().model).index
    record = read_provision(index, catalog, doc_id, label, as_of())
    for change in record.history:
        a = change.amendment
        st.markdown(f":orange-badge[{escape_inline(a.kind)}] "
                    f"{escape_inline(f'Amended by {a.act}, {a.point}, in force {long_date(a.in_force)}')}")
        if change.previous_text:
            with st.expander(f"Wording before {escape_inline(a.point)}"):
                st.markdown(escape_markdown(change.previous_text))
    applies_from_line(record.applies_from, catalog.short_name(doc_id))
    if record.history or catalog.document(doc_id).get("versions"):
        st.caption(escape_markdown(f"Text in force on {long_date(record.day)}: {record.version.text}"))


def applies_from_line(dates: Iterable[AppliesFrom], act: str) -> None:
    """ "Applies from 2 December 2027 (as regards ... Annex III); ... — Article 113 AI Act, as in force"."""
    dates = list(dates)
    if dates:
        when = "; ".join(f"{long_date(a.day.isoformat())} ({a.condition})" for a in dates)
        st.caption(escape_markdown(f"Applies from {when} — {dates[0].source} {act}, as in force"))


def earlier_wordings(chunk: Chunk) -> list[Chunk]:
    """The wordings this passage's provision had until the passage took effect: kept in the build, outside
    the day's catalog."""
    index = load_searcher(str(settings().data_dir), settings().model).index
    return [c for c in index.chunks if c.doc_id == chunk.doc_id and c.label == chunk.label
            and c.valid_to == chunk.valid_from]


def word_diff(before: str, after: str) -> str:
    """Deleted words struck through in red, inserted words in green; the rest as it stands."""
    old, new = before.split(), after.split()
    parts = []
    for op, a, b, c, d in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op in {"delete", "replace"}:
            parts.append(f":red[~~{escape_inline(' '.join(old[a:b]))}~~]")
        if op in {"insert", "replace"}:
            parts.append(f":green[{escape_inline(' '.join(new[c:d]))}]")
        if op == "equal":
            parts.append(escape_inline(" ".join(old[a:b])))
    return " ".join(parts)


def long_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def card_actions(rank: int, result: Result, catalog: Catalog) -> None:
    chunk = result.hit.chunk
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        with st.popover("Copy citation", icon=":material/content_copy:", type="tertiary"):
            st.code(citation_line(result.hit), language=None, wrap_lines=True)
        if safe_url(chunk.url):
            st.link_button("EUR-Lex", safe_url(chunk.url), icon=":material/open_in_new:", type="tertiary")
        links_line(":material/menu_book: " + link(f"Read all of {escape_inline(chunk.unit)}", chunk.doc_id, chunk.unit,
                                                      catalog), width="content")
    reference_links("Related:", result.related, chunk.doc_id, catalog)


def attributions(catalog: Catalog, doc_ids: list[str]) -> None:
    lines = [catalog.document(d).get("attribution", "") for d in dict.fromkeys(doc_ids)]
    st.caption("  \n".join(escape_markdown(line) for line in lines if line))


# ---- Assess my system -----------------------------------------------------------------------------------


def assess_view(searcher: Searcher, catalog: Catalog) -> None:
    st.text_area("Describe your AI system", key="describe", placeholder=ASSESS_EXAMPLE, height=110,
                 help="What it does, for whom, and whether you build it or use a product someone else built.")
    text = " ".join(st.session_state.get("describe", "").split())
    if not text:
        st.caption("RegKB proposes your role, the categories of the AI Act your system falls in and the duties "
                   "that follow, each cited and dated; you confirm or change every answer.")
        return
    warm_models(settings().model)
    assessor = assessor_for(str(searcher.index.path), as_of(), catalog, searcher)
    if assessor is None:
        st.warning("The assessment needs the AI Act in the index. " + INGEST_COMMAND, icon=":material/search_off:")
        return
    proposal = assessor.assess(text, as_of=as_of())
    answers = questionnaire(proposal, assessor, key=hashlib.sha1(text.encode()).hexdigest()[:12])
    outcome = assessor.assess(text, answers=answers, as_of=as_of()) if answers != Answers() else proposal
    assessment_outcome(outcome)


def questionnaire(proposal: Assessment, assessor: Assessor, key: str) -> Answers:
    """Every question in plain words with the provision behind it, pre-filled from the description."""
    with st.container(border=True):
        st.markdown("**Your answers** · :gray[pre-filled from your description: confirm or change them]")
        roles = list(ROLES)
        role = st.radio("Do you build the system, or use one?", roles, index=roles.index(proposal.role),
                        key=f"role-{key}", horizontal=True,
                        format_func=lambda r: {"provider": "We build it / sell it (provider, Article 3(3))",
                                               "deployer": "We use it (deployer, Article 3(4))"}[r])
        st.markdown("Does your system do any of these?")
        offered = [*proposal.categories, *proposal.candidates]
        chosen = tuple(m.category.id for m in offered
                       if st.checkbox(f"{m.category.title} ({m.category.label})",
                                      value=m in proposal.categories, key=f"cat-{key}-{m.category.id}",
                                      help=escape_markdown(m.category.exception) or None))
        st.markdown("Is any of these true?")
        exclusions = [m.category for m in assessor.matcher.exclusions()]
        excluded = tuple(c.id for c in exclusions
                         if st.checkbox(f"{c.title} ({c.label})", value=False, key=f"exc-{key}-{c.id}"))
    confirmed = Answers(role, chosen, excluded)
    unchanged = (role == proposal.role and set(chosen) == {m.category.id for m in proposal.categories}
                 and not excluded)
    return Answers() if unchanged else confirmed


def assessment_outcome(outcome: Assessment) -> None:
    name, color, icon = VERDICTS[outcome.risk_class]
    with st.container(border=True):
        st.markdown(f"### :{color}-badge[{icon} {name}]")
        for match in outcome.categories:
            dates = outcome.category_dates.get(match.category.id, ())
            since = f" · applies from {long_date(dates[0].day.isoformat())}" if dates else ""
            st.markdown(f"**{escape_inline(' and '.join(match.category.provisions))}** · "
                        f"{escape_inline(match.category.title)}{escape_inline(since)}")
            evidence = [e for e in match.evidence if e.kind != "cue"][:1]
            cues = [e.text for e in match.evidence if e.kind == "cue"]
            st.caption(escape_markdown("Matched: " + "; ".join([*(f"“{e.text[:140]}” ({e.score:.2f})" for e in evidence),
                                                                  *(f"words: {c}" for c in cues)])
                                       + f" · score {match.score:.2f}"))
        st.caption(escape_markdown(outcome.version))
    if outcome.duties:
        st.markdown(f"**Your duties as {escape_inline(outcome.role)}** ({len(outcome.duties)})")
        for duty in outcome.duties:
            with st.container(border=True):
                condition = f" · :gray[{escape_inline(duty.duty.condition)}]" if duty.duty.condition else ""
                st.markdown(f"**{escape_inline(duty.citation)}** {escape_inline(duty.duty.text)}{condition}")
                applies_from_line(duty.applies_from, "AI Act" if duty.duty.doc == "ai-act" else duty.duty.doc.upper())
                if duty.duty.penalty:
                    st.caption(escape_markdown(f"Penalty: {duty.duty.penalty}"))
    for sentence in outcome.undecided:
        st.info(escape_markdown(sentence), icon=":material/help:")
    with st.container(horizontal=True):
        st.download_button("Checklist (Markdown)", checklist_markdown(outcome), file_name="regkb-assessment.md",
                           mime="text/markdown", icon=":material/download:", on_click="ignore", type="tertiary")
        st.download_button("Checklist (JSON)", json.dumps(outcome.to_json(), ensure_ascii=False, indent=2),
                           file_name="regkb-assessment.json", mime="application/json", icon=":material/download:",
                           on_click="ignore", type="tertiary")


# ---- Browse --------------------------------------------------------------------------------------------


def browse_view(catalog: Catalog) -> None:
    """Contents in the sidebar, like a book's; the opened provision (kept in the URL as ?open=) in the page."""
    docs = [d["doc_id"] for d in catalog.documents]
    opened = st.query_params.get("open", "")
    with st.sidebar:
        doc_id = st.selectbox("Document", docs, key="bdoc", bind="query-params", format_func=catalog.short_name,
                              on_change=_close_provision)
        table_of_contents(catalog, doc_id, opened)
        corpus_overview(catalog)
    st.selectbox("Go to", [e.unit for e in catalog.contents[doc_id]], index=None, key="goto",
                 placeholder="Type to jump: Article 50, Art. 6(3), Annex 3, Recital 12…", label_visibility="collapsed",
                 accept_new_options=True, on_change=_go_to, args=(doc_id, catalog))
    if missed := st.session_state.pop("goto_missed", ""):
        st.warning(escape_markdown(f"No provision “{missed}” in {catalog.short_name(doc_id)} or the other documents "
                                   "(citations look like Article 6(3), Art. 5(1)(f), Annex III, Recital 12)."))
    if opened and catalog.exists(doc_id, opened):
        provision(catalog, doc_id, opened)
    else:
        document_overview(catalog, doc_id)


def corpus_overview(catalog: Catalog) -> None:
    """What the index holds (which version, how much) and which official sources it lacks, with how to add them."""
    indexed = {d["doc_id"] for d in catalog.documents}
    missing = [s for s in load_manifest() if s.id not in indexed]
    with st.expander(f"Corpus: {len(indexed)} documents indexed" + (f", {len(missing)} missing" if missing else ""),
                     icon=":material/library_books:"):
        for document in catalog.documents:
            st.markdown(f"**{escape_inline(catalog.short_name(document['doc_id']))}**{standing_badge(document)}  \n"
                        + escape_inline(f"{document.get('version_date') or 'undated'} · {document.get('chunks', 0):,} "
                                        "passages"))
        for source in missing:
            st.markdown(f"**{escape_inline(source.short)}** :gray-badge[not indexed]  \n{escape_inline(source.title)}")
        if missing:
            st.caption(escape_markdown("To add one, put its official file (named in corpus/sources.toml, downloadable "
                                       "from EUR-Lex) in the mirror folder and run: " + INGEST_COMMAND))


def _close_provision() -> None:
    st.query_params.pop("open", None)


def _go_to(doc_id: str, catalog: Catalog) -> None:
    """A unit picked from the list, or a citation typed the way readers type them ("Art. 6(3)", "Annex 3")."""
    typed = st.session_state["goto"]
    st.session_state["goto"] = None
    if not typed:
        return
    cited = Reference(doc_id, typed) if catalog.exists(doc_id, typed) else cited_provision(catalog, typed, doc_id)
    if cited:  # within Browse, so a form, not a link: the document and the provision change together
        st.session_state["bdoc"] = cited.doc_id
        st.query_params["open"] = cited.label
    else:
        st.session_state["goto_missed"] = typed


def table_of_contents(catalog: Catalog, doc_id: str, opened: str) -> None:
    """A part picker and the part's provisions; both follow the provision opened from anywhere else."""
    entries = catalog.contents[doc_id]
    current = next((e for e in entries if e.unit == unit_of(opened)), None)
    anchor = current or next((e for e in entries if e.chapter == unit_of(opened)), None)
    parts = catalog.parts(doc_id)
    part = st.selectbox("Contents", parts, index=parts.index(anchor.part) if anchor else 0,
                        format_func=lambda p: written_title(p, catalog.language(doc_id)))
    units = [e for e in entries if e.part == part]
    choice = st.radio(part, units, format_func=lambda e: e.caption, label_visibility="collapsed",
                      index=units.index(current) if current in units else None)
    if choice is not None and choice != current:
        st.query_params["open"] = choice.unit
        st.rerun()


def document_overview(catalog: Catalog, doc_id: str) -> None:
    document = catalog.document(doc_id)
    st.subheader(escape_markdown(document.get("title", doc_id)), anchor=False)
    if badge := standing_badge(document):
        st.markdown(badge.strip() + " " + escape_markdown(document.get("attribution", "")))
    counts = Counter(entry.kind for entry in catalog.contents[doc_id])
    st.caption(escape_markdown(" · ".join(f"{n} {KIND_NAMES.get(k, k)}" for k, n in counts.items())))
    if safe_url(document.get("landing", "")):
        st.link_button("Official text on EUR-Lex", safe_url(document["landing"]), icon=":material/open_in_new:")
    st.markdown("Pick a provision from the contents, or type its name above.")
    version = version_on(document, as_of())
    if document.get("versions"):
        st.caption(escape_markdown(f"Shown as in force on {long_date(as_of())}: {version.text}."))
        what_changed_view(catalog, doc_id)
    if document.get("outdated_by"):
        st.warning(escape_markdown(document.get("note", "")), icon=":material/translate:")
    attributions(catalog, [doc_id])


def what_changed_view(catalog: Catalog, doc_id: str) -> None:
    """Every change the amending acts in force made, provision by provision, with the recitals that explain it."""
    index = load_searcher(str(settings().data_dir), settings().model).index
    changed = what_changed(index, catalog, doc_id, as_of())
    if not changed:
        return
    st.markdown(f"**What changed** · :gray[{len(changed)} provisions amended]")
    for i, provision_changes in enumerate(changed):
        with st.container(border=True):
            links_line("**" + link(escape_inline(f"{provision_changes.unit} · {provision_changes.title}"), doc_id,
                                   provision_changes.unit, catalog) + "**")
            by_point: dict[str, list[str]] = {}
            amendments = {}
            for label, change in provision_changes.changes:
                by_point.setdefault(change.amendment.point, []).append(label)
                amendments[change.amendment.point] = change.amendment
            st.markdown("  \n".join(
                f"{escape_inline(a.kind.capitalize())} by {escape_inline(a.act)}, {escape_inline(point)} "
                f"(in force {escape_inline(long_date(a.in_force))}): {escape_inline(', '.join(labels))}"
                for point, labels in by_point.items() for a in [amendments[point]]))
            reference_links("Why:", provision_changes.explained_by, doc_id, catalog)


def provision(catalog: Catalog, doc_id: str, label: str) -> None:
    """One article, recital or annex (or one of its paragraphs), with defined terms explained where they occur."""
    if label.startswith("Chapter"):
        chapter(catalog, doc_id, label)
        return
    chunks = catalog.chunks(doc_id, label)
    unit = chunks[0].unit
    entry = catalog.entry(doc_id, unit)
    st.subheader(escape_markdown(entry.caption.replace(" · ", " — ") if entry else unit), anchor=False)
    st.caption(escape_markdown(" › ".join([catalog.short_name(doc_id), *breadcrumb(chunks[0], catalog.language(doc_id))[:-1]])))
    if label != unit:
        links_line(":material/unfold_more: " + link(f"Showing {escape_inline(label)} only: read all of "
                                                    f"{escape_inline(unit)}", doc_id, unit, catalog))
    provision_history(catalog, doc_id, label)
    explain = not catalog.glossaries[doc_id].defined_in(unit)
    explained: set[Definition] = set()
    for lead, chunk in reading_order(chunks):
        if lead:
            st.markdown(escape_markdown(lead))
        text, definitions = provision_text(chunk.text, catalog, doc_id, explain)
        links_line(f":orange-badge[{chunk.status}] {text}" if chunk.status in {"replaced", "inserted"} else text)
        new = [d for d in definitions if d not in explained]
        explained.update(new)
        if new:
            st.caption("  \n".join(f"**{escape_inline(d.term)}** ({escape_inline(d.label)}): {escape_inline(d.text)}"
                                   for d in new))
    provision_footer(catalog, doc_id, chunks)


def provision_footer(catalog: Catalog, doc_id: str, chunks: list[Chunk]) -> None:
    related = related_provisions(catalog, chunks)
    if safe_url(chunks[0].url):
        st.link_button("EUR-Lex", safe_url(chunks[0].url), icon=":material/open_in_new:", type="tertiary")
    reference_links("Related provisions:", related, doc_id, catalog)
    reference_links("Cited by:", cited_by_for(catalog_key(catalog), catalog).get((doc_id, chunks[0].unit), []),
                    doc_id, catalog)
    attributions(catalog, [doc_id])


@st.cache_resource(show_spinner=False, max_entries=8)
def cited_by_for(key: str, _catalog: Catalog) -> dict[tuple[str, str], list[Reference]]:
    """Every provision's "cited by" for one catalog (a build on a day): one pass over its passages, about 0.2 s."""
    return citing_provisions(_catalog)


def catalog_key(catalog: Catalog) -> str:
    """What a catalog is made of: each document's passages (by cache key) and the day whose text it holds."""
    return "|".join([as_of(), *(str(d.get("cache_key", d["doc_id"])) for d in catalog.documents)])


def chapter(catalog: Catalog, doc_id: str, label: str) -> None:
    st.subheader(escape_markdown(catalog.container_title(doc_id, label)), anchor=False)
    st.caption(escape_markdown(f"{catalog.short_name(doc_id)} › {label}"))
    links_line("  \n".join(link(escape_inline(entry.caption), doc_id, entry.unit, catalog)
                            for entry in catalog.units_under(doc_id, label)))


# ---- What applies when ---------------------------------------------------------------------------------


def timeline_view(catalog: Catalog) -> None:
    index = load_searcher(str(settings().data_dir), settings().model).index
    timelines = {}
    for document in catalog.documents:
        if found := dated_timeline(lambda on: catalog_for(str(index.path), on, index), document["doc_id"], as_of()):
            timelines[document["doc_id"]] = found
    if not timelines:
        st.info("None of the indexed documents has a dated “entry into force and application” article.")
        return
    doc_id = st.selectbox("Document", list(timelines), key="tdoc", format_func=catalog.short_name)
    dates = timelines[doc_id]
    source = dates.source
    version = version_on(catalog.document(doc_id), as_of())
    st.caption(escape_markdown(f"Today is {long_date(today())}. Read from {source.unit} {catalog.short_name(doc_id)} "
                               f"({source.title}) as in force on {long_date(as_of())}: {version.text}. "
                               "Each date is quoted from that article; open it to read it whole."))
    upcoming = [m.day for m in dates.milestones if m.day > date.today()]
    if upcoming:
        st.info(f"Next date: **{long_date(upcoming[0].isoformat())}**", icon=":material/event_upcoming:")
    links_line(":material/menu_book: " + link(f"Read {escape_inline(source.unit)}", doc_id, source.unit, catalog))
    for milestone in dates.milestones:
        milestone_card(milestone, dates, catalog)
    attributions(catalog, [doc_id])


def milestone_card(milestone: Milestone, dates: Timeline, catalog: Catalog) -> None:
    with st.container(border=True):
        when, what = st.columns([1, 4])
        when.markdown(f"**{milestone.day.day} {milestone.day:%B %Y}**")
        if milestone.previous_day:
            when.caption(f"was {milestone.previous_day.day} {milestone.previous_day:%B %Y}")
        when.badge("in effect" if milestone.day <= date.today() else "upcoming",
                   color="green" if milestone.day <= date.today() else "orange")
        covered = "the act as a whole" if not milestone.covers else "the provisions below"
        what.markdown(f"**{milestone.event}** · :gray[{covered}]")
        what.markdown(f"“{escape_inline(milestone.quote)}”")
        if milestone.condition:
            what.caption(escape_markdown(milestone.condition))
        if milestone.note:
            what.caption(escape_markdown(milestone.note))
        with what:
            reference_links("Covers:", milestone.covers, dates.doc_id, catalog)
            reference_links("Except:", milestone.excepted, dates.doc_id, catalog)


# ---- page ----------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def page_icon() -> Image.Image:
    """A balance drawn here and served by the app itself: a Material or emoji page icon is fetched from a CDN,
    and no page may call out to another host."""
    icon = Image.new("RGBA", (64, 64), EU_BLUE)
    pen = ImageDraw.Draw(icon)
    pen.line([(32, 12), (32, 52)], fill=EU_YELLOW, width=4)
    pen.line([(12, 20), (52, 20)], fill=EU_YELLOW, width=4)
    pen.line([(18, 52), (46, 52)], fill=EU_YELLOW, width=4)
    for x in (16, 48):
        pen.polygon([(x - 9, 38), (x + 9, 38), (x, 22)], outline=EU_YELLOW, width=3)
    return icon


def header() -> None:
    """The title and the disclaimer; in a frame (?embed=true) the disclaimer alone, and no Stop button: the
    readers of an intranet page are not the app's operators."""
    if st.context.is_embedded:
        st.html("<style>[data-testid='stStatusWidget']{display:none}"
                "[data-testid='stMainBlockContainer']{padding-top:0.75rem}</style>")
    else:
        st.markdown("### :material/balance: RegKB · EU AI regulation, quoted and cited")
    st.caption(f":material/info: {escape_markdown(DISCLAIMER)}")


def main() -> None:
    st.set_page_config(page_title="RegKB · EU AI regulation", page_icon=page_icon(), layout="centered")
    header()
    searcher, catalog = open_index()
    ask_tab, assess_tab, browse_tab, when_tab = st.tabs(TABS, key="view", bind="query-params", on_change="rerun")
    if ask_tab.open:
        with ask_tab:
            ask_view(searcher, catalog)
    if assess_tab.open:
        with assess_tab:
            assess_view(searcher, catalog)
    if browse_tab.open:
        with browse_tab:
            browse_view(catalog)
    if when_tab.open:
        with when_tab:
            timeline_view(catalog)
    warm_models(settings().model)  # after the page: the question box can be typed into meanwhile


main()
