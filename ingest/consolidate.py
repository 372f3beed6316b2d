"""An act as amended: its units with an amending act's instructions applied, and the history of each change.

`consolidate` is a pure function of the base act's units and the instructions,
so the next amending act chains by consolidating the result again. A numbered
point of the amending act is the unit of application: all its instructions
apply, or none does and the point is refused with a reason, because a point half
applied is a text no legislator adopted.

Where an instruction does not say where an insertion goes, numbering does
(Article 4a after Article 4, point (ba) after (b), paragraph 1a after 1);
"added" means at the end of the provision that receives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import groupby, pairwise
from typing import Literal

from index.law.labels import Label, ancestors, parent, sibling, sort_key, within
from ingest.amendments import AmendingAct, Instruction, Refusal, Scope
from ingest.model import Unit

ChangeKind = Literal["replaced", "inserted", "deleted"]
_DONE: dict[str, ChangeKind] = {"replace": "replaced", "insert": "inserted", "add": "inserted", "delete": "deleted"}


@dataclass(frozen=True)
class Change:
    """What one instruction did to the act: the units it removed and the units it put in their place."""

    kind: ChangeKind
    target: str
    scope: Scope
    act: AmendingAct
    point: str  # "Article 1, point (40)(b)"
    previous: tuple[Unit, ...] = ()
    units: tuple[Unit, ...] = ()
    previous_wording: str = ""  # the old text (or the old heading, when the heading was replaced)

    @property
    def in_force(self) -> date:
        return self.act.in_force

    def touches(self, label: str) -> bool:
        """Did this change reach `label`? An insertion reaches the new units, not the provision receiving them."""
        labels = [u.label for u in self.previous + self.units] + ([self.target] if self.kind != "inserted" else [])
        return any(x and (within(x, label) or within(label, x)) for x in labels)


@dataclass(frozen=True)
class Consolidation:
    act: AmendingAct
    units: tuple[Unit, ...]
    changes: tuple[Change, ...]
    applied: tuple[str, ...]  # the numbered points applied, in order
    refusals: tuple[Refusal, ...]

    @property
    def summary(self) -> str:
        points = len(self.applied) + len(self.refusals)
        return (f"{self.act.citation}: {len(self.applied)} of {points} points applied "
                f"({len(self.changes)} instructions)")

    def history(self, label: str) -> tuple[Change, ...]:
        """The changes to `label`, to a provision inside it, or to one that holds it."""
        return tuple(c for c in self.changes if c.touches(label))


class _Unappliable(ValueError):
    pass


def consolidate(base_units: Sequence[Unit], instructions: Sequence[Instruction | Refusal],
                act: AmendingAct) -> Consolidation:
    units, changes, applied, refusals = tuple(base_units), [], [], []
    for group, members in groupby(instructions, key=lambda i: i.point if isinstance(i, Refusal) else i.group):
        members = list(members)
        refused = next((m for m in members if isinstance(m, Refusal)), None)
        if refused:
            refusals.append(refused)
            continue
        try:
            trial, done = units, []
            for instruction in members:
                trial, change = _apply(trial, instruction, act)
                done.append(change)
        except _Unappliable as error:
            refusals.append(Refusal(group, f"{instruction.point}: {error}"))
        else:
            units, applied = trial, applied + [group]
            changes.extend(done)
    return Consolidation(act, _with_leads(units), tuple(changes), tuple(applied), tuple(refusals))


def _apply(units: tuple[Unit, ...], instruction: Instruction, act: AmendingAct) -> tuple[tuple[Unit, ...], Change]:
    if instruction.action in {"insert", "add"}:
        return _insert(units, instruction, act)
    target, scope = instruction.target, instruction.scope
    if scope.part == "heading":
        return _rename(units, instruction, act)
    start, end = _locate(units, target, scope)
    if scope.part == "intro":
        start, end = _intro(units, start, end, target)
    old = units[start:end]
    new = _fitted(instruction.units, units, start)
    if scope.part == "intro":
        if len(new) != 1:
            raise _Unappliable(f"an introductory part is one paragraph, the new wording has {len(new)}")
        new = (replace(new[0], role="intro"),)
    change = Change(_DONE[instruction.action], target, scope, act, instruction.point, old, new,
                    " ".join(u.text for u in old))
    return units[:start] + new + units[end:], change


# -- finding the target ----------------------------------------------------------------------

def _locate(units: tuple[Unit, ...], target: str, scope: Scope) -> tuple[int, int]:
    """The slice of `units` that `target` (in `scope`) covers."""
    if not target:
        return 0, len(units)
    hits = [i for i, u in enumerate(units) if within(u.label, target)]
    if not hits:
        return _locate(units, _with_the_only_part(units, target), scope)
    if hits != list(range(hits[0], hits[-1] + 1)):
        raise _Unappliable(f"{target} is ambiguous: it stands in {_runs(hits)} separate places")
    if scope.part in {"subparagraph", "paragraph"}:
        return _ordinal(units, hits, target, scope)
    return hits[0], hits[-1] + 1


def _with_the_only_part(units: tuple[Unit, ...], target: str) -> str:
    """ "Annex I, point 15" names Section B's point 15 when no other section has one; else it is ambiguous."""
    wanted = Label.parse(target)
    parts = sorted({found.part for u in units
                    if (found := Label.parse(u.label)).part and found.with_part("").within(wanted)})
    if not wanted.points or not parts or wanted.part:
        raise _Unappliable(f"{target} does not exist")
    if len(parts) > 1:
        raise _Unappliable(f"{target} is ambiguous: " + " or ".join(str(wanted.with_part(p)) for p in parts))
    return str(wanted.with_part(parts[0]))


def _runs(hits: list[int]) -> int:
    return 1 + sum(1 for a, b in pairwise(hits) if b != a + 1)


def _ordinal(units: tuple[Unit, ...], hits: list[int], target: str, scope: Scope) -> tuple[int, int]:
    """The nth unit labelled exactly `target`, with the points that follow it."""
    starts = [i for i in hits if units[i].label == target]
    if len(starts) < scope.ordinal:
        raise _Unappliable(f"{target} has no {scope} (it has {len(starts)})")
    start = starts[scope.ordinal - 1]
    later = [i for i in starts if i > start]
    return start, later[0] if later else hits[-1] + 1


def _intro(units: tuple[Unit, ...], start: int, end: int, target: str) -> tuple[int, int]:
    intros = [i for i in range(start, end) if units[i].label == target and units[i].role == "intro"]
    if not intros:
        raise _Unappliable(f"{target} has no introductory part")
    if len(intros) > 1:
        raise _Unappliable(f"{target} is ambiguous: it has {len(intros)} introductory parts")
    return intros[0], intros[0] + 1


# -- changing the units ---------------------------------------------------------------------

def _insert(units: tuple[Unit, ...], instruction: Instruction, act: AmendingAct) -> tuple[tuple[Unit, ...], Change]:
    container = instruction.target
    start, end = _locate(units, container, instruction.scope)
    existing = {u.label for u in units}
    taken = next((u.label for u in instruction.units if u.label != container and u.label in existing), None)
    if taken:
        raise _Unappliable(f"{taken} already exists")
    result, placed, head, index = list(units), [], None, end
    for unit in instruction.units:
        provision = _directly_inside(container, unit.label)
        if instruction.action == "insert" and provision != head:
            head, index = provision, _place(result, start, end, provision)
        (fitted,) = _fitted((unit,), tuple(result), index)
        result.insert(index, fitted)
        placed.append(fitted)
        index, end = index + 1, end + 1
    change = Change("inserted", container, instruction.scope, act, instruction.point, units=tuple(placed))
    return tuple(result), change


def _directly_inside(container: str, label: str) -> str:
    """The provision directly inside `container` that holds `label`: what numbering places."""
    inside = [x for x in (label, *ancestors(label)) if x != container and (not container or within(x, container))]
    return inside[-1] if inside else label


def _place(units: list[Unit], start: int, end: int, label: str) -> int:
    """Where `label` goes by its number: after its last earlier sibling, else before its first later one."""
    key, after, before = sort_key(label), None, None
    for i in range(start, end):
        beside = sibling(units[i].label, label)
        if beside is not None and sort_key(beside) <= key:
            after = i + 1
        elif beside is not None and before is None:
            before = i
    return after if after is not None else before if before is not None else end


def _fitted(new: tuple[Unit, ...], units: tuple[Unit, ...], index: int) -> tuple[Unit, ...]:
    """New units with the amended act's headings and breadcrumbs.

    A quote of a paragraph or point carries no title: it takes its provision's. A
    provision quoted whole brings its own title and takes the chapter it replaces,
    or, when inserted, the chapter of the provision before it.
    """
    fitted = []
    for unit in new:
        same = next((u for u in units if u.unit == unit.unit), None)
        if same and not unit.heading:
            fitted.append(replace(unit, heading=same.heading, path=same.path))
            continue
        before = units[index - 1] if index else None
        model = same or (before if before and before.kind == unit.kind else None)
        chapter = model.path[:-1] if model else ()
        fitted.append(replace(unit, path=chapter + unit.path[-1:]))
    return tuple(fitted)


def _rename(units: tuple[Unit, ...], instruction: Instruction, act: AmendingAct) -> tuple[tuple[Unit, ...], Change]:
    provision = Label.parse(instruction.target).unit
    old = [u for u in units if u.unit == provision]
    if not old:
        raise _Unappliable(f"{provision} does not exist")
    title = instruction.heading
    renamed = tuple(replace(u, heading=title, path=u.path[:-1] + (f"{provision} — {title}",))
                    if u.unit == provision else u for u in units)
    change = Change("replaced", provision, instruction.scope, act, instruction.point,
                    previous_wording=old[0].heading)
    return renamed, change


def _with_leads(units: tuple[Unit, ...]) -> tuple[Unit, ...]:
    """Every point's lead is the intro unit it follows, as the structure builder set it, after any change."""
    result, intro = [], None
    for unit in units:
        if unit.role == "intro":
            intro = unit
        elif intro and parent(unit.label) == intro.label and unit.label != intro.label:
            unit = replace(unit, lead=intro.text)
        elif not (intro and within(unit.label, intro.label) and unit.label != intro.label):
            intro = None
        result.append(unit)
    return tuple(result)
