"""An act and its amending acts, as the dated wordings an index keeps: what is in force, what it replaced.

`consolidate` answers "what does the act say after this amending act"; the index
has to answer "what did it say on a given day", for any day. So every wording
gets its life: the consolidated units are in force from the day their amending
act took effect (or since the act itself, when nothing touched them), and each
wording an amendment replaced or deleted is kept, marked superseded from that
day, with the amendment that ended it. Search then filters by date
(`index.law.versions.in_force`) instead of holding one index per version.

A language version of the act that no amending act in the corpus covers (the
French AI Act: no French text of Regulation (EU) 2026/1744 is available) is not
consolidated: its units that the amendments touched are marked `outdated`, with
the amendments, so nothing shows them as current.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from index.model import Amendment
from ingest.amendments import AmendingAct, parse_amendments
from ingest.consolidate import Change, Consolidation, consolidate
from ingest.model import Unit
from ingest.sources import Source

_ELI = re.compile(r"/eli/(?P<type>reg|dir|dec)/(?P<year>\d{4})/(?P<number>\d+)")
_ACT_NAMES = {"reg": "Regulation", "dir": "Directive", "dec": "Decision"}
_ARTICLE = re.compile(r"^Article (\w+)")


class AmendmentRefused(ValueError):
    """An amending act with points that cannot be applied; the message lists each, one line a point."""


@dataclass(frozen=True)
class AmendedText:
    units: list[Unit]  # the text in force (dated) followed by the superseded wordings
    consolidations: tuple[Consolidation, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(change for c in self.consolidations for change in c.changes)


def citation_of(source: Source) -> str:
    """ "Regulation (EU) 2024/1689", from the source's ELI: how amending acts name the act they amend."""
    match = _ELI.search(source.eli)
    if match is None:
        raise AmendmentRefused(f"{source.id}: no ELI in the manifest, so no amending act can name it")
    return f"{_ACT_NAMES[match['type']]} (EU) {match['year']}/{match['number']}"


def amend(source: Source, base: list[Unit], amending: Iterable[tuple[Source, bytes]]) -> AmendedText:
    """The base act's units with each amending act applied in order of entry into force, every wording dated.

    Raises AmendmentRefused when any point of any amending act cannot be applied: a
    text with one amendment silently missing would be presented as current and be wrong.
    """
    consolidations, units = [], list(base)
    for act_source, data in sorted(amending, key=lambda pair: pair[0].in_force):
        act = AmendingAct(act_source.id, citation_of(act_source), date.fromisoformat(act_source.in_force))
        consolidation = consolidate(units, parse_amendments(data, citation_of(source)), act)
        if consolidation.refusals:
            raise AmendmentRefused("; ".join([consolidation.summary, *map(str, consolidation.refusals)]))
        consolidations.append(consolidation)
        units = list(consolidation.units)
    return AmendedText(_dated(base, consolidations, _links(amending)), tuple(consolidations))


def mark_outdated(units: list[Unit], amended: AmendedText, amending: Iterable[tuple[Source, bytes]]) -> list[Unit]:
    """A language version the amendments were not applied to: each unit they touched says so."""
    links = _links(amending)
    marked = []
    for unit in units:
        touching = [_amendment(c, links.get(c.act.id, "")) for c in amended.changes if c.touches(unit.label)]
        marked.append(replace(unit, status="outdated", amended_by=tuple(touching)) if touching else unit)
    return marked


def _dated(base: list[Unit], consolidations: list[Consolidation], links: dict[str, str]) -> list[Unit]:
    born: dict[tuple[str, str, str], tuple[str, Amendment]] = {}
    superseded: list[tuple[Unit, tuple[str, str, str] | None]] = []  # each with the wording that replaced it
    for consolidation in consolidations:
        for change in consolidation.changes:
            amendment = _amendment(change, links.get(change.act.id, ""))
            for old in change.previous:
                since = born.get(_identity(old), ("", None))[0]
                if since == amendment.in_force:
                    continue  # a wording one point of the act made and a later point of it replaced: never in force
                successor = _identity(change.units[0]) if change.units else None
                superseded.append((replace(old, valid_from=since, valid_to=amendment.in_force, status="superseded",
                                           amended_by=(amendment,)), successor))
            for new in change.units:
                born[_identity(new)] = (amendment.in_force, amendment)
    current = [_with_life(unit, born.get(_identity(unit))) for unit in (consolidations[-1].units if consolidations
                                                                          else base)]
    current, earlier_contexts = _dated_contexts(base, current, consolidations, links)
    return _interleaved(base, current, [*superseded, *earlier_contexts])


def _dated_contexts(base: list[Unit], current: list[Unit], consolidations: list[Consolidation],
                    links: dict[str, str]) -> tuple[list[Unit], list[tuple[Unit, tuple[str, str, str]]]]:
    """A wording no amendment touched keeps its life, but its heading or the words that introduce it may have
    changed (Article 4 renamed, a new intro for Article 5(1)): the text on an earlier day must show the earlier
    context. Such a unit is kept twice: with the base act's context until the change took effect, with the new
    one from then on."""
    contexts = {_identity(u): u for u in base}
    dated, earlier = [], []
    for unit in current:
        old = contexts.get(_identity(unit))
        if unit.status != "unchanged" or old is None or _context(old) == _context(unit):
            dated.append(unit)
            continue
        change = _context_change(unit, old, consolidations)
        amendment = _amendment(change, links.get(change.act.id, ""))
        dated.append(replace(unit, valid_from=amendment.in_force))
        earlier.append((replace(old, valid_from=old.valid_from, valid_to=amendment.in_force, status="superseded",
                                amended_by=(amendment,)), _identity(unit)))
    return dated, earlier


def _context(unit: Unit) -> tuple[str, str, tuple[str, ...]]:
    return unit.heading, unit.lead, unit.path


def _context_change(unit: Unit, old: Unit, consolidations: list[Consolidation]) -> Change:
    """The first change, in the first amending act that gave the unit a new context, that reached a provision
    containing it (its heading or its introductory words)."""
    for consolidation in consolidations:
        again = next((u for u in consolidation.units if _identity(u) == _identity(unit)), None)
        if again is not None and _context(again) != _context(old):
            touching = [c for c in consolidation.changes if c.touches(unit.label)]
            return (touching or list(consolidation.changes))[0]
    raise AssertionError(f"{unit.label}: a new context without a consolidation that gave it")


def _interleaved(base: list[Unit], current: list[Unit],
                 superseded: list[tuple[Unit, tuple[str, str, str] | None]]) -> list[Unit]:
    """Each superseded wording placed where it stood, so that the text on any day reads in document order:
    just before the wording that replaced it, or (deleted) before the next wording of the base act that
    is still there."""
    placed = list(current)
    base_order = [_identity(u) for u in base]
    for old, successor in superseded:
        at = _position(placed, successor) if successor else None
        if at is None and _identity(old) in base_order:
            following = base_order[base_order.index(_identity(old)) + 1:]
            at = next((i for wording in following if (i := _position(placed, wording)) is not None), None)
        if at is None:
            at = max((i + 1 for i, u in enumerate(placed) if u.unit == old.unit), default=len(placed))
        placed.insert(at, old)
    return placed


def _position(units: list[Unit], wording: tuple[str, str, str]) -> int | None:
    """Where the wording in force with this identity stands, or None."""
    return next((i for i, u in enumerate(units) if not u.valid_to and _identity(u) == wording), None)


def _with_life(unit: Unit, birth: tuple[str, Amendment] | None) -> Unit:
    if birth is None:
        return replace(unit, status="unchanged")
    since, amendment = birth
    return replace(unit, valid_from=since, status=amendment.kind, amended_by=(amendment,))


def _identity(unit: Unit) -> tuple[str, str, str]:
    """A wording is its label, text and role: consolidation may give it a new lead, which is context, not wording."""
    return unit.label, unit.text, unit.role


def _amendment(change: Change, landing: str) -> Amendment:
    """The change as a record, linked to the amending act's article that holds the point on EUR-Lex."""
    article = _ARTICLE.match(change.point)
    url = f"{landing}#art_{article[1]}" if landing and article else landing
    return Amendment(change.act.citation, change.point, change.kind, change.in_force.isoformat(), url)


def _links(amending: Iterable[tuple[Source, bytes]]) -> dict[str, str]:
    return {source.id: source.landing for source, _ in amending}
