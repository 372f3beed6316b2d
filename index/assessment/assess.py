"""A described AI system assessed: who the user is, what the system is, its risk class and the duties that follow.

The free text proposes; the user decides. `assess` reads a description ("We built a
tool that ranks CVs for recruiters"), proposes a role from how it is told ("we built"
versus "we use"), the register's categories it matches (each with its evidence), the
Article 2 exclusions it may fall under, and from those the risk class and the duties
for that role, each dated from the law in force. `Answers` carries what a user
confirmed or changed in the questionnaire; the outcome is recomputed from them.
What the description cannot settle (Article 6(3), an exception of Article 5, whether
a deployer becomes a provider) is said, with the provision that governs it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.assessment.matching import DESCRIPTION, Match, Matcher, description_data
from index.config import Settings
from index.law.catalog import Catalog
from index.law.obligations import AI_ACT, Category, Duty, Register, check_labels, dates_for, load_register
from index.law.timeline import AppliesFrom, timeline
from index.law.versions import today, version_on
from index.retrieval.embedder import Embedder

RISK_CLASSES = ("prohibited", "high-risk", "limited", "minimal")  # most severe first
ROLES = ("provider", "deployer")
_SEVERITY = {"prohibited": 0, "high-risk": 1, "limited": 2}
CANDIDATES = 6  # near misses offered in the questionnaire besides the matches


@dataclass(frozen=True)
class Answers:
    """What the user confirmed: None keeps what the description suggested."""

    role: str | None = None
    categories: tuple[str, ...] | None = None  # category ids that apply (systems, GPAI)
    exclusions: tuple[str, ...] | None = None  # Article 2 exclusion ids that apply


@dataclass(frozen=True)
class DatedDuty:
    duty: Duty
    applies_from: tuple[AppliesFrom, ...]
    citation: str  # "Article 26(1) AI Act"
    url: str

    def to_json(self) -> dict[str, Any]:
        return {"label": self.duty.label, "doc_id": self.duty.doc, "citation": self.citation, "text": self.duty.text,
                "condition": self.duty.condition, "penalty": self.duty.penalty, "url": self.url,
                "applies_from": [_date_json(a) for a in self.applies_from]}


def _date_json(dated: AppliesFrom) -> dict[str, str]:
    return {"date": dated.day.isoformat(), "condition": dated.condition, "source": dated.source}


@dataclass(frozen=True)
class Assessment:
    text: str
    role: str
    role_evidence: tuple[str, ...]  # the words that suggested it
    risk_class: str
    categories: tuple[Match, ...]  # those that apply, most severe first
    category_dates: dict[str, tuple[AppliesFrom, ...]]  # category id -> from when its class applies
    candidates: tuple[Match, ...]  # the nearest that were not matched, for the user to check
    exclusions: tuple[Match, ...]
    duties: tuple[DatedDuty, ...]
    undecided: tuple[str, ...]
    version: str  # which text of the law the duties were read from
    as_of: str
    seconds: float = 0.0
    answered: bool = False  # the user confirmed or changed the proposal
    asked: float = field(default_factory=time.time)

    @property
    def general_purpose(self) -> bool:
        return any(m.category.klass == "gpai" for m in self.categories)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text, "role": self.role, "role_evidence": list(self.role_evidence),
            "risk_class": self.risk_class, "general_purpose_model": self.general_purpose,
            "categories": [{**_match_json(m), "applies_from": [_date_json(a) for a in self.category_dates[m.category.id]]}
                           for m in self.categories],
            "candidates": [_match_json(m) for m in self.candidates],
            "exclusions": [_match_json(m) for m in self.exclusions],
            "duties": [d.to_json() for d in self.duties], "undecided": list(self.undecided),
            "version": self.version, "as_of": self.as_of, "answered": self.answered,
            "seconds": round(self.seconds, 4),
        }


def _match_json(match: Match) -> dict[str, Any]:
    category = match.category
    return {"id": category.id, "label": category.label, "provisions": list(category.provisions),
            "title": category.title, "class": category.klass,
            "score": round(match.score, 3), "evidence": [e.to_json() for e in match.evidence],
            **({"exception": category.exception} if category.exception else {})}


class Assessor:
    """The register, checked against one catalog, and a matcher over it: made once per build, used per request."""

    def __init__(self, catalog: Catalog, embedder: Embedder, settings: Settings, register: Register | None = None,
                 query: Callable[[str], np.ndarray] | None = None):
        self.register = register or load_register()
        check_labels(self.register, catalog)
        self.catalog = catalog
        self.matcher = Matcher(self.register, catalog, embedder, settings, query)
        self._dated: dict[tuple[Duty, frozenset[str]], DatedDuty] = {}  # the same for every description

    def assess(self, text: str, role: str | None = None, answers: Answers = Answers(), as_of: str = "") -> Assessment:
        started = time.perf_counter()
        text = " ".join(text.split())
        if not text:
            raise ValueError("describe the AI system: what it does, for whom, and whether you build it or use it")
        matches = self.matcher.matches(subject_of(text))
        proposed_role, role_evidence = propose_role(text)
        chosen_role = answers.role or role or proposed_role
        systems = [m for m in matches if m.category.klass not in ("exclusion",)]
        applying = _chosen(systems, answers.categories)
        exclusions = _chosen([m for m in matches if m.category.klass == "exclusion"], answers.exclusions)
        risk = risk_class_of([m.category for m in applying])
        excluded = _excluding(exclusions, risk, answered=answers.exclusions is not None)
        duties = [] if excluded else self._duties([m.category for m in applying], chosen_role)
        undecided = self._undecided(applying, exclusions, risk, chosen_role, role or answers.role, role_evidence,
                                    excluded)
        near = [m for m in systems if m not in applying][:CANDIDATES]
        day = as_of or today()
        dated = {m.category.id: self._category_dates(m.category) for m in applying}
        return Assessment(text, chosen_role, role_evidence, risk, tuple(_by_severity(applying)), dated, tuple(near),
                          tuple(exclusions), tuple(duties), tuple(undecided), self._version(day), day,
                          time.perf_counter() - started, answered=answers != Answers())

    def _duties(self, categories: list[Category], role: str) -> list[DatedDuty]:
        bases = frozenset(c.basis for c in categories if c.basis)
        return [self._dated_duty(duty, bases) for duty in self.register.duties_for(categories, role)]

    def _dated_duty(self, duty: Duty, bases: frozenset[str]) -> DatedDuty:
        """A duty with its dates and link, read from the catalog once per basis: the same for every description."""
        if (duty, bases) not in self._dated:
            dates = tuple(dates_for(self.catalog, timeline(self.catalog, duty.doc), duty.label, set(bases)))
            chunks = self.catalog.chunks(duty.doc, duty.label)
            self._dated[duty, bases] = DatedDuty(duty, dates, f"{duty.label} {self.catalog.short_name(duty.doc)}",
                                                 chunks[0].url if chunks else "")
        return self._dated[duty, bases]

    def _category_dates(self, category: Category) -> tuple[AppliesFrom, ...]:
        bases = {category.basis} if category.basis else set()
        return tuple(dates_for(self.catalog, timeline(self.catalog, AI_ACT), category.dated_by, bases))

    def _others_bound(self, category: Category, role: str) -> list[str]:
        """The roles the category's own provision binds when it binds nobody in `role` (Article 50(1): providers)."""
        own = [d for d in self.register.duties if d.label == category.label and category.id in d.selectors]
        return [] if not own or any(role in d.roles for d in own) else [own[0].roles[0]]

    def _version(self, day: str) -> str:
        document = self.catalog.document(AI_ACT)
        version = version_on(document, day)
        return f"{document.get('short') or AI_ACT} in force on {day}, {version.text}"

    def _undecided(self, applying: list[Match], exclusions: list[Match], risk: str, role: str, told_role: str | None,
                   role_evidence: tuple[str, ...], excluded: bool) -> list[str]:
        said = []
        if not told_role and not role_evidence:
            said.append(f"The description does not say whether you build the system or use it: the duties shown are "
                        f"a {role}'s. Providers develop a system and place it on the market under their name "
                        "(Article 3(3)); deployers use one under their authority (Article 3(4)).")
        if not applying:
            said.append("No category of the AI Act matched this description with confidence: check the questions "
                        "below. A system outside Article 5, Article 6 with Annexes I and III, and Article 50 has no "
                        "duty of its own beyond AI literacy (Article 4).")
        said += [f"{m.category.label}: {m.category.exception}" for m in applying if m.category.exception]
        if any(m.category.basis == "annex-iii" for m in applying) and risk == "high-risk":
            said.append("Article 6(3): an Annex III system is not high-risk where it only performs a narrow procedural "
                        "task, improves the result of a completed human activity, detects decision patterns without "
                        "replacing human assessment, or performs a preparatory task, unless it profiles people; a "
                        "provider relying on this must document the assessment before placing it on the market "
                        "(Article 6(4)) and register it (Article 49(2)).")
        if any(m.category.basis == "annex-i" for m in applying):
            said.append("Article 6(1): a product's AI safety component is high-risk only where the product must "
                        "undergo a third-party conformity assessment under the Union legislation listed in Annex I; "
                        "for products in Annex I, Section B, only the provisions listed in Article 2(2) apply.")
        said += [f"{m.category.label} places its duty on the {other}, not on you as {role}: "
                 f"check that the {other} meets it ({m.category.title})."
                 for m in applying for other in self._others_bound(m.category, role)]
        if role == "deployer" and risk in ("high-risk", "limited"):
            said.append("Article 25(1): a deployer who puts its name or trademark on the system, substantially "
                        "modifies it, or changes its intended purpose so that it becomes high-risk is its provider.")
        if any(m.category.klass == "gpai" for m in applying):
            said.append("Article 51: a general-purpose AI model has systemic risk where it has high-impact "
                        "capabilities (presumed above 10^25 floating-point operations of training compute) or the "
                        "Commission designates it; Article 55 then adds duties.")
        said += [f"{m.category.label}: the AI Act may not apply ({m.category.title.lower()}); confirm it below."
                 for m in exclusions if not excluded]
        if excluded:
            said.append("The AI Act does not apply under " + ", ".join(m.category.label for m in exclusions)
                        + ": no duties are listed.")
        return said


class AssessorCache:
    """One Assessor per build and day (each reads the law in force that day), dropped when the build changes."""

    DAYS = 4

    def __init__(self, embedder: Embedder, settings: Settings, query: Callable[[str], np.ndarray] | None = None):
        self._embedder, self._settings, self._query = embedder, settings, query
        self._build: Path | None = None
        self._by_day: dict[str, Assessor] = {}
        self._lock = threading.Lock()

    def of(self, build: Path, day: str, catalog: Callable[[], Catalog]) -> Assessor:
        with self._lock:
            if self._build != build:
                self._build, self._by_day = build, {}
            if day not in self._by_day:
                if len(self._by_day) >= self.DAYS:
                    self._by_day.pop(next(iter(self._by_day)))
                self._by_day[day] = Assessor(catalog(), self._embedder, self._settings, query=self._query)
            return self._by_day[day]


def risk_class_of(categories: list[Category]) -> str:
    """The most severe class among the categories; "minimal" when none is prohibited, high-risk or transparency."""
    classes = sorted((_SEVERITY[c.klass] for c in categories if c.klass in _SEVERITY))
    return RISK_CLASSES[classes[0]] if classes else "minimal"


def _chosen(matches: list[Match], confirmed: tuple[str, ...] | None) -> list[Match]:
    """The confirmed categories, else the decisive ones and those that add duties without raising the class."""
    if confirmed is not None:
        return [m for m in matches if m.category.id in confirmed]
    decisive = [m for m in matches if m.decisive]
    ceiling = min((_SEVERITY.get(m.category.klass, 9) for m in decisive), default=9)
    return [m for m in matches if m.decisive or (m.matched and _SEVERITY.get(m.category.klass, 9) >= ceiling)]


def _excluding(exclusions: list[Match], risk: str, answered: bool) -> bool:
    """Only a confirmed exclusion takes a system out; open-source licences do not, for prohibited, high-risk and
    Article 50 systems (Article 2(12))."""
    if not answered or not exclusions:
        return False
    return any(m.category.id != "open-source" or risk == "minimal" for m in exclusions)


def _by_severity(matches: list[Match]) -> list[Match]:
    order = {klass: i for i, klass in enumerate(("prohibited", "high-risk", "limited", "gpai"))}
    return sorted(matches, key=lambda m: (order.get(m.category.klass, 9), -m.score))


def subject_of(text: str, path: Path = DESCRIPTION) -> str:
    """What a question describes, without its generic frame ("Can we use AI to ...", "What do we have to do?")."""
    lead, sentence = _frame_patterns(path)
    parts = [p for p in re.split(r"(?<=[.?!])\s+", text) if p]
    kept = [p for p in parts if not sentence.match(p)] or parts
    return lead.sub("", " ".join(kept), count=1) or text


@lru_cache(maxsize=4)
def _frame_patterns(path: Path) -> tuple[re.Pattern[str], re.Pattern[str]]:
    frame = description_data(path)["frame"]
    return re.compile(frame["lead"], re.IGNORECASE), re.compile(frame["sentence"], re.IGNORECASE)


def propose_role(text: str, path: Path = DESCRIPTION) -> tuple[str, tuple[str, ...]]:
    """ "provider" or "deployer" from how the text is told, with the phrases that said so; provider on a tie."""
    found = {role: [m.group(0) for p in patterns for m in p.finditer(text)]
             for role, patterns in _role_patterns(path).items()}
    role = "deployer" if len(found["deployer"]) > len(found["provider"]) else "provider"
    return role, tuple(found[role])


def describes_practice(question: str, path: Path = DESCRIPTION) -> bool:
    """Does the question describe a practice or system of the asker's own ("Can we…", "We built…")?"""
    return any(p.search(question) for p in _practice_patterns(path))


def asks_for_duties(question: str, path: Path = DESCRIPTION) -> bool:
    """Does the question ask for the duties as a whole ("What do we have to do, and by when?")?"""
    return bool(_duties_pattern(path).search(question))


@lru_cache(maxsize=4)
def _practice_patterns(path: Path) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in description_data(path)["practice"]["patterns"])


@lru_cache(maxsize=4)
def _duties_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(description_data(path)["practice"]["duties"], re.IGNORECASE)


@lru_cache(maxsize=4)
def _role_patterns(path: Path) -> dict[str, list[re.Pattern[str]]]:
    roles = description_data(path)["roles"]
    try:
        return {role: [re.compile(p, re.IGNORECASE) for p in roles[role]] for role in ROLES}
    except (KeyError, re.error) as error:
        raise ValueError(f"{path}: [roles] needs valid patterns for {', '.join(ROLES)}: {error}") from error
