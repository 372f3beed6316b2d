"""An honest "no match": when no model's closest passage is as close as those that answered the calibration
questions, the answer says that nothing in the corpus answers clearly, and still lists the closest passages."""

from __future__ import annotations

import pytest

from index.answers.question import answer, no_match_notice
from index.answers.results import catalog_of
from index.config import E5, MINILM
from index.retrieval.national import load_national, national_laws_named
from index.retrieval.search import MATCH_FLOOR, Evidence, countries_held_by

FAST, SECOND = f"{MINILM}@en", E5


def test_weak_only_when_every_calibrated_model_is_under_its_floor():
    under = {FAST: MATCH_FLOOR[MINILM] - 0.01, SECOND: MATCH_FLOOR[E5] - 0.01}
    assert Evidence(under).weak
    assert not Evidence({**under, SECOND: MATCH_FLOOR[E5] + 0.01}).weak  # one model close enough: an answer
    assert not Evidence({"my/own-model": 0.01}).weak  # no floor measured for it: never claims "no match"
    assert not Evidence({SECOND: 0.01}).weak  # the floors hold for the pair together, not for one model alone
    assert not Evidence({}).weak  # BM25 alone (a staged build): nothing to judge by
    assert Evidence(under).to_json() == {"weak": True, "closest": under, "unheld": []}
    assert Evidence({}, ("Data Act (2023/2854)",)).weak  # about an act the index does not hold, however close


def test_a_compound_question_is_judged_by_the_closer_of_its_two_readings():
    subject = Evidence({FAST: MATCH_FLOOR[MINILM] - 0.02, SECOND: MATCH_FLOOR[E5] - 0.01})
    whole = Evidence({FAST: MATCH_FLOOR[MINILM] - 0.05, SECOND: MATCH_FLOOR[E5] + 0.05})
    assert subject.far and not subject.or_closer(whole).far
    assert subject.or_closer(whole).closest == {FAST: MATCH_FLOOR[MINILM] - 0.02, SECOND: MATCH_FLOOR[E5] + 0.05}


def test_the_api_says_how_close_the_corpus_came(client):
    match = client.get("/search", params={"q": "hedgehogs and robot mowers"}).json()["match"]
    assert set(match) == {"weak", "closest", "unheld", "notice"} and set(match["closest"]) == {FAST, SECOND}
    assert not match["unheld"]


def test_a_question_about_an_act_the_index_does_not_hold_says_so(client):
    match = client.get("/search", params={"q": "Does the DSA cover robot mowers sold online?"}).json()["match"]
    assert match["weak"] and match["unheld"] == ["Digital Services Act (2022/2065)"]
    assert match["notice"].startswith("RegKB does not hold the Digital Services Act (2022/2065).")


def test_a_question_about_a_countrys_own_law_says_so(client):
    question = "Under German labour law, may robot mowers run at night?"
    match = client.get("/search", params={"q": question}).json()["match"]
    assert match["weak"] and match["unheld"] == ["national law of Germany"]
    assert match["notice"].startswith("RegKB does not hold the national law of Germany.")
    match = client.get("/search", params={"q": "Our German customers want robot mowers"}).json()["match"]
    assert not match["unheld"]  # a country named, but not its law


@pytest.mark.parametrize("question, countries", [
    ("Que dit le droit du travail français sur les tondeuses ?", ("France",)),
    ("What is the minimum wage in Spain?", ("Spain",)),
    ("What does the BDSG say about employee data?", ("Germany",)),  # one of its laws, by name
    ("Can the US CLOUD Act law force us to hand over files?", ("the United States",)),
    ("Est-ce conforme à la loi française ?", ("France",)),
    ("Tell us the law on mowing at night", ()),  # "us" is not the US
    ("WHAT DOES THE LAW REQUIRE FROM US", ()),  # nor in capitals, where it qualifies no law
    ("Notre PME française a-t-elle le droit de tondre la nuit ?", ()),  # "le droit de": "may we"
    ("A-t-on le droit en France de filmer les salariés ?", ()),
    ("We sell in Germany. What must we do? The law is unclear.", ()),  # a sentence apart
    # a country named beside the AI Act's and the GDPR's own subjects, not beside its law
    ("May the French law enforcement authorities use real-time remote biometric identification?", ()),
    ("What does the French version of the law say about deepfakes?", ()),
    ("Le texte français de la loi sur l'IA est-il le même que l'anglais ?", ()),
    ("Is a German GmbH a provider if it rebrands a chatbot?", ()),
    ("Can the French social security administration use AI to decide who gets benefits?", ()),
    ("Does the law apply to a Swiss company?", ()),
    ("Is the source code of a French open-source model exempt?", ()),
    ("Can a Dutch landlord use AI to screen tenants?", ()),
])
def test_a_countrys_law_is_its_name_near_a_word_for_law(question, countries):
    assert national_laws_named(question) == countries


def test_the_countries_file_is_checked_on_load(tmp_path):
    (tmp_path / "bad.toml").write_text('cues = ["law"]\ncues_after = ["loi"]\n[[country]]\nname = "Atlantis"\n',
                                       encoding="utf-8")
    with pytest.raises(ValueError, match="Atlantis"):
        load_national(tmp_path / "bad.toml")
    (tmp_path / "no-cues.toml").write_text('[[country]]\nname = "Atlantis"\nsay = ["atlantis"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="cues"):
        load_national(tmp_path / "no-cues.toml")


def test_a_document_about_a_countrys_law_holds_it():
    assert countries_held_by({"title": "German Federal Data Protection Act (BDSG)", "short": "BDSG"}) == ("Germany",)
    assert countries_held_by({"title": "Regulation (EU) 2016/679 (General Data Protection Regulation)"}) == ()


@pytest.fixture
def client(mini_index, embedder):
    from fastapi.testclient import TestClient

    from index.api import ApiConfig, create_app

    with TestClient(create_app(mini_index, ApiConfig(), embedder)) as client:
        yield client


@pytest.mark.slow
@pytest.mark.parametrize("question", ["blorf snark vuvu tam tam", "Which club won the 1998 football world cup?"])
def test_a_question_nothing_answers_is_said_to_be_unanswered(corpus_searcher, question):
    catalog = catalog_of(corpus_searcher.index)
    found = answer(corpus_searcher, catalog, question)
    assert found.weak and found.results  # said, and the closest passages still there
    assert "AI Act" in no_match_notice(catalog) and "GDPR" in no_match_notice(catalog)


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Can we use emotion recognition on our employees?",
                                      "Do we need a data protection officer?",
                                      "Notre chatbot doit-il dire aux clients qu'il n'est pas humain ?",
                                      # its subject alone, which the embedder reads, is far from every passage
                                      "We built a chatbot for customer support. What do we have to do under the "
                                      "AI Act and by when?"])
def test_questions_the_corpus_answers_are_not(corpus_searcher, question):
    assert not answer(corpus_searcher, catalog_of(corpus_searcher.index), question).weak


@pytest.mark.slow
def test_an_act_the_corpus_holds_is_not_out_of_scope_beside_one_it_does_not(corpus_searcher):
    catalog = catalog_of(corpus_searcher.index)
    both = answer(corpus_searcher, catalog, "Is our MDR-certified triage software high-risk under the AI Act?")
    assert not both.unheld and not both.weak
    routed = answer(corpus_searcher, catalog, "Does Regulation (EU) 2017/745 make our medical device AI high-risk?")
    assert not routed.unheld  # the rest of the question is the AI Act's
    other = answer(corpus_searcher, catalog, "What does Regulation (EU) 2022/2065 say about recommender systems?")
    assert other.weak and other.unheld == ("Digital Services Act (2022/2065)",)
