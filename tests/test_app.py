"""The Streamlit app, driven by AppTest against the mini index, and the logic behind what it shows.

Every flow of the page runs in-process in a few seconds: ask (from the URL, an
example, with filters), bad questions, no index, browse (contents, provisions,
chapters, related provisions), the timeline, and that nothing is rendered as HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from index.answers.export import (
    WORD_JOINER,
    _passage_section,
    answer_markdown,
    citation_line,
    escape_markdown,
    linked_text,
)
from index.answers.highlight import Highlighter, sentences
from index.answers.question import Scope, answer
from index.answers.results import catalog_of
from index.config import Settings
from index.law.catalog import Catalog
from index.model import Hit
from index.retrieval import store
from index.retrieval.search import Searcher

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MINI = "user-mini-act"
QUESTION = "Can a lawnmower infer the emotions of hedgehogs?"

Start = Callable[..., AppTest]


def opener(index: Settings, monkeypatch: pytest.MonkeyPatch) -> Start:
    """Open the app on this index with these URL parameters, as a browser would."""
    monkeypatch.setenv("REGKB_DATA_DIR", str(index.data_dir))

    def run(**params: str | list[str]) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=180)
        app.query_params.update(params)
        app.run()
        assert not app.exception, app.exception
        return app

    return run


@pytest.fixture
def start(mini_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Start:
    return opener(mini_index, monkeypatch)


ANCHOR = re.compile(r'<a href="(?P<href>[^"<>]*)" target="_self">(?P<text>.*?)</a>')


def markdown_text(app: AppTest) -> str:
    """What the page says, links read as their text."""
    return "\n".join(ANCHOR.sub(r"\g<text>", m.value) for m in app.markdown)


def labels_of_cards(app: AppTest) -> list[str]:
    return re.findall(r"^\*\*(.+?)\*\* · (?!:gray)", markdown_text(app), flags=re.MULTILINE)


def links(app: AppTest, line: str = "") -> list[tuple[str, dict[str, str]]]:
    """The links to the app's own pages on the lines that start with `line`, in order: each one's text and the
    URL parameters it opens."""
    return [(m["text"], dict(parse_qsl(urlsplit(html.unescape(m["href"])).query)))
            for markdown in app.markdown if markdown.value.startswith(line)
            for m in ANCHOR.finditer(markdown.value)]


def follow(start: Start, app: AppTest, text: str) -> AppTest:
    """A click on a link: a page load of the URL it names."""
    return start(**next(params for shown, params in links(app) if shown == text))


def card_headers(app: AppTest) -> list[str]:
    """Each result card's first line: label, document, badges."""
    return [m.value for m in app.markdown if re.match(r"^\*\*.+?\*\* · (?!:gray)", m.value)]


# ---- Ask --------------------------------------------------------------------------------------------------


def test_a_question_in_the_url_opens_on_its_answer(start: Start) -> None:
    app = start(q=QUESTION)
    assert labels_of_cards(app)[0] == "Article 2(1)(b)"
    text = markdown_text(app)
    assert "**At a glance**" in text and "— **Article 2(1)(b) mini-act**" in text
    assert ":yellow-background[(b) the use of a lawnmower that infers the emotions of hedgehogs" in text
    captions = "\n".join(c.value for c in app.caption)
    assert "Not legal advice" in captions and "Your document\\: mini-act.html" in captions
    assert "Chapter II › Article 2 · Prohibited mowing practices" in captions


def test_each_card_offers_its_citation_to_copy_and_the_answer_downloads(start: Start) -> None:
    app = start(q=QUESTION)
    assert app.code[0].value == "Article 2(1)(b) mini-act"
    assert [b.label for b in app.download_button] == ["Download as Markdown"]


def test_an_example_question_is_asked_when_picked(start: Start) -> None:
    app = start()
    assert labels_of_cards(app) == []
    app.pills[0].set_value(app.pills[0].options[0]).run()
    assert app.session_state["q"] == "Which AI practices are prohibited?"
    assert labels_of_cards(app)


@pytest.mark.parametrize(("question", "message"), [
    ("   ", "The query is empty"),
    ("mow " * 300, "the limit is 1,000"),
])
def test_an_empty_or_overlong_question_gets_a_clear_message(start: Start, question: str, message: str) -> None:
    app = start(q=question)
    assert message in app.warning[0].value
    assert labels_of_cards(app) == []


def test_filters_narrow_the_answer_and_live_in_the_url(start: Start) -> None:
    """The URL carries what the reader sees: document short names, kinds, chapter titles."""
    recitals = labels_of_cards(start(q="mowing", kind="Recitals"))
    assert recitals and set(recitals) <= {"Recital 1", "Recital 2"}
    notes = start(q="mowing", doc="notes")
    assert notes.multiselect(key="doc").value == ["user-notes"]
    assert labels_of_cards(notes) and {label.split(" ¶")[0] for label in labels_of_cards(notes)} <= {
        "Battery safety", "Noise"}
    chapter = start(q="mowing", doc="mini-act", chapter="Chapter II — Prohibited mowing practices")
    assert chapter.selectbox(key="chapter").value == "Chapter II"
    assert labels_of_cards(chapter) and {label.split("(")[0] for label in labels_of_cards(chapter)} <= {
        "Article 2", "Article 3", "Article 4"}


def test_a_card_links_to_its_whole_provision_in_browse(start: Start) -> None:
    """A link, not a button: one history entry per click, so the browser's Back returns to the answer."""
    app = start(q=QUESTION)
    assert ("Read all of Article 2", {"view": "Browse", "open": "Article 2"}) in links(app)
    assert follow(start, app, "Read all of Article 2").subheader[0].value == "Article 2 — Prohibited mowing practices"


def test_links_keep_the_day_read_and_name_another_document_as_its_picker_does(start: Start) -> None:
    app = start(q="battery safety noise", as_of="2030-01-01", doc="notes")
    assert {"view": "Browse", "bdoc": "notes", "open": "Battery safety", "as_of": "2030-01-01"} in [
        params for _, params in links(app)]


def test_the_only_html_is_links_to_the_apps_own_pages(start: Start) -> None:
    for app in (start(q=QUESTION), start(view="Browse", open="Article 3"), start(view="What applies when"),
                start(view="Browse", open="Chapter II")):
        for markdown in [m for m in app.markdown if m.proto.allow_html] + [c for c in app.caption]:
            assert not re.search(r"(?<!\\)<", ANCHOR.sub(r"\g<text>", markdown.value)), markdown.value
            assert all(m["href"].startswith("?view=Browse&amp;") for m in ANCHOR.finditer(markdown.value))
        assert not [c for c in app.caption if c.proto.allow_html]


def test_without_an_index_the_app_says_how_to_build_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGKB_DATA_DIR", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    assert "no index" in app.error[0].value and "no index in" in app.caption[-1].value
    assert app.code[0].value == "python -m ingest --mirror ../shared/corpus"
    assert not app.tabs


# ---- Browse -----------------------------------------------------------------------------------------------


def test_browse_opens_a_provision_with_its_related_provisions(start: Start) -> None:
    app = start(view="Browse", bdoc="mini-act", open="Article 3")
    assert app.subheader[0].value == "Article 3 — Penalties"
    assert "1\\. Infringements of Article 2 shall be subject to administrative fines" in markdown_text(app)
    assert [text for text, _ in links(app, ":gray[Related provisions")] == ["Article 2"]
    related = follow(start, app, "Article 2")
    assert related.subheader[0].value == "Article 2 — Prohibited mowing practices"
    cited_by = [text for text, _ in links(related, ":gray[Cited by")]
    assert cited_by == ["Article 3", "Article 4"]  # the penalties and the application dates refer to it


def test_references_in_a_provisions_text_are_links(start: Start) -> None:
    app = start(view="Browse", bdoc="mini-act", open="Article 3")
    in_text = [(text, params) for text, params in links(app, "1\\. Infringements")]
    assert in_text == [("Article 2", {"view": "Browse", "open": "Article 2"})]


def test_the_contents_open_any_provision(start: Start) -> None:
    app = start(view="Browse", bdoc="mini-act")
    assert app.subheader[0].value == "mini act"
    app.sidebar.selectbox[1].set_value("Annexes").run()
    app.sidebar.radio[0].set_value(app.sidebar.radio[0].options[0]).run()
    assert app.query_params["open"] == "Annex I"
    assert "The following :blue[lawnmowers] are high-risk" in markdown_text(app)  # a defined term, marked


def test_a_chapter_opens_as_its_list_of_provisions(start: Start) -> None:
    app = start(view="Browse", bdoc="mini-act", open="Chapter II")
    assert app.subheader[0].value == "Chapter II — Prohibited mowing practices"
    assert [text for text, _ in links(app)] == [
        "Article 2 · Prohibited mowing practices", "Article 3 · Penalties", "Article 4 · Start of application"]


def test_a_point_opens_alone_with_a_way_to_the_whole_provision(start: Start) -> None:
    app = start(view="Browse", bdoc="mini-act", open="Article 2(1)(b)")
    assert "the hedgehog is asleep" in markdown_text(app)
    assert "shall keep a log" not in markdown_text(app)
    whole = follow(start, app, "Showing Article 2(1)(b) only: read all of Article 2")
    assert "shall keep a log" in markdown_text(whole)


def type_into(box, text: str):
    """A value typed into a selectbox that accepts new options (AppTest only picks listed ones): the browser
    sends the typed string, as it sends a listed one."""
    box.options.append(text)
    return box.set_value(text)


@pytest.mark.parametrize("typed, opened", [("Art. 2(1)(b)", "Article 2(1)(b)"), ("article 2 paragraph 2", "Article 2(2)"),
                                           ("Annex 1", "Annex I"), ("Art 3", "Article 3")])
def test_go_to_accepts_citations_as_readers_type_them(start: Start, typed: str, opened: str) -> None:
    app = start(view="Browse", bdoc="mini-act")
    type_into(app.selectbox(key="goto"), typed).run()
    assert app.query_params["open"] == opened and not app.warning


def test_go_to_says_when_nothing_has_that_citation(start: Start) -> None:
    app = start(view="Browse", bdoc="mini-act")
    type_into(app.selectbox(key="goto"), "Article 77").run()
    assert "open" not in app.query_params and "No provision “Article 77”" in app.warning[0].value


# ---- What applies when ------------------------------------------------------------------------------------


def test_the_timeline_quotes_the_application_date(start: Start) -> None:
    app = start(view="What applies when")
    text = markdown_text(app)
    assert "**1 May 2100**" in text
    assert "“It applies from 1 May 2100”" in text
    assert "the act as a whole" in text


@pytest.mark.slow
def test_the_real_ai_act_in_the_app(corpus_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    start_real = opener(corpus_index, monkeypatch)
    asked = start_real(q="Can employers use emotion recognition at work?")
    assert "Article 5(1)(f)" in labels_of_cards(asked)[:3]
    browsed = start_real(view="Browse", bdoc="AI Act", open="Article 26")
    assert any(c.value.startswith("**deployer** (Article 3(4))") for c in browsed.caption)
    assert "Article 13" in [text for text, _ in links(browsed, ":gray[Related provisions")]
    timeline = start_real(view="What applies when")
    dated = markdown_text(timeline)
    assert "**2 February 2025**" in dated and "**2 December 2027**" in dated and "**2 August 2028**" in dated
    assert {"was 2 August 2026", "was 2 August 2027"} <= {c.value for c in timeline.caption}


@pytest.mark.slow
def test_the_app_says_which_version_it_quotes_and_what_changed(corpus_index: Settings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    start_real = opener(corpus_index, monkeypatch)
    article_113 = start_real(view="Browse", bdoc="ai-act", open="Article 113")
    assert any("Amended by Regulation (EU) 2026/1744, Article 1, point (40)" in m.value for m in article_113.markdown)
    assert any("as amended by Regulation (EU) 2026/1744" in c.value for c in article_113.caption)
    overview = start_real(view="Browse", bdoc="ai-act")
    changes = markdown_text(overview)
    assert "**What changed**" in changes and "Inserted by Regulation (EU) 2026/1744, Article 1, point (6)" in changes
    assert "Recital 40 Reg. 2026/1744" in [text for text, _ in links(overview, ":gray[Why")]
    then = start_real(q="Which AI practices are prohibited?", as_of="2026-01-01")
    assert any("text in force on 2026-01-01" in c.value for c in then.caption)
    assert any("as published in the Official Journal" in c.value for c in then.caption)
    assert "Article 5(1)(ba)" not in markdown_text(then)


# ---- the logic behind the page ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini_catalog(mini_index: Settings) -> Catalog:
    return catalog_of(store.load(mini_index))


def test_the_answer_quotes_only_retrieved_text(mini_searcher: Searcher, mini_catalog: Catalog) -> None:
    result = answer(mini_searcher, mini_catalog, QUESTION)
    assert result.glance and result.glance[0].label == "Article 2(1)(b)"
    sources = {r.hit.chunk.label: r.hit.chunk for r in result.results}
    for item in result.glance:
        source = sources[item.label]
        for piece in item.quote.split(" …"):
            assert piece.strip() in f"{source.lead} {source.text}", piece


def test_a_chapter_scope_keeps_only_that_chapter(mini_searcher: Searcher, mini_catalog: Catalog) -> None:
    result = answer(mini_searcher, mini_catalog, "mowing", Scope(docs=(MINI,), chapter="Chapter I"))
    assert [r.hit.chunk.unit for r in result.results] == ["Article 1"]
    assert result.scope.describe(mini_catalog) == "mini-act · Chapter I"


def test_sentences_split_legal_text_and_join_back() -> None:
    text = "3. Deployers shall inform them (OJ L 1, p. 24). This shall not apply: (a) here; (b) there."
    assert sentences(text) == ["3. Deployers shall inform them (OJ L 1, p. 24). ", "This shall not apply: ",
                               "(a) here; ", "(b) there."]
    assert "".join(sentences(text)) == text


def test_highlights_weigh_rare_words_and_ignore_question_words(mini_catalog: Catalog) -> None:
    highlighter = Highlighter("What must the operators keep?", mini_catalog.term_statistics)
    assert "must" not in highlighter.terms and "what" not in highlighter.terms
    segments = highlighter.segments("2. Operators shall keep a log of every mowing session. Mowers are loud.")
    assert [s.matched for s in segments] == [True, False]


def test_the_markdown_export_cites_every_passage(mini_searcher: Searcher, mini_catalog: Catalog) -> None:
    result = answer(mini_searcher, mini_catalog, QUESTION)
    exported = answer_markdown(result, mini_catalog)
    assert exported.startswith(f"# {QUESTION}\n")
    assert "Not legal advice" in exported and "Your document\\: mini-act.html" in exported
    for item in result.results:
        assert f"Cite as: {escape_markdown(item.hit.citation)}" in exported
    assert citation_line(result.results[0].hit) == "Article 2(1)(b) mini-act"


@given(st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "S", "Zs"]), max_size=80))
def test_escaped_text_renders_as_itself(text: str) -> None:
    rendered = MarkdownIt("commonmark").renderInline(escape_markdown(text))
    assert "<" not in rendered.replace("&lt;", "")  # no tag of any kind
    assert html.unescape(rendered).replace(WORD_JOINER, "") == " ".join(text.split())


def test_the_export_keeps_attribution_addresses_as_links():
    attribution = "© European Union, https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1689. Reuse: *free*"
    rendered = MarkdownIt("commonmark").renderInline(linked_text(attribution))
    assert '<a href="https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1689">' in rendered
    assert rendered.endswith(". Reuse: *free*") and "<em>" not in rendered


def test_the_export_lists_a_provisions_passages_in_document_order(mini_searcher: Searcher) -> None:
    chunks = [c for c in mini_searcher.index.chunks if c.unit == "Article 2"][:3]
    first, *_, last = sorted(chunks, key=lambda c: c.order)
    section = "\n".join(_passage_section(1, Hit(last, 1.0, {}), (Hit(first, 0.5, {}),)))
    assert section.index(escape_markdown(first.text)) < section.index(escape_markdown(last.text))


def test_a_text_that_is_not_law_says_so_on_its_card(start: Start) -> None:
    app = start(q="lithium cells stored in a dry shed over winter")
    notes = next(line for line in card_headers(app) if "notes" in line)
    assert ":orange-badge[Your document, not an official text]" in notes


def test_the_corpus_lists_what_is_indexed_and_what_is_missing(start: Start) -> None:
    app = start(view="Browse", bdoc="mini-act")
    corpus = next(e for e in app.sidebar.expander if e.label.startswith("Corpus: 2 documents indexed"))
    text = "\n".join(m.value for m in corpus.markdown)
    assert "**AI Act** :gray-badge[not indexed]" in text and "**mini-act** :orange-badge[Your document" in text


def test_show_more_adds_the_next_provisions(start: Start) -> None:
    app = start(q="hedgehogs lawnmowers robots")
    before = card_headers(app)
    assert len(before) == 8
    next(b for b in app.button if b.label.startswith("Show 8 more")).click().run()
    after = card_headers(app)
    assert after[:len(before)] == before and len(after) > len(before)
