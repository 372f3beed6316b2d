"""Questions written per provision: validated on load, cached, and ranking the provision they were written for."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.answers.results import ask
from index.api import ApiConfig, create_app
from index.config import MINILM, PHRASINGS, settings
from index.retrieval.embedder import Embedder
from index.retrieval.filters import Filters
from index.retrieval.phrasings import Closest, Phrasing, PhrasingIndex, load_phrasings, phrasing_index
from index.retrieval.search import CLEAR_LEAD, Searcher, SearchOptions, leads_clearly
from ingest.pipeline import IngestError, Ingestor
from ingest.sources import Resolver
from tests.conftest import FIXTURES, build_index

FIXTURE = Path(__file__).parent / "fixtures" / "phrasings.toml"
QUESTION = "what would it cost us in money if our machine broke the rules"


def units(searcher: Searcher, question: str, **options: bool) -> list[str]:
    return [r.hit.chunk.unit for r in ask(searcher, question, 5, options=SearchOptions(**options))]


def data_act(folder: Path) -> Path:
    """The fixture act as a user's file whose name says which act it is (as "Digital Services Act.pdf" would):
    the questions are written for an act, by its number."""
    shutil.copy(FIXTURES / "mini-act.html", folder / "data-act.html")
    return folder / "data-act.html"


@pytest.fixture(scope="module")
def phrased(tmp_path_factory, embedder) -> Searcher:
    folder = tmp_path_factory.mktemp("phrased")
    config = build_index(folder / "data", embedder, [data_act(folder)])
    return Searcher(replace(config, phrasings=FIXTURE), embedder)


def test_a_question_like_a_written_one_finds_its_provision_first(phrased):
    assert units(phrased, QUESTION, phrasings=False)[0] != "Article 3"
    assert units(phrased, QUESTION)[0] == "Article 3"


def test_a_filter_keeps_the_written_questions_to_the_passages_it_admits(phrased):
    results = ask(phrased, QUESTION, 5, filters=Filters(kinds=("annex",)))
    assert results and {r.hit.chunk.kind for r in results} == {"annex"}


def test_the_vectors_are_cached_by_text_and_model(mini_index, embedder, tmp_path):
    config = replace(mini_index, data_dir=tmp_path, phrasings=FIXTURE)
    first = phrasing_index(config, embedder)
    [cached] = (tmp_path / "cache" / "phrasings").glob("*.npy")
    again = phrasing_index(config, _Refusing(embedder))
    assert [v.tolist() for v in again.vectors] == [v.tolist() for v in first.vectors]
    changed = tmp_path / "changed.toml"
    changed.write_text(FIXTURE.read_text().replace("robot", "mower"))
    phrasing_index(replace(config, phrasings=changed), embedder)
    assert len(list(cached.parent.glob("*.npy"))) == 2


class _Refusing:
    """An encoder that must not be asked: the cache answers."""

    def __init__(self, embedder):
        self.model_id, self.split = embedder.model_id, embedder.split

    def queries(self, texts):
        raise AssertionError("embedded again instead of read from the cache")


def test_ingest_caches_them_and_a_search_reads_the_cache(embedder, tmp_path):
    config = replace(settings(tmp_path / "data"), phrasings=FIXTURE)
    result = Ingestor(config, Resolver(None, config.cache / "sources", offline=True), embedder, progress=False).run(
        [], [data_act(tmp_path)])
    assert not result.errors
    searcher = Searcher(config, embedder, phrasing_encoder=_Refusing(embedder))
    assert units(searcher, QUESTION)[0] == "Article 3"
    unloaded = Embedder(config.model)  # loads its models on first use
    again = Ingestor(config, Resolver(None, config.cache / "sources", offline=True), unloaded, progress=False).run(
        [], [data_act(tmp_path)])
    assert not again.errors and "_encoders" not in vars(unloaded)  # cached: a re-run with nothing new loads no model


def test_the_api_makes_them_at_start_and_its_searches_rank_with_them(phrased, embedder):
    config = replace(phrased.settings, data_dir=phrased.settings.data_dir.parent / "api")
    shutil.copytree(phrased.settings.data_dir, config.data_dir, symlinks=True)
    shutil.rmtree(config.cache / "phrasings", ignore_errors=True)
    with TestClient(create_app(config, ApiConfig(), embedder)) as client:  # the lifespan warms them up
        assert list((config.cache / "phrasings").glob("*.npy"))
        results = client.get("/search", params={"q": QUESTION, "k": 3}).json()["results"]
    assert results[0]["unit"] == "Article 3"


def test_a_question_is_compared_with_those_written_in_its_language():
    """Each written question's vector is one axis; the query lies closest to the French question of Article 2."""
    written = (Phrasing("2024/1689", "Article 1", "Which systems are banned?"),
               Phrasing("2024/1689", "Article 2", "Quels systèmes sont interdits ?", "fr"),
               Phrasing("2024/1689", "Article 3", "Qui doit enregistrer son système ?", "fr"),
               Phrasing("2024/1689", "Article 2", "Lesquels sont défendus ?", "fr"))
    vectors = np.vstack([np.eye(3, dtype=np.float32), np.array([[0.0, 0.6, 0.8]], dtype=np.float32)])
    index = PhrasingIndex(written, (vectors,))
    query = np.array([0.6, 0.8, 0.0], dtype=np.float32)

    def first(language: str) -> list[tuple[str, str]]:
        return [(c.act, c.unit) for c in index.provisions([query], language, lambda act, unit: True, 2)[0]]

    assert first("en") == [("2024/1689", "Article 1")]  # nothing else is written in English
    assert first("fr") == [("2024/1689", "Article 2"), ("2024/1689", "Article 3")]
    assert first("de") == [("2024/1689", "Article 2"), ("2024/1689", "Article 1")]  # none in German: all of them
    closest = index.provisions([query], "fr", lambda act, unit: True, 2)[0]
    assert [round(c.cosine, 4) for c in closest] == [0.8, 0.0]  # Article 2 by its closer question (0.8, not 0.48)
    assert index.provisions([None], "fr", lambda act, unit: True, 2) == [None]  # a model that reads no French


def test_a_lead_is_clear_by_the_models_own_margin_over_the_next_provision():
    lead = CLEAR_LEAD[MINILM]
    first = Closest("2024/1689", "Article 50", 0.70)
    assert leads_clearly(f"{MINILM}@en", [first, Closest("2024/1689", "Article 52", 0.70 - lead - 0.01)])
    assert not leads_clearly(MINILM, [first, Closest("2024/1689", "Article 52", 0.70 - lead / 2)])
    assert not leads_clearly(MINILM, [first])  # nothing to lead
    assert not leads_clearly("some/other-model", [first, Closest("2024/1689", "Article 52", 0.1)])  # no margin known


@pytest.mark.parametrize("entry, problem", [
    ('act = "GDPR"\nunit = "Article 1"\nquestions = ["x?"]', "act"),
    ('act = "2016/679"\nunit = "Article 1(2)"\nquestions = ["x?"]', "unit"),
    ('act = "2016/679"\nunit = "Article 1"\nquestions = []', "questions"),
    ('act = "2016/679"\nunit = "Article 1"\nquestions = ["  "]', "questions"),
    ('act = "2016/679"\nunit = "Article 1"\nquestions = "one question?"', "questions"),
    ('act = "2016/679"\nunit = "Article 1"\nlanguage = "French"\nquestions = ["x?"]', "language"),
])
def test_a_malformed_entry_is_refused_with_the_file_named(tmp_path, entry, problem):
    path = tmp_path / "bad.toml"
    path.write_text(f"[[provision]]\n{entry}\n")
    with pytest.raises(ValueError, match=r"bad\.toml.*needs an act's year/number, a unit's label"):
        load_phrasings(path)


@pytest.mark.parametrize("text, problem", [("[[provisions]]\nact = \"2016/679\"\n", "no \\[\\[provision\\]\\] entries"),
                                           ("[[provision]\n", "not a readable TOML file")])
def test_a_file_without_questions_is_refused(tmp_path, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem):
        load_phrasings(path)


def test_ingest_refuses_a_malformed_file_before_it_builds(mini_index, embedder, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[provision]]\nact = \"2016/679\"\nunit = \"Article 1(2)\"\nquestions = [\"x?\"]\n")
    config = replace(mini_index, data_dir=tmp_path / "data", phrasings=bad)
    with pytest.raises(IngestError, match=r"bad\.toml"):
        Ingestor(config, Resolver(None, config.cache / "sources", offline=True), embedder, progress=False).run(
            [], [FIXTURES / "notes.txt"])
    assert not config.current.exists()


def test_the_setting_names_a_file_or_turns_them_off(monkeypatch, tmp_path):
    monkeypatch.setenv("REGKB_PHRASINGS", "off")
    assert settings(tmp_path).phrasings is None
    monkeypatch.setenv("REGKB_PHRASINGS", str(FIXTURE))
    assert settings(tmp_path).phrasings == FIXTURE
    monkeypatch.setenv("REGKB_PHRASINGS", str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="REGKB_PHRASINGS=.*no such file"):
        settings(tmp_path)
    monkeypatch.setenv("REGKB_PHRASINGS", "")
    assert settings(tmp_path).phrasings == PHRASINGS


def test_the_packaged_questions_cover_every_article_and_annex_in_both_languages_and_name_none():
    phrasings = load_phrasings(PHRASINGS)
    covered = {(p.act, p.unit, p.language) for p in phrasings}
    gdpr = {("2016/679", f"Article {n}", "en") for n in range(1, 100)}
    labels = [*(f"Article {n}" for n in range(1, 114)),
              *(f"Annex {n}" for n in "I II III IV V VI VII VIII IX X XI XII XIII".split())]
    ai_act = {("2024/1689", unit, language) for language in ("en", "fr") for unit in labels}
    assert gdpr | ai_act <= covered
    named = re.compile(r"\b(article|art\.|annexe?|recital|considérant)\s+(\d|[IVX]+\b)", re.IGNORECASE)
    assert not [p.text for p in phrasings if named.search(p.text)]
    assert len({p.text for p in phrasings}) == len(phrasings)
