"""Versions: every wording dated, the text in force on any day, the dates read from the law as amended."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from index.__main__ import main as index_main
from index.answers.provision import NotInForce, _history, read_provision
from index.answers.results import catalog_of
from index.config import settings
from index.law.versions import in_force, parse_day, version_on
from index.model import Amendment, Chunk
from index.retrieval import store
from index.retrieval.filters import Filters
from index.retrieval.search import Searcher
from ingest import eurlex
from ingest.__main__ import with_amendments
from ingest.amendments import AmendingAct, Instruction, parse_amendments
from ingest.chunking import chunk_units
from ingest.consolidate import consolidate
from ingest.pipeline import Ingestor
from ingest.sources import Resolver, Source, SourceFile, load_manifest
from ingest.structure import build_units
from ingest.versions import _dated
from tests.conftest import FIXTURES

AMENDING = AmendingAct("reg-2099-2", "Regulation (EU) 2099/2", date(2099, 6, 4))


def wording(label: str, valid_from: str = "", valid_to: str = "") -> Chunk:
    return Chunk(f"act/{label}", "act", label, label.split("(")[0], "article", "", (), "text", "", "text", "", None, 0,
                 valid_from, valid_to)


@pytest.mark.parametrize(("valid_from", "valid_to", "day", "expected"), [
    ("", "", "2000-01-01", True),
    ("", "2026-07-27", "2026-07-26", True),
    ("", "2026-07-27", "2026-07-27", False),  # replaced on that day: the new wording is in force
    ("2026-07-27", "", "2026-07-26", False),
    ("2026-07-27", "", "2026-07-27", True),
])
def test_a_wording_is_in_force_from_its_first_day_until_the_day_it_is_replaced(valid_from, valid_to, day, expected):
    assert in_force(wording("Article 1", valid_from, valid_to), day) is expected
    assert Filters(as_of=day).admits(wording("Article 1", valid_from, valid_to)) is expected


def test_a_bad_date_is_refused_with_the_form_to_use():
    assert parse_day("2026-01-01") == "2026-01-01" and parse_day("") == ""
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_day("1 January 2026")


def test_the_version_quoted_is_the_one_in_force_on_the_day():
    document = {"versions": [{"date": "2024-07-12", "text": "as published"},
                             {"date": "2026-07-27", "text": "as amended by Regulation (EU) 2026/1744"}]}
    assert version_on(document, "2026-01-01").text == "as published"
    assert version_on(document, "2026-12-01").text == "as amended by Regulation (EU) 2026/1744"


def test_consolidated_units_are_dated_and_superseded_wordings_kept():
    """The mini amending act's applicable points, dated: what they replaced stays, superseded from their day."""
    base = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    instructions = parse_amendments((FIXTURES / "mini-amending-act.html").read_bytes(), "Regulation (EU) 2099/1")
    result = consolidate(base, [i for i in instructions if isinstance(i, Instruction)], AMENDING)
    units = _dated(base, [result], {"reg-2099-2": "https://eur-lex.example/2099/2"})
    current = [u for u in units if not u.valid_to]
    superseded = [u for u in units if u.valid_to]
    assert superseded and all(u.status == "superseded" and u.valid_to == "2099-06-04" for u in superseded)
    assert {u.status for u in current} <= {"unchanged", "replaced", "inserted"}
    changed = [u for u in current if u.status in {"replaced", "inserted"}]
    assert changed and all(u.valid_from == "2099-06-04" and u.amended_by[0].act == "Regulation (EU) 2099/2"
                           for u in changed)
    assert all(u.amended_by[0].url == "https://eur-lex.example/2099/2#art_1" for u in changed)
    chunks = chunk_units("act", "Act", units, lambda unit: "")
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)) and any("@original" in i for i in ids)
    before, after = Filters(as_of="2099-06-03"), Filters(as_of="2099-06-04")
    assert {c.label for c in chunks if before.admits(c)} != {c.label for c in chunks if after.admits(c)}


def test_the_text_on_the_day_before_an_amending_act_is_the_original_in_document_order():
    base = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    instructions = parse_amendments((FIXTURES / "mini-amending-act.html").read_bytes(), "Regulation (EU) 2099/1")
    result = consolidate(base, [i for i in instructions if isinstance(i, Instruction)], AMENDING)
    units = _dated(base, [result], {})
    chunks = chunk_units("act", "Act", units, lambda unit: "")
    original = chunk_units("act", "Act", base, lambda unit: "")
    context = lambda c: (c.label, c.text, c.heading, c.lead, c.path)  # noqa: E731
    assert [context(c) for c in chunks if in_force(c, "2099-06-03")] == [context(c) for c in original]
    assert [(u.label, u.text) for u in units if not u.valid_to] == [(u.label, u.text) for u in result.units]
    changes = _history([c for c in chunks if c.unit == "Article 3"], "2099-06-04")
    replaced = [c for c in changes if c.amendment.kind == "replaced"]
    ended = [c.previous_text for c in replaced if c.previous_text]  # a point replacing an earlier point's wording
    assert ended and "EUR 35 000 000" in ended[0]  # the original, not a wording another point replaced
    assert all(not c.previous_text for c in changes if c.amendment.kind == "inserted")


def test_a_chunk_record_round_trips_its_history():
    chunk = replace(wording("Article 5(1)(ba)", "2026-07-27"), status="inserted",
                    amended_by=(Amendment("Regulation (EU) 2026/1744", "Article 1, point (7)(a)", "inserted",
                                          "2026-07-27"),))
    assert Chunk.from_record(json.loads(json.dumps(chunk.to_record()))) == chunk


# -- the real AI Act as amended by Regulation (EU) 2026/1744 -------------------------------------------


@pytest.fixture(scope="module")
def amended(corpus_index):
    return store.load(corpus_index)


def show(corpus_index, capsys, *args: str) -> dict:
    assert index_main(["--data-dir", str(corpus_index.data_dir), "show", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_ingest_applies_every_point_of_the_amending_act(amended):
    ai_act = amended.document("ai-act")
    assert ai_act["consolidation"] == ["Regulation (EU) 2026/1744: 43 of 43 points applied (74 instructions)"]
    assert [v["date"] for v in ai_act["versions"]] == ["2024-07-12", "2026-07-27"]
    assert ai_act["versions"][1]["url"] == "http://data.europa.eu/eli/reg/2024/1689/2026-07-27"
    assert amended.document("digital-omnibus-ai")["type"] == "amending-act"


@pytest.mark.slow
def test_article_113_as_consolidated_and_its_history(corpus_index, capsys):
    record = show(corpus_index, capsys, "ai-act", "Article 113", "--as-of", "2026-12-01")
    assert record["status"] == "amended" and record["label"] == "Article 113"
    assert "(i) 2 December 2027 as regards AI systems classified as high-risk pursuant to Article 6(2) and Annex III" \
        in record["text"]
    assert "(d) Articles 102 to 110 shall apply from 27 July 2026." in record["text"]
    assert {h["point"] for h in record["history"]} == {
        "Article 1, point (40)(a)", "Article 1, point (40)(b)", "Article 1, point (40)(c)"}
    assert all(h["act"] == "Regulation (EU) 2026/1744" and h["in_force"] == "2026-07-27" for h in record["history"])
    original = show(corpus_index, capsys, "ai-act", "Article 113", "--as-of", "2026-01-01")
    assert original["status"] == "unchanged" and original["history"] == []
    assert "2 August 2027" in original["text"] and "2 December 2027" not in original["text"]


@pytest.mark.slow
def test_the_new_prohibitions_are_in_the_text_and_apply_from_2_december_2026(corpus_index, capsys):
    record = show(corpus_index, capsys, "ai-act", "Article 5(1)(ba)")
    assert record["status"] == "inserted"
    assert record["history"][0]["point"] == "Article 1, point (7)(a)"
    assert [a["date"] for a in record["applies_from"]] == ["2026-12-02"]
    assert [a["date"] for a in show(corpus_index, capsys, "ai-act", "Article 5(1)(f)")["applies_from"]] == [
        "2025-02-02"]
    assert index_main(["--data-dir", str(corpus_index.data_dir), "show", "ai-act", "Article 5(1)(ba)",
                       "--as-of", "2026-01-01"]) == 1


@pytest.mark.slow
def test_a_renamed_article_keeps_its_old_heading_on_earlier_days(amended):
    """Article 1, point (31)(a) of 2026/1744 renamed Article 75; its unchanged paragraphs carry each heading in turn."""
    paragraph = [c for c in amended.chunks if c.doc_id == "ai-act" and c.label == "Article 75(2)"]
    assert {c.heading.split(" ")[0] for c in paragraph if in_force(c, "2026-01-01")} == {"Mutual"}
    assert {c.heading.split(" ")[0] for c in paragraph if in_force(c, "2026-12-01")} == {"Market"}


@pytest.mark.slow
def test_a_deleted_paragraph_is_absent_today_and_present_before(corpus_index, capsys, amended):
    today = show(corpus_index, capsys, "ai-act", "Article 10(5)")
    assert today["status"] == "deleted" and today["text"] == ""
    assert today["history"][0]["kind"] == "deleted" and "bias detection" in today["history"][0]["previous_text"]
    before = show(corpus_index, capsys, "ai-act", "Article 10(5)", "--as-of", "2026-01-01")
    assert before["status"] == "unchanged" and "bias detection" in before["text"]
    with pytest.raises(NotInForce, match="not yet in the text"):
        read_provision(amended, catalog_of(amended, "2026-01-01"), "ai-act", "Article 4a", "2026-01-01")


@pytest.mark.slow
def test_high_risk_dates_are_read_from_article_113_as_amended(corpus_index, capsys):
    assert index_main(["--data-dir", str(corpus_index.data_dir), "timeline", "ai-act", "--json"]) == 0
    milestones = json.loads(capsys.readouterr().out)["milestones"]
    by_date = {m["date"]: m for m in milestones}
    assert {"2025-02-02", "2025-08-02", "2026-07-27", "2026-08-02", "2026-12-02", "2027-12-02", "2028-08-02"} <= set(
        by_date)
    assert by_date["2027-12-02"]["previous_date"] == "2026-08-02" and "Annex III" in by_date["2027-12-02"]["condition"]
    assert by_date["2028-08-02"]["previous_date"] == "2027-08-02" and "Annex I" in by_date["2028-08-02"]["condition"]
    assert by_date["2026-07-27"]["previous_date"] == "2026-08-02"
    assert by_date["2026-08-02"]["previous_date"] is None
    article_26 = show(corpus_index, capsys, "ai-act", "Article 26")["applies_from"]
    assert [(a["date"], a["source"]) for a in article_26] == [("2027-12-02", "Article 113"),
                                                              ("2028-08-02", "Article 113"),
                                                              ("2030-08-02", "Article 111(2)")]  # public bodies
    assert "public authorities" in article_26[-1]["condition"]
    assert index_main(["--data-dir", str(corpus_index.data_dir), "timeline", "ai-act", "--as-of", "2026-01-01",
                       "--json"]) == 0
    original = {m["date"] for m in json.loads(capsys.readouterr().out)["milestones"]}
    assert "2027-08-02" in original and "2027-12-02" not in original


@pytest.mark.slow
def test_search_quotes_the_text_in_force_and_says_which_version(corpus_searcher: Searcher):
    question = "Is an app that makes sexual deepfakes of real people prohibited?"
    now = corpus_searcher.search(question, 30, Filters(docs=("ai-act",)))
    assert all(h.chunk.valid_to == "" for h in now) and now[0].version["date"] == "2026-07-27"
    assert "Article 5(1)(ba)" in [h.chunk.label for h in now[:10]] or "Article 5(1)(bb)" in [
        h.chunk.label for h in now[:10]]
    then = corpus_searcher.search(question, 30, Filters(docs=("ai-act",), as_of="2026-01-01"))
    assert all(h.chunk.label not in {"Article 5(1)(ba)", "Article 5(1)(bb)"} for h in then)
    assert then[0].version["date"] == "2024-07-12"


@pytest.mark.slow
def test_french_units_the_amendments_touched_are_marked_outdated(amended):
    french = [c for c in amended.chunks if c.doc_id == "ai-act-fr"]
    article_113 = {c.label: c for c in french if c.unit == "Article 113"}
    assert article_113["Article 113(a)"].status == article_113["Article 113(c)"].status == "outdated"
    assert article_113["Article 113(a)"].amended_by[0].point == "Article 1, point (40)(a)"
    assert article_113["Article 113(b)"].status == ""  # point (b) was not amended
    assert any(c.status == "" for c in french if c.unit == "Article 1")
    assert "only in EN" in amended.document("ai-act-fr")["note"]


# -- ingest: an amending act that cannot be applied changes nothing -------------------------------------


def test_an_amending_act_with_an_unappliable_point_fails_the_ingest_and_keeps_the_live_index(tmp_path, embedder):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in ("mini-act.html", "mini-amending-act.html"):
        (mirror / name).write_bytes((FIXTURES / name).read_bytes())
    act = Source("mini", "Lawnmower Act", "Lawnmower Act", "regulation", "en",
                 (SourceFile("mini-act.html", "html"),), version_date="2099-04-01",
                 eli="http://data.europa.eu/eli/reg/2099/1/oj", landing="https://eur-lex.example/2099/1")
    amending = Source("mini-amending", "Regulation (EU) 2099/2", "Reg. 2099/2", "amending-act", "en",
                      (SourceFile("mini-amending-act.html", "html"),), version_date="2099-06-01",
                      eli="http://data.europa.eu/eli/reg/2099/2/oj", amends="mini", in_force="2099-06-04")
    config = settings(tmp_path / "data")
    resolver = Resolver(mirror, config.cache / "sources", offline=True)
    first = Ingestor(config, resolver, embedder, progress=False).run([act])
    assert not first.errors
    live = store.current_build_path(config)
    second = Ingestor(config, resolver, embedder, progress=False).run([act, amending])
    assert second.build is None and len(second.errors) == 1
    assert "amending acts not applied, the index is unchanged" in second.errors[0]
    assert "Regulation (EU) 2099/2:" in second.errors[0] and "Article 1, point (" in second.errors[0]
    assert store.current_build_path(config) == live and store.load(config).manifest.documents[0]["doc_id"] == "mini"


def test_selecting_a_source_brings_the_acts_its_text_in_force_depends_on():
    manifest = load_manifest()
    by_id = {s.id: s for s in manifest}
    assert [s.id for s in with_amendments([by_id["ai-act-fr"]], manifest)] == ["ai-act-fr", "digital-omnibus-ai",
                                                                              "ai-act"]
    assert [s.id for s in with_amendments([by_id["gdpr"]], manifest)] == ["gdpr"]
