"""Differences between curriculum versions, and taking upstream changes into
a fork element by element.

A fork remembers the upstream version it was last in step with (the base).
When the upstream publishes a new version, every difference between base and
new upstream is one `UpstreamChange`: an element added, removed or changed
(field by field), or the order of the elements. Where the fork changed the
same field differently, the change is a conflict: it is shown with both
values and taken only when the consultant says so, never silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from curricula.messages import MessageError, msg
from curricula.model import Curriculum, Element

# The fields of an element a version can change, in the order people read them.
ELEMENT_FIELDS = tuple(f.name for f in fields(Element) if f.name != "key")
# Curriculum-wide fields that are compared too (not key and version).
TOP_FIELDS = ("title", "description", "certificate", "custom_kinds")


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    ORDER = "order"  # the order of the elements
    SETTINGS = "settings"  # title, description, certificate rule, kinds


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Difference:
    """One difference from an older version to a newer one."""

    kind: ChangeKind
    element: str | None  # the element's key; None for order and settings
    fields: tuple[FieldChange, ...] = ()


def differences(old: Curriculum, new: Curriculum) -> tuple[Difference, ...]:
    """What changed from `old` to `new`, in the order of `new`'s elements."""
    old_keys = [e.key for e in old.elements]
    new_keys = [e.key for e in new.elements]
    found: list[Difference] = []
    settings = _changed_fields(old, new, TOP_FIELDS)
    if settings:
        found.append(Difference(ChangeKind.SETTINGS, None, settings))
    for element in new.elements:
        if element.key not in old_keys:
            found.append(Difference(ChangeKind.ADDED, element.key))
            continue
        changed = _changed_fields(old.element(element.key), element, ELEMENT_FIELDS)
        if changed:
            found.append(Difference(ChangeKind.CHANGED, element.key, changed))
    found.extend(Difference(ChangeKind.REMOVED, k) for k in old_keys if k not in new_keys)
    kept_old = [k for k in old_keys if k in new_keys]
    kept_new = [k for k in new_keys if k in old_keys]
    if kept_old != kept_new:
        found.append(
            Difference(ChangeKind.ORDER, None, (FieldChange("order", kept_old, kept_new),))
        )
    return tuple(found)


def _changed_fields(old: Any, new: Any, names: Sequence[str]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, getattr(old, name), getattr(new, name))
        for name in names
        if getattr(old, name) != getattr(new, name)
    )


@dataclass(frozen=True)
class UpstreamChange:
    """A difference from the base to the new upstream version, as it meets
    the fork: `conflicts` names the fields the fork changed differently."""

    difference: Difference
    conflicts: tuple[FieldChange, ...] = ()  # the fork's own value in `after`
    already_in_fork: bool = False

    @property
    def id(self) -> str:
        """Stable within one comparison: what a form sends to take this change."""
        return f"{self.difference.kind.value}:{self.difference.element or ''}"


class MergeConflict(MessageError):
    """The upstream and the fork changed the same field differently."""


def upstream_changes(
    base: Curriculum, fork: Curriculum, upstream: Curriculum
) -> tuple[UpstreamChange, ...]:
    """Each difference from base to upstream, checked against the fork."""
    ours = {c.id: c for c in (UpstreamChange(d) for d in differences(base, fork))}
    return tuple(
        _against_fork(change, ours.get(change.id), fork)
        for change in (UpstreamChange(d) for d in differences(base, upstream))
    )


def _against_fork(
    change: UpstreamChange, mine: UpstreamChange | None, fork: Curriculum
) -> UpstreamChange:
    difference = change.difference
    keys = [e.key for e in fork.elements]
    if difference.kind is ChangeKind.ADDED:
        return replace(change, already_in_fork=difference.element in keys)
    if difference.kind is ChangeKind.REMOVED:
        return replace(change, already_in_fork=difference.element not in keys)
    if difference.kind is ChangeKind.CHANGED and difference.element not in keys:
        # The fork removed the element the upstream changed: taking it is a choice.
        return replace(change, conflicts=(FieldChange("element", "changed", "removed"),))
    current = _current_values(fork, difference)
    already = all(current[f.field] == f.after for f in difference.fields)
    own = {f.field: f.after for f in mine.difference.fields} if mine is not None else {}
    conflicts = tuple(
        FieldChange(f.field, f.after, own[f.field])
        for f in difference.fields
        if f.field in own and own[f.field] != f.after
    )
    return replace(change, conflicts=conflicts, already_in_fork=already)


def _current_values(fork: Curriculum, difference: Difference) -> dict[str, Any]:
    if difference.kind is ChangeKind.ORDER:
        [order] = difference.fields
        common = set(order.after)
        return {"order": [e.key for e in fork.elements if e.key in common]}
    if difference.kind is ChangeKind.SETTINGS:
        return {f.field: getattr(fork, f.field) for f in difference.fields}
    element = fork.element(difference.element or "")
    return {f.field: getattr(element, f.field) for f in difference.fields}


def take(
    fork: Curriculum,
    upstream: Curriculum,
    change: UpstreamChange,
    *,
    overwrite_conflicts: bool = False,
) -> Curriculum:
    """The fork with one upstream change applied. A conflict is applied only
    with `overwrite_conflicts` (the consultant chose the upstream value)."""
    if change.conflicts and not overwrite_conflicts:
        raise MergeConflict(
            msg(
                "{element}: the fork changed {fields} too; choose the upstream value "
                "explicitly or keep yours",
                element=change.difference.element or "",
                fields=[c.field for c in change.conflicts],
            )
        )
    difference = change.difference
    elements = list(fork.elements)
    keys = [e.key for e in elements]
    readd = difference.kind is ChangeKind.CHANGED and difference.element not in keys
    if (difference.kind is ChangeKind.ADDED or readd) and difference.element not in keys:
        added = upstream.element(difference.element or "")
        upstream_keys = [e.key for e in upstream.elements]
        before = upstream_keys[: upstream_keys.index(added.key)]
        position = max((keys.index(k) + 1 for k in before if k in keys), default=0)
        elements.insert(position, added)
    elif difference.kind is ChangeKind.REMOVED and difference.element in keys:
        elements.pop(keys.index(difference.element or ""))
    elif difference.kind is ChangeKind.CHANGED and difference.element in keys:
        index = keys.index(difference.element or "")
        values = {f.field: f.after for f in difference.fields}
        elements[index] = replace(elements[index], **values)
    elif difference.kind is ChangeKind.ORDER:
        wanted = [e.key for e in upstream.elements if e.key in keys]
        rest = [k for k in keys if k not in wanted]
        order = wanted + rest
        elements.sort(key=lambda e: order.index(e.key))
    elif difference.kind is ChangeKind.SETTINGS:
        values = {f.field: f.after for f in difference.fields}
        return replace(fork, **values)
    return replace(fork, elements=tuple(elements))
