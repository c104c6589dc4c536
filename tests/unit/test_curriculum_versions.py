"""Versions of a curriculum: written back to the file format, compared, and
upstream changes taken into a fork one by one, conflicts never silently."""

from dataclasses import replace

import pytest

from curricula.loader import from_mapping, load_text
from curricula.model import Gap, Offset, Text
from curricula.shipped import shipped
from curricula.versions import (
    ChangeKind,
    MergeConflict,
    differences,
    take,
    upstream_changes,
)
from curricula.writer import to_mapping, to_toml

COMPACT = shipped()["compact"]


def with_gap(curriculum, key, preferred):
    element = curriculum.element(key)
    gap = replace(element.placement.gap, preferred=Offset.parse(preferred))
    changed = replace(element, placement=replace(element.placement, gap=gap))
    return replace(
        curriculum,
        elements=tuple(changed if e.key == key else e for e in curriculum.elements),
    )


def with_title(curriculum, key, de):
    elements = tuple(
        replace(e, title=Text(de, e.title.en)) if e.key == key else e for e in curriculum.elements
    )
    return replace(curriculum, elements=elements)


@pytest.mark.parametrize("key", sorted(shipped()))
def test_every_shipped_curriculum_survives_the_file_format(key):
    curriculum = shipped()[key]
    assert load_text(to_toml(curriculum)) == curriculum
    assert from_mapping(to_mapping(curriculum)) == curriculum


def test_differences_name_each_element_and_field():
    new = with_gap(COMPACT, "reflection", "10w")
    extra = replace(
        new.element("reflection"),
        key="follow-up",
        placement=replace(new.element("reflection").placement, after="reflection"),
    )
    new = replace(new, elements=(*new.elements, extra))
    new = replace(new, elements=tuple(e for e in new.elements if e.key != "seminar-2"))
    found = {(d.kind, d.element): d for d in differences(COMPACT, new)}
    assert set(found) == {
        (ChangeKind.CHANGED, "reflection"),
        (ChangeKind.ADDED, "follow-up"),
        (ChangeKind.REMOVED, "seminar-2"),
    }
    [gap] = found[ChangeKind.CHANGED, "reflection"].fields
    assert gap.field == "placement"
    assert gap.before.gap.preferred == Offset.parse("8w")
    assert gap.after.gap.preferred == Offset.parse("10w")
    assert differences(COMPACT, COMPACT) == ()


def test_a_new_order_is_one_difference():
    first, second, third = COMPACT.elements
    reordered = replace(COMPACT, elements=(second, first, third))
    [order] = differences(COMPACT, reordered)
    assert order.kind is ChangeKind.ORDER
    assert order.fields[0].after == ["seminar-2", "seminar-1", "reflection"]


def test_an_upstream_change_the_fork_did_not_touch_is_taken():
    fork = with_title(COMPACT, "seminar-1", "Tag 1 bei der Metallwerke")
    upstream = replace(with_gap(COMPACT, "reflection", "10w"), version=2)
    [change] = upstream_changes(COMPACT, fork, upstream)
    assert change.conflicts == ()
    assert not change.already_in_fork
    merged = take(fork, upstream, change)
    assert merged.element("reflection").placement.gap.preferred == Offset.parse("10w")
    assert merged.element("seminar-1").title.de == "Tag 1 bei der Metallwerke"  # ours kept
    assert load_text(to_toml(merged)) == merged
    [again] = upstream_changes(COMPACT, merged, upstream)
    assert again.already_in_fork


def test_the_same_field_changed_on_both_sides_is_a_conflict():
    fork = with_gap(COMPACT, "reflection", "12w")
    upstream = with_gap(COMPACT, "reflection", "10w")
    [change] = upstream_changes(COMPACT, fork, upstream)
    [conflict] = change.conflicts
    assert conflict.field == "placement"
    assert conflict.before.gap.preferred == Offset.parse("10w")  # upstream's value
    assert conflict.after.gap.preferred == Offset.parse("12w")  # the fork's value
    with pytest.raises(MergeConflict, match="the fork changed placement too"):
        take(fork, upstream, change)
    merged = take(fork, upstream, change, overwrite_conflicts=True)
    assert (
        merged.element("reflection").placement.gap == upstream.element("reflection").placement.gap
    )


def test_different_fields_of_one_element_merge_without_conflict():
    fork = with_title(COMPACT, "reflection", "Unser Reflexionstag")
    upstream = with_gap(COMPACT, "reflection", "10w")
    [change] = upstream_changes(COMPACT, fork, upstream)
    assert change.conflicts == ()
    merged = take(fork, upstream, change)
    assert merged.element("reflection").title.de == "Unser Reflexionstag"
    assert merged.element("reflection").placement.gap.preferred == Offset.parse("10w")


def test_an_added_element_lands_after_its_upstream_neighbour():
    seminar = COMPACT.element("seminar-2")
    practice = replace(
        seminar,
        key="practice",
        title=Text("Übung", "Practice"),
        placement=replace(
            seminar.placement,
            after="seminar-2",
            gap=Gap(Offset.parse("1w"), Offset.parse("2w"), Offset.parse("4w")),
        ),
    )
    first, second, third = COMPACT.elements
    upstream = replace(COMPACT, elements=(first, second, practice, third))
    fork = with_title(COMPACT, "seminar-1", "Tag 1")
    [change] = upstream_changes(COMPACT, fork, upstream)
    assert change.difference.kind is ChangeKind.ADDED
    merged = take(fork, upstream, change)
    assert [e.key for e in merged.elements] == ["seminar-1", "seminar-2", "practice", "reflection"]


def test_a_removed_element_is_removed_and_already_done_when_the_fork_removed_it_too():
    first, second, third = COMPACT.elements
    upstream = replace(
        COMPACT,
        elements=(first, replace(third, placement=replace(third.placement, after="seminar-1"))),
    )
    changes = {c.difference.kind: c for c in upstream_changes(COMPACT, COMPACT, upstream)}
    assert set(changes) == {ChangeKind.REMOVED, ChangeKind.CHANGED}
    merged = take(COMPACT, upstream, changes[ChangeKind.REMOVED])
    assert [e.key for e in merged.elements] == ["seminar-1", "reflection"]
    fork_without = replace(COMPACT, elements=(first, third))
    removed = next(
        c
        for c in upstream_changes(COMPACT, fork_without, upstream)
        if c.difference.kind is ChangeKind.REMOVED
    )
    assert removed.already_in_fork


def test_a_change_to_an_element_the_fork_removed_needs_a_decision():
    first, second, third = COMPACT.elements
    fork = replace(COMPACT, elements=(first, second))
    upstream = with_gap(COMPACT, "reflection", "10w")
    [change] = upstream_changes(COMPACT, fork, upstream)
    assert [c.field for c in change.conflicts] == ["element"]
    with pytest.raises(MergeConflict):
        take(fork, upstream, change)
    merged = take(fork, upstream, change, overwrite_conflicts=True)
    assert [e.key for e in merged.elements] == ["seminar-1", "seminar-2", "reflection"]
