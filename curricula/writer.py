"""A curriculum back into the file format (see README.md): for export, and
for versions edited in forms, which are checked by the same loader as files.

`to_mapping` gives what `loader.from_mapping` reads, so
`from_mapping(to_mapping(c)) == c` for every valid curriculum.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from curricula.durations import file_duration
from curricula.model import DEFAULT_UNIT_MINUTES, Curriculum, Element, Gap, Span, Text, TimedBlock


def to_toml(curriculum: Curriculum) -> str:
    return tomli_w.dumps(to_mapping(curriculum))


def to_mapping(curriculum: Curriculum) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": curriculum.key,
        "version": curriculum.version,
        "title": _text(curriculum.title),
    }
    if curriculum.description is not None:
        data["description"] = _text(curriculum.description)
    if curriculum.unit_minutes != DEFAULT_UNIT_MINUTES:
        data["unit_minutes"] = curriculum.unit_minutes
    if curriculum.custom_kinds:
        data["kinds"] = {name: {"title": _text(title)} for name, title in curriculum.custom_kinds}
    data["elements"] = [
        element_mapping(element, first=index == 0)
        for index, element in enumerate(curriculum.elements)
    ]
    rule = curriculum.certificate
    certificate: dict[str, Any] = {"required": list(rule.required)}
    if rule.at_least:
        certificate["at_least"] = [{"count": r.count, "of": list(r.of)} for r in rule.at_least]
    if rule.min_hours_share is not None:
        certificate["min_hours_share"] = rule.min_hours_share
    data["certificate"] = certificate
    return data


def element_mapping(element: Element, *, first: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": element.key,
        "kind": element.kind,
        "title": _text(element.title),
        "mode": element.mode.value,
    }
    if isinstance(element.length, TimedBlock):
        data["start"] = element.length.start.strftime("%H:%M")
        data["duration"] = duration_text(element.length)
    else:
        assert isinstance(element.length, Span)  # noqa: S101 -- a length is a block or a span
        data["span"] = str(element.length.length)
    placement = element.placement
    # Written out even where the loader would assume it, so that reordering
    # elements in a form never changes what they are placed after.
    if placement.after is not None:
        data["after"] = placement.after
        if placement.gap is not None:
            data["gap"] = gap_mapping(placement.gap)
    elif not first:
        raise ValueError(f"{element.key}: only the first element can sit on the cohort start")
    if element.topics:
        data["topics"] = [_text(t) for t in element.topics]
    # Clock hours, exactly: units of 50 minutes are no finite decimal of hours.
    hours = element.teaching_hours
    data["teaching_hours"] = int(hours) if float(hours).is_integer() else hours
    if not element.counts_for_certificate:
        data["counts_for_certificate"] = False
    if element.description is not None:
        data["description"] = _text(element.description)
    if element.preparation is not None:
        data["preparation"] = _text(element.preparation)
    return data


def gap_mapping(gap: Gap) -> dict[str, str]:
    return {"min": str(gap.min), "preferred": str(gap.preferred), "max": str(gap.max)}


def duration_text(block: TimedBlock) -> str:
    return file_duration(int(block.duration.total_seconds() // 60))


def _text(text: Text) -> dict[str, str]:
    return {"de": text.de, "en": text.en}
