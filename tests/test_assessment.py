"""The obligations register and the assessment of a described system, on the real model and the real AI Act.

The register is checked twice: its file on its own (fields, classes, roles,
selectors) and every provision it cites against the index. The clear cases of the
issue are assessed end to end through the CLI, the API and the app.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from index.__main__ import main as cli
from index.answers.export import checklist_markdown
from index.answers.question import answer
from index.answers.results import catalog_of
from index.api import ApiConfig, create_app
from index.assessment.assess import Answers, Assessor, describes_practice, propose_role
from index.config import Settings
from index.law.obligations import REGISTER, RegisterError, check_labels, load_register
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.search import Searcher

APP = str(Path(__file__).resolve().parents[1] / "app.py")


# ---- the register as a file ---------------------------------------------------------------------------------


def test_the_register_loads_with_a_duty_for_every_role_it_names() -> None:
    register = load_register()
    assert {c.klass for c in register.categories} == {"prohibited", "high-risk", "limited", "gpai", "exclusion"}
    assert {"Article 5(1)(f)", "Annex III, point 4(a)", "Article 50(1)"} <= {c.label for c in register.categories}
    assert {role for d in register.duties for role in d.roles} == set(register.roles)
    assert all(d.text and d.label for d in register.duties)


@pytest.mark.parametrize(("change", "message"), [
    (('class = "prohibited"', 'class = "forbidden"', 1), "class 'forbidden' is not one of"),
    (('for = ["every-system"]', 'for = ["every-robot"]', 1), "names neither a category nor a group"),
    (('roles = ["provider", "deployer"]', 'roles = ["overlord"]', 1), "unknown roles ['overlord']"),
    (('basis = "annex-iii"\n', "", 1), "a high-risk category needs a basis"),
    (('id = "toys"', 'id = "lifts"', 1), "category ids repeat: ['lifts']"),
])
def test_a_malformed_register_is_refused_naming_the_entry(tmp_path: Path, change: tuple[str, str, int],
                                                          message: str) -> None:
    broken = tmp_path / "obligations.toml"
    broken.write_text(REGISTER.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(RegisterError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_register(broken)


def test_a_label_the_index_does_not_hold_is_an_error_not_a_silent_miss(mini_index: Settings) -> None:
    with pytest.raises(RegisterError, match="cites provisions the index does not hold: category manipulation"):
        check_labels(load_register(), catalog_of(store.load(mini_index)))


@pytest.mark.parametrize(("text", "role"), [
    ("We built a tool that ranks CVs for recruiters.", "provider"),
    ("Our start-up develops an app that grades essays.", "provider"),
    ("Our HR team uses a vendor's tool to screen applicants.", "deployer"),
    ("We bought an off-the-shelf chatbot for our web shop.", "deployer"),
])
def test_the_role_is_proposed_from_how_the_system_is_described(text: str, role: str) -> None:
    assert propose_role(text)[0] == role


@pytest.mark.parametrize(("question", "describes"), [
    ("Can we monitor employees' emotions in video calls?", True),
    ("We built a chatbot for customer support. What do we have to do?", True),
    ("Is it allowed to score citizens' behaviour?", True),
    ("Which AI practices are prohibited?", False),
    ("When does Article 50 apply?", False),
])
def test_a_question_about_ones_own_practice_is_told_from_a_question_about_the_law(question: str,
                                                                                  describes: bool) -> None:
    assert describes_practice(question) is describes


def test_the_api_says_503_when_the_index_lacks_the_ai_act(mini_index: Settings, embedder: Embedder) -> None:
    with TestClient(create_app(mini_index, ApiConfig(), embedder)) as client:
        response = client.post("/assess", json={"text": "We built a chatbot"})
    assert response.status_code == 503
    assert "does not hold" in response.json()["error"]["message"]


# ---- the real AI Act ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assessor(corpus_index: Settings, embedder: Embedder) -> Assessor:
    return Assessor(catalog_of(store.load(corpus_index)), embedder, corpus_index)


CLEAR_CASES = [
    ("We use software that reads our employees' facial expressions in video calls to tell managers how stressed "
     "or engaged they are.", "prohibited", "Article 5(1)(f)"),
    ("We built a tool that screens CVs and ranks job applicants for recruiters.", "high-risk", "Annex III, point 4(a)"),
    ("We run a chatbot on our web shop that answers customers.", "limited", "Article 50(1)"),
    ("A spam filter for our company's email.", "minimal", None),
]


@pytest.mark.slow
def test_every_label_of_the_register_resolves_in_the_real_index(corpus_index: Settings) -> None:
    check_labels(load_register(), catalog_of(store.load(corpus_index)))


@pytest.mark.slow
@pytest.mark.parametrize(("text", "risk", "label"), CLEAR_CASES)
def test_clear_cases_are_classed_with_their_deciding_provision(assessor: Assessor, text: str, risk: str,
                                                               label: str | None) -> None:
    assessment = assessor.assess(text)
    assert assessment.risk_class == risk
    assert [m.category.label for m in assessment.categories][:1] == ([label] if label else [])


@pytest.mark.slow
def test_duties_follow_the_role_and_are_dated_from_the_law_in_force(assessor: Assessor) -> None:
    text = CLEAR_CASES[1][0]
    provider = {d.duty.label: d for d in assessor.assess(text).duties}
    deployer = {d.duty.label for d in assessor.assess(text, role="deployer").duties}
    assert {"Article 9", "Article 16", "Article 43"} <= set(provider) and "Article 26(1)" not in provider
    assert {"Article 26(1)", "Article 26(7)"} <= deployer and "Article 16" not in deployer
    dates = [a.day.isoformat() for a in provider["Article 9"].applies_from]
    assert dates[0] == "2027-12-02"  # Article 113(c)(i) as amended by 2026/1744, for Annex III systems
    assert all("Annex I " not in a.condition for a in provider["Article 9"].applies_from)
    before = assessor.assess(text, as_of="2026-01-01")
    assert before.version.startswith("AI Act in force on 2026-01-01")


@pytest.mark.slow
def test_what_the_description_cannot_decide_is_said_with_its_provision(assessor: Assessor) -> None:
    high_risk = assessor.assess(CLEAR_CASES[1][0])
    assert any(s.startswith("Article 6(3)") and "Article 6(4)" in s for s in high_risk.undecided)
    chatbot = assessor.assess(CLEAR_CASES[2][0], role="deployer")
    assert any(s.startswith("Article 50(1) places its duty on the provider") for s in chatbot.undecided)
    emotions = assessor.assess(CLEAR_CASES[0][0])
    assert any("medical or safety reasons" in s for s in emotions.undecided)


@pytest.mark.slow
def test_the_users_answers_override_the_proposal(assessor: Assessor) -> None:
    text = CLEAR_CASES[2][0]
    changed = assessor.assess(text, answers=Answers("provider", ("recruitment",), ()))
    assert (changed.risk_class, changed.role, changed.answered) == ("high-risk", "provider", True)
    excluded = assessor.assess(text, answers=Answers(None, ("chatbot",), ("military",)))
    assert excluded.duties == () and "does not apply under Article 2(3)" in excluded.undecided[-1]


@pytest.mark.slow
def test_the_checklist_lists_each_duty_with_citation_date_and_version(assessor: Assessor) -> None:
    markdown = checklist_markdown(assessor.assess(CLEAR_CASES[1][0], role="deployer"))
    assert "**Risk class: High-risk AI system**" in markdown
    assert "- [ ] **Article 26(1) AI Act**" in markdown and "Applies from 2027-12-02" in markdown
    assert "AI Act in force on" in markdown and "Not legal advice" in markdown


@pytest.mark.slow
def test_the_cli_prints_the_fixed_json_keys_and_batches(corpus_index: Settings, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data-dir", str(corpus_index.data_dir), "assess"]
    assert cli([*args, CLEAR_CASES[2][0], "--role", "provider", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {"risk_class", "role", "categories", "duties", "undecided"} <= set(record)
    assert (record["risk_class"], record["role"]) == ("limited", "provider")
    assert record["categories"][0]["label"] == "Article 50(1)" and "score" in record["categories"][0]
    assert {"label", "text", "applies_from"} <= set(record["duties"][0])
    batch = tmp_path / "systems.jsonl"
    batch.write_text("\n".join(json.dumps({"id": f"s{i}", "text": t, "role": "deployer"})
                               for i, (t, _, _) in enumerate(CLEAR_CASES)), encoding="utf-8")
    assert cli([*args, "--batch", str(batch), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["risk_class"]) for r in lines] == [(f"s{i}", c[1]) for i, c in enumerate(CLEAR_CASES)]
    batch.write_text('{"id": 1, "role": "boss", "text": "x"}', encoding="utf-8")
    assert cli([*args, "--batch", str(batch), "--json"]) == 1
    assert "role 'boss' is not one of provider, deployer" in capsys.readouterr().err


@pytest.mark.slow
def test_the_api_assesses_with_the_same_result_as_the_library(corpus_index: Settings, embedder: Embedder,
                                                               assessor: Assessor) -> None:
    with TestClient(create_app(corpus_index, ApiConfig(), embedder)) as client:
        body = client.post("/assess", json={"text": CLEAR_CASES[0][0], "role": "deployer"}).json()
        answered = client.post("/assess", json={"text": CLEAR_CASES[0][0], "answers": {"categories": []}}).json()
        refused = client.post("/assess", json={"text": " ", "role": "deployer"})
    expected = assessor.assess(CLEAR_CASES[0][0], role="deployer").to_json()
    assert {k: v for k, v in body.items() if k != "seconds"} == {k: v for k, v in expected.items() if k != "seconds"}
    assert answered["risk_class"] == "minimal" and answered["answered"]
    assert refused.status_code == 400 and "describe the AI system" in refused.json()["error"]["message"]


@pytest.mark.slow
def test_a_can_we_question_leads_with_the_prohibition_that_decides_it(corpus_searcher: Searcher,
                                                                      assessor: Assessor) -> None:
    result = answer(corpus_searcher, assessor.catalog, "Can we monitor employees' emotions in video calls?",
                    assessor=assessor)
    assert result.verdict is not None and result.verdict.risk_class == "prohibited"
    assert result.verdict.categories[0].category.label == "Article 5(1)(f)"
    assert answer(corpus_searcher, assessor.catalog, "Which AI practices are prohibited?", assessor=assessor
                  ).verdict is None


@pytest.mark.slow
def test_the_app_assesses_a_description_and_updates_on_the_users_answers(corpus_index: Settings,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGKB_DATA_DIR", str(corpus_index.data_dir))
    app = AppTest.from_file(APP, default_timeout=300)
    app.query_params.update({"q": "Can we monitor employees' emotions in video calls?"})
    app.run()
    assert not app.exception, app.exception
    verdict = [m.value for m in app.markdown if "badge[" in m.value][0]
    assert "Prohibited] **Article 5(1)(f) AI Act**" in verdict and "applies since 2 February 2025" in verdict
    app.button(key="to-assess").click().run()
    assert app.query_params["view"] == "Assess my system"
    app.text_area(key="describe").set_value(CLEAR_CASES[1][0]).run()
    text = "\n".join(m.value for m in app.markdown)
    assert "High-risk]" in text and "**Your duties as provider**" in text
    app.radio[0].set_value("deployer").run()
    assert "**Your duties as deployer**" in "\n".join(m.value for m in app.markdown)
    assert [b.label for b in app.download_button] == ["Checklist (Markdown)", "Checklist (JSON)"]
