"""Query understanding and the ranking steps on top of fusion, on the small real index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.cross_encoders import Shape, save_untrained_cross_encoder
from index.answers.results import ask, catalog_of, with_related
from index.config import MINILM
from index.law.labels import unit_of
from index.model import Amendment, Chunk
from index.retrieval import search
from index.retrieval.embedder import model_path
from index.retrieval.filters import Filters
from index.retrieval.query import (
    Act,
    Citation,
    act_number,
    acts_named,
    asks_about_amendments,
    asks_of,
    asks_when_rules_apply,
    citations_in,
    intent_of,
    language_of,
    load_acts,
    load_synonyms,
    subject_of,
    understand,
)
from index.retrieval.rerank import Reranker
from index.retrieval.search import (
    COUNTERPART_LEND,
    DATE_LEND,
    INSTRUCTION_WEIGHT,
    RECITAL_LEND,
    QueryError,
    Searcher,
    SearchOptions,
    _ChunkFeatures,
    applied_instructions,
    defined_term,
    modality_of,
)


@pytest.mark.parametrize("text, references", [
    ("What does Article 6(3) say?", (Citation("Article 6", "Article 6(3)"),)),
    ("art. 5(1)(f) and Annex iii", (Citation("Article 5", "Article 5(1)(f)"), Citation("Annex III", "Annex III"))),
    ("see recital 12", (Citation("Recital 12", "Recital 12"),)),
    ("Can we use emotion recognition?", ()),
    ("Why did the Digital Omnibus on AI change Article 4 of the AI Act?", (Citation("Article 4", "Article 4", "2024/1689"),)),
    ("Article 22 of the GDPR and art. 86 AI Act", (Citation("Article 22", "Article 22", "2016/679"),
                                                  Citation("Article 86", "Article 86", "2024/1689"))),
    ("l'article 50 du RIA", (Citation("Article 50", "Article 50", "2024/1689"),)),
    ("Article 4 of Regulation (EU) 2026/1744", (Citation("Article 4", "Article 4", "2026/1744"),)),
])
def test_references_are_recognised(text, references):
    assert citations_in(text) == references


@pytest.mark.parametrize("text, intent", [
    ("Why does the Act ban social scoring?", "why"),
    ("What is a deployer?", "definition"),
    ("Do we have to label deepfakes?", "action"),
    ("Pourquoi le texte interdit-il de détecter les émotions des salariés ?", "why"),
    ("What reasons did lawmakers give for adding the ban?", "why"),
    ("Is there a reason to register?", "action"),
    ("We have good reasons for it: can we?", "action"),
    ("Must the provider document the reasons for rejecting a request?", "action"),
    ("What reasons must a notified body give?", "action"),
    ("For which reasons can an authority withdraw a system?", "action"),
    ("Do we need to tell the person the reason for the decision?", "action"),
    ("Pour quelles raisons l'autorité peut-elle retirer un système ?", "action"),
    ("Pourquoi pas ?", "action"),
    ("What are the reasons behind the ban?", "why"),
])
def test_intent(text, intent):
    assert intent_of(text) == intent


def test_language():
    assert language_of("Quelles sont les obligations des fournisseurs de systèmes à haut risque ?") == "fr"
    assert language_of("What are the obligations of providers?") == "en"


def test_glossary_bridges_plain_language_and_routes():
    plan = understand("Can I use a chatbot without telling customers?")
    assert "interact directly with natural persons" in plan.expanded and plan.matched == ("chatbot",)
    assert understand("our vendor got hacked, who do we notify of the breach?").docs[0] == "gdpr"
    assert understand("chatbot", expand=False).expanded == "chatbot"


def test_the_embedder_reads_a_question_as_typed_and_keywords_expanded():
    question = understand("Can I use a chatbot without telling customers?")
    assert question.embedded == question.text != question.expanded
    keywords = understand("10^25 FLOPs")
    assert keywords.embedded == keywords.expanded and "floating point operations" in keywords.embedded


@pytest.mark.parametrize("text, subject", [
    ("We built a chatbot for customer support. What do we have to do under the AI Act and by when?",
     "We built a chatbot for customer support."),
    ("Nous avons un agent conversationnel. Que doit-on faire ?", "Nous avons un agent conversationnel."),
    ("We screen CVs. Is it high-risk?", ""),  # every sentence says something: nothing left out
    ("What must providers do?", ""),
    ("What is required under Art. 5? We sell toys.", ""),  # "Art." ends no sentence
    ("We are a U.S. company. What must we do?", "We are a U.S. company."),
])
def test_the_embedder_reads_the_subject_of_a_compound_question(text, subject):
    assert subject_of(text) == subject
    assert understand(text).embedded == (subject or text) and understand(text, subject=False).embedded == text


@pytest.mark.parametrize("text, asks", [
    ("Can we monitor employees' emotions in video calls?", "permission"),
    ("Is it legal to scrape faces from the internet?", "permission"),
    ("Peut-on noter nos clients avec une IA ?", "permission"),
    ("When do the high-risk rules apply?", "date"),
    ("We run a chatbot. What must we do and by when?", "date"),
    ("What must deployers of high-risk AI systems do?", ""),
    ("We run a chatbot. When must we tell users it is a bot?", "date"),  # any sentence may ask it
    ("When is an AI system considered high-risk?", ""),  # a condition, not a date
    ("We screen CVs. Can we use emotion recognition in interviews?", "permission"),
    ("We keep EU users' records in the US. Is that allowed?", "permission"),
    ("Is emotion recognition banned at work?", "permission"),
    ("Is it a legal requirement to watermark images?", ""),  # "legal" names a thing: a requirement
    ("Is the legal basis consent or legitimate interest?", ""),
    ("How can we comply?", ""),  # how, not whether
    ("Est-ce qu'on a le droit d'installer un outil qui lit les émotions ?", "permission"),
    ("La police municipale peut-elle scanner les visages de la foule ?", "permission"),
    ("Comment une jeune pousse peut-elle tester son produit ?", ""),  # how, not whether
    ("C'est légal ?", "permission"),
    ("La reconnaissance faciale est-elle interdite au travail ?", "permission"),
    ("Est-ce qu'on a des obligations de transparence ?", ""),  # a duty, not a right
    ("À qui peut-on signaler un incident ?", ""),  # whom, not whether
    ("Pourriez-vous résumer les règles ?", ""),  # politeness
    ("D'ici quand doit-on se conformer ?", "date"),
])
def test_what_a_question_asks_for(text, asks):
    assert asks_of(text) == asks


@pytest.mark.parametrize("text, applies", [
    ("When do the high-risk rules apply?", True),
    ("From when must providers of general-purpose models comply?", True),
    ("deadline for high-risk AI rules covering machinery", True),
    ("À partir de quand les interdictions s'appliquent-elles ?", True),
    ("When does the AI Act enter into force?", True),
    ("By when must we comply?", True),
    ("When do the registration obligations apply?", True),  # a duty named, but its rules' applying asked
    ("GDPR data breach notification deadline", False),  # a duty's own time limit
    ("Our product malfunctioned. What is the deadline to report it?", False),
    ("When do the obligations to notify a personal data breach begin?", False),
    ("What is the deadline to respond to an access request under the GDPR rules?", False),
    ("When does the controller have to comply with a request for erasure?", False),
    ("What is the deadline to apply for access to the supercomputers?", False),  # applying for something
    ("When must providers apply the CE marking?", False),
    ("Quand un fournisseur entre en relation avec un organisme notifié, que doit-il faire ?", False),
    ("Can we use emotion recognition at work?", False),
])
def test_which_when_questions_ask_from_when_rules_apply(text, applies):
    assert asks_when_rules_apply(text) is applies and understand(text).applies is applies


@pytest.mark.parametrize("text, amendments", [
    ("What did the Digital Omnibus change for SMEs?", True),
    ("Which articles were amended in 2026?", True),
    ("Qu'est-ce qui a été modifié en 2026 ?", True),
    ("What's changing in the sandbox rules?", True),
    ("Qu'est-ce qui a changé pour les PME ?", True),
    ("Which sandbox provisions were replaced in 2026?", True),
    ("If we join a regulatory sandbox, can we still be fined?", False),
    ("Can the AI Office inspect our premises?", False),
])
def test_which_questions_ask_what_an_amendment_changed(text, amendments):
    assert asks_about_amendments(text) is amendments and understand(text).about_amendments is amendments


def amended_wording(doc_id: str, label: str, point: str, kind: str = "replaced", valid_to: str = "",
                    status: str = "") -> Chunk:
    return Chunk(f"{doc_id}/{label}", doc_id, label, unit_of(label), "article", "", (), "text", "", "text", "", None,
                 0, "", valid_to, status, (Amendment("Regulation (EU) 2099/2", point, kind, "2099-06-04"),))


def instruction(label: str) -> Chunk:
    return Chunk(f"amending/{label}", "amending", label, unit_of(label), "article", "", (), "text", "", "text", "",
                 None, 0)


def test_an_instruction_links_to_the_wordings_in_force_its_point_wrote():
    chunks = [instruction("Article 1(3)"), instruction("Article 1(4)"), instruction("Article 1(5)"),
              amended_wording("act", "Article 57(1)", "Article 1, point (3)(a)"),  # a sub-point: its point's passage
              amended_wording("act", "Article 57(2)", "Article 1, point (3)(b)", valid_to="2100-01-01"),  # ended
              amended_wording("act-fr", "Article 57(1)", "Article 1, point (3)(a)", status="outdated"),  # not amended
              amended_wording("act", "Article 58(1)", "Article 1, point (4)"),
              amended_wording("act", "Article 58(2)", "Article 1, point (4)", kind="deleted", valid_to="2099-06-04"),
              amended_wording("act", "Article 59", "Article 1, point 5."),  # not the drafting form: no guess
              amended_wording("act", "Article 60", "Article 2, point (1)")]  # no such passage
    acts = {"amending": ("2099/2",), "act": ("2099/1",), "act-fr": ("2099/1",)}
    assert applied_instructions(chunks, acts) == {0: (3,)}  # point (4) also deleted: no text in force says it
    assert applied_instructions(chunks, {"act": ("2099/1",)}) == {}  # the amending act is not held


def test_an_applied_amending_instruction_weighs_less_than_the_text_it_wrote():
    features = _ChunkFeatures(units=[("amending", "Article 1", "Article 1(3)"), ("act", "Article 57", "Article 57(1)"),
                                     ("amending", "Article 4", "Article 4")],
                              kinds=["article"] * 3, languages=["en"] * 3, terms=[""] * 3,
                              acts={"amending": ("2099/2",), "act": ("2099/1",)}, wrote={0: (1,)})
    found, plan = {0: 0.05, 1: 0.04, 2: 0.03}, understand("Can we be fined while testing in a sandbox?")
    assert features.defer(found, plan, None) == {0: INSTRUCTION_WEIGHT * 0.05, 1: 0.04, 2: 0.03}
    # a day before the amendment, or a filter keeping the amended act out: the instruction is all there is
    assert features.defer(found, plan, np.array([True, False, True])) == found
    assert features.defer(found, understand("What does Regulation (EU) 2099/2 say about sandboxes?"), None) == found
    assert features.defer(found, understand("What changed for sandboxes?"), None) == found


def test_each_provision_is_dated_by_the_clause_of_the_application_article_that_names_it(mini_searcher):
    index, features = mini_searcher._snapshot()
    assert list(features.dated_by) == [""]  # one period: nothing in this index amends anything
    dated = {index.chunks[r].label: [index.chunks[c].text for c in clauses]
             for r, clauses in features.dated_by[""].items()}
    assert dated["Article 2(1)(b)"] == ["(a) Article 2 applies from 1 May 2099;"]
    assert dated["Article 3(1)"] == ["(b) Article 3 applies from 1 November 2099."]
    assert [t for t in dated["Annex I"] if "1 May 2100" in t]  # the general date, for what no clause names
    assert not any(label.startswith(("Recital", "Article 4")) for label in dated)  # no date; the clauses' own


def test_a_when_question_lends_to_the_clause_that_dates_what_it_found(mini_searcher):
    index, features = mini_searcher._snapshot()
    row = {c.label: r for r, c in enumerate(index.chunks)}
    (clause,) = features.dated_by[""][row["Article 3(1)"]]
    penalties, day = row["Article 3(1)"], "2100-01-01"
    assert features.date({penalties: 0.05}, None, day) == {penalties: 0.05, clause: DATE_LEND * 0.05}
    assert features.date({penalties: 0.05, clause: 0.06}, None, day) == {penalties: 0.05, clause: 0.06}  # above it
    filtered = np.ones(len(index.chunks), dtype=bool)
    filtered[clause] = False
    assert features.date({penalties: 0.05}, filtered, day) == {penalties: 0.05}  # nothing past a filter
    question = "When do the penalties for lawnmower operators apply?"
    units = [h.chunk.label for h in mini_searcher.search(question, 10)]
    plain = [h.chunk.label for h in mini_searcher.search(question, 10, options=SearchOptions(dates=False))]
    label = index.chunks[clause].label
    assert label in units and (label not in plain or units.index(label) < plain.index(label))


def test_a_passage_prohibits_or_dates_by_its_own_wording(mini_searcher):
    by_label = {c.label: modality_of(c) for c in mini_searcher.index.chunks}
    assert by_label["Article 2(1)(b)"] == "permission"  # its list is introduced by "shall be prohibited"
    assert by_label["Article 3(2)"] == "date"  # "This Regulation shall apply from 1 May 2100."
    assert by_label["Article 3(1)"] == ""


def test_a_prohibition_outranks_what_presupposes_the_practice_for_can_we_questions(mini_searcher):
    question = "Can a lawnmower read hedgehogs' moods when they sleep?"
    plain = [r.hit.chunk.unit for r in ask(mini_searcher, question, k=5, options=SearchOptions(modality=False))]
    favoured = [r.hit.chunk.unit for r in ask(mini_searcher, question, k=5)]
    assert favoured.index("Article 2") <= plain.index("Article 2") and favoured[0] == "Article 2"


@pytest.mark.parametrize("text, numbers", [
    ("What does the DSA say about recommender systems?", ("2022/2065",)),
    ("Under the Data Act, must a car maker share data with repair shops?", ("2023/2854",)),
    ("Is our MDR class IIa software high-risk under the AI Act?", ("2017/745", "2024/1689")),
    ("Regulation (EU) No 910/2014 on trust services", ("2014/910",)),
    ("Directive 2002/58/EC and cookies", ("2002/58",)),
    ("règlement (UE) 2024/1689, article 5", ("2024/1689",)),
    ("dora the explorer and the dsa of a mica mine", ()),  # abbreviations count only as they are written
    ("Does the GDPR apply to pseudonymised data?", ("2016/679",)),
    ("a decision 2/3 of the board took", ()),  # no year: no act
    ("Regulation (EU) 2022/0868 on data governance", ("2022/868",)),
    ("le règlement sur l’intelligence artificielle", ("2024/1689",)),  # a phone's apostrophe
])
def test_the_acts_a_question_names(text, numbers):
    assert acts_named(text) == numbers


def test_act_numbers_read_year_first_and_entries_are_checked():
    assert act_number("910/2014") == "2014/910" and act_number("2022/2065") == "2022/2065"
    numbers = [act.number for act, _ in load_acts()]
    assert len(numbers) == len(set(numbers))
    with pytest.raises(ValueError, match="year/number"):
        Act("2065", "Digital Services Act", ("dsa",))


def test_glossary_entries_are_well_formed():
    for term, pattern in load_synonyms():
        assert term.say and (term.means or term.docs) and pattern.search(term.say[0])


def test_a_named_provision_comes_first(mini_searcher):
    results = ask(mini_searcher, "what does Article 2(1)(b) say", k=3)
    assert results[0].hit.chunk.label == "Article 2(1)(b)"
    unpinned = ask(mini_searcher, "what does Article 3 say", k=3, options=SearchOptions(exact=False))
    pinned = ask(mini_searcher, "what does Article 3 say", k=3)
    assert pinned[0].hit.chunk.unit == "Article 3" and pinned[0].hit.score > unpinned[0].hit.score


def test_definitions_found_by_meaning_lend_their_term_to_bm25(mini_searcher):
    assert {c.label: defined_term(c) for c in mini_searcher.index.chunks if defined_term(c)} == {
        "Article 1(1)": "lawnmower", "Article 1(2)": "operator"}
    question = "someone letting a machine cut grass unattended: what rules apply to them"
    everything = len(mini_searcher.index.chunks)  # the point's lexical rank is asked, wherever it ranks overall
    plain = mini_searcher.search(question, everything, options=SearchOptions(define=False))
    fed = mini_searcher.search(question, everything)
    lawnmower_point = "Article 2(1)(b)"  # "the use of a lawnmower that ...": no other word of the question
    assert [h.lexical_rank for h in plain if h.chunk.label == lawnmower_point] == [None]
    assert [h.lexical_rank for h in fed if h.chunk.label == lawnmower_point][0] is not None


def test_recitals_lead_only_for_why_questions(mini_searcher):
    why = ask(mini_searcher, "why should mowers not frighten hedgehogs", k=3)
    assert why[0].hit.chunk.kind == "recital"


def test_each_recital_explains_the_article_passage_closest_to_it(mini_searcher):
    index, features = mini_searcher._snapshot()
    links = {index.chunks[r].label: index.chunks[a].label for r, a in features.explains.items()}
    assert links == {"Recital 1": "Article 2(1)(b)", "Recital 2": "Article 2(1)(a)"}


def test_links_are_the_same_whatever_the_block_of_recitals_compared_at_once(mini_searcher, monkeypatch):
    index, features = mini_searcher._snapshot()
    monkeypatch.setattr(search, "LINK_BLOCK", 1)
    assert search.explained_articles(index, features.kinds, features.embedded) == features.explains


def test_a_recital_lends_to_the_article_it_explains_only_when_it_outranks_it(mini_searcher):
    index, features = mini_searcher._snapshot()
    row = {c.label: r for r, c in enumerate(index.chunks)}
    recital, night, prohibited = row["Recital 2"], row["Article 2(1)(a)"], row["Article 2(1)"]
    penalties = row["Article 3(1)"]
    found = {recital: 0.05, penalties: 0.04, night: 0.02}
    assert features.lend(found, None) == {**found, night: 0.02 + RECITAL_LEND * 0.05}
    assert features.lend({**found, night: 0.06}, None) == {**found, night: 0.06}  # already above it: nothing
    filtered = np.ones(len(index.chunks), dtype=bool)
    filtered[night] = False
    assert features.lend(found, filtered) == found  # nothing lent past a filter
    led = {**found, prohibited: 0.03}  # the article's best passage keeps leading it, lifted as far
    assert features.lend(led, None) == {**led, prohibited: 0.02 + RECITAL_LEND * 0.05}


def test_an_article_found_for_a_why_question_lends_to_the_amending_acts_recitals_that_explain_it():
    recital, night, penalties, own = 0, 1, 2, 3
    docs = ["amending", "act", "act", "act"]
    reasons = search.amending_reasons({recital: night, own: night}, docs)
    assert reasons == {night: (recital,)}  # the act's own recital is not lent to
    features = _ChunkFeatures(units=[(d, "x", "x") for d in docs], kinds=["recital", "article", "article", "recital"],
                              languages=["en"] * 4, terms=[""] * 4, reasons=reasons)
    found = {night: 0.05, penalties: 0.04, recital: 0.01}
    assert features.reason(found, None) == {**found, recital: 0.01 + RECITAL_LEND * 0.05}
    assert features.reason({**found, recital: 0.06}, None) == {**found, recital: 0.06}  # already above it
    assert features.reason(found, np.array([False, True, True, True])) == found  # nothing lent past a filter


def test_the_acts_a_question_names_route_it_to_the_documents_that_hold_them():
    features = _ChunkFeatures(units=[("amending", "Article 1", "Article 1(3)"), ("act", "Article 57", "Article 57(1)"),
                                     ("act-fr", "Article 57", "Article 57(1)")],
                              kinds=["article"] * 3, languages=["en", "en", "fr"], terms=[""] * 3,
                              documents={"amending": "en", "act": "en", "act-fr": "fr"},
                              acts={"amending": ("2099/2",), "act": ("2099/1",), "act-fr": ("2099/1",)})
    changed = features.route(understand("How did Regulation (EU) 2099/2 change Article 57?"))
    assert changed.docs == ("amending",)
    assert features.pin({0: 0.05, 1: 0.04}, changed, None)[1] > 1.0  # the first document routed to that has one
    both = features.route(understand("How did Regulation (EU) 2099/2 change Article 57 of Regulation 2099/1?"))
    assert both.docs == ("amending", "act", "act-fr")  # in the order named, the question's language first
    pinned = features.pin({0: 0.05, 1: 0.04}, both, None)
    assert pinned[1] > 1.0 and 2 not in pinned  # the act named after the citation, in the question's language
    assert features.pin({0: 0.05}, features.route(understand("Article 1 of Regulation 2099/2")), None)[0] > 1.0
    french = features.route(understand("Que dit le règlement 2099/1 sur les bacs à sable ?"))
    assert french.docs == ("act-fr", "act")
    assert features.route(understand("What does the Digital Services Act say about sandboxes?")).docs == ()
    glossary = features.route(understand("Under Regulation 2099/1, who do we notify of a personal data breach?"))
    assert glossary.docs[:2] == ("act", "act-fr") and "gdpr" in glossary.docs  # named, then the glossary's


def test_the_amending_act_is_named_by_its_everyday_names():
    assert acts_named("What did the Digital Omnibus on AI change?") == ("2026/1744",)
    assert acts_named("Why did the omnibus enter into force so quickly?") == ("2026/1744",)
    assert acts_named("Under the GDPR and the AI Act (2024/1689)") == ("2016/679", "2024/1689")


def test_a_passage_in_another_language_lends_to_the_same_provision_in_the_questions():
    features = _ChunkFeatures(units=[("act", "Article 1", "Article 1(1)"), ("act-fr", "Article 1", "Article 1(1)"),
                                     ("act-fr", "Article 2", "Article 2")],
                              kinds=["article"] * 3, languages=["en", "fr", "fr"], terms=[""] * 3,
                              counterparts={0: (1,), 1: (0,)})
    found = {0: 0.05, 2: 0.03}
    assert features.translate(found, "fr", None) == {**found, 1: COUNTERPART_LEND * 0.05}
    assert features.translate({1: 0.05, 0: 0.01}, "fr", None) == {1: 0.05 + COUNTERPART_LEND * 0.01, 0: 0.01}
    assert features.translate({1: 0.05}, "fr", None) == {1: 0.05}  # the question's own language lends nothing
    assert features.translate(found, "fr", np.array([True, False, True])) == found  # nothing past a filter


def test_why_questions_and_filters_get_no_lent_articles(mini_searcher):
    question = "why is mowing at night bad for neighbours and wildlife"
    assert mini_searcher.search(question, 10) == mini_searcher.search(question, 10, options=SearchOptions(lend=False))
    only_recitals = mini_searcher.search("mowing at night", 10, Filters(kinds=("recital",)))
    assert only_recitals and {h.chunk.kind for h in only_recitals} == {"recital"}


def test_rerank_without_a_model_is_a_clear_error(mini_index, embedder, monkeypatch):
    monkeypatch.delenv("REGKB_RERANKER", raising=False)
    with pytest.raises(QueryError, match="REGKB_RERANKER"):
        Searcher(mini_index, embedder).search("mowing", options=SearchOptions(rerank=True))


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    """A randomly initialised two-layer cross-encoder saved locally: it tests the wiring, not quality."""
    return save_untrained_cross_encoder(tmp_path_factory.mktemp("cross-encoder"), Shape(2, 32, 2, 64),
                                        model_path(MINILM))


def test_rerank_reorders_the_top_candidates(mini_index, embedder, tiny_cross_encoder):
    searcher = Searcher(mini_index, embedder, reranker=Reranker(str(tiny_cross_encoder), depth=5))
    plain = searcher.search("night mowing rules", k=5)
    reranked = searcher.search("night mowing rules", k=5, options=SearchOptions(rerank=True))
    assert {h.chunk.id for h in reranked} <= {h.chunk.id for h in searcher.search("night mowing rules", k=50)}
    expected = searcher.reranker.score("night mowing rules", [h.chunk.passage for h in reranked])
    assert list(expected) == sorted(expected, reverse=True)
    assert len(reranked) == len(plain) == 5


def test_results_carry_the_provisions_they_cite(mini_searcher):
    results = with_related(ask(mini_searcher, "fines for breaking the mowing rules", k=3), catalog_of(mini_searcher.index))
    penalties = next(r for r in results if r.hit.chunk.unit == "Article 3")
    assert ("user-mini-act", "Article 2") in {(r.doc_id, r.label) for r in penalties.related}
    assert penalties.to_json()["related"][0] == {"doc_id": "user-mini-act", "label": "Article 2"}
