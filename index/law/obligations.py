"""The obligations register: the kinds of AI system the law singles out, and who owes which duty for them.

Kept as data (`data/obligations.toml`, written by people, read here) because it is
knowledge, not logic: what Article 26 asks of a deployer does not change with the
code. The file is validated when it loads, and `check_labels` verifies every
provision it cites against the index, so a label the index does not hold (a typo,
a point an amending act deleted) is an error and never a silent miss. Dates are
not in the file: `duty_dates` reads them from the application article in force.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from index.law.catalog import Catalog
from index.law.timeline import AppliesFrom, Timeline, applies_from

REGISTER = Path(__file__).with_name("data") / "obligations.toml"
CLASSES = ("prohibited", "high-risk", "limited", "gpai", "exclusion")
BASES = ("annex-iii", "annex-i")
BASIS_PROVISIONS = {"annex-iii": "Article 6(2)", "annex-i": "Article 6(1)"}
GROUPS = ("every-system", "prohibited", "high-risk", "annex-iii", "annex-i", "gpai", "gpai-systemic",
          "personal-data", "decisions")
AI_ACT = "ai-act"


class RegisterError(ValueError):
    """The register file is malformed or cites provisions the index does not have; the message says where."""


@dataclass(frozen=True)
class Category:
    id: str
    label: str  # "Article 5(1)(f)", "Annex III, point 4(a)"
    klass: str  # one of CLASSES
    title: str
    examples: tuple[str, ...]  # such systems as their makers and users describe them
    cues: tuple[str, ...]  # words that, in a description, are evidence for the category
    basis: str = ""  # for high-risk: "annex-iii" (Article 6(2)) or "annex-i" (Article 6(1))
    personal_data: bool = False
    decisions: bool = False
    exception: str = ""  # what takes a system out of the category, in plain words, with its provision
    required: tuple[tuple[str, ...], ...] = ()  # a description must use a word of each group to be admitted

    @property
    def provisions(self) -> tuple[str, ...]:
        """What decides the class, as cited: "Article 6(2)" and "Annex III, point 4(a)"; the label alone otherwise."""
        return (BASIS_PROVISIONS[self.basis], self.label) if self.basis else (self.label,)

    @property
    def dated_by(self) -> str:
        """The provision whose application date is the category's: a high-risk class applies with Article 6."""
        return self.provisions[0]

    @property
    def groups(self) -> frozenset[str]:
        """The selectors a duty may name to reach this category."""
        found = {self.id, self.klass, *([self.basis] if self.basis else [])}
        found |= {"personal-data"} if self.personal_data else set()
        found |= {"decisions"} if self.decisions else set()
        return frozenset(found | ({"every-system"} if self.klass != "exclusion" else set()))

    @cached_property
    def cue_pattern(self) -> re.Pattern[str] | None:
        return _pattern(self.cues)

    def cues_in(self, text: str) -> list[str]:
        return _words_in(self.cue_pattern, text)

    @cached_property
    def required_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(p for group in self.required if (p := _pattern(group)))

    def admits(self, text: str) -> bool:
        """Does the description use a word of each group the category turns on (always, when it names none)?"""
        return all(p.search(text) for p in self.required_patterns)


@dataclass(frozen=True)
class Duty:
    label: str  # the provision that imposes it
    roles: tuple[str, ...]
    selectors: tuple[str, ...]  # category ids or GROUPS
    text: str  # RegKB's plain-language line
    penalty: str  # the provision that fines a breach, "" where none does
    condition: str = ""  # narrows the duty further, for the user to check
    doc: str = AI_ACT

    def applies(self, categories: list[Category], role: str) -> bool:
        return role in self.roles and any(set(self.selectors) & c.groups for c in categories)


@dataclass(frozen=True)
class Register:
    roles: tuple[str, ...]
    categories: tuple[Category, ...]
    duties: tuple[Duty, ...]

    def category(self, category_id: str) -> Category:
        return next(c for c in self.categories if c.id == category_id)

    def duties_for(self, categories: list[Category], role: str) -> list[Duty]:
        return [d for d in self.duties if d.applies(categories, role)]


def load_register(path: Path = REGISTER) -> Register:
    """The register in `path`; RegisterError naming the entry for a missing field, unknown class, role or selector."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RegisterError(f"{path}: {error}") from error
    roles = tuple(raw.get("roles", ()))
    categories = tuple(_category(entry, i) for i, entry in enumerate(raw.get("category", []), 1))
    ids = [c.id for c in categories]
    if len(set(ids)) != len(ids):
        raise RegisterError(f"{path}: category ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    duties = tuple(_duty(entry, i, roles, {*ids, *GROUPS}) for i, entry in enumerate(raw.get("duty", []), 1))
    return Register(roles, categories, duties)


def check_labels(register: Register, catalog: Catalog) -> None:
    """Every provision the register cites must be in the index as in force; RegisterError lists those that are not."""
    cited = [(AI_ACT, c.label, f"category {c.id}") for c in register.categories]
    cited += [(d.doc, label, f"duty {d.label}") for d in register.duties for label in (d.label, d.penalty) if label]
    missing = [f"{what}: {doc} {label}" for doc, label, what in cited if not catalog.exists(doc, label)]
    if missing:
        raise RegisterError("the obligations register cites provisions the index does not hold: " + "; ".join(missing))


def dates_for(catalog: Catalog, dates: Timeline | None, label: str, bases: set[str]) -> list[AppliesFrom]:
    """When `label` applies, read from the application article in force, for the high-risk bases in question.

    Where the article dates a provision differently for Annex III and Annex I systems,
    only the dates for the bases of the matched categories are kept.
    """
    found = applies_from(catalog, dates, label)
    named = [a for a in found if any(_names_basis(a.condition, basis) for basis in bases)]
    other = [a for a in found if not any(_names_basis(a.condition, basis) for basis in BASES)]
    return named + other if named else found


def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of the words or phrases, on word boundaries, any case, any spacing, in the plural too."""
    if not words:
        return None
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?:s|es)?(?!\w)", re.IGNORECASE)


def _words_in(pattern: re.Pattern[str] | None, text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(text))) if pattern else []


_BASIS_WORDS = {"annex-iii": re.compile(r"\bAnnex III\b"), "annex-i": re.compile(r"\bAnnex I\b(?!I)")}


def _names_basis(condition: str, basis: str) -> bool:
    return bool(_BASIS_WORDS[basis].search(condition))


def _category(entry: dict[str, Any], number: int) -> Category:
    where = f"category {number} ({entry.get('id', 'no id')})"
    _require(entry, ("id", "label", "class", "title", "examples"), where)
    if entry["class"] not in CLASSES:
        raise RegisterError(f"{where}: class {entry['class']!r} is not one of {', '.join(CLASSES)}")
    basis = entry.get("basis", "")
    if (entry["class"] == "high-risk") != bool(basis) or (basis and basis not in BASES):
        raise RegisterError(f"{where}: a high-risk category needs a basis ({' or '.join(BASES)}), no other may have one")
    return Category(entry["id"], entry["label"], entry["class"], entry["title"], tuple(entry["examples"]),
                    tuple(entry.get("cues", ())), basis, bool(entry.get("personal_data")),
                    bool(entry.get("decisions")), entry.get("exception", ""), _groups(entry.get("required", []), where))


def _duty(entry: dict[str, Any], number: int, roles: tuple[str, ...], selectors: set[str]) -> Duty:
    where = f"duty {number} ({entry.get('label', 'no label')})"
    _require(entry, ("label", "roles", "for", "text", "penalty"), where)
    if unknown := [r for r in entry["roles"] if r not in roles]:
        raise RegisterError(f"{where}: unknown roles {unknown}")
    if unknown := [s for s in entry["for"] if s not in selectors]:
        raise RegisterError(f"{where}: 'for' names neither a category nor a group: {unknown}")
    return Duty(entry["label"], tuple(entry["roles"]), tuple(entry["for"]), entry["text"], entry["penalty"],
                entry.get("condition", ""), entry.get("doc", AI_ACT))


def _groups(required: list[Any], where: str) -> tuple[tuple[str, ...], ...]:
    """ `required = ["a", "b"]` is one group (any of them); `[["a"], ["b", "c"]]` two (one of each)."""
    if all(isinstance(word, str) for word in required):
        return (tuple(required),) if required else ()
    if all(isinstance(group, list) and all(isinstance(w, str) for w in group) for group in required):
        return tuple(tuple(group) for group in required)
    raise RegisterError(f"{where}: required is a list of words or a list of lists of words")


def _require(entry: dict[str, Any], fields: tuple[str, ...], where: str) -> None:
    if missing := [f for f in fields if f not in entry]:
        raise RegisterError(f"{where}: missing {', '.join(missing)}")


